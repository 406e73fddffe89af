//! The publisher as a [`Projection`] of the one runner. Its checkpoint is the site seq of the
//! last complete publish (kept in its manifest): a catch-up compares it with the site's
//! manifest and, when the site moved, publishes the difference. The first publish to a bucket
//! (no manifest for this target) is a full one that also removes objects the site lacks.

use std::path::PathBuf;

use quire_storage::runner::{Projection, ProjectionError};
use quire_storage::Store;
use tokio::runtime::Handle;
use tokio::sync::watch;

use super::manifest::BucketManifest;
use super::sync::{sync, PublishError};
use super::target::Target;

/// The publisher of one site folder to one bucket.
pub(super) struct PublishProjection {
    target: Target,
    site_dir: PathBuf,
    dir: PathBuf,
    manifest: Option<BucketManifest>,
    waits: Handle,
    stop: watch::Receiver<bool>,
}

impl PublishProjection {
    pub(super) fn new(
        target: Target,
        site_dir: PathBuf,
        dir: PathBuf,
        waits: Handle,
        stop: watch::Receiver<bool>,
    ) -> Self {
        Self {
            target,
            site_dir,
            dir,
            manifest: None,
            waits,
            stop,
        }
    }

    fn manifest_error(&self, source: std::io::Error) -> ProjectionError {
        Box::new(PublishError::Manifest {
            path: self.dir.clone(),
            source,
        })
    }
}

impl Projection for PublishProjection {
    fn checkpoint(&mut self) -> Result<u64, ProjectionError> {
        if self.manifest.is_none() {
            self.manifest = BucketManifest::load(&self.dir, &self.target.id).map_err(|e| self.manifest_error(e))?;
        }
        Ok(self.manifest.as_ref().map_or(0, BucketManifest::seq))
    }

    fn catch_up(&mut self, _store: &dyn Store, progress: &mut dyn FnMut(u64)) -> Result<u64, ProjectionError> {
        let site = crate::site::manifest::Manifest::load(&self.site_dir)?;
        let Some(site_seq) = site.map(|m| m.seq) else {
            return Ok(0); // not rendered yet
        };
        let before = self.checkpoint()?;
        let full = self.manifest.is_none();
        if !full && site_seq <= before {
            return Ok(0);
        }
        let manifest = match &mut self.manifest {
            Some(manifest) => manifest,
            None => {
                // Written before the first upload, so a crash mid-way resumes from its journal.
                let mut manifest = BucketManifest::empty(&self.dir, &self.target.id);
                manifest.complete(0).map_err(|e| self.manifest_error(e))?;
                self.manifest.insert(manifest)
            }
        };
        let stop = self.stop.clone();
        let stopping = move || *stop.borrow();
        let published = self.waits.block_on(sync(
            &self.target,
            &self.site_dir,
            manifest,
            (full, site_seq),
            &mut |_, _| {},
            &stopping,
        ));
        match published {
            Ok(report) => {
                tracing::info!(
                    seq = site_seq,
                    uploaded = report.uploaded,
                    deleted = report.deleted,
                    unchanged = report.unchanged,
                    "published the site"
                );
                progress(site_seq);
                Ok(site_seq.saturating_sub(before))
            }
            Err(PublishError::Stopped) => Ok(0),
            Err(error) => {
                // The journal holds what was done; reload it next time.
                self.manifest = None;
                Err(Box::new(error))
            }
        }
    }
}
