//! `/micropub` and `/micropub/media`: publishing from Micropub clients (Quill, Indigenous,
//! iA Writer, phone shortcuts). Errors here are Micropub's JSON (`error`,
//! `error_description`), not problem+json.
//!
//! A create without `Idempotency-Key` is deduplicated: its key is derived from the token and
//! the content (properties and photo bytes), and a record younger than
//! `micropub.dedupe_window_secs` answers with the first post's `Location`. The record is
//! written in the create's own transaction, so a retry after a lost answer never publishes
//! twice, not even across a restart.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use quire_storage::micropub::{new_post, patch, source, Update};
use quire_storage::{Actor, Begin, IfMatch, Post, PostQuery, Properties, Scope, Upload};
use serde_json::{json, Value};
use ulid::Ulid;

use crate::auth::Auth;
use crate::micropub::{
    authenticate, client_name, digest, read_request, site_url, slug_of, state_of, Action, MicropubError, MicropubResult,
};
use crate::state::AppState;

/// How long a create waits for an identical one still running before answering.
const IN_PROGRESS_WAIT: Duration = Duration::from_secs(10);

fn created(state: &AppState, post: &Post) -> HttpResponse {
    HttpResponse::Created()
        .insert_header(("Location", site_url(state, &format!("/posts/{}/", post.slug))))
        .finish()
}

/// `POST /micropub` — create, update, delete or undelete a post.
pub async fn micropub_post(req: HttpRequest, payload: web::Payload) -> MicropubResult {
    let state = state_of(&req)?;
    // Authentication comes first: a header token is checked before the body is read; without
    // one, a body that cannot be read cannot carry a token either.
    let header = match crate::auth::bearer_token(&req) {
        Some(_) => Some(authenticate(&state, &req, None).await?),
        None => None,
    };
    let request = match (read_request(&state, &req, payload).await, &header) {
        (Ok(request), _) => request,
        (Err(e), Some(_)) => return Err(e),
        (Err(_), None) => {
            return Err(authenticate(&state, &req, None)
                .await
                .err()
                .unwrap_or_else(|| crate::micropub::MicropubError::unauthorized("send an access token")))
        }
    };
    let (auth, token) = match (header, request.token) {
        (Some(_), Some(_)) => {
            return Err(crate::micropub::MicropubError::invalid(
                "send the access token in the Authorization header or in access_token, not both",
            ))
        }
        (Some(found), None) => found,
        (None, form_token) => authenticate(&state, &req, form_token).await?,
    };
    let actor = auth.actor().with_origin("micropub", client_name(&req));
    match request.action {
        Action::Create { properties, files } => create(&state, &req, &auth, actor, &token, properties, files).await,
        Action::Update { url, update } => change(&state, actor, &url, Change::Update(update)).await,
        Action::Delete { url } => change(&state, actor, &url, Change::Delete).await,
        Action::Undelete { url } => change(&state, actor, &url, Change::Undelete).await,
    }
}

async fn create(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    auth: &Auth,
    actor: Actor,
    token: &str,
    mut properties: Properties,
    files: Vec<(String, crate::media::Received)>,
) -> MicropubResult {
    actor.require(Scope::PostsWrite)?;
    state.write_limiter.check(&auth.user.id.to_string()).map_err(|_| {
        MicropubError::from(crate::error::ApiError::too_many_requests(
            Duration::from_secs(1),
            "too many writes in a short time; retry later",
        ))
    })?;
    let content = serde_json::to_vec(&properties).map_err(|_| MicropubError::invalid("bad properties"))?;
    let digests: Vec<&[u8]> = files.iter().map(|(_, f)| f.digest.as_bytes()).collect();
    let fingerprint = digest(&[&[b"micropub-create".as_slice(), content.as_slice()], digests.as_slice()].concat());
    let given = req.headers().get("idempotency-key").and_then(|v| v.to_str().ok());
    let window = state.config.micropub.dedupe_window_secs;
    let (key, window) = match given {
        Some(key) => (key.to_owned(), None),
        None if window == 0 => return publish(state, actor, properties, files, None).await,
        None => {
            let key = digest(&[token.as_bytes(), fingerprint.as_bytes()]);
            (
                format!("micropub-{}", &key[..48]),
                Some(time::Duration::seconds(window as i64)),
            )
        }
    };
    let begun = begin(state, auth.user.id, key, fingerprint, window).await?;
    match begun {
        Begin::Fresh(held) => {
            let taken = std::mem::take(&mut properties);
            publish(state, actor, taken, files, Some(held)).await
        }
        Begin::Replay(record) => {
            let posts = state.posts.clone();
            let post = web::block(move || posts.replayed(record.stream, record.version)).await??;
            let current = state.store.post(post.id).ok().flatten().unwrap_or(post);
            Ok(created(state, &current))
        }
        Begin::Mismatch => Err(MicropubError::invalid(
            "this Idempotency-Key was used for a different request; use a new key",
        )),
        Begin::InProgress => Err(MicropubError::invalid(
            "an identical request is still running; retry shortly",
        )),
    }
}

/// The idempotency decision, waiting while an identical request is still running (a client
/// that retried on a bad connection): then it sees that request's post.
async fn begin(
    state: &AppState,
    user: Ulid,
    key: String,
    fingerprint: String,
    window: Option<time::Duration>,
) -> Result<Begin, MicropubError> {
    let started = std::time::Instant::now();
    loop {
        let (idem, key, fingerprint) = (state.idempotency.clone(), key.clone(), fingerprint.clone());
        let begun = web::block(move || idem.begin_within(user, &key, fingerprint, 201, window)).await??;
        if !matches!(begun, Begin::InProgress) || started.elapsed() > IN_PROGRESS_WAIT {
            return Ok(begun);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Uploads the photos through the media service, then creates the post. The held key is
/// released only when the create has finished, even if the client has gone.
async fn publish(
    state: &web::Data<AppState>,
    actor: Actor,
    mut properties: Properties,
    files: Vec<(String, crate::media::Received)>,
    held: Option<quire_storage::InFlight>,
) -> MicropubResult {
    for (property, file) in files {
        let _permit = state
            .media_permits
            .acquire()
            .await
            .map_err(|_| MicropubError::from(crate::error::ApiError::internal()))?;
        let (media, uploader) = (state.media.clone(), actor.clone());
        let stored = web::block(move || {
            let upload = Upload {
                path: &file.path,
                alt: String::new(),
                original_name: None,
            };
            media.upload(&uploader, upload, None)
        })
        .await??;
        let url = Value::String(site_url(state, &stored.url()));
        let values = properties.entry(property).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(values) = values {
            values.push(url);
        }
    }
    let posts = state.posts.clone();
    let new = new_post(&properties, posts.now())?;
    let post = web::block(move || {
        let result = posts.create(&actor, new, held.as_ref().map(quire_storage::InFlight::write));
        drop(held);
        result
    })
    .await??;
    Ok(created(state, &post))
}

enum Change {
    Update(Update),
    Delete,
    Undelete,
}

/// Updates, deletes or restores the post at `url`.
async fn change(state: &web::Data<AppState>, actor: Actor, url: &str, change: Change) -> MicropubResult {
    let slug = slug_of(url)
        .ok_or_else(|| MicropubError::invalid(format!("{url:?} is not a post's URL")))?
        .to_owned();
    let posts = state.posts.clone();
    let store = state.store.clone();
    web::block(move || {
        let missing = || no_post_at(&slug);
        let hidden_as_missing = |e| hidden_as_missing(e, &slug);
        match change {
            Change::Update(update) => {
                let id = store.slug_owner(&slug)?.ok_or_else(missing)?;
                let current = posts.for_edit(&actor, id).map_err(hidden_as_missing)?;
                let changes = patch(&current, &update)?;
                posts
                    .update(&actor, id, IfMatch::Any, changes, None)
                    .map_err(hidden_as_missing)
            }
            Change::Delete => {
                let id = store.slug_owner(&slug)?.ok_or_else(missing)?;
                posts.delete(&actor, id, IfMatch::Any, None).map_err(hidden_as_missing)
            }
            Change::Undelete => {
                let id = deleted_with_slug(store.as_ref(), &slug)?.ok_or_else(missing)?;
                posts.restore(&actor, id, IfMatch::Any, None).map_err(hidden_as_missing)
            }
        }
    })
    .await??;
    Ok(HttpResponse::NoContent().finish())
}

/// The answer for a URL that names no post.
fn no_post_at(slug: &str) -> quire_storage::Error {
    quire_storage::Error::Invalid {
        field: "url",
        message: format!("there is no post at /posts/{slug}/"),
    }
}

/// A post the caller may not see is answered as one that does not exist (the same 400), so a
/// URL never tells whether someone else's draft has that slug.
fn hidden_as_missing(error: quire_storage::Error, slug: &str) -> quire_storage::Error {
    match error {
        quire_storage::Error::PostNotFound { .. } => no_post_at(slug),
        e => e,
    }
}

/// The most recently deleted post that had `slug` (looks through at most 10,000).
fn deleted_with_slug(store: &dyn quire_storage::Store, slug: &str) -> quire_storage::Result<Option<Ulid>> {
    let mut after = None;
    for _ in 0..50 {
        let page = store.list_posts(&PostQuery {
            deleted: true,
            after,
            limit: 200,
            ..PostQuery::default()
        })?;
        if let Some(post) = page.iter().find(|p| p.slug == slug) {
            return Ok(Some(post.id));
        }
        match page.last() {
            Some(last) if page.len() == 200 => after = Some(last.id),
            _ => return Ok(None),
        }
    }
    Ok(None)
}

/// `GET /micropub` — `q=config`, `q=source`, `q=syndicate-to`, `q=category`.
pub async fn micropub_get(req: HttpRequest) -> MicropubResult {
    let state = state_of(&req)?;
    let pairs = crate::micropub::parse_query(req.query_string())?;
    let (auth, _) = authenticate(&state, &req, None).await?;
    let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let q = get("q").ok_or_else(|| MicropubError::invalid("send q=config, source, syndicate-to or category"))?;
    let answer = match q.as_str() {
        "config" => json!({
            "media-endpoint": site_url(&state, "/micropub/media"),
            "syndicate-to": [],
            "q": ["config", "source", "syndicate-to", "category"],
            "post-types": [
                {"type": "note", "name": "Note"}, {"type": "article", "name": "Article"},
                {"type": "photo", "name": "Photo"}, {"type": "reply", "name": "Reply"},
                {"type": "like", "name": "Like"}, {"type": "repost", "name": "Repost"},
            ],
        }),
        "syndicate-to" => json!({"syndicate-to": []}),
        "category" => categories(&state, auth.actor(), get("filter")).await?,
        "source" => {
            let url = get("url").ok_or_else(|| MicropubError::invalid("q=source needs the post's url"))?;
            let wanted: Vec<String> = pairs
                .iter()
                .filter(|(k, _)| k == "properties[]" || k == "properties")
                .map(|(_, v)| v.clone())
                .collect();
            source_of(&state, auth.actor(), &url, wanted).await?
        }
        other => return Err(MicropubError::invalid(format!("q={other} is not supported"))),
    };
    Ok(HttpResponse::Ok().json(answer))
}

async fn source_of(
    state: &web::Data<AppState>,
    actor: Actor,
    url: &str,
    wanted: Vec<String>,
) -> Result<Value, MicropubError> {
    let slug = slug_of(url)
        .ok_or_else(|| MicropubError::invalid(format!("{url:?} is not a post's URL")))?
        .to_owned();
    let (posts, store) = (state.posts.clone(), state.store.clone());
    let post = web::block(move || {
        actor.require(Scope::PostsRead)?;
        let id = store.slug_owner(&slug)?.ok_or_else(|| no_post_at(&slug))?;
        posts.get(&actor, id).map_err(|e| hidden_as_missing(e, &slug))
    })
    .await??;
    let mut properties = source(&post);
    if wanted.is_empty() {
        return Ok(json!({"type": ["h-entry"], "properties": properties}));
    }
    properties.retain(|name, _| wanted.contains(name));
    Ok(json!({"properties": properties}))
}

/// The tags of the posts the caller may see (the newest 10,000 posts), optionally those
/// starting with `filter`.
async fn categories(state: &web::Data<AppState>, actor: Actor, filter: Option<String>) -> Result<Value, MicropubError> {
    let posts = state.posts.clone();
    let tags = web::block(move || {
        let mut tags = std::collections::BTreeSet::new();
        let mut after = None;
        for _ in 0..50 {
            let page = posts.list(
                &actor,
                &PostQuery {
                    after,
                    limit: 200,
                    ..PostQuery::default()
                },
            )?;
            tags.extend(page.iter().flat_map(|p| p.tags.iter().cloned()));
            match page.last() {
                Some(last) if page.len() == 200 => after = Some(last.id),
                _ => break,
            }
        }
        Ok::<_, quire_storage::Error>(tags)
    })
    .await??;
    let filter = filter.unwrap_or_default().to_lowercase();
    let categories: Vec<String> = tags
        .into_iter()
        .filter(|t| t.to_lowercase().starts_with(&filter))
        .collect();
    Ok(json!({"categories": categories}))
}

/// `POST /micropub/media` — Micropub's media endpoint: a multipart `file`, stored through the
/// media service (cleaned of EXIF); 201 with the file's URL in `Location`.
pub async fn micropub_media(req: HttpRequest, payload: web::Payload) -> MicropubResult {
    let state = state_of(&req)?;
    let (auth, _) = authenticate(&state, &req, None).await?;
    let actor = auth.actor().with_origin("micropub", client_name(&req));
    state.media.check_may_upload(&actor)?;
    let limit = state.config.media.max_bytes;
    let incoming = crate::media::read_upload(&req, payload, state.media.blobs(), limit).await?;
    let _permit = state
        .media_permits
        .acquire()
        .await
        .map_err(|_| MicropubError::from(crate::error::ApiError::internal()))?;
    let media = state.media.clone();
    let stored = web::block(move || {
        let upload = Upload {
            path: &incoming.file.path,
            alt: incoming.alt.unwrap_or_default(),
            original_name: incoming.name,
        };
        media.upload(&actor, upload, None)
    })
    .await??;
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header(("Location", site_url(&state, &stored.url())))
        .finish())
}
