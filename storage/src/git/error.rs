//! Errors of the git projection.
//!
//! Kept apart from the crate's [`crate::Error`] because they describe the repository, not the
//! domain: a failed object write or a moved branch is the projection's business, and the API only
//! needs to log it. Event-log failures are wrapped, not flattened, so their context survives.

use std::path::PathBuf;

use gix::ObjectId;
use ulid::Ulid;

/// Everything that can go wrong while projecting the log into git.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// A gix operation failed; `context` says which one and on what.
    #[error("{context}: {source}")]
    Gix {
        context: String,
        #[source]
        source: gix::Error,
    },

    /// Reading or writing the repository folder failed.
    #[error("{context} ({path}): {source}")]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Reading the event log failed.
    #[error("reading the event log: {0}")]
    Store(#[from] crate::Error),

    /// `refs/heads/main` was not where the projection left it (someone else moved it).
    #[error("refs/heads/main moved: expected {expected:?}, could not set it to {new}: {source}")]
    RefMoved {
        expected: Option<ObjectId>,
        new: ObjectId,
        #[source]
        source: gix::Error,
    },

    /// The log handed over an event that is not the next one.
    #[error("expected event seq {expected}, got {got}: the log has a gap or the events are out of order")]
    Gap { expected: u64, got: u64 },

    /// A stream whose first event is not `PostCreated`.
    #[error("event {seq} belongs to post {stream}, which was never created")]
    BrokenStream { seq: u64, stream: Ulid },

    /// Git says it applied an event the log does not have (or has with another id).
    #[error("git's tip is at seq {seq} (event {git_event}), but the log has {log_event:?} there: is this the right data folder?")]
    LogMismatch {
        seq: u64,
        git_event: String,
        log_event: Option<String>,
    },

    /// A commit on main could not be read as a commit.
    #[error("commit {commit} is unreadable: {message}")]
    BadCommit { commit: ObjectId, message: String },

    /// The repository cannot be read back into the exact events that made it (`restore`).
    #[error("cannot restore the log from commit {commit}: {reason}")]
    Unrestorable { commit: String, reason: String },

    /// The events of a pushed commit were not followed by the rest of that commit's events.
    #[error("event {seq} came before pushed commit {commit} had all its events: the log is not as a push writes it")]
    UnfinishedPush { seq: u64, commit: String },

    /// `apply` was called before the posts state was loaded from the log.
    #[error("the projection has not caught up since it was opened; call catch_up first")]
    NotLoaded,
}

/// Result of the git projection.
pub type Result<T, E = GitError> = std::result::Result<T, E>;

/// Wraps a gix failure with what was being done.
pub(crate) fn gix_err(context: impl Into<String>) -> impl FnOnce(gix::Error) -> GitError {
    let context = context.into();
    move |source| GitError::Gix { context, source }
}

/// Wraps an io failure with what was being done and where.
pub(crate) fn io_err(context: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> GitError {
    let path = path.into();
    move |source| GitError::Io { context, path, source }
}
