//! The scheduler: publishes scheduled posts when their time comes, without anyone touching
//! them, also for times that passed while Quire was stopped (its first round runs at start).
//!
//! It runs on its own thread, since appending to the log blocks. A round asks
//! [`quire_storage::publish_due`] with the time of the [`Posts`] service's clock (which tests
//! replace), then waits for the next tick. Ticking rather than waking on every event keeps a
//! busy log from making it scan the scheduled posts thousands of times a second. The published
//! post reaches the site and git like any other change: through its `PostPublished` event.
//!
//! The same thread purges idempotency records past their retention, at start and then hourly
//! ([`Purge`]): one thread fewer than a task of its own on a blocking pool. Each round also
//! gives memory back once a burst has settled ([`crate::memory::Settle`]).

use std::time::{Duration, Instant};

use quire_storage::runner::{wait, Backoff, Wake, MAX_BACKOFF};
use quire_storage::{publish_due, Posts};
use tokio::runtime::Handle;
use tokio::sync::watch;

/// How often the scheduler looks for due posts: a scheduled post appears at most this late.
pub const TICK: Duration = Duration::from_secs(1);
/// How often idempotency records past their retention are purged.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// The purge of old idempotency records: those older than `retention`.
#[derive(Debug)]
pub struct Purge {
    retention: time::Duration,
    next: Instant,
}

impl Purge {
    /// A purge of records older than `retention`; the first runs in the first round.
    pub fn new(retention: time::Duration) -> Self {
        Self {
            retention,
            next: Instant::now(),
        }
    }

    fn run_if_due(&mut self, posts: &Posts) {
        if Instant::now() < self.next {
            return;
        }
        self.next = Instant::now() + PURGE_EVERY;
        match posts.store().purge_idempotency(posts.now() - self.retention) {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "purged old idempotency keys"),
            Err(error) => tracing::warn!(%error, "purging idempotency keys failed"),
        }
    }
}

/// Runs rounds until `stop` becomes `true` or its sender is dropped, waiting on `waits`.
pub fn run(
    posts: Posts,
    mut purge: Purge,
    mut settle: crate::memory::Settle,
    waits: Handle,
    mut stop: watch::Receiver<bool>,
) {
    let mut heads = posts.store().subscribe();
    let mut backoff = Backoff::new(TICK * 2, MAX_BACKOFF);
    loop {
        if *stop.borrow() {
            return;
        }
        purge.run_if_due(&posts);
        settle.tick();
        let now = posts.now();
        let pause = match publish_due(&posts, now) {
            Ok(published) => {
                for post in &published {
                    tracing::info!(id = %post.id, slug = %post.slug, "published a scheduled post");
                }
                backoff.reset();
                Wake::After(TICK)
            }
            Err(error) => {
                tracing::warn!(%error, "publishing scheduled posts failed; retrying");
                Wake::After(backoff.fail())
            }
        };
        if wait(&waits, &mut stop, &mut heads, pause) {
            return;
        }
    }
}
