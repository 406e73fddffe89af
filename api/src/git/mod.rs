//! Wiring of the git projection (`quire_storage::git`) into the server: the runner that keeps
//! `<data>/content.git` in step with the log ([`follower`]), the mirrors that push it elsewhere
//! ([`mirror`]), what they report ([`status`]), the `[git]` settings ([`config`]) and the
//! `quire verify` / `quire rebuild git` commands ([`cli`]); the ways in: `git push` ([`push`])
//! and forge webhooks and pulls ([`forge`]).
//!
//! Acknowledgements never wait for git: a write is answered once the log has it, and the
//! threads here follow. On start the projection applies what it missed (git's position is in
//! `main`'s trailers, so a crash at any point is repaired by the next catch-up).

pub(crate) mod cli;
pub mod config;
mod follower;
pub(crate) mod forge;
pub(crate) mod http;
mod mirror;
pub mod push;
pub(crate) mod status;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use quire_storage::runner::RunnerSettings;
use quire_storage::{GitProjection, GitSettings, Store};
use tokio::sync::watch;

pub use config::{GitConfig, RemoteConfig};
pub(crate) use status::GitStatus;

use crate::config::Config;
use crate::projections::Projections;

/// Nice value of the git threads (and the `git push` they start): the lowest priority, so git
/// takes only CPU time the API leaves over and catches up when writing pauses. With 8
/// `quire-bench` clients on the 2-core machine (debug build): 917 publishes/s with the git thread
/// at the default priority, 2,821/s at 19, 2,770/s with git off. (Its loose-object writes still
/// share the disk with the log's flushes; nice does not cover I/O.)
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
const BACKGROUND_NICE: i32 = 19;

/// While writes keep coming, git waits this long after a catch-up so that a burst is committed
/// in a few pages: each page is one pack (fsynced with its index), and every 16 packs start a
/// `git repack` roll-up, which without the pause took a tenth to a quarter of the server's CPU
/// in a burst of creates. Still one commit per event; an idle log is committed at once.
const GIT_COALESCE: Duration = Duration::from_millis(250);

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

/// Starts the projection (on the one runner) and one mirror thread per remote into
/// `projections`, unless `git.enabled` is off. They report into `status` (the one in
/// `AppState`).
pub(crate) fn start(
    projections: &mut Projections,
    config: &Config,
    store: Arc<dyn Store>,
    status: Arc<GitStatus>,
) -> anyhow::Result<()> {
    push::remove_leftovers(&config.data_dir);
    if !config.git.enabled {
        return Ok(());
    }
    let (positions, positions_rx) = watch::channel(0);
    let runner_settings = RunnerSettings {
        coalesce: GIT_COALESCE,
        ..RunnerSettings::new("git")
    };
    let runner = projections.runner(runner_settings, store, status.clone());
    let (path, git_settings) = (repo_dir(config), settings(config));
    let mut positions = Some(positions);
    projections.spawn("quire-git", true, move || {
        runner.run(|| {
            let projection = GitProjection::open(&path, git_settings.clone())?;
            let positions = positions.take().ok_or("the git projection was opened twice")?;
            Ok(follower::GitFollow { projection, positions })
        })
    })?;
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
        let (waits, positions, stop) = (projections.waits(), positions_rx.clone(), projections.stopped());
        projections.spawn(&format!("quire-mirror-{index}"), true, move || {
            mirror.run(waits, positions, stop)
        })?;
    }
    Ok(())
}

/// Gives the calling thread the lowest CPU priority; on Linux, nice values are per thread (and
/// threads it starts inherit them). Projections use it so that acknowledgements come first.
pub(crate) fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(error) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), BACKGROUND_NICE) {
        tracing::debug!(%error, "could not lower the priority of a projection thread");
    }
}
