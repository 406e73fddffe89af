//! The one projection runner: every projection of the log (git, the site, and those that come
//! next — webhooks, the site publisher, datasets) is a [`Projection`] driven by the same loop.
//!
//! The loop catches up when the durable head moves (and at least every `idle_check`), reports
//! its position and last error through [`Report`], retries failures with exponential
//! [`Backoff`], coalesces only while writes keep coming (a catch-up that applied
//! [`BURST_EVENTS`] or more and ends with new ones already waiting pauses `coalesce` to take the
//! rest of the burst in one go; an idle log gets each change applied at once, and so do changes
//! that arrive one by one while the one before is being applied), and stops between two
//! catch-ups when asked. It runs on a thread of its own (projections block on disk I/O and are
//! not `Send`: gix shares caches with `Rc`), waiting on one small runtime that every runner
//! shares.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::watch;

use crate::store::Store;

/// A projection's failure: logged, shown in its status, retried.
pub type ProjectionError = Box<dyn std::error::Error + Send + Sync>;

/// Something kept in step with the log.
pub trait Projection {
    /// The seq of the last event it applied: its checkpoint, kept where the projection writes
    /// (git's `Event-Seq` trailer, the site's manifest), so a restart resumes from there.
    fn checkpoint(&mut self) -> Result<u64, ProjectionError>;

    /// Applies the events after the checkpoint up to the log's head, in bounded pages, calling
    /// `progress` with the new checkpoint after each page. Returns how many events it applied.
    /// It may return early when asked to stop; the next catch-up goes on from its checkpoint.
    fn catch_up(&mut self, store: &dyn Store, progress: &mut dyn FnMut(u64)) -> Result<u64, ProjectionError>;

    /// Called after a successful catch-up with the checkpoint reached (git tells its mirrors).
    fn caught_up(&mut self, _checkpoint: u64) {}
}

/// Where a runner reports how far its projection is and what went wrong last.
pub trait Report: Send + Sync {
    /// The projection's checkpoint.
    fn position(&self, seq: u64);
    /// The last failure, or `None` after a success.
    fn error(&self, message: Option<String>);
}

/// A [`Report`] kept in memory, for status pages and metrics.
#[derive(Debug)]
pub struct ProjectionStatus {
    position: AtomicU64,
    failures: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl Default for ProjectionStatus {
    fn default() -> Self {
        Self {
            position: AtomicU64::new(u64::MAX),
            failures: AtomicU64::new(0),
            last_error: Mutex::new(None),
        }
    }
}

impl ProjectionStatus {
    /// The checkpoint, once the projection has read it.
    pub fn position(&self) -> Option<u64> {
        Some(self.position.load(Ordering::Acquire)).filter(|p| *p != u64::MAX)
    }

    /// Failures since start.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// The last failure, cleared by the next success.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Report for ProjectionStatus {
    fn position(&self, seq: u64) {
        self.position.store(seq, Ordering::Release);
    }

    fn error(&self, message: Option<String>) {
        if message.is_some() {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
        *self.last_error.lock().unwrap_or_else(PoisonError::into_inner) = message;
    }
}

/// Exponential backoff: `min`, doubling up to `max`, back to `min` after a success.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// Starts at `min`, doubles up to `max`.
    pub fn new(min: Duration, max: Duration) -> Self {
        Self { min, max, next: min }
    }

    /// After a success.
    pub fn reset(&mut self) {
        self.next = self.min;
    }

    /// After a failure: how long to pause now (the pause after the next failure doubles).
    pub fn fail(&mut self) -> Duration {
        let pause = self.next;
        self.next = (self.next * 2).min(self.max);
        pause
    }
}

/// How a runner behaves.
#[derive(Debug, Clone)]
pub struct RunnerSettings {
    /// For logs: `git`, `site`…
    pub name: &'static str,
    /// Catch up at least this often even without a new head.
    pub idle_check: Duration,
    /// While writes keep coming, wait this long after a catch-up to take more of the burst at
    /// once (zero: never).
    pub coalesce: Duration,
    /// Pauses after failures.
    pub backoff: Backoff,
}

impl RunnerSettings {
    /// Defaults: a check every minute, no coalescing, backoff from 100 ms to 30 s.
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            idle_check: Duration::from_secs(60),
            coalesce: Duration::ZERO,
            backoff: Backoff::new(Duration::from_millis(100), MAX_BACKOFF),
        }
    }
}

/// A catch-up that applied at least this many events, with more already waiting, is taken as
/// a burst and followed by the `coalesce` pause. Fewer are people publishing now and then: each
/// change is applied at once, also when it arrived while the one before it was being applied.
pub const BURST_EVENTS: u64 = 8;

/// The longest pause between two attempts of a projection, the scheduler or a mirror's default.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// When a waiting thread wakes up besides on `stop`.
#[derive(Debug, Clone, Copy)]
pub enum Wake {
    /// On a new durable head, or after this long.
    HeadOr(Duration),
    /// After this long only.
    After(Duration),
}

/// Waits on `wait` (a handle of the shared runtime) as `wake` says; returns whether the caller
/// should stop: asked to, or the store or the stop sender went away.
pub fn wait(wait: &Handle, stop: &mut watch::Receiver<bool>, heads: &mut watch::Receiver<u64>, wake: Wake) -> bool {
    let (pause, on_head) = match wake {
        Wake::HeadOr(pause) => (pause, true),
        Wake::After(pause) => (pause, false),
    };
    if *stop.borrow() {
        return true;
    }
    wait.block_on(async {
        tokio::select! {
            changed = stop.changed() => changed.is_err() || *stop.borrow(),
            changed = heads.changed(), if on_head => changed.is_err(),
            () = tokio::time::sleep(pause) => false,
        }
    })
}

/// Drives one projection; see the module documentation.
pub struct Runner {
    pub settings: RunnerSettings,
    pub store: Arc<dyn Store>,
    pub report: Arc<dyn Report>,
    pub stop: watch::Receiver<bool>,
    /// A handle of the runtime the runners wait on.
    pub waits: Handle,
}

impl Runner {
    /// Opens the projection with `open` (on this thread) and keeps it in step with the log
    /// until stopped. A failure to open is retried like any other.
    pub fn run<P: Projection>(mut self, mut open: impl FnMut() -> Result<P, ProjectionError>) {
        let mut heads = self.store.subscribe();
        let mut projection: Option<P> = None;
        let mut backoff = self.settings.backoff;
        loop {
            if *self.stop.borrow() {
                return;
            }
            heads.borrow_and_update();
            let wake = match self.step(&mut projection, &mut open) {
                Ok(applied) => {
                    backoff.reset();
                    // A few events are people's changes, not a burst, even when the next
                    // arrived meanwhile (a slow page set at a big site): apply that one at once.
                    let burst = applied >= BURST_EVENTS
                        && heads.has_changed().unwrap_or(false)
                        && !self.settings.coalesce.is_zero();
                    if burst {
                        Wake::After(self.settings.coalesce)
                    } else {
                        Wake::HeadOr(self.settings.idle_check)
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, projection = self.settings.name, "projection failed; retrying");
                    self.report.error(Some(error.to_string()));
                    Wake::After(backoff.fail())
                }
            };
            if wait(&self.waits, &mut self.stop, &mut heads, wake) {
                return;
            }
        }
    }

    fn step<P: Projection>(
        &self,
        projection: &mut Option<P>,
        open: &mut impl FnMut() -> Result<P, ProjectionError>,
    ) -> Result<u64, ProjectionError> {
        let projection = match projection {
            Some(projection) => projection,
            None => projection.insert(open()?),
        };
        self.report.position(projection.checkpoint()?);
        let report = self.report.clone();
        let applied = projection.catch_up(self.store.as_ref(), &mut |seq| report.position(seq))?;
        let checkpoint = projection.checkpoint()?;
        self.report.position(checkpoint);
        self.report.error(None);
        projection.caught_up(checkpoint);
        if applied > 0 {
            tracing::debug!(projection = self.settings.name, applied, checkpoint, "caught up");
        }
        Ok(applied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_resets() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(500));
        let pauses: Vec<u128> = (0..5).map(|_| backoff.fail().as_millis()).collect();
        assert_eq!(pauses, [100, 200, 400, 500, 500]);
        backoff.reset();
        assert_eq!(backoff.fail(), Duration::from_millis(100));
    }

    #[test]
    fn a_status_reports_position_errors_and_failures() {
        let status = ProjectionStatus::default();
        assert_eq!(status.position(), None);
        Report::position(&status, 7);
        status.error(Some("disk full".into()));
        assert_eq!(
            (status.position(), status.last_error().as_deref()),
            (Some(7), Some("disk full"))
        );
        status.error(None);
        assert_eq!((status.last_error(), status.failures()), (None, 1));
    }
}
