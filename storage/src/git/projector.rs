//! The projection's core: turns one event into one commit object, given the state so far.
//!
//! It owns the posts (folded with [`Post::apply`], plus the old slugs each post had, for Hugo
//! `aliases`), the media (folded with [`Media::apply`]; their bytes are read from the media
//! folder, and a file whose bytes are missing there is left out with a warning), the in-memory
//! tree and the tip it builds on. It never touches refs: the caller
//! decides where objects go (the repository, or a hasher for `verify`) and when to move `main`.
//!
//! **Adopted commits.** The events of a pushed commit that Quire keeps as it is
//! ([`crate::git::import::adopt`]) make one commit, not one each: they are gathered (their files
//! written with the pushed text, at the pushed path), and the last one writes the pushed commit
//! object itself, whose id is the pusher's, provided its tree and parent are the ones the log
//! gives (they are, unless the log was edited or git was moved by hand). Otherwise the commit is
//! Quire's own for the last event, with the same tree, and a warning is logged. Either way the
//! commit's events are listed in a note ([`Projector::take_notes`], `refs/notes/quire`), which is
//! how git says which events an adopted commit carries.
//!
//! **Bodies.** Posts' bodies are most of a blog's size. A projector [`Projector::without_bodies`]
//! (the live projection's) keeps, for each post, only the seq of the event that gave it its
//! body; before an event that does not carry one, the caller reads that event back from the log
//! and hands the body over ([`Projector::missing_body`], [`Projector::give_body`]), and the body
//! is dropped again once the post's file is written.

use std::collections::HashMap;

use gix::actor::Signature;
use gix::date::Time;
use gix::objs::Commit;
use gix::ObjectId;
use ulid::Ulid;

use crate::datasets::Dataset;
use crate::event::{Envelope, EventPayload};
use crate::media::{Media, MediaBlobs};
use crate::post::Post;

use super::error::{GitError, Result};
use super::import::adopt::{follow_file, split_post_path};
use super::render::{
    alias_for, commit_message, dataset_commit_message, hugo_toml, media_commit_message, post_location, write_post_file,
    HUGO_TOML,
};
use super::tree::{needs_hugo, BlobBytes, ContentTree, ObjectSink};
use super::GitSettings;

mod pushed;

/// A post as the projection knows it.
#[derive(Debug, Clone)]
struct PostState {
    /// Without its body between events when bodies are not kept (see the module docs).
    post: Post,
    /// `/posts/<slug>/` of every slug the post had before, oldest first.
    aliases: Vec<String>,
    /// The seq of the event that set the post's body.
    body_at: u64,
}

/// The body an event gives its post, if it sets one.
pub(crate) fn body_of(payload: &EventPayload) -> Option<&str> {
    match payload {
        EventPayload::PostCreated { body, .. } => Some(body),
        EventPayload::PostUpdated { body, .. } => body.as_deref(),
        _ => None,
    }
}

/// State needed to write the next commit.
#[derive(Debug, Clone)]
pub(crate) struct Projector {
    settings: GitSettings,
    /// Boxed: a post is ~600 bytes, and a table grown to 65,536 slots for 30k posts would
    /// hold half of them empty (~18 MB) if they were stored in it.
    posts: HashMap<Ulid, Box<PostState>>,
    tree: ContentTree,
    tip: Option<ObjectId>,
    position: u64,
    last_commit: Option<Commit>,
    media: HashMap<Ulid, Media>,
    datasets: HashMap<Ulid, Dataset>,
    blobs: Option<MediaBlobs>,
    /// The text of the file being written, kept allocated from one commit to the next.
    file: String,
    /// Posts whose file is as a push wrote it, and its path (see the module docs).
    files: HashMap<Ulid, String>,
    /// The events of a pushed commit gathered so far.
    gathering: Option<pushed::Gathering>,
    /// Commits made that carry several events or none in their message, with their note.
    notes: Vec<(ObjectId, String)>,
    /// Whether posts keep their bodies between events (see the module docs).
    keep_bodies: bool,
}

impl Projector {
    /// A projector for an empty repository.
    pub(crate) fn new(settings: GitSettings) -> Self {
        Self::resume(settings, ContentTree::default(), None, 0)
    }

    /// A projector continuing after `tip` (which applied events up to `position`) with `tree`.
    /// Its posts are empty until [`Projector::replay`] is fed the events up to `position`.
    pub(crate) fn resume(settings: GitSettings, tree: ContentTree, tip: Option<ObjectId>, position: u64) -> Self {
        Self {
            settings,
            posts: HashMap::new(),
            tree,
            tip,
            position,
            last_commit: None,
            media: HashMap::new(),
            datasets: HashMap::new(),
            blobs: None,
            file: String::new(),
            files: HashMap::new(),
            gathering: None,
            notes: Vec::new(),
            keep_bodies: true,
        }
    }

    /// Keeps no post body between events: the caller gives them back (see the module docs).
    pub(crate) fn without_bodies(mut self) -> Self {
        self.keep_bodies = false;
        self
    }

    /// The seq of the event whose body `event`'s post needs given back before `event` is
    /// committed, if any.
    pub(crate) fn missing_body(&self, event: &Envelope) -> Option<u64> {
        if self.keep_bodies || body_of(&event.payload).is_some() {
            return None;
        }
        self.posts.get(&event.stream).map(|s| s.body_at).filter(|seq| *seq > 0)
    }

    /// Gives post `id` back its body, read from the event [`Projector::missing_body`] named.
    pub(crate) fn give_body(&mut self, id: Ulid, body: String) {
        if let Some(state) = self.posts.get_mut(&id) {
            state.post.body = body;
        }
    }

    /// Drops post `id`'s body when bodies are not kept.
    fn forget_body(&mut self, id: Ulid) {
        if self.keep_bodies {
            return;
        }
        if let Some(state) = self.posts.get_mut(&id) {
            state.post.body = String::new();
        }
    }

    /// Reads media bytes from `blobs` (without, media events commit no file).
    pub(crate) fn with_media(mut self, blobs: MediaBlobs) -> Self {
        self.blobs = Some(blobs);
        self
    }

    /// The seq of the last event committed.
    pub(crate) fn position(&self) -> u64 {
        self.position
    }

    /// The commit the next one builds on.
    pub(crate) fn tip(&self) -> Option<ObjectId> {
        self.tip
    }

    /// The tree as it is now.
    pub(crate) fn tree(&self) -> &ContentTree {
        &self.tree
    }

    /// The last commit object made (what `verify` compares a differing commit with).
    pub(crate) fn last_commit(&self) -> Option<&Commit> {
        self.last_commit.as_ref()
    }

    /// Folds an already committed event into the posts state, writing nothing.
    pub(crate) fn replay(&mut self, event: &Envelope) -> Result<()> {
        if event.payload.is_dataset() {
            return self.fold_dataset(event).map(|_| ());
        }
        if event.payload.is_media() {
            return self.fold_media(event).map(|_| ());
        }
        follow_file(&mut self.files, event);
        self.fold(event)?;
        self.forget_body(event.stream);
        Ok(())
    }

    /// The notes of the commits made since the last call: each commit that carries the events
    /// of a pushed commit, with the note listing them.
    pub(crate) fn take_notes(&mut self) -> Vec<(ObjectId, String)> {
        std::mem::take(&mut self.notes)
    }

    /// Commits `event` on top of the tip: writes the changed file, the trees on its path and the
    /// commit object into `sink`, and returns the commit id. `main` is not moved. `None`: the
    /// event is one of a pushed commit whose other events are still to come.
    pub(crate) fn commit(&mut self, event: &Envelope, sink: &mut impl ObjectSink) -> Result<Option<ObjectId>> {
        if event.seq != self.position + 1 {
            return Err(GitError::Gap {
                expected: self.position + 1,
                got: event.seq,
            });
        }
        let pushed = event.origin.as_ref().filter(|o| o.commit_object.is_some());
        if let (Some(gathering), None) = (&self.gathering, pushed) {
            return Err(GitError::UnfinishedPush {
                seq: event.seq,
                commit: gathering.commit.clone(),
            });
        }
        if event.payload.is_media() {
            return self.commit_media(event, sink).map(Some);
        }
        if event.payload.is_dataset() {
            return self.commit_dataset(event, sink).map(Some);
        }
        let made = match pushed {
            Some(_) => self.commit_pushed(event, sink),
            None => self.commit_post(event, sink).map(Some),
        };
        self.forget_body(event.stream);
        made
    }

    /// Where the file of post `id` is in the tree, if it is live.
    fn location_of(&self, id: &Ulid) -> Option<(String, String)> {
        match self.files.get(id) {
            Some(path) => split_post_path(path),
            None => (self.posts.get(id))
                .filter(|s| s.post.is_live())
                .map(|s| post_location(&s.post)),
        }
    }

    /// A post event of Quire's own: its file in Quire's form, at Quire's place.
    fn commit_post(&mut self, event: &Envelope, sink: &mut impl ObjectSink) -> Result<ObjectId> {
        let before = self.location_of(&event.stream);
        follow_file(&mut self.files, event);
        let mut file = std::mem::take(&mut self.file);
        let after = self.fold(event)?;
        let location = (after.post.is_live()).then(|| {
            write_post_file(&mut file, &after.post, &after.aliases);
            post_location(&after.post)
        });
        let message = commit_message(event, &after.post);
        if let Some((year, name)) = before {
            self.tree.remove_post(&year, &name);
        }
        let written =
            location.map(|(year, name)| Ok::<_, GitError>((year, name, sink.put(&BlobBytes(file.as_bytes()))?)));
        self.file = file;
        if let Some((year, name, blob)) = written.transpose()? {
            self.tree.upsert_post(&year, &name, blob);
        }
        self.finish(event, message, sink)
    }

    /// Commits a media event: an upload adds `static/media/<hash>.<ext>`; a delete removes it
    /// unless another live media has the same bytes.
    fn commit_media(&mut self, event: &Envelope, sink: &mut impl ObjectSink) -> Result<ObjectId> {
        let was_live = self.media.get(&event.stream).is_some_and(Media::is_live);
        let after = self.fold_media(event)?.clone();
        let name = after.file_name();
        if after.is_live() && !was_live {
            match self.media_bytes(&name)? {
                Some(bytes) => {
                    let blob = sink.put(&BlobBytes(&bytes))?;
                    self.tree.upsert_media(&name, blob);
                }
                None => {
                    tracing::warn!(file = %name, seq = event.seq, "media bytes missing; committed without the file")
                }
            }
        } else if was_live && !after.is_live() {
            let shared = self
                .media
                .values()
                .any(|m| m.id != after.id && m.is_live() && m.hash == after.hash);
            if !shared {
                self.tree.remove_media(&name);
            }
        }
        self.finish(event, media_commit_message(event, &after), sink)
    }

    /// Commits a dataset event: `static/data/<name>.csv` (on a put; Hugo serves it at the same
    /// `/data/<name>.csv` as Quire, and a template reads it with `os.ReadFile … |
    /// transform.Unmarshal`) and `data/<name>.json`, its metadata (`site.Data.<name>`), while it
    /// is live; both go when it is deleted. The CSV is not in `data/`: Hugo before 0.112
    /// (Debian bookworm has 0.111) fails the whole build on a CSV file there.
    fn commit_dataset(&mut self, event: &Envelope, sink: &mut impl ObjectSink) -> Result<ObjectId> {
        let after = self.fold_dataset(event)?.clone();
        let (csv, meta) = (format!("{}.csv", after.name), format!("{}.json", after.name));
        if after.is_live() {
            if matches!(event.payload, EventPayload::DatasetPut { .. }) {
                match self.media_bytes(&after.file_name())? {
                    Some(bytes) => {
                        let blob = sink.put(&BlobBytes(&bytes))?;
                        self.tree.upsert_static_data(&csv, blob);
                    }
                    None => {
                        tracing::warn!(dataset = %after.name, seq = event.seq, "dataset bytes missing; committed without the file")
                    }
                }
            }
            let blob = sink.put(&BlobBytes(dataset_metadata(&after).as_bytes()))?;
            self.tree.upsert_data(&meta, blob);
        } else {
            self.tree.remove_static_data(&csv);
            self.tree.remove_data(&meta);
        }
        self.finish(event, dataset_commit_message(event, &after.name), sink)
    }

    /// Applies a dataset event to its dataset; returns the dataset after it.
    fn fold_dataset(&mut self, event: &Envelope) -> Result<&Dataset> {
        let before = self.datasets.remove(&event.stream);
        let set = Dataset::apply(before, event).ok_or(GitError::BrokenStream {
            seq: event.seq,
            stream: event.stream,
        })?;
        Ok(self.datasets.entry(event.stream).insert_entry(set).into_mut())
    }

    /// The bytes of media file `name`, `None` if the media folder does not have them.
    fn media_bytes(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let Some(path) = self.blobs.as_ref().and_then(|b| b.path_of(name)) else {
            return Ok(None);
        };
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(GitError::Io {
                context: "reading a media file",
                path,
                source,
            }),
        }
    }

    /// Writes `hugo.toml` with the first commit, the changed trees and the commit object.
    fn finish(&mut self, event: &Envelope, message: String, sink: &mut impl ObjectSink) -> Result<ObjectId> {
        if needs_hugo(&self.tree) && self.tip.is_none() {
            let blob = sink.put(&BlobBytes(hugo_toml(&self.settings).as_bytes()))?;
            self.tree.set_root_file(HUGO_TOML, blob);
        }
        let tree = self.tree.write(sink)?;
        let commit = self.commit_object(event, message, tree);
        let id = sink.put(&commit)?;
        self.last_commit = Some(commit);
        self.tip = Some(id);
        self.position = event.seq;
        Ok(id)
    }

    /// Applies a media event to its media; returns the media after it.
    fn fold_media(&mut self, event: &Envelope) -> Result<&Media> {
        let before = self.media.remove(&event.stream);
        let media = Media::apply(before, event).ok_or(GitError::BrokenStream {
            seq: event.seq,
            stream: event.stream,
        })?;
        Ok(self.media.entry(event.stream).insert_entry(media).into_mut())
    }

    /// Applies `event` to its post; returns the post after it.
    fn fold(&mut self, event: &Envelope) -> Result<&PostState> {
        let previous = self.posts.remove(&event.stream).map(|s| *s);
        let old_slug = previous.as_ref().map(|s| s.post.slug.clone());
        let (previous, mut aliases, body_at) = match previous {
            Some(state) => (Some(state.post), state.aliases, state.body_at),
            None => (None, Vec::new(), 0),
        };
        let body_at = if body_of(&event.payload).is_some() {
            event.seq
        } else {
            body_at
        };
        let post = Post::apply(previous, event).ok_or(GitError::BrokenStream {
            seq: event.seq,
            stream: event.stream,
        })?;
        if let Some(old) = old_slug.filter(|old| *old != post.slug) {
            let old = alias_for(&old);
            if !aliases.contains(&old) {
                aliases.push(old);
            }
        }
        let current = alias_for(&post.slug);
        aliases.retain(|a| *a != current);
        let slot = self
            .posts
            .entry(event.stream)
            .insert_entry(Box::new(PostState { post, aliases, body_at }));
        Ok(&**slot.into_mut())
    }

    fn commit_object(&self, event: &Envelope, message: String, tree: ObjectId) -> Commit {
        let time = Time {
            seconds: event.at.unix_timestamp(),
            offset: 0,
        };
        let author_email = match &self.settings.author_email {
            Some(email) => email.clone(),
            None => format!("{}@{}", event.actor, self.settings.author_email_domain),
        };
        Commit {
            tree,
            parents: self.tip.into_iter().collect(),
            author: signature(&event.actor, &author_email, time),
            committer: signature(&self.settings.committer_name, &self.settings.committer_email, time),
            encoding: None,
            message: message.into(),
            extra_headers: Vec::new(),
        }
    }
}

/// A signature with the characters git forbids in names and emails replaced.
fn signature(name: &str, email: &str, time: Time) -> Signature {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if matches!(c, '<' | '>') || c.is_control() {
                    '_'
                } else {
                    c
                }
            })
            .collect::<String>()
            .trim()
            .to_owned()
    };
    Signature {
        name: clean(name).into(),
        email: clean(email).into(),
        time,
    }
}

/// `data/<name>.json`: what a Hugo template (or a script) needs besides the CSV.
fn dataset_metadata(set: &Dataset) -> String {
    let meta = serde_json::json!({
        "name": set.name,
        "title": set.meta.title,
        "description": set.meta.description,
        "status": set.meta.status,
        "chart": set.meta.chart,
        "source_url": set.meta.source_url,
        "refresh": set.meta.refresh,
        "rows": set.rows,
        "columns": set.columns,
        "hash": set.hash,
        "owner": set.owner,
    });
    serde_json::to_string_pretty(&meta).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::super::tree::HashSink;
    use super::*;
    use crate::post::Status;

    fn event(seq: u64, stream: Ulid, payload: EventPayload) -> Envelope {
        Envelope {
            seq,
            id: Ulid::from_parts(seq, 1),
            stream,
            version: seq,
            actor: "ada".into(),
            at: datetime!(2026-03-01 10:00 UTC),
            idempotency_key: None,
            origin: None,
            payload,
        }
    }

    fn update(slug: Option<&str>, body: Option<&str>) -> EventPayload {
        EventPayload::PostUpdated {
            slug: slug.map(Into::into),
            title: None,
            body: body.map(Into::into),
            tags: None,
            publish_at: None,
            properties: None,
            base_version: None,
            merged: false,
        }
    }

    /// One post created, renamed, edited, renamed again and unpublished.
    fn events() -> Vec<Envelope> {
        let id = Ulid::from_parts(7, 7);
        let created = EventPayload::PostCreated {
            slug: "a".into(),
            title: "A".into(),
            body: "The first body.\n".into(),
            tags: vec!["t".into()],
            status: Status::Published,
            publish_at: Some(datetime!(2026-03-01 10:00 UTC)),
            author: "ada".into(),
            properties: Default::default(),
        };
        let unpublished = EventPayload::PostUnpublished {
            base_version: None,
            merged: false,
        };
        [
            created,
            update(Some("b"), None),
            update(None, Some("The second body.\n")),
            update(Some("c"), None),
            unpublished,
        ]
        .into_iter()
        .enumerate()
        .map(|(i, payload)| event(i as u64 + 1, id, payload))
        .collect()
    }

    #[test]
    fn without_bodies_the_commits_are_the_same_when_bodies_are_given_back() {
        let events = events();
        let (mut keeping, mut sink) = (Projector::new(GitSettings::default()), HashSink::default());
        let kept: Vec<_> = events
            .iter()
            .map(|e| keeping.commit(e, &mut sink).expect("commit"))
            .collect();

        let mut lean = Projector::new(GitSettings::default()).without_bodies();
        let mut asked = Vec::new();
        for (e, expected) in events.iter().zip(&kept) {
            if let Some(seq) = lean.missing_body(e) {
                asked.push((e.seq, seq));
                let body = body_of(&events[seq as usize - 1].payload).expect("a body");
                lean.give_body(e.stream, body.to_owned());
            }
            assert_eq!(lean.commit(e, &mut sink).expect("commit"), *expected, "event {}", e.seq);
            assert!(
                lean.posts[&e.stream].post.body.is_empty(),
                "no body kept after {}",
                e.seq
            );
        }
        assert_eq!(
            asked,
            [(2, 1), (4, 3), (5, 3)],
            "the events without a body, and where it is"
        );
        assert!(events.iter().all(|e| keeping.missing_body(e).is_none()));
    }

    #[test]
    fn a_body_not_given_back_changes_the_file() {
        let events = events();
        let mut sink = HashSink::default();
        let mut keeping = Projector::new(GitSettings::default());
        let mut lean = Projector::new(GitSettings::default()).without_bodies();
        for e in &events[..2] {
            let kept = keeping.commit(e, &mut sink).expect("commit");
            let made = lean.commit(e, &mut sink).expect("commit");
            assert_eq!(made == kept, e.seq == 1, "only the first carries its body");
        }
    }
}
