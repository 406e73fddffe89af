//! Errors of the site projection. None of them reaches a client: the projection runs on its
//! own thread, logs a failure and tries again, because the log stays the truth and a later
//! catch-up repairs what an earlier one could not do.

use std::path::PathBuf;

/// What can stop the site projection from catching up.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// Reading the event log failed.
    #[error("reading the event log: {0}")]
    Storage(#[from] quire_storage::Error),
    /// Rendering or writing pages failed (a full disk, a permission, bad settings).
    #[error("rendering the site: {0}")]
    Render(#[from] quire_render::Error),
    /// The server is stopping; the site is caught up on the next start.
    #[error("stopped before the site was up to date")]
    Stopped,
    /// The manifest could not be read or written.
    #[error("site manifest {}: {source}", path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
}

/// The result type of the site projection.
pub type Result<T, E = SiteError> = std::result::Result<T, E>;
