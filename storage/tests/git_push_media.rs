//! Media files in imported commits: planned as uploads and deletes, appended with the posts in
//! one transaction, all or none.

use std::sync::Arc;

use quire_storage::git::import::{append_import, plan_media, plan_push, take_media, FileChange, PushedCommit};
use quire_storage::{Actor, ImageLimits, Role, SledOptions, SledStore, Store};

fn png() -> Vec<u8> {
    let mut bytes = Vec::new();
    image::DynamicImage::new_rgb8(3, 2)
        .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .expect("encode");
    bytes
}

#[test]
fn images_are_planned_with_the_posts_and_appended_all_or_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SledStore::open(dir.path(), &SledOptions::default()).expect("open"));
    let ada = Actor::user(ulid::Ulid::new(), "ada", Role::Author);
    let mut commits = vec![PushedCommit {
        id: "c1".into(),
        parents: 1,
        changes: vec![
            FileChange {
                path: "content/posts/2026/p.md".into(),
                before: None,
                after: Some(b"---\ntitle: With a photo\n---\n![x](/media/a.png)".to_vec()),
            },
            FileChange {
                path: "static/media/a.png".into(),
                before: None,
                after: Some(png()),
            },
        ],
        object: Some("tree 0000\n".into()),
    }];
    let media = take_media(&mut commits);
    assert_eq!((media.len(), commits[0].changes.len()), (1, 1));
    assert_eq!(commits[0].object, None, "a commit with images is not adopted as pushed");
    let now = time::OffsetDateTime::now_utc();
    let posts = plan_push(store.as_ref(), &ada, &commits, now)
        .expect("plans")
        .expect("valid");
    let images = plan_media(store.as_ref(), &ada, &media, now, &ImageLimits::default())
        .expect("plans")
        .expect("valid");
    assert_eq!(images.files.len(), 1);
    let mut batches = [posts.batches, images.batches].concat();

    // A stale batch at the end rolls back the post and the image.
    let mut stale = batches[1].clone();
    stale.1.expected_version = 3;
    batches.push(stale);
    let refused = append_import(store.as_ref(), batches.clone()).expect("no storage error");
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(store.head(), 0, "nothing appended");

    batches.pop();
    let events = append_import(store.as_ref(), batches)
        .expect("no storage error")
        .expect("appended");
    let types: Vec<&str> = events.iter().map(|e| e.payload.type_name()).collect();
    assert_eq!(types, ["PostCreated", "MediaUploaded"]);
    let uploaded = store.media(events[1].stream).expect("read").expect("media");
    assert_eq!((uploaded.uploader.as_str(), uploaded.width), ("ada", 3));

    // Another author may not delete ada's image; ada may.
    let gone = vec![quire_storage::git::import::MediaChange {
        commit: "c2".into(),
        change: FileChange {
            path: "static/media/a.png".into(),
            before: Some(png()),
            after: None,
        },
    }];
    let bob = Actor::user(ulid::Ulid::new(), "bob", Role::Author);
    let problems = plan_media(store.as_ref(), &bob, &gone, now, &ImageLimits::default())
        .expect("plans")
        .expect_err("not bob's");
    assert!(problems[0].contains("not a media file you can delete"), "{problems:?}");
    let plan = plan_media(store.as_ref(), &ada, &gone, now, &ImageLimits::default())
        .expect("plans")
        .expect("ada's");
    append_import(store.as_ref(), plan.batches)
        .expect("ok")
        .expect("appended");
    assert!(!store.media(events[1].stream).expect("read").expect("media").is_live());
}
