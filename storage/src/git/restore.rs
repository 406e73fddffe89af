//! Reading the event log back out of the repository alone (`quire restore --from-git`).
//!
//! Every projected commit says which event made it: the envelope is in its trailers (`Event-Id`,
//! `Event-Seq`, `Event-Type`, `Stream-Version`, `Post-Id`, `Actor`, `Event-Time` with the
//! event's exact time, `Idempotency-Key` when the request had one) and the payload in
//! `Event-Data`, except a live post's body, which is the body of the post's file in the
//! commit's tree. Walking `main` from its root commit gives the events in seq order.
//!
//! Nothing is taken on trust: each event read back is committed again in memory (hashing only,
//! as `verify` does) with the given settings and must give exactly the commit it was read from.
//! So the events either are, byte for byte, the ones that made the repository, or reading stops
//! at the first commit where they are not and says why (a hand-made commit, a commit of a Quire
//! older than these trailers, other git settings).
//!
//! A commit with a note in `refs/notes/quire` (a pushed commit Quire adopted, which keeps the
//! pusher's message) carries the events its note lists, as the log stored them; they too must
//! give exactly that commit. A clone needs the notes: `git fetch origin 'refs/notes/*:refs/notes/*'`.
//!
//! A media commit names its stream with `Media-Id`. With [`GitEvents::restore_media_into`],
//! the file of each upload (`static/media/<hash>.<ext>`) is checked against its hash and stored
//! in the given media folder before its commit is replayed, so git alone restores media too;
//! without it, the bytes must already be in the media folder beside the repository.

use std::collections::{HashMap, VecDeque};
use std::path::Path;

use gix::ObjectId;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use ulid::Ulid;

use crate::event::{Envelope, EventPayload};
use crate::media::{blobs::sha256_hex, model::extension_of, MediaBlobs};
use crate::post::Post;

use super::error::{gix_err, GitError, Result};
use super::notes::Notes;
use super::projector::Projector;
use super::render::{
    created_location, parse_trailers, post_location, unquote, Trailers, HUGO_TOML, MEDIA_DIR, POSTS_DIR,
};
use super::repo::{first_parent_history, main_tip, read_commit, CommitData};
use super::tree::{read_tree, HashSink};
use super::GitSettings;

/// The settings the repository at `path` was written with, as far as its root commit tells:
/// `hugo.toml`'s title and base URL, the committer, and the author email (a domain, or one
/// address for all). `None` for a repository without commits.
pub fn settings_of(path: &Path) -> Result<Option<GitSettings>> {
    let repo = open(path)?;
    let Some(root) = history(&repo)?.into_iter().next() else {
        return Ok(None);
    };
    let commit = read_commit(&repo, root)?;
    let mut settings = GitSettings {
        committer_name: commit.commit.committer.name.to_string(),
        committer_email: commit.commit.committer.email.to_string(),
        ..GitSettings::default()
    };
    let actor = parse_trailers(commit.message()).actor.unwrap_or_default();
    let email = commit.commit.author.email.to_string();
    match email.strip_prefix(&format!("{actor}@")) {
        Some(domain) if !actor.is_empty() => settings.author_email_domain = domain.to_owned(),
        _ => settings.author_email = Some(email),
    }
    let root_tree = read_tree(&repo, commit.tree)?;
    if let Some(entry) = root_tree.entries.iter().find(|e| e.filename == HUGO_TOML) {
        let text = String::from_utf8_lossy(&read_blob(&repo, entry.oid)?).into_owned();
        for line in text.lines() {
            let Some((key, value)) = line.split_once(" = ") else {
                continue;
            };
            match (key, unquote(value)) {
                ("baseURL", Some(value)) => settings.base_url = value,
                ("title", Some(value)) => settings.site_title = value,
                _ => {}
            }
        }
    }
    Ok(Some(settings))
}

/// The events that made the repository at `path`, oldest first, each checked to reproduce its
/// commit with `settings` (see the module docs). Stops after the first error.
pub fn events_from_git(path: &Path, settings: &GitSettings) -> Result<GitEvents> {
    let repo = open(path)?;
    let commits = history(&repo)?;
    let notes = Notes::load(&repo)?;
    let sink = HashSink::knowing(&repo);
    Ok(GitEvents {
        repo,
        commits: commits.into_iter(),
        projector: Projector::new(settings.clone()).with_media(super::media_beside(path)),
        sink,
        posts: HashMap::new(),
        failed: false,
        media: None,
        notes,
        queue: VecDeque::new(),
    })
}

/// Iterator of [`events_from_git`].
pub struct GitEvents {
    repo: gix::Repository,
    commits: std::vec::IntoIter<ObjectId>,
    projector: Projector,
    sink: HashSink,
    /// Each post after the last event read, to find its file in the next commit.
    posts: HashMap<Ulid, Post>,
    failed: bool,
    /// Where the bytes of uploads found in the commits go.
    media: Option<MediaBlobs>,
    notes: Notes,
    /// Events read from a note and not handed out yet.
    queue: VecDeque<Envelope>,
}

impl std::fmt::Debug for GitEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitEvents")
            .field("position", &self.projector.position())
            .field("remaining", &self.commits.len())
            .finish_non_exhaustive()
    }
}

impl GitEvents {
    /// How many commits are still to be read.
    pub fn remaining(&self) -> usize {
        self.commits.len()
    }

    /// Stores each upload's file from the commits into `blobs` (checked against its hash), and
    /// replays the media commits with the bytes from there.
    pub fn restore_media_into(mut self, blobs: MediaBlobs) -> Self {
        self.projector = self.projector.clone().with_media(blobs.clone());
        self.media = Some(blobs);
        self
    }

    /// The events of the commit `id` carries, checked to give that commit.
    fn events_of(&mut self, id: ObjectId) -> Result<VecDeque<Envelope>> {
        let Some(events) = self.notes.events(&self.repo, id)? else {
            return self.next_event(id).map(|e| VecDeque::from([e]));
        };
        let commit = read_commit(&self.repo, id)?;
        let mut made = None;
        for event in &events {
            let expected = self.projector.position() + 1;
            if event.seq != expected {
                let seq = event.seq;
                return Err(unrestorable(
                    &commit,
                    format!("its note lists event seq {seq}, expected {expected}"),
                ));
            }
            made = self.projector.commit(event, &mut self.sink)?;
            if !event.payload.is_media() && !event.payload.is_dataset() {
                let post = Post::apply(self.posts.remove(&event.stream), event)
                    .ok_or_else(|| unrestorable(&commit, "a post in its note was never created".into()))?;
                self.posts.insert(event.stream, post);
            }
        }
        self.projector.take_notes();
        if made != Some(commit.id) {
            return Err(unrestorable(
                &commit,
                "the events of its note do not give it: the commit or its note was changed by hand".into(),
            ));
        }
        Ok(events.into())
    }

    fn next_event(&mut self, id: ObjectId) -> Result<Envelope> {
        let commit = read_commit(&self.repo, id)?;
        let event = self.event_of(&commit)?;
        if let EventPayload::MediaUploaded { hash, content_type, .. } = &event.payload {
            self.copy_media(&commit, hash, content_type)?;
        }
        if let EventPayload::DatasetPut { name, hash, .. } = &event.payload {
            self.copy_dataset(&commit, name, hash)?;
        }
        let expected = self
            .projector
            .commit(&event, &mut self.sink)?
            .unwrap_or(ObjectId::null(gix::hash::Kind::Sha1));
        self.projector.take_notes();
        if expected != commit.id {
            return Err(unrestorable(
                &commit,
                format!(
                    "the event read back from it gives commit {expected}: the commit was changed by hand, or the \
                     git settings (site title, base URL, author email, committer) differ from those it was made with"
                ),
            ));
        }
        if event.payload.is_media() || event.payload.is_dataset() {
            return Ok(event);
        }
        let post = Post::apply(self.posts.remove(&event.stream), &event)
            .ok_or_else(|| unrestorable(&commit, "its post was never created".into()))?;
        self.posts.insert(event.stream, post);
        Ok(event)
    }

    /// The envelope a commit's trailers and tree describe.
    fn event_of(&self, commit: &CommitData) -> Result<Envelope> {
        let t = parse_trailers(commit.message());
        let bad = |what: &str| unrestorable(commit, what.to_owned());
        let seq = t
            .seq
            .ok_or_else(|| bad("it has no Event-Seq trailer: it was not made by Quire"))?;
        let expected = self.projector.position() + 1;
        if seq != expected {
            return Err(bad(&format!("it is for event seq {seq}, expected {expected}")));
        }
        let (Some(time), Some(data)) = (&t.time, &t.data) else {
            return Err(bad(
                "it has no Event-Time/Event-Data trailers: it was made by a Quire older than `restore`; \
                 restore from a backup or an export instead",
            ));
        };
        let parse_ulid = |value: &Option<String>, name: &str| {
            value
                .as_deref()
                .and_then(|v| v.parse::<Ulid>().ok())
                .ok_or_else(|| bad(&format!("its {name} trailer is missing or not a ULID")))
        };
        let mut event = Envelope {
            seq,
            id: parse_ulid(&t.event_id, "Event-Id")?,
            stream: match (&t.media_id, &t.dataset_id) {
                (Some(_), _) => parse_ulid(&t.media_id, "Media-Id")?,
                (None, Some(_)) => parse_ulid(&t.dataset_id, "Dataset-Id")?,
                (None, None) => parse_ulid(&t.post_id, "Post-Id")?,
            },
            version: t.version.ok_or_else(|| bad("it has no Stream-Version trailer"))?,
            actor: t.actor.clone().ok_or_else(|| bad("it has no Actor trailer"))?,
            at: OffsetDateTime::parse(time, &Rfc3339).map_err(|_| bad("its Event-Time is not RFC 3339"))?,
            idempotency_key: t.idempotency_key.clone(),
            origin: t.source.clone().map(|source| crate::event::Origin {
                source,
                client: t.client.clone(),
                commit: t.pushed_commit.clone(),
                ..Default::default()
            }),
            payload: EventPayload::PostDeleted {},
        };
        let mut fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(data).map_err(|e| bad(&format!("its Event-Data is not a JSON object: {e}")))?;
        let body_in_file = fields.get("body") == Some(&serde_json::Value::Bool(true));
        if body_in_file {
            fields.insert("body".into(), serde_json::Value::String(String::new()));
        }
        event.payload = payload(&t, fields.clone()).map_err(|e| bad(&e))?;
        if body_in_file {
            // Fold with an empty body to learn where the post's file is, then read the body there.
            let before = self.posts.get(&event.stream).cloned();
            let post = Post::apply(before, &event).ok_or_else(|| bad("its post was never created"))?;
            let body = self.body_of(commit, &post)?;
            fields.insert("body".into(), serde_json::Value::String(body));
            event.payload = payload(&t, fields).map_err(|e| bad(&e))?;
        }
        Ok(event)
    }

    /// Copies an upload's file from `commit` into the media folder (if one was given and the
    /// commit has the file: a commit made while the bytes were missing has none).
    fn copy_media(&self, commit: &CommitData, hash: &str, content_type: &str) -> Result<()> {
        let (Some(blobs), Some(ext)) = (&self.media, extension_of(content_type)) else {
            return Ok(());
        };
        let name = format!("{hash}.{ext}");
        let Some(bytes) = self.file_at(commit, &[MEDIA_DIR[0], MEDIA_DIR[1], &name])? else {
            return Ok(());
        };
        if sha256_hex(&bytes) != hash {
            return Err(unrestorable(commit, format!("its file {name} does not have that hash")));
        }
        blobs
            .put(&bytes, ext)
            .map_err(|e| unrestorable(commit, format!("storing {name} failed: {e}")))?;
        Ok(())
    }

    /// Stores a dataset's CSV from `static/data/<name>.csv` of the commit (checked against its hash).
    fn copy_dataset(&self, commit: &CommitData, name: &str, hash: &str) -> Result<()> {
        let Some(blobs) = &self.media else {
            return Ok(());
        };
        let file = format!("{name}.csv");
        let Some(bytes) = self.file_at(commit, &[MEDIA_DIR[0], super::render::DATA_DIR, &file])? else {
            return Ok(());
        };
        if sha256_hex(&bytes) != hash {
            return Err(unrestorable(
                commit,
                format!("its file static/data/{file} does not have that hash"),
            ));
        }
        blobs
            .put(&bytes, "csv")
            .map_err(|e| unrestorable(commit, format!("storing static/data/{file} failed: {e}")))?;
        Ok(())
    }

    /// The bytes of the file at `path` in `commit`'s tree, if there is one.
    fn file_at(&self, commit: &CommitData, path: &[&str]) -> Result<Option<Vec<u8>>> {
        let mut tree = read_tree(&self.repo, commit.tree)?;
        for (i, part) in path.iter().enumerate() {
            let Some(entry) = tree.entries.iter().find(|e| e.filename == *part).map(|e| e.oid) else {
                return Ok(None);
            };
            if i + 1 == path.len() {
                return read_blob(&self.repo, entry).map(Some);
            }
            tree = read_tree(&self.repo, entry)?;
        }
        Ok(None)
    }

    /// The body of `post`'s file in `commit`: what follows the front matter. The file is in the
    /// year of the post's date, or, in a repository written by an older Quire, of its creation.
    fn body_of(&self, commit: &CommitData, post: &Post) -> Result<String> {
        let (new, old) = (post_location(post), created_location(post));
        match self.body_at(commit, &new) {
            Err(_) if old != new => self.body_at(commit, &old),
            found => found,
        }
    }

    fn body_at(&self, commit: &CommitData, (year, name): &(String, String)) -> Result<String> {
        let mut tree = read_tree(&self.repo, commit.tree)?;
        let path = [POSTS_DIR[0], POSTS_DIR[1], year.as_str(), name.as_str()];
        let missing = || unrestorable(commit, format!("its file {} is missing", path.join("/")));
        for (i, part) in path.iter().enumerate() {
            let entry = tree
                .entries
                .iter()
                .find(|e| e.filename == *part)
                .map(|e| e.oid)
                .ok_or_else(missing)?;
            if i + 1 == path.len() {
                let text = String::from_utf8(read_blob(&self.repo, entry)?).map_err(|_| missing())?;
                let body = text
                    .strip_prefix("---\n")
                    .and_then(|rest| rest.split_once("\n---\n"))
                    .map(|(_, body)| body.to_owned());
                return body.ok_or_else(|| unrestorable(commit, format!("{} has no front matter", path.join("/"))));
            }
            tree = read_tree(&self.repo, entry)?;
        }
        Err(missing())
    }
}

impl Iterator for GitEvents {
    type Item = Result<Envelope>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if let Some(event) = self.queue.pop_front() {
            return Some(Ok(event));
        }
        let id = self.commits.next()?;
        match self.events_of(id) {
            Ok(events) => {
                self.queue = events;
                self.queue.pop_front().map(Ok)
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// The payload of type `Event-Type` with `data`.
fn payload(
    t: &Trailers,
    data: serde_json::Map<String, serde_json::Value>,
) -> std::result::Result<EventPayload, String> {
    let kind = t.event_type.as_deref().ok_or("it has no Event-Type trailer")?;
    let tagged = serde_json::json!({ "type": kind, "data": data });
    serde_json::from_value(tagged).map_err(|e| format!("its Event-Data is not a {kind}: {e}"))
}

fn open(path: &Path) -> Result<gix::Repository> {
    gix::open(path).map_err(gix_err(format!("opening {}", path.display())))
}

/// `main`'s first-parent history, oldest first.
fn history(repo: &gix::Repository) -> Result<Vec<ObjectId>> {
    let mut ids = first_parent_history(repo, main_tip(repo)?)
        .map(|c| c.map(|c| c.id))
        .collect::<Result<Vec<_>>>()?;
    ids.reverse();
    Ok(ids)
}

fn read_blob(repo: &gix::Repository, id: ObjectId) -> Result<Vec<u8>> {
    let object = repo.find_object(id).map_err(gix_err(format!("reading blob {id}")))?;
    Ok(object.detach().data)
}

fn unrestorable(commit: &CommitData, reason: String) -> GitError {
    GitError::Unrestorable {
        commit: commit.id.to_string(),
        reason,
    }
}
