//! The `git` steps of merging a forge's branch that moved on beside `main` (see
//! [`super::Forges`]): where they parted, what each side changed since, the merged tree, the
//! merge commit, and copying the forge's commits into `content.git`. All run in the pull's
//! staging repository, which sees `content.git`'s objects through `alternates`.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use time::OffsetDateTime;

/// A name and email for a commit.
pub(super) struct Identity {
    pub(super) name: String,
    pub(super) email: String,
}

/// `git --git-dir <dir> <args>`, with `stdin` written to it.
fn git(dir: &Path, args: &[&str], envs: &[(&str, String)], stdin: Option<&[u8]>) -> anyhow::Result<Output> {
    let mut child = Command::new("git")
        .arg("--git-dir")
        .arg(dir)
        .args(args)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input)?;
    }
    Ok(child.wait_with_output()?)
}

/// Like [`git`], failing unless git succeeds; returns its standard output, trimmed.
fn git_ok(dir: &Path, args: &[&str], envs: &[(&str, String)], stdin: Option<&[u8]>) -> anyhow::Result<String> {
    let output = git(dir, args, envs, stdin)?;
    anyhow::ensure!(
        output.status.success(),
        "git {}: {}",
        args.first().copied().unwrap_or_default(),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Where `a` and `b` parted (`None`: no common commit).
pub(super) fn base(dir: &Path, a: &str, b: &str) -> anyhow::Result<Option<String>> {
    let output = git(dir, &["merge-base", a, b], &[], None)?;
    match output.status.code() {
        Some(0) => Ok(Some(String::from_utf8_lossy(&output.stdout).trim().to_owned())),
        Some(1) => Ok(None),
        _ => anyhow::bail!("git merge-base: {}", String::from_utf8_lossy(&output.stderr).trim()),
    }
}

/// The paths `to` changed since `from` (renames count as a deletion and an addition).
pub(super) fn changed_files(dir: &Path, from: &str, to: &str) -> anyhow::Result<BTreeSet<String>> {
    let output = git(
        dir,
        &["diff-tree", "-r", "-z", "--no-renames", "--name-only", from, to],
        &[],
        None,
    )?;
    anyhow::ensure!(
        output.status.success(),
        "git diff-tree: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(output
        .stdout
        .split(|b| *b == 0)
        .filter(|path| !path.is_empty())
        .map(|path| String::from_utf8_lossy(path).into_owned())
        .collect())
}

/// The tree merging `ours` and `theirs` (`None`: git finds a conflict).
pub(super) fn tree(dir: &Path, ours: &str, theirs: &str) -> anyhow::Result<Option<String>> {
    let output = git(
        dir,
        &["merge-tree", "--write-tree", "--no-messages", ours, theirs],
        &[],
        None,
    )?;
    match output.status.code() {
        Some(0) => Ok(String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .map(str::to_owned)),
        Some(1) => Ok(None),
        _ => anyhow::bail!("git merge-tree: {}", String::from_utf8_lossy(&output.stderr).trim()),
    }
}

/// The merge's message: what it brings.
pub(super) fn message(remote: &str, branch: &str, files: &BTreeSet<String>) -> String {
    let mut message = format!(
        "Merge {branch} of {remote}\n\nThe forge's edits, imported by Quire beside its own changes ({} file(s)):\n",
        files.len()
    );
    for file in files {
        message.push_str(&format!("- {file}\n"));
    }
    message
}

/// Writes the commit of `tree` with `parents`; returns its id.
pub(super) fn commit(
    dir: &Path,
    tree: &str,
    parents: [&str; 2],
    message: &str,
    author: &Identity,
    committer: &Identity,
    at: OffsetDateTime,
) -> anyhow::Result<String> {
    let date = format!("@{} +0000", at.unix_timestamp());
    let envs = [
        ("GIT_AUTHOR_NAME", author.name.clone()),
        ("GIT_AUTHOR_EMAIL", author.email.clone()),
        ("GIT_AUTHOR_DATE", date.clone()),
        ("GIT_COMMITTER_NAME", committer.name.clone()),
        ("GIT_COMMITTER_EMAIL", committer.email.clone()),
        ("GIT_COMMITTER_DATE", date),
    ];
    let args = ["commit-tree", tree, "-p", parents[0], "-p", parents[1], "-F", "-"];
    git_ok(dir, &args, &envs, Some(message.as_bytes()))
}

/// Packs the objects of `tip` that `main` does not reach into `content.git`, durably.
pub(super) fn copy_objects(dir: &Path, content: &Path, tip: &str, main: &str) -> anyhow::Result<()> {
    let packs = std::fs::canonicalize(content.join("objects/pack"))?;
    let base = packs.join("pack");
    let revs = format!("{tip}\n^{main}\n");
    let hash = git_ok(
        dir,
        &["pack-objects", "-q", "--revs", &base.to_string_lossy()],
        &[],
        Some(revs.as_bytes()),
    )?;
    anyhow::ensure!(
        !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        "git pack-objects named no pack"
    );
    for extension in ["pack", "rev", "idx"] {
        let file = packs.join(format!("pack-{hash}.{extension}"));
        match std::fs::File::open(&file) {
            Ok(file) => file.sync_all()?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    std::fs::File::open(&packs)?.sync_all()?;
    Ok(())
}
