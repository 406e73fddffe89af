//! The site's background threads — the projection follower and the scheduler — and the
//! handle that stops them.
//!
//! Rendering and appending block on disk I/O, so both run on threads of their own, never on
//! the async executor. Each waits on the store's `watch` channel of durable heads with a small
//! current-thread runtime of its own; a failure is logged and retried with a growing pause.

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;
use quire_render::SiteConfig;
use quire_storage::{Posts, Store};
use tokio::runtime::Runtime;
use tokio::sync::watch;

use super::error::SiteError;
use super::projection::SiteProjection;

/// Longest pause between two attempts after failures.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Catch up at least this often even without a notification.
const IDLE_CHECK: Duration = Duration::from_secs(60);
/// After a new head, wait this long so a burst of writes is rendered as one batch.
const COALESCE: Duration = Duration::from_millis(250);

/// The running site threads. Dropping it stops them: each finishes what it is doing (a
/// projection batch is written with its manifest), then it is joined.
#[derive(Debug)]
pub struct SiteTasks {
    stop: watch::Sender<bool>,
    threads: Vec<JoinHandle<()>>,
}

impl SiteTasks {
    /// Starts the scheduler and, when `projection` is given (`site.enabled`), the projection
    /// of `(settings, folder)`.
    pub fn start(posts: &Posts, projection: Option<(SiteConfig, PathBuf)>) -> anyhow::Result<SiteTasks> {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = SiteTasks {
            stop,
            threads: Vec::new(),
        };
        let (scheduler_posts, scheduler_stop) = (posts.clone(), stopped.clone());
        tasks.threads.push(
            std::thread::Builder::new()
                .name("quire-scheduler".into())
                .spawn(move || super::scheduler::run(scheduler_posts, scheduler_stop))
                .context("starting the scheduler thread")?,
        );
        if let Some((config, dir)) = projection {
            let store = posts.store().clone();
            tasks.threads.push(
                std::thread::Builder::new()
                    .name("quire-site".into())
                    .spawn(move || follow(config, dir, store, stopped))
                    .context("starting the site projection thread")?,
            );
        }
        Ok(tasks)
    }
}

impl Drop for SiteTasks {
    fn drop(&mut self) {
        // Fails only if every receiver is gone, i.e. the threads already ended.
        let _ = self.stop.send(true);
        for thread in self.threads.drain(..) {
            if thread.join().is_err() {
                tracing::error!("a site thread panicked");
            }
        }
    }
}

/// When a waiting thread wakes up besides on `stop`.
pub(super) enum Wake {
    /// After this long, or earlier on a new durable head.
    TickOrEvent(Duration),
    /// After this long only (backing off after a failure).
    After(Duration),
}

/// A current-thread runtime to wait on channels and timers with; `None` (logged) if the
/// operating system refuses one.
pub(super) fn runtime(what: &str) -> Option<Runtime> {
    match tokio::runtime::Builder::new_current_thread().enable_time().build() {
        Ok(runtime) => Some(runtime),
        Err(error) => {
            tracing::error!(%error, "cannot start the {what}'s runtime; it does not run");
            None
        }
    }
}

/// Waits as `wake` says; returns whether the thread should stop (asked to, or the store's or
/// the handle's channel closed).
pub(super) fn wait(
    runtime: &Runtime,
    stop: &mut watch::Receiver<bool>,
    heads: &mut watch::Receiver<u64>,
    wake: Wake,
) -> bool {
    let (pause, on_head) = match wake {
        Wake::TickOrEvent(pause) => (pause, true),
        Wake::After(pause) => (pause, false),
    };
    runtime.block_on(async {
        tokio::select! {
            changed = stop.changed() => changed.is_err() || *stop.borrow(),
            changed = heads.changed(), if on_head => changed.is_err(),
            () = tokio::time::sleep(pause) => false,
        }
    })
}

/// The projection thread: catches up now and after every new durable head until stopped.
fn follow(config: SiteConfig, dir: PathBuf, store: Arc<dyn Store>, mut stop: watch::Receiver<bool>) {
    let Some(runtime) = runtime("site projection") else {
        return;
    };
    crate::git::lower_priority();
    let mut heads = store.subscribe();
    let mut projection: Option<SiteProjection> = None;
    let mut backoff = Duration::from_millis(100);
    loop {
        if *stop.borrow() {
            return;
        }
        heads.borrow_and_update();
        let result = match projection.as_mut() {
            Some(projection) => projection.catch_up(store.as_ref()),
            None => SiteProjection::open(config.clone(), dir.clone()).and_then(|mut opened| {
                opened.stop_on(stop.clone());
                let done = opened.catch_up(store.as_ref());
                projection = Some(opened);
                done
            }),
        };
        let wake = match result {
            Ok(done) => {
                if done.events > 0 {
                    tracing::debug!(
                        seq = done.seq,
                        events = done.events,
                        written = done.written,
                        "site caught up"
                    );
                }
                backoff = Duration::from_millis(100);
                Wake::TickOrEvent(IDLE_CHECK)
            }
            Err(SiteError::Stopped) => return,
            Err(error) => {
                tracing::warn!(%error, dir = %dir.display(), "site projection failed; retrying");
                backoff = (backoff * 2).min(MAX_BACKOFF);
                Wake::After(backoff)
            }
        };
        if wait(&runtime, &mut stop, &mut heads, wake) {
            return;
        }
        let mut no_heads = store.subscribe();
        no_heads.borrow_and_update();
        if wait(&runtime, &mut stop, &mut no_heads, Wake::After(COALESCE)) {
            return;
        }
    }
}
