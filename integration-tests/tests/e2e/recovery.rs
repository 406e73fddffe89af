//! Backups and disaster recovery, against the real `quire` binary: the restore drill from a
//! mirrored git repository, export → import, and a backup taken while clients write.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use quire_integration_tests::git::{git, main_commits, quire, wait_for_git};
use quire_integration_tests::{BinaryServer, Client, ADMIN};
use quire_openapi::{EventList, PostResponse, TokenCreated};
use serde_json::{json, Value};

/// Runs `quire <args> --data-dir <data>`, asserting success; returns stdout.
fn quire_ok(data: &Path, args: &[&str]) -> String {
    let out = quire(data, args);
    assert!(
        out.status.success(),
        "quire {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// `PATCH`, `DELETE` or `POST …/restore` on a post at its current version; returns the post.
async fn change(client: &Client, id: &str, method: reqwest::Method, path: &str, body: Value) -> PostResponse {
    let current: PostResponse = client
        .get(&format!("/api/v1/posts/{id}?deleted=true"))
        .await
        .json()
        .await
        .expect("post");
    let response = client
        .request(method, &format!("/api/v1/posts/{id}{path}"))
        .header("If-Match", format!("\"{}\"", current.version))
        .header("Idempotency-Key", ulid::Ulid::new().to_string())
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    response.json().await.expect("post json")
}

/// Creates, edits, renames, publishes, schedules, deletes and restores posts (a restore whose
/// slug was taken meanwhile gets a new one); returns the post ids.
async fn script(client: &Client) -> Vec<String> {
    let create = |body: Value| async move { client.create_post(body).await.id };
    let hello = create(json!({"title": "Hello \"world\": #1", "body": "# Hi\n\n---\nnot front matter\n", "tags": ["rust", "a: b"], "status": "published"})).await;
    let draft = create(json!({"title": "A draft", "body": "first"})).await;
    let doomed = create(json!({"title": "Doomed", "body": "bye", "status": "published"})).await;
    let phoenix = create(json!({"title": "Phoenix", "body": "rises"})).await;
    change(
        client,
        &draft,
        reqwest::Method::PATCH,
        "",
        json!({"body": "second\n", "title": "A draft, edited"}),
    )
    .await;
    change(
        client,
        &draft,
        reqwest::Method::PATCH,
        "",
        json!({"publish_at": "2030-01-02T03:04:05.678Z"}),
    )
    .await;
    change(
        client,
        &hello,
        reqwest::Method::PATCH,
        "",
        json!({"slug": "hello-renamed", "body": "moved"}),
    )
    .await;
    let later = json!({"status": "scheduled", "publish_at": "2999-01-01T00:00:00Z"});
    change(client, &phoenix, reqwest::Method::PATCH, "", later).await;
    change(client, &doomed, reqwest::Method::DELETE, "", Value::Null).await;
    change(client, &phoenix, reqwest::Method::DELETE, "", Value::Null).await;
    let taker = create(json!({"title": "Takes the slug", "slug": "phoenix", "status": "published"})).await;
    let back = change(client, &phoenix, reqwest::Method::POST, "/restore", Value::Null).await;
    assert_eq!(back.slug, "phoenix-2", "the restored post gets a new slug");
    change(client, &hello, reqwest::Method::PATCH, "", json!({"status": "draft"})).await;
    vec![hello, draft, doomed, phoenix, taker]
}

/// The whole log as the API shows it.
async fn events(client: &Client) -> Vec<Value> {
    let (mut all, mut after) = (Vec::new(), 0);
    loop {
        let page: Value = client
            .get(&format!("/api/v1/events?after={after}&limit=1000"))
            .await
            .json()
            .await
            .expect("events");
        let list: EventList = serde_json::from_value(page.clone()).unwrap_or_else(|e| panic!("{e}: {page}"));
        if list.events.is_empty() {
            return all;
        }
        after = list.next_after;
        all.extend(page["events"].as_array().expect("events").iter().cloned());
    }
}

/// Every post with its current state, history and every version.
async fn posts(client: &Client, ids: &[String]) -> BTreeMap<String, Vec<Value>> {
    let mut out = BTreeMap::new();
    for id in ids {
        let get = |path: String| async move {
            let response = client.get(&path).await;
            assert_eq!(response.status(), 200, "GET {path}");
            response.json::<Value>().await.expect("json")
        };
        let post = get(format!("/api/v1/posts/{id}?deleted=true")).await;
        let mut views = vec![post.clone(), get(format!("/api/v1/posts/{id}/history")).await];
        for n in 1..=post["version"].as_u64().expect("version") {
            views.push(get(format!("/api/v1/posts/{id}/versions/{n}")).await);
        }
        out.insert(id.clone(), views);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_drill_from_a_mirrored_git_repository() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let remote = dir.path().join("mirror.git");
    git(None, &["init", "--quiet", "--bare", &remote.to_string_lossy()]);

    let server = BinaryServer::start(&data).await;
    let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    let ids = script(&client).await;
    wait_for_git(&client).await;
    let (events_before, posts_before) = (events(&client).await, posts(&client, &ids).await);
    drop(server);
    let repo = data.join("content.git");
    let commits_before = main_commits(&repo);
    assert_eq!(commits_before.len(), events_before.len(), "one commit per event");
    git(
        Some(&repo),
        &["push", "--quiet", &remote.to_string_lossy(), "main:main"],
    );

    std::fs::remove_dir_all(&data).expect("wipe the data folder");
    let out = quire_ok(&data, &["restore", "--from-git", &remote.to_string_lossy()]);
    assert!(
        out.contains("not kept in git"),
        "the restore says users are gone: {out}"
    );
    assert!(quire_ok(&data, &["verify"]).starts_with("OK"));
    assert_eq!(
        main_commits(&repo),
        commits_before,
        "the rebuilt history has the same commit ids"
    );

    // No user came back: the first start creates the admin as on a first start.
    let server = BinaryServer::start(&data).await;
    let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    assert_eq!(events(&client).await, events_before, "every event, exactly");
    assert_eq!(posts(&client, &ids).await, posts_before, "every post and every version");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_import_gives_the_same_events_and_commit_ids() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, copy) = (dir.path().join("data"), dir.path().join("copy"));
    let server = BinaryServer::start(&data).await;
    let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    script(&client).await;
    wait_for_git(&client).await;
    drop(server);

    let export = dir.path().join("events.jsonl");
    quire_ok(&data, &["export", &export.to_string_lossy()]);
    let exported = std::fs::read_to_string(&export).expect("export");
    assert_eq!(
        exported,
        quire_ok(&data, &["export"]),
        "to a file or to stdout, the same lines"
    );
    quire_ok(&copy, &["import", &export.to_string_lossy()]);
    assert_eq!(quire_ok(&copy, &["export"]), exported, "the same events, byte for byte");
    assert_eq!(
        main_commits(&copy.join("content.git")),
        main_commits(&data.join("content.git")),
        "the same commit ids"
    );
    assert!(quire_ok(&copy, &["verify"]).starts_with("OK"));
    let again = quire(&copy, &["import", &export.to_string_lossy()]);
    assert!(!again.status.success(), "an import needs an empty data folder");

    // A backup of the stopped folder carries the log and the logins.
    let (archive, third) = (dir.path().join("offline.tar"), dir.path().join("third"));
    quire_ok(&data, &["backup", &archive.to_string_lossy()]);
    quire_ok(&third, &["restore", "--from-backup", &archive.to_string_lossy()]);
    assert_eq!(quire_ok(&third, &["export"]), exported);
    assert!(quire_ok(&third, &["verify"]).starts_with("OK"));
    let server = BinaryServer::start(&third).await;
    let again = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    let old_session = Client {
        base: server.base.clone(),
        ..client
    };
    assert_eq!(
        old_session.get("/api/v1/users/me").await.status(),
        200,
        "same signing keys"
    );
    assert_eq!(again.get("/api/v1/users/me").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_concurrent_writes_restores_a_consistent_prefix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, restored) = (dir.path().join("data"), dir.path().join("restored"));
    let server = BinaryServer::start(&data).await;
    let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    let created = client
        .post_json(
            "/api/v1/tokens",
            &json!({"name": "backup", "scopes": ["admin", "posts:read", "posts:write"]}),
            &[],
        )
        .await;
    let token: TokenCreated = created.json().await.expect("token");
    let keyed = client
        .post_json(
            "/api/v1/posts",
            &json!({"title": "Before"}),
            &[("Idempotency-Key", "before-1")],
        )
        .await;
    let keyed: PostResponse = keyed.json().await.expect("post");

    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (client, stop) = (client.clone(), stop.clone());
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let post = client
                        .create_post(json!({"title": format!("w{w} #{i}"), "body": "x".repeat(2000)}))
                        .await;
                    change(
                        &client,
                        &post.id,
                        reqwest::Method::PATCH,
                        "",
                        json!({"status": "published"}),
                    )
                    .await;
                    i += 1;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let archive = dir.path().join("backup.tar");
    let (base, secret, file, data_dir) = (server.base.clone(), token.secret.clone(), archive.clone(), data.clone());
    let out = tokio::task::spawn_blocking(move || {
        quire_ok(
            &data_dir,
            &["backup", &file.to_string_lossy(), "--url", &base, "--token", &secret],
        )
    })
    .await
    .expect("backup");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("writer");
    }
    let all = events(&client).await;
    drop(server);

    quire_ok(&restored, &["restore", "--from-backup", &archive.to_string_lossy()]);
    assert!(quire_ok(&restored, &["verify"]).starts_with("OK"));
    let server = BinaryServer::start(&restored).await;
    let script = Client {
        base: server.base.clone(),
        token: token.secret.clone(),
        ..client.clone()
    };
    let prefix = events(&script).await;
    assert!(
        out.contains(&format!("events 1 to {} ", prefix.len())),
        "the archive holds the head it announced: {out}"
    );
    assert!(
        prefix.len() > 3 && prefix.len() < all.len(),
        "{} of {}",
        prefix.len(),
        all.len()
    );
    assert_eq!(prefix, all[..prefix.len()], "a prefix of the log, nothing torn");
    // Users, API tokens and idempotency records came back too.
    Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    let replay = script
        .post_json(
            "/api/v1/posts",
            &json!({"title": "Before"}),
            &[("Idempotency-Key", "before-1")],
        )
        .await;
    assert_eq!(replay.status(), 201);
    let replayed: PostResponse = replay.json().await.expect("post");
    assert_eq!(
        replayed.id, keyed.id,
        "the retry replays, it does not create a second post"
    );
    // Every post of the prefix is whole: its history folds to the version the list shows.
    let list: Value = script.get("/api/v1/posts?limit=200").await.json().await.expect("list");
    for post in list["items"].as_array().expect("items") {
        let history: Value = script
            .get(&format!("/api/v1/posts/{}/history", post["id"].as_str().expect("id")))
            .await
            .json()
            .await
            .expect("history");
        assert_eq!(
            history["events"].as_array().expect("events").len() as u64,
            post["version"].as_u64().expect("v")
        );
    }
}
