//! The operations the domain needs from a storage backend.
//!
//! [`Store`] is the event log plus the read model that is updated atomically with it;
//! [`SecretStore`] holds what must never enter the log (users, password hashes, refresh tokens).
//! `SledStore` implements both; a second backend is a new file, not a rewrite.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::watch;
use ulid::Ulid;

use crate::datasets::Dataset;
use crate::event::{Envelope, EventPayload};
use crate::media::{Media, MediaQuery};
use crate::post::{Post, Status};
use crate::tokens::ApiToken;
use crate::users::{RefreshToken, User};
use crate::Result;

/// Events to append to one stream, atomically and durably.
#[derive(Debug, Clone)]
pub struct AppendBatch {
    /// The post id.
    pub stream: Ulid,
    /// The stream's version the events were built against; 0 for a new stream.
    pub expected_version: u64,
    /// Username of the user causing the events.
    pub actor: String,
    /// Event time.
    pub at: OffsetDateTime,
    /// The idempotency record to store with the events, if the request carried a key.
    pub idempotency: Option<IdempotencyWrite>,
    /// The events, in order; never empty.
    pub events: Vec<EventPayload>,
    /// Where the events came from (`None`: the REST API): a pushed commit, or a Micropub client
    /// ([`crate::Actor::origin`]).
    pub origin: Option<crate::event::Origin>,
}

/// What `append` decided. Conflicts are expected outcomes, not errors.
#[derive(Debug, Clone)]
pub enum AppendOutcome {
    /// The events are in the log and on disk.
    Appended {
        /// The post after the events.
        post: Post,
        /// The stored envelopes.
        events: Vec<Envelope>,
    },
    /// The stream is not at `expected_version`.
    VersionConflict { actual: u64, current: Option<Post> },
    /// The post's slug is used by another live post.
    SlugTaken { slug: String, owner: Ulid },
}

/// What `append_media` decided.
#[derive(Debug, Clone)]
pub enum MediaOutcome {
    /// The events are in the log and on disk.
    Appended {
        /// The media after the events.
        media: Box<Media>,
        /// The stored envelopes.
        events: Vec<Envelope>,
    },
    /// The stream is not at `expected_version`.
    VersionConflict { actual: u64 },
}

/// What `append_dataset` decided.
#[derive(Debug, Clone)]
pub enum DatasetOutcome {
    /// The events are in the log and on disk.
    Appended {
        /// The dataset after the events.
        dataset: Box<Dataset>,
        /// The stored envelopes.
        events: Vec<Envelope>,
    },
    /// The stream is not at `expected_version`.
    VersionConflict { actual: u64 },
}

/// An idempotency record written in the same transaction as the events it answers for.
#[derive(Debug, Clone)]
pub struct IdempotencyWrite {
    /// `user id \0 key`: keys are scoped per user.
    pub scope: Vec<u8>,
    /// The client's key, kept in the event envelope.
    pub key: String,
    /// The record.
    pub record: IdempotencyRecord,
}

/// What a completed idempotent request answered, enough to replay it byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// SHA-256 (hex) of method, path and body.
    pub fingerprint: String,
    /// HTTP status of the first response.
    pub status: u16,
    /// The post the response showed…
    pub stream: Ulid,
    /// …at this version.
    pub version: u64,
    /// When the record was made; records older than the retention are purged.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Filters and cursor of a post listing. Order: newest first (by id), stable.
#[derive(Debug, Clone, Default)]
pub struct PostQuery {
    pub status: Option<Status>,
    pub tag: Option<String>,
    /// List deleted posts instead of live ones.
    pub deleted: bool,
    /// Start after this id (exclusive), as given by the previous page.
    pub after: Option<Ulid>,
    /// Page size.
    pub limit: usize,
    /// Only posts this user may see: published ones and their own (`None`: every post).
    pub visible_to: Option<String>,
}

/// The event log and its read model.
pub trait Store: Send + Sync {
    /// Appends `batch` atomically with the read-model update; returns once durable.
    fn append(&self, batch: AppendBatch) -> Result<AppendOutcome>;
    /// The seq of the last durable event (0 for an empty log).
    fn head(&self) -> u64;
    /// A receiver that sees every new durable head.
    fn subscribe(&self) -> watch::Receiver<u64>;
    /// The log writer's latest round (see [`crate::durability`]); 0 for a store that answers
    /// every append once durable.
    fn applied_round(&self) -> u64 {
        0
    }
    /// The last of the writer's rounds a flush made durable.
    fn durable_round(&self) -> u64 {
        0
    }
    /// The last of the writer's rounds whose flush failed: appends answered before their flush
    /// up to it are not durable.
    fn failed_round(&self) -> u64 {
        0
    }
    /// Up to `limit` events with `seq > after`, in order.
    fn events_after(&self, after: u64, limit: usize) -> Result<Vec<Envelope>>;
    /// All events of one stream, in version order.
    fn stream_events(&self, stream: Ulid) -> Result<Vec<Envelope>>;
    /// The current state of a post (also when deleted).
    fn post(&self, id: Ulid) -> Result<Option<Post>>;
    /// The live post that owns `slug`.
    fn slug_owner(&self, slug: &str) -> Result<Option<Ulid>>;
    /// One page of posts.
    fn list_posts(&self, query: &PostQuery) -> Result<Vec<Post>>;
    /// Appends several batches (possibly to the same stream) in one transaction: all are
    /// appended and durable, or none is. The outcomes are in batch order; if one is not
    /// `Appended`, nothing was stored and the first such outcome is returned alone.
    fn append_all(&self, batches: Vec<AppendBatch>) -> Result<Vec<AppendOutcome>>;
    /// Like [`Store::append_all`], for an import (a push's or a forge's commits) whose batches
    /// are posts' and media's, told apart by their events. `Ok(Err((n, outcome)))`: batch `n`
    /// was refused and nothing was stored (a media stream's version conflict comes as
    /// `VersionConflict` with no `current`).
    fn append_import(&self, batches: Vec<AppendBatch>) -> Result<Result<Vec<Envelope>, (usize, AppendOutcome)>>;
    /// Appends media events (`stream` is the media id) on the same path as `append`: same
    /// writer, same group commit, same idempotency records.
    fn append_media(&self, batch: AppendBatch) -> Result<MediaOutcome>;
    /// The current state of a media file (also when deleted).
    fn media(&self, id: Ulid) -> Result<Option<Media>>;
    /// One page of live media, newest first.
    fn list_media(&self, query: &MediaQuery) -> Result<Vec<Media>>;
    /// Appends dataset events (`stream` is the dataset's [`crate::datasets::stream_of`]) on
    /// the same path as `append`.
    fn append_dataset(&self, batch: AppendBatch) -> Result<DatasetOutcome>;
    /// The current state of a dataset (also when deleted).
    fn dataset(&self, id: Ulid) -> Result<Option<Dataset>>;
    /// Every dataset (also deleted ones).
    fn list_datasets(&self) -> Result<Vec<Dataset>>;
    /// The idempotency record under `scope`.
    fn idempotency_record(&self, scope: &[u8]) -> Result<Option<IdempotencyRecord>>;
    /// Removes idempotency records made before `before`; returns how many.
    fn purge_idempotency(&self, before: OffsetDateTime) -> Result<usize>;
    /// Proves the store accepts a durable write (for `/readyz`).
    fn check_writable(&self) -> Result<()>;
    /// How many flushes the log has done (group commit makes this far less than appends).
    fn flush_count(&self) -> u64;
}

/// Users, refresh tokens and settings: never in the log.
pub trait SecretStore: Send + Sync {
    /// How many users exist.
    fn user_count(&self) -> Result<usize>;
    /// A user by id.
    fn user(&self, id: Ulid) -> Result<Option<User>>;
    /// A user by id if it can be had without waiting (from memory); `None` says nothing about
    /// whether the user exists: ask [`SecretStore::user`].
    fn cached_user(&self, id: Ulid) -> Option<User> {
        let _ = id;
        None
    }
    /// A user by name.
    fn user_by_name(&self, username: &str) -> Result<Option<User>>;
    /// Adds a user; `Error::UserExists` if the name is taken.
    fn insert_user(&self, user: &User) -> Result<()>;
    /// Every user.
    fn users(&self) -> Result<Vec<User>>;
    /// Replaces a user's record (same id and name), durably.
    fn update_user(&self, user: &User) -> Result<()>;
    /// Deletes every refresh token of a user; returns how many.
    fn revoke_user_refresh(&self, user: Ulid) -> Result<usize>;
    /// Stores an API token (and its hash index), durably.
    fn put_api_token(&self, token: &ApiToken) -> Result<()>;
    /// Updates an API token's `last_used_at`; need not be durable at once.
    fn touch_api_token(&self, token: &ApiToken) -> Result<()>;
    /// An API token by id.
    fn api_token(&self, id: Ulid) -> Result<Option<ApiToken>>;
    /// An API token by the hex SHA-256 of its secret.
    fn api_token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>>;
    /// Every API token.
    fn api_tokens(&self) -> Result<Vec<ApiToken>>;
    /// Deletes an API token, durably.
    fn delete_api_token(&self, token: &ApiToken) -> Result<()>;
    /// A refresh token record by the token's hash.
    fn refresh_token(&self, hash: &[u8]) -> Result<Option<RefreshToken>>;
    /// Stores a refresh token record under the token's hash.
    fn put_refresh_token(&self, hash: &[u8], token: &RefreshToken) -> Result<()>;
    /// Replaces `old` by `new` only if the stored record is still `old`; false if it changed.
    fn swap_refresh_token(&self, hash: &[u8], old: &RefreshToken, new: &RefreshToken) -> Result<bool>;
    /// Deletes every refresh token of a family; returns how many.
    fn revoke_refresh_family(&self, family: Ulid) -> Result<usize>;
    /// A setting.
    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Sets (or with `None` removes) a setting, durably.
    fn set_meta(&self, key: &str, value: Option<&[u8]>) -> Result<()>;
    /// Sets `key` to `new` only if it currently holds `old`, durably; false otherwise.
    fn swap_meta(&self, key: &str, old: Option<&[u8]>, new: Option<&[u8]>) -> Result<bool>;
    /// Every record of the secret trees, and the idempotency records of the events up to
    /// `head`: what a full backup holds besides the events.
    fn backup_records(&self, head: u64) -> Result<Vec<SecretRecord>>;
    /// Writes records made by `backup_records` into empty trees, durably; returns how many.
    fn restore_records(&self, records: &mut dyn Iterator<Item = SecretRecord>) -> Result<usize>;
}

/// One raw record of a tree kept beside the log, as a backup stores it (base64 key and value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretRecord {
    /// The tree's name (`users`, `refresh`, `api_tokens`, `idempotency`…).
    pub tree: String,
    pub key: String,
    pub value: String,
}
