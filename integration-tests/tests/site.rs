//! The rendered site end to end: what readers can see (only published posts, in pages, feeds,
//! sitemap and tag pages), scheduled publishing with a test clock, serving `<data>/site` at
//! `/`, and the real binary catching up after restarts and after being killed mid-render.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use quire_api::config::ClockOverride;
use quire_integration_tests::{quire_bin, Client, TestServer, ADMIN};
use quire_openapi::{EventList, PostResponse};
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The seq of the newest event.
async fn head(client: &Client) -> u64 {
    let list: EventList = client.get("/api/v1/events?limit=1").await.json().await.expect("events");
    list.head
}

/// The `seq` in the site's manifest (0 when there is none yet).
fn manifest_seq(site: &Path) -> u64 {
    std::fs::read(site.join(".quire-manifest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|m| m["seq"].as_u64())
        .unwrap_or(0)
}

/// Waits until the site in `site` reflects the log's head.
async fn wait_for_site(client: &Client, site: &Path) {
    let head = head(client).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while manifest_seq(site) < head {
        assert!(Instant::now() < deadline, "the site did not reach seq {head}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls `check` until it holds (20 s at most).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every visible file of the site folder with its text.
fn site_files(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).expect("list") {
            let path = entry.expect("entry").path();
            let name = path.file_name().expect("name").to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("inside").to_string_lossy().into_owned();
                out.insert(
                    rel,
                    String::from_utf8_lossy(&std::fs::read(&path).expect("read")).into_owned(),
                );
            }
        }
    }
    out
}

async fn get(client: &Client, path: &str) -> (u16, String) {
    let response = client.http.get(client.url(path)).send().await.expect("GET");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

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

/// The real binary with extra environment, killed (SIGKILL) when dropped.
struct Quire {
    child: Child,
    client: Client,
}

impl Quire {
    async fn start(data: &Path, env: &[(&str, &str)]) -> Quire {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let child = Command::new(quire_bin())
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(data)
            .env("QUIRE_ADMIN_USER", ADMIN.0)
            .env("QUIRE_ADMIN_PASSWORD", ADMIN.1)
            .env("QUIRE_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn quire");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        eventually("quire to become healthy", || async {
            http.get(format!("{base}/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        })
        .await;
        let client = Client::login(&base, ADMIN.0, ADMIN.1).await;
        Quire { child, client }
    }

    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("wait");
    }
}

impl Drop for Quire {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn data_dir() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, site) = (dir.path().join("data"), dir.path().join("data/site"));
    (dir, data, site)
}

#[tokio::test]
async fn restarts_catch_up_and_publish_what_fell_due_while_stopped() {
    let (_dir, data, site) = data_dir();
    let quire = Quire::start(&data, &[]).await;
    quire
        .client
        .create_post(json!({"title": "Before", "body": "one", "status": "published"}))
        .await;
    wait_for_site(&quire.client, &site).await;
    quire.kill();

    // Written while the projection is off: the site must catch up from its manifest.
    let quire = Quire::start(&data, &[("QUIRE_SITE__ENABLED", "false")]).await;
    let seq_before = manifest_seq(&site);
    quire
        .client
        .create_post(json!({"title": "While away", "body": "two", "status": "published"}))
        .await;
    let due = OffsetDateTime::now_utc() + time::Duration::milliseconds(1500);
    quire
        .client
        .create_post(
            json!({"title": "Due while stopped", "body": "three", "status": "scheduled",
            "publish_at": due.format(&Rfc3339).expect("format")}),
        )
        .await;
    quire.kill();
    assert_eq!(manifest_seq(&site), seq_before, "the projection was off");
    assert!(!site.join("posts/while-away").exists());
    // The restart happens after the scheduled time.
    let left = due - OffsetDateTime::now_utc() + time::Duration::milliseconds(200);
    if left.is_positive() {
        tokio::time::sleep(left.unsigned_abs()).await;
    }

    let quire = Quire::start(&data, &[]).await;
    let client = &quire.client;
    eventually("the overdue post to be published", || async {
        get(client, "/posts/due-while-stopped/").await.0 == 200
    })
    .await;
    wait_for_site(client, &site).await;
    for path in ["/posts/before/", "/posts/while-away/"] {
        assert_eq!(get(client, path).await.0, 200, "{path}");
    }
    let home = get(client, "/").await.1;
    assert!(home.contains("While away") && home.contains("Due while stopped") && home.contains("Before"));
}

#[tokio::test]
async fn killed_while_rendering_leaves_no_partial_page() {
    let (_dir, data, site) = data_dir();
    let quire = Quire::start(&data, &[]).await;
    let body = "## Section\n\nSome text with a [link](https://example.org).\n\n".repeat(40);
    for i in 0..120 {
        quire
            .client
            .create_post(json!({"title": format!("Post {i}"), "body": body,
                "tags": [format!("tag{}", i % 7)], "status": "published"}))
            .await;
    }
    wait_for_site(&quire.client, &site).await;
    quire.kill();

    // A new site title makes every page change: each start re-renders the whole site, and is
    // killed at a different moment of it.
    let mut interrupted = 0;
    for round in 0..4u64 {
        let title = format!("Round {round} title");
        let quire = Quire::start(&data, &[("QUIRE_SITE__SETTINGS__TITLE", &title)]).await;
        tokio::time::sleep(Duration::from_millis(round * 40)).await;
        let manifest_before = std::fs::read(site.join(".quire-manifest.json")).expect("manifest");
        quire.kill();
        if std::fs::read(site.join(".quire-manifest.json")).expect("manifest") == manifest_before {
            interrupted += 1;
        }
        assert_pages_complete(&site);
    }
    eprintln!("{interrupted} of 4 kills landed before the render finished");

    let manifest_before = std::fs::read(site.join(".quire-manifest.json")).expect("manifest");
    let quire = Quire::start(&data, &[("QUIRE_SITE__SETTINGS__TITLE", "Final title")]).await;
    eventually("the full render with the final title to finish", || async {
        std::fs::read(site.join(".quire-manifest.json")).is_ok_and(|m| m != manifest_before)
    })
    .await;
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(site.join(".quire-manifest.json")).expect("manifest")).expect("json");
    assert_eq!(manifest["seq"].as_u64(), Some(head(&quire.client).await));
    let files = site_files(&site);
    for (name, text) in files.iter().filter(|(n, _)| n.ends_with(".html") && *n != "404.html") {
        assert!(text.contains("Final title"), "{name} was re-rendered");
    }
    assert_pages_complete(&site);
    assert!(
        leftover_temp_files(&site).is_empty(),
        "temporary files are swept on start"
    );
}

/// Every page on disk is whole: HTML ends with `</html>`, feeds and sitemap are closed, JSON
/// parses. (Temporary files are hidden and not served.)
fn assert_pages_complete(site: &Path) {
    for (name, text) in site_files(site) {
        let text = text.trim_end();
        let whole = if name.ends_with(".html") {
            text.ends_with("</html>")
        } else if name == "feed.xml" {
            text.ends_with("</feed>")
        } else if name == "sitemap.xml" {
            text.ends_with("</urlset>")
        } else if name.ends_with(".json") {
            serde_json::from_str::<serde_json::Value>(text).is_ok()
        } else {
            true
        };
        assert!(whole, "{name} is partial");
    }
}

fn leftover_temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).expect("list") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(".quire-tmp") {
                out.push(path);
            }
        }
    }
    out
}
