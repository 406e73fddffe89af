//! Nothing dropped without a trace, over real HTTP: a merge conflict names the change that keeps
//! my side and both sides' other changes, the losing side is kept in the post's history as a conflict copy
//! and brought back from there, and a merge that only changes the status records its base.

use quire_integration_tests::{Client, TestServer};
use quire_openapi::{PostHistory, PostResponse, Problem};
use serde_json::json;

const BODY: &str = "First paragraph.\n\nSecond paragraph.\n\nThird paragraph.\n";

async fn history(client: &Client, path: &str) -> PostHistory {
    client
        .get(&format!("{path}/history"))
        .await
        .json()
        .await
        .expect("history")
}

/// A post changed by the phone (title, first paragraph) after the laptop started from version 1.
async fn changed_on_the_phone(phone: &Client) -> String {
    let post = phone
        .create_post(json!({"title": "Offline", "body": BODY, "tags": ["rust"]}))
        .await;
    let path = format!("/api/v1/posts/{}", post.id);
    let theirs = json!({"title": "Phone title", "body": BODY.replace("First", "Phone's first")});
    let response = phone.patch_json(&path, &theirs, &[("base-version", "1")]).await;
    assert_eq!(response.status(), 200);
    path
}

#[tokio::test]
async fn a_conflict_gives_the_change_that_keeps_my_side_and_their_other_changes() {
    let server = TestServer::start().await;
    let (phone, laptop) = (server.admin().await, server.admin().await);
    let path = changed_on_the_phone(&phone).await;
    let mine = json!({"title": "Laptop title", "body": BODY.replace("Third", "Laptop's third")});
    let response = laptop.patch_json(&path, &mine, &[("base-version", "1")]).await;
    assert_eq!(response.status(), 409);
    let conflict: Problem = response.json().await.expect("problem");
    let fields: Vec<_> = conflict
        .conflicts
        .expect("conflicts")
        .into_iter()
        .map(|c| c.field)
        .collect();
    assert_eq!(fields, ["title"], "the body merges; only the title overlaps");
    let kept = "Phone's first paragraph.\n\nSecond paragraph.\n\nLaptop's third paragraph.\n";
    let keep_mine = conflict.keep_mine.expect("the change keeping my side");
    assert_eq!(keep_mine.title.as_deref(), Some("Laptop title"));
    assert_eq!(keep_mine.body.as_deref(), Some(kept));

    // "Keep mine": that change, sent from the version the 409 named.
    let response = laptop.patch_json(&path, &keep_mine, &[("base-version", "2")]).await;
    assert_eq!(response.status(), 200);
    let post: PostResponse = response.json().await.expect("post");
    assert_eq!((post.title.as_str(), post.body.as_str()), ("Laptop title", kept));
    server.stop().await;
}

#[tokio::test]
async fn the_losing_side_is_kept_in_the_history_and_can_be_brought_back() {
    let server = TestServer::start().await;
    let (phone, laptop) = (server.admin().await, server.admin().await);
    let path = changed_on_the_phone(&phone).await;
    // The laptop keeps the phone's title: its own goes into the post's history.
    let copy = json!({"base_version": 2, "title": "Laptop title"});
    let key = ("idempotency-key", "keep-copy-1");
    let kept = laptop
        .post_json(&format!("{path}/conflict-copies"), &copy, &[key])
        .await;
    assert_eq!(kept.status(), 201);
    assert_eq!(kept.headers()["etag"], "\"3\"");
    let again = laptop
        .post_json(&format!("{path}/conflict-copies"), &copy, &[key])
        .await;
    assert_eq!(again.headers()["etag"], "\"3\"", "a retry keeps it once");
    let post: PostResponse = kept.json().await.expect("post");
    assert_eq!(
        (post.title.as_str(), post.version),
        ("Phone title", 3),
        "the post stays"
    );

    let events = history(&laptop, &path).await.events;
    let last = events.last().expect("events");
    assert_eq!((last.event_type.as_str(), last.version), ("PostConflictCopy", 3));
    assert_eq!(last.data["copy"]["title"], "Laptop title");
    assert_eq!(last.data["base_version"], 2);

    // Later the phone edits the body; bringing the copy back keeps that edit.
    let later = json!({"body": BODY.replace("Second", "Later second")});
    assert_eq!(
        phone.patch_json(&path, &later, &[("if-match", "\"3\"")]).await.status(),
        200
    );
    let restored = laptop
        .request(reqwest::Method::POST, &format!("{path}/conflict-copies/3/restore"))
        .send()
        .await
        .expect("restore");
    assert_eq!(restored.status(), 200);
    let post: PostResponse = restored.json().await.expect("post");
    assert_eq!(post.title, "Laptop title");
    assert!(post.body.contains("Later second"), "{}", post.body);
    let not_a_copy = laptop
        .request(reqwest::Method::POST, &format!("{path}/conflict-copies/2/restore"))
        .send()
        .await
        .expect("restore");
    assert_eq!(not_a_copy.status(), 404);
    let bad = laptop
        .post_json(
            &format!("{path}/conflict-copies"),
            &json!({"base_version": 99, "title": "x"}),
            &[],
        )
        .await;
    assert_eq!(bad.status(), 422);
    server.stop().await;
}

#[tokio::test]
async fn a_merge_that_only_publishes_records_its_base() {
    let server = TestServer::start().await;
    let (phone, laptop) = (server.admin().await, server.admin().await);
    let path = changed_on_the_phone(&phone).await;
    let publish = json!({"status": "published"});
    let response = laptop.patch_json(&path, &publish, &[("base-version", "1")]).await;
    assert_eq!(response.status(), 200);
    let post: PostResponse = response.json().await.expect("post");
    assert_eq!(post.title, "Phone title");
    let events = history(&laptop, &path).await.events;
    let last = events.last().expect("events");
    assert_eq!(last.event_type, "PostPublished");
    assert_eq!(
        (last.data["base_version"].as_u64(), last.data["merged"].as_bool()),
        (Some(1), Some(true))
    );
    server.stop().await;
}
