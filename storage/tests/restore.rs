//! Rebuilding the log: importing exported envelopes, and reading the events back from git.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use quire_storage::git::import::{plan_push, FileChange, PushedCommit};
use quire_storage::git::{events_from_git, rebuild, settings_of, verify};
use quire_storage::{
    Actor, Clock, Envelope, Error, GitError, GitProjection, GitSettings, IdempotencyRecord, IdempotencyWrite,
    KeptFields, NewPost, PostPatch, PostQuery, Posts, Role, SecretStore, SledOptions, SledStore, Status, Store,
};
use time::macros::datetime;
use time::OffsetDateTime;
use ulid::Ulid;

/// A clock that moves 9 days and 123 ms per command: several years, and times with milliseconds.
fn clock() -> Clock {
    let start = datetime!(2024-12-20 10:00 UTC);
    let calls = Arc::new(AtomicI64::new(0));
    Arc::new(move || {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        start + time::Duration::days(9 * n) + time::Duration::milliseconds(123 * n + 7)
    })
}

fn open(dir: &Path) -> Arc<SledStore> {
    Arc::new(SledStore::open(dir, &SledOptions::default()).expect("store"))
}

fn settings() -> GitSettings {
    GitSettings {
        site_title: "Ada's \"Notes\"".into(),
        base_url: "https://ada.example/".into(),
        author_email_domain: "ada.example".into(),
        ..GitSettings::default()
    }
}

fn idem(key: &str) -> Option<IdempotencyWrite> {
    let mut scope = Ulid::nil().0.to_be_bytes().to_vec();
    scope.extend_from_slice(key.as_bytes());
    Some(IdempotencyWrite {
        scope,
        key: key.into(),
        record: IdempotencyRecord {
            fingerprint: "f".into(),
            status: 201,
            stream: Ulid::nil(),
            version: 0,
            created_at: OffsetDateTime::now_utc(),
        },
    })
}

/// Creates, edits, renames, publishes, schedules, plans, deletes and restores posts.
fn script(posts: &Posts) {
    let ada = Actor::user(Ulid::new(), "ada", Role::Admin);
    let new = |title: &str, body: &str| NewPost {
        title: title.into(),
        body: body.into(),
        tags: vec!["rust".into(), "a: \"b\"".into()],
        ..NewPost::default()
    };
    let patch = PostPatch::default;
    let a = posts
        .create(
            &ada,
            new("Same \"title\"\nagain", "# Hi\n\n---\nnot front matter\n"),
            idem("k-1"),
        )
        .expect("create");
    let b = posts.create(&ada, new("Other", ""), None).expect("create");
    let edit = PostPatch {
        body: Some("edited\n".into()),
        title: Some("Renamed title".into()),
        slug: Some("renamed".into()),
        status: Some(Status::Published),
        ..patch()
    };
    posts
        .update(&ada, a.id, None, edit, idem("k-2"))
        .expect("edit and publish in one patch");
    let plan = PostPatch {
        publish_at: Some(datetime!(2030-05-06 07:08:09.5 UTC)),
        ..patch()
    };
    posts.update(&ada, b.id, None, plan, None).expect("plan a draft");
    let schedule = PostPatch {
        status: Some(Status::Scheduled),
        publish_at: Some(datetime!(2031-01-01 08:00 UTC)),
        ..patch()
    };
    posts.update(&ada, b.id, None, schedule, None).expect("schedule");
    posts.delete(&ada, a.id, None, None).expect("delete");
    let taker = NewPost {
        slug: Some("renamed".into()),
        ..new("Taker", "takes the slug")
    };
    posts.create(&ada, taker, None).expect("take the slug");
    posts.restore(&ada, a.id, None, None).expect("restore with a new slug");
    let back = PostPatch {
        status: Some(Status::Draft),
        ..patch()
    };
    posts.update(&ada, a.id, None, back, None).expect("unpublish");
    // A publish merged from an older version, and a conflict copy (its body is not the file's).
    let retitle = PostPatch {
        title: Some("Retitled".into()),
        ..patch()
    };
    let retitled = posts.update(&ada, a.id, None, retitle, None).expect("retitle");
    let publish = PostPatch {
        status: Some(Status::Published),
        ..patch()
    };
    let published = posts
        .update_from_base(&ada, a.id, retitled.version - 1, publish, None)
        .expect("a merged publish");
    let copy = KeptFields {
        title: Some("Lost title".into()),
        body: Some("lost\nbody\n".into()),
        ..KeptFields::default()
    };
    posts
        .keep_conflict_copy(&ada, a.id, published.version, copy, idem("k-3"))
        .expect("a conflict copy");
    // A pushed commit: its events carry their origin, which git must give back too.
    let file = FileChange {
        path: "content/posts/2025/pushed.md".into(),
        before: None,
        after: Some(b"---\ntitle: Pushed\ndraft: true\n---\nfrom git\n".to_vec()),
    };
    let commit = PushedCommit {
        id: "0123456789abcdef0123456789abcdef01234567".into(),
        parents: 1,
        changes: vec![file],
        object: None,
    };
    let store = posts.store().as_ref();
    let plan = plan_push(store, &ada, &[commit], posts.now())
        .expect("plan")
        .expect("valid push");
    let events = plan.append(store).expect("append").expect("accepted");
    assert!(events.iter().all(|e| e.origin.is_some()));
}

struct Source {
    _dir: tempfile::TempDir,
    store: Arc<SledStore>,
    repo: std::path::PathBuf,
}

fn source() -> Source {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir.path().join("log"));
    script(&Posts::new(store.clone(), clock()));
    let repo = dir.path().join("content.git");
    let mut projection = GitProjection::open(&repo, settings()).expect("open repo");
    projection.catch_up(store.as_ref()).expect("project");
    Source { _dir: dir, store, repo }
}

fn all_events(store: &dyn Store) -> Vec<Envelope> {
    store.events_after(0, 10_000).expect("events")
}

fn main_sha(repo: &Path) -> String {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(repo)
        .args(["rev-parse", "main"])
        .output()
        .expect("git");
    String::from_utf8(out.stdout).expect("utf-8").trim().to_owned()
}

fn assert_same_model(a: &dyn Store, b: &dyn Store) {
    for deleted in [false, true] {
        let query = PostQuery {
            limit: 100,
            deleted,
            ..PostQuery::default()
        };
        assert_eq!(a.list_posts(&query).expect("list"), b.list_posts(&query).expect("list"));
    }
    for slug in ["renamed", "renamed-2", "other"] {
        assert_eq!(a.slug_owner(slug).expect("slug"), b.slug_owner(slug).expect("slug"));
    }
}

#[test]
fn events_read_back_from_git_are_the_log_and_rebuild_the_same_commits() {
    let src = source();
    let events = all_events(src.store.as_ref());
    assert!(events.iter().any(|e| e.idempotency_key.is_some()));
    assert!(
        events.iter().any(|e| e.at.millisecond() != 0),
        "times carry milliseconds"
    );
    assert_eq!(settings_of(&src.repo).expect("settings"), Some(settings()));

    let read: Vec<Envelope> = events_from_git(&src.repo, &settings())
        .expect("open")
        .collect::<Result<_, _>>()
        .expect("every commit reads back");
    assert_eq!(read, events, "git gives back the log, envelope for envelope");

    let dir = tempfile::tempdir().expect("tempdir");
    let restored = open(&dir.path().join("log"));
    let mut seen = Vec::new();
    let n = restored.import(read, &mut |done| seen.push(done)).expect("import");
    assert_eq!((n, restored.head()), (events.len() as u64, events.len() as u64));
    assert_eq!(seen.last(), Some(&n));
    assert_eq!(all_events(restored.as_ref()), events);
    assert_same_model(src.store.as_ref(), restored.as_ref());
    for e in &events {
        assert_eq!(
            restored.stream_events(e.stream).expect("stream"),
            src.store.stream_events(e.stream).expect("stream")
        );
    }

    let repo = dir.path().join("content.git");
    rebuild(&repo, &settings(), restored.as_ref(), |_, _| {}).expect("rebuild");
    assert_eq!(main_sha(&repo), main_sha(&src.repo), "the same commit ids");
    assert!(verify(&repo, &settings(), restored.as_ref()).expect("verify").is_ok());
}

#[test]
fn other_settings_or_a_hand_made_commit_stop_the_restore_at_that_commit() {
    let src = source();
    let other = GitSettings {
        site_title: "Another title".into(),
        ..settings()
    };
    let first = events_from_git(&src.repo, &other).expect("open").next().expect("one");
    assert!(matches!(first, Err(GitError::Unrestorable { .. })), "{first:?}");

    let tree = main_sha(&src.repo) + "^{tree}";
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("--git-dir")
            .arg(&src.repo)
            .args(["-c", "user.name=T", "-c", "user.email=t@example.invalid"])
            .args(args)
            .output()
            .expect("git");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8").trim().to_owned()
    };
    let commit = git(&["commit-tree", &tree, "-p", "main", "-m", "by hand"]);
    git(&["update-ref", "refs/heads/main", &commit]);
    let results: Vec<_> = events_from_git(&src.repo, &settings()).expect("open").collect();
    let last = results.last().expect("results");
    assert!(
        matches!(last, Err(GitError::Unrestorable { commit: c, .. }) if *c == commit),
        "{last:?}"
    );
    assert_eq!(
        results.len() as u64,
        src.store.head() + 1,
        "every Quire commit before it reads back"
    );
}

#[test]
fn import_takes_only_a_gap_free_log_into_an_empty_store() {
    let src = source();
    let events = all_events(src.store.as_ref());
    let err = src.store.import(events.clone(), &mut |_| {}).expect_err("not empty");
    assert!(matches!(err, Error::Import { .. }), "{err}");

    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir.path().join("log"));
    let mut gap = events.clone();
    gap.remove(2);
    let err = store.import(gap, &mut |_| {}).expect_err("gap");
    assert!(err.to_string().contains("seq 4"), "{err}");
    assert_eq!(store.head(), 0, "a refused batch leaves nothing behind");
}

#[test]
fn secret_records_round_trip_into_an_empty_store() {
    let src = source();
    let accounts = quire_storage::Accounts::new(src.store.clone(), time::Duration::days(1));
    let user = accounts.create_user("ada", "password-123", Role::Admin).expect("user");
    let refresh = accounts.issue_refresh(&user).expect("refresh token");
    let records = src.store.backup_records(src.store.head()).expect("dump");
    assert!(
        records.iter().any(|r| r.tree == "idempotency"),
        "idempotency records of logged events"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir.path().join("log"));
    store
        .import(all_events(src.store.as_ref()), &mut |_| {})
        .expect("import");
    let loaded = store.restore_records(&mut records.clone().into_iter()).expect("load");
    assert_eq!(loaded, records.len());
    let accounts = quire_storage::Accounts::new(store.clone(), time::Duration::days(1));
    assert_eq!(accounts.authenticate("ada", "password-123").expect("login").id, user.id);
    accounts
        .rotate_refresh(&refresh)
        .expect("the refresh token still works");
    assert!(
        store.restore_records(&mut records.into_iter()).is_err(),
        "only into empty trees"
    );
    // Idempotency records of writes the backup does not hold are left out.
    assert!(src
        .store
        .backup_records(0)
        .expect("dump")
        .iter()
        .all(|r| r.tree != "idempotency"));
}
