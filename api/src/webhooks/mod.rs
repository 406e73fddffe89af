//! Wiring of webhooks (`quire_storage::webhooks`) into the server: the `[webhooks]` settings,
//! the projection on the one runner that queues deliveries, and the senders ([`sender`]) that
//! post them, one task per webhook on the shared runtime, so a slow or dead receiver holds up
//! only its own queue.

pub(crate) mod sender;

use std::sync::Arc;
use std::time::Duration;

use quire_storage::runner::{Projection, ProjectionError, RunnerSettings};
use quire_storage::webhooks::{WebhookDb, WebhookProjection};
use quire_storage::Store;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::projections::Projections;
use crate::state::AppState;

/// `[webhooks]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// Queue and send webhook deliveries.
    pub enabled: bool,
    /// Let webhook URLs reach private, loopback, link-local and unspecified addresses (off:
    /// such URLs are refused, so a webhook cannot probe the network Quire runs in).
    pub allow_private_addresses: bool,
    /// How long one delivery attempt may take, in seconds.
    pub timeout_secs: u64,
    /// Pauses before each retry of a failed delivery, in seconds; after the last one the
    /// delivery fails and the webhook is marked failing.
    pub retry_schedule_secs: Vec<u64>,
    /// A PEM file of extra CAs to trust for `https` receivers (a private CA); the Mozilla
    /// roots built into Quire are always trusted.
    pub ca_file: Option<std::path::PathBuf>,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            allow_private_addresses: false,
            timeout_secs: 10,
            retry_schedule_secs: vec![5, 300, 1800, 7200, 18_000, 36_000, 50_400],
            ca_file: None,
        }
    }
}

impl WebhookConfig {
    /// Explains a bad value.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            (1..=300).contains(&self.timeout_secs),
            "webhooks.timeout_secs must be between 1 and 300"
        );
        anyhow::ensure!(
            self.retry_schedule_secs.len() <= 20,
            "webhooks.retry_schedule_secs may have at most 20 pauses"
        );
        if let Some(file) = &self.ca_file {
            crate::tls::client_config(Some(file)).map_err(|e| anyhow::anyhow!("webhooks.ca_file: {e:#}"))?;
        }
        Ok(())
    }
}

/// The queueing projection; after each catch-up it wakes the senders.
struct Queue {
    projection: WebhookProjection,
    wake: Arc<Notify>,
}

impl Projection for Queue {
    fn checkpoint(&mut self) -> Result<u64, ProjectionError> {
        self.projection.checkpoint()
    }

    fn catch_up(&mut self, store: &dyn Store, progress: &mut dyn FnMut(u64)) -> Result<u64, ProjectionError> {
        self.projection.catch_up(store, progress)
    }

    fn caught_up(&mut self, _checkpoint: u64) {
        self.wake.notify_waiters();
    }
}

/// Starts the queueing projection and the senders, unless `webhooks.enabled` is off.
pub(crate) fn start(projections: &mut Projections, state: &AppState) -> anyhow::Result<()> {
    let config = &state.config.webhooks;
    if !config.enabled {
        return Ok(());
    }
    let db: WebhookDb = state.webhooks.db.clone();
    let wake = state.webhook_wake.clone();
    let runner = projections.runner(
        RunnerSettings::new("webhooks"),
        state.store.clone(),
        state.webhook_queue.clone(),
    );
    let (queue_db, queue_wake, stop) = (db.clone(), wake.clone(), projections.stopped());
    projections.spawn("quire-webhooks", true, move || {
        runner.run(|| {
            let mut projection = WebhookProjection::new(queue_db.clone());
            projection.stop_on(stop.clone());
            Ok(Queue {
                projection,
                wake: queue_wake.clone(),
            })
        })
    })?;
    let senders = Arc::new(sender::Senders {
        db,
        wake,
        allow_private: config.allow_private_addresses,
        timeout: Duration::from_secs(config.timeout_secs),
        retries: config
            .retry_schedule_secs
            .iter()
            .map(|s| Duration::from_secs(*s))
            .collect(),
        ca_file: config.ca_file.clone(),
    });
    projections
        .waits()
        .spawn(sender::supervise(senders, projections.stopped()));
    Ok(())
}
