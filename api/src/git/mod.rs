//! Wiring of the git projection (`quire_storage::git`) into the server: the thread that keeps
//! `<data>/content.git` in step with the log ([`follower`]), the mirrors that push it elsewhere
//! ([`mirror`]), what they report ([`status`]), the `[git]` settings ([`config`]) and the
//! `quire verify` / `quire rebuild git` commands ([`cli`]).
//!
//! Acknowledgements never wait for git: a write is answered once the log has it, and the
//! threads here follow. On start the projection applies what it missed (git's position is in
//! `main`'s trailers, so a crash at any point is repaired by the next catch-up).

pub(crate) mod cli;
pub mod config;
mod follower;
mod mirror;
pub(crate) mod status;

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use quire_storage::{GitSettings, Store};
use tokio::sync::watch;

pub use config::{GitConfig, RemoteConfig};
pub(crate) use status::GitStatus;

use crate::config::Config;

/// How long stopping waits for the threads before leaving them to the process exit (safe: git
/// is repaired on the next start).
const STOP_GRACE: Duration = Duration::from_secs(10);
/// Nice value of the git threads (and the `git push` they start): the lowest priority, so git
/// takes only CPU time the API leaves over and catches up when writing pauses. With 8
/// `quire-bench` clients on the 2-core machine (debug build): 917 publishes/s with the git thread
/// at the default priority, 2,821/s at 19, 2,770/s with git off. (Its loose-object writes still
/// share the disk with the log's flushes; nice does not cover I/O.)
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
const BACKGROUND_NICE: i32 = 19;

/// The repository: `<data>/content.git`.
pub fn repo_dir(config: &Config) -> PathBuf {
    config.data_dir.join("content.git")
}

/// What the projection writes, from `[git]` with `[site.settings]` for title and base URL.
pub fn settings(config: &Config) -> GitSettings {
    let git = &config.git;
    GitSettings {
        site_title: git
            .site_title
            .clone()
            .unwrap_or_else(|| config.site.settings.title.clone()),
        base_url: git
            .base_url
            .clone()
            .unwrap_or_else(|| config.site.settings.base_url.clone()),
        author_email_domain: git.author_email_domain.clone(),
        author_email: git.author_email.clone(),
        committer_name: git.committer_name.clone(),
        committer_email: git.committer_email.clone(),
    }
}

/// The running git threads. Dropping it stops them: a catch-up in progress finishes its
/// page-by-page work, a running push is killed, then they are joined.
#[derive(Debug)]
pub struct GitTasks {
    stop: watch::Sender<bool>,
    threads: Vec<JoinHandle<()>>,
}

impl GitTasks {
    /// Starts the projection and one mirror thread per remote, unless `git.enabled` is off.
    /// They report into `status` (the one in `AppState`).
    pub fn start(config: &Config, store: Arc<dyn Store>, status: Arc<GitStatus>) -> anyhow::Result<Self> {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Self {
            stop,
            threads: Vec::new(),
        };
        if !config.git.enabled {
            return Ok(tasks);
        }
        let (positions, positions_rx) = watch::channel(0);
        let follower = follower::Follower {
            path: repo_dir(config),
            settings: settings(config),
            store,
            status: status.clone(),
            positions,
        };
        let follower_stop = stopped.clone();
        tasks.spawn("quire-git", move || follower.run(follower_stop))?;
        for (index, remote) in config.git.remotes.iter().enumerate() {
            let mirror = mirror::Mirror {
                index,
                repo: repo_dir(config),
                remote: remote.clone(),
                retry_initial: Duration::from_secs(config.git.push_retry_initial_secs),
                retry_max: Duration::from_secs(config.git.push_retry_max_secs),
                timeout: Duration::from_secs(config.git.push_timeout_secs),
                status: status.clone(),
            };
            let (positions, stop) = (positions_rx.clone(), stopped.clone());
            tasks.spawn(&format!("quire-mirror-{index}"), move || mirror.run(positions, stop))?;
        }
        Ok(tasks)
    }

    fn spawn(&mut self, name: &str, work: impl FnOnce() + Send + 'static) -> anyhow::Result<()> {
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                lower_priority();
                work();
            })
            .with_context(|| format!("starting the {name} thread"))?;
        self.threads.push(thread);
        Ok(())
    }
}

/// Gives the calling thread the lowest CPU priority; on Linux, nice values are per thread (and
/// threads it starts inherit them). Projections use it so that acknowledgements come first.
pub(crate) fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(error) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), BACKGROUND_NICE) {
        tracing::debug!(%error, "could not lower the priority of a projection thread");
    }
}

impl Drop for GitTasks {
    fn drop(&mut self) {
        // Fails only if every receiver is gone, i.e. the threads already ended.
        let _ = self.stop.send(true);
        let deadline = Instant::now() + STOP_GRACE;
        while self.threads.iter().any(|t| !t.is_finished()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        for thread in self.threads.drain(..) {
            if !thread.is_finished() {
                tracing::warn!(
                    thread = thread.thread().name().unwrap_or("git"),
                    "a git thread is still busy; leaving it to the process exit"
                );
            } else if thread.join().is_err() {
                tracing::error!("a git thread panicked");
            }
        }
    }
}
