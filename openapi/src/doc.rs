//! The OpenAPI document. Each operation is declared here on a documentation-only function whose
//! name matches the handler in `quire-api`; `api/tests` checks that every declared route is
//! served.

#![allow(dead_code)]

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::auth::{LoginRequest, LogoutRequest, RefreshRequest, SetupRequest, TokenResponse};
use crate::events::{EventList, EventResponse, Health, Ready};
use crate::ops::{BackupArchive, BackupManifest};
use crate::posts::{CreatePostRequest, PatchPostRequest, PostHistory, PostList, PostResponse, PostStatus};
use crate::problem::Problem;
use crate::status::{AuditReport, CommitResponse, GitStatus, MirrorStatus, PostCommits, StatusResponse};
use crate::users::{
    CreateTokenRequest, CreateUserRequest, PasswordRequest, PatchUserRequest, RoleName, TokenCreated, TokenInfo,
    TokenList, UserList, UserResponse,
};

/// The whole API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Quire API",
        description = "Quire's REST API. Every write is durable before it is acknowledged. Send \
            `Idempotency-Key` on writes so retries never apply twice, and `If-Match: \"<version>\"` \
            on changes to a post so concurrent edits are detected (412) instead of overwritten. \
            Errors are RFC 9457 `application/problem+json` with a stable `type`."
    ),
    paths(
        login, refresh, logout, setup,
        create_post, list_posts, get_post, patch_post, delete_post, restore_post,
        post_history, post_version, list_events, healthz, readyz,
        me, list_users, create_user, patch_user, set_password,
        create_token, list_tokens, revoke_token,
        status, audit, post_commits,
        backup, metrics
    ),
    components(schemas(
        LoginRequest, LogoutRequest, RefreshRequest, SetupRequest, TokenResponse,
        CreatePostRequest, PatchPostRequest, PostResponse, PostStatus, PostList, PostHistory,
        EventResponse, EventList, Health, Ready, Problem,
        RoleName, UserResponse, UserList, CreateUserRequest, PatchUserRequest, PasswordRequest,
        CreateTokenRequest, TokenInfo, TokenCreated, TokenList,
        StatusResponse, GitStatus, MirrorStatus, AuditReport, PostCommits, CommitResponse,
        BackupManifest, BackupArchive
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Log in and keep a session"),
        (name = "posts", description = "Write and read posts"),
        (name = "events", description = "The event log"),
        (name = "users", description = "Users and roles (admins), and your own account"),
        (name = "tokens", description = "API tokens for scripts"),
        (name = "probes", description = "Health and readiness"),
        (name = "status", description = "Projections of the log: progress, mirrors and audit"),
        (name = "operations", description = "Backups and metrics")
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from `POST /api/v1/auth/login`, or an API token (`qk_…`) from `POST /api/v1/tokens`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// `POST /api/v1/auth/login` — exchange a username and password for tokens.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong username or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Locked out after too many failures (for this user or from this address); even a right password is refused until Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    ))]
fn login() {}

/// `POST /api/v1/auth/refresh` — exchange a refresh token for new tokens (the old one stops working).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenResponse),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Unknown, expired or reused refresh token (a reuse revokes the session)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    ))]
fn refresh() {}

/// `POST /api/v1/auth/logout` — revoke a refresh token and its session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = LogoutRequest,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    ))]
fn logout() {}

/// `POST /api/v1/auth/setup` — create the first admin with the one-time token printed at first start.
#[utoipa::path(post, path = "/api/v1/auth/setup", tag = "auth", request_body = SetupRequest,
    responses(
        (status = 201, description = "Admin created and logged in", body = TokenResponse),
        (status = 400, description = "Malformed body or invalid username/password", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong or used setup token", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    ))]
fn setup() {}

/// `POST /api/v1/posts` — create a post.
#[utoipa::path(post, path = "/api/v1/posts", tag = "posts", request_body = CreatePostRequest,
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key with the same body replays the first response; with another body it is a 422. Kept 7 days.")),
    responses(
        (status = 201, description = "Created", body = PostResponse,
            headers(("ETag" = String, description = "\"<version>\""), ("Location" = String, description = "URL of the new post"))),
        (status = 400, description = "Invalid field (the `field` member names it)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing right (`missing` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Slug taken, or a request with this Idempotency-Key is still running", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Idempotency-Key reused with another request", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many writes; see Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
fn create_post() {}

/// `GET /api/v1/posts` — list posts, newest first.
#[utoipa::path(get, path = "/api/v1/posts", tag = "posts", security(("bearer" = [])),
    params(
        ("status" = Option<PostStatus>, Query, description = "Only posts with this status"),
        ("tag" = Option<String>, Query, description = "Only posts with this tag"),
        ("deleted" = Option<bool>, Query, description = "List deleted posts instead of live ones"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 200 (default 50)"),
    ),
    responses(
        (status = 200, description = "A page of posts", body = PostList),
        (status = 400, description = "Bad query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing right (`missing` names it)", body = Problem, content_type = "application/problem+json"),
    ))]
fn list_posts() {}

/// `GET /api/v1/posts/{id}` — one post (also a deleted one, with `deleted_at` set).
#[utoipa::path(get, path = "/api/v1/posts/{id}", tag = "posts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Post id (ULID)")),
    responses(
        (status = 200, description = "The post", body = PostResponse, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing right (`missing` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such post", body = Problem, content_type = "application/problem+json"),
    ))]
fn get_post() {}

/// `PATCH /api/v1/posts/{id}` — change fields of a post; needs `If-Match`.
#[utoipa::path(patch, path = "/api/v1/posts/{id}", tag = "posts", request_body = PatchPostRequest,
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Post id (ULID)"),
        ("If-Match" = String, Header, description = "The `ETag` of the version the change is based on (`*`: any)"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
    ),
    responses(
        (status = 200, description = "Changed", body = PostResponse, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing right (`missing` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such post", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Slug taken, post deleted, or the Idempotency-Key is in use", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match; `current` holds the post as it is now", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Idempotency-Key reused with another request", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many writes; see Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
fn patch_post() {}

/// `DELETE /api/v1/posts/{id}` — delete a post (its history stays; restore brings it back).
#[utoipa::path(delete, path = "/api/v1/posts/{id}", tag = "posts", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Post id (ULID)"),
        ("If-Match" = String, Header, description = "The post's current `ETag`"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
    ),
    responses(
        (status = 400, description = "Malformed Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Deleted; the post with `deleted_at` set", body = PostResponse, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing right (`missing` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such post", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already deleted, or the Idempotency-Key is in use", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Idempotency-Key reused with another request", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many writes; see Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
fn delete_post() {}

/// `POST /api/v1/posts/{id}/restore` — bring back a deleted post.
#[utoipa::path(post, path = "/api/v1/posts/{id}/restore", tag = "posts", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Post id (ULID)"),
        ("If-Match" = String, Header, description = "The deleted post's `ETag`"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
    ),
    responses(
        (status = 400, description = "Malformed Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Restored (with a numbered slug if its slug was taken meanwhile)", body = PostResponse, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing right (`missing` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such post", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not deleted, or the Idempotency-Key is in use", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Idempotency-Key reused with another request", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many writes; see Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
fn restore_post() {}

/// `GET /api/v1/posts/{id}/history` — the events of a post, oldest first.
#[utoipa::path(get, path = "/api/v1/posts/{id}/history", tag = "posts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Post id (ULID)")),
    responses(
        (status = 200, description = "The post's events", body = PostHistory),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing right (`missing` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such post", body = Problem, content_type = "application/problem+json"),
    ))]
fn post_history() {}

/// `GET /api/v1/posts/{id}/versions/{n}` — the post as it was at version `n`.
#[utoipa::path(get, path = "/api/v1/posts/{id}/versions/{n}", tag = "posts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Post id (ULID)"), ("n" = u64, Path, description = "Version, from 1")),
    responses(
        (status = 200, description = "The post at that version", body = PostResponse, headers(("ETag" = String, description = "\"<n>\""))),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing right (`missing` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such post or version", body = Problem, content_type = "application/problem+json"),
    ))]
fn post_version() {}

/// `GET /api/v1/events` — read the event log after a position.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", security(("bearer" = [])),
    params(
        ("after" = Option<i64>, Query, minimum = 0, description = "Return events with seq greater than this (default 0)"),
        ("limit" = Option<u32>, Query, description = "1 to 1000 (default 100)"),
    ),
    responses(
        (status = 200, description = "Events in seq order", body = EventList),
        (status = 400, description = "Bad query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing right (`missing` names it)", body = Problem, content_type = "application/problem+json"),
    ))]
fn list_events() {}

/// `GET /healthz` — the process is up.
#[utoipa::path(get, path = "/healthz", tag = "probes", responses((status = 200, description = "Up", body = Health)))]
fn healthz() {}

/// `GET /readyz` — the log is open and accepts durable writes, and git is at most `git.max_lag`
/// events behind.
#[utoipa::path(get, path = "/readyz", tag = "probes",
    responses(
        (status = 200, description = "Ready", body = Ready),
        (status = 503, description = "Not ready: the log does not accept writes, or the git projection is more than `git.max_lag` events behind", body = Problem, content_type = "application/problem+json"),
    ))]
fn readyz() {}

/// `GET /api/v1/users/me` — the logged-in user.
#[utoipa::path(get, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "You", body = UserResponse),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
    ))]
fn me() {}

/// `GET /api/v1/users` — every user (admins).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "The users", body = UserList),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
fn list_users() {}

/// `POST /api/v1/users` — add a user (admins).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUserRequest, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = UserResponse, headers(("Location" = String, description = "URL of the user"))),
        (status = 400, description = "Invalid username or password", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The username is taken", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    ))]
fn create_user() {}

/// `PATCH /api/v1/users/{id}` — change a role or disable a user (admins). Disabling revokes the
/// user's refresh and API tokens at once.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = PatchUserRequest, security(("bearer" = [])),
    params(("id" = String, Path, description = "User id (ULID)")),
    responses(
        (status = 200, description = "Changed", body = UserResponse),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "You cannot disable or demote yourself", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    ))]
fn patch_user() {}

/// `POST /api/v1/users/{id}/password` — set a password: your own (with `old_password`) or
/// anyone's as an admin. Ends the user's sessions.
#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "users", request_body = PasswordRequest, security(("bearer" = [])),
    params(("id" = String, Path, description = "User id (ULID)")),
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "Password too short or too long", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Wrong old password, or not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    ))]
fn set_password() {}

/// `POST /api/v1/tokens` — create an API token; the secret (`qk_…`) is in the answer once.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = CreateTokenRequest, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; store `secret` now", body = TokenCreated),
        (status = 400, description = "Unknown scope, empty name, expiry in the past", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A scope exceeds your rights (`missing` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    ))]
fn create_token() {}

/// `GET /api/v1/tokens` — your API tokens (no secrets); `all=true` lists everyone's (admins).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", security(("bearer" = [])),
    params(("all" = Option<bool>, Query, description = "Everyone's tokens (admins only)")),
    responses(
        (status = 200, description = "Tokens", body = TokenList),
        (status = 400, description = "Bad query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`all` without admin rights", body = Problem, content_type = "application/problem+json"),
    ))]
fn list_tokens() {}

/// `DELETE /api/v1/tokens/{id}` — revoke an API token at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", security(("bearer" = [])),
    params(("id" = String, Path, description = "Token id (ULID)")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such token of yours", body = Problem, content_type = "application/problem+json"),
    ))]
fn revoke_token() {}

/// `GET /api/v1/status` — how far the projections have come: the log's head, git's position and
/// lag, and the state of each mirror (any logged-in user).
#[utoipa::path(get, path = "/api/v1/status", tag = "status", security(("bearer" = [])),
    responses(
        (status = 200, description = "The status", body = StatusResponse),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
    ))]
fn status() {}

/// `GET /api/v1/audit` — rebuild the expected git history from the event log and compare it with
/// `main`, commit by commit and path by path (admins). A mismatch is 200 with `ok: false`.
#[utoipa::path(get, path = "/api/v1/audit", tag = "status", security(("bearer" = [])),
    responses(
        (status = 200, description = "The report; `ok` says whether git matches the log", body = AuditReport),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`missing` is `admin`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The git projection is off (`git.enabled = false`)", body = Problem, content_type = "application/problem+json"),
    ))]
fn audit() {}

/// `GET /api/v1/posts/{id}/commits` — the git commits of a post, newest first, to link to them.
#[utoipa::path(get, path = "/api/v1/posts/{id}/commits", tag = "posts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Post id (ULID)")),
    responses(
        (status = 200, description = "The post's commits (events not in git yet are not listed)", body = PostCommits),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing right (`missing` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such post", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The git projection is off (`git.enabled = false`)", body = Problem, content_type = "application/problem+json"),
    ))]
fn post_commits() {}

/// `GET /api/v1/backup` — a consistent snapshot of the data folder as a tar archive (admins):
/// the event log up to the head at the moment of the request (a prefix of the log, whatever is
/// written meanwhile), users and token hashes, idempotency records, signing keys and the
/// configuration. `quire backup FILE --url URL --token qk_…` saves it; `quire restore
/// --from-backup FILE` restores it.
#[utoipa::path(get, path = "/api/v1/backup", tag = "operations", security(("bearer" = [])),
    responses(
        (status = 200, description = "The archive; its first entry `quire-backup/manifest.json` is a BackupManifest", body = BackupArchive, content_type = "application/x-tar",
            headers(
                ("Content-Length" = u64, description = "The archive's exact size"),
                ("X-Quire-Head" = u64, description = "The last seq in the archive"),
                ("Content-Disposition" = String, description = "`attachment; filename=\"quire-backup-<head>.tar\"`"),
            )),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`missing` is `admin`)", body = Problem, content_type = "application/problem+json"),
    ))]
fn backup() {}

/// `GET /metrics` — Prometheus metrics in the OpenMetrics text format: requests by route and
/// status, events appended, the log's head, each projection's seq and lag, mirror pushes,
/// idempotent replays and 412 conflicts. Open unless `metrics.token` is set.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "The metrics", body = String, content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8"),
        (status = 401, description = "`metrics.token` is set and the request did not send it as a bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Metrics are turned off (`metrics.enabled = false`)", body = Problem, content_type = "application/problem+json"),
    ))]
fn metrics() {}
