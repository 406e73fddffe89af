//! The shared path of every write (posts; media through [`begin_write`]): `If-Match`, `Idempotency-Key` and the response with
//! `ETag`. A replayed request is answered from the recorded status and the post at the recorded
//! version, which gives byte-identical bodies.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use quire_openapi::{PostResponse, PostStatus};
use quire_storage::{
    Begin, Error as DomainError, IdempotencyRecord, IdempotencyWrite, IfMatch, InFlight, Post, Status,
};
use sha2::{Digest, Sha256};

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ProblemType};
use crate::metrics::IdempotencyOutcome;
use crate::state::AppState;

/// The API shape of a post.
pub fn post_response(post: &Post) -> PostResponse {
    PostResponse {
        id: post.id.to_string(),
        slug: post.slug.clone(),
        title: post.title.clone(),
        body: post.body.clone(),
        tags: post.tags.clone(),
        status: match post.status {
            Status::Draft => PostStatus::Draft,
            Status::Published => PostStatus::Published,
            Status::Scheduled => PostStatus::Scheduled,
        },
        publish_at: post.publish_at,
        created_at: post.created_at,
        updated_at: post.updated_at,
        version: post.version,
        author: post.author.clone(),
        deleted_at: post.deleted_at,
        properties: post.properties.clone(),
    }
}

/// A post answer with `ETag` (and `Location` for 201).
pub fn post_http(status: StatusCode, post: &Post) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::ETAG, format!("\"{}\"", post.version)));
    if status == StatusCode::CREATED {
        response.insert_header((header::LOCATION, format!("/api/v1/posts/{}", post.id)));
    }
    response.json(post_response(post))
}

/// The versions `If-Match` accepts. Missing (or empty) is a 428. Following RFC 9110, the
/// comparison is strong: weak or foreign tags never match, so they end in a 412, not a 400.
pub fn if_match(req: &HttpRequest) -> Result<IfMatch, ApiError> {
    let value = req
        .headers()
        .get(header::IF_MATCH)
        .map(|v| v.to_str().unwrap_or("\u{0}").trim())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                ProblemType::IfMatchRequired,
                "send `If-Match` with the post's ETag (e.g. `If-Match: \"3\"`) so concurrent edits are not overwritten",
            )
        })?;
    if value == "*" {
        return Ok(IfMatch::Any);
    }
    let versions = value
        .split(',')
        .filter_map(|tag| tag.trim().strip_prefix('"')?.strip_suffix('"')?.parse().ok())
        .collect();
    Ok(IfMatch::Versions(versions))
}

/// Parses a post id from the path.
pub fn post_id(raw: &str) -> Result<ulid::Ulid, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("{raw:?} is not a post id")))
}

/// How a write goes on after its `Idempotency-Key` was looked at.
#[derive(Debug)]
pub enum Started {
    /// Run the command, with the key held (if the request had one).
    Fresh(Option<InFlight>),
    /// Answer as recorded.
    Replay(IdempotencyRecord),
}

/// Runs a post command once per `Idempotency-Key` and answers with the post.
pub async fn run_write<F>(
    state: &web::Data<AppState>,
    auth: &Auth,
    req: &HttpRequest,
    body: &[u8],
    status: StatusCode,
    command: F,
) -> ApiResult
where
    F: FnOnce(Option<IdempotencyWrite>) -> Result<Post, DomainError> + Send + 'static,
{
    let held = match begin_write(state, auth, req, body, status).await? {
        Started::Fresh(held) => held,
        Started::Replay(record) => return replay(state, record).await,
    };
    let write = held.as_ref().map(|h| h.write());
    // The command's appends are answered once applied, so the blocking thread is free during
    // the flush; nothing is answered (nor the key released) before what the command wrote, and
    // what it read, is durable.
    let result = web::block(move || quire_storage::durability::deferring(|| command(write))).await?;
    quire_storage::durability::settled(state.store.as_ref()).await?;
    drop(held);
    match result {
        Ok(post) => Ok(post_http(status, &post)),
        Err(e) => Err(with_current(state, auth, e).await),
    }
}

/// The start every write shares (posts, media): the write rate limit, then the
/// `Idempotency-Key` (a replay, a mismatch or a request still running are decided here).
/// `body` is what makes two requests the same, besides method, path and `If-Match`.
pub async fn begin_write(
    state: &web::Data<AppState>,
    auth: &Auth,
    req: &HttpRequest,
    body: &[u8],
    status: StatusCode,
) -> Result<Started, ApiError> {
    state.write_limiter.check(&auth.user.id.to_string()).map_err(|wait| {
        ApiError::too_many_requests(
            wait,
            "too many writes in a short time; retry after the Retry-After seconds",
        )
    })?;
    let Some(key) = req.headers().get("idempotency-key") else {
        return Ok(Started::Fresh(None));
    };
    let key = key
        .to_str()
        .map_err(|_| ApiError::bad_request("Idempotency-Key must be visible ASCII"))?
        .to_owned();
    let fingerprint = fingerprint(req, body);
    let (idem, user) = (state.idempotency.clone(), auth.user.id);
    let begun = web::block(move || idem.begin(user, &key, fingerprint, status.as_u16())).await??;
    state.metrics.idempotency(match &begun {
        Begin::Fresh(_) => IdempotencyOutcome::Fresh,
        Begin::Replay(_) => IdempotencyOutcome::Replayed,
        Begin::Mismatch => IdempotencyOutcome::Mismatch,
        Begin::InProgress => IdempotencyOutcome::InProgress,
    });
    match begun {
        Begin::Fresh(held) => Ok(Started::Fresh(Some(held))),
        Begin::Replay(record) => Ok(Started::Replay(record)),
        Begin::Mismatch => Err(ApiError::new(
            ProblemType::IdempotencyKeyReused,
            "this Idempotency-Key was used for a different request; use a new key for a new change",
        )),
        Begin::InProgress => Err(ApiError::new(
            ProblemType::IdempotencyInProgress,
            "a request with this Idempotency-Key is still being processed; retry shortly",
        )),
    }
}

async fn replay(state: &web::Data<AppState>, record: IdempotencyRecord) -> ApiResult {
    let posts = state.posts.clone();
    let post = web::block(move || posts.replayed(record.stream, record.version)).await??;
    let status = StatusCode::from_u16(record.status).unwrap_or(StatusCode::OK);
    Ok(post_http(status, &post))
}

/// Maps a domain error, attaching the current post to a 412 when the caller may read it.
pub async fn with_current(state: &web::Data<AppState>, auth: &Auth, e: DomainError) -> ApiError {
    let DomainError::VersionConflict { id, .. } = &e else {
        return e.into();
    };
    state.metrics.conflict();
    let (posts, actor, id) = (state.posts.clone(), auth.actor(), *id);
    let current = web::block(move || posts.readable(&actor, id)).await.ok().flatten();
    let err = ApiError::from(e);
    match current {
        Some(post) => err.with_current(post_response(&post)),
        None => err,
    }
}

/// SHA-256 of what makes two requests "the same": method, path, `If-Match`, body and
/// `Base-Version`.
fn fingerprint(req: &HttpRequest, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(req.method().as_str());
    hash.update([0]);
    hash.update(req.path());
    hash.update([0]);
    hash.update(req.headers().get(header::IF_MATCH).map_or(&b""[..], |v| v.as_bytes()));
    hash.update([0]);
    hash.update(body);
    if let Some(base) = req.headers().get(crate::merge::BASE_VERSION) {
        // Only when present, so the fingerprints of requests without it stay as they were.
        hash.update(b"\0base-version\0");
        hash.update(base.as_bytes());
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
