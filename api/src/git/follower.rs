//! The git projection as a [`Projection`] of the one runner: `<data>/content.git` kept in step
//! with the log, its position published while it moves (page by page during a long catch-up)
//! for `/api/v1/status` and `/readyz`, and sent to the mirrors after each catch-up, which push
//! when it changes.

use quire_storage::runner::{Projection, ProjectionError, Report};
use quire_storage::{GitProjection, Store};
use tokio::sync::watch;

use super::status::GitStatus;

/// The repository and the channel to the mirrors.
pub(super) struct GitFollow {
    pub projection: GitProjection,
    /// git's position after each catch-up, for the mirrors.
    pub positions: watch::Sender<u64>,
}

impl Projection for GitFollow {
    fn checkpoint(&mut self) -> Result<u64, ProjectionError> {
        Projection::checkpoint(&mut self.projection)
    }

    fn catch_up(&mut self, store: &dyn Store, progress: &mut dyn FnMut(u64)) -> Result<u64, ProjectionError> {
        Projection::catch_up(&mut self.projection, store, progress)
    }

    fn caught_up(&mut self, checkpoint: u64) {
        self.positions.send_replace(checkpoint);
    }
}

impl Report for GitStatus {
    fn position(&self, seq: u64) {
        self.set_position(seq);
    }

    fn error(&self, message: Option<String>) {
        self.set_error(message);
    }
}
