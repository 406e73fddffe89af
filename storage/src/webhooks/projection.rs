//! The webhook projection on the one runner: each new event becomes one pending delivery per
//! enabled webhook that wants its type, queued in the same transaction that moves the
//! checkpoint, so a crash neither loses nor doubles a delivery. Sending is not its job.

use std::collections::HashMap;

use ulid::Ulid;

use super::{event_type, Delivery, DeliveryStatus, WebhookDb};
use crate::runner::{Projection, ProjectionError};
use crate::store::Store;
use crate::{Envelope, Post};

/// Events read per page (and per transaction).
const PAGE: usize = 256;

/// Queues deliveries as the log grows.
#[derive(Debug)]
pub struct WebhookProjection {
    db: WebhookDb,
    stop: Option<tokio::sync::watch::Receiver<bool>>,
}

impl WebhookProjection {
    /// Over the webhook trees.
    pub fn new(db: WebhookDb) -> Self {
        Self { db, stop: None }
    }

    /// Returns early from a long catch-up when `stop` turns `true`.
    pub fn stop_on(&mut self, stop: tokio::sync::watch::Receiver<bool>) {
        self.stop = Some(stop);
    }

    /// The deliveries of one page of events.
    fn deliveries(&self, store: &dyn Store, events: &[Envelope]) -> Result<Vec<Delivery>, ProjectionError> {
        let hooks: Vec<_> = self.db.list()?.into_iter().filter(|h| h.enabled).collect();
        let mut posts: HashMap<Ulid, Option<Post>> = HashMap::new();
        let mut out = Vec::new();
        for event in events {
            let kind = event_type(&event.payload);
            let wanted: Vec<_> = hooks
                .iter()
                .filter(|h| h.since_seq < event.seq && h.wants(kind))
                .collect();
            if wanted.is_empty() {
                continue;
            }
            let data = if kind.starts_with("dataset.") {
                dataset_data(event, store.dataset(event.stream)?.as_ref())
            } else if kind.starts_with("media.") {
                media_data(event, store.media(event.stream)?.as_ref())
            } else {
                let post = match posts.get(&event.stream) {
                    Some(post) => post.clone(),
                    None => {
                        let post = store.post(event.stream)?;
                        posts.insert(event.stream, post.clone());
                        post
                    }
                };
                event_data(event, post.as_ref())
            };
            out.extend(wanted.into_iter().map(|hook| Delivery {
                webhook: hook.id,
                seq: event.seq,
                event_id: event.id,
                event_type: kind.to_owned(),
                event_at: event.at,
                data: data.clone(),
                status: DeliveryStatus::Pending,
                attempts: 0,
                last_status_code: None,
                last_error: None,
                last_attempt_at: None,
                next_attempt_at: None,
            }));
        }
        Ok(out)
    }
}

/// The payload's `data`: the event's position and the post as it is now (normally the same:
/// deliveries are queued right after the event). No body: receivers fetch what they need.
fn event_data(event: &Envelope, post: Option<&Post>) -> serde_json::Value {
    serde_json::json!({
        "post_id": event.stream.to_string(),
        "slug": post.map(|p| p.slug.clone()),
        "title": post.map(|p| p.title.clone()),
        "status": post.map(|p| p.status.as_str()),
        "deleted": post.is_some_and(|p| p.deleted_at.is_some()),
        "version": event.version,
        "seq": event.seq,
        "event_id": event.id.to_string(),
        "actor": event.actor,
    })
}

/// The payload's `data` for a dataset event: its name, state and size now.
fn dataset_data(event: &Envelope, set: Option<&crate::datasets::Dataset>) -> serde_json::Value {
    serde_json::json!({
        "dataset": set.map(|d| d.name.clone()),
        "status": set.map(|d| d.meta.status),
        "deleted": set.is_some_and(|d| !d.is_live()),
        "rows": set.map(|d| d.rows),
        "hash": set.map(|d| d.hash.clone()),
        "version": event.version,
        "seq": event.seq,
        "event_id": event.id.to_string(),
        "actor": event.actor,
    })
}

/// The payload's `data` for a media event: the image's public URL, size and alt text.
fn media_data(event: &Envelope, media: Option<&crate::media::Media>) -> serde_json::Value {
    serde_json::json!({
        "media_id": event.stream.to_string(),
        "url": media.map(|m| m.url()),
        "hash": media.map(|m| m.hash.clone()),
        "width": media.map(|m| m.width),
        "height": media.map(|m| m.height),
        "alt": media.map(|m| m.alt.clone()),
        "version": event.version,
        "seq": event.seq,
        "event_id": event.id.to_string(),
        "actor": event.actor,
    })
}

impl Projection for WebhookProjection {
    fn checkpoint(&mut self) -> Result<u64, ProjectionError> {
        Ok(self.db.checkpoint()?)
    }

    fn catch_up(&mut self, store: &dyn Store, progress: &mut dyn FnMut(u64)) -> Result<u64, ProjectionError> {
        let mut at = self.db.checkpoint()?;
        let mut applied = 0;
        loop {
            if self.stop.as_ref().is_some_and(|s| *s.borrow()) {
                return Ok(applied);
            }
            let events = store.events_after(at, PAGE)?;
            let Some(last) = events.last().map(|e| e.seq) else {
                return Ok(applied);
            };
            let deliveries = self.deliveries(store, &events)?;
            self.db.enqueue(&deliveries, last)?;
            applied += events.len() as u64;
            at = last;
            progress(at);
        }
    }
}
