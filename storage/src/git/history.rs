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
    let made = projection.catch_up_with(store, &mut progress)?;
    projection.settle_packs();
    drop(projection);
    let old = sibling(path, "old");
    remove_dir_if_exists(&old)?;
    if path.exists() {
        std::fs::rename(path, &old).map_err(io_err("moving the old repository aside", path))?;
    }
    std::fs::rename(&fresh, path).map_err(io_err("moving the rebuilt repository in place", &fresh))?;
    remove_dir_if_exists(&old)?;
    Ok(made)
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
