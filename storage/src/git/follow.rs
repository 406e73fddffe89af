//! The git projection as a [`Projection`] of the one runner ([`crate::runner`]): its checkpoint
//! is the newest event `main` carries (`Event-Seq` trailer, or an adopted commit's note), and a catch-up commits the events after it, page by
//! page. gix blocks on file I/O, so the runner drives it on a thread of its own.

use crate::runner::{Projection, ProjectionError};
use crate::store::Store;

use super::GitProjection;

impl Projection for GitProjection {
    fn checkpoint(&mut self) -> Result<u64, ProjectionError> {
        Ok(self.position()?)
    }

    fn catch_up(&mut self, store: &dyn Store, progress: &mut dyn FnMut(u64)) -> Result<u64, ProjectionError> {
        let start = self.position()?;
        Ok(self.catch_up_with(store, &mut |done, _| progress(start + done))?)
    }
}
