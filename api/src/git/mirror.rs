//! Mirrors: after new commits, push `main` to each `[[git.remotes]]` URL, a backup off the
//! device. gix cannot push, so this runs `git push --porcelain <url> main:main +refs/notes/*:refs/notes/*`.
//!
//! Each remote has a thread of its own, so a slow or unreachable remote delays neither the
//! others nor publishing: a write is acknowledged once the log has it, and git and its mirrors
//! follow. A failed push is retried with exponential backoff (`git.push_retry_initial_secs`
//! doubling up to `git.push_retry_max_secs`), logged, and shown in `/api/v1/status`; a push
//! running longer than `git.push_timeout_secs` is killed. git never prompts: authentication must
//! work unattended (SSH keys, a credential helper).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use tokio::runtime::Handle;
use tokio::sync::watch;

use super::config::{redact_url, RemoteConfig};
use super::status::GitStatus;

/// How often a running push is checked for completion, timeout and stop.
const POLL: Duration = Duration::from_millis(50);
/// Longest error text kept from `git push`.
const MAX_ERROR_CHARS: usize = 1000;

/// One remote's pusher.
pub(super) struct Mirror {
    /// Position of this remote in `git.remotes` (and in the status).
    pub index: usize,
    /// The bare repository to push from.
    pub repo: PathBuf,
    pub remote: RemoteConfig,
    pub retry_initial: Duration,
    pub retry_max: Duration,
    pub timeout: Duration,
    pub status: Arc<GitStatus>,
}

/// Why a push did not succeed.
enum PushError {
    /// The server is stopping; the push was abandoned.
    Stopped,
    /// What git said (credentials removed).
    Failed(String),
}

impl Mirror {
    /// Pushes whenever `positions` (git's position after a catch-up) moves past what was last
    /// pushed, until `stop` becomes `true`.
    /// Waits on `waits`, the runtime the projection runners share.
    pub(super) fn run(self, waits: Handle, mut positions: watch::Receiver<u64>, mut stop: watch::Receiver<bool>) {
        let (mut pushed, mut failures, mut due) = (None, 0u32, Instant::now());
        let mut follower_alive = true;
        loop {
            if *stop.borrow() {
                return;
            }
            let target = *positions.borrow_and_update();
            let pending = target > 0 && pushed != Some(target);
            let mut wait = None;
            if pending && Instant::now() >= due {
                match self.push(&stop) {
                    Ok(()) => {
                        self.succeeded(target, failures);
                        (pushed, failures) = (Some(target), 0);
                    }
                    Err(PushError::Stopped) => return,
                    Err(PushError::Failed(error)) => {
                        failures = failures.saturating_add(1);
                        let backoff = backoff(self.retry_initial, self.retry_max, failures);
                        self.failed(&error, failures, backoff);
                        due = Instant::now() + backoff;
                        wait = Some(backoff);
                    }
                }
            } else if pending {
                wait = Some(due.saturating_duration_since(Instant::now()));
            }
            if !follower_alive && wait.is_none() {
                return;
            }
            let (stopped, alive) = waits.block_on(async {
                tokio::select! {
                    changed = stop.changed() => (changed.is_err() || *stop.borrow(), true),
                    changed = positions.changed(), if follower_alive => (false, changed.is_ok()),
                    () = tokio::time::sleep(wait.unwrap_or(Duration::MAX)), if wait.is_some() => (false, true),
                }
            });
            follower_alive &= alive;
            if stopped {
                return;
            }
        }
    }

    fn name(&self) -> String {
        self.remote.display_name()
    }

    fn succeeded(&self, target: u64, failures_before: u32) {
        if failures_before > 0 {
            tracing::info!(remote = %self.name(), position = target, "mirror push succeeded again");
        } else {
            tracing::debug!(remote = %self.name(), position = target, "mirror pushed");
        }
        self.status.update_mirror(self.index, |m| {
            m.pushed_seq = Some(target);
            m.failures = 0;
            m.last_error = None;
            m.last_success_at = Some(OffsetDateTime::now_utc());
            m.next_retry_at = None;
        });
    }

    fn failed(&self, error: &str, failures: u32, backoff: Duration) {
        tracing::warn!(
            remote = %self.name(),
            failures,
            retry_in_secs = backoff.as_secs(),
            error,
            "mirror push failed"
        );
        self.status.update_mirror(self.index, |m| {
            m.failures = failures;
            m.last_error = Some(error.to_owned());
            m.next_retry_at = Some(OffsetDateTime::now_utc() + backoff);
        });
    }

    /// Runs one `git push`, waiting for it off the executor (this is the mirror's own thread).
    fn push(&self, stop: &watch::Receiver<bool>) -> Result<(), PushError> {
        self.status.update_mirror(self.index, |m| {
            m.last_attempt_at = Some(OffsetDateTime::now_utc());
        });
        let mut command = Command::new("git");
        command
            .arg("--git-dir")
            .arg(&self.repo)
            .args(["push", "--porcelain"])
            .arg(&self.remote.url)
            .arg("refs/heads/main:refs/heads/main")
            // The notes say which events adopted pushed commits carry (`restore --from-git`
            // needs them); they are a projection too, so a rebuilt chain replaces the old one.
            .arg("+refs/notes/*:refs/notes/*")
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if std::env::var_os("GIT_SSH_COMMAND").is_none() && std::env::var_os("GIT_SSH").is_none() {
            command.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
        }
        let mut child = command
            .spawn()
            .map_err(|e| PushError::Failed(format!("running git failed (is git installed?): {e}")))?;
        let started = Instant::now();
        // `--porcelain` output is a few lines, far below a pipe's buffer: polling cannot deadlock.
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if *stop.borrow() => {
                    kill(&mut child);
                    return Err(PushError::Stopped);
                }
                Ok(None) if started.elapsed() > self.timeout => {
                    kill(&mut child);
                    return Err(PushError::Failed(format!(
                        "git push did not finish within {} s",
                        self.timeout.as_secs()
                    )));
                }
                Ok(None) => std::thread::sleep(POLL),
                Err(e) => return Err(PushError::Failed(format!("waiting for git push failed: {e}"))),
            }
        };
        if status.success() {
            return Ok(());
        }
        let (stdout, stderr) = (read_all(child.stdout.take()), read_all(child.stderr.take()));
        Err(PushError::Failed(self.explain(status, &stdout, &stderr)))
    }

    /// git's own words: rejected refs (porcelain lines starting with `!`) and its stderr, with
    /// the URL's credentials removed.
    fn explain(&self, status: std::process::ExitStatus, stdout: &str, stderr: &str) -> String {
        let rejected = stdout.lines().filter(|l| l.starts_with('!'));
        let text = rejected
            .chain(stderr.lines())
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        let text = if text.is_empty() {
            format!("git push failed ({status})")
        } else {
            text
        };
        let text = text.replace(&self.remote.url, &redact_url(&self.remote.url));
        match text.char_indices().nth(MAX_ERROR_CHARS) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text,
        }
    }
}

/// The pause after the `failures`-th failure in a row: `initial · 2^(failures-1)`, at most `max`.
fn backoff(initial: Duration, max: Duration, failures: u32) -> Duration {
    let factor = 1u32.checked_shl(failures.saturating_sub(1)).unwrap_or(u32::MAX);
    initial.saturating_mul(factor).min(max)
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn read_all(pipe: Option<impl std::io::Read>) -> String {
    let mut text = String::new();
    if let Some(mut pipe) = pipe {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let (initial, max) = (Duration::from_secs(2), Duration::from_secs(300));
        let pauses: Vec<u64> = (1..=10).map(|n| backoff(initial, max, n).as_secs()).collect();
        assert_eq!(pauses, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(backoff(initial, max, u32::MAX), max);
    }
}
