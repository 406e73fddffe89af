//! `/api/v1/media`: upload images and manage their metadata. The files themselves are served
//! publicly at `/media/<hash>.<ext>` (see `crate::media::serve`).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use quire_openapi::{MediaList, MediaResponse, PatchMediaRequest};
use quire_storage::{Error as DomainError, IdempotencyRecord, IdempotencyWrite, InFlight, Media, MediaQuery, Upload};
use serde::Deserialize;

use crate::auth::Auth;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::write::{begin_write, if_match, Started};

/// The API shape of a media file.
pub fn media_response(media: &Media) -> MediaResponse {
    MediaResponse {
        id: media.id.to_string(),
        url: media.url(),
        hash: media.hash.clone(),
        content_type: media.content_type.clone(),
        bytes: media.bytes,
        width: media.width,
        height: media.height,
        alt: media.alt.clone(),
        original_name: media.original_name.clone(),
        uploader: media.uploader.clone(),
        uploaded_at: media.uploaded_at,
        updated_at: media.updated_at,
        version: media.version,
    }
}

fn media_http(status: StatusCode, media: &Media) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::ETAG, format!("\"{}\"", media.version)));
    if status == StatusCode::CREATED {
        response.insert_header((header::LOCATION, format!("/api/v1/media/{}", media.id)));
    }
    response.json(media_response(media))
}

fn media_id(raw: &str) -> Result<ulid::Ulid, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("{raw:?} is not a media id")))
}

/// Runs a media command once per `Idempotency-Key` and answers with the media.
async fn run_media_write<F>(
    state: &web::Data<AppState>,
    auth: &Auth,
    req: &HttpRequest,
    body: &[u8],
    status: StatusCode,
    command: F,
) -> ApiResult
where
    F: FnOnce(Option<IdempotencyWrite>) -> Result<Media, DomainError> + Send + 'static,
{
    let held = match begin_write(state, auth, req, body, status).await? {
        Started::Fresh(held) => held,
        Started::Replay(record) => return replay(state, record).await,
    };
    let write = held.as_ref().map(InFlight::write);
    let result = web::block(move || command(write)).await?;
    drop(held);
    Ok(media_http(status, &result?))
}

async fn replay(state: &web::Data<AppState>, record: IdempotencyRecord) -> ApiResult {
    let media = state.media.clone();
    let found = web::block(move || media.replayed(record.stream, record.version)).await??;
    let status = StatusCode::from_u16(record.status).unwrap_or(StatusCode::OK);
    Ok(media_http(status, &found))
}

/// Query of `POST /api/v1/media`.
#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    alt: Option<String>,
    name: Option<String>,
}

/// `POST /api/v1/media` — upload an image (the raw bytes, or a form with `file` and `alt`).
pub async fn upload_media(
    auth: Auth,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<UploadQuery>,
    payload: web::Payload,
) -> ApiResult {
    let actor = auth.actor();
    state.media.check_may_upload(&actor)?;
    let limit = state.config.media.max_bytes;
    let incoming = crate::media::read_upload(&req, payload, state.media.blobs(), limit).await?;
    let header_alt = req.headers().get("x-alt-text").and_then(|v| v.to_str().ok());
    let alt = (incoming.alt.or(query.alt.clone()).or(header_alt.map(str::to_owned))).unwrap_or_default();
    let (name, received) = (incoming.name.or(query.name.clone()), incoming.file);
    let same = format!("{}\0{alt}\0{}", received.digest, name.as_deref().unwrap_or_default());
    let _permit = state.media_permits.acquire().await.map_err(|_| ApiError::internal())?;
    let media = state.media.clone();
    run_media_write(&state, &auth, &req, same.as_bytes(), StatusCode::CREATED, move |idem| {
        let upload = Upload {
            path: &received.path,
            alt,
            original_name: name,
        };
        media.upload(&actor, upload, idem)
    })
    .await
}

/// Query of `GET /api/v1/media`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    cursor: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/media` — list media, newest first.
pub async fn list_media(auth: Auth, state: web::Data<AppState>, query: web::Query<ListQuery>) -> ApiResult {
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
    let q = MediaQuery {
        after,
        limit: limit as usize,
        uploader: None,
    };
    let (media, actor) = (state.media.clone(), auth.actor());
    let items = web::block(move || media.list(&actor, &q)).await??;
    let next_cursor = (items.len() == limit as usize)
        .then(|| items.last().map(|m| m.id.to_string()))
        .flatten();
    Ok(HttpResponse::Ok().json(MediaList {
        items: items.iter().map(media_response).collect(),
        next_cursor,
    }))
}

/// `GET /api/v1/media/{id}` — one media file's metadata.
pub async fn get_media(auth: Auth, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult {
    let id = media_id(&path)?;
    let (media, actor) = (state.media.clone(), auth.actor());
    let found = web::block(move || media.get(&actor, id)).await??;
    Ok(media_http(StatusCode::OK, &found))
}

/// `PATCH /api/v1/media/{id}` — change the alt text.
pub async fn patch_media(
    auth: Auth,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: JsonBody<PatchMediaRequest>,
) -> ApiResult {
    let id = media_id(&path)?;
    let expected = if_match(&req)?;
    let (media, actor, alt) = (state.media.clone(), auth.actor(), body.value.alt);
    run_media_write(&state, &auth, &req, &body.raw, StatusCode::OK, move |idem| {
        media.update_alt(&actor, id, expected, alt, idem)
    })
    .await
}

/// `DELETE /api/v1/media/{id}` — delete a media file (its bytes stay on disk).
pub async fn delete_media(
    auth: Auth,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult {
    let id = media_id(&path)?;
    let expected = if_match(&req)?;
    let (media, actor) = (state.media.clone(), auth.actor());
    run_media_write(&state, &auth, &req, b"", StatusCode::OK, move |idem| {
        media.delete(&actor, id, expected, idem)
    })
    .await
}
