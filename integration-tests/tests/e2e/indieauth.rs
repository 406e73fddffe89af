//! IndieAuth over HTTP, as an app and a browser would go through it: metadata and discovery,
//! the consent page, deny, a wrong password, approve with PKCE, the code exchange (single use,
//! checked verifier and redirect_uri), publishing with the token through Micropub, the token
//! in `/api/v1/tokens`, introspection, revocation, and scopes capped by the user's role.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use quire_integration_tests::{Client, TestServer, ADMIN};
use quire_openapi::TokenList;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const CLIENT: &str = "https://app.example/";
const REDIRECT: &str = "https://app.example/callback";
const VERIFIER: &str = "a-verifier-that-is-long-enough-for-pkce-0123456789";

fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn challenge() -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()))
}

/// The authorization request's parameters, with `redirect_uri` and PKCE as given.
fn params(redirect: &str, pkce: bool, scope: &str) -> String {
    let mut p = format!(
        "response_type=code&client_id={}&redirect_uri={}&state=xyz&scope={}",
        enc(CLIENT),
        enc(redirect),
        enc(scope)
    );
    if pkce {
        p.push_str(&format!("&code_challenge={}&code_challenge_method=S256", challenge()));
    }
    p
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Submits the consent form; returns the status and the `Location`.
async fn consent(base: &str, form: String) -> (u16, String) {
    let response = no_redirects()
        .post(format!("{base}/indieauth/auth"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("consent");
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (response.status().as_u16(), location)
}

/// Logs in on the consent page and approves; returns the code.
async fn approve(base: &str, user: (&str, &str), scope: &str) -> String {
    let form = format!(
        "{}&username={}&password={}&decision=approve",
        params(REDIRECT, true, scope),
        user.0,
        user.1
    );
    let (status, location) = consent(base, form).await;
    assert_eq!(status, 302, "approve");
    assert!(location.starts_with(&format!("{REDIRECT}?code=")), "{location}");
    assert!(
        location.contains("&state=xyz") && location.contains("&iss="),
        "{location}"
    );
    let code = location
        .split("code=")
        .nth(1)
        .and_then(|r| r.split('&').next())
        .expect("code");
    code.to_owned()
}

async fn exchange(base: &str, code: &str, redirect: &str, verifier: &str) -> reqwest::Response {
    let form = format!(
        "grant_type=authorization_code&code={code}&client_id={}&redirect_uri={}&code_verifier={verifier}",
        enc(CLIENT),
        enc(redirect)
    );
    reqwest::Client::new()
        .post(format!("{base}/indieauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("token")
}

async fn introspect(admin: &Client, token: &str) -> Value {
    admin
        .request(reqwest::Method::POST, "/indieauth/introspect")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={}", enc(token)))
        .send()
        .await
        .expect("introspect")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn an_app_logs_in_with_pkce_and_publishes_a_note_with_a_photo() {
    let server = TestServer::start_with(|c| c.api.write_rate_per_minute = 0).await;
    let admin = server.admin().await;
    let base = server.base.clone();
    let meta: Value = admin
        .get("/.well-known/oauth-authorization-server")
        .await
        .json()
        .await
        .expect("metadata");
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    assert!(meta["token_endpoint"]
        .as_str()
        .is_some_and(|t| t.ends_with("/indieauth/token")));

    let page = admin
        .get(&format!("/indieauth/auth?{}", params(REDIRECT, true, "create media")))
        .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("page");
    assert!(
        html.contains("https://app.example/") && html.contains("<li>create</li><li>media</li>"),
        "{html}"
    );
    let elsewhere = admin
        .get(&format!(
            "/indieauth/auth?{}",
            params("https://evil.example/cb", true, "create")
        ))
        .await;
    assert_eq!(elsewhere.status(), 400, "redirect_uri must be on the client's host");
    assert_eq!(
        admin
            .get(&format!("/indieauth/auth?{}", params(REDIRECT, false, "create")))
            .await
            .status(),
        400,
        "PKCE is required"
    );

    let (status, location) = consent(&base, format!("{}&decision=deny", params(REDIRECT, true, "create"))).await;
    assert_eq!(status, 302);
    assert!(
        location.contains("error=access_denied") && location.contains("state=xyz"),
        "{location}"
    );
    let wrong = format!(
        "{}&username=admin&password=nope&decision=approve",
        params(REDIRECT, true, "create")
    );
    assert_eq!(consent(&base, wrong).await.0, 401);

    let code = approve(&base, ADMIN, "create media").await;
    let bad = exchange(
        &base,
        &code,
        REDIRECT,
        "a-wrong-verifier-that-is-long-enough-for-pkce-0000",
    )
    .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.json::<Value>().await.expect("json")["error"], "invalid_grant");
    assert_eq!(
        exchange(&base, &code, REDIRECT, VERIFIER).await.status(),
        400,
        "a code works once, even after a failure"
    );
    let code = approve(&base, ADMIN, "create media").await;
    assert_eq!(
        exchange(&base, &code, "https://app.example/other", VERIFIER)
            .await
            .status(),
        400,
        "redirect_uri must match"
    );
    let code = approve(&base, ADMIN, "create media").await;
    let granted = exchange(&base, &code, REDIRECT, VERIFIER).await;
    assert_eq!(granted.status(), 200);
    let granted: Value = granted.json().await.expect("json");
    assert_eq!(
        exchange(&base, &code, REDIRECT, VERIFIER).await.status(),
        400,
        "a used code is refused"
    );
    let token = granted["access_token"].as_str().expect("access_token").to_owned();
    assert_eq!(granted["token_type"], "Bearer");
    assert!(granted["me"].as_str().is_some_and(|m| m.ends_with('/')));

    let app = Client {
        token: token.clone(),
        ..admin.clone()
    };
    let jpeg: &[u8] = include_bytes!("../../fixtures/exif-orientation-6-gps.jpg");
    let boundary = "indieauth-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"h\"\r\n\r\nentry\r\n--{boundary}\r\nContent-Disposition: \
         form-data; name=\"content\"\r\n\r\nA note from the app\r\n--{boundary}\r\nContent-Disposition: form-data; \
         name=\"photo\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(jpeg);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let created = app
        .request(reqwest::Method::POST, "/micropub")
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .expect("micropub");
    assert_eq!(created.status(), 201);
    let url = created.headers()["location"].to_str().expect("ascii").to_owned();
    let path = &url[url.find("/posts/").expect("post url")..];
    let mut page = String::new();
    for _ in 0..200 {
        let response = admin.get(path).await;
        if response.status() == 200 {
            page = response.text().await.expect("page");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(page.contains("h-entry") && page.contains("class=\"u-photo\""), "{page}");

    let tokens: TokenList = admin.get("/api/v1/tokens").await.json().await.expect("tokens");
    assert!(
        tokens.items.iter().any(|t| t.name == format!("IndieAuth: {CLIENT}")),
        "listed with the API tokens"
    );
    let info = introspect(&admin, &token).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["scope"], "posts:write posts:publish media:write");
    let revoked = reqwest::Client::new()
        .post(format!("{base}/indieauth/revoke"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={}", enc(&token)))
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), 200);
    assert_eq!(introspect(&admin, &token).await["active"], false);
    let after = app.get("/micropub?q=config").await;
    assert_eq!(after.status(), 401, "a revoked token no longer works");
    server.stop().await;
}

#[tokio::test]
async fn a_token_never_exceeds_its_users_role() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let body = json!({"username": "carol", "password": "carol-password-1", "role": "contributor"});
    assert_eq!(admin.post_json("/api/v1/users", &body, &[]).await.status(), 201);
    let code = approve(&server.base, ("carol", "carol-password-1"), "create update media").await;
    let granted: Value = exchange(&server.base, &code, REDIRECT, VERIFIER)
        .await
        .json()
        .await
        .expect("json");
    let token = granted["access_token"].as_str().expect("token");
    let info = introspect(&admin, token).await;
    assert_eq!(
        info["scope"], "posts:read posts:write",
        "a contributor cannot publish or upload"
    );
    server.stop().await;
}
