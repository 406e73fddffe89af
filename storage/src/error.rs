//! Errors of the storage and domain layer.
//!
//! Expected outcomes of a command (a stale version, a taken slug, a post that is not there) are
//! variants here too, so the API can map each one to its own problem type; storage failures carry
//! the context a reader needs but are never shown to clients.

use ulid::Ulid;

use crate::merge::Conflict;
use crate::post::Post;

/// Everything that can go wrong in the storage and domain layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that breaks a rule of the domain; `field` names the offending field.
    #[error("invalid {field}: {message}")]
    Invalid { field: &'static str, message: String },

    /// No post with this id (or no such version of it).
    #[error("post {id} not found")]
    PostNotFound { id: Ulid },

    /// The post was deleted (it can be restored; its tombstone stays readable).
    #[error("post {id} is deleted")]
    PostDeleted { id: Ulid },

    /// The post exists but has no version `version` (it is at `latest`).
    #[error("post {id} has no version {version} (latest is {latest})")]
    VersionNotFound { id: Ulid, version: u64, latest: u64 },

    /// The caller's `If-Match` version is not the post's current version.
    #[error("post {id} is at version {actual}, not {expected}")]
    VersionConflict { id: Ulid, expected: u64, actual: u64 },

    /// A change made from version `base` overlaps with changes made since; `current` is the
    /// post now (only put here after the actor's right to read it was checked).
    #[error("post {id}: the change made from version {base} overlaps with later changes in {} place(s)", .conflicts.len())]
    MergeConflict {
        id: Ulid,
        base: u64,
        current: Box<Post>,
        conflicts: Vec<Conflict>,
        /// The change that keeps the caller's side of every conflict and both sides' other
        /// changes, to apply to `current` (see `merge::keeping_mine`).
        keep_mine: Box<crate::PostPatch>,
    },

    /// The post has no conflict copy at that version.
    #[error("post {id} has no conflict copy at version {version}")]
    ConflictCopyNotFound { id: Ulid, version: u64 },

    /// A change names a base version the post never had (it is at `latest`).
    #[error("post {id} has no version {base} to merge from (latest is {latest})")]
    UnknownBase { id: Ulid, base: u64, latest: u64 },

    /// An explicitly requested slug belongs to another live post.
    #[error("slug {slug:?} is already used by post {owner}")]
    SlugTaken { slug: String, owner: Ulid },

    /// The command does not apply to the post in its current state (e.g. editing a deleted post).
    #[error("{message}")]
    InvalidState { id: Ulid, message: String },

    /// The actor lacks a right; `missing` names it (a scope such as `posts:publish`, or
    /// `edit-others-posts`).
    #[error("{message}")]
    Forbidden { missing: String, message: String },

    /// No user with this id.
    #[error("user {id} not found")]
    UserNotFound { id: Ulid },

    /// No API token with this id (or not one of the caller's).
    #[error("token {id} not found")]
    TokenNotFound { id: Ulid },

    /// No webhook with this id.
    #[error("webhook {id} not found")]
    WebhookNotFound { id: Ulid },

    /// No delivery with this id (`webhook-id`) for the webhook.
    #[error("delivery {id} not found")]
    DeliveryNotFound { id: String },

    /// A webhook URL that may not be called (`reason` says why: not http, private address…).
    #[error("webhook URL refused: {reason}")]
    WebhookUrlRefused { reason: String },

    /// A user with this name already exists.
    #[error("user {username:?} already exists")]
    UserExists { username: String },

    /// Login, refresh or setup failed; deliberately vague.
    #[error("invalid credentials")]
    InvalidCredentials,

    /// A sled operation failed.
    #[error("storage failure: {0}")]
    Sled(#[from] sled::Error),

    /// A stored record could not be decoded (corruption or an incompatible version).
    #[error("corrupt record in tree {tree}: {source}")]
    Corrupt {
        tree: &'static str,
        #[source]
        source: serde_json::Error,
    },

    /// The writer thread is gone (the store is shutting down).
    #[error("the event log is closed")]
    Closed,

    /// Too many passwords are being hashed or checked at once (each argon2 hash fills 19 MiB);
    /// the caller may retry after `retry_after_secs`.
    #[error("too many password checks at once; retry in {retry_after_secs} s")]
    Busy { retry_after_secs: u64 },

    /// Password hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(String),

    /// An event given to `import` does not continue the log (wrong seq or stream version, a
    /// stream that was never created, a slug claimed twice), or the log is not empty.
    #[error("cannot import event seq {seq}: {message}")]
    Import { seq: u64, message: String },

    /// No media with this id (or none the caller may know of).
    #[error("media {id} not found")]
    MediaNotFound { id: Ulid },

    /// The caller's `If-Match` version is not the media's current version.
    #[error("media {id} is at version {actual}, not {expected}")]
    MediaVersionConflict { id: Ulid, expected: u64, actual: u64 },

    /// An upload is larger than the limit (bytes or pixels).
    #[error("{message}")]
    MediaTooLarge { message: String },

    /// An upload is not an image type Quire takes.
    #[error("{message}")]
    UnsupportedMedia { message: String },

    /// An upload claims a type Quire takes but cannot be decoded (truncated, damaged).
    #[error("{message}")]
    UnreadableMedia { message: String },

    /// No dataset with this name (or none the caller may know of).
    #[error("dataset {name} not found")]
    DatasetNotFound { name: String },

    /// The name is another user's dataset, which the caller may not change. Carries nothing
    /// of that dataset: whether it is published, a draft or deleted is not told.
    #[error("the dataset name {name} is taken")]
    DatasetNameTaken { name: String },

    /// The caller's `If-Match` version is not the dataset's current version.
    #[error("dataset {name} is at version {actual}, not {expected}")]
    DatasetVersionConflict { name: String, expected: u64, actual: u64 },

    /// A dataset is larger than the limits (bytes or rows).
    #[error("{message}")]
    DatasetTooLarge { message: String },

    /// A dataset body that cannot be read; `line` is where (1-based), when known.
    #[error("line {line:?}: {message}")]
    DatasetMalformed { line: Option<u64>, message: String },

    /// File-system work around the store (key files, folders) failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

/// Result of the storage and domain layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }
}
