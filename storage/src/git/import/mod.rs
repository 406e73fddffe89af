//! Git as a way in: the commits of a `git push` read back into events.
//!
//! [`read_push`] reads the pushed commits, oldest first, with the `git` command (the objects of a
//! push wait in git's quarantine until it is accepted, and the command honours the quarantine
//! environment). [`plan_push`] turns each changed file into the events an API write would make,
//! checked with the same rules (rights, front matter, slugs), and the caller appends every batch
//! in one transaction ([`crate::Store::append_import`]), so a push is imported whole or not at all.
//!
//! Posts are modelled (a Markdown file under `content/posts/`), and media files under
//! `static/media/` ([`plan_media`]: images stored as they are, when fit). Any other path
//! (themes, `hugo.toml`) refuses the push with its name. The events carry an
//! [`Origin`](crate::event::Origin) naming the pushed commit, the file and its text as pushed,
//! and the commit object ([`adopt`]): the git projection then writes the pushed commits
//! themselves onto `main`, with their ids, so the pusher's next `git pull` has nothing to do.
//! A commit the log cannot rebuild exactly (an image, whose file Quire names by its hash) gets
//! Quire's own commit with a `Pushed-Commit` trailer instead, and so do the ones after it.

pub(crate) mod adopt;
mod front;
mod media;
mod plan;
mod read;

pub use front::{parse_post_file, FrontMatter};
pub use media::{append_import, plan_media, take_media, MediaChange, MediaPlan, MEDIA_DIR};
pub use plan::{plan_push, PushPlan};
pub use read::{is_ancestor, read_push, FileChange, PushedCommit};

/// Where a ref update of a push came from and goes to, as `pre-receive` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    pub old: String,
    pub new: String,
    pub name: String,
}

/// The id git uses for "no commit" (a created or deleted ref).
pub const ZERO_ID: &str = "0000000000000000000000000000000000000000";

/// Reads `pre-receive`'s standard input: one `<old> <new> <ref>` line per ref.
pub fn parse_ref_updates(input: &str) -> Vec<RefUpdate> {
    input
        .lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            Some(RefUpdate {
                old: parts.next()?.to_owned(),
                new: parts.next()?.to_owned(),
                name: parts.next()?.to_owned(),
            })
        })
        .collect()
}
