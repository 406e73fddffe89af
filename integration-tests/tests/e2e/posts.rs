//! The posts API over real HTTP: every status code it promises, with what changes and what not.

use quire_integration_tests::TestServer;
use quire_openapi::{EventList, PostHistory, PostList, PostResponse, Problem};
use reqwest::Method;
use serde_json::json;

async fn problem(response: reqwest::Response, status: u16, kind: &str) -> Problem {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json",
        "errors are problem+json"
    );
    let problem: Problem = response.json().await.expect("problem json");
    assert_eq!(problem.problem_type, format!("urn:quire:problem:{kind}"));
    assert_eq!(problem.status, status);
    assert!(!problem.detail.is_empty());
    problem
}

async fn head(client: &quire_integration_tests::Client) -> u64 {
    let list: EventList = client.get("/api/v1/events?limit=1").await.json().await.expect("events");
    list.head
}

#[tokio::test]
async fn create_answers_201_with_location_and_etag_and_get_reads_it_back() {
    let server = TestServer::start().await;
    let client = server.admin().await;
    let response = client
        .post_json(
            "/api/v1/posts",
            &json!({"title": "Hello, World", "body": "# Hi", "tags": ["intro"]}),
            &[],
        )
        .await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().expect("ascii").to_owned();
    assert_eq!(response.headers()["etag"], "\"1\"");
    let post: PostResponse = response.json().await.expect("json");
    assert_eq!(location, format!("/api/v1/posts/{}", post.id));
    assert_eq!(
        (post.slug.as_str(), post.version, post.author.as_str()),
        ("hello-world", 1, "admin")
    );
    let fetched = client.get(&location).await;
    assert_eq!(fetched.headers()["etag"], "\"1\"");
    assert_eq!(fetched.json::<PostResponse>().await.expect("json"), post);
    server.stop().await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let server = TestServer::start().await;
    let client = server.admin().await;
    let post = |body: &'static [u8], content_type: &'static str| {
        client
            .request(Method::POST, "/api/v1/posts")
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    problem(
        post(b"{\"title\": ", "application/json").await.expect("send"),
        400,
        "bad-request",
    )
    .await;
    problem(
        post(b"{\"title\": 5}", "application/json").await.expect("send"),
        400,
        "bad-request",
    )
    .await;
    let unknown = problem(
        post(b"{\"title\": \"a\", \"colour\": 1}", "application/json")
            .await
            .expect("send"),
        400,
        "bad-request",
    )
    .await;
    assert!(unknown.detail.contains("colour"), "{}", unknown.detail);
    problem(
        post(b"{\"title\": \"\xff\xfe\"}", "application/json")
            .await
            .expect("send"),
        400,
        "bad-request",
    )
    .await;
    problem(
        post(b"{\"title\": \"a\"}", "text/plain").await.expect("send"),
        415,
        "unsupported-media-type",
    )
    .await;
    let empty = problem(
        post(b"{\"title\": \"   \"}", "application/json").await.expect("send"),
        400,
        "invalid-field",
    )
    .await;
    assert_eq!(empty.field.as_deref(), Some("title"));
    let slug = problem(
        post(b"{\"title\": \"a\", \"slug\": \"Not OK\"}", "application/json")
            .await
            .expect("send"),
        400,
        "invalid-field",
    )
    .await;
    assert!(
        slug.detail.contains("lowercase"),
        "says what is allowed: {}",
        slug.detail
    );
    let big = format!("{{\"title\": \"big\", \"body\": \"{}\"}}", "x".repeat(1024 * 1024 + 10));
    let response = client
        .request(Method::POST, "/api/v1/posts")
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .expect("send");
    problem(response, 413, "payload-too-large").await;
    let scheduled = client
        .post_json("/api/v1/posts", &json!({"title": "s", "status": "scheduled"}), &[])
        .await;
    problem(scheduled, 400, "invalid-field").await;
    assert_eq!(head(&client).await, 0, "nothing reached the log");
    server.stop().await;
}

#[tokio::test]
async fn undeclared_methods_get_405_with_allow_and_unknown_paths_404() {
    let server = TestServer::start().await;
    let client = server.admin().await;
    let response = client.request(Method::PUT, "/api/v1/posts").send().await.expect("send");
    assert_eq!(response.headers()["allow"], "GET, POST");
    problem(response, 405, "method-not-allowed").await;
    let response = client
        .request(Method::POST, "/api/v1/events")
        .send()
        .await
        .expect("send");
    assert_eq!(response.headers()["allow"], "GET");
    problem(response, 405, "method-not-allowed").await;
    problem(client.get("/api/v1/nothing-here").await, 404, "not-found").await;
    problem(
        client.get("/api/v1/posts/01ARZ3NDEKTSV4RRFFQ69G5FAV").await,
        404,
        "not-found",
    )
    .await;
    problem(client.get("/api/v1/posts/not-an-id").await, 404, "not-found").await;
    server.stop().await;
}

#[tokio::test]
async fn every_api_route_needs_a_valid_access_token() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    for (method, path) in [
        (Method::GET, "/api/v1/posts"),
        (Method::POST, "/api/v1/posts"),
        (Method::GET, "/api/v1/events"),
        (Method::GET, "/api/v1/posts/01ARZ3NDEKTSV4RRFFQ69G5FAV/history"),
        (Method::POST, "/api/v1/auth/logout"),
    ] {
        let bare = http
            .request(method.clone(), format!("{}{path}", server.base))
            .send()
            .await
            .expect("send");
        assert_eq!(bare.headers()["www-authenticate"], "Bearer");
        problem(bare, 401, "unauthorized").await;
        let forged = http
            .request(method, format!("{}{path}", server.base))
            .bearer_auth("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
            .send()
            .await
            .expect("send");
        problem(forged, 401, "unauthorized").await;
    }
    server.stop().await;
}

#[tokio::test]
async fn slugs_derived_get_suffixes_and_explicit_taken_ones_409() {
    let server = TestServer::start().await;
    let client = server.admin().await;
    let a = client.create_post(json!({"title": "Same"})).await;
    let b = client.create_post(json!({"title": "Same"})).await;
    assert_eq!((a.slug.as_str(), b.slug.as_str()), ("same", "same-2"));
    let taken = client
        .post_json("/api/v1/posts", &json!({"title": "x", "slug": "same"}), &[])
        .await;
    problem(taken, 409, "slug-taken").await;
    server.stop().await;
}

#[tokio::test]
async fn changes_need_if_match_and_a_stale_one_gets_412_with_the_current_post() {
    let server = TestServer::start().await;
    let alice = server.admin().await;
    let bob = server.admin().await;
    let post = alice.create_post(json!({"title": "Shared"})).await;
    let path = format!("/api/v1/posts/{}", post.id);
    problem(
        alice.patch_json(&path, &json!({"title": "no precondition"}), &[]).await,
        428,
        "if-match-required",
    )
    .await;
    problem(
        alice.request(Method::DELETE, &path).send().await.expect("send"),
        428,
        "if-match-required",
    )
    .await;

    let (alice_edit, bob_edit) = (json!({"title": "Alice"}), json!({"title": "Bob"}));
    let (a, b) = tokio::join!(
        alice.patch_json(&path, &alice_edit, &[("if-match", "\"1\"")]),
        bob.patch_json(&path, &bob_edit, &[("if-match", "\"1\"")]),
    );
    let (winner, loser) = if a.status() == 200 { (a, b) } else { (b, a) };
    assert_eq!(winner.status(), 200, "exactly one edit wins");
    assert_eq!(winner.headers()["etag"], "\"2\"");
    let won: PostResponse = winner.json().await.expect("json");
    let lost = problem(loser, 412, "version-conflict").await;
    assert_eq!(lost.current.as_deref(), Some(&won), "the loser sees the winner");
    let now: PostResponse = alice.get(&path).await.json().await.expect("json");
    assert_eq!((now.version, now.title), (2, won.title));
    server.stop().await;
}

#[tokio::test]
async fn idempotent_replay_is_byte_identical_and_another_body_is_422() {
    let server = TestServer::start().await;
    let client = server.admin().await;
    let key = [("idempotency-key", "01JDQ-compose-1")];
    let body = json!({"title": "Once only", "status": "published"});
    let first = client.post_json("/api/v1/posts", &body, &key).await;
    assert_eq!(first.status(), 201);
    let (etag, location) = (first.headers()["etag"].clone(), first.headers()["location"].clone());
    let first_bytes = first.bytes().await.expect("body");
    let again = client.post_json("/api/v1/posts", &body, &key).await;
    assert_eq!(again.status(), 201);
    assert_eq!(
        (&again.headers()["etag"], &again.headers()["location"]),
        (&etag, &location)
    );
    assert_eq!(again.bytes().await.expect("body"), first_bytes, "byte-identical replay");
    problem(
        client
            .post_json("/api/v1/posts", &json!({"title": "Other"}), &key)
            .await,
        422,
        "idempotency-key-reused",
    )
    .await;
    let list: PostList = client.get("/api/v1/posts").await.json().await.expect("list");
    assert_eq!(list.items.len(), 1, "published exactly once");

    // A replayed edit answers what the edit answered, even after later changes.
    let path = location.to_str().expect("ascii").to_owned();
    let edit_key = [("idempotency-key", "edit-1"), ("if-match", "\"1\"")];
    let edited = client.patch_json(&path, &json!({"title": "Edited"}), &edit_key).await;
    let edited_bytes = edited.bytes().await.expect("body");
    client
        .patch_json(&path, &json!({"title": "Later"}), &[("if-match", "\"2\"")])
        .await;
    let replay = client.patch_json(&path, &json!({"title": "Edited"}), &edit_key).await;
    assert_eq!(replay.status(), 200);
    assert_eq!(replay.bytes().await.expect("body"), edited_bytes);
    assert_eq!(head(&client).await, 3);
    server.stop().await;
}

#[tokio::test]
async fn delete_restore_history_and_versions() {
    let server = TestServer::start().await;
    let client = server.admin().await;
    let post = client.create_post(json!({"title": "Keep me", "tags": ["a"]})).await;
    let path = format!("/api/v1/posts/{}", post.id);
    let publish = client
        .patch_json(
            &path,
            &json!({"status": "published", "body": "new"}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(
        publish.headers()["etag"],
        "\"3\"",
        "an edit that publishes is two events"
    );
    let deleted = client
        .request(Method::DELETE, &path)
        .header("if-match", "\"3\"")
        .send()
        .await
        .expect("send");
    assert_eq!(deleted.status(), 200);
    assert!(deleted.json::<PostResponse>().await.expect("json").deleted_at.is_some());
    let listed: PostList = client.get("/api/v1/posts").await.json().await.expect("list");
    assert!(listed.items.is_empty(), "deleted posts leave the listing");
    let trash: PostList = client
        .get("/api/v1/posts?deleted=true")
        .await
        .json()
        .await
        .expect("list");
    assert_eq!(trash.items.len(), 1);
    problem(
        client
            .patch_json(&path, &json!({"title": "x"}), &[("if-match", "\"4\"")])
            .await,
        409,
        "invalid-state",
    )
    .await;
    let restore = client
        .request(Method::POST, &format!("{path}/restore"))
        .header("if-match", "\"4\"")
        .send()
        .await
        .expect("send");
    assert_eq!(restore.status(), 200);
    let restored: PostResponse = restore.json().await.expect("json");
    assert!(restored.deleted_at.is_none());
    let history: PostHistory = client
        .get(&format!("{path}/history"))
        .await
        .json()
        .await
        .expect("history");
    let types: Vec<_> = history.events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "PostCreated",
            "PostUpdated",
            "PostPublished",
            "PostDeleted",
            "PostRestored"
        ]
    );
    let v1: PostResponse = client
        .get(&format!("{path}/versions/1"))
        .await
        .json()
        .await
        .expect("v1");
    assert_eq!((v1.body.as_str(), v1.version), ("", 1));
    problem(client.get(&format!("{path}/versions/9")).await, 404, "not-found").await;
    server.stop().await;
}

#[tokio::test]
async fn listing_filters_pages_and_the_event_log_paginates() {
    let server = TestServer::start().await;
    let client = server.admin().await;
    for i in 0..5 {
        let status = if i % 2 == 0 { "published" } else { "draft" };
        client
            .create_post(json!({"title": format!("P{i}"), "status": status, "tags": [format!("t{}", i % 2)]}))
            .await;
    }
    let page1: PostList = client.get("/api/v1/posts?limit=2").await.json().await.expect("list");
    let cursor = page1.next_cursor.clone().expect("more pages");
    let page2: PostList = client
        .get(&format!("/api/v1/posts?limit=2&cursor={cursor}"))
        .await
        .json()
        .await
        .expect("list");
    let titles: Vec<_> = page1
        .items
        .iter()
        .chain(&page2.items)
        .map(|p| p.title.as_str())
        .collect();
    assert_eq!(titles, ["P4", "P3", "P2", "P1"]);
    let published: PostList = client
        .get("/api/v1/posts?status=published")
        .await
        .json()
        .await
        .expect("list");
    assert_eq!(published.items.len(), 3);
    let tagged: PostList = client.get("/api/v1/posts?tag=t1").await.json().await.expect("list");
    assert_eq!(tagged.items.len(), 2);
    problem(client.get("/api/v1/posts?status=gone").await, 400, "invalid-field").await;
    problem(client.get("/api/v1/posts?limit=0").await, 400, "bad-request").await;
    problem(client.get("/api/v1/posts?limit=abc").await, 400, "bad-request").await;
    let events: EventList = client
        .get("/api/v1/events?after=2&limit=2")
        .await
        .json()
        .await
        .expect("events");
    let seqs: Vec<_> = events.events.iter().map(|e| e.seq).collect();
    assert_eq!((seqs, events.next_after, events.head), (vec![3, 4], 4, 5));
    server.stop().await;
}

#[tokio::test]
async fn probes_answer() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    let health = http.get(format!("{}/healthz", server.base)).send().await.expect("send");
    assert_eq!(health.status(), 200);
    let ready: serde_json::Value = http
        .get(format!("{}/readyz", server.base))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(ready["status"], "ready");
    server.stop().await;
}

#[tokio::test]
async fn concurrent_retries_with_one_key_publish_exactly_once() {
    let server = TestServer::start().await;
    let client = server.admin().await;
    let body = json!({"title": "Retried from a flaky phone", "status": "published"});
    let sends = (0..16).map(|_| client.post_json("/api/v1/posts", &body, &[("idempotency-key", "phone-1")]));
    let mut created = Vec::new();
    for response in futures_util::future::join_all(sends).await {
        match response.status().as_u16() {
            201 => created.push(response.bytes().await.expect("body")),
            409 => {
                problem(response, 409, "idempotency-in-progress").await;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(!created.is_empty());
    assert!(created.windows(2).all(|w| w[0] == w[1]), "every 201 is the same answer");
    let list: PostList = client.get("/api/v1/posts").await.json().await.expect("list");
    assert_eq!(list.items.len(), 1, "published exactly once");
    assert_eq!(head(&client).await, 1);
    server.stop().await;
}
