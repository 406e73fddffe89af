//! Helpers for the git projection's tests: the `git` and `quire` commands, and waiting until
//! git has caught up with the log.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use quire_openapi::StatusResponse;

use crate::{quire_bin, Client};

/// Runs `git` in `dir` (or the current folder), asserting success; returns its stdout.
pub fn git(dir: Option<&Path>, args: &[&str]) -> String {
    let mut command = Command::new("git");
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let out = command
        .args(["-c", "user.name=Tester", "-c", "user.email=tester@example.invalid"])
        .args(args)
        .env("FILTER_BRANCH_SQUELCH_WARNING", "1")
        .output()
        .expect("run git (is it installed?)");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// `git --git-dir <repo> fsck <args>`, asserting success, once no background roll-up of small
/// packs runs, and holding the next one off until it is done: fsck reads every pack it listed,
/// and a roll-up deletes the packs it combined.
pub fn fsck(repo: &Path, args: &[&str]) -> String {
    let _packing = quire_storage::git::hold_packing(repo).expect("wait for git packing");
    let repo = repo.to_string_lossy();
    git(None, &[&["--git-dir", repo.as_ref(), "fsck"], args].concat())
}

/// `git --git-dir <repo> rev-parse main`.
pub fn main_sha(repo: &Path) -> String {
    git(None, &["--git-dir", &repo.to_string_lossy(), "rev-parse", "main"])
        .trim()
        .to_owned()
}

/// The commits of `main`, oldest first.
pub fn main_commits(repo: &Path) -> Vec<String> {
    git(
        None,
        &["--git-dir", &repo.to_string_lossy(), "rev-list", "--reverse", "main"],
    )
    .lines()
    .map(str::to_owned)
    .collect()
}

/// The `Event-Seq` trailers of `main`'s commits, oldest first.
pub fn event_seqs(repo: &Path) -> Vec<u64> {
    let log = git(
        None,
        &[
            "--git-dir",
            &repo.to_string_lossy(),
            "log",
            "--reverse",
            "--format=%(trailers:key=Event-Seq,valueonly)",
            "main",
        ],
    );
    log.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().parse().expect("Event-Seq is a number"))
        .collect()
}

/// Runs `quire <args> --data-dir <data>` and returns what it did (no assertion).
pub fn quire(data: &Path, args: &[&str]) -> Output {
    Command::new(quire_bin())
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("QUIRE_LOG", "warn")
        .output()
        .expect("run quire")
}

/// Polls `GET /api/v1/status` until `done` holds (at most `timeout`); returns that status.
pub async fn wait_for_status(
    client: &Client,
    timeout: Duration,
    done: impl Fn(&StatusResponse) -> bool,
) -> StatusResponse {
    let deadline = Instant::now() + timeout;
    loop {
        let response = client.get("/api/v1/status").await;
        assert_eq!(response.status(), 200, "GET /api/v1/status");
        let status: StatusResponse = response.json().await.expect("status json");
        if done(&status) {
            return status;
        }
        assert!(Instant::now() < deadline, "gave up waiting; last status: {status:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until git has every event of the log (lag 0) and its catch-up has finished (the
/// position moves during a catch-up; the last error is cleared at its end).
pub async fn wait_for_git(client: &Client) -> StatusResponse {
    wait_for_status(client, Duration::from_secs(120), |s| {
        s.git.lag == Some(0) && s.git.last_error.is_none()
    })
    .await
}
