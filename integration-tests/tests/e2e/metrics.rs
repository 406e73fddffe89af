//! Observability: `GET /metrics` (Prometheus) and JSON logs.

use std::io::Read as _;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use quire_integration_tests::git::wait_for_git;
use quire_integration_tests::{quire_bin, Client, TestServer, ADMIN};
use serde_json::json;

/// The samples of a scrape: `name{labels}` → value.
fn samples(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').expect("sample line");
            (name.to_owned(), value.parse().expect("number"))
        })
        .collect()
}

fn value(samples: &[(String, f64)], name: &str) -> Option<f64> {
    samples.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
}

async fn scrape(client: &Client) -> Vec<(String, f64)> {
    let response = client
        .http
        .get(client.url("/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(response.status(), 200);
    let kind = response.headers()["content-type"].to_str().expect("ascii").to_owned();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    let text = response.text().await.expect("text");
    assert!(text.ends_with("# EOF\n"), "{text}");
    samples(&text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_route_and_show_the_log_and_projections() {
    let server = TestServer::start().await;
    let client = server.admin().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let key = format!("key-{i}");
        let body = json!({"title": format!("Post {i}")});
        let response = client
            .post_json("/api/v1/posts", &body, &[("Idempotency-Key", &key)])
            .await;
        assert_eq!(response.status(), 201);
        ids.push(response.json::<quire_openapi::PostResponse>().await.expect("post").id);
    }
    let replay = client
        .post_json(
            "/api/v1/posts",
            &json!({"title": "Post 0"}),
            &[("Idempotency-Key", "key-0")],
        )
        .await;
    assert_eq!(replay.status(), 201, "a replay");
    for id in &ids {
        assert_eq!(client.get(&format!("/api/v1/posts/{id}")).await.status(), 200);
    }
    let stale = client
        .patch_json(
            &format!("/api/v1/posts/{}", ids[0]),
            &json!({"title": "x"}),
            &[("If-Match", "\"9\"")],
        )
        .await;
    assert_eq!(stale.status(), 412);
    wait_for_git(&client).await;

    let deadline = Instant::now() + Duration::from_secs(60);
    let metrics = loop {
        let metrics = scrape(&client).await;
        let site_lag = r#"quire_projection_lag_events{projection="site"}"#;
        if value(&metrics, site_lag) == Some(0.0) || Instant::now() > deadline {
            break metrics;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let get_post = r#"quire_http_requests_total{method="GET",route="/api/v1/posts/{id}",status="200"}"#;
    assert_eq!(value(&metrics, get_post), Some(3.0), "one label for every post id");
    assert!(metrics
        .iter()
        .all(|(name, _)| !ids.iter().any(|id| name.contains(id.as_str()))));
    let created = r#"quire_http_requests_total{method="POST",route="/api/v1/posts",status="201"}"#;
    assert_eq!(value(&metrics, created), Some(4.0));
    let latency = r#"quire_http_request_duration_seconds_count{method="POST",route="/api/v1/posts",status="201"}"#;
    assert_eq!(value(&metrics, latency), Some(4.0));
    let replayed = r#"quire_idempotency_requests_total{outcome="replayed"}"#;
    assert_eq!(value(&metrics, replayed), Some(1.0));
    assert_eq!(value(&metrics, "quire_write_conflicts_total"), Some(1.0));
    assert_eq!(value(&metrics, "quire_log_head_seq"), Some(3.0));
    assert_eq!(value(&metrics, "quire_events_appended_total"), Some(3.0));
    for projection in ["git", "site"] {
        let seq = format!(r#"quire_projection_seq{{projection="{projection}"}}"#);
        assert_eq!(value(&metrics, &seq), Some(3.0), "{projection}");
        let lag = format!(r#"quire_projection_lag_events{{projection="{projection}"}}"#);
        assert_eq!(value(&metrics, &lag), Some(0.0), "{projection}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_ask_for_a_token_or_be_turned_off() {
    let server = TestServer::start_with(|c| c.metrics.token = Some("scrape-secret".into())).await;
    let http = reqwest::Client::new();
    let url = format!("{}/metrics", server.base);
    assert_eq!(http.get(&url).send().await.expect("GET").status(), 401);
    let wrong = http.get(&url).bearer_auth("nope").send().await.expect("GET");
    assert_eq!(wrong.status(), 401);
    let right = http.get(&url).bearer_auth("scrape-secret").send().await.expect("GET");
    assert_eq!(right.status(), 200);
    server.stop().await;

    let server = TestServer::start_with(|c| c.metrics.enabled = false).await;
    let off = http.get(format!("{}/metrics", server.base)).send().await.expect("GET");
    assert_eq!(off.status(), 404);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quire_log_format_json_writes_one_json_object_per_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut child = Command::new(quire_bin())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.path())
        .env("QUIRE_ADMIN_USER", ADMIN.0)
        .env("QUIRE_ADMIN_PASSWORD", ADMIN.1)
        .env("QUIRE_LOG", "info")
        .env("QUIRE_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn quire");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !reqwest::get(format!("{base}/healthz"))
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "quire did not become healthy");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "quire logged something at info");
    for line in &lines {
        let entry: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(entry["level"].is_string() && entry["fields"].is_object(), "{line}");
    }
    assert!(stderr.contains("quire is serving"), "{stderr}");
}
