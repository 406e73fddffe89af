//! Reading pushed commits with the `git` command, in the environment git gives a `pre-receive`
//! hook (so objects still in quarantine are found).

use std::path::Path;
use std::process::Command;

use crate::git::error::{GitError, Result};

/// Most commits one push may bring.
pub const MAX_COMMITS: usize = 1_000;
/// Largest file a push may bring under `content/posts/` (bytes).
pub const MAX_FILE_BYTES: u64 = 4 << 20;
/// Most bytes of media files (under `static/media/`) one push may bring, all files together
/// (they are held in memory while the push is checked).
pub const MAX_MEDIA_BYTES: u64 = 64 << 20;

/// One file a commit changed: its content before and after (`None`: absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    pub before: Option<Vec<u8>>,
    pub after: Option<Vec<u8>>,
}

/// One pushed commit and the files it changed against its first parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedCommit {
    pub id: String,
    /// How many parents it has (a merge has more than one).
    pub parents: usize,
    pub changes: Vec<FileChange>,
    /// The commit object as git stores it (`git cat-file commit`), if it is UTF-8: what lets
    /// the git projection write this very commit (see [`crate::git::import`]).
    pub object: Option<String>,
}

/// The `git` command on repository `git_dir` with `env` (the hook's quarantine variables).
struct Git<'a> {
    git_dir: &'a Path,
    env: &'a [(String, String)],
    /// Media bytes still allowed in this push.
    media_budget: std::cell::Cell<u64>,
}

impl Git<'_> {
    fn run(&self, args: &[&str]) -> Result<Vec<u8>> {
        let output = Command::new("git")
            .arg("--git-dir")
            .arg(self.git_dir)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .map_err(|e| GitError::Io {
                context: "running git",
                path: self.git_dir.to_owned(),
                source: e,
            })?;
        if !output.status.success() {
            return Err(GitError::Io {
                context: "reading the pushed commits",
                path: self.git_dir.to_owned(),
                source: std::io::Error::other(format!(
                    "git {}: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&output.stderr).trim()
                )),
            });
        }
        Ok(output.stdout)
    }

    fn text(&self, args: &[&str]) -> Result<String> {
        Ok(String::from_utf8_lossy(&self.run(args)?).into_owned())
    }
}

/// Whether `ancestor` is an ancestor of (or equal to) `commit`.
pub fn is_ancestor(git_dir: &Path, env: &[(String, String)], ancestor: &str, commit: &str) -> Result<bool> {
    let git = Git {
        git_dir,
        env,
        media_budget: 0.into(),
    };
    // Nothing reachable from `ancestor` is missing from `commit`.
    let out = git.text(&["rev-list", "-n", "1", ancestor, &format!("^{commit}")])?;
    Ok(out.trim().is_empty())
}

/// The commits in `new` that are not in `old` (`None`: an empty repository), oldest first,
/// each with the files it changed against its first parent; with `tip_only`, `new` alone (a
/// merge whose other side is not imported commit by commit). `Ok(Err(message))` when the push
/// is too large.
pub fn read_push(
    git_dir: &Path,
    env: &[(String, String)],
    old: Option<&str>,
    new: &str,
    tip_only: bool,
) -> Result<Result<Vec<PushedCommit>, String>> {
    let git = Git {
        git_dir,
        env,
        media_budget: MAX_MEDIA_BYTES.into(),
    };
    let mut range = match tip_only {
        true => vec!["rev-list", "--no-walk", "--parents", new],
        false => vec!["rev-list", "--reverse", "--topo-order", "--parents", new],
    };
    let not_old = old.filter(|_| !tip_only).map(|o| format!("^{o}"));
    if let Some(not_old) = &not_old {
        range.push(not_old);
    }
    let listing = git.text(&range)?;
    let lines: Vec<&str> = listing.lines().collect();
    if lines.len() > MAX_COMMITS {
        return Ok(Err(format!(
            "the push brings {} commits; at most {MAX_COMMITS} are imported at once",
            lines.len()
        )));
    }
    let mut commits = Vec::with_capacity(lines.len());
    for line in lines {
        let mut ids = line.split_whitespace();
        let Some(id) = ids.next() else { continue };
        let parents: Vec<&str> = ids.collect();
        let changes = match changes(&git, parents.first().copied(), id)? {
            Ok(changes) => changes,
            Err(message) => return Ok(Err(message)),
        };
        let object = String::from_utf8(git.run(&["cat-file", "commit", id])?).ok();
        commits.push(PushedCommit {
            id: id.to_owned(),
            // A merge read `tip_only` is one Quire made (a pull's): its other side is not
            // imported, so it is planned like a one-parent commit.
            parents: if tip_only { parents.len().min(1) } else { parents.len() },
            changes,
            object,
        });
    }
    Ok(Ok(commits))
}

/// The files `commit` changed against `parent` (or all its files for a root commit).
fn changes(git: &Git<'_>, parent: Option<&str>, commit: &str) -> Result<Result<Vec<FileChange>, String>> {
    let mut args = vec!["diff-tree", "-r", "-z", "--no-renames", "--raw", "--no-commit-id"];
    match parent {
        Some(parent) => args.push(parent),
        None => args.push("--root"),
    }
    args.push(commit);
    let raw = git.run(&args)?;
    let mut fields = raw.split(|b| *b == 0).filter(|f| !f.is_empty());
    let mut out = Vec::new();
    while let (Some(meta), Some(path)) = (fields.next(), fields.next()) {
        let meta = String::from_utf8_lossy(meta);
        let parts: Vec<&str> = meta.trim_start_matches(':').split_whitespace().collect();
        let [_, new_mode, old_id, new_id, _status] = parts[..] else {
            continue;
        };
        let path = String::from_utf8_lossy(path).into_owned();
        if new_mode == "160000" || new_mode == "120000" {
            return Ok(Err(format!("{path}: submodules and symbolic links are not imported")));
        }
        let before = blob(git, old_id, &path)?;
        let after = blob(git, new_id, &path)?;
        match (before, after) {
            (Ok(before), Ok(after)) => out.push(FileChange { path, before, after }),
            (Err(message), _) | (_, Err(message)) => return Ok(Err(message)),
        }
    }
    Ok(Ok(out))
}

/// A blob's bytes (`None` for the zero id); only files under `content/posts/` and
/// `static/media/` are read.
fn blob(git: &Git<'_>, id: &str, path: &str) -> Result<Result<Option<Vec<u8>>, String>> {
    let media = path.starts_with(super::media::MEDIA_DIR);
    if id.bytes().all(|b| b == b'0') || !(path.starts_with("content/posts/") || media) {
        return Ok(Ok(None));
    }
    let size: u64 = git.text(&["cat-file", "-s", id])?.trim().parse().unwrap_or(u64::MAX);
    if media {
        let left = git.media_budget.get();
        if size > left {
            return Ok(Err(format!(
                "{path}: the push brings more than {} MiB of media; push them in smaller parts",
                MAX_MEDIA_BYTES >> 20
            )));
        }
        git.media_budget.set(left - size);
    } else if size > MAX_FILE_BYTES {
        return Ok(Err(format!("{path}: the file is larger than {MAX_FILE_BYTES} bytes")));
    }
    git.run(&["cat-file", "blob", id]).map(|bytes| Ok(Some(bytes)))
}
