//! The security catalog: one test per attack, each asserting the exact refusal and that the
//! event log did not change.

use base64::Engine as _;
use quire_integration_tests::{Client, TestClock, TestServer};
use quire_openapi::{EventList, PostResponse, Problem, TokenCreated};
use reqwest::Method;
use serde_json::json;

async fn head(admin: &Client) -> u64 {
    let list: EventList = admin.get("/api/v1/events?limit=1").await.json().await.expect("events");
    list.head
}

async fn refused(response: reqwest::Response, status: u16) -> Problem {
    assert_eq!(response.status(), status);
    response.json().await.expect("problem+json")
}

/// A user with `role`, logged in.
async fn user(server: &TestServer, admin: &Client, name: &str, role: &str) -> Client {
    let body = json!({"username": name, "password": "user-password-1", "role": role});
    assert_eq!(admin.post_json("/api/v1/users", &body, &[]).await.status(), 201);
    Client::login(&server.base, name, "user-password-1").await
}

fn with_token(client: &Client, token: &str) -> Client {
    Client {
        token: token.into(),
        ..client.clone()
    }
}

/// Signs claims with the server's real key (or `secret`), for forged and expired tokens.
fn sign(server: &TestServer, claims: serde_json::Value, alg: jsonwebtoken::Algorithm, secret: Option<&[u8]>) -> String {
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(server.dir.path().join("keys/signing.json")).expect("key file"))
            .expect("json");
    let kid = file["current"].as_str().expect("kid").to_owned();
    let real = base64::engine::general_purpose::STANDARD
        .decode(file["keys"][&kid].as_str().expect("key"))
        .expect("b64");
    let mut header = jsonwebtoken::Header::new(alg);
    header.kid = Some(kid);
    let key = jsonwebtoken::EncodingKey::from_secret(secret.unwrap_or(&real));
    jsonwebtoken::encode(&header, &claims, &key).expect("sign")
}

fn claims(admin_id: &str, tweak: impl FnOnce(&mut serde_json::Value)) -> serde_json::Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut c = json!({"sub": admin_id, "name": "admin", "role": "admin", "iat": now, "nbf": now,
        "exp": now + 600, "iss": "quire", "aud": "quire-api"});
    tweak(&mut c);
    c
}

#[tokio::test]
async fn forged_expired_unsigned_and_misaddressed_jwts_are_refused() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let me: serde_json::Value = admin.get("/api/v1/users/me").await.json().await.expect("me");
    let id = me["id"].as_str().expect("id").to_owned();
    let valid = sign(&server, claims(&id, |_| {}), jsonwebtoken::Algorithm::HS256, None);
    assert_eq!(
        with_token(&admin, &valid).get("/api/v1/posts").await.status(),
        200,
        "the signer is right"
    );

    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let unsigned = {
        let b64 = |v: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.",
            b64(json!({"alg": "none", "typ": "JWT"})),
            b64(claims(&id, |_| {}))
        )
    };
    let mut tampered = valid.clone();
    tampered.pop();
    tampered.push(if valid.ends_with('A') { 'B' } else { 'A' });
    let attacks = [
        ("alg none", unsigned),
        (
            "wrong key",
            sign(
                &server,
                claims(&id, |_| {}),
                jsonwebtoken::Algorithm::HS256,
                Some(b"not-the-key-not-the-key-not-the-k"),
            ),
        ),
        (
            "other algorithm",
            sign(&server, claims(&id, |_| {}), jsonwebtoken::Algorithm::HS512, None),
        ),
        (
            "expired",
            sign(
                &server,
                claims(&id, |c| c["exp"] = json!(now - 60)),
                jsonwebtoken::Algorithm::HS256,
                None,
            ),
        ),
        (
            "not yet valid",
            sign(
                &server,
                claims(&id, |c| c["nbf"] = json!(now + 600)),
                jsonwebtoken::Algorithm::HS256,
                None,
            ),
        ),
        (
            "wrong issuer",
            sign(
                &server,
                claims(&id, |c| c["iss"] = json!("evil")),
                jsonwebtoken::Algorithm::HS256,
                None,
            ),
        ),
        (
            "wrong audience",
            sign(
                &server,
                claims(&id, |c| c["aud"] = json!("other")),
                jsonwebtoken::Algorithm::HS256,
                None,
            ),
        ),
        ("tampered signature", tampered),
    ];
    for (name, token) in attacks {
        let forged = with_token(&admin, &token);
        let response = forged.post_json("/api/v1/posts", &json!({"title": name}), &[]).await;
        assert_eq!(response.status(), 401, "{name} must be refused");
        assert_eq!(
            forged.get("/api/v1/posts").await.status(),
            401,
            "{name} must be refused"
        );
    }
    assert_eq!(head(&admin).await, 0, "nothing reached the log");
    server.stop().await;
}

#[tokio::test]
async fn an_author_cannot_touch_another_users_post() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let alice = user(&server, &admin, "alice", "author").await;
    let bob = user(&server, &admin, "bob", "author").await;
    let post = alice
        .create_post(json!({"title": "Alice's", "status": "published"}))
        .await;
    let path = format!("/api/v1/posts/{}", post.id);
    let before = head(&admin).await;
    let problem = refused(
        bob.patch_json(&path, &json!({"title": "Bob's now"}), &[("if-match", "\"1\"")])
            .await,
        403,
    )
    .await;
    assert_eq!(problem.missing.as_deref(), Some("edit-others-posts"));
    let delete = bob
        .request(Method::DELETE, &path)
        .header("if-match", "\"1\"")
        .send()
        .await
        .expect("send");
    refused(delete, 403).await;
    assert_eq!(head(&admin).await, before);
    let editor = user(&server, &admin, "ed", "editor").await;
    assert_eq!(
        editor
            .patch_json(&path, &json!({"title": "Edited"}), &[("if-match", "\"1\"")])
            .await
            .status(),
        200
    );
    server.stop().await;
}

#[tokio::test]
async fn a_contributor_cannot_publish_schedule_or_delete_published_posts() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let carol = user(&server, &admin, "carol", "contributor").await;
    let before = head(&admin).await;
    let publish = refused(
        carol
            .post_json("/api/v1/posts", &json!({"title": "x", "status": "published"}), &[])
            .await,
        403,
    )
    .await;
    assert_eq!(publish.missing.as_deref(), Some("posts:publish"));
    let schedule = json!({"title": "x", "status": "scheduled", "publish_at": "2099-01-01T00:00:00Z"});
    refused(carol.post_json("/api/v1/posts", &schedule, &[]).await, 403).await;
    assert_eq!(head(&admin).await, before);
    let draft = carol.create_post(json!({"title": "My draft"})).await;
    let path = format!("/api/v1/posts/{}", draft.id);
    refused(
        carol
            .patch_json(&path, &json!({"status": "published"}), &[("if-match", "\"1\"")])
            .await,
        403,
    )
    .await;
    let published: PostResponse = admin
        .patch_json(&path, &json!({"status": "published"}), &[("if-match", "\"1\"")])
        .await
        .json()
        .await
        .expect("json");
    let before = head(&admin).await;
    let delete = carol
        .request(Method::DELETE, &path)
        .header("if-match", format!("\"{}\"", published.version))
        .send()
        .await
        .expect("send");
    refused(delete, 403).await;
    assert_eq!(head(&admin).await, before);
    server.stop().await;
}

#[tokio::test]
async fn api_tokens_are_scoped_revocable_and_expire() {
    let clock = TestClock::new();
    let server = TestServer::start_with(|c| clock.install(c)).await;
    let admin = server.admin().await;
    let create = |scopes: serde_json::Value, expires: Option<String>| {
        let admin = admin.clone();
        async move {
            let body = json!({"name": "script", "scopes": scopes, "expires_at": expires});
            let response = admin.post_json("/api/v1/tokens", &body, &[]).await;
            assert_eq!(response.status(), 201);
            response.json::<TokenCreated>().await.expect("json")
        }
    };
    let reader = create(json!(["posts:read"]), None).await;
    assert!(reader.secret.starts_with("qk_"));
    let script = with_token(&admin, &reader.secret);
    assert_eq!(script.get("/api/v1/posts").await.status(), 200);
    let escalation = refused(
        script.post_json("/api/v1/posts", &json!({"title": "x"}), &[]).await,
        403,
    )
    .await;
    assert_eq!(escalation.missing.as_deref(), Some("posts:write"));
    assert_eq!(head(&admin).await, 0);

    let listed: serde_json::Value = admin.get("/api/v1/tokens").await.json().await.expect("list");
    assert!(listed["items"][0]["last_used_at"].is_string(), "last use is recorded");
    assert!(!listed.to_string().contains(&reader.secret), "secrets are never listed");

    let revoke = admin
        .request(Method::DELETE, &format!("/api/v1/tokens/{}", reader.token.id))
        .send()
        .await
        .expect("send");
    assert_eq!(revoke.status(), 204);
    assert_eq!(
        script.get("/api/v1/posts").await.status(),
        401,
        "a revoked token stops at once"
    );

    let soon = (clock.now() + time::Duration::minutes(1))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let short = create(json!(["posts:read", "posts:write"]), Some(soon)).await;
    let expired = with_token(&admin, &short.secret);
    assert_eq!(
        expired.get("/api/v1/posts").await.status(),
        200,
        "valid until it expires"
    );
    clock.advance(time::Duration::minutes(2));
    refused(
        expired.post_json("/api/v1/posts", &json!({"title": "late"}), &[]).await,
        401,
    )
    .await;
    assert_eq!(head(&admin).await, 0);

    // A token never exceeds its owner's role.
    let editor = user(&server, &admin, "ed", "editor").await;
    let body = json!({"name": "too much", "scopes": ["admin"]});
    let problem = refused(editor.post_json("/api/v1/tokens", &body, &[]).await, 403).await;
    assert_eq!(problem.missing.as_deref(), Some("admin"));
    server.stop().await;
}

#[tokio::test]
async fn admin_endpoints_refuse_an_editor() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let editor = user(&server, &admin, "ed", "editor").await;
    refused(editor.get("/api/v1/users").await, 403).await;
    let add = json!({"username": "mallory", "password": "mallory-pass", "role": "admin"});
    refused(editor.post_json("/api/v1/users", &add, &[]).await, 403).await;
    let me: serde_json::Value = editor.get("/api/v1/users/me").await.json().await.expect("me");
    let promote = editor
        .patch_json(
            &format!("/api/v1/users/{}", me["id"].as_str().expect("id")),
            &json!({"role": "admin"}),
            &[],
        )
        .await;
    refused(promote, 403).await;
    refused(editor.get("/api/v1/tokens?all=true").await, 403).await;
    let users: serde_json::Value = admin.get("/api/v1/users").await.json().await.expect("users");
    assert_eq!(users["items"].as_array().expect("items").len(), 2, "no user was added");
    server.stop().await;
}

#[tokio::test]
async fn disabling_a_user_stops_their_access_refresh_and_api_tokens_at_once() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let dave = user(&server, &admin, "dave", "author").await;
    let token: TokenCreated = dave
        .post_json(
            "/api/v1/tokens",
            &json!({"name": "cron", "scopes": ["posts:write"]}),
            &[],
        )
        .await
        .json()
        .await
        .expect("token");
    let me: serde_json::Value = dave.get("/api/v1/users/me").await.json().await.expect("me");
    let disable = admin
        .patch_json(
            &format!("/api/v1/users/{}", me["id"].as_str().expect("id")),
            &json!({"disabled": true}),
            &[],
        )
        .await;
    assert_eq!(disable.status(), 200);
    refused(
        dave.post_json("/api/v1/posts", &json!({"title": "after"}), &[]).await,
        401,
    )
    .await;
    refused(
        with_token(&dave, &token.secret)
            .post_json("/api/v1/posts", &json!({"title": "after"}), &[])
            .await,
        401,
    )
    .await;
    let refresh = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/refresh", server.base))
        .json(&json!({"refresh_token": dave.tokens.refresh_token}))
        .send()
        .await
        .expect("send");
    refused(refresh, 401).await;
    let login = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&json!({"username": "dave", "password": "user-password-1"}))
        .send()
        .await
        .expect("send");
    refused(login, 401).await;
    assert_eq!(head(&admin).await, 0);
    server.stop().await;
}

async fn login(base: &str, user: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .expect("send")
}

#[tokio::test]
async fn login_brute_force_locks_out_with_retry_after_even_for_the_right_password() {
    let clock = TestClock::new();
    let server = TestServer::start_with(|c| clock.install(c)).await;
    for _ in 0..5 {
        assert_eq!(login(&server.base, "admin", "guess").await.status(), 401);
    }
    let locked = login(&server.base, "admin", quire_integration_tests::ADMIN.1).await;
    assert_eq!(locked.status(), 429);
    let wait: u64 = locked.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((500..=600).contains(&wait), "a 10-minute lockout, got {wait}s");
    let other = login(&server.base, "someone-else", "guess").await;
    assert_eq!(
        other.status(),
        401,
        "another username from the same address is not locked yet"
    );
    clock.advance(time::Duration::seconds(599));
    let still = login(&server.base, "admin", quire_integration_tests::ADMIN.1).await;
    assert_eq!(still.status(), 429, "locked until the 10 minutes are over");
    clock.advance(time::Duration::seconds(2));
    let over = login(&server.base, "admin", quire_integration_tests::ADMIN.1).await;
    assert_eq!(over.status(), 200, "the lockout ends by the clock");
    server.stop().await;
}

/// Access tokens expire by Quire's clock; a refresh token outlives them.
#[tokio::test]
async fn access_tokens_expire_by_the_clock_and_refresh_tokens_renew_them() {
    let clock = TestClock::new();
    let server = TestServer::start_with(|c| clock.install(c)).await;
    let admin = server.admin().await;
    assert_eq!(admin.get("/api/v1/posts").await.status(), 200);
    clock.advance(time::Duration::seconds(900 + 10));
    refused(admin.get("/api/v1/posts").await, 401).await;
    let refreshed = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/refresh", server.base))
        .json(&json!({"refresh_token": admin.tokens.refresh_token}))
        .send()
        .await
        .expect("send");
    assert_eq!(refreshed.status(), 200);
    let tokens: quire_openapi::TokenResponse = refreshed.json().await.expect("tokens");
    assert_eq!(
        with_token(&admin, &tokens.access_token)
            .get("/api/v1/posts")
            .await
            .status(),
        200
    );
    clock.advance(time::Duration::days(31));
    let stale = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/refresh", server.base))
        .json(&json!({"refresh_token": tokens.refresh_token}))
        .send()
        .await
        .expect("send");
    refused(stale, 401).await;
    server.stop().await;
}
