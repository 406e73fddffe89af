//! Merged writes over real HTTP: two devices edit the same post from the same version with
//! `Base-Version`; changes that do not overlap both stay, overlapping ones are a 409 that
//! lists them, and the history records what was merged from where.

use quire_integration_tests::{Client, TestServer};
use quire_openapi::{PostHistory, PostResponse, Problem};
use serde_json::json;

const BODY: &str = "First paragraph.\n\nSecond paragraph.\n\nThird paragraph.\n";

async fn problem(response: reqwest::Response, status: u16, kind: &str) -> Problem {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let problem: Problem = response.json().await.expect("problem json");
    assert_eq!(problem.problem_type, format!("urn:quire:problem:{kind}"));
    problem
}

/// A post at version 1, and its path.
async fn shared_post(client: &Client) -> (PostResponse, String) {
    let post = client
        .create_post(json!({"title": "Offline", "body": BODY, "tags": ["rust", "web"]}))
        .await;
    let path = format!("/api/v1/posts/{}", post.id);
    (post, path)
}

#[tokio::test]
async fn a_title_from_one_device_and_a_body_from_another_both_stay() {
    let server = TestServer::start().await;
    let (phone, laptop) = (server.admin().await, server.admin().await);
    let (_, path) = shared_post(&phone).await;
    let title = phone
        .patch_json(
            &path,
            &json!({"title": "From the phone", "tags": ["rust"]}),
            &[("base-version", "1")],
        )
        .await;
    assert_eq!(title.status(), 200);
    let body = BODY.replace("Third", "Last");
    let merged = laptop
        .patch_json(
            &path,
            &json!({"body": body, "tags": ["rust", "web", "pi"]}),
            &[("base-version", "1")],
        )
        .await;
    assert_eq!(merged.status(), 200);
    assert_eq!(merged.headers()["etag"], "\"3\"");
    let merged: PostResponse = merged.json().await.expect("post");
    assert_eq!(
        (merged.title.as_str(), merged.body.as_str()),
        ("From the phone", body.as_str())
    );
    assert_eq!(merged.tags, vec!["rust", "pi"], "one tag removed there, one added here");

    let history: PostHistory = laptop
        .get(&format!("{path}/history"))
        .await
        .json()
        .await
        .expect("history");
    let (plain, last) = (&history.events[1], &history.events[2]);
    assert_eq!(plain.data.get("merged"), None, "base = current is a plain update");
    assert_eq!((last.event_type.as_str(), last.version), ("PostUpdated", 3));
    assert_eq!(last.data["base_version"], 1);
    assert_eq!(last.data["merged"], true);
    server.stop().await;
}

#[tokio::test]
async fn the_same_field_changed_on_both_devices_is_a_409_listing_the_conflicts() {
    let server = TestServer::start().await;
    let (phone, laptop) = (server.admin().await, server.admin().await);
    let (_, path) = shared_post(&phone).await;
    let theirs = json!({"title": "Phone title", "body": BODY.replace("Second", "2nd")});
    assert_eq!(
        phone
            .patch_json(&path, &theirs, &[("base-version", "1")])
            .await
            .status(),
        200
    );

    let mine = json!({"title": "Laptop title", "body": BODY.replace("Second", "Other")});
    let response = laptop.patch_json(&path, &mine, &[("base-version", "1")]).await;
    let conflict = problem(response, 409, "merge-conflict").await;
    let conflicts = conflict.conflicts.expect("a conflict list");
    let title = &conflicts[0];
    assert_eq!(
        (
            title.field.as_str(),
            title.base.as_deref(),
            title.mine.as_deref(),
            title.theirs.as_deref()
        ),
        ("title", Some("Offline"), Some("Laptop title"), Some("Phone title"))
    );
    let hunk = &conflicts[1];
    assert_eq!(
        (
            hunk.field.as_str(),
            hunk.mine.as_deref(),
            hunk.theirs.as_deref(),
            hunk.line
        ),
        ("body", Some("Other paragraph.\n"), Some("2nd paragraph.\n"), Some(3))
    );
    assert_eq!(conflict.current.expect("the post now").version, 2);
    let now: PostResponse = laptop.get(&path).await.json().await.expect("post");
    assert_eq!(
        (now.version, now.title.as_str()),
        (2, "Phone title"),
        "a conflict changes nothing"
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_base_versions_and_both_headers_are_refused_clearly() {
    let server = TestServer::start().await;
    let client = server.admin().await;
    let (_, path) = shared_post(&client).await;
    let change = json!({"title": "x"});
    let both = client
        .patch_json(&path, &change, &[("base-version", "1"), ("if-match", "\"1\"")])
        .await;
    problem(both, 400, "bad-request").await;
    for bad in ["0", "-1", "one", ""] {
        problem(
            client.patch_json(&path, &change, &[("base-version", bad)]).await,
            400,
            "bad-request",
        )
        .await;
    }
    let unknown = client.patch_json(&path, &change, &[("base-version", "7")]).await;
    let unknown = problem(unknown, 422, "unknown-base-version").await;
    assert!(unknown.detail.contains("no version 7"), "{}", unknown.detail);
    let missing = client
        .patch_json(
            "/api/v1/posts/01ARZ3NDEKTSV4RRFFQ69G5FAV",
            &change,
            &[("base-version", "1")],
        )
        .await;
    problem(missing, 404, "not-found").await;
    server.stop().await;
}

#[tokio::test]
async fn an_edit_of_a_post_deleted_meanwhile_is_a_409_saying_so() {
    let server = TestServer::start().await;
    let client = server.admin().await;
    let (_, path) = shared_post(&client).await;
    let deleted = client
        .request(reqwest::Method::DELETE, &path)
        .header("if-match", "\"1\"")
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), 200);
    let response = client
        .patch_json(&path, &json!({"title": "Still editing"}), &[("base-version", "1")])
        .await;
    let gone = problem(response, 409, "invalid-state").await;
    assert!(gone.detail.contains("deleted"), "{}", gone.detail);
    server.stop().await;
}

#[tokio::test]
async fn callers_who_may_not_read_or_edit_the_post_get_no_content_of_it() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let (_, path) = shared_post(&admin).await;
    let secret = json!({"title": "Secret new title", "body": "Secret body.\n"});
    assert_eq!(
        admin
            .patch_json(&path, &secret, &[("if-match", "\"1\"")])
            .await
            .status(),
        200
    );
    let guess = json!({"title": "Guess", "body": "Guess.\n"});

    let user = json!({"username": "bob", "password": "user-password-1", "role": "contributor"});
    assert_eq!(admin.post_json("/api/v1/users", &user, &[]).await.status(), 201);
    let bob = Client::login(&server.base, "bob", "user-password-1").await;
    let write_only: quire_openapi::TokenCreated = admin
        .post_json("/api/v1/tokens", &json!({"name": "w", "scopes": ["posts:write"]}), &[])
        .await
        .json()
        .await
        .expect("token");
    let script = Client {
        token: write_only.secret,
        ..admin.clone()
    };
    // Another user's draft is "not there" for a contributor (404, as for a missing post); a
    // write-only token of an admin knows it exists but may not read it (403).
    for (who, caller, status) in [
        ("another author's contributor", &bob, 404),
        ("a write-only token", &script, 403),
    ] {
        for base in ["1", "9"] {
            let response = caller.patch_json(&path, &guess, &[("base-version", base)]).await;
            assert_eq!(response.status(), status, "{who}, base {base}");
            let text = response.text().await.expect("body");
            assert!(!text.contains("Secret"), "{who} sees nothing of the post: {text}");
            let refused: Problem = serde_json::from_str(&text).expect("problem");
            assert!(refused.conflicts.is_none() && refused.current.is_none(), "{who}");
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn a_412_stores_nothing_so_the_same_key_can_send_the_change_again_as_a_merge() {
    let server = TestServer::start().await;
    let (phone, laptop) = (server.admin().await, server.admin().await);
    let (_, path) = shared_post(&phone).await;
    assert_eq!(
        phone
            .patch_json(&path, &json!({"title": "Phone"}), &[("if-match", "\"1\"")])
            .await
            .status(),
        200
    );
    let mine = json!({"body": "Laptop body.\n"});
    let key = ("idempotency-key", "laptop-edit-1");
    let stale = laptop.patch_json(&path, &mine, &[key, ("if-match", "\"1\"")]).await;
    problem(stale, 412, "version-conflict").await;

    let merge = [key, ("base-version", "1")];
    let first = laptop.patch_json(&path, &mine, &merge).await;
    assert_eq!(first.status(), 200, "the key is still fresh after a 412");
    assert_eq!(first.headers()["etag"], "\"3\"");
    let first = first.text().await.expect("body");
    let again = laptop.patch_json(&path, &mine, &merge).await;
    assert_eq!(again.headers()["etag"], "\"3\"");
    assert_eq!(again.text().await.expect("body"), first, "a retry replays the merge");
    let other_base = laptop.patch_json(&path, &mine, &[key, ("base-version", "2")]).await;
    problem(other_base, 422, "idempotency-key-reused").await;
    let merged: PostResponse = serde_json::from_str(&first).expect("post");
    assert_eq!(
        (merged.title.as_str(), merged.body.as_str()),
        ("Phone", "Laptop body.\n")
    );
    server.stop().await;
}
