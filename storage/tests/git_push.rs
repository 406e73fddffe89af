//! Importing pushed commits: the plan of events, and its all-or-nothing append.

use std::sync::Arc;

use quire_storage::git::import::{plan_push, FileChange, PushedCommit};
use quire_storage::{
    system_clock, Actor, AppendOutcome, NewPost, Posts, Role, Scope, SledOptions, SledStore, Status, Store,
};

fn open(dir: &std::path::Path) -> Arc<SledStore> {
    Arc::new(SledStore::open(dir, &SledOptions::default()).expect("open store"))
}

fn commit(id: &str, changes: Vec<(&str, Option<&str>, Option<&str>)>) -> PushedCommit {
    PushedCommit {
        id: id.into(),
        parents: 1,
        changes: changes
            .into_iter()
            .map(|(path, before, after)| FileChange {
                path: path.into(),
                before: before.map(|b| b.as_bytes().to_vec()),
                after: after.map(|a| a.as_bytes().to_vec()),
            })
            .collect(),
        object: None,
    }
}

#[test]
fn a_push_is_planned_as_api_writes_and_appended_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let admin = Actor::user(ulid::Ulid::new(), "ada", Role::Admin);
    let posts = Posts::new(store.clone(), system_clock());
    let existing = posts
        .create(
            &admin,
            NewPost {
                title: "Old".into(),
                body: "old".into(),
                ..NewPost::default()
            },
            None,
        )
        .expect("create");
    let file = |title: &str, extra: &str| format!("---\ntitle: \"{title}\"\n{extra}---\nbody of {title}\n");
    let with_id = file("Old, edited", &format!("draft: true\nid: \"{}\"\n", existing.id));
    let new = file("New", "");
    let commits = vec![
        commit("c1", vec![("content/posts/2026/old.md", None, Some(&with_id))]),
        commit("c2", vec![("content/posts/2026/new.md", None, Some(&new))]),
        commit(
            "c3",
            vec![("content/posts/2026/new.md", Some(&new), Some(&file("New, again", "")))],
        ),
    ];
    let plan = plan_push(store.as_ref(), &admin, &commits, time::OffsetDateTime::now_utc())
        .expect("plans")
        .expect("valid");
    let events = plan.append(store.as_ref()).expect("appends").expect("accepted");
    let summary: Vec<(&str, Option<&str>)> = events
        .iter()
        .map(|e| {
            (
                e.payload.type_name(),
                e.origin.as_ref().and_then(|o| o.commit.as_deref()),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("PostUpdated", Some("c1")),
            ("PostCreated", Some("c2")),
            ("PostUpdated", Some("c3"))
        ]
    );
    assert_eq!(
        events[1].stream, events[2].stream,
        "a file without id keeps its post within a push"
    );
    let created = store.post(events[1].stream).expect("read").expect("created");
    assert_eq!((created.title.as_str(), created.slug.as_str()), ("New, again", "new"));
    assert_eq!(
        created.status,
        Status::Published,
        "no draft field: published, as in Hugo"
    );

    // A contributor may not publish: the whole push is refused and nothing is stored.
    let contributor = Actor {
        scopes: vec![Scope::PostsRead, Scope::PostsWrite],
        ..Actor::user(ulid::Ulid::new(), "cy", Role::Contributor)
    };
    let head = store.head();
    let refused = plan_push(
        store.as_ref(),
        &contributor,
        &[commit(
            "c4",
            vec![
                ("content/posts/2026/a.md", None, Some(&file("A", "draft: true\n"))),
                ("content/posts/2026/b.md", None, Some(&file("B", ""))),
                ("themes/x.html", None, Some("x")),
            ],
        )],
        time::OffsetDateTime::now_utc(),
    )
    .expect("plans")
    .expect_err("refused");
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(refused[0].starts_with("themes/x.html: "), "{refused:?}");
    assert!(refused[1].starts_with("content/posts/2026/b.md: ") && refused[1].contains("posts:publish"));
    assert_eq!(store.head(), head);

    // An id that names no post the pusher may edit is refused, whether it exists or not.
    let hidden = posts
        .create(
            &admin,
            NewPost {
                title: "Ada's draft".into(),
                ..NewPost::default()
            },
            None,
        )
        .expect("a draft of ada's");
    for id in [hidden.id, ulid::Ulid::new()] {
        let probe = file("Probe", &format!("draft: true\nid: \"{id}\"\n"));
        let refused = plan_push(
            store.as_ref(),
            &contributor,
            &[commit("c5", vec![("content/posts/2026/probe.md", None, Some(&probe))])],
            time::OffsetDateTime::now_utc(),
        )
        .expect("plans")
        .expect_err("refused");
        assert_eq!(
            refused,
            vec![format!(
                "content/posts/2026/probe.md: 'id' {id} is not a post you can edit; remove the id line to create a new post"
            )]
        );
    }
}

#[test]
fn append_all_stores_nothing_when_one_batch_conflicts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let admin = Actor::user(ulid::Ulid::new(), "ada", Role::Admin);
    let commits = |title: &str| {
        vec![commit(
            "c1",
            vec![(
                "content/posts/2026/p.md",
                None,
                Some(&format!("---\ntitle: {title}\n---\nx")),
            )],
        )]
    };
    let first = plan_push(store.as_ref(), &admin, &commits("One"), time::OffsetDateTime::now_utc())
        .expect("plans")
        .expect("valid");
    let mut batches: Vec<_> = first.batches.into_iter().map(|(_, b)| b).collect();
    let mut stale = batches[0].clone();
    stale.stream = ulid::Ulid::new();
    stale.expected_version = 7;
    batches.push(stale);
    let outcomes = store.append_all(batches).expect("no storage error");
    assert!(matches!(
        outcomes.as_slice(),
        [AppendOutcome::VersionConflict { actual: 0, .. }]
    ));
    assert_eq!(store.head(), 0, "the first batch was rolled back with the second");
}
