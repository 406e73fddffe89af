//! `refs/notes/quire`: the events a commit on `main` carries, for the commits whose message
//! cannot say (a pushed commit Quire adopted keeps the pusher's message, without trailers).
//!
//! The notes ref is a chain of commits, as `git notes` keeps it, whose tree holds one blob per
//! annotated commit, named by the commit's id (flat; the fanned-out `ab/cdef…` layout `git notes`
//! makes for many notes is read too). A note is the commit's events, one JSON envelope a line,
//! oldest first, exactly as the log stores them: enough to tell how far the projection got and to
//! restore the log from git alone (`git notes --ref=quire show <commit>` shows them). The notes ref
//! moves in the same ref transaction as `main`, just before it.

use gix::actor::Signature;
use gix::objs::tree::EntryKind;
use gix::objs::{Commit, Tree};
use gix::ObjectId;

use crate::event::Envelope;

use super::error::{gix_err, GitError, Result};
use super::repo::read_commit;
use super::tree::{read_tree, set, BlobBytes, ObjectSink};

/// The notes ref Quire writes.
pub(crate) const NOTES: &str = "refs/notes/quire";

/// The notes as of the notes ref's commit.
#[derive(Debug, Clone, Default)]
pub(crate) struct Notes {
    tip: Option<ObjectId>,
    tree: Tree,
}

impl Notes {
    /// Reads the notes ref (no notes if it is missing).
    pub(crate) fn load(repo: &gix::Repository) -> Result<Self> {
        let reference = repo
            .try_find_reference(NOTES)
            .map_err(gix_err("reading refs/notes/quire"))?;
        let tip = reference.and_then(|r| r.target().try_id().map(ToOwned::to_owned));
        let tree = match tip {
            Some(tip) => read_tree(repo, read_commit(repo, tip)?.tree)?,
            None => Tree::empty(),
        };
        Ok(Self { tip, tree })
    }

    /// The notes commit the ref points at.
    pub(crate) fn tip(&self) -> Option<ObjectId> {
        self.tip
    }

    /// The events `commit` carries according to its note, if it has one.
    pub(crate) fn events(&self, repo: &gix::Repository, commit: ObjectId) -> Result<Option<Vec<Envelope>>> {
        let hex = commit.to_string();
        let blob = match entry(&self.tree, &hex) {
            Some(blob) => Some(blob),
            None => match entry(&self.tree, &hex[..2]) {
                Some(dir) => entry(&read_tree(repo, dir)?, &hex[2..]),
                None => None,
            },
        };
        let Some(blob) = blob else { return Ok(None) };
        let object = repo
            .find_object(blob)
            .map_err(gix_err(format!("reading the note of {hex}")))?;
        parse_note(&object.data)
            .map(Some)
            .map_err(|message| GitError::BadCommit {
                commit,
                message: format!("its note in {NOTES}: {message}"),
            })
    }

    /// Writes the notes in `added` (commit, note) and a notes commit on top of the current one
    /// into `sink`; returns the new notes commit (the ref is the caller's to move).
    pub(crate) fn add(
        &mut self,
        added: &[(ObjectId, String)],
        who: &Signature,
        sink: &mut impl ObjectSink,
    ) -> Result<ObjectId> {
        for (commit, text) in added {
            let blob = sink.put(&BlobBytes(text.as_bytes()))?;
            set(
                &mut self.tree,
                commit.to_string().as_bytes(),
                EntryKind::Blob.into(),
                blob,
            );
        }
        let tree = sink.put(&self.tree)?;
        let commit = Commit {
            tree,
            parents: self.tip.into_iter().collect(),
            author: who.clone(),
            committer: who.clone(),
            encoding: None,
            message: "Notes added by Quire's git projection\n".into(),
            extra_headers: Vec::new(),
        };
        let id = sink.put(&commit)?;
        self.tip = Some(id);
        Ok(id)
    }
}

fn entry(tree: &Tree, name: &str) -> Option<ObjectId> {
    tree.entries.iter().find(|e| e.filename == name).map(|e| e.oid)
}

/// A note: the events, one JSON envelope a line.
pub(crate) fn note_text(events: &[Envelope]) -> String {
    let mut out = String::new();
    for event in events {
        out.push_str(&serde_json::to_string(event).expect("an envelope always encodes as JSON"));
        out.push('\n');
    }
    out
}

/// The events of a note, oldest first; never empty.
pub(crate) fn parse_note(bytes: &[u8]) -> std::result::Result<Vec<Envelope>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "it is not UTF-8".to_owned())?;
    let events = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| serde_json::from_str::<Envelope>(line).map_err(|e| format!("not an event: {e}")))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    if events.is_empty() {
        return Err("it lists no events".into());
    }
    Ok(events)
}
