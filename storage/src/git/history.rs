//! Reading a post's history back from git, and rebuilding the repository from the log.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use ulid::Ulid;

use crate::store::Store;

use super::error::{gix_err, io_err, Result};
use super::notes::Notes;
use super::render::{parse_trailers, summary};
use super::repo::{first_parent_history, main_tip};
use super::{GitProjection, GitSettings};

/// One commit of a post's history, as `GET /posts/{id}/history`-style views show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// Full hex commit id.
    pub sha: String,
    /// The event's seq (`Event-Seq` trailer).
    pub seq: Option<u64>,
    /// Author time (the event's time, to the second).
    pub time: OffsetDateTime,
    /// Author name (the event's actor).
    pub author: String,
    /// First line of the message, e.g. `Publish "Title"`.
    pub summary: String,
}

/// The commits on `main` that carry an event of post `post_id` (by their `Post-Id` trailer, or
/// for an adopted pushed commit its note), newest first.
///
/// A plain first-parent walk: fine for the sizes Quire is made for (it reads every commit
/// message once); a missing repository has no history.
pub fn post_commits(path: &Path, post_id: Ulid) -> Result<Vec<CommitInfo>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let repo = gix::open(path).map_err(gix_err(format!("opening {}", path.display())))?;
    let wanted = post_id.to_string();
    let notes = Notes::load(&repo)?;
    let mut out = Vec::new();
    for commit in first_parent_history(&repo, main_tip(&repo)?) {
        let commit = commit?;
        let mut trailers = parse_trailers(commit.message());
        if let Some(events) = notes.events(&repo, commit.id)? {
            trailers.seq = events.iter().rev().find(|e| e.stream == post_id).map(|e| e.seq);
            trailers.post_id = trailers.seq.map(|_| wanted.clone());
        }
        if trailers.post_id.as_deref() != Some(wanted.as_str()) {
            continue;
        }
        let author = &commit.commit.author;
        out.push(CommitInfo {
            sha: commit.id.to_string(),
            seq: trailers.seq,
            time: OffsetDateTime::from_unix_timestamp(author.time.seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH),
            author: author.name.to_string(),
            summary: summary(commit.message()),
        });
    }
    Ok(out)
}

/// Recreates the repository at `path` from the whole log; returns the number of commits.
///
/// The new repository is built beside the old one (`<path>.rebuild`) and swapped in at the end,
/// so the old one stays usable until then. `progress(done, total)` is called after each page.
/// Stop any follower of `path` first: it would keep writing into the old repository.
pub fn rebuild(
    path: &Path,
    settings: &GitSettings,
    store: &dyn Store,
    mut progress: impl FnMut(u64, u64),
) -> Result<u64> {
    let fresh = sibling(path, "rebuild");
    remove_dir_if_exists(&fresh)?;
    let mut projection = GitProjection::open(&fresh, settings.clone())?;
    let borrowed = borrow_objects(&fresh, path)?;
    let made = projection.catch_up_with(store, &mut progress)?;
    projection.settle_packs();
    drop(projection);
    if borrowed {
        keep_borrowed_objects(&fresh)?;
    }
    let old = sibling(path, "old");
    remove_dir_if_exists(&old)?;
    if path.exists() {
        std::fs::rename(path, &old).map_err(io_err("moving the old repository aside", path))?;
    }
    std::fs::rename(&fresh, path).map_err(io_err("moving the rebuilt repository in place", &fresh))?;
    remove_dir_if_exists(&old)?;
    Ok(made)
}

/// Lets the rebuilt repository `fresh` see the objects of the old one at `old` (through
/// `objects/info/alternates`) while the log is projected: the forge's side of a merge a pull
/// made is not in the log, and the merge is written as it was only when those commits are
/// there (see [`crate::git::import`]). Returns whether there is an old repository.
fn borrow_objects(fresh: &Path, old: &Path) -> Result<bool> {
    let objects = old.join("objects");
    if !objects.is_dir() {
        return Ok(false);
    }
    let objects = std::fs::canonicalize(&objects).map_err(io_err("finding the old repository", &objects))?;
    let alternates = fresh.join("objects/info/alternates");
    std::fs::create_dir_all(fresh.join("objects/info")).map_err(io_err("creating a folder", fresh))?;
    std::fs::write(&alternates, format!("{}\n", objects.display()))
        .map_err(io_err("writing the alternates of the rebuilt repository", &alternates))?;
    Ok(true)
}

/// Copies into `fresh` what it uses of the borrowed objects (the forge's commits of merges),
/// then stops borrowing, so the rebuilt repository stands on its own.
fn keep_borrowed_objects(fresh: &Path) -> Result<()> {
    let merges = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(fresh)
        .args(["rev-list", "--merges", "-n", "1", "main", "--"])
        .output()
        .map_err(io_err("running git", fresh))?;
    let has_merges = merges.status.success() && !merges.stdout.is_empty();
    if has_merges {
        // Without `-l`, `repack -a` packs every object reachable from the refs, borrowed ones too.
        let packed = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(fresh)
            .args(["repack", "-a", "-d", "-q"])
            .status()
            .map_err(io_err("running git repack", fresh))?;
        if !packed.success() {
            return Err(io_err("packing the rebuilt repository", fresh)(std::io::Error::other(
                "git repack -a -d failed",
            )));
        }
    }
    let alternates = fresh.join("objects/info/alternates");
    std::fs::remove_file(&alternates).map_err(io_err("removing the alternates of the rebuilt repository", &alternates))
}

/// `content.git` → `content.git.<suffix>`, in the same folder.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".");
    name.push(suffix);
    path.with_file_name(name)
}

fn remove_dir_if_exists(path: &Path) -> Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err("removing a folder", path)(e)),
        _ => Ok(()),
    }
}
