//! Quire's storage and domain layer.
//!
//! The event log is the single source of truth: every change to a post is an [`Envelope`]
//! appended durably (flushed before the caller hears back, with concurrent appends sharing one
//! flush) and atomically with the read model that the API reads. Projections (git, the site)
//! follow the log through [`Store::subscribe`]. Users and tokens live beside the log, never in it.
//!
//! The domain services ([`Posts`], [`Accounts`], [`Idempotency`]) hold the rules; the
//! [`Store`]/[`SecretStore`] traits are the small set of operations they need from a backend.

pub mod access;
pub mod datasets;
pub mod durability;
pub mod error;
pub mod event;
pub mod git;
pub mod idempotency;
pub mod media;
pub mod merge;
pub mod micropub;
mod passwords;
pub mod post;
pub mod posts;
pub mod runner;
pub mod schedule;
pub mod sled_store;
pub mod store;
pub mod tokens;
pub mod users;
pub mod webhooks;

pub use access::{Actor, Scope};
pub use datasets::{Dataset, DatasetService};
pub use error::{Error, Result};
pub use event::{Envelope, EventPayload, KeptFields};
pub use git::{GitError, GitProjection, GitSettings};
pub use idempotency::{Begin, Idempotency, InFlight};
pub use media::{ImageLimits, Media, MediaBlobs, MediaQuery, MediaService, Upload};
pub use merge::Conflict;
pub use post::{Post, Properties, Status};
pub use posts::{system_clock, Clock, IfMatch, NewPost, PostPatch, Posts};
pub use schedule::{publish_due, SCHEDULER_ACTOR};
pub use sled_store::{SledOptions, SledStore};
pub use store::{
    AppendBatch, AppendOutcome, DatasetOutcome, IdempotencyRecord, IdempotencyWrite, MediaOutcome, PostQuery,
    SecretRecord, SecretStore, Store,
};
pub use tokens::{ApiToken, Tokens};
pub use users::{Accounts, Role, User, UserUpdate};
