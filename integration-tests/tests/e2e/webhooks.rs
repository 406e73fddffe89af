//! Webhooks end to end: a receiver on 127.0.0.1 (a few lines of HTTP/1.1 over a tokio listener)
//! gets Standard Webhooks deliveries for the event types it subscribed to and no others, signed
//! so that a recomputed HMAC matches; a failing receiver sees the same `webhook-id` on every
//! retry; 410 disables; loopback URLs are refused unless allowed; and a delivery queued before
//! a SIGKILL of the real binary arrives after the restart with the same `webhook-id`.

use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use quire_integration_tests::{BinaryServer, Client, TestServer, ADMIN};
use quire_openapi::{DeliveryList, EventList, Problem, StatusResponse, TokenCreated, WebhookCreated, WebhookResponse};
use serde_json::json;

use crate::webhook_receiver::{Answer, Hit, Receiver};

/// Recomputes the Standard Webhooks signature of `hit` with `secret`.
fn assert_signed(hit: &Hit, secret: &str) {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("prefix"))
        .expect("base64");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).expect("key");
    let (id, timestamp) = (&hit.headers["webhook-id"], &hit.headers["webhook-timestamp"]);
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&hit.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    let signatures = &hit.headers["webhook-signature"];
    assert!(
        signatures.split(' ').any(|s| s == expected),
        "{signatures} != {expected}"
    );
    let sent: i64 = timestamp.parse().expect("unix seconds");
    assert!((time::OffsetDateTime::now_utc().unix_timestamp() - sent).abs() < 120);
}

async fn server(retries: Vec<u64>) -> TestServer {
    TestServer::start_with(|config| {
        config.webhooks.allow_private_addresses = true;
        config.webhooks.retry_schedule_secs = retries;
        config.webhooks.timeout_secs = 2;
    })
    .await
}

async fn register(client: &Client, url: &str, events: &[&str]) -> WebhookCreated {
    let response = client
        .post_json("/api/v1/webhooks", &json!({"url": url, "events": events}), &[])
        .await;
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    response.json().await.expect("webhook json")
}

async fn webhook(client: &Client, id: &str) -> WebhookResponse {
    client
        .get(&format!("/api/v1/webhooks/{id}"))
        .await
        .json()
        .await
        .expect("webhook")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribed_events_arrive_signed_and_others_do_not() {
    let receiver = Receiver::start(&[]).await;
    let server = server(vec![1]).await;
    let client = server.admin().await;
    let after = client
        .get("/api/v1/events?limit=1")
        .await
        .json::<EventList>()
        .await
        .expect("events")
        .head;
    let lifecycle = register(
        &client,
        &format!("{}/a", receiver.base),
        &["post.created", "post.deleted"],
    )
    .await;
    let published = register(&client, &format!("{}/b", receiver.base), &["post.published"]).await;

    let draft = client.create_post(json!({"title": "Draft", "body": "x"})).await;
    let out = client.create_post(json!({"title": "Out", "body": "y"})).await;
    let publish = client
        .patch_json(
            &format!("/api/v1/posts/{}", out.id),
            &json!({"status": "published"}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(publish.status(), 200);
    let deleted = client
        .request(reqwest::Method::DELETE, &format!("/api/v1/posts/{}", draft.id))
        .header("If-Match", format!("\"{}\"", draft.version))
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), 200);

    let events: EventList = client
        .get(&format!("/api/v1/events?after={after}"))
        .await
        .json()
        .await
        .expect("events");
    let count = |types: &[&str]| {
        events
            .events
            .iter()
            .filter(|e| types.contains(&e.event_type.as_str()))
            .count()
    };
    let a = receiver.wait_for("/a", count(&["PostCreated", "PostDeleted"])).await;
    let b = receiver.wait_for("/b", count(&["PostPublished"])).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        receiver.hits("/a").len(),
        a.len(),
        "nothing more than the subscribed events"
    );
    assert_eq!(receiver.hits("/b").len(), b.len());
    let types = |hits: &[Hit]| {
        hits.iter()
            .map(|h| h.json()["type"].as_str().expect("type").to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(types(&a), ["post.created", "post.created", "post.deleted"]);
    assert_eq!(types(&b), ["post.published"]);
    for hit in &a {
        assert_signed(hit, &lifecycle.secret);
    }
    assert_signed(&b[0], &published.secret);
    let body = b[0].json();
    assert_eq!(body["data"]["title"], "Out");
    assert!(body["timestamp"].as_str().is_some_and(|t| t.contains('T')));
    assert_eq!(b[0].headers["content-type"], "application/json");

    let list: DeliveryList = client
        .get(&format!("/api/v1/webhooks/{}/deliveries", lifecycle.webhook.id))
        .await
        .json()
        .await
        .expect("deliveries");
    assert_eq!(list.items.len(), 3);
    assert!(list
        .items
        .iter()
        .all(|d| d.last_status_code == Some(200) && d.attempts == 1));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_receiver_gets_the_same_webhook_id_until_it_answers_2xx() {
    let failures = [Answer::Status(500), Answer::Status(503), Answer::Status(500)];
    let receiver = Receiver::start(&failures).await;
    let server = server(vec![1, 1, 1, 1]).await;
    let client = server.admin().await;
    let hook = register(&client, &format!("{}/flaky", receiver.base), &["*"]).await;
    client.create_post(json!({"title": "Once", "body": "x"})).await;
    let hits = receiver.wait_for("/flaky", 4).await;
    let ids: Vec<_> = hits.iter().map(|h| h.headers["webhook-id"].clone()).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert!(
        hits.windows(2).all(|w| w[0].body == w[1].body),
        "the same body every time"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let delivered = loop {
        let list: DeliveryList = client
            .get(&format!("/api/v1/webhooks/{}/deliveries", hook.webhook.id))
            .await
            .json()
            .await
            .expect("deliveries");
        if list.items[0].last_status_code == Some(200) || Instant::now() > deadline {
            break list.items[0].clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!((delivered.id.as_str(), delivered.attempts), (ids[0].as_str(), 4));
    assert_eq!(webhook(&client, &hook.webhook.id).await.pending, 0);

    // A resend sends it once more, with the same id.
    let resend = client
        .request(
            reqwest::Method::POST,
            &format!(
                "/api/v1/webhooks/{}/deliveries/{}/resend",
                hook.webhook.id, delivered.id
            ),
        )
        .send()
        .await
        .expect("resend");
    assert_eq!(resend.status(), 202);
    let again = receiver.wait_for("/flaky", 5).await;
    assert_eq!(again[4].headers["webhook-id"], ids[0]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_disables_the_webhook() {
    let receiver = Receiver::start(&[Answer::Status(410)]).await;
    let server = server(vec![1]).await;
    let client = server.admin().await;
    let hook = register(&client, &format!("{}/gone", receiver.base), &["*"]).await;
    client.create_post(json!({"title": "One", "body": "x"})).await;
    client.create_post(json!({"title": "Two", "body": "x"})).await;
    receiver.wait_for("/gone", 1).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while webhook(&client, &hook.webhook.id).await.enabled && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = webhook(&client, &hook.webhook.id).await;
    assert_eq!(
        (after.enabled, after.state),
        (false, quire_openapi::WebhookStateName::Disabled)
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.hits("/gone").len(), 1, "nothing is sent to a disabled webhook");
    let status: StatusResponse = client.get("/api/v1/status").await.json().await.expect("status");
    assert_eq!((status.webhooks.webhooks, status.webhooks.disabled), (1, 1));
    assert_eq!(status.webhooks.queue.lag, Some(0));
    let metrics = client.get("/metrics").await.text().await.expect("metrics");
    assert!(
        metrics.contains("quire_projection_lag_events{projection=\"webhooks\"} 0"),
        "{metrics}"
    );
    server.stop().await;
}

#[tokio::test]
async fn loopback_urls_are_refused_unless_private_addresses_are_allowed() {
    let server = TestServer::start().await;
    let client = server.admin().await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/",
        "http://[::1]/",
        "http://169.254.169.254/",
    ] {
        let response = client
            .post_json("/api/v1/webhooks", &json!({"url": url, "events": ["*"]}), &[])
            .await;
        assert_eq!(response.status(), 422, "{url}");
        let problem: Problem = response.json().await.expect("problem");
        assert_eq!(problem.problem_type, "urn:quire:problem:webhook-url-refused");
        assert!(
            problem.detail.contains("allow_private_addresses") || problem.detail.contains("resolve"),
            "{}",
            problem.detail
        );
    }
    let bad = client
        .post_json(
            "/api/v1/webhooks",
            &json!({"url": "http://127.0.0.1/", "events": ["post.nope"]}),
            &[],
        )
        .await;
    assert_eq!(bad.status(), 400);
    let missing = client.get("/api/v1/webhooks/01ARZ3NDEKTSV4RRFFQ69G5FAV").await;
    assert_eq!(missing.status(), 404);
    let ftp = client
        .post_json(
            "/api/v1/webhooks",
            &json!({"url": "ftp://example.org/", "events": ["*"]}),
            &[],
        )
        .await;
    assert_eq!(ftp.status(), 422, "only http and https URLs");

    // Without the admin right: 403 for a real id, a missing one and a malformed one alike.
    let token = client
        .post_json(
            "/api/v1/tokens",
            &json!({"name": "reader", "scopes": ["posts:read"]}),
            &[],
        )
        .await
        .json::<TokenCreated>()
        .await
        .expect("token");
    let reader = Client {
        token: token.secret,
        ..client.clone()
    };
    for path in [
        "/api/v1/webhooks",
        "/api/v1/webhooks/01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "/api/v1/webhooks/nope/deliveries",
    ] {
        assert_eq!(reader.get(path).await.status(), 403, "{path}");
    }
    let create = reader
        .post_json(
            "/api/v1/webhooks",
            &json!({"url": "http://127.0.0.1/", "events": ["*"]}),
            &[],
        )
        .await;
    assert_eq!(create.status(), 403);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_queued_before_sigkill_arrives_after_the_restart_with_the_same_id() {
    let receiver = Receiver::start(&[Answer::Hang]).await;
    let data = tempfile::tempdir().expect("tempdir");
    let env = [
        ("QUIRE_WEBHOOKS__ALLOW_PRIVATE_ADDRESSES", "true"),
        ("QUIRE_WEBHOOKS__TIMEOUT_SECS", "300"),
    ];
    let quire = BinaryServer::start_with_env(data.path(), &env).await;
    let client = Client::login(&quire.base, ADMIN.0, ADMIN.1).await;
    let hook = register(&client, &format!("{}/crash", receiver.base), &["post.created"]).await;
    client
        .create_post(json!({"title": "Before the crash", "body": "x"}))
        .await;
    let first = receiver.wait_for("/crash", 1).await;
    let status = quire.signal(libc::SIGKILL);
    assert!(!status.success());

    let quire = BinaryServer::start_with_env(data.path(), &env).await;
    let hits = receiver.wait_for("/crash", 2).await;
    assert_eq!(hits[1].headers["webhook-id"], first[0].headers["webhook-id"]);
    assert_eq!(hits[1].body, first[0].body);
    assert_signed(&hits[1], &hook.secret);
    drop(quire);
}
