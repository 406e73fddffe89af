//! Keeping `content.git` small: the objects the projection writes go into packs.
//!
//! gix writes each object as a loose, undeltified file, and every commit stores a new version of
//! its year folder's tree (about 70 bytes per post of that year). Left loose, 13k posts made
//! 79,633 files and 2.75 GB. Packed with deltas, the same trees cost a few bytes each: 10k posts
//! fit in a few MB. gix cannot compute deltas, so the `git` command (already a runtime
//! dependency for mirrors) does the packing:
//!
//! - the projection remembers the ids of the objects it wrote; once there are
//!   [`LOOSE_LIMIT`] of them, after `main` moved (never while a page is half written), they are
//!   handed to `git pack-objects` as one pack, and `git prune-packed` removes the loose copies.
//!   This costs time in proportion to the new objects only, not to the history;
//! - when there are more than [`MAX_PACKS`] packs, `git repack --geometric=2` rolls the small
//!   ones into bigger ones (amortised, like a binary counter);
//! - a repository opened with many loose objects (written before this existed, or left by a
//!   crash) is packed once with `git repack -d`.
//!
//! None of these removes an object that is not also in a pack, so a concurrent reader or a push
//! never loses one. A failure is logged and the objects simply stay loose: packing is an
//! optimisation, never a condition for the projection to go on.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use gix::ObjectId;

/// Objects written before they are packed; with one page of events on top, the most loose
/// objects there are between two packings.
pub const LOOSE_LIMIT: usize = 1_000;
/// Packs allowed before the small ones are rolled together.
const MAX_PACKS: usize = 16;
/// `pack-objects` compares each object with this many of its neighbours (sorted by type and
/// size). Successive versions of a year tree differ by one entry, so a small window finds them
/// and keeps the work small on a Pi (3: 0.8 s for 200 trees of 10k entries, vs ~1 s at 10).
const WINDOW: &str = "--window=3";

/// The packing state of one repository.
#[derive(Debug)]
pub(crate) struct Packer {
    git_dir: PathBuf,
    /// Ids of the objects written since the last packing (kept allocated across pages).
    written: Vec<ObjectId>,
    limit: usize,
}

impl Packer {
    /// A packer for the bare repository at `git_dir`.
    pub(crate) fn new(git_dir: &Path) -> Self {
        Self {
            git_dir: git_dir.to_owned(),
            written: Vec::new(),
            limit: LOOSE_LIMIT,
        }
    }

    /// Packs after `limit` objects instead of [`LOOSE_LIMIT`].
    pub(crate) fn set_limit(&mut self, limit: usize) {
        self.limit = limit.max(1);
    }

    /// Where the projection records what it writes.
    pub(crate) fn written(&mut self) -> &mut Vec<ObjectId> {
        &mut self.written
    }

    /// Called when `main` has moved: packs what was written if there is enough of it.
    pub(crate) fn after_move(&mut self) {
        if self.written.len() >= self.limit {
            self.pack_written();
        }
    }

    /// Packs every loose object once if the repository holds more than a limit's worth (an old
    /// repository, or objects a crash left before they were packed).
    pub(crate) fn pack_old_loose_objects(&mut self) {
        let loose = estimate_loose_objects(&self.git_dir);
        if loose >= self.limit {
            tracing::info!(loose, repo = %self.git_dir.display(), "packing the loose objects of the git repository");
            self.run("packing the loose objects", &["repack", "-d", "-q", WINDOW], None);
        }
    }

    fn pack_written(&mut self) {
        let mut ids = String::with_capacity(self.written.len() * 41);
        for id in &self.written {
            let _ = writeln!(ids, "{id}");
        }
        self.written.clear();
        let base = self.git_dir.join("objects").join("pack").join("pack");
        let base = base.to_string_lossy();
        let args = ["pack-objects", "-q", "--incremental", WINDOW, base.as_ref()];
        if self.run("packing new objects", &args, Some(ids.as_bytes())) {
            self.run("removing packed loose objects", &["prune-packed", "-q"], None);
        }
        if count_packs(&self.git_dir) > MAX_PACKS {
            self.run(
                "rolling up small packs",
                &["repack", "-d", "-q", "--geometric=2", WINDOW],
                None,
            );
        }
    }

    /// Runs `git --git-dir <repo> <args>` with `input` on its stdin; logs and returns `false` on
    /// any failure.
    fn run(&self, what: &str, args: &[&str], input: Option<&[u8]>) -> bool {
        let started = std::time::Instant::now();
        let result = (|| {
            let mut child = Command::new("git")
                .arg("--git-dir")
                .arg(&self.git_dir)
                .args(args)
                .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()?;
            if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
                stdin.write_all(input)?;
            }
            child.wait_with_output()
        })();
        match result {
            Ok(output) if output.status.success() => {
                tracing::debug!(what, ms = started.elapsed().as_millis() as u64, "git packing");
                true
            }
            Ok(output) => {
                let stderr = String::from_utf8_lossy(&output.stderr);
                tracing::warn!(what, status = %output.status, stderr = %stderr.trim(), "git packing failed; objects stay loose");
                false
            }
            Err(error) => {
                tracing::warn!(what, %error, "could not run git; objects stay loose");
                false
            }
        }
    }
}

/// Loose objects in the repository, estimated as git does: the files in 16 of the 256 fan-out
/// folders, times 16.
pub(crate) fn estimate_loose_objects(git_dir: &Path) -> usize {
    let objects = git_dir.join("objects");
    (0..16u8)
        .map(|i| {
            std::fs::read_dir(objects.join(format!("{i:02x}")))
                .map(|entries| entries.count())
                .unwrap_or(0)
        })
        .sum::<usize>()
        * 16
}

/// Loose objects in the repository, counted exactly (tests and reports).
pub fn count_loose_objects(git_dir: &Path) -> usize {
    (0..=255u8)
        .map(|i| {
            std::fs::read_dir(git_dir.join("objects").join(format!("{i:02x}")))
                .map(|entries| entries.count())
                .unwrap_or(0)
        })
        .sum()
}

fn count_packs(git_dir: &Path) -> usize {
    std::fs::read_dir(git_dir.join("objects").join("pack"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().ends_with(".pack"))
                .count()
        })
        .unwrap_or(0)
}
