//! `update_from_base` over a real log: merges, conflicts, deletes, and rights before disclosure.

use std::sync::Arc;

use super::*;
use crate::event::EventPayload;
use crate::post::Status;
use crate::posts::{system_clock, NewPost};
use crate::sled_store::{SledOptions, SledStore};
use crate::users::Role;

const BODY: &str = "First paragraph.\n\nSecond paragraph.\n\nThird paragraph.\n";

fn setup(dir: &std::path::Path) -> Posts {
    let store = Arc::new(SledStore::open(dir, &SledOptions::default()).expect("open"));
    Posts::new(store, system_clock())
}

fn ada() -> Actor {
    Actor::user(Ulid::new(), "ada", Role::Author)
}

/// A post at version 2: created, then its title changed by another device.
fn edited_elsewhere(posts: &Posts) -> Post {
    let input = NewPost {
        title: "Draft".into(),
        body: BODY.into(),
        tags: vec!["rust".into()],
        ..NewPost::default()
    };
    let post = posts.create(&ada(), input, None).expect("create");
    let title = PostPatch {
        title: Some("Their title".into()),
        ..PostPatch::default()
    };
    posts.update(&ada(), post.id, Some(1), title, None).expect("their edit")
}

fn body(text: &str) -> PostPatch {
    PostPatch {
        body: Some(text.into()),
        ..PostPatch::default()
    }
}

#[test]
fn a_body_edit_from_version_1_merges_with_a_title_edit_and_records_its_base() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = setup(dir.path());
    let post = edited_elsewhere(&posts);
    let mine = body(&BODY.replace("Third", "Last"));
    let merged = posts.update_from_base(&ada(), post.id, 1, mine, None).expect("merges");
    assert_eq!((merged.version, merged.title.as_str()), (3, "Their title"));
    assert_eq!(merged.body, BODY.replace("Third", "Last"));
    let events = posts.store().stream_events(post.id).expect("history");
    let EventPayload::PostUpdated {
        base_version, merged, ..
    } = &events[2].payload
    else {
        panic!("an update, not {:?}", events[2].payload);
    };
    assert_eq!((*base_version, *merged), (Some(1), true));
}

#[test]
fn overlapping_changes_are_a_conflict_with_the_current_post_and_change_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = setup(dir.path());
    let post = edited_elsewhere(&posts);
    let mine = PostPatch {
        title: Some("My title".into()),
        ..PostPatch::default()
    };
    let err = posts
        .update_from_base(&ada(), post.id, 1, mine, None)
        .expect_err("conflicts");
    let Error::MergeConflict {
        base,
        current,
        conflicts,
        ..
    } = err
    else {
        panic!("a merge conflict, not {err:?}");
    };
    assert_eq!((base, current.version), (1, 2));
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].theirs.as_deref(), Some("Their title"));
    assert_eq!(posts.store().post(post.id).expect("read").expect("post").version, 2);
}

#[test]
fn a_base_equal_to_the_current_version_is_a_plain_update() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = setup(dir.path());
    let post = edited_elsewhere(&posts);
    let updated = posts
        .update_from_base(&ada(), post.id, 2, body("new"), None)
        .expect("updates");
    assert_eq!(updated.version, 3);
    let events = posts.store().stream_events(post.id).expect("history");
    assert!(matches!(
        events[2].payload,
        EventPayload::PostUpdated {
            base_version: None,
            merged: false,
            ..
        }
    ));
}

#[test]
fn a_base_the_post_never_had_is_named_in_the_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = setup(dir.path());
    let post = edited_elsewhere(&posts);
    for base in [0, 3, 99] {
        let err = posts
            .update_from_base(&ada(), post.id, base, body("x"), None)
            .expect_err("no such base");
        assert!(
            matches!(err, Error::UnknownBase { latest: 2, base: b, .. } if b == base),
            "{err:?}"
        );
    }
}

#[test]
fn an_edit_of_a_post_deleted_meanwhile_says_it_was_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = setup(dir.path());
    let post = edited_elsewhere(&posts);
    posts.delete(&ada(), post.id, Some(2), None).expect("delete");
    let err = posts
        .update_from_base(&ada(), post.id, 1, body("mine"), None)
        .expect_err("deleted");
    assert!(
        matches!(&err, Error::InvalidState { message, .. } if message.contains("deleted after version 1")),
        "{err:?}"
    );
}

#[test]
fn rights_are_checked_before_any_version_or_conflict_is_shown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = setup(dir.path());
    let post = edited_elsewhere(&posts);
    let stranger = Actor::user(Ulid::new(), "bob", Role::Contributor);
    for base in [1, 99] {
        let err = posts
            .update_from_base(&stranger, post.id, base, body("x"), None)
            .expect_err("not bob's");
        // Another user's draft is not there at all for a contributor: no version is named.
        assert!(matches!(err, Error::PostNotFound { .. }), "{err:?}");
    }
    let mut write_only = ada();
    write_only.scopes = vec![Scope::PostsWrite];
    let mine = PostPatch {
        title: Some("My title".into()),
        ..PostPatch::default()
    };
    for base in [1, 99] {
        let err = posts
            .update_from_base(&write_only, post.id, base, mine.clone(), None)
            .expect_err("needs posts:read");
        assert!(
            matches!(&err, Error::Forbidden { missing, .. } if missing == "posts:read"),
            "a merge reads the history, so it needs posts:read: {err:?}"
        );
    }
}

#[test]
fn a_status_only_merge_records_its_base_like_any_other() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = setup(dir.path());
    let post = edited_elsewhere(&posts);
    let publish = PostPatch {
        status: Some(Status::Published),
        ..PostPatch::default()
    };
    let published = posts
        .update_from_base(&ada(), post.id, 1, publish, None)
        .expect("merges");
    assert_eq!((published.version, published.status), (3, Status::Published));
    let title = PostPatch {
        title: Some("A later title".into()),
        ..PostPatch::default()
    };
    posts
        .update(&ada(), post.id, Some(3), title, None)
        .expect("a later edit");
    let unpublish = PostPatch {
        status: Some(Status::Draft),
        ..PostPatch::default()
    };
    let unpublished = posts
        .update_from_base(&ada(), post.id, 3, unpublish, None)
        .expect("merges");
    assert_eq!(
        (unpublished.title.as_str(), unpublished.status),
        ("A later title", Status::Draft)
    );
    let events = posts.store().stream_events(post.id).expect("history");
    assert!(
        matches!(
            events[2].payload,
            EventPayload::PostPublished {
                base_version: Some(1),
                merged: true,
                ..
            }
        ),
        "{:?}",
        events[2].payload
    );
    assert!(
        matches!(
            events[4].payload,
            EventPayload::PostUnpublished {
                base_version: Some(3),
                merged: true
            }
        ),
        "{:?}",
        events[4].payload
    );
}

#[test]
fn a_conflict_names_the_change_that_keeps_my_side_and_theirs_elsewhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = setup(dir.path());
    let post = edited_elsewhere(&posts);
    let theirs = body(&BODY.replace("First", "Their first"));
    posts
        .update(&ada(), post.id, Some(2), theirs, None)
        .expect("their body");
    let mine = PostPatch {
        title: Some("My title".into()),
        body: Some(BODY.replace("Third", "My third")),
        ..PostPatch::default()
    };
    let err = posts
        .update_from_base(&ada(), post.id, 1, mine, None)
        .expect_err("the title conflicts");
    let Error::MergeConflict {
        keep_mine, conflicts, ..
    } = err
    else {
        panic!("a merge conflict, not {err:?}");
    };
    assert_eq!(conflicts.len(), 1, "only the title: {conflicts:?}");
    assert_eq!(keep_mine.title.as_deref(), Some("My title"));
    assert_eq!(
        keep_mine.body.as_deref(),
        Some("Their first paragraph.\n\nSecond paragraph.\n\nMy third paragraph.\n")
    );
}
