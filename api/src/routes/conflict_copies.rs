//! `/api/v1/posts/{id}/conflict-copies`: the losing side of a conflict, kept in the post's
//! history (a `PostConflictCopy` event) and brought back from there.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use quire_openapi::ConflictCopyRequest;
use quire_storage::KeptFields;

use super::posts::status;
use crate::auth::Auth;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::write::{post_id, run_write};

/// `POST /api/v1/posts/{id}/conflict-copies` — keep the losing side of a conflict.
pub async fn keep_conflict_copy(
    auth: Auth,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: JsonBody<ConflictCopyRequest>,
) -> ApiResult {
    let id = post_id(&path)?;
    let input = body.value;
    let copy = KeptFields {
        title: input.title,
        slug: input.slug,
        body: input.body,
        tags: input.tags,
        status: input.status.map(status),
        publish_at: input.publish_at,
    };
    let (posts, actor, base) = (state.posts.clone(), auth.actor(), input.base_version);
    run_write(&state, &auth, &req, &body.raw, StatusCode::CREATED, move |idem| {
        posts.keep_conflict_copy(&actor, id, base, copy, idem)
    })
    .await
}

/// `POST /api/v1/posts/{id}/conflict-copies/{n}/restore` — bring back the copy kept at version `n`.
pub async fn restore_conflict_copy(
    auth: Auth,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult {
    let (raw_id, raw_n) = path.into_inner();
    let id = post_id(&raw_id)?;
    let n: u64 = raw_n
        .parse()
        .map_err(|_| ApiError::not_found(format!("{raw_n:?} is not a version number")))?;
    let (posts, actor) = (state.posts.clone(), auth.actor());
    run_write(&state, &auth, &req, b"", StatusCode::OK, move |idem| {
        posts.restore_conflict_copy(&actor, id, n, idem)
    })
    .await
}
