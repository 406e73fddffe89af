//! Webhooks: Standard Webhooks deliveries of the log's events to URLs an admin registers.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// A webhook's health: `active`, `failing` (a delivery failed every retry; new ones are still
/// tried), `disabled` (turned off, or the receiver answered 410 Gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WebhookStateName {
    Active,
    Failing,
    Disabled,
}

/// `POST /api/v1/webhooks`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// An `http` or `https` URL (verified against the Mozilla roots and `webhooks.ca_file`); private,
    /// loopback and link-local addresses are refused unless `webhooks.allow_private_addresses`
    /// is on.
    #[schema(example = "http://example.org/hooks/quire")]
    pub url: String,
    /// Event types (`post.created`, `post.updated`, `post.published`, `post.scheduled`,
    /// `post.unpublished`, `post.deleted`, `post.restored`, `post.conflict_copy`), or `["*"]` for all.
    #[schema(example = json!(["post.published", "post.deleted"]))]
    pub events: Vec<String>,
    #[serde(default)]
    pub description: String,
}

/// `PATCH /api/v1/webhooks/{id}`: only the fields sent change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchWebhookRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `false` stops sending (pending deliveries wait); `true` makes it active again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// A webhook (without its secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookResponse {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
    pub enabled: bool,
    pub state: WebhookStateName,
    /// Deliveries still to send.
    pub pending: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A webhook with its secret, shown at creation and after a rotation only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookCreated {
    #[serde(flatten)]
    pub webhook: WebhookResponse,
    /// `whsec_…`: verify `webhook-signature` with it (any Standard Webhooks library does).
    /// Store it now: it is not shown again.
    pub secret: String,
}

/// The webhooks, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookResponse>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatusName {
    Pending,
    Delivered,
    Failed,
}

/// One event sent (or to send) to one webhook.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeliveryResponse {
    /// The `webhook-id` header, the same on every attempt.
    pub id: String,
    pub event_type: String,
    pub event_id: String,
    pub seq: u64,
    pub status: DeliveryStatusName,
    pub attempts: u32,
    pub last_status_code: Option<u16>,
    /// Why the last attempt failed (at most a short excerpt of the receiver's answer).
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_attempt_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
}

/// Recent deliveries, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeliveryList {
    pub items: Vec<DeliveryResponse>,
}
