//! Small gix helpers: open or create the bare repository, read `main`, move it with a real
//! compare-and-swap, and walk first-parent history.

use std::path::Path;

use gix::bstr::BString;
use gix::objs::CommitRef;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};
use gix::refs::Target;
use gix::ObjectId;

use super::error::{gix_err, io_err, GitError, Result};
use super::notes::{Notes, NOTES};
use super::render::parse_trailers;

/// The branch the projection writes.
pub(crate) const MAIN: &str = "refs/heads/main";

/// Opens the bare repository at `path`, creating it (with `HEAD` on `main`) if missing or empty.
/// Lock files of the refs Quire moves. A process killed while moving a ref leaves its lock file
/// behind, and every later move would fail on it. Only one Quire works on a data folder (the
/// event log's lock sees to that), so a lock found on opening is stale.
fn remove_stale_locks(path: &Path) -> Result<()> {
    for lock in ["HEAD.lock", "refs/heads/main.lock"] {
        let file = path.join(lock);
        match std::fs::remove_file(&file) {
            Ok(()) => tracing::warn!(file = %file.display(), "removed a stale lock file left by a crash"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("removing a stale lock file", &file)(e)),
        }
    }
    Ok(())
}

/// Index slots of the projection's object database: one per pack on disk at a time. gix
/// assumes 32 (or 1.1x the packs found on opening) and then fails a read ("too few index
/// slots"); packs keep coming while a background roll-up runs, up to
/// [`super::pack::MOST_PACKS`] before the projection waits for it, plus the roll-up's own.
const ODB_SLOTS: u16 = 256;

/// Opens the repository at `path` with room for [`ODB_SLOTS`] packs.
fn open(path: &Path) -> Result<gix::Repository> {
    let options = gix::open::Options::default().object_store_slots(gix::odb::store::init::Slots::Given(ODB_SLOTS));
    gix::open_opts(path, options).map_err(gix_err(format!("opening {}", path.display())))
}

pub(crate) fn open_or_init(path: &Path) -> Result<gix::Repository> {
    let empty = match std::fs::read_dir(path) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => return Err(io_err("reading the git folder", path)(e)),
    };
    if !empty {
        remove_stale_locks(path)?;
        return open(path);
    }
    std::fs::create_dir_all(path).map_err(io_err("creating the git folder", path))?;
    let repo = gix::init_bare(path).map_err(gix_err(format!("creating {}", path.display())))?;
    let head = RefEdit::new(
        "HEAD".try_into().expect("HEAD is a valid ref name"),
        Change::Update {
            log: LogChange {
                mode: RefLog::Only,
                ..LogChange::default()
            },
            expected: PreviousValue::Any,
            new: Target::Symbolic(MAIN.try_into().expect("refs/heads/main is a valid ref name")),
        },
    );
    repo.edit_references_as(Some(head), None)
        .map_err(gix_err("pointing HEAD at main"))?;
    drop(repo);
    open(path)
}

/// Where `main` points, if it exists.
pub(crate) fn main_tip(repo: &gix::Repository) -> Result<Option<ObjectId>> {
    let reference = repo
        .try_find_reference(MAIN)
        .map_err(gix_err("reading refs/heads/main"))?;
    Ok(reference.and_then(|r| r.target().try_id().map(ToOwned::to_owned)))
}

/// Moves `main` from `expected` (`None`: it must not exist) to `new`, atomically, and first the
/// notes ref from `notes.0` to `notes.1` if given; `who` signs the reflog entries, if the
/// repository keeps them.
pub(crate) fn move_main(
    repo: &gix::Repository,
    expected: Option<ObjectId>,
    new: ObjectId,
    notes: Option<(Option<ObjectId>, ObjectId)>,
    who: &gix::actor::Signature,
) -> Result<()> {
    let mut edits = Vec::new();
    if let Some((was, now)) = notes {
        edits.push(ref_edit(NOTES, was, now, "quire: events of adopted commits"));
    }
    edits.push(ref_edit(MAIN, expected, new, "quire: git projection"));
    let mut time = gix::date::parse::TimeBuf::default();
    repo.edit_references_as(edits, Some(who.to_ref(&mut time)))
        .map(|_| ())
        .map_err(|source| GitError::RefMoved { expected, new, source })
}

fn ref_edit(name: &str, expected: Option<ObjectId>, new: ObjectId, message: &str) -> RefEdit {
    let previous = match expected {
        Some(id) => PreviousValue::MustExistAndMatch(Target::Object(id)),
        None => PreviousValue::MustNotExist,
    };
    RefEdit::new(
        name.try_into().expect("Quire's ref names are valid"),
        Change::Update {
            log: LogChange {
                mode: RefLog::AndReference,
                force_create_reflog: false,
                message: message.into(),
            },
            expected: previous,
            new: Target::Object(new),
        },
    )
}

/// The parts of a commit the projection looks at.
#[derive(Debug, Clone)]
pub(crate) struct CommitData {
    pub(crate) id: ObjectId,
    pub(crate) tree: ObjectId,
    pub(crate) parents: Vec<ObjectId>,
    pub(crate) commit: gix::objs::Commit,
}

impl CommitData {
    /// The `Event-Seq` trailer, if the commit has one.
    pub(crate) fn seq(&self) -> Option<u64> {
        parse_trailers(&self.commit.message).seq
    }

    /// The raw message.
    pub(crate) fn message(&self) -> &BString {
        &self.commit.message
    }
}

/// Reads and decodes a commit.
pub(crate) fn read_commit(repo: &gix::Repository, id: ObjectId) -> Result<CommitData> {
    let object = repo.find_object(id).map_err(gix_err(format!("reading commit {id}")))?;
    let bad = |message: String| GitError::BadCommit { commit: id, message };
    if object.kind != gix::objs::Kind::Commit {
        return Err(bad(format!("it is a {}", object.kind)));
    }
    let decoded = CommitRef::from_bytes(&object.data, repo.object_hash()).map_err(|e| bad(e.to_string()))?;
    let commit: gix::objs::Commit = decoded.into_owned().map_err(|e| bad(e.to_string()))?;
    Ok(CommitData {
        id,
        tree: commit.tree,
        parents: commit.parents.to_vec(),
        commit,
    })
}

/// First-parent history from `tip` back to the root commit, newest first.
pub(crate) fn first_parent_history(repo: &gix::Repository, tip: Option<ObjectId>) -> FirstParents<'_> {
    FirstParents { repo, next: tip }
}

/// Iterator of [`first_parent_history`].
pub(crate) struct FirstParents<'a> {
    repo: &'a gix::Repository,
    next: Option<ObjectId>,
}

impl Iterator for FirstParents<'_> {
    type Item = Result<CommitData>;
    fn next(&mut self) -> Option<Self::Item> {
        let id = self.next.take()?;
        let commit = read_commit(self.repo, id);
        if let Ok(c) = &commit {
            self.next = c.parents.first().copied();
        }
        Some(commit)
    }
}

/// Where git stands: the seq of the newest event a commit on `main` carries, and that event's
/// id (0 and `None` for none). A commit carries the events of its note in `refs/notes/quire` if
/// it has one (an adopted commit), else the one its `Event-Seq` trailer names; commits that
/// carry neither (made by hand) are passed over.
pub(crate) fn git_position(repo: &gix::Repository) -> Result<(u64, Option<String>)> {
    let notes = Notes::load(repo)?;
    for commit in first_parent_history(repo, main_tip(repo)?) {
        let commit = commit?;
        if let Some(last) = notes.events(repo, commit.id)?.and_then(|events| events.last().cloned()) {
            return Ok((last.seq, Some(last.id.to_string())));
        }
        if let Some(seq) = commit.seq() {
            return Ok((seq, parse_trailers(commit.message()).event_id));
        }
    }
    Ok((0, None))
}
