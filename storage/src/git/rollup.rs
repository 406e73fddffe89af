//! Running `git repack` beside the projection: at most one at a time per repository, in a child
//! process the projection does not wait for, so a commit is never held up by a roll-up.
//!
//! Why a roll-up may run while the projection writes and moves `main` (checked against git
//! 2.47's `builtin/repack.c` and `packfile.c`):
//!
//! - `repack --geometric` lists the packs once, at its start, through their `.idx` files, and
//!   hands exactly those to `pack-objects --stdin-packs` (plus loose objects). A pack the
//!   projection writes meanwhile is not in the list, and the projection's `.idx` is renamed into
//!   place last ([`super::packfile`]), so a half-written pack is never listed either.
//! - With `-d` it deletes only the packs it rolled up (`geometry_remove_redundant_packs`), after
//!   the new pack is renamed into place, each `.idx` before its `.pack`; `prune-packed` deletes
//!   only loose objects that are in a pack. Which objects go in does not depend on refs, so
//!   `main` moving changes nothing.
//! - Readers that had a deleted pack open keep reading it (mmap); gix and git look again on a
//!   miss and find the objects in the new pack.
//!
//! **One at a time, across processes.** A roll-up holds an advisory lock (`flock`) on
//! [`LOCK_FILE`] in the repository, and the lock file is the child's standard input: the lock
//! lives exactly as long as `git repack`, even if Quire is killed first and the child goes on
//! alone. A roll-up that finds the lock taken is skipped (the next commit tries again);
//! [`hold_packing`] waits for it and holds the next one off, for `git fsck` in tests and for
//! `verify`.
//!
//! **Stopping.** Dropping a [`RollUp`] ends a running `git` (its whole process group, with
//! SIGTERM, then SIGKILL after [`STOP_GRACE`]): shutdown never waits for a roll-up. git renames
//! a finished pack into place before it deletes the packs it replaces, so an interrupted roll-up
//! leaves at worst temporary files and duplicate objects, never a missing one; the temporary
//! files are removed on a later start ([`remove_leftovers`]).

use std::fs::File;
use std::io::Read as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime};

use rustix::fs::FlockOperation;

/// The file whose lock a running `git repack` holds, in the repository folder.
pub const LOCK_FILE: &str = "quire-packing.lock";
/// How long a stopped roll-up gets to end on SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(2);
/// Temporary pack files older than this are left over from an interrupted `git` and removed.
const LEFTOVER_AGE: Duration = Duration::from_secs(3600);

/// Holds off roll-ups of a repository while alive (see [`hold_packing`]).
#[derive(Debug)]
pub struct PackingGuard {
    _lock: File,
}

/// Waits until no roll-up of the repository at `git_dir` runs, and keeps another from starting
/// until the guard is dropped: what `git fsck` needs (it reads every pack it listed).
pub fn hold_packing(git_dir: &Path) -> std::io::Result<PackingGuard> {
    let lock = open_lock(git_dir)?;
    rustix::fs::flock(&lock, FlockOperation::LockExclusive)?;
    Ok(PackingGuard { _lock: lock })
}

/// Takes the lock on `lock` if no one holds it; `false` if someone does (or it failed).
fn try_lock(lock: &File) -> bool {
    rustix::fs::flock(lock, FlockOperation::NonBlockingLockExclusive).is_ok()
}

fn open_lock(git_dir: &Path) -> std::io::Result<File> {
    File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(git_dir.join(LOCK_FILE))
}

/// The roll-up of one repository, if one runs.
#[derive(Debug)]
pub(crate) struct RollUp {
    git_dir: PathBuf,
    running: Option<Running>,
}

#[derive(Debug)]
struct Running {
    child: Child,
    what: &'static str,
    started: Instant,
}

impl RollUp {
    pub(crate) fn new(git_dir: &Path) -> Self {
        Self {
            git_dir: git_dir.to_owned(),
            running: None,
        }
    }

    /// Whether a roll-up started here is still running; logs the end of a finished one.
    pub(crate) fn running(&mut self) -> bool {
        let Some(run) = self.running.as_mut() else {
            return false;
        };
        match run.child.try_wait() {
            Ok(None) => true,
            Ok(Some(status)) => {
                self.finished(status);
                false
            }
            Err(error) => {
                tracing::warn!(%error, "could not check on git packing");
                false
            }
        }
    }

    /// Starts `git <args>` in the background unless a roll-up runs (here or in another
    /// process); returns whether it started.
    pub(crate) fn start(&mut self, what: &'static str, args: &[&str]) -> bool {
        if self.running() {
            return false;
        }
        let lock = match open_lock(&self.git_dir) {
            Ok(lock) => lock,
            Err(error) => {
                tracing::warn!(what, %error, "could not open the packing lock");
                return false;
            }
        };
        if !try_lock(&lock) {
            tracing::debug!(what, "another git packing runs; skipped");
            return false;
        }
        let spawned = self
            .command(args)
            // The lock goes with the child: held until git exits, whatever happens to Quire.
            .stdin(Stdio::from(lock))
            .stderr(Stdio::piped())
            // Its own process group, so that stopping ends `pack-objects` too, and a Ctrl-C
            // meant for Quire reaches Quire first.
            .process_group(0)
            .spawn();
        match spawned {
            Ok(child) => {
                tracing::debug!(what, pid = child.id(), "git packing started");
                self.running = Some(Running {
                    child,
                    what,
                    started: Instant::now(),
                });
                true
            }
            Err(error) => {
                tracing::warn!(what, %error, "could not run git to pack");
                false
            }
        }
    }

    /// Runs `git <args>` now and waits for it, after any roll-up (one-off work: packing old
    /// loose objects, or settling a rebuilt repository). Returns whether it succeeded.
    pub(crate) fn run_now(&mut self, what: &'static str, args: &[&str]) -> bool {
        self.wait();
        let _guard = match hold_packing(&self.git_dir) {
            Ok(guard) => guard,
            Err(error) => {
                tracing::warn!(what, %error, "could not take the packing lock");
                return false;
            }
        };
        let started = Instant::now();
        match self.command(args).stdin(Stdio::null()).output() {
            Ok(output) => report(what, started, output.status, &output.stderr),
            Err(error) => {
                tracing::warn!(what, %error, "could not run git to pack");
                false
            }
        }
    }

    /// Waits for a roll-up started here to finish.
    pub(crate) fn wait(&mut self) {
        if let Some(run) = self.running.as_mut() {
            match run.child.wait() {
                Ok(status) => self.finished(status),
                Err(error) => tracing::warn!(%error, "could not wait for git packing"),
            }
        }
        self.running = None;
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("git");
        // One core for pack-objects' delta search: the other stays with the server.
        command
            .args(["-c", "pack.threads=1", "--git-dir"])
            .arg(&self.git_dir)
            .args(args)
            .stdout(Stdio::null());
        command
    }

    fn finished(&mut self, status: ExitStatus) {
        if let Some(mut run) = self.running.take() {
            let mut stderr = Vec::new();
            if let Some(mut pipe) = run.child.stderr.take() {
                let _ = pipe.read_to_end(&mut stderr);
            }
            report(run.what, run.started, status, &stderr);
        }
    }
}

fn report(what: &str, started: Instant, status: ExitStatus, stderr: &[u8]) -> bool {
    let ms = started.elapsed().as_millis() as u64;
    if status.success() {
        tracing::debug!(what, ms, "git packing done");
        return true;
    }
    let stderr = String::from_utf8_lossy(stderr);
    tracing::warn!(what, %status, ms, stderr = %stderr.trim(), "git packing failed");
    false
}

impl Drop for RollUp {
    fn drop(&mut self) {
        let Some(mut run) = self.running.take() else {
            return;
        };
        if let Ok(Some(_)) = run.child.try_wait() {
            return;
        }
        let group = i32::try_from(run.child.id())
            .ok()
            .and_then(rustix::process::Pid::from_raw);
        if let Some(group) = group {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::TERM);
        }
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            match run.child.try_wait() {
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                _ => return,
            }
        }
        if let Some(group) = group {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        let _ = run.child.wait();
        tracing::info!(what = run.what, "stopped git packing");
    }
}

/// Removes what an interrupted `git repack` (or a crash of the projection between a pack and
/// its index) left in `objects/pack`, older than [`LEFTOVER_AGE`] and only while no roll-up runs:
/// temporary files (`tmp_*`), and the `.pack`/`.rev`/`.bitmap` of a pack without an `.idx`, which
/// no reader sees. A pack with an index is never removed, whatever its name: git reads any
/// `*.idx` in the folder as a pack (`prepare_pack` in `packfile.c`), `.tmp-*` ones too.
pub(crate) fn remove_leftovers(git_dir: &Path) {
    let Ok(lock) = open_lock(git_dir) else {
        return;
    };
    if !try_lock(&lock) {
        return;
    }
    let dir = git_dir.join("objects").join("pack");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|at| SystemTime::now().duration_since(at).ok())
            .is_some_and(|age| age > LEFTOVER_AGE);
        if old && is_leftover(&dir, &name) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => tracing::info!(file = %name, "removed a leftover pack file"),
                Err(error) => tracing::warn!(file = %name, %error, "could not remove a leftover pack file"),
            }
        }
    }
}

fn is_leftover(dir: &Path, name: &str) -> bool {
    if name.starts_with("tmp_") {
        return true;
    }
    [".pack", ".rev", ".bitmap"].iter().any(|ext| {
        name.strip_suffix(ext)
            .is_some_and(|base| !dir.join(format!("{base}.idx")).exists())
    })
}
