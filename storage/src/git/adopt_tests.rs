//! The projection adopts a pushed commit exactly (same id) when the log gives its tree and
//! parent, gathers a commit's events into one commit, and falls back to its own commit otherwise.

use gix::objs::WriteTo as _;
use gix::ObjectId;
use time::macros::datetime;
use ulid::Ulid;

use crate::event::{Envelope, EventPayload, Origin};
use crate::post::Status;

use super::notes::parse_note;
use super::projector::Projector;
use super::tree::{BlobBytes, HashSink, ObjectSink};
use super::GitSettings;

const PATH: &str = "content/posts/2026/by-hand.md";
const FILE: &str = "---\ntitle: By hand\n---\nWritten in an editor.\n";

fn created(seq: u64, stream: Ulid, slug: &str, origin: Option<Origin>) -> Envelope {
    Envelope {
        seq,
        id: Ulid::from_parts(seq, 1),
        stream,
        version: 1,
        actor: "ada".into(),
        at: datetime!(2026-03-01 10:00 UTC),
        idempotency_key: None,
        origin,
        payload: EventPayload::PostCreated {
            slug: slug.into(),
            title: slug.into(),
            body: "body\n".into(),
            tags: Vec::new(),
            status: Status::Published,
            publish_at: Some(datetime!(2026-03-01 10:00 UTC)),
            author: "ada".into(),
            properties: Default::default(),
        },
    }
}

/// A projector with one post of Quire's, and the commit object a pusher would make on top of it
/// adding [`FILE`] at [`PATH`] (with `parent` as its parent).
fn pushed_on_top(parent_override: Option<ObjectId>) -> (Projector, String, ObjectId) {
    let mut projector = Projector::new(GitSettings::default());
    let mut sink = HashSink::default();
    let tip = projector
        .commit(&created(1, Ulid::from_parts(1, 9), "quire", None), &mut sink)
        .expect("commit")
        .expect("Quire's own event makes a commit");
    let mut tree = projector.tree().clone();
    tree.upsert_post(
        "2026",
        "by-hand.md",
        sink.put(&BlobBytes(FILE.as_bytes())).expect("blob"),
    );
    let tree = tree.write(&mut sink).expect("tree");
    let parent = parent_override.unwrap_or(tip);
    let object = format!(
        "tree {tree}\nparent {parent}\nauthor Pusher <p@example.invalid> 1770000000 +0100\n\
         committer Pusher <p@example.invalid> 1770000000 +0100\n\nWrite a post by hand\n"
    );
    let mut bytes = Vec::new();
    gix::objs::CommitRef::from_bytes(object.as_bytes(), gix::hash::Kind::Sha1)
        .expect("a commit")
        .write_to(&mut bytes)
        .expect("encode");
    assert_eq!(bytes, object.as_bytes(), "the test's commit object is canonical");
    let id = gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Commit, &bytes).expect("hash");
    (projector, object, id)
}

fn pushed(object: &str, id: ObjectId, events: u64) -> Origin {
    Origin {
        path: Some(PATH.into()),
        file: Some(FILE.into()),
        commit_object: Some(object.into()),
        commit_events: Some(events),
        ..Origin::git_push(id.to_string())
    }
}

#[test]
fn a_pushed_commit_that_follows_from_the_log_is_written_with_its_own_id() {
    let (mut projector, object, id) = pushed_on_top(None);
    let event = created(2, Ulid::from_parts(2, 9), "by-hand", Some(pushed(&object, id, 1)));
    let made = projector.commit(&event, &mut HashSink::default()).expect("commit");
    assert_eq!(made, Some(id), "main gets the pusher's very commit");
    let notes = projector.take_notes();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].0, id);
    assert_eq!(parse_note(notes[0].1.as_bytes()).expect("note"), vec![event]);
}

#[test]
fn the_events_of_one_pushed_commit_make_one_commit() {
    let (mut projector, object, id) = pushed_on_top(None);
    let first = created(2, Ulid::from_parts(2, 9), "by-hand", Some(pushed(&object, id, 2)));
    let mut sink = HashSink::default();
    assert_eq!(
        projector.commit(&first, &mut sink).expect("commit"),
        None,
        "more to come"
    );
    let mut second = created(3, Ulid::from_parts(3, 9), "other", Some(pushed(&object, id, 2)));
    second.origin = second.origin.map(|o| Origin {
        path: None,
        file: None,
        ..o
    });
    let made = projector.commit(&second, &mut sink).expect("commit");
    assert!(made.is_some(), "the last event writes the commit");
    let notes = projector.take_notes();
    let carried: Vec<u64> = parse_note(notes[0].1.as_bytes())
        .expect("note")
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(carried, [2, 3]);
    assert_eq!(projector.position(), 3);
}

#[test]
fn a_pushed_commit_that_does_not_follow_from_the_log_becomes_quires_own() {
    let elsewhere = ObjectId::from_hex(b"0123456789abcdef0123456789abcdef01234567").expect("hex");
    let (mut projector, object, id) = pushed_on_top(Some(elsewhere));
    let event = created(2, Ulid::from_parts(2, 9), "by-hand", Some(pushed(&object, id, 1)));
    let made = projector
        .commit(&event, &mut HashSink::default())
        .expect("commit")
        .expect("a commit");
    assert_ne!(made, id);
    let message = projector.last_commit().expect("made").message.to_string();
    assert!(message.contains("Event-Seq: 2") && message.contains(&format!("Pushed-Commit: {id}")));
    assert_eq!(projector.take_notes().len(), 1, "its note still lists its events");
}

/// Hashes like [`HashSink`] and knows one more object, as a repository holding the forge's
/// side of a merge does.
struct Knowing(HashSink, ObjectId);

impl ObjectSink for Knowing {
    fn put<O: gix::objs::WriteTo>(&mut self, object: &O) -> crate::git::error::Result<ObjectId> {
        self.0.put(object)
    }
    fn contains(&self, id: &ObjectId) -> bool {
        *id == self.1
    }
}

/// [`pushed_on_top`]'s commit with `other` as a second parent: a merge a pull made.
fn merged_on_top(other: ObjectId) -> (Projector, String, ObjectId) {
    let (projector, object, _) = pushed_on_top(None);
    let object = object.replacen("\nauthor ", &format!("\nparent {other}\nauthor "), 1);
    let id = gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Commit, object.as_bytes()).expect("hash");
    (projector, object, id)
}

#[test]
fn a_merge_is_written_as_it_is_only_when_its_other_parent_is_in_the_repository() {
    let forge = ObjectId::from_hex(b"89abcdef0123456789abcdef0123456789abcdef").expect("hex");
    let (mut projector, object, id) = merged_on_top(forge);
    let event = created(2, Ulid::from_parts(2, 9), "by-hand", Some(pushed(&object, id, 1)));
    let made = projector.commit(&event, &mut Knowing(HashSink::default(), forge));
    assert_eq!(made.expect("commit"), Some(id), "the merge itself");
    assert_eq!(projector.last_commit().expect("made").parents.len(), 2);

    // Without the forge's commit (a repository rebuilt elsewhere), Quire's own commit.
    let (mut projector, object, id) = merged_on_top(forge);
    let event = created(2, Ulid::from_parts(2, 9), "by-hand", Some(pushed(&object, id, 1)));
    let made = projector.commit(&event, &mut HashSink::default()).expect("commit");
    assert!(made.is_some_and(|made| made != id), "{made:?}");
    assert_eq!(projector.last_commit().expect("made").parents.len(), 1);
}
