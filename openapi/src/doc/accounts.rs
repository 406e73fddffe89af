//! Users and API tokens in the OpenAPI document.

#![allow(dead_code)]

use super::responses::{JsonBody, Unauthenticated};
use crate::problem::Problem;
use crate::users::{
    CreateTokenRequest, CreateUserRequest, PasswordRequest, PatchUserRequest, TokenCreated, TokenList, UserList,
    UserResponse,
};

/// `GET /api/v1/users/me` — the logged-in user.
#[utoipa::path(get, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "You", body = UserResponse),
        Unauthenticated,
    ))]
fn me() {}

/// `GET /api/v1/users` — every user (admins).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "The users", body = UserList),
        Unauthenticated,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
fn list_users() {}

/// `POST /api/v1/users` — add a user (admins).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUserRequest, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = UserResponse, headers(("Location" = String, description = "URL of the user"))),
        (status = 400, description = "Invalid username or password", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The username is taken", body = Problem, content_type = "application/problem+json"),
        JsonBody,
        (status = 503, description = "Too many passwords are being checked at once (argon2 hashing is bounded to one per core); retry after Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
fn create_user() {}

/// `PATCH /api/v1/users/{id}` — change a role or disable a user (admins). Disabling revokes the
/// user's refresh and API tokens at once.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = PatchUserRequest, security(("bearer" = [])),
    params(("id" = String, Path, description = "User id (ULID)")),
    responses(
        (status = 200, description = "Changed", body = UserResponse),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "You cannot disable or demote yourself", body = Problem, content_type = "application/problem+json"),
        JsonBody,
    ))]
fn patch_user() {}

/// `POST /api/v1/users/{id}/password` — set a password: your own (with `old_password`) or
/// anyone's as an admin. Ends the user's sessions.
#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "users", request_body = PasswordRequest, security(("bearer" = [])),
    params(("id" = String, Path, description = "User id (ULID)")),
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "Password too short or too long", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
        (status = 403, description = "Wrong old password, or not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        JsonBody,
        (status = 503, description = "Too many passwords are being checked at once (argon2 hashing is bounded to one per core); retry after Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
fn set_password() {}

/// `POST /api/v1/tokens` — create an API token; the secret (`qk_…`) is in the answer once.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = CreateTokenRequest, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; store `secret` now", body = TokenCreated),
        (status = 400, description = "Unknown scope, empty name, expiry in the past", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
        (status = 403, description = "A scope exceeds your rights (`missing` names it)", body = Problem, content_type = "application/problem+json"),
        JsonBody,
    ))]
fn create_token() {}

/// `GET /api/v1/tokens` — your API tokens (no secrets); `all=true` lists everyone's (admins).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", security(("bearer" = [])),
    params(("all" = Option<bool>, Query, description = "Everyone's tokens (admins only)")),
    responses(
        (status = 200, description = "Tokens", body = TokenList),
        (status = 400, description = "Bad query parameter", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
        (status = 403, description = "`all` without admin rights", body = Problem, content_type = "application/problem+json"),
    ))]
fn list_tokens() {}

/// `DELETE /api/v1/tokens/{id}` — revoke an API token at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", security(("bearer" = [])),
    params(("id" = String, Path, description = "Token id (ULID)")),
    responses(
        (status = 204, description = "Revoked"),
        Unauthenticated,
        (status = 404, description = "No such token of yours", body = Problem, content_type = "application/problem+json"),
    ))]
fn revoke_token() {}
