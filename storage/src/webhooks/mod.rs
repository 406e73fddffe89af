//! Webhooks (Standard Webhooks, standardwebhooks.com): configuration with a secret, so they live
//! in sled trees of their own beside the log, never in it (the log is exported and mirrored).
//!
//! A webhook subscribes to event types (`post.published`…, or `*`). The [`WebhookProjection`]
//! follows the log and queues one [`Delivery`] per event and matching webhook, durably and
//! together with its checkpoint; senders (in `quire-api`) post them, signed with [`sign`], in
//! seq order per webhook, at least once.

mod address;
mod db;
mod projection;
mod service;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ulid::Ulid;

use crate::event::EventPayload;

pub use address::{check_url, Target};
pub use db::WebhookDb;
pub use projection::WebhookProjection;
pub use service::{record_attempt, Attempt, NewWebhook, WebhookPatch, Webhooks};

/// Prefix of every webhook secret (the Standard Webhooks convention).
pub const SECRET_PREFIX: &str = "whsec_";
/// The event types a webhook may subscribe to, besides `*`.
pub const EVENT_TYPES: &[&str] = &[
    "post.created",
    "post.updated",
    "post.published",
    "post.scheduled",
    "post.unpublished",
    "post.deleted",
    "post.restored",
    "post.conflict_copy",
    "media.uploaded",
    "media.updated",
    "media.deleted",
    "dataset.updated",
];

/// The webhook event type of a log event.
pub fn event_type(payload: &EventPayload) -> &'static str {
    match payload {
        EventPayload::PostCreated { .. } => "post.created",
        EventPayload::PostUpdated { .. } => "post.updated",
        EventPayload::PostPublished { .. } => "post.published",
        EventPayload::PostScheduled { .. } => "post.scheduled",
        EventPayload::PostUnpublished { .. } => "post.unpublished",
        EventPayload::PostDeleted {} => "post.deleted",
        EventPayload::PostRestored { .. } => "post.restored",
        EventPayload::PostConflictCopy { .. } => "post.conflict_copy",
        EventPayload::MediaUploaded { .. } => "media.uploaded",
        EventPayload::MediaUpdated { .. } => "media.updated",
        EventPayload::MediaDeleted {} => "media.deleted",
        EventPayload::DatasetPut { .. } | EventPayload::DatasetUpdated { .. } | EventPayload::DatasetDeleted {} => {
            "dataset.updated"
        }
    }
}

/// Whether a webhook is healthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookState {
    /// Deliveries succeed (or have not been tried).
    Active,
    /// A delivery failed every retry; new ones are still tried, a success makes it active.
    Failing,
    /// Turned off (by an admin, or by a receiver answering 410 Gone); nothing is sent.
    Disabled,
}

/// A stored webhook, with its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: Ulid,
    pub url: String,
    /// Event types, or `["*"]`.
    pub events: Vec<String>,
    pub description: String,
    /// `whsec_` + base64 of the key.
    pub secret: String,
    pub enabled: bool,
    pub state: WebhookState,
    /// Events with a seq above this are sent (the log's head when it was made).
    pub since_seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl Webhook {
    /// Whether it wants events of `event_type`.
    pub fn wants(&self, event_type: &str) -> bool {
        self.events.iter().any(|e| e == "*" || e == event_type)
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

/// One event for one webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub webhook: Ulid,
    pub seq: u64,
    pub event_id: Ulid,
    pub event_type: String,
    /// The event's time (the payload's `timestamp`).
    #[serde(with = "time::serde::rfc3339")]
    pub event_at: OffsetDateTime,
    /// The payload's `data`.
    pub data: serde_json::Value,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_attempt_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
}

impl Delivery {
    /// The `webhook-id` header: the same for every attempt, unique per event and webhook.
    pub fn message_id(&self) -> String {
        format!("msg_{}_{}", self.event_id, self.webhook)
    }

    /// The JSON body sent: `{"type", "timestamp", "data"}`, the same bytes for every attempt.
    pub fn body(&self) -> Vec<u8> {
        let timestamp = self
            .event_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let body = serde_json::json!({"type": self.event_type, "timestamp": timestamp, "data": self.data});
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

/// A new secret: `whsec_` + base64 of 32 random bytes.
pub fn new_secret() -> String {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The `webhook-signature` header value: `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`
/// keyed with the base64-decoded part of `secret` after `whsec_`. `None` for a malformed secret.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .ok()?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
    mac.update(body);
    Some(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector of the Standard Webhooks libraries (`standardwebhooks` test suites).
    #[test]
    fn the_signature_matches_the_standard_webhooks_test_vector() {
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(
            signature.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn a_new_secret_has_the_prefix_and_32_bytes() {
        let secret = new_secret();
        let key = STANDARD.decode(&secret[SECRET_PREFIX.len()..]).expect("base64");
        assert_eq!(key.len(), 32);
        assert_ne!(secret, new_secret());
    }

    #[test]
    fn wildcards_and_listed_types_match_and_nothing_else() {
        let mut hook = Webhook {
            id: Ulid::new(),
            url: "http://example.com/".into(),
            events: vec!["post.published".into()],
            description: String::new(),
            secret: new_secret(),
            enabled: true,
            state: WebhookState::Active,
            since_seq: 0,
            created_at: OffsetDateTime::UNIX_EPOCH,
        };
        assert!(hook.wants("post.published"));
        assert!(!hook.wants("post.created"));
        hook.events = vec!["*".into()];
        assert!(hook.wants("post.deleted"));
        assert_eq!(event_type(&EventPayload::PostDeleted {}), "post.deleted");
    }
}

#[cfg(test)]
mod projection_tests;
