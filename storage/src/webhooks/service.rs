//! The webhook commands: admins only, checked before anything is read, then validation (event
//! types, a URL that may be reached) and the stored record. Also what an attempt changes: the
//! delivery's state, its next try, and the webhook's health.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use ulid::Ulid;

use super::{check_url, new_secret, Delivery, DeliveryStatus, Webhook, WebhookDb, WebhookState, EVENT_TYPES};
use crate::access::{Actor, Scope};
use crate::store::Store;
use crate::{Error, Result};

/// `POST /api/v1/webhooks`.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
}

/// `PATCH /api/v1/webhooks/{id}`: only the fields given change.
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

/// Webhook operations.
#[derive(Clone)]
pub struct Webhooks {
    pub db: WebhookDb,
    store: Arc<dyn Store>,
    clock: crate::Clock,
    allow_private: bool,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhooks").finish_non_exhaustive()
    }
}

fn check_events(events: &[String]) -> Result<Vec<String>> {
    if events.is_empty() {
        return Err(Error::invalid(
            "events",
            "name at least one event type, or \"*\" for all",
        ));
    }
    if let Some(bad) = events.iter().find(|e| *e != "*" && !EVENT_TYPES.contains(&e.as_str())) {
        let known = EVENT_TYPES.join(", ");
        return Err(Error::invalid(
            "events",
            format!("unknown event type {bad:?}; use {known} or \"*\""),
        ));
    }
    let mut events = events.to_vec();
    events.sort();
    events.dedup();
    Ok(events)
}

fn check_description(description: &str) -> Result<String> {
    if description.chars().count() > 500 {
        return Err(Error::invalid(
            "description",
            "keep the description under 500 characters",
        ));
    }
    Ok(description.trim().to_owned())
}

impl Webhooks {
    /// Webhooks in `db`; events come from `store`. `allow_private`: URLs may name private,
    /// loopback and link-local addresses.
    pub fn new(db: WebhookDb, store: Arc<dyn Store>, clock: crate::Clock, allow_private: bool) -> Self {
        Self {
            db,
            store,
            clock,
            allow_private,
        }
    }

    fn check_url(&self, url: &str) -> Result<String> {
        if url.len() > 2048 {
            return Err(Error::invalid("url", "keep the URL under 2048 bytes"));
        }
        check_url(url, self.allow_private)
            .map(|_| url.to_owned())
            .map_err(|reason| Error::WebhookUrlRefused { reason })
    }

    /// Adds a webhook; it receives the events appended from now on. Its secret is in the answer.
    pub fn create(&self, actor: &Actor, new: NewWebhook) -> Result<Webhook> {
        actor.require(Scope::Admin)?;
        let events = check_events(&new.events)?;
        let description = check_description(&new.description)?;
        let url = self.check_url(&new.url)?;
        let hook = Webhook {
            id: Ulid::new(),
            url,
            events,
            description,
            secret: new_secret(),
            enabled: true,
            state: WebhookState::Active,
            since_seq: self.store.head(),
            created_at: (self.clock)(),
        };
        self.db.put(&hook)?;
        Ok(hook)
    }

    /// Every webhook with its count of pending deliveries.
    pub fn list(&self, actor: &Actor) -> Result<Vec<(Webhook, usize)>> {
        actor.require(Scope::Admin)?;
        Ok(self
            .db
            .list()?
            .into_iter()
            .map(|h| {
                let n = self.db.pending_count(h.id);
                (h, n)
            })
            .collect())
    }

    /// One webhook.
    pub fn get(&self, actor: &Actor, id: Ulid) -> Result<Webhook> {
        actor.require(Scope::Admin)?;
        self.db.get(id)?.ok_or(Error::WebhookNotFound { id })
    }

    /// Changes fields; enabling a webhook makes it active again, disabling stops its sends.
    pub fn update(&self, actor: &Actor, id: Ulid, patch: WebhookPatch) -> Result<Webhook> {
        let mut hook = self.get(actor, id)?;
        if let Some(events) = &patch.events {
            hook.events = check_events(events)?;
        }
        if let Some(description) = &patch.description {
            hook.description = check_description(description)?;
        }
        if let Some(url) = &patch.url {
            hook.url = self.check_url(url)?;
        }
        if let Some(enabled) = patch.enabled {
            hook.enabled = enabled;
            hook.state = if enabled {
                WebhookState::Active
            } else {
                WebhookState::Disabled
            };
        }
        self.db.put(&hook)?;
        Ok(hook)
    }

    /// Deletes a webhook and its deliveries.
    pub fn delete(&self, actor: &Actor, id: Ulid) -> Result<()> {
        self.get(actor, id)?;
        self.db.delete(id)
    }

    /// A new secret; the old one stops signing at once.
    pub fn rotate_secret(&self, actor: &Actor, id: Ulid) -> Result<Webhook> {
        let mut hook = self.get(actor, id)?;
        hook.secret = new_secret();
        self.db.put(&hook)?;
        Ok(hook)
    }

    /// The newest deliveries of a webhook.
    pub fn deliveries(&self, actor: &Actor, id: Ulid, limit: usize) -> Result<Vec<Delivery>> {
        self.get(actor, id)?;
        self.db.deliveries(id, limit)
    }

    /// Queues a delivery again (same `webhook-id`), with a fresh retry schedule.
    pub fn resend(&self, actor: &Actor, id: Ulid, message_id: &str) -> Result<Delivery> {
        self.get(actor, id)?;
        let mut delivery = self
            .db
            .delivery(id, message_id)?
            .ok_or_else(|| Error::DeliveryNotFound {
                id: message_id.to_owned(),
            })?;
        delivery.status = DeliveryStatus::Pending;
        delivery.attempts = 0;
        delivery.next_attempt_at = None;
        self.db.save(&delivery)?;
        Ok(delivery)
    }
}

/// What a receiver did with one attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub at: OffsetDateTime,
    /// The HTTP status, if a response came.
    pub status: Option<u16>,
    /// Why it failed (connection, timeout, refused address, or a short excerpt of the body).
    pub error: Option<String>,
}

/// Records `attempt` on `delivery` and its webhook: a 2xx delivers (and makes a failing webhook
/// active), a 410 disables the webhook, anything else is retried after `retries[n]` until the
/// schedule runs out, which fails the delivery and marks the webhook failing.
pub fn record_attempt(
    db: &WebhookDb,
    mut delivery: Delivery,
    attempt: Attempt,
    retries: &[Duration],
) -> Result<Delivery> {
    delivery.attempts = delivery.attempts.saturating_add(1);
    delivery.last_attempt_at = Some(attempt.at);
    delivery.last_status_code = attempt.status;
    delivery.last_error = attempt.error;
    delivery.next_attempt_at = None;
    let ok = attempt.status.is_some_and(|s| (200..300).contains(&s));
    let gone = attempt.status == Some(410);
    let retry = retries.get(delivery.attempts as usize - 1).filter(|_| !ok && !gone);
    let new_state = match (ok, gone, retry) {
        (true, ..) => Some(WebhookState::Active),
        (_, true, _) => Some(WebhookState::Disabled),
        (_, _, None) => Some(WebhookState::Failing),
        (_, _, Some(_)) => None,
    };
    delivery.status = match (ok, retry) {
        (true, _) => DeliveryStatus::Delivered,
        (false, Some(pause)) => {
            delivery.next_attempt_at = Some(attempt.at + *pause);
            DeliveryStatus::Pending
        }
        (false, None) => DeliveryStatus::Failed,
    };
    db.save(&delivery)?;
    if let (Some(state), Some(mut hook)) = (new_state, db.get(delivery.webhook)?) {
        if hook.state != state && hook.enabled {
            hook.enabled = state != WebhookState::Disabled;
            hook.state = state;
            db.put(&hook)?;
        }
    }
    Ok(delivery)
}
