//! Login, refresh-token rotation with reuse detection, logout and the first-start setup.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use quire_integration_tests::{quire_bin, Client, TestServer, ADMIN};
use quire_openapi::{Problem, RefreshRequest, TokenResponse};
use serde_json::json;

async fn refresh(http: &reqwest::Client, base: &str, token: &str) -> reqwest::Response {
    http.post(format!("{base}/api/v1/auth/refresh"))
        .json(&RefreshRequest {
            refresh_token: token.into(),
        })
        .send()
        .await
        .expect("send")
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_get_the_same_401() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    let mut details = Vec::new();
    for (user, password) in [(ADMIN.0, "wrong-password"), ("nobody", ADMIN.1)] {
        let response = http
            .post(format!("{}/api/v1/auth/login", server.base))
            .json(&json!({"username": user, "password": password}))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 401);
        details.push(response.json::<Problem>().await.expect("problem").detail);
    }
    assert_eq!(details[0], details[1], "no user enumeration through the message");
    server.stop().await;
}

#[tokio::test]
async fn refresh_rotates_and_a_replayed_token_revokes_the_session() {
    let server = TestServer::start().await;
    let client = server.admin().await;
    let http = reqwest::Client::new();
    let first = client.tokens.refresh_token.clone();
    let response = refresh(&http, &server.base, &first).await;
    assert_eq!(response.status(), 200);
    let second: TokenResponse = response.json().await.expect("tokens");
    assert_ne!(second.refresh_token, first);
    assert_eq!((second.token_type.as_str(), second.expires_in), ("Bearer", 900));
    let fresh = Client {
        token: second.access_token.clone(),
        ..client.clone()
    };
    assert_eq!(
        fresh.get("/api/v1/posts").await.status(),
        200,
        "the new access token works"
    );

    // A second client replays the old refresh token: refused, and the family is revoked.
    assert_eq!(refresh(&http, &server.base, &first).await.status(), 401);
    assert_eq!(refresh(&http, &server.base, &second.refresh_token).await.status(), 401);
    server.stop().await;
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let server = TestServer::start().await;
    let client = server.admin().await;
    let body = json!({"refresh_token": client.tokens.refresh_token});
    let response = client.post_json("/api/v1/auth/logout", &body, &[]).await;
    assert_eq!(response.status(), 204);
    let http = reqwest::Client::new();
    assert_eq!(
        refresh(&http, &server.base, &client.tokens.refresh_token)
            .await
            .status(),
        401
    );
    server.stop().await;
}

#[tokio::test]
async fn first_start_prints_a_one_time_setup_token_that_creates_the_admin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut child = Command::new(quire_bin())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.path())
        .env_remove("QUIRE_ADMIN_USER")
        .env("QUIRE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn quire");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(start) = line.find("qs_") {
                let token: String = line[start..].chars().take_while(|c| *c != '"').collect();
                let _ = tx.send(token);
            }
        }
    });
    let token = rx.recv_timeout(Duration::from_secs(30)).expect("setup token printed");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let setup = |token: String, user: &'static str| {
        http.post(format!("{base}/api/v1/auth/setup"))
            .json(&json!({"setup_token": token, "username": user, "password": "first-admin-pw"}))
            .send()
    };
    assert_eq!(setup("qs_wrong".into(), "root").await.expect("send").status(), 401);
    let created = setup(token.clone(), "root").await.expect("send");
    assert_eq!(created.status(), 201);
    assert_eq!(
        setup(token, "root2").await.expect("send").status(),
        401,
        "the token works once"
    );
    let client = Client::login(&base, "root", "first-admin-pw").await;
    assert_eq!(client.get("/api/v1/posts").await.status(), 200);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn user_add_reads_the_password_from_stdin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(quire_bin())
        .args(["user", "add", "writer", "--role", "author", "--data-dir"])
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), b"writer-password\n").expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("created user writer"));
    let bad = Command::new(quire_bin())
        .args(["user", "add", "x", "--role", "emperor", "--data-dir"])
        .arg(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a role"));
}
