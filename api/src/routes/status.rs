//! `/api/v1/status` and `/api/v1/posts/{id}/commits`: how far the projections have come, and
//! where a post's changes are in git.

use actix_web::{web, HttpResponse};
use quire_openapi::{CommitResponse, PostCommits, ProjectionState, StatusResponse, WebhooksStatus};
use quire_storage::webhooks::WebhookState;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ProblemType};
use crate::state::AppState;
use crate::write::post_id;

/// `GET /api/v1/status` — the log's head, git's and the site's position and lag, each
/// mirror's state, how the webhooks fare (counts only) and how far the site is published.
/// A pull's file paths (`conflicts`, `problems`) name posts of anyone, drafts included: only
/// callers who may read every post (as `content.git` itself) get them.
pub async fn status(auth: Auth, state: web::Data<AppState>) -> ApiResult {
    let head = state.store.head();
    let site = state.site.position().filter(|_| state.config.site.enabled);
    let webhooks = web::block({
        let state = state.clone();
        move || webhooks_status(&state, head)
    })
    .await??;
    let dataset_fetches = dataset_fetches(&state, &auth).await;
    let mut git = state.git.snapshot(head);
    if auth.actor.require_read_all().is_err() {
        for pull in git.mirrors.iter_mut().filter_map(|m| m.pull.as_mut()) {
            pull.conflicts.clear();
            pull.problems.clear();
        }
    }
    Ok(HttpResponse::Ok().json(StatusResponse {
        head,
        git,
        site: ProjectionState {
            enabled: state.config.site.enabled,
            position: site,
            lag: site.map(|p| head.saturating_sub(p)),
            failures: state.site.failures(),
            last_error: state.site.last_error(),
        },
        webhooks,
        publish: publish_status(&state, head),
        dataset_fetches,
    }))
}

fn publish_status(state: &AppState, head: u64) -> ProjectionState {
    let enabled = state.config.site.enabled && state.config.site.publish.enabled();
    let position = state.publish.position().filter(|_| enabled);
    ProjectionState {
        enabled,
        position,
        lag: position.map(|p| head.saturating_sub(p)),
        failures: state.publish.failures(),
        last_error: state.publish.last_error(),
    }
}

/// The fetch states of the datasets the caller may see (a draft's name and source stay hidden).
async fn dataset_fetches(state: &web::Data<AppState>, auth: &Auth) -> Vec<quire_openapi::DatasetFetchStatus> {
    let all = state.dataset_fetches.snapshot();
    if all.is_empty() {
        return Vec::new();
    }
    let (datasets, actor) = (state.datasets.clone(), auth.actor());
    let visible = web::block(move || datasets.list(&actor))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    all.into_iter()
        .filter(|(name, _)| visible.iter().any(|d| d.name == *name))
        .map(|(name, s)| quire_openapi::DatasetFetchStatus {
            name,
            source_url: s.source_url,
            last_attempt_at: s.last_attempt_at,
            last_success_at: s.last_success_at,
            last_error: s.last_error,
            failures: s.failures,
            changes: s.changes,
        })
        .collect()
}

fn webhooks_status(state: &AppState, head: u64) -> quire_storage::Result<WebhooksStatus> {
    let hooks = state.webhooks.db.list()?;
    let enabled = state.config.webhooks.enabled;
    let position = state.webhook_queue.position().filter(|_| enabled);
    let count = |wanted: WebhookState| hooks.iter().filter(|h| h.state == wanted).count() as u64;
    Ok(WebhooksStatus {
        queue: ProjectionState {
            enabled,
            position,
            lag: position.map(|p| head.saturating_sub(p)),
            failures: state.webhook_queue.failures(),
            last_error: state.webhook_queue.last_error(),
        },
        webhooks: hooks.len() as u64,
        failing: count(WebhookState::Failing),
        disabled: count(WebhookState::Disabled),
        pending: hooks.iter().map(|h| state.webhooks.db.pending_count(h.id) as u64).sum(),
    })
}

/// `GET /api/v1/posts/{id}/commits` — the git commits of a post, newest first.
pub async fn post_commits(auth: Auth, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult {
    let id = post_id(&path)?;
    if !state.git.enabled() {
        return Err(git_disabled());
    }
    let (posts, actor, repo) = (state.posts.clone(), auth.actor(), crate::git::repo_dir(&state.config));
    let commits = web::block(move || -> Result<_, ApiError> {
        posts.get_with_deleted(&actor, id)?;
        quire_storage::git::post_commits(&repo, id).map_err(|e| {
            tracing::error!(error = %e, post = %id, "reading a post's commits failed");
            ApiError::internal()
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(PostCommits {
        commits: commits
            .into_iter()
            .map(|c| CommitResponse {
                sha: c.sha,
                seq: c.seq,
                time: c.time,
                author: c.author,
                summary: c.summary,
            })
            .collect(),
    }))
}

/// 409 for git routes while `git.enabled` is off.
pub(super) fn git_disabled() -> ApiError {
    ApiError::new(
        ProblemType::GitDisabled,
        "the git projection is turned off (git.enabled = false); turn it on and restart quire",
    )
}
