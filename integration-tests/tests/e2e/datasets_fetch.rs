//! The scheduled fetch across a restart (its state is kept in `<data>/dataset-fetches.json`,
//! so a restart does not fetch every source again at once) and from `https` sources whose
//! certificate comes from a test CA trusted through `datasets.ca_file`.

use std::path::Path;
use std::time::Duration;

use quire_integration_tests::{TestClock, TestServer};
use serde_json::json;

use crate::datasets::{fetch_state, json_of_api, patch, put_csv, puts, wait_for_hits, Upstream};
use crate::webhook_receiver::{Answer, Receiver};
use crate::webhooks_https::{make_certificates, server_tls};

async fn start(data: &Path, clock: &TestClock, ca: Option<&Path>) -> TestServer {
    TestServer::start_with(|c| {
        c.data_dir = data.to_path_buf();
        clock.install(c);
        c.webhooks.allow_private_addresses = true;
        c.datasets.fetch_timeout_secs = 5;
        c.datasets.ca_file = ca.map(Path::to_path_buf);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_the_fetch_schedule_instead_of_fetching_everything_again() {
    let upstream = Upstream::start("day,count\n2026-01-01,1\n").await;
    let data = tempfile::tempdir().expect("tempdir");
    let clock = TestClock::new();
    let server = start(data.path(), &clock, None).await;
    let admin = server.admin().await;
    assert_eq!(put_csv(&admin, "feed", "day,count\n", &[]).await.status(), 201);
    let set = patch(&admin, "feed", json!({"source_url": upstream.url, "refresh": "6h"}), 1).await;
    let first = fetch_state(&admin, "feed", |f| f.changes == 1).await;
    assert_eq!(upstream.hits(), 1);
    server.stop().await;
    let kept = std::fs::read_to_string(data.path().join("dataset-fetches.json")).expect("the state file");
    assert!(kept.contains("\"feed\"") && kept.contains(&upstream.url), "{kept}");

    // An hour later: not due for five more hours, so no fetch after the restart.
    clock.advance(time::Duration::hours(1));
    let server = start(data.path(), &clock, None).await;
    let admin = server.admin().await;
    let after = fetch_state(&admin, "feed", |_| true).await;
    assert_eq!(after.last_attempt_at, first.last_attempt_at, "the state came back");
    assert_eq!(after.changes, 1);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        upstream.hits(),
        1,
        "the fetcher ticks every second: it would have fetched by now"
    );

    // Due again once its interval has passed since the last fetch (not since the restart).
    clock.advance(time::Duration::hours(5));
    wait_for_hits(&upstream, 2).await;
    let admin = server.admin().await; // the earlier login expired on the test clock
                                      // A new source is due at once, whatever the schedule.
    let moved = format!("{}?moved", upstream.url);
    let current = json_of_api(&admin, "feed").await;
    assert_eq!(current.version, set.version + 1, "the first fetch's event");
    patch(&admin, "feed", json!({"source_url": moved}), current.version).await;
    wait_for_hits(&upstream, 3).await;
    fetch_state(&admin, "feed", |f| f.source_url == moved && f.last_error.is_none()).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_source_is_fetched_when_its_ca_is_trusted_and_refused_otherwise() {
    let certs = tempfile::tempdir().expect("tempdir");
    make_certificates(certs.path());
    let csv = "day,count\n2026-01-01,7\n2026-01-02,9\n";
    let upstream = Receiver::start_tls(&[Answer::Csv(csv), Answer::Csv(csv)], server_tls(certs.path())).await;
    let url = format!("{}/counts.csv", upstream.base);
    let clock = TestClock::new();

    let untrusted = tempfile::tempdir().expect("tempdir");
    let server = start(untrusted.path(), &clock, None).await;
    let admin = server.admin().await;
    assert_eq!(put_csv(&admin, "tls", "day,count\n", &[]).await.status(), 201);
    patch(&admin, "tls", json!({"source_url": url, "refresh": "1h"}), 1).await;
    let refused = fetch_state(&admin, "tls", |f| f.failures == 1).await;
    assert!(
        refused
            .last_error
            .as_deref()
            .is_some_and(|e| e.to_lowercase().contains("certificate")),
        "{refused:?}"
    );
    assert_eq!(puts(&admin, "tls").await, 1, "nothing was stored");
    server.stop().await;

    let trusted = tempfile::tempdir().expect("tempdir");
    let ca = certs.path().join("ca.pem");
    let server = start(trusted.path(), &clock, Some(&ca)).await;
    let admin = server.admin().await;
    assert_eq!(put_csv(&admin, "tls", "day,count\n", &[]).await.status(), 201);
    patch(&admin, "tls", json!({"source_url": url, "refresh": "1h"}), 1).await;
    let fetched = fetch_state(&admin, "tls", |f| f.changes == 1).await;
    assert_eq!(fetched.last_error, None);
    assert_eq!(json_of_api(&admin, "tls").await.rows, 2);
    assert_eq!(
        upstream.hits("/counts.csv").len(),
        1,
        "the refused handshake sent no request"
    );
    server.stop().await;
}
