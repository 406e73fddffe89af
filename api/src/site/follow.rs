//! The site as a [`Projection`] of the one runner. A catch-up renders the pages the new events
//! touch (or the whole site when far behind) and writes the manifest with the seq it reached,
//! which is the checkpoint a restart resumes from.

use quire_storage::runner::{Projection, ProjectionError};
use quire_storage::Store;

use super::error::SiteError;
use super::projection::SiteProjection;

impl Projection for SiteProjection {
    fn checkpoint(&mut self) -> Result<u64, ProjectionError> {
        Ok(self.seq().unwrap_or(0))
    }

    fn catch_up(&mut self, store: &dyn Store, progress: &mut dyn FnMut(u64)) -> Result<u64, ProjectionError> {
        match SiteProjection::catch_up(self, store) {
            Ok(done) => {
                progress(done.seq);
                Ok(done.events as u64)
            }
            // Asked to stop in the middle of a long render: the manifest holds what was done.
            Err(SiteError::Stopped) => Ok(0),
            Err(error) => Err(Box::new(error)),
        }
    }
}
