//! Errors of the renderer.
//!
//! Rendering itself cannot fail on author input (bad Markdown is still Markdown); what can fail
//! is the configuration and the file system under the output folder.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while rendering or writing the site.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The site configuration cannot produce a working site.
    #[error("invalid site configuration: {field}: {reason}")]
    InvalidConfig {
        /// The offending field of [`crate::SiteConfig`].
        field: &'static str,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// Reading, writing, renaming or removing a file of the output folder failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. "write", "rename", "fsync folder".
        action: &'static str,
        /// The file or folder involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A post's body kept outside its [`crate::PostInput`] could not be read.
    #[error("reading the body of post {post}: {reason}")]
    Body {
        /// The post's id.
        post: String,
        /// What went wrong.
        reason: String,
    },
    /// Serializing the JSON Feed failed (this indicates a bug, not bad input).
    #[error("serialize JSON Feed: {0}")]
    Json(#[from] serde_json::Error),
}

impl Error {
    /// Wraps an [`io::Error`] with the action and path it concerns.
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
