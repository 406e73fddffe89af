//! The events of a pushed commit Quire adopts (see the parent module's docs): their files as
//! pushed, gathered into one commit, which is the pushed commit object itself when its tree and
//! parent are the ones the log gives.

use gix::ObjectId;

use crate::event::Envelope;
use crate::post::Post;

use super::Projector;
use crate::git::error::{GitError, Result};
use crate::git::import::adopt::{follow_file, split_post_path};
use crate::git::notes::note_text;
use crate::git::render::{commit_message, post_location, write_post_file};
use crate::git::tree::{BlobBytes, ObjectSink, RawObject};

/// The events of one pushed commit, gathered until its last.
#[derive(Debug, Clone)]
pub(super) struct Gathering {
    pub(super) commit: String,
    left: u64,
    events: Vec<Envelope>,
}

impl Projector {
    /// An event of a pushed commit Quire adopts: its file as pushed, and the commit once all its
    /// events are in (see the module docs).
    pub(super) fn commit_pushed(&mut self, event: &Envelope, sink: &mut impl ObjectSink) -> Result<Option<ObjectId>> {
        let post = self.write_pushed_file(event, sink)?;
        let Some(gathering) = self.gather(event)? else {
            return Ok(None);
        };
        let object = (event.origin.as_ref()).and_then(|o| o.commit_object.as_deref());
        let id = match self.adopt(object.unwrap_or_default(), event.seq, sink)? {
            Some(id) => id,
            None => {
                tracing::warn!(commit = %gathering.commit, seq = event.seq,
                    "the pushed commit does not follow from the log here; Quire writes its own commit instead");
                self.finish(event, commit_message(event, &post), sink)?
            }
        };
        self.notes.push((id, note_text(&gathering.events)));
        Ok(Some(id))
    }

    /// Folds `event` into its post and writes the post's file as pushed; returns the post.
    fn write_pushed_file(&mut self, event: &Envelope, sink: &mut impl ObjectSink) -> Result<Post> {
        let before = self.location_of(&event.stream);
        follow_file(&mut self.files, event);
        let post = self.fold(event)?.post.clone();
        let pushed = (self.files.get(&event.stream))
            .and_then(|path| split_post_path(path))
            .zip(event.origin.as_ref().and_then(|o| o.file.as_deref()));
        let now = match pushed {
            Some((at, text)) => Some((at, sink.put(&BlobBytes(text.as_bytes()))?)),
            None if post.is_live() => {
                // A path the tree cannot hold: the file goes where Quire puts it.
                write_post_file(&mut self.file, &post, &self.posts[&event.stream].aliases);
                Some((post_location(&post), sink.put(&BlobBytes(self.file.as_bytes()))?))
            }
            None => None,
        };
        if let Some((year, name)) = before.filter(|b| now.as_ref().is_none_or(|(at, _)| at != b)) {
            self.tree.remove_post(&year, &name);
        }
        if let Some(((year, name), blob)) = now {
            self.tree.upsert_post(&year, &name, blob);
        }
        Ok(post)
    }

    /// Adds `event` to the events of its pushed commit; returns them all once it is the last.
    fn gather(&mut self, event: &Envelope) -> Result<Option<Gathering>> {
        let origin = event.origin.as_ref();
        let commit = origin.and_then(|o| o.commit.clone()).unwrap_or_default();
        let mut gathering = match self.gathering.take() {
            Some(g) if g.commit == commit => g,
            Some(g) => {
                return Err(GitError::UnfinishedPush {
                    seq: event.seq,
                    commit: g.commit,
                })
            }
            None => Gathering {
                commit,
                left: origin.and_then(|o| o.commit_events).unwrap_or(1),
                events: Vec::new(),
            },
        };
        gathering.events.push(event.clone());
        gathering.left = gathering.left.saturating_sub(1);
        if gathering.left > 0 {
            self.position = event.seq;
            self.gathering = Some(gathering);
            return Ok(None);
        }
        Ok(Some(gathering))
    }

    /// Writes the pushed commit `object` as the next commit if its tree and first parent are the
    /// ones the log gives here, and any other parent (the forge's side of a merge a pull made)
    /// is in the repository; `None` if not.
    fn adopt(&mut self, object: &str, seq: u64, sink: &mut impl ObjectSink) -> Result<Option<ObjectId>> {
        let tree = self.tree.write(sink)?;
        let Ok(parsed) = gix::objs::CommitRef::from_bytes(object.as_bytes(), gix::hash::Kind::Sha1) else {
            return Ok(None);
        };
        let Ok(commit) = parsed.into_owned() else {
            return Ok(None);
        };
        let (first, others) = match commit.parents.split_first() {
            Some((first, others)) => (Some(*first), others),
            None => (None, &[][..]),
        };
        if commit.tree != tree || first != self.tip || !others.iter().all(|p| sink.contains(p)) {
            return Ok(None);
        }
        let id = sink.put(&RawObject(gix::objs::Kind::Commit, object.as_bytes()))?;
        self.last_commit = Some(commit);
        self.tip = Some(id);
        self.position = seq;
        Ok(Some(id))
    }
}
