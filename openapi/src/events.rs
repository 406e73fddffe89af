//! The event log as the API shows it, and the probes.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// One event of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventResponse {
    /// Global position: gap-free, from 1.
    pub seq: u64,
    /// Event id (ULID).
    pub id: String,
    /// The post id (or the media id, for `Media…` events).
    pub stream: String,
    /// The stream's version after this event.
    pub version: u64,
    /// `PostCreated`, `PostUpdated`, `PostPublished`, `PostScheduled`, `PostUnpublished`,
    /// `PostDeleted`, `PostRestored`, `PostConflictCopy`, `MediaUploaded`, `MediaUpdated` or
    /// `MediaDeleted`. A change sent with `Base-Version` and merged has `data.base_version` and
    /// `data.merged: true` (on `PostUpdated` and on the status events alike). `PostConflictCopy`
    /// keeps the losing side of a conflict without changing the post: `data.copy` holds its
    /// fields and `data.base_version` the version it applies to; bring it back with
    /// `POST /api/v1/posts/{id}/conflict-copies/{version}/restore`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Username.
    pub actor: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub idempotency_key: Option<String>,
    /// The event's payload; its fields depend on `type`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// Where the event came from when not from the REST API (Micropub, a `git push`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<EventOrigin>,
}

/// Where an event came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventOrigin {
    /// `micropub`, `git-push` or `forge-hook` (a pull from a forge remote).
    pub source: String,
    /// The client application that sent it, as it named itself (a Micropub client's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The pushed (or pulled) commit the event was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// A page of the event log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventList {
    pub events: Vec<EventResponse>,
    /// Pass as `after` to continue; equals the request's `after` when nothing is new.
    pub next_after: u64,
    /// The seq of the newest durable event.
    pub head: u64,
}

/// `GET /healthz`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

/// `GET /readyz`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Ready {
    #[schema(example = "ready")]
    pub status: String,
    /// The seq of the newest durable event.
    pub head: u64,
}
