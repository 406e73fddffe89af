//! Login timing, in a test binary of its own: it measures time, so it runs alone, not beside
//! the other end-to-end tests (which share this process's password-hashing gate and the cores).
//! An unknown username must cost what a wrong password for a known one costs, or the answer time
//! tells which usernames exist.

use std::time::Instant;

use quire_integration_tests::TestServer;
use serde_json::json;

async fn login(base: &str, user: &str, password: &str) -> reqwest::Response {
    quire_api::tls::install_default_provider();
    reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .expect("send")
}

#[tokio::test]
async fn unknown_users_and_wrong_passwords_take_the_same_time() {
    let server = TestServer::start_with(|c| {
        c.auth.max_failures_per_user = 1000;
        c.auth.max_failures_per_address = 1000;
    })
    .await;
    server.admin().await;
    // Alternate the two kinds so both see the same machine load, and compare the fastest of
    // each: other tests run in this process and on these cores, and interference only ever adds
    // time, so the minimum is the intrinsic cost of each path.
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..21 {
        for (user, times) in [("admin", &mut known), ("nobody-by-this-name", &mut unknown)] {
            let t = Instant::now();
            let status = login(&server.base, user, &format!("wrong-{i}")).await.status();
            times.push(t.elapsed());
            assert_eq!(status, 401);
        }
    }
    known.sort();
    unknown.sort();
    let (known, unknown) = (known[0], unknown[0]);
    let ratio = known.as_secs_f64() / unknown.as_secs_f64();
    assert!((0.5..2.0).contains(&ratio), "known {known:?} vs unknown {unknown:?}");
    server.stop().await;
}
