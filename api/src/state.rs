//! What handlers share, handed to them as `web::Data<AppState>`.

use std::sync::Arc;

use quire_storage::{Accounts, Idempotency, MediaService, Posts, SecretStore, Store, Tokens};

use crate::auth::JwtKeys;
use crate::config::Config;
use crate::limits::{LoginGuard, WriteLimiter};

/// Shared state of the running server.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub posts: Posts,
    pub accounts: Accounts,
    pub idempotency: Idempotency,
    pub jwt: Arc<JwtKeys>,
    pub tokens: Tokens,
    pub login_guard: Arc<LoginGuard>,
    pub write_limiter: Arc<WriteLimiter>,
    /// Where the git projection and its mirrors stand (written by their threads).
    pub git: Arc<crate::git::GitStatus>,
    /// Where the site projection stands (written by its runner).
    pub site: Arc<quire_storage::runner::ProjectionStatus>,
    /// Where publishing the site to S3 (`[site.publish]`) stands (written by its runner).
    pub publish: Arc<quire_storage::runner::ProjectionStatus>,
    /// Hot pages of the site in memory (`site.cache_mb`), kept fresh by the site projection.
    pub site_cache: Arc<crate::site::cache::SiteCache>,
    /// Users and tokens, for backups (everything else goes through `accounts` and `tokens`).
    pub secrets: Arc<dyn SecretStore>,
    /// Webhooks and their deliveries.
    pub webhooks: quire_storage::webhooks::Webhooks,
    /// Where the projection that queues webhook deliveries stands.
    pub webhook_queue: Arc<quire_storage::runner::ProjectionStatus>,
    /// Wakes the webhook senders (new deliveries, a resend).
    pub webhook_wake: Arc<tokio::sync::Notify>,
    /// Prometheus metrics (`GET /metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Uploaded images.
    pub media: MediaService,
    /// Datasets (their CSV files live in the media folder).
    pub datasets: quire_storage::DatasetService,
    /// How the scheduled dataset fetches went (for `/api/v1/status` and `/metrics`).
    pub dataset_fetches: Arc<crate::datasets::FetchStatus>,
    /// Bounds how many uploads are decoded at once (`media.concurrent_decodes`).
    pub media_permits: Arc<tokio::sync::Semaphore>,
    /// One `git push` import at a time (each checks `main` and the log head, then appends).
    pub push_gate: Arc<std::sync::Mutex<()>>,
    /// The remotes that pull from a forge (`[[git.remotes]]` with `pull = true`).
    pub forges: Arc<crate::git::forge::Forges>,
    /// IndieAuth authorization codes waiting to be exchanged.
    pub indieauth_codes: Arc<crate::indieauth::Codes>,
}
