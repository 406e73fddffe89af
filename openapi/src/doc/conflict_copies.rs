//! Conflict copies: the losing side of a conflict, kept in a post's history and brought back.

use crate::posts::{ConflictCopyRequest, PostResponse};
use crate::problem::Problem;

use super::responses::{JsonBody, MissingRight, Unauthenticated, WriteLimits};

/// `POST /api/v1/posts/{id}/conflict-copies` — keep the losing side of a conflict in the post's
/// history. When a merge conflict (409) is resolved by keeping the other side of a field or a
/// body hunk, send the fields your side had here: they become a `PostConflictCopy` event in
/// `GET /api/v1/posts/{id}/history` (and in git), and the post itself does not change (its
/// version moves on by one). Needs the rights to edit the post and `posts:read`.
#[utoipa::path(post, path = "/api/v1/posts/{id}/conflict-copies", tag = "posts", request_body = ConflictCopyRequest,
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Post id (ULID)"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
    ),
    responses(
        (status = 201, description = "Kept; the post (unchanged but for its version), whose `version` names the copy", body = PostResponse, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 400, description = "Invalid field (a copy needs at least one), or a malformed Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
        MissingRight,
        (status = 404, description = "No such post", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The Idempotency-Key is in use", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The post is deleted", body = Problem, content_type = "application/problem+json"),
        JsonBody,
        (status = 422, description = "A `base_version` the post never had, or the Idempotency-Key reused with another request", body = Problem, content_type = "application/problem+json"),
        WriteLimits,
    ))]
fn keep_conflict_copy() {}

/// `POST /api/v1/posts/{id}/conflict-copies/{n}/restore` — bring back the conflict copy kept at
/// version `n`: its fields as a change made from its `base_version`, merged three-way with what
/// happened since, as a `PATCH` with `Base-Version` would be (409 `merge-conflict` where that
/// overlaps). Needs the rights to edit the post and `posts:read`.
#[utoipa::path(post, path = "/api/v1/posts/{id}/conflict-copies/{n}/restore", tag = "posts",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Post id (ULID)"),
        ("n" = u64, Path, description = "The version of the `PostConflictCopy` event"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
    ),
    responses(
        (status = 200, description = "The copy's fields are back, merged with the changes made since", body = PostResponse, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 400, description = "Malformed Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
        MissingRight,
        (status = 404, description = "No such post, or no conflict copy at that version", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Merge conflict with changes made since (`conflicts`, `current`, `keep_mine` as for `PATCH`), post deleted since, or the Idempotency-Key is in use", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Idempotency-Key reused with another request", body = Problem, content_type = "application/problem+json"),
        WriteLimits,
    ))]
fn restore_conflict_copy() {}
