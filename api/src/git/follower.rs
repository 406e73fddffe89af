//! The projection's thread: opens `<data>/content.git`, catches up with the log, then again
//! after every new durable head, until told to stop.
//!
//! This is [`GitProjection::follow`] with two additions the server needs, which is why it does
//! not use [`GitProjection::spawn`]: git's position is published while it moves (page by page
//! during a long catch-up), for `/api/v1/status` and `/readyz`, and after each catch-up it is
//! sent to the mirrors, which push when it changes. gix blocks on file I/O, so all of this runs
//! on its own thread, never on the async executor; a failure is logged, shown in the status and
//! retried with a growing pause (the log stays the truth, a later catch-up repairs).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use quire_storage::{GitError, GitProjection, GitSettings, Store};
use tokio::sync::watch;

use super::status::GitStatus;

/// First pause after a failure; it doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Catch up at least this often even without a notification.
const IDLE_CHECK: Duration = Duration::from_secs(60);

/// What the follower thread works with.
pub(super) struct Follower {
    pub path: PathBuf,
    pub settings: GitSettings,
    pub store: Arc<dyn Store>,
    pub status: Arc<GitStatus>,
    /// git's position after each catch-up, for the mirrors.
    pub positions: watch::Sender<u64>,
}

impl Follower {
    /// Runs until `stop` becomes `true` or its sender is dropped.
    pub(super) fn run(self, mut stop: watch::Receiver<bool>) {
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_time().build() {
            Ok(runtime) => runtime,
            Err(error) => {
                tracing::error!(%error, "starting the git projection's runtime failed; git stays behind");
                self.status
                    .set_error(Some(format!("the projection could not start: {error}")));
                return;
            }
        };
        let mut heads = self.store.subscribe();
        let mut projection = None;
        let mut backoff = MIN_BACKOFF;
        loop {
            if *stop.borrow() {
                return;
            }
            heads.borrow_and_update();
            let retry = match self.step(&mut projection) {
                Ok(()) => {
                    backoff = MIN_BACKOFF;
                    None
                }
                Err(error) => {
                    tracing::warn!(%error, path = %self.path.display(), "git projection failed; retrying");
                    self.status.set_error(Some(error.to_string()));
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    Some(backoff)
                }
            };
            let stopped = runtime.block_on(async {
                tokio::select! {
                    changed = stop.changed() => changed.is_err() || *stop.borrow(),
                    // A closed store (sender dropped) also ends the follower.
                    changed = heads.changed(), if retry.is_none() => changed.is_err(),
                    () = tokio::time::sleep(retry.unwrap_or(IDLE_CHECK)) => false,
                }
            });
            if stopped {
                return;
            }
        }
    }

    /// Opens the repository if needed and commits every event git does not have yet.
    fn step(&self, projection: &mut Option<GitProjection>) -> Result<(), GitError> {
        let projection = match projection {
            Some(projection) => projection,
            None => projection.insert(GitProjection::open(&self.path, self.settings.clone())?),
        };
        let start = projection.position()?;
        self.status.set_position(start);
        let made = projection.catch_up_with(self.store.as_ref(), &mut |done, _| {
            self.status.set_position(start + done);
        })?;
        let position = projection.position()?;
        self.status.set_position(position);
        self.status.set_error(None);
        self.positions.send_replace(position);
        if made > 0 {
            tracing::debug!(made, position, "git projection caught up");
        }
        Ok(())
    }
}
