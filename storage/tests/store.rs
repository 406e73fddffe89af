//! The sled store and the domain services over it, on a temporary folder.

use std::sync::Arc;

use quire_storage::{
    system_clock, Accounts, Actor, Begin, Error, Idempotency, NewPost, PostPatch, PostQuery, Posts, Role, SledOptions,
    SledStore, Status, Store,
};
use time::Duration;

fn open(dir: &std::path::Path) -> Arc<SledStore> {
    Arc::new(SledStore::open(dir, &SledOptions::default()).expect("open store"))
}

fn actor() -> Actor {
    Actor::user(ulid::Ulid::new(), "ada", Role::Admin)
}

fn new_post(title: &str) -> NewPost {
    NewPost {
        title: title.into(),
        body: "Hello *world*".into(),
        ..NewPost::default()
    }
}

/// Asserts that the log holds exactly the events `1..=head`, in order, without a gap.
fn assert_gap_free(store: &SledStore, head: u64) {
    let seqs: Vec<u64> = store
        .events_after(0, usize::try_from(head).expect("a count") + 1)
        .expect("events")
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, (1..=head).collect::<Vec<_>>(), "seq is gap-free");
}

#[test]
fn appends_are_read_back_in_order_and_survive_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let id = {
        let store = open(dir.path());
        let posts = Posts::new(store.clone(), system_clock());
        let post = posts.create(&actor(), new_post("First"), None).expect("create");
        let patch = PostPatch {
            title: Some("First, edited".into()),
            status: Some(Status::Published),
            ..PostPatch::default()
        };
        let post = posts.update(&actor(), post.id, Some(1), patch, None).expect("update");
        assert_eq!(post.version, 3, "an edit that also publishes is two events");
        assert_eq!(store.head(), 3);
        post.id
    };
    let store = open(dir.path());
    let posts = Posts::new(store.clone(), system_clock());
    assert_eq!(store.head(), 3);
    let events = store.events_after(0, 10).expect("events");
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3]);
    let types: Vec<&str> = events.iter().map(|e| e.payload.type_name()).collect();
    assert_eq!(types, vec!["PostCreated", "PostUpdated", "PostPublished"]);
    assert_eq!(store.events_after(2, 10).expect("events").len(), 1);
    let current = posts.get(&actor(), id).expect("get");
    assert_eq!(current.title, "First, edited");
    assert_eq!(current.status, Status::Published);
    assert_eq!(posts.version(&actor(), id, 1).expect("v1").title, "First");
    assert_eq!(posts.version(&actor(), id, 3).expect("v3"), current);
    assert!(matches!(
        posts.version(&actor(), id, 4),
        Err(Error::VersionNotFound { latest: 3, .. })
    ));
}

#[test]
fn stale_versions_conflict_and_change_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let posts = Posts::new(store.clone(), system_clock());
    let post = posts.create(&actor(), new_post("Race"), None).expect("create");
    let edit = |title: &str| PostPatch {
        title: Some(title.into()),
        ..PostPatch::default()
    };
    posts
        .update(&actor(), post.id, Some(1), edit("winner"), None)
        .expect("first edit wins");
    let err = posts
        .update(&actor(), post.id, Some(1), edit("loser"), None)
        .expect_err("stale");
    assert!(
        matches!(
            err,
            Error::VersionConflict {
                expected: 1,
                actual: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(store.head(), 2);
    assert_eq!(posts.get(&actor(), post.id).expect("get").title, "winner");
}

#[test]
fn slugs_are_unique_among_live_posts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let posts = Posts::new(store.clone(), system_clock());
    let a = posts.create(&actor(), new_post("Same Title"), None).expect("a");
    let b = posts.create(&actor(), new_post("Same title!"), None).expect("b");
    assert_eq!((a.slug.as_str(), b.slug.as_str()), ("same-title", "same-title-2"));
    let explicit = NewPost {
        slug: Some("same-title".into()),
        ..new_post("Other")
    };
    let err = posts.create(&actor(), explicit.clone(), None).expect_err("taken");
    assert!(matches!(err, Error::SlugTaken { owner, .. } if owner == a.id));
    let bad = NewPost {
        slug: Some("Not Valid".into()),
        ..new_post("Other")
    };
    assert!(matches!(
        posts.create(&actor(), bad, None),
        Err(Error::Invalid { field: "slug", .. })
    ));

    posts
        .delete(&actor(), a.id, Some(1), None)
        .expect("delete frees the slug");
    let c = posts.create(&actor(), explicit, None).expect("slug is free again");
    assert_eq!(c.slug, "same-title");
    let restored = posts.restore(&actor(), a.id, Some(2), None).expect("restore");
    assert!(restored.is_live());
    assert_eq!(
        restored.slug, "same-title-3",
        "a restored post whose slug was taken gets a free one"
    );
}

#[test]
fn listing_filters_by_status_tag_and_pages_with_a_cursor() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let posts = Posts::new(store.clone(), system_clock());
    let mut ids = Vec::new();
    for i in 0..7 {
        let input = NewPost {
            tags: if i % 2 == 0 { vec!["even".into()] } else { vec![] },
            status: Some(if i < 3 { Status::Published } else { Status::Draft }),
            ..new_post(&format!("Post {i}"))
        };
        ids.push(posts.create(&actor(), input, None).expect("create").id);
    }
    posts.delete(&actor(), ids[6], Some(1), None).expect("delete");
    let page = |q: PostQuery| {
        posts
            .list(&actor(), &q)
            .expect("list")
            .iter()
            .map(|p| p.id)
            .collect::<Vec<_>>()
    };
    let all = page(PostQuery {
        limit: 100,
        ..PostQuery::default()
    });
    let expected: Vec<_> = ids[..6].iter().rev().copied().collect();
    assert_eq!(all, expected, "newest first, deleted left out");
    let first = page(PostQuery {
        limit: 4,
        ..PostQuery::default()
    });
    let second = page(PostQuery {
        limit: 4,
        after: first.last().copied(),
        ..PostQuery::default()
    });
    assert_eq!([first, second].concat(), expected);
    let published = page(PostQuery {
        status: Some(Status::Published),
        limit: 100,
        ..PostQuery::default()
    });
    assert_eq!(published, vec![ids[2], ids[1], ids[0]]);
    let even = page(PostQuery {
        tag: Some("even".into()),
        limit: 100,
        ..PostQuery::default()
    });
    assert_eq!(even, vec![ids[4], ids[2], ids[0]]);
    let deleted = page(PostQuery {
        deleted: true,
        limit: 100,
        ..PostQuery::default()
    });
    assert_eq!(deleted, vec![ids[6]]);
}

#[test]
fn a_lone_writer_pays_one_flush_per_append_and_concurrent_writers_share_flushes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let posts = Posts::new(store.clone(), system_clock());
    let before = store.flush_count();
    for i in 0..40 {
        posts
            .create(&actor(), new_post(&format!("solo {i}")), None)
            .expect("create");
    }
    let solo = store.flush_count() - before;
    assert!(solo <= 40, "one writer: {solo} flushes for 40 appends");

    let before = store.flush_count();
    let threads: Vec<_> = (0..64)
        .map(|t| {
            let posts = posts.clone();
            std::thread::spawn(move || {
                for i in 0..20 {
                    posts
                        .create(&actor(), new_post(&format!("t{t} {i}")), None)
                        .expect("create");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("writer thread");
    }
    let shared = store.flush_count() - before;
    assert_eq!(store.head(), 40 + 64 * 20);
    assert!(shared * 4 <= 64 * 20, "64 writers: {shared} flushes for 1280 appends");
    assert_gap_free(&store, 1320);
}

#[test]
fn idempotency_replays_rejects_mismatch_and_detects_in_flight() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let posts = Posts::new(store.clone(), system_clock());
    let idem = Idempotency::new(store.clone());
    let user = actor();
    let Begin::Fresh(held) = idem.begin(user.user_id, "k-1", "fp-a".into(), 201).expect("begin") else {
        panic!("first use of a key is fresh");
    };
    assert!(matches!(
        idem.begin(user.user_id, "k-1", "fp-a".into(), 201),
        Ok(Begin::InProgress)
    ));
    let post = posts
        .create(&user, new_post("Once"), Some(held.write()))
        .expect("create");
    drop(held);
    match idem.begin(user.user_id, "k-1", "fp-a".into(), 201).expect("begin") {
        Begin::Replay(record) => {
            assert_eq!((record.stream, record.version, record.status), (post.id, 1, 201));
        }
        other => panic!("expected a replay, got {other:?}"),
    }
    assert!(matches!(
        idem.begin(user.user_id, "k-1", "fp-b".into(), 201),
        Ok(Begin::Mismatch)
    ));
    let other_user = ulid::Ulid::new();
    assert!(
        matches!(idem.begin(other_user, "k-1", "fp-b".into(), 201), Ok(Begin::Fresh(_))),
        "keys are per user"
    );
    assert!(idem.begin(user.user_id, "", "fp".into(), 201).is_err());
    assert_eq!(
        store.events_after(0, 10).expect("events")[0].idempotency_key.as_deref(),
        Some("k-1")
    );
}

#[test]
fn refresh_tokens_rotate_and_a_reused_one_revokes_its_family() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let accounts = Accounts::new(store.clone(), Duration::days(30));
    let user = accounts.create_user("ada", "correct horse", Role::Admin).expect("user");
    assert!(matches!(
        accounts.create_user("ada", "another pass", Role::Author),
        Err(Error::UserExists { .. })
    ));
    assert!(accounts.authenticate("ada", "wrong password").is_err());
    assert!(accounts.authenticate("nobody", "correct horse").is_err());
    assert_eq!(
        accounts.authenticate("ada", "correct horse").expect("login").id,
        user.id
    );

    let first = accounts.issue_refresh(&user).expect("issue");
    let (_, second) = accounts.rotate_refresh(&first).expect("rotate");
    assert!(accounts.rotate_refresh(&first).is_err(), "a used token is refused");
    assert!(
        accounts.rotate_refresh(&second).is_err(),
        "and its whole family is revoked"
    );
}

#[test]
fn the_setup_token_creates_one_admin_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let accounts = Accounts::new(store.clone(), Duration::days(30));
    let token = accounts.new_setup_token().expect("token").expect("no users yet");
    assert!(accounts.complete_setup("qs_wrong", "root", "long enough").is_err());
    let admin = accounts.complete_setup(&token, "root", "long enough").expect("setup");
    assert_eq!(admin.role, Role::Admin);
    assert!(
        accounts.complete_setup(&token, "root2", "long enough").is_err(),
        "single use"
    );
    assert!(accounts.new_setup_token().expect("no token").is_none());
}

/// The newest of sled's snapshot files in `dir` (`snap.<lsn in hex>`): where an open starts
/// reading the log from; 0 without one (a new log).
fn newest_snapshot_lsn(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("log folder")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            u64::from_str_radix(name.strip_prefix("snap.")?, 16).ok()
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn writing_the_snapshot_after_a_stop_moves_the_next_opens_starting_point_past_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let opened_at = newest_snapshot_lsn(dir.path());
    let posts = Posts::new(store.clone(), system_clock());
    for i in 0..50 {
        posts
            .create(&actor(), new_post(&format!("Post {i}")), None)
            .expect("create");
    }
    drop(posts);
    drop(store);
    assert_eq!(
        newest_snapshot_lsn(dir.path()),
        opened_at,
        "sled writes no snapshot while running or on close"
    );

    SledStore::write_snapshot(dir.path(), std::time::Duration::from_secs(5)).expect("snapshot");
    assert!(
        newest_snapshot_lsn(dir.path()) > opened_at,
        "the snapshot now starts after the run's writes"
    );
    let store = open(dir.path());
    assert_eq!(store.head(), 50, "nothing was lost or added");
    assert_eq!(store.events_after(0, 100).expect("events").len(), 50);
}

#[test]
fn writing_the_snapshot_while_the_log_is_open_fails_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let before = newest_snapshot_lsn(dir.path());
    let refused = SledStore::write_snapshot(dir.path(), std::time::Duration::from_millis(100));
    assert!(refused.is_err(), "the open log's lock is held");
    assert_eq!(newest_snapshot_lsn(dir.path()), before);
    Posts::new(store.clone(), system_clock())
        .create(&actor(), new_post("Still writable"), None)
        .expect("the store still works");
}

fn batch(stream: ulid::Ulid, expected_version: u64, event: quire_storage::EventPayload) -> quire_storage::AppendBatch {
    quire_storage::AppendBatch {
        stream,
        expected_version,
        actor: "ada".into(),
        at: time::OffsetDateTime::now_utc(),
        idempotency: None,
        events: vec![event],
        origin: None,
    }
}

fn created(slug: &str) -> quire_storage::EventPayload {
    quire_storage::EventPayload::PostCreated {
        slug: slug.into(),
        title: slug.into(),
        body: "Text".into(),
        tags: Vec::new(),
        status: Status::Draft,
        publish_at: None,
        author: String::new(),
        properties: quire_storage::Properties::default(),
    }
}

fn published() -> quire_storage::EventPayload {
    quire_storage::EventPayload::PostPublished {
        publish_at: time::OffsetDateTime::now_utc(),
        base_version: None,
        merged: false,
    }
}

/// Appends that queue up together share the writer's transaction; each still gets its own
/// outcome, and a refused or failing one leaves no trace and fails no other.
#[test]
fn appends_applied_together_each_get_their_own_outcome() {
    use quire_storage::AppendOutcome;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let flushes_before = store.flush_count();
    let (rounds, per_kind) = (20, 8);
    let mut appended_events = 0;
    for round in 0..rounds {
        let target = ulid::Ulid::new();
        let first = store
            .append(batch(target, 0, created(&format!("target-{round}"))))
            .expect("create");
        assert!(matches!(first, AppendOutcome::Appended { .. }));
        appended_events += 1;
        let start = std::sync::Arc::new(std::sync::Barrier::new(4 * per_kind));
        let threads: Vec<_> = (0..4 * per_kind)
            .map(|t| {
                let (store, start) = (store.clone(), start.clone());
                std::thread::spawn(move || {
                    let appended = match t % 4 {
                        // All publish the same post at version 1: one wins.
                        0 => batch(target, 1, published()),
                        // All claim the same slug: one wins.
                        1 => batch(ulid::Ulid::new(), 0, created(&format!("contested-{round}"))),
                        // A new post whose first event is not its creation: an error.
                        2 => batch(ulid::Ulid::new(), 0, published()),
                        // Creates that nothing stands in the way of.
                        _ => batch(ulid::Ulid::new(), 0, created(&format!("free-{round}-{t}"))),
                    };
                    start.wait();
                    (t % 4, store.append(appended))
                })
            })
            .collect();
        let mut wins = [0; 4];
        for thread in threads {
            let (kind, outcome) = thread.join().expect("thread");
            match (kind, outcome) {
                (_, Ok(AppendOutcome::Appended { .. })) => wins[kind] += 1,
                (0, Ok(AppendOutcome::VersionConflict { actual: 2, .. })) => {}
                (1, Ok(AppendOutcome::SlugTaken { .. })) => {}
                (2, Err(quire_storage::Error::InvalidState { .. })) => {}
                (kind, outcome) => panic!("kind {kind}: unexpected {outcome:?}"),
            }
        }
        assert_eq!(wins, [1, 1, 0, per_kind], "round {round}");
        appended_events += 2 + per_kind;
        assert_eq!(store.post(target).expect("read").map(|p| p.version), Some(2));
    }
    assert_eq!(store.head(), appended_events as u64, "refused appends took no seq");
    let events = store.events_after(0, 10_000).expect("events");
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=appended_events as u64).collect::<Vec<_>>(),
        "seq is gap-free"
    );
    let contested = events
        .iter()
        .filter(|e| matches!(&e.payload, quire_storage::EventPayload::PostCreated { slug, .. } if slug.starts_with("contested-")))
        .count();
    assert_eq!(contested, rounds, "one contested create per round was stored");
    let flushes = store.flush_count() - flushes_before;
    assert!(
        flushes < appended_events as u64,
        "{flushes} flushes for {appended_events} appended events: the appends were never applied together"
    );
}

#[test]
fn deferred_appends_are_answered_once_applied_and_settle_when_flushed() {
    use quire_storage::durability;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let posts = Posts::new(store.clone(), system_clock());
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let settled = |store: &Arc<SledStore>| runtime.block_on(durability::settled(store.as_ref()));

    // Outside `deferring` an append is durable when it returns, as always.
    let first = posts.create(&actor(), new_post("plain"), None).expect("create");
    assert_eq!(store.head(), 1);
    assert!(
        store.durable_round() >= store.applied_round(),
        "nothing waits for a flush"
    );
    assert_eq!(durability::deferring(|| 7), 7);
    settled(&store).expect("nothing to wait for");

    // Inside, the command gets its outcome once applied; once settled, it is durable.
    let post = durability::deferring(|| {
        let post = posts.create(&actor(), new_post("deferred"), None).expect("create");
        let patch = PostPatch {
            status: Some(Status::Published),
            ..PostPatch::default()
        };
        posts.update(&actor(), post.id, Some(1), patch, None).expect("publish")
    });
    settled(&store).expect("durable");
    assert_eq!(store.head(), 3, "both events durable once settled");
    assert!(store.durable_round() >= store.applied_round());
    assert_eq!(posts.get(&actor(), post.id).expect("get").status, Status::Published);

    // A refused command writes nothing; settling after it returns at once.
    let refused = durability::deferring(|| posts.update(&actor(), first.id, Some(9), PostPatch::default(), None));
    assert!(matches!(refused, Err(Error::VersionConflict { .. })));
    settled(&store).expect("settled");
    assert_eq!(store.head(), 3, "nothing written");

    // Many threads deferring at once: each settles after every one of its appends, and every
    // append is in the log, gap-free, and durable.
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let (posts, store) = (posts.clone(), store.clone());
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
                for i in 0..20 {
                    let post = durability::deferring(|| posts.create(&actor(), new_post(&format!("t{t} {i}")), None))
                        .expect("create");
                    runtime.block_on(durability::settled(store.as_ref())).expect("settled");
                    let seq = store
                        .stream_events(post.id)
                        .expect("events")
                        .last()
                        .expect("an event")
                        .seq;
                    assert!(store.head() >= seq, "settled before the append was durable");
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("thread");
    }
    assert_eq!(store.head(), 3 + 16 * 20);
    assert_gap_free(&store, 3 + 16 * 20);
}
