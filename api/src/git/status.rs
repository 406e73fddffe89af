//! What the git threads report and the API shows: git's position, the projection's last error
//! and the state of each mirror. Written by the threads, read by `/api/v1/status` and `/readyz`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use quire_openapi::{GitStatus as GitStatusResponse, MirrorStatus, PullStatus};
use time::OffsetDateTime;

use super::config::{redact_url, GitConfig};

/// `position` before the projection has read it from the repository.
const UNKNOWN: u64 = u64::MAX;

/// Shared between the git threads and the handlers (in `AppState`).
#[derive(Debug)]
pub struct GitStatus {
    enabled: bool,
    max_lag: u64,
    position: AtomicU64,
    last_error: Mutex<Option<String>>,
    mirrors: Vec<Mutex<MirrorState>>,
}

/// One remote's push state.
#[derive(Debug, Clone, PartialEq)]
pub struct MirrorState {
    pub name: String,
    /// Without credentials.
    pub url: String,
    pub pushed_seq: Option<u64>,
    pub failures: u32,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<OffsetDateTime>,
    pub last_success_at: Option<OffsetDateTime>,
    pub next_retry_at: Option<OffsetDateTime>,
    /// How pulling from it goes (`pull = true`), written by [`super::forge`].
    pub pull: Option<PullStatus>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The data is plain status; a panic elsewhere cannot leave it half-updated in a harmful way.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl GitStatus {
    /// Nothing known yet; one mirror entry per remote of `config`.
    pub fn new(config: &GitConfig) -> Self {
        let mirrors = config
            .remotes
            .iter()
            .map(|remote| {
                Mutex::new(MirrorState {
                    name: remote.display_name(),
                    url: redact_url(&remote.url),
                    pushed_seq: None,
                    failures: 0,
                    last_error: None,
                    last_attempt_at: None,
                    last_success_at: None,
                    next_retry_at: None,
                    pull: remote.pull.then(|| PullStatus {
                        branch: remote.pull_branch().to_owned(),
                        ok: None,
                        last_pull_at: None,
                        last_error: None,
                        diverged: false,
                        conflicts: Vec::new(),
                        problems: Vec::new(),
                        commit: None,
                        imported_events: 0,
                    }),
                })
            })
            .collect();
        Self {
            enabled: config.enabled,
            max_lag: config.max_lag,
            position: AtomicU64::new(UNKNOWN),
            last_error: Mutex::new(None),
            mirrors,
        }
    }

    /// Whether the projection runs.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// git's position, once the projection has read it.
    pub fn position(&self) -> Option<u64> {
        Some(self.position.load(Ordering::Acquire)).filter(|p| *p != UNKNOWN)
    }

    pub(super) fn set_position(&self, seq: u64) {
        self.position.store(seq, Ordering::Release);
    }

    pub(super) fn set_error(&self, error: Option<String>) {
        *lock(&self.last_error) = error;
    }

    /// Events in the log (up to `head`) that git does not have yet; an unknown position counts
    /// as nothing applied. `None` when the projection is off.
    pub fn lag(&self, head: u64) -> Option<u64> {
        self.enabled.then(|| head.saturating_sub(self.position().unwrap_or(0)))
    }

    /// Whether git is too far behind for `/readyz`: `Some(lag)` if so.
    pub fn too_far_behind(&self, head: u64) -> Option<u64> {
        self.lag(head).filter(|lag| *lag > self.max_lag)
    }

    /// Changes mirror `index`'s state.
    pub(super) fn update_mirror(&self, index: usize, change: impl FnOnce(&mut MirrorState)) {
        if let Some(mirror) = self.mirrors.get(index) {
            change(&mut lock(mirror));
        }
    }

    /// A copy of mirror `index`'s state.
    pub fn mirror(&self, index: usize) -> Option<MirrorState> {
        self.mirrors.get(index).map(|m| lock(m).clone())
    }

    /// The API's view, with the lag against `head`.
    pub fn snapshot(&self, head: u64) -> GitStatusResponse {
        let position = self.position().filter(|_| self.enabled);
        GitStatusResponse {
            enabled: self.enabled,
            position,
            lag: position.map(|p| head.saturating_sub(p)),
            max_lag: self.max_lag,
            last_error: lock(&self.last_error).clone(),
            mirrors: self
                .mirrors
                .iter()
                .map(|m| {
                    let m = lock(m).clone();
                    MirrorStatus {
                        name: m.name,
                        url: m.url,
                        pushed_seq: m.pushed_seq,
                        failures: m.failures,
                        last_error: m.last_error,
                        last_attempt_at: m.last_attempt_at,
                        last_success_at: m.last_success_at,
                        next_retry_at: m.next_retry_at,
                        pull: m.pull,
                    }
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_counts_an_unknown_position_as_nothing_applied() {
        let config = GitConfig {
            max_lag: 10,
            ..GitConfig::default()
        };
        let status = GitStatus::new(&config);
        assert_eq!(status.lag(25), Some(25));
        assert_eq!(status.too_far_behind(25), Some(25));
        assert_eq!(status.snapshot(25).position, None);
        status.set_position(20);
        assert_eq!(status.too_far_behind(25), None);
        assert_eq!(status.snapshot(25).lag, Some(5));
        let off = GitStatus::new(&GitConfig {
            enabled: false,
            ..config
        });
        assert_eq!((off.lag(25), off.too_far_behind(25)), (None, None));
    }
}
