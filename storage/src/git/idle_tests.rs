//! A projection that has caught up gives its pack buffers back, and the next page writes packs
//! as before.

use std::sync::Arc;

use crate::{system_clock, Actor, NewPost, Posts, Role, SledOptions, SledStore, Status, Store};

use super::{GitProjection, GitSettings};

#[test]
fn a_caught_up_projection_holds_no_pack_buffers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(SledStore::open(&dir.path().join("log"), &SledOptions::default()).expect("open store"));
    let posts = Posts::new(store.clone(), system_clock());
    let actor = Actor::user(ulid::Ulid::new(), "ada", Role::Admin);
    let publish = |title: String| {
        let post = NewPost {
            title,
            body: "A paragraph with *emphasis*.".into(),
            status: Some(Status::Published),
            ..NewPost::default()
        };
        posts.create(&actor, post, None).expect("create");
    };
    for i in 0..300 {
        publish(format!("Post {i}"));
    }
    let mut git = GitProjection::open(dir.path().join("content.git"), GitSettings::default()).expect("open repo");
    assert_eq!(git.catch_up(store.as_ref()).expect("catch up"), 300);
    assert_eq!(git.packer.scratch_bytes(), 0, "buffers kept after catching up");

    publish("One more".into());
    assert_eq!(git.catch_up(store.as_ref()).expect("catch up"), 1);
    assert_eq!(git.packer.scratch_bytes(), 0);
    assert_eq!(git.position().expect("position"), store.head());
    let log = std::process::Command::new("git")
        .args(["--git-dir"])
        .arg(dir.path().join("content.git"))
        .args(["rev-list", "--count", "main"])
        .output()
        .expect("git rev-list");
    assert_eq!(
        String::from_utf8_lossy(&log.stdout).trim(),
        "301",
        "one commit per event"
    );
}
