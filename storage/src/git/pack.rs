//! Keeping `content.git` small: the objects the projection writes go into packs.
//!
//! Every commit stores a new version of its year folder's tree (about 70 bytes per post of that
//! year). Written loose and undeltified, as gix writes objects, 13k posts made 79,633 files and
//! 2.75 GB, and packing them afterwards with `git pack-objects` cost O(posts) per commit. So:
//!
//! - the objects of a page of events go straight into one pack, the trees as deltas against
//!   their previous version ([`PackWriter`]), written durably before `main` moves;
//! - when there are more than [`MAX_PACKS`] packs, `git repack --geometric=2` rolls the small
//!   ones into bigger ones (amortised, like a binary counter; the `git` command is already a
//!   runtime dependency for mirrors), in the background: the projection goes on committing
//!   while it runs ([`super::rollup`] says why that is safe);
//! - a repository opened with many loose objects (written before packs were, or by hand) is
//!   packed once with `git repack -d`.
//!
//! Neither `git` run removes an object that is not also in a pack, so a concurrent reader or a
//! push never loses one. A failed `git` run is logged and changes nothing: rolling up is an
//! optimisation, never a condition for the projection to go on.

use std::path::{Path, PathBuf};

use gix::objs::WriteTo;
use gix::ObjectId;

use super::error::Result;
use super::packfile::PackWriter;
use super::rollup::{self, RollUp};
use super::tree::{ObjectSink, RepoSink};

/// Loose objects found on opening a repository above which they are packed.
pub const LOOSE_LIMIT: usize = 1_000;
/// Packs allowed before the small ones are rolled together.
const MAX_PACKS: usize = 16;
/// Packs allowed while a roll-up runs; past that the projection waits for it (a long catch-up
/// writes packs faster than one thread of `pack-objects` combines them on a slow machine).
pub(crate) const MOST_PACKS: usize = 96;
/// `pack-objects` compares each object with this many of its neighbours (sorted by type and
/// size). Successive versions of a year tree differ by one entry, so a small window finds them
/// and keeps the work small on a Pi (3: 0.8 s for 200 trees of 10k entries, vs ~1 s at 10).
const WINDOW: &str = "--window=3";
/// The roll-up: combines the small packs (the big ones stay as they are) into one.
const ROLL_UP: &[&str] = &["repack", "-d", "-q", "--geometric=2", WINDOW];

/// The packing state of one repository.
#[derive(Debug)]
pub(crate) struct Packer {
    git_dir: PathBuf,
    writer: PackWriter,
    /// Write loose objects instead of packs (as Quire did before; tests make old repositories so).
    loose: bool,
    limit: usize,
    rollup: RollUp,
}

/// Where the objects of one page go.
pub(crate) enum PageSink<'a> {
    Loose(RepoSink<'a>),
    Pack(&'a mut PackWriter, &'a gix::Repository),
}

impl ObjectSink for PageSink<'_> {
    fn put<O: WriteTo>(&mut self, object: &O) -> Result<ObjectId> {
        match self {
            PageSink::Loose(sink) => sink.put(object),
            PageSink::Pack(writer, _) => writer.put(object),
        }
    }
    fn put_version<O: WriteTo>(&mut self, key: &[u8], object: &O) -> Result<ObjectId> {
        match self {
            PageSink::Loose(sink) => sink.put(object),
            PageSink::Pack(writer, _) => writer.put_version(key, object),
        }
    }
    fn contains(&self, id: &ObjectId) -> bool {
        match self {
            PageSink::Loose(sink) => sink.contains(id),
            PageSink::Pack(_, repo) => repo.has_object(id),
        }
    }
}

impl PageSink<'_> {
    /// Makes what the page wrote durable and visible: call before `main` moves.
    pub(crate) fn finish(self) -> Result<()> {
        match self {
            PageSink::Loose(_) => Ok(()),
            PageSink::Pack(writer, _) => writer.finish(),
        }
    }
}

impl Packer {
    /// A packer for the bare repository at `git_dir`.
    pub(crate) fn new(git_dir: &Path) -> Self {
        Self {
            git_dir: git_dir.to_owned(),
            writer: PackWriter::new(git_dir),
            loose: false,
            limit: LOOSE_LIMIT,
            rollup: RollUp::new(git_dir),
        }
    }

    /// Packs loose objects found on opening once there are `limit` of them instead of
    /// [`LOOSE_LIMIT`]; `usize::MAX` writes loose objects and never packs.
    pub(crate) fn set_limit(&mut self, limit: usize) {
        self.loose = limit == usize::MAX;
        self.limit = limit.max(1);
    }

    /// Where the next page's objects go; anything a failed page left unfinished is dropped.
    pub(crate) fn sink<'a>(&'a mut self, repo: &'a gix::Repository) -> PageSink<'a> {
        if self.loose {
            return PageSink::Loose(RepoSink { repo });
        }
        self.writer.discard();
        PageSink::Pack(&mut self.writer, repo)
    }

    /// Called when `main` has moved: starts rolling small packs together in the background if
    /// there are too many and no roll-up runs yet.
    pub(crate) fn after_move(&mut self) {
        if self.writer.take_finished() == 0 {
            return;
        }
        let packs = count_packs(&self.git_dir);
        if self.rollup.running() {
            if packs > MOST_PACKS {
                tracing::info!(packs, "waiting for the roll-up of small packs");
                self.rollup.wait();
            }
        } else if packs > MAX_PACKS {
            self.rollup.start("rolling up small packs", ROLL_UP);
        }
    }

    /// Called when the projection has caught up: frees the pack writer's scratch buffers.
    pub(crate) fn idle(&mut self) {
        self.writer.release_scratch();
    }

    /// The bytes the pack writer holds for its next pack.
    #[cfg(test)]
    pub(crate) fn scratch_bytes(&self) -> usize {
        self.writer.scratch_bytes()
    }

    /// Logs the end of a roll-up that finished (an idle projection calls this now and then).
    pub(crate) fn poll(&mut self) {
        self.rollup.running();
    }

    /// Waits for a running roll-up, then rolls up what is still above [`MAX_PACKS`] packs: a
    /// repository that is written once and handed over (a rebuild) is left tidy.
    pub(crate) fn settle(&mut self) {
        self.rollup.wait();
        if count_packs(&self.git_dir) > MAX_PACKS {
            self.rollup.run_now("rolling up small packs", ROLL_UP);
        }
    }

    /// Packs every loose object once if the repository holds more than a limit's worth (an old
    /// repository, or objects written by hand); removes what an interrupted `git` left.
    pub(crate) fn pack_old_loose_objects(&mut self) {
        rollup::remove_leftovers(&self.git_dir);
        let loose = estimate_loose_objects(&self.git_dir);
        if loose >= self.limit {
            tracing::info!(loose, repo = %self.git_dir.display(), "packing the loose objects of the git repository");
            self.rollup
                .run_now("packing the loose objects", &["repack", "-d", "-q", WINDOW]);
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
