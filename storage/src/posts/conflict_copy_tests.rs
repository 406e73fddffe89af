//! Conflict copies over a real log: kept in the history without changing the post, brought
//! back as a merge, and only for those who may change the post.

use std::sync::Arc;

use super::*;
use crate::posts::{system_clock, NewPost};
use crate::sled_store::{SledOptions, SledStore};
use crate::users::Role;

const BODY: &str = "First paragraph.\n\nSecond paragraph.\n";

fn setup(dir: &std::path::Path) -> Posts {
    let store = Arc::new(SledStore::open(dir, &SledOptions::default()).expect("open"));
    Posts::new(store, system_clock())
}

fn ada() -> Actor {
    Actor::user(Ulid::new(), "ada", Role::Author)
}

/// Ada's draft at version 2, and her title from a device that lost the conflict.
fn kept(posts: &Posts) -> Post {
    let input = NewPost {
        title: "Draft".into(),
        body: BODY.into(),
        ..NewPost::default()
    };
    let post = posts.create(&ada(), input, None).expect("create");
    let title = PostPatch {
        title: Some("Their title".into()),
        ..PostPatch::default()
    };
    posts.update(&ada(), post.id, Some(1), title, None).expect("their edit");
    let copy = KeptFields {
        title: Some("My title".into()),
        ..KeptFields::default()
    };
    posts.keep_conflict_copy(&ada(), post.id, 2, copy, None).expect("kept")
}

#[test]
fn a_kept_copy_is_in_the_history_and_leaves_the_post_as_it_was() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = setup(dir.path());
    let post = kept(&posts);
    assert_eq!(
        (post.version, post.title.as_str(), post.body.as_str()),
        (3, "Their title", BODY)
    );
    let events = posts.history(&ada(), post.id).expect("history");
    let EventPayload::PostConflictCopy { base_version, copy } = &events[2].payload else {
        panic!("a conflict copy, not {:?}", events[2].payload);
    };
    assert_eq!((*base_version, copy.title.as_deref()), (2, Some("My title")));
}

#[test]
fn a_copy_is_brought_back_merged_with_what_changed_since() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = setup(dir.path());
    let post = kept(&posts);
    let later = PostPatch {
        body: Some(BODY.replace("Second", "Later second")),
        ..PostPatch::default()
    };
    posts
        .update(&ada(), post.id, Some(3), later, None)
        .expect("a later edit");
    let restored = posts.restore_conflict_copy(&ada(), post.id, 3, None).expect("restores");
    assert_eq!(restored.title, "My title");
    assert_eq!(
        restored.body,
        BODY.replace("Second", "Later second"),
        "the later edit stays"
    );
    let err = posts
        .restore_conflict_copy(&ada(), post.id, 2, None)
        .expect_err("version 2 is no copy");
    assert!(matches!(err, Error::ConflictCopyNotFound { version: 2, .. }), "{err:?}");
}

#[test]
fn only_who_may_change_the_post_keeps_or_restores_a_copy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = setup(dir.path());
    let post = kept(&posts);
    let stranger = Actor::user(Ulid::new(), "bob", Role::Contributor);
    let copy = KeptFields {
        body: Some("x".into()),
        ..KeptFields::default()
    };
    let err = posts
        .keep_conflict_copy(&stranger, post.id, 1, copy, None)
        .expect_err("not bob's");
    assert!(matches!(err, Error::PostNotFound { .. }), "{err:?}");
    let err = posts
        .restore_conflict_copy(&stranger, post.id, 3, None)
        .expect_err("not bob's");
    assert!(matches!(err, Error::PostNotFound { .. }), "{err:?}");
    let err = posts
        .keep_conflict_copy(&ada(), post.id, 9, KeptFields::default(), None)
        .expect_err("empty");
    assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
}
