//! The IndieAuth operations of the OpenAPI document. JSON errors are OAuth's
//! `{"error", "error_description"}` (`MicropubErrorBody`); the authorization endpoint answers
//! with HTML pages and redirects.

use crate::micropub::{ConsentForm, MicropubErrorBody, TokenForm, TokenParam};

/// `GET /.well-known/oauth-authorization-server` — IndieAuth / OAuth 2.0 server metadata.
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "indieauth",
    responses((status = 200, description = "The metadata (RFC 8414)", body = Object)))]
pub(super) fn metadata() {}

/// `GET /indieauth/auth` — the consent page for an authorization request (PKCE S256 required;
/// `redirect_uri` must be on the `client_id`'s scheme, host and port).
#[utoipa::path(get, path = "/indieauth/auth", tag = "indieauth",
    params(
        ("response_type" = String, Query, description = "`code`"),
        ("client_id" = String, Query, description = "The client's URL"),
        ("redirect_uri" = String, Query, description = "Where to send the user back"),
        ("state" = String, Query, description = "Echoed back"),
        ("code_challenge" = String, Query, description = "PKCE challenge (base64url SHA-256 of the verifier)"),
        ("code_challenge_method" = String, Query, description = "`S256`"),
        ("scope" = Option<String>, Query, description = "`create`, `draft`, `update`, `delete`, `media`, `read`"),
        ("me" = Option<String>, Query, description = "The site's URL, as the user typed it"),
    ),
    responses(
        (status = 200, description = "The consent page", body = String, content_type = "text/html"),
        (status = 400, description = "An invalid request (shown, not redirected)", body = String, content_type = "text/html"),
    ))]
pub(super) fn authorize_page() {}

/// `POST /indieauth/auth` — the consent form: deny (redirect with `error=access_denied`), or
/// log in and approve (redirect with a code, valid once for 60 seconds).
#[utoipa::path(post, path = "/indieauth/auth", tag = "indieauth",
    request_body(content((ConsentForm = "application/x-www-form-urlencoded"))),
    responses(
        (status = 302, description = "Back to the client with `code` (or `error`), `state` and `iss`", headers(("Location" = String))),
        (status = 400, description = "An invalid request", body = String, content_type = "text/html"),
        (status = 401, description = "Wrong username or password (the page again)", body = String, content_type = "text/html"),
        (status = 429, description = "Too many failed logins", body = String, content_type = "text/html"),
    ))]
pub(super) fn authorize_submit() {}

/// `POST /indieauth/token` — exchange a code and its PKCE verifier for an access token (a
/// Quire API token, listed under `/api/v1/tokens`, its scopes never above the user's role).
#[utoipa::path(post, path = "/indieauth/token", tag = "indieauth",
    request_body(content((TokenForm = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "`{access_token, token_type, scope, me}`", body = Object),
        (status = 400, description = "`invalid_grant` (unknown, used or expired code, wrong verifier or redirect_uri), `invalid_scope`, `unsupported_grant_type`", body = MicropubErrorBody),
    ))]
pub(super) fn token() {}

/// `POST /indieauth/revoke` — revoke a token (RFC 7009: 200 whether or not it existed).
#[utoipa::path(post, path = "/indieauth/revoke", tag = "indieauth",
    request_body(content((TokenParam = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "Revoked (or never valid)"),
        (status = 400, description = "No `token`", body = MicropubErrorBody),
    ))]
pub(super) fn revoke() {}

/// `POST /indieauth/introspect` — whether a token is active (only its owner or an admin learn
/// more than `{"active": false}`).
#[utoipa::path(post, path = "/indieauth/introspect", tag = "indieauth", security(("bearer" = [])),
    request_body(content((TokenParam = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "`{active, me, client_id, scope, exp, iat}`", body = Object),
        (status = 400, description = "Malformed form", body = MicropubErrorBody),
        (status = 401, description = "No valid token", body = MicropubErrorBody),
    ))]
pub(super) fn introspect() {}
