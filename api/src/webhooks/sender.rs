//! The senders: one task per enabled webhook, on the shared runtime. Each posts its webhook's
//! pending deliveries in seq order, signed per Standard Webhooks, and records every attempt
//! before the next (at least once: a delivery is done only after a 2xx). Redirects are not
//! followed, each attempt connects only to addresses checked just before, and of a response
//! only the status and a short excerpt are kept.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use quire_storage::webhooks::{check_url, record_attempt, sign, Attempt, Delivery, Webhook, WebhookDb};
use time::OffsetDateTime;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use ulid::Ulid;

/// How often senders look again without being woken (new webhooks, resends, due retries).
const POLL: Duration = Duration::from_secs(1);
/// Characters of a failed response's body kept as the error.
const EXCERPT_CHARS: usize = 200;
/// Finished deliveries kept per webhook for `GET …/deliveries`.
const KEEP_FINISHED: usize = 200;

/// What every sender shares.
pub(super) struct Senders {
    pub db: WebhookDb,
    pub wake: Arc<Notify>,
    pub allow_private: bool,
    pub timeout: Duration,
    pub retries: Vec<Duration>,
    /// Extra CAs to trust for `https` receivers (`webhooks.ca_file`).
    pub ca_file: Option<std::path::PathBuf>,
}

/// Runs `work` on the blocking pool (sled); `None` if it failed, after logging why.
async fn blocking<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> quire_storage::Result<T> + Send + 'static,
) -> Option<T> {
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Some(value),
        Ok(Err(error)) => {
            tracing::warn!(%error, what, "webhook storage failed");
            None
        }
        Err(error) => {
            tracing::error!(%error, what, "webhook storage task failed");
            None
        }
    }
}

/// Keeps one sender per enabled webhook until `stop`.
pub(super) async fn supervise(senders: Arc<Senders>, mut stop: watch::Receiver<bool>) {
    let mut running: HashMap<Ulid, JoinHandle<()>> = HashMap::new();
    loop {
        let db = senders.db.clone();
        if let Some(hooks) = blocking("listing webhooks", move || db.list()).await {
            running.retain(|id, task| {
                let keep = !task.is_finished() && hooks.iter().any(|h| h.id == *id && h.enabled);
                if !keep {
                    task.abort();
                }
                keep
            });
            for hook in hooks.iter().filter(|h| h.enabled) {
                running
                    .entry(hook.id)
                    .or_insert_with(|| tokio::spawn(send_loop(senders.clone(), hook.id)));
            }
        }
        tokio::select! {
            changed = stop.changed() => if changed.is_err() || *stop.borrow() { break },
            () = senders.wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
    running.values().for_each(JoinHandle::abort);
}

/// Sends one webhook's queue, oldest first, while the webhook is enabled.
async fn send_loop(senders: Arc<Senders>, id: Ulid) {
    loop {
        let db = senders.db.clone();
        let next = blocking("reading the queue", move || Ok((db.get(id)?, db.next_pending(id)?))).await;
        let Some((Some(hook), next)) = next else {
            return;
        };
        if !hook.enabled {
            return;
        }
        let Some(delivery) = next else {
            let db = senders.db.clone();
            blocking("pruning deliveries", move || db.prune(id, KEEP_FINISHED)).await;
            idle(&senders, POLL).await;
            continue;
        };
        let now = OffsetDateTime::now_utc();
        if let Some(due) = delivery.next_attempt_at.filter(|at| *at > now) {
            idle(&senders, POLL.min((due - now).unsigned_abs())).await;
            continue;
        }
        let attempt = attempt(&senders, &hook, &delivery).await;
        if let Some(error) = &attempt.error {
            tracing::info!(webhook = %id, seq = delivery.seq, error, "webhook delivery failed");
        }
        let (db, retries) = (senders.db.clone(), senders.retries.clone());
        if blocking("recording an attempt", move || {
            record_attempt(&db, delivery, attempt, &retries)
        })
        .await
        .is_none()
        {
            tokio::time::sleep(POLL).await;
        }
    }
}

async fn idle(senders: &Senders, pause: Duration) {
    tokio::select! {
        () = senders.wake.notified() => {}
        () = tokio::time::sleep(pause) => {}
    }
}

fn failed(at: OffsetDateTime, error: String) -> Attempt {
    Attempt {
        at,
        status: None,
        error: Some(error),
    }
}

/// One attempt: check the address, post the signed body, keep the status and an excerpt.
async fn attempt(senders: &Senders, hook: &Webhook, delivery: &Delivery) -> Attempt {
    let at = OffsetDateTime::now_utc();
    let (url, allow) = (hook.url.clone(), senders.allow_private);
    let target = match tokio::task::spawn_blocking(move || check_url(&url, allow)).await {
        Ok(Ok(target)) => target,
        Ok(Err(reason)) => return failed(at, reason),
        Err(_) => return failed(at, "the address lookup failed".into()),
    };
    let (body, msg_id) = (delivery.body(), delivery.message_id());
    let Some(signature) = sign(&hook.secret, &msg_id, at.unix_timestamp(), &body) else {
        return failed(at, "the webhook's secret is malformed; rotate it".into());
    };
    let Ok(builder) = crate::tls::http_client(senders.ca_file.as_deref()) else {
        return failed(at, "the webhooks.ca_file cannot be read".into());
    };
    let client = builder
        .redirect(reqwest::redirect::Policy::none())
        .timeout(senders.timeout)
        .resolve_to_addrs(&target.host, &target.addrs)
        .user_agent(concat!("Quire-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build();
    let client = match client {
        Ok(client) => client,
        Err(error) => return failed(at, format!("cannot make an HTTP client: {error}")),
    };
    let response = client
        .post(target.url)
        .header("content-type", "application/json")
        .header("webhook-id", msg_id)
        .header("webhook-timestamp", at.unix_timestamp().to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    match response {
        Ok(response) => {
            let status = response.status().as_u16();
            let error = (!response.status().is_success()).then_some(excerpt(response).await);
            Attempt {
                at,
                status: Some(status),
                error: error.map(|e| format!("HTTP {status}: {e}")),
            }
        }
        Err(error) if error.is_timeout() => failed(at, format!("no answer within {:?}", senders.timeout)),
        Err(error) => failed(at, describe(&error)),
    }
}

/// The start of a response body, never more than a few hundred bytes read.
async fn excerpt(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < EXCERPT_CHARS * 4 {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    String::from_utf8_lossy(&bytes).chars().take(EXCERPT_CHARS).collect()
}

/// An error with its causes, which reqwest's `Display` leaves out.
pub(crate) fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
