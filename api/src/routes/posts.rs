//! `/api/v1/posts`: write and read posts.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use quire_openapi::{CreatePostRequest, PatchPostRequest, PostHistory, PostList, PostStatus};
use quire_storage::{NewPost, PostPatch, PostQuery, Status};
use serde::Deserialize;

use super::events::event_response;
use crate::auth::Auth;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::merge;
use crate::state::AppState;
use crate::write::{if_match, post_http, post_id, post_response, run_write};

/// The domain's status of an API status.
pub(crate) fn status(s: PostStatus) -> Status {
    match s {
        PostStatus::Draft => Status::Draft,
        PostStatus::Published => Status::Published,
        PostStatus::Scheduled => Status::Scheduled,
    }
}

/// `POST /api/v1/posts` — create a post.
pub async fn create_post(
    auth: Auth,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<CreatePostRequest>,
) -> ApiResult {
    let input = body.value;
    let new = NewPost {
        title: input.title,
        body: input.body,
        slug: input.slug,
        tags: input.tags,
        status: input.status.map(status),
        publish_at: input.publish_at,
        properties: input.properties.unwrap_or_default(),
    };
    let (posts, actor) = (state.posts.clone(), auth.actor());
    run_write(&state, &auth, &req, &body.raw, StatusCode::CREATED, move |idem| {
        posts.create(&actor, new, idem)
    })
    .await
}

/// `PATCH /api/v1/posts/{id}` — change fields of a post (`If-Match`, or `Base-Version` to merge).
pub async fn patch_post(
    auth: Auth,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: JsonBody<PatchPostRequest>,
) -> ApiResult {
    let id = post_id(&path)?;
    let precondition = merge::precondition(&req)?;
    let input = body.value;
    let patch = PostPatch {
        title: input.title,
        body: input.body,
        slug: input.slug,
        tags: input.tags,
        status: input.status.map(status),
        publish_at: input.publish_at,
        properties: input.properties,
    };
    let (posts, actor) = (state.posts.clone(), auth.actor());
    run_write(&state, &auth, &req, &body.raw, StatusCode::OK, move |idem| {
        merge::update(&posts, &actor, id, precondition, patch, idem)
    })
    .await
}

/// `DELETE /api/v1/posts/{id}` — delete a post (soft).
pub async fn delete_post(
    auth: Auth,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult {
    let id = post_id(&path)?;
    let expected = if_match(&req)?;
    let (posts, actor) = (state.posts.clone(), auth.actor());
    run_write(&state, &auth, &req, b"", StatusCode::OK, move |idem| {
        posts.delete(&actor, id, expected, idem)
    })
    .await
}

/// `POST /api/v1/posts/{id}/restore` — bring back a deleted post.
pub async fn restore_post(
    auth: Auth,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult {
    let id = post_id(&path)?;
    let expected = if_match(&req)?;
    let (posts, actor) = (state.posts.clone(), auth.actor());
    run_write(&state, &auth, &req, b"", StatusCode::OK, move |idem| {
        posts.restore(&actor, id, expected, idem)
    })
    .await
}

/// Query of `GET /api/v1/posts/{id}`.
#[derive(Debug, Deserialize)]
pub struct GetQuery {
    /// Answer a deleted post's tombstone instead of 410.
    deleted: Option<bool>,
}

/// `GET /api/v1/posts/{id}` — one post; a deleted one is 410 unless `?deleted=true`.
pub async fn get_post(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<GetQuery>,
) -> ApiResult {
    let id = post_id(&path)?;
    let (posts, actor) = (state.posts.clone(), auth.actor());
    let with_deleted = query.deleted.unwrap_or(false);
    let post = web::block(move || match with_deleted {
        true => posts.get_with_deleted(&actor, id),
        false => posts.get(&actor, id),
    })
    .await??;
    Ok(post_http(StatusCode::OK, &post))
}

/// Query of `GET /api/v1/posts`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    tag: Option<String>,
    deleted: Option<bool>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/posts` — list posts, newest first.
pub async fn list_posts(auth: Auth, state: web::Data<AppState>, query: web::Query<ListQuery>) -> ApiResult {
    let query = query.into_inner();
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 200"));
    }
    let after = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(
            c.parse()
                .map_err(|_| ApiError::bad_request("cursor is not a next_cursor this API gave out"))?,
        ),
        None => None,
    };
    let q = PostQuery {
        status: query.status.as_deref().map(str::parse).transpose()?,
        tag: query.tag,
        deleted: query.deleted.unwrap_or(false),
        after,
        limit: limit as usize,
        visible_to: None,
    };
    let posts = state.posts.clone();
    let actor = auth.actor();
    let items = web::block(move || posts.list(&actor, &q)).await??;
    let next_cursor = (items.len() == limit as usize)
        .then(|| items.last().map(|p| p.id.to_string()))
        .flatten();
    Ok(HttpResponse::Ok().json(PostList {
        items: items.iter().map(post_response).collect(),
        next_cursor,
    }))
}

/// `GET /api/v1/posts/{id}/history` — the events of a post.
pub async fn post_history(auth: Auth, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult {
    let id = post_id(&path)?;
    let posts = state.posts.clone();
    let actor = auth.actor();
    let events = web::block(move || posts.history(&actor, id)).await??;
    Ok(HttpResponse::Ok().json(PostHistory {
        events: events.iter().map(event_response).collect(),
    }))
}

/// `GET /api/v1/posts/{id}/versions/{n}` — a past version of a post.
pub async fn post_version(auth: Auth, state: web::Data<AppState>, path: web::Path<(String, String)>) -> ApiResult {
    let (raw_id, raw_n) = path.into_inner();
    let id = post_id(&raw_id)?;
    let n: u64 = raw_n
        .parse()
        .map_err(|_| ApiError::not_found(format!("{raw_n:?} is not a version number")))?;
    let posts = state.posts.clone();
    let actor = auth.actor();
    let post = web::block(move || posts.version(&actor, id, n)).await??;
    Ok(post_http(StatusCode::OK, &post))
}
