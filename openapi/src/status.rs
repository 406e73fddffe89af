//! Projection status, the git audit and a post's commits: how far the projections of the log
//! have come, whether git still matches the log, and where a post's changes are in git.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// `GET /api/v1/status`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatusResponse {
    /// The seq of the newest durable event.
    pub head: u64,
    /// The git projection (`<data>/content.git`) and its mirrors.
    pub git: GitStatus,
    /// The site projection (`<data>/site`).
    pub site: ProjectionState,
    /// Webhooks: the projection that queues deliveries, and how the webhooks fare.
    pub webhooks: WebhooksStatus,
    /// Publishing the site to S3-compatible storage (`[site.publish]`): `position` is the log
    /// seq of the site as last published completely.
    pub publish: ProjectionState,
    /// Scheduled dataset fetches since the start, of the datasets the caller may see.
    #[serde(default)]
    pub dataset_fetches: Vec<DatasetFetchStatus>,
}

/// How the scheduled fetches of one dataset went (since the server started).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DatasetFetchStatus {
    pub name: String,
    pub source_url: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_attempt_at: Option<time::OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_success_at: Option<time::OffsetDateTime>,
    /// Why the last fetch failed; null after a success.
    pub last_error: Option<String>,
    /// Failed fetches since the last success.
    pub failures: u64,
    /// Fetches that brought new data (each one event).
    pub changes: u64,
}

/// Webhooks in `/api/v1/status` (counts only: URLs are for admins, in `/api/v1/webhooks`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhooksStatus {
    /// The projection that turns events into deliveries.
    pub queue: ProjectionState,
    /// Registered webhooks.
    pub webhooks: u64,
    /// Webhooks whose last delivery failed every retry.
    pub failing: u64,
    /// Webhooks turned off (by an admin, or by a 410 Gone).
    pub disabled: u64,
    /// Deliveries still to send, over all webhooks.
    pub pending: u64,
}

/// Where a projection of the log stands.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectionState {
    /// Whether the projection runs.
    pub enabled: bool,
    /// The seq of the newest event it applied (its checkpoint); null while it is off or has not
    /// started yet.
    pub position: Option<u64>,
    /// `head - position`: events it has not applied yet; null when `position` is.
    pub lag: Option<u64>,
    /// Failures since the server started.
    pub failures: u64,
    /// The last failure, cleared by the next success. It retries by itself.
    pub last_error: Option<String>,
}

/// Where the git projection stands.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GitStatus {
    /// Whether the projection runs (`git.enabled`).
    pub enabled: bool,
    /// The seq of the newest event in git (the `Event-Seq` trailer of `main`); null while the
    /// projection is off or has not opened the repository yet.
    pub position: Option<u64>,
    /// `head - position`: events not in git yet; null when `position` is.
    pub lag: Option<u64>,
    /// `/readyz` answers 503 while `lag` is above this (`git.max_lag`).
    pub max_lag: u64,
    /// The last failure of the projection, cleared by the next success. It retries by itself.
    pub last_error: Option<String>,
    /// One entry per `[[git.remotes]]`.
    pub mirrors: Vec<MirrorStatus>,
}

/// A remote that `main` is pushed to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MirrorStatus {
    /// `name` of the remote, or its URL without credentials.
    pub name: String,
    /// The URL without credentials.
    pub url: String,
    /// The git position that the last successful push carried (null: none yet).
    pub pushed_seq: Option<u64>,
    /// Failed pushes since the last success.
    pub failures: u32,
    /// The error of the last failed push (what `git push` said), cleared by a success.
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_attempt_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_success_at: Option<OffsetDateTime>,
    /// When the next attempt is due after a failure (pushes back off exponentially).
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_retry_at: Option<OffsetDateTime>,
    /// Pulls from the remote (`pull = true`: forge webhooks and periodic pulls); null when off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull: Option<PullStatus>,
}

/// How pulling a forge's branch into Quire went (`POST /api/v1/hooks/git/{remote}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PullStatus {
    /// The branch pulled.
    pub branch: String,
    /// Whether the last pull succeeded (imported, or nothing new); null before the first.
    pub ok: Option<bool>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_pull_at: Option<OffsetDateTime>,
    /// Why the last pull failed (fetch, refused files, divergence); cleared by a success.
    pub last_error: Option<String>,
    /// The forge's branch and Quire's `main` both have commits the other lacks *and* changed
    /// the same files (`conflicts`): nothing was imported and the mirror push is refused too.
    /// (When they changed different files, the pull merges: Quire's `main` gets a merge commit
    /// with the forge's edits, and the mirror push brings the forge up to it.) Resolve by
    /// merging or rebasing on a clone and pushing the result to the forge; the next pull clears
    /// it.
    pub diverged: bool,
    /// The files both sides changed since they parted (when `diverged`), e.g.
    /// `content/posts/2026/hello.md`. Empty, like `problems`, for callers who may not read
    /// every post (the paths name anyone's drafts).
    #[serde(default)]
    pub conflicts: Vec<String>,
    /// What refused the last import, each starting with the path it is about.
    pub problems: Vec<String>,
    /// The forge commit the last successful pull brought Quire up to.
    pub commit: Option<String>,
    /// Events the last successful pull appended.
    pub imported_events: usize,
}

/// `GET /api/v1/audit`: the git repository checked against the event log.
///
/// A mismatch is a finding, not a failed request: the answer is 200 with `ok: false` and the
/// problems listed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditReport {
    /// Whether `main` matches the log up to `position`.
    pub ok: bool,
    /// The seq of the newest commit made from the log.
    pub position: u64,
    /// The log's head when checked (`head - position` events are not in git yet; not a problem).
    pub head: u64,
    /// How many commits of `main` were read.
    pub commits: u64,
    /// What differs, oldest commit first: which commit, path or seq, and how.
    pub problems: Vec<String>,
    /// Whether further problems were left out.
    pub truncated: bool,
}

/// `GET /api/v1/posts/{id}/commits`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PostCommits {
    /// Newest first.
    pub commits: Vec<CommitResponse>,
}

/// One commit of the git repository.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CommitResponse {
    /// Full hex commit id.
    pub sha: String,
    /// The event's seq (`Event-Seq` trailer).
    pub seq: Option<u64>,
    /// The event's time (to the second).
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// Who made the change (username).
    pub author: String,
    /// First line of the message, e.g. `Publish "Title"`.
    pub summary: String,
}
