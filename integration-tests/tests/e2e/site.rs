//! The rendered site end to end, in-process: what readers can see (only published posts, in
//! pages, feeds, sitemap and tag pages), scheduled publishing with a test clock, and serving
//! `<data>/site` at `/`. Restarts and crashes of the real binary are in `site_restart.rs`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::site_common::{eventually, get, site_files, wait_for_site};
use quire_api::config::ClockOverride;
use quire_integration_tests::TestServer;
use quire_openapi::PostResponse;
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

#[tokio::test]
async fn drafts_scheduled_deleted_and_unpublished_posts_never_appear() {
    let server = TestServer::start().await;
    let client = server.admin().await;
    let site = server.dir.path().join("site");
    let later = (OffsetDateTime::now_utc() + time::Duration::days(3))
        .format(&Rfc3339)
        .expect("format");
    client
        .create_post(json!({"title": "Visible post", "body": "Hello **readers**.",
            "tags": ["shared", "public-tag"], "status": "published"}))
        .await;
    client
        .create_post(json!({"title": "Hidden draftmarker", "body": "draftmarker body",
            "tags": ["shared", "draftonlytag"]}))
        .await;
    client
        .create_post(json!({"title": "Hidden schedmarker", "body": "schedmarker body",
            "tags": ["shared", "schedonlytag"], "status": "scheduled", "publish_at": later}))
        .await;
    let deleted = client
        .create_post(json!({"title": "Hidden delmarker", "body": "delmarker body",
            "tags": ["shared", "delonlytag"], "status": "published"}))
        .await;
    let unpublished = client
        .create_post(json!({"title": "Hidden unpubmarker", "body": "unpubmarker body",
            "tags": ["unpubonlytag"], "status": "published"}))
        .await;
    wait_for_site(&client, &site).await;
    assert!(
        site_files(&site).values().any(|t| t.contains("delmarker")),
        "was shown while published"
    );

    let response = client
        .request(reqwest::Method::DELETE, &format!("/api/v1/posts/{}", deleted.id))
        .header("If-Match", "*")
        .send()
        .await
        .expect("DELETE");
    assert!(response.status().is_success());
    let response = client
        .patch_json(
            &format!("/api/v1/posts/{}", unpublished.id),
            &json!({"status": "draft"}),
            &[("If-Match", "*")],
        )
        .await;
    assert!(response.status().is_success());
    wait_for_site(&client, &site).await;

    let markers = ["draftmarker", "schedmarker", "delmarker", "unpubmarker", "onlytag"];
    let files = site_files(&site);
    for (name, text) in &files {
        for marker in markers {
            assert!(
                !text.contains(marker) && !name.contains(marker),
                "{marker} shows in {name}"
            );
        }
    }
    for page in [
        "index.html",
        "feed.xml",
        "feed.json",
        "sitemap.xml",
        "archive/index.html",
        "tags/shared/index.html",
    ] {
        assert!(files[page].contains("visible-post"), "{page} lists the published post");
    }
    assert!(
        files["tags/index.html"].contains("public-tag"),
        "the tag index lists the post's tags"
    );
    for path in [
        "/posts/hidden-draftmarker/",
        "/posts/hidden-schedmarker/",
        "/posts/hidden-delmarker/",
        "/posts/hidden-unpubmarker/",
        "/tags/draftonlytag/",
        "/tags/delonlytag/",
    ] {
        assert_eq!(get(&client, path).await.0, 404, "{path}");
    }
    for path in [
        "/",
        "/feed.xml",
        "/feed.json",
        "/sitemap.xml",
        "/tags/",
        "/tags/shared/",
        "/archive/",
    ] {
        let (status, body) = get(&client, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(markers.iter().all(|m| !body.contains(m)), "{path} leaks a hidden post");
    }
}

#[tokio::test]
async fn a_scheduled_post_appears_when_its_time_comes() {
    let start = OffsetDateTime::now_utc().replace_nanosecond(0).expect("valid");
    let now = Arc::new(Mutex::new(start));
    let clock = now.clone();
    let server = TestServer::start_with(move |config| {
        config.clock = Some(ClockOverride(Arc::new(move || *clock.lock().expect("clock"))));
    })
    .await;
    let client = server.admin().await;
    let site = server.dir.path().join("site");
    let publish_at = start + time::Duration::hours(1);
    let post = client
        .create_post(json!({"title": "Tomorrow's news", "body": "Not yet.", "tags": ["news"],
            "status": "scheduled", "publish_at": publish_at.format(&Rfc3339).expect("format")}))
        .await;
    wait_for_site(&client, &site).await;
    assert_eq!(
        get(&client, "/posts/tomorrow-s-news/").await.0,
        404,
        "not before its time"
    );
    assert!(!get(&client, "/feed.xml").await.1.contains("Tomorrow"));

    *now.lock().expect("clock") = start + time::Duration::minutes(59);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        get(&client, "/posts/tomorrow-s-news/").await.0,
        404,
        "a minute early is early"
    );

    *now.lock().expect("clock") = start + time::Duration::minutes(61);
    eventually("the scheduled post to be published", || async {
        get(&client, "/posts/tomorrow-s-news/").await.0 == 200
    })
    .await;
    // An hour later the first access token has expired (by the same clock): log in again.
    let client = server.admin().await;
    let current: PostResponse = client
        .get(&format!("/api/v1/posts/{}", post.id))
        .await
        .json()
        .await
        .expect("post");
    assert_eq!(current.status, quire_openapi::PostStatus::Published);
    assert_eq!(
        current.publish_at,
        Some(publish_at),
        "published at the time it was scheduled for"
    );
    let history: serde_json::Value = client
        .get(&format!("/api/v1/posts/{}/history", post.id))
        .await
        .json()
        .await
        .expect("history");
    let events = history["events"].as_array().expect("events");
    let last = events.last().expect("an event");
    assert_eq!(last["type"], "PostPublished");
    assert_eq!(last["actor"], "quire-scheduler");
    wait_for_site(&client, &site).await;
    for page in ["/", "/feed.xml", "/feed.json", "/sitemap.xml", "/tags/news/"] {
        assert!(
            get(&client, page).await.1.contains("tomorrow-s-news"),
            "{page} shows it"
        );
    }
}

#[tokio::test]
async fn the_site_is_served_at_the_root() {
    let server = TestServer::start().await;
    let client = server.admin().await;
    let site = server.dir.path().join("site");
    client
        .create_post(json!({"title": "Served", "body": "text", "tags": ["t"], "status": "published"}))
        .await;
    wait_for_site(&client, &site).await;
    std::fs::write(server.dir.path().join("secret.txt"), "TOPSECRET").expect("write");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let fetch = |path: &str| http.get(client.url(path)).send();

    let home = fetch("/").await.expect("GET /");
    assert_eq!(home.status(), 200);
    let headers = home.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["cache-control"], "public, no-cache");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.contains_key("last-modified"));
    let etag = headers["etag"].clone();
    assert!(home.text().await.expect("body").contains("Served"));
    let again = http
        .get(client.url("/"))
        .header("If-None-Match", etag.clone())
        .send()
        .await
        .expect("GET");
    assert_eq!(again.status(), 304, "a matching ETag is not sent again");
    let head = http.head(client.url("/")).send().await.expect("HEAD");
    assert_eq!((head.status().as_u16(), head.headers()["etag"].clone()), (200, etag));

    for (path, content_type, cache) in [
        ("/posts/served/", "text/html; charset=utf-8", "public, no-cache"),
        ("/feed.xml", "application/atom+xml; charset=utf-8", "public, no-cache"),
        ("/feed.json", "application/feed+json; charset=utf-8", "public, no-cache"),
        ("/sitemap.xml", "application/xml; charset=utf-8", "public, no-cache"),
        ("/robots.txt", "text/plain; charset=utf-8", "public, no-cache"),
        ("/style.css", "text/css; charset=utf-8", "public, max-age=3600"),
        ("/tags/", "text/html; charset=utf-8", "public, no-cache"),
    ] {
        let response = fetch(path).await.expect("GET");
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], content_type, "{path}");
        assert_eq!(response.headers()["cache-control"], cache, "{path}");
        assert!(
            response.headers().get("content-disposition").is_none(),
            "{path} is shown, not downloaded"
        );
    }

    let moved = fetch("/posts/served").await.expect("GET");
    assert_eq!(moved.status(), 301);
    assert_eq!(moved.headers()["location"], "/posts/served/");

    let not_found_page = std::fs::read_to_string(site.join("404.html")).expect("404 page");
    for path in ["/nothing-here", "/posts/", "/posts/nope/", "/.quire-manifest.json"] {
        let response = fetch(path).await.expect("GET");
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
        assert_eq!(
            response.text().await.expect("body"),
            not_found_page,
            "{path} gets the site's 404 page"
        );
    }
    let api = fetch("/api/v1/nothing").await.expect("GET");
    assert_eq!(api.status(), 404);
    assert_eq!(api.headers()["content-type"], "application/problem+json");
    let post = http.post(client.url("/")).send().await.expect("POST");
    assert_eq!(post.status(), 405);
    assert_eq!(post.headers()["allow"], "GET, HEAD");

    let base = client.base.clone();
    for path in [
        "/../secret.txt",
        "/posts/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/posts/..%2f..%2fsecret.txt",
        "/tags/%2e%2e/%2e%2e/secret.txt",
        "/..%5csecret.txt",
    ] {
        let (status, body) = raw_get(&base, path).await;
        assert!(status == 404 || status == 400, "{path} answered {status}");
        assert!(!body.contains("TOPSECRET"), "{path} escaped the site folder");
    }
}

/// A GET sent byte for byte as given (HTTP clients normalize `..` away).
async fn raw_get(base: &str, path: &str) -> (u16, String) {
    use std::io::{Read as _, Write as _};
    let addr = base.trim_start_matches("http://").to_owned();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        stream.write_all(request.as_bytes()).expect("send");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).expect("read");
        let text = String::from_utf8_lossy(&response).into_owned();
        let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        (status, text)
    })
    .await
    .expect("raw request")
}

#[tokio::test]
async fn serving_can_be_left_to_nginx() {
    let server = TestServer::start_with(|config| config.site.serve = false).await;
    let client = server.admin().await;
    client
        .create_post(json!({"title": "Still rendered", "body": "x", "status": "published"}))
        .await;
    wait_for_site(&client, &server.dir.path().join("site")).await;
    assert!(server.dir.path().join("site/posts/still-rendered/index.html").is_file());
    let response = client.http.get(client.url("/")).send().await.expect("GET");
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
}
