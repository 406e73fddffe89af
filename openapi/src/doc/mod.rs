//! The OpenAPI document. Each operation is declared here on a documentation-only function whose
//! name matches the handler in `quire-api`; `api/tests` checks that every declared route is
//! served.

#![allow(dead_code)]

mod accounts;
mod conflict_copies;
mod datasets;
mod hooks;
mod indieauth;
mod media;
mod micropub;
mod operations;
mod responses;
mod webhooks;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::auth::{LoginRequest, LogoutRequest, RefreshRequest, SetupRequest, SetupStatus, TokenResponse};
use crate::events::{EventList, EventOrigin, EventResponse, Health, Ready};
use crate::ops::{BackupArchive, BackupManifest};
use crate::posts::{
    CreatePostRequest, MergeConflict, PatchPostRequest, PostHistory, PostList, PostResponse, PostStatus,
};
use crate::problem::Problem;
use crate::status::{
    AuditReport, CommitResponse, GitStatus, MirrorStatus, PostCommits, ProjectionState, StatusResponse, WebhooksStatus,
};
use crate::users::{
    CreateTokenRequest, CreateUserRequest, PasswordRequest, PatchUserRequest, RoleName, TokenCreated, TokenInfo,
    TokenList, UserList, UserResponse,
};
use crate::webhooks::{
    CreateWebhookRequest, DeliveryList, DeliveryResponse, DeliveryStatusName, PatchWebhookRequest, WebhookCreated,
    WebhookList, WebhookResponse, WebhookStateName,
};
use responses::{JsonBody, MissingRight, Unauthenticated, WriteLimits};

/// The whole API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Quire API",
        description = "Quire's REST API. Every write is durable before it is acknowledged. Send \
            `Idempotency-Key` on writes so retries never apply twice, and `If-Match: \"<version>\"` \
            on changes to a post so concurrent edits are detected (412) instead of overwritten; \
            or send a `PATCH` with `Base-Version: <version>` to have it merged three-way with what \
            changed since (409 only where changes overlap). \
            Errors are RFC 9457 `application/problem+json` with a stable `type`."
    ),
    paths(
        login, refresh, logout, setup_status, setup,
        create_post, list_posts, get_post, patch_post, delete_post, restore_post,
        post_history, post_version, list_events, openapi_document, healthz, readyz,
        conflict_copies::keep_conflict_copy, conflict_copies::restore_conflict_copy,
        accounts::me, accounts::list_users, accounts::create_user, accounts::patch_user,
        accounts::set_password, accounts::create_token, accounts::list_tokens, accounts::revoke_token,
        operations::status, operations::audit, operations::post_commits,
        operations::backup, operations::metrics, hooks::forge_hook,
        media::upload_media, media::list_media, media::get_media, media::patch_media, media::delete_media,
        webhooks::create_webhook, webhooks::list_webhooks, webhooks::get_webhook, webhooks::patch_webhook,
        webhooks::delete_webhook, webhooks::rotate_webhook_secret, webhooks::list_webhook_deliveries,
        webhooks::resend_webhook_delivery,
        micropub::micropub_get, micropub::micropub_post, micropub::micropub_media,
        indieauth::metadata, indieauth::authorize_page, indieauth::authorize_submit, indieauth::token,
        indieauth::revoke, indieauth::introspect,
        datasets::put_dataset, datasets::list_datasets, datasets::get_dataset, datasets::patch_dataset,
        datasets::delete_dataset, datasets::dataset_history, datasets::dataset_version
    ),
    components(schemas(
        LoginRequest, LogoutRequest, RefreshRequest, SetupRequest, SetupStatus, TokenResponse,
        CreatePostRequest, PatchPostRequest, PostResponse, PostStatus, PostList, PostHistory, MergeConflict,
        crate::posts::ConflictCopyRequest,
        EventResponse, EventOrigin, EventList, Health, Ready, Problem,
        RoleName, UserResponse, UserList, CreateUserRequest, PatchUserRequest, PasswordRequest,
        CreateTokenRequest, TokenInfo, TokenCreated, TokenList,
        StatusResponse, GitStatus, MirrorStatus, crate::status::PullStatus, crate::hooks::ForgeHookAnswer, ProjectionState, AuditReport, PostCommits, CommitResponse,
        BackupManifest, BackupArchive,
        crate::media::MediaResponse, crate::media::MediaList, crate::media::PatchMediaRequest,
        crate::media::UploadForm, WebhooksStatus,
        CreateWebhookRequest, PatchWebhookRequest, WebhookResponse, WebhookCreated, WebhookList,
        WebhookStateName, DeliveryResponse, DeliveryList, DeliveryStatusName,
        crate::micropub::MicropubErrorBody, crate::micropub::MicropubForm, crate::micropub::MicropubMultipart,
        crate::micropub::ConsentForm, crate::micropub::TokenForm, crate::micropub::TokenParam,
        crate::datasets::DatasetResponse, crate::datasets::DatasetList, crate::datasets::DatasetHistory,
        crate::datasets::PatchDatasetRequest, crate::datasets::ChartSettings, crate::datasets::ChartType,
        crate::status::DatasetFetchStatus, crate::datasets::ColumnType, crate::datasets::DatasetColumn, crate::datasets::DatasetStatusName, crate::datasets::DatasetRow
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
        (name = "operations", description = "Backups and metrics"),
        (name = "media", description = "Images for posts"),
        (name = "indieauth", description = "IndieAuth authorization server: apps log in with the site's URL"),
        (name = "micropub", description = "Micropub (W3C): publishing from IndieWeb apps; errors in Micropub's JSON shape"),
        (name = "datasets", description = "Tables published as data pages with a chart and a query API"),
        (name = "webhooks", description = "Standard Webhooks deliveries of the log's events (admins)")
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
        JsonBody,
        (status = 503, description = "Too many passwords are being checked at once (argon2 hashing is bounded to one per core); retry after Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
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
        Unauthenticated,
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    ))]
fn logout() {}

/// `GET /api/v1/auth/setup` — whether the first admin is still to be created (public: it tells
/// only that the server is fresh; the setup token itself is printed on the server's console).
#[utoipa::path(get, path = "/api/v1/auth/setup", tag = "auth",
    responses(
        (status = 200, description = "Whether setup is pending", body = SetupStatus),
    ))]
fn setup_status() {}

/// `POST /api/v1/auth/setup` — create the first admin with the one-time token printed at first start.
#[utoipa::path(post, path = "/api/v1/auth/setup", tag = "auth", request_body = SetupRequest,
    responses(
        (status = 201, description = "Admin created and logged in", body = TokenResponse),
        (status = 400, description = "Malformed body or invalid username/password", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong or used setup token", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many passwords are being checked at once (argon2 hashing is bounded to one per core); retry after Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
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
        Unauthenticated,
        MissingRight,
        (status = 409, description = "Slug taken, or a request with this Idempotency-Key is still running", body = Problem, content_type = "application/problem+json"),
        JsonBody,
        WriteLimits,
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
        Unauthenticated,
        MissingRight,
    ))]
fn list_posts() {}

/// `GET /api/v1/posts/{id}` — one post. A deleted post answers 410 Gone; its tombstone (with
/// `deleted_at` set) is read with `?deleted=true` by its author, editors and admins. A post the
/// caller may not see (another user's draft, for authors and contributors) is 404, exactly
/// like one that does not exist.
#[utoipa::path(get, path = "/api/v1/posts/{id}", tag = "posts", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Post id (ULID)"),
        ("deleted" = Option<bool>, Query, description = "Answer a deleted post's tombstone instead of 410"),
    ),
    responses(
        (status = 200, description = "The post", body = PostResponse, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 400, description = "Bad query string", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
        MissingRight,
        (status = 404, description = "No such post (or not one the caller may see)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The post is deleted; the problem names the restore route", body = Problem, content_type = "application/problem+json"),
    ))]
fn get_post() {}

/// `PATCH /api/v1/posts/{id}` — change fields of a post; needs `If-Match` or `Base-Version`.
#[utoipa::path(patch, path = "/api/v1/posts/{id}", tag = "posts", request_body = PatchPostRequest,
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Post id (ULID)"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the post must still have (`*`: any); otherwise 412. Send this or `Base-Version`, not both."),
        ("Base-Version" = Option<u64>, Header, minimum = 1, description = "The version your change was made from. The fields in the body (yours) are merged three-way with every change made since: fields and body lines that only one side changed are kept from that side, tags merge as a set, and only overlapping changes are a 409 `merge-conflict` listing them. Needs `posts:read` besides the rights to edit the post. Send this or `If-Match`, not both."),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
    ),
    responses(
        (status = 200, description = "Changed (with `Base-Version`: merged with the changes made since)", body = PostResponse, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 400, description = "Invalid field, a malformed `Base-Version`, or both `If-Match` and `Base-Version`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
        MissingRight,
        (status = 404, description = "No such post", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Merge conflict (`urn:quire:problem:merge-conflict`: `conflicts` lists each overlapping change with its `base`, `mine` and `theirs`, `current` is the post now, `keep_mine` your change keeping your side of each conflict and both sides' other changes, to send with `Base-Version: <current.version>`), slug taken, post deleted (also since `Base-Version`), or the Idempotency-Key is in use", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match; `current` holds the post as it is now", body = Problem, content_type = "application/problem+json"),
        JsonBody,
        (status = 422, description = "Idempotency-Key reused with another request, or a `Base-Version` the post never had", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "Neither If-Match nor Base-Version sent", body = Problem, content_type = "application/problem+json"),
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
        Unauthenticated,
        MissingRight,
        (status = 404, description = "No such post", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already deleted, or the Idempotency-Key is in use", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
        WriteLimits,
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
        Unauthenticated,
        MissingRight,
        (status = 404, description = "No such post", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not deleted, or the Idempotency-Key is in use", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
        WriteLimits,
    ))]
fn restore_post() {}

/// `GET /api/v1/posts/{id}/history` — the events of a post, oldest first.
#[utoipa::path(get, path = "/api/v1/posts/{id}/history", tag = "posts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Post id (ULID)")),
    responses(
        (status = 200, description = "The post's events", body = PostHistory),
        Unauthenticated,
        MissingRight,
        (status = 404, description = "No such post", body = Problem, content_type = "application/problem+json"),
    ))]
fn post_history() {}

/// `GET /api/v1/posts/{id}/versions/{n}` — the post as it was at version `n`.
#[utoipa::path(get, path = "/api/v1/posts/{id}/versions/{n}", tag = "posts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Post id (ULID)"), ("n" = u64, Path, description = "Version, from 1")),
    responses(
        (status = 200, description = "The post at that version", body = PostResponse, headers(("ETag" = String, description = "\"<n>\""))),
        Unauthenticated,
        MissingRight,
        (status = 404, description = "No such post or version", body = Problem, content_type = "application/problem+json"),
    ))]
fn post_version() {}

/// `GET /api/v1/events` — read the event log after a position. The log holds every draft, so
/// only editors and admins (with `posts:read`) read it; others get 403 with `missing:
/// read-all-posts`.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", security(("bearer" = [])),
    params(
        ("after" = Option<i64>, Query, minimum = 0, description = "Return events with seq greater than this (default 0)"),
        ("limit" = Option<u32>, Query, description = "1 to 1000 (default 100)"),
    ),
    responses(
        (status = 200, description = "Events in seq order", body = EventList),
        (status = 400, description = "Bad query parameter", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
        MissingRight,
    ))]
fn list_events() {}

/// `GET /api/v1/openapi.json` — this document (public).
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object, content_type = "application/json")))]
fn openapi_document() {}

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
