//! Keeping the pusher's commits: what the events of a push record so that the git projection
//! writes the pushed commits themselves (same ids) instead of its own.
//!
//! [`mark`] gives every event of a pushed commit the commit object as git stores it and the
//! number of events the commit made (besides the file each event was read from and its text,
//! which the planner records). The log alone then holds all a pushed commit is made of: its
//! tree is the tree before plus the pushed files, and its object is the recorded one, so the
//! projection, `quire rebuild git` and `quire restore` all write the very same commit.
//!
//! Adoption needs one unbroken chain on top of `main`: a commit that makes no event, that writes a
//! file making none (say it only changed a front matter field Quire ignores) or more than one
//! folder below `content/posts/`, or whose object is not UTF-8 cannot be rebuilt from the log, so
//! neither it nor the commits after it are marked (nor is a root commit, pushed into an empty
//! repository: Quire's first commit brings `hugo.toml`); their events get Quire's own
//! commits, as before, and the pusher takes them with `git pull --rebase`.
//!
//! A file without an `id` is matched to its post by its path: [`files_in_git`] reads from the
//! log which post each adopted file is (the projection follows the same rule).

use std::collections::HashMap;

use ulid::Ulid;

use crate::event::{Envelope, EventPayload};
use crate::store::Store;

use super::plan::PushPlan;
use super::read::PushedCommit;

/// Events read at a time by [`files_in_git`].
const PAGE: usize = 512;

/// Marks the events of the pushed commits that can be adopted (see the module docs).
pub(crate) fn mark(plan: &mut PushPlan, commits: &[PushedCommit]) {
    let mut start = 0;
    for commit in commits {
        let Some(object) = &commit.object else { break };
        let of_commit = |(_, b): &(String, crate::store::AppendBatch)| {
            b.origin.as_ref().and_then(|o| o.commit.as_deref()) == Some(commit.id.as_str())
        };
        let count = plan.batches[start..].iter().take_while(|b| of_commit(b)).count();
        let batches = &plan.batches[start..start + count];
        let events: usize = batches.iter().map(|(_, b)| b.events.len()).sum();
        // Each file written must be one the log records, at a place the projection can hold it.
        let recorded = commit
            .changes
            .iter()
            .filter(|c| c.after.is_some())
            .all(|c| split_post_path(&c.path).is_some() && batches.iter().any(|(path, _)| *path == c.path));
        // A root commit (a push into an empty repository) would leave `hugo.toml` out for good.
        if events == 0 || !recorded || commit.parents == 0 {
            break;
        }
        for (_, batch) in &mut plan.batches[start..start + count] {
            if let Some(origin) = &mut batch.origin {
                origin.commit_object = Some(object.clone());
                origin.commit_events = Some(events as u64);
            }
        }
        start += count;
        plan.adopted += 1;
    }
    // The others' events are as before adoption: Quire's commits say all about them.
    for (_, batch) in &mut plan.batches[start..] {
        if let Some(origin) = &mut batch.origin {
            (origin.path, origin.file) = (None, None);
        }
    }
}

/// Which post each file written as pushed (by an adopted commit) is, by path: the files git has
/// as the pusher wrote them, `id` or not. A post leaves the list when it is deleted or when any
/// other event rewrites its file in Quire's form (with its `id`).
pub(crate) fn files_in_git(store: &dyn Store) -> crate::Result<HashMap<String, Ulid>> {
    let mut by_post: HashMap<Ulid, String> = HashMap::new();
    let mut after = 0;
    loop {
        let events = store.events_after(after, PAGE)?;
        let Some(last) = events.last() else { break };
        after = last.seq;
        for event in &events {
            follow_file(&mut by_post, event);
        }
    }
    Ok(by_post.into_iter().map(|(post, path)| (path, post)).collect())
}

/// Folds one event into `files` (post → path of its file as pushed).
pub(crate) fn follow_file(files: &mut HashMap<Ulid, String>, event: &Envelope) {
    if event.payload.is_media() || event.payload.is_dataset() {
        return;
    }
    let pushed = event.origin.as_ref().and_then(|o| o.adopted_file());
    match pushed {
        Some((path, Some(_)))
            if !matches!(event.payload, EventPayload::PostDeleted {}) && split_post_path(path).is_some() =>
        {
            files.insert(event.stream, path.to_owned());
        }
        _ => {
            files.remove(&event.stream);
        }
    }
}

/// `content/posts/<folder>/<name>` → `(folder, name)`: the paths the git projection can hold a
/// pushed file at (one folder under `content/posts/`, as Quire's years are).
pub(crate) fn split_post_path(path: &str) -> Option<(String, String)> {
    let rest = path.strip_prefix("content/posts/")?;
    let (folder, name) = rest.split_once('/')?;
    let fine = |part: &str| !part.is_empty() && part != "." && part != "..";
    (fine(folder) && fine(name) && !name.contains('/')).then(|| (folder.to_owned(), name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::split_post_path;

    #[test]
    fn only_files_one_folder_below_posts_are_kept_as_pushed() {
        assert_eq!(
            split_post_path("content/posts/2026/a.md"),
            Some(("2026".into(), "a.md".into()))
        );
        assert_eq!(split_post_path("content/posts/a.md"), None);
        assert_eq!(split_post_path("content/posts/2026/03/a.md"), None);
        assert_eq!(split_post_path("static/a.md"), None);
    }
}
