//! The background work of a running server, started and stopped together: the projections of
//! the log on the one runner ([`quire_storage::runner`]: git, the site, webhooks), the git
//! mirrors, the scheduler and the webhook senders. They all wait on one small runtime (one
//! thread) instead of a runtime each; the senders' HTTP runs on it too.
//!
//! Acknowledgements never wait for them: a write is answered once the log has it, and the
//! projections follow at the lowest CPU priority. Dropping [`Projections`] stops them: each
//! finishes the page it is writing (a projection's checkpoint is written with its output), a
//! running push is killed, then the threads are joined — or, past a grace period, left to the
//! process exit, which is safe since every projection resumes from its checkpoint.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use quire_storage::runner::{Report, Runner, RunnerSettings};
use quire_storage::Store;
use tokio::runtime::{Handle, Runtime};
use tokio::sync::watch;

use crate::config::Config;
use crate::state::AppState;

/// How long stopping waits for the threads.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// While writes keep coming, the site waits this long after a catch-up so that a burst is
/// rendered in a few batches instead of a page set per event. An idle log is rendered at once.
const SITE_COALESCE: Duration = Duration::from_millis(250);

/// The running background threads.
pub struct Projections {
    stop: watch::Sender<bool>,
    threads: Vec<JoinHandle<()>>,
    waits: Option<Runtime>,
}

impl std::fmt::Debug for Projections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Projections")
            .field("threads", &self.threads.len())
            .finish_non_exhaustive()
    }
}

impl Projections {
    /// Starts the scheduler, the site projection (`site.enabled`) and the git projection with
    /// its mirrors (`git.enabled`).
    pub fn start(config: &Config, state: &AppState) -> anyhow::Result<Self> {
        let waits = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(1)
            .thread_name("quire-waits")
            .enable_all()
            .build()
            .context("starting the runtime the background threads wait on")?;
        let (stop, _) = watch::channel(false);
        let mut this = Self {
            stop,
            threads: Vec::new(),
            waits: Some(waits),
        };
        let (posts, waits, stop) = (state.posts.clone(), this.waits(), this.stopped());
        let retention = time::Duration::hours(i64::try_from(config.api.idempotency_retention_hours).unwrap_or(168));
        let purge = crate::scheduler::Purge::new(retention);
        let (store, site, git) = (state.store.clone(), state.site.clone(), state.git.clone());
        let settle = crate::memory::Settle::new(move || {
            let position = |p: Option<u64>| p.unwrap_or(0);
            store.head() + position(site.position()) + position(git.position())
        });
        this.spawn("quire-scheduler", false, move || {
            crate::scheduler::run(posts, purge, settle, waits, stop)
        })?;
        if config.site.enabled {
            let settings = RunnerSettings {
                coalesce: SITE_COALESCE,
                ..RunnerSettings::new("site")
            };
            let runner = this.runner(settings, state.store.clone(), state.site.clone());
            let (site, dir, stop) = (
                config.site.settings.clone(),
                crate::site::site_dir(config),
                this.stopped(),
            );
            let media = config.data_dir.join("media");
            let cache = state.site_cache.clone();
            this.spawn("quire-site", true, move || {
                runner.run(|| {
                    let mut projection = crate::site::SiteProjection::open(site.clone(), dir.clone())?;
                    projection.stop_on(stop.clone());
                    projection.cache_into(cache.clone());
                    projection.images_from(quire_storage::MediaBlobs::new(media.clone()));
                    Ok(projection)
                })
            })?;
        }
        crate::git::start(&mut this, config, state.store.clone(), state.git.clone())?;
        if config.git.enabled {
            crate::git::forge::start_periodic(&mut this, &state.forges)?;
        }
        crate::webhooks::start(&mut this, state)?;
        crate::publish::start(&mut this, config, state.store.clone(), state.publish.clone())?;
        if config.datasets.fetch_enabled {
            let fetcher = crate::datasets::fetch::Fetcher {
                datasets: state.datasets.clone(),
                status: state.dataset_fetches.clone(),
                clock: config.clock(),
                timeout: std::time::Duration::from_secs(config.datasets.fetch_timeout_secs),
                max_bytes: config.datasets.max_bytes,
                allow_private: config.webhooks.allow_private_addresses,
                ca_file: config.datasets.ca_file.clone(),
            };
            this.waits().spawn(crate::datasets::fetch::run(fetcher, this.stopped()));
        }
        Ok(this)
    }

    /// A runner for one more projection, reporting to `report`.
    pub(crate) fn runner(&self, settings: RunnerSettings, store: Arc<dyn Store>, report: Arc<dyn Report>) -> Runner {
        Runner {
            settings,
            store,
            report,
            stop: self.stopped(),
            waits: self.waits(),
        }
    }

    /// The handle of the runtime every background thread waits on.
    pub(crate) fn waits(&self) -> Handle {
        match &self.waits {
            Some(runtime) => runtime.handle().clone(),
            None => Handle::current(),
        }
    }

    /// A receiver that turns `true` when the threads are asked to stop.
    pub(crate) fn stopped(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// Runs `work` on a thread named `name`; `background` ones get the lowest CPU priority.
    pub(crate) fn spawn(
        &mut self,
        name: &str,
        background: bool,
        work: impl FnOnce() + Send + 'static,
    ) -> anyhow::Result<()> {
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                if background {
                    crate::git::lower_priority();
                }
                work();
            })
            .with_context(|| format!("starting the {name} thread"))?;
        self.threads.push(thread);
        Ok(())
    }
}

impl Drop for Projections {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        let deadline = Instant::now() + STOP_GRACE;
        while self.threads.iter().any(|t| !t.is_finished()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        for thread in self.threads.drain(..) {
            let name = thread.thread().name().unwrap_or("background").to_owned();
            if !thread.is_finished() {
                tracing::warn!(
                    thread = name,
                    "a background thread is still busy; leaving it to the process exit"
                );
            } else if thread.join().is_err() {
                tracing::error!(thread = name, "a background thread panicked");
            }
        }
        if let Some(runtime) = self.waits.take() {
            runtime.shutdown_background();
        }
    }
}
