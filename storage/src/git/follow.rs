//! Following the log: a dedicated thread that catches up whenever the durable head moves.
//!
//! gix blocks on file I/O, so the follower never runs on the async executor. It waits on the
//! store's `watch` channel with a small current-thread runtime of its own; a failure is logged
//! and retried with a growing pause, because the log stays the truth and a later catch-up
//! repairs whatever an earlier one could not do.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::store::Store;

use super::error::{io_err, Result};
use super::{GitProjection, GitSettings};

/// Longest pause between two attempts after failures.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Catch up at least this often even without a notification.
const IDLE_CHECK: Duration = Duration::from_secs(60);

impl GitProjection {
    /// Catches up now and then after every new durable head, until `stop` becomes `true` (or its
    /// sender is dropped). Blocks the calling thread: see [`GitProjection::spawn`].
    pub fn follow(mut self, store: Arc<dyn Store>, mut stop: watch::Receiver<bool>) -> Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(io_err("starting the git follower's runtime", self.path().to_owned()))?;
        let mut heads = store.subscribe();
        let mut backoff = Duration::from_millis(100);
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            heads.borrow_and_update();
            let (pause, wake_on_head) = match self.catch_up(store.as_ref()) {
                Ok(made) => {
                    if made > 0 {
                        tracing::debug!(made, path = %self.path().display(), "git projection caught up");
                    }
                    backoff = Duration::from_millis(100);
                    (IDLE_CHECK, true)
                }
                Err(error) => {
                    tracing::warn!(%error, path = %self.path().display(), "git projection failed; retrying");
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    (backoff, false)
                }
            };
            let stopped = runtime.block_on(async {
                tokio::select! {
                    changed = stop.changed() => changed.is_err() || *stop.borrow(),
                    // A closed store (sender dropped) also ends the follower.
                    changed = heads.changed(), if wake_on_head => changed.is_err(),
                    () = tokio::time::sleep(pause) => false,
                }
            });
            if stopped {
                return Ok(());
            }
        }
    }

    /// Opens the projection of `path` on a new thread named `quire-git` and runs
    /// [`GitProjection::follow`] there. (A projection is not `Send`: gix's lean build shares its
    /// caches with `Rc`, so it is opened on the thread that uses it.)
    pub fn spawn(
        path: PathBuf,
        settings: GitSettings,
        store: Arc<dyn Store>,
        stop: watch::Receiver<bool>,
    ) -> std::io::Result<std::thread::JoinHandle<Result<()>>> {
        std::thread::Builder::new()
            .name("quire-git".into())
            .spawn(move || GitProjection::open(path, settings)?.follow(store, stop))
    }
}
