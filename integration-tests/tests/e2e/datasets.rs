//! Datasets (issue 17): data put over the API, its page with chart and table, the
//! datasette-style query API, drafts kept off the site, git, and the scheduled fetch from a
//! local upstream.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use quire_integration_tests::git::{git, main_commits, quire, wait_for_git, wait_for_status};
use quire_integration_tests::{BinaryServer, Client, TestClock, TestServer, ADMIN};
use quire_openapi::{AuditReport, DatasetList, DatasetResponse, Problem};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// `day,count`: 1,000 days from 2024-01-01 with a count that goes up and down.
pub(crate) fn daily_counts() -> String {
    let start = time::macros::date!(2024 - 01 - 01);
    let mut csv = String::from("day,count\n");
    for i in 0..1000i64 {
        let day = start + time::Duration::days(i);
        csv.push_str(&format!("{day},{}\n", 100 + (i * 37) % 250));
    }
    csv
}

pub(crate) async fn put_csv(client: &Client, name: &str, csv: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = client
        .request(Method::PUT, &format!("/api/v1/datasets/{name}"))
        .header("content-type", "text/csv")
        .body(csv.to_owned());
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request.send().await.expect("put")
}

pub(crate) async fn patch(client: &Client, name: &str, body: Value, version: u64) -> DatasetResponse {
    let response = client
        .patch_json(
            &format!("/api/v1/datasets/{name}"),
            &body,
            &[("if-match", &format!("\"{version}\""))],
        )
        .await;
    assert_eq!(response.status(), 200, "patch {body}");
    response.json().await.expect("dataset")
}

/// Puts the daily counts as `daily`, published with a line chart.
pub(crate) async fn publish_daily(admin: &Client) -> DatasetResponse {
    let created = put_csv(admin, "daily", &daily_counts(), &[]).await;
    assert_eq!(created.status(), 201);
    let created: DatasetResponse = created.json().await.expect("dataset");
    let chart = json!({"type": "line", "x": "day", "y": "count"});
    let body =
        json!({"title": "Daily count", "description": "Counted *every* day.", "status": "published", "chart": chart});
    patch(admin, "daily", body, created.version).await
}

pub(crate) async fn text(client: &Client, path: &str) -> (u16, String) {
    let response = client.http.get(client.url(path)).send().await.expect("get");
    (response.status().as_u16(), response.text().await.expect("text"))
}

async fn json_of(client: &Client, path: &str) -> Value {
    let (status, body) = text(client, path).await;
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).expect("json")
}

/// The table's body rows of a page, as their cells.
pub(crate) fn table_rows(html: &str) -> Vec<Vec<String>> {
    let body = html
        .split("<tbody>")
        .nth(1)
        .and_then(|b| b.split("</tbody>").next())
        .expect("tbody");
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    cell.split('>')
                        .nth(1)
                        .unwrap_or("")
                        .split('<')
                        .next()
                        .unwrap_or("")
                        .to_owned()
                })
                .collect()
        })
        .collect()
}

pub(crate) fn next_link(html: &str) -> Option<String> {
    let at = html.find(r#"rel="next" href=""#)?;
    let rest = &html[at + r#"rel="next" href=""#.len()..];
    Some(rest[..rest.find('"')?].replace("&amp;", "&"))
}

#[tokio::test]
async fn a_daily_count_csv_becomes_a_page_with_a_chart_and_a_sorted_paged_table() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let set = publish_daily(&admin).await;
    assert_eq!(set.rows, 1000);
    let types: Vec<_> = set
        .columns
        .iter()
        .map(|c| serde_json::to_value(c.column_type).expect("type"))
        .collect();
    assert_eq!(types, [json!("date"), json!("integer")]);

    let (status, page) = text(&admin, "/data/daily/").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<h1>Daily count</h1>") && page.contains("<em>every</em>"),
        "{page}"
    );
    let svg = page.split("<svg").nth(1).expect("an SVG chart");
    assert!(svg.contains(r#"role="img""#) && svg.contains(r#"<title id="chart-title">Daily count</title>"#));
    assert!(
        svg.contains("shown as 334 averaged points"),
        "1,000 rows are downsampled: {svg}"
    );
    assert!(svg.contains(r#"class="x-label""#) && svg.contains(">day</text>") && svg.contains(">count</text>"));
    assert!(svg.contains(">2024-01-01</text>"), "the first x tick is the first day");
    assert!(page.contains(r#"href="/data/daily.csv""#) && page.contains(r#"href="/data/daily.json""#));
    let first = table_rows(&page);
    assert_eq!(first.len(), 50);
    assert_eq!(first[0], ["2024-01-01", "100"]);

    let (_, sorted) = text(&admin, "/data/daily/?_sort_desc=count").await;
    assert!(sorted.contains(r#"aria-sort="descending""#));
    let rows = table_rows(&sorted);
    let counts: Vec<i64> = rows.iter().map(|r| r[1].parse().expect("count")).collect();
    assert_eq!(counts[0], 349, "the largest count first");
    assert!(counts.windows(2).all(|w| w[0] >= w[1]));
    let next = next_link(&sorted).expect("a next page");
    let (status, second) = text(&admin, &next).await;
    assert_eq!(status, 200);
    let more: Vec<i64> = table_rows(&second)
        .iter()
        .map(|r| r[1].parse().expect("count"))
        .collect();
    assert_eq!(more.len(), 50);
    assert!(more[0] <= counts[49], "page 2 continues the order");
    assert!(second.contains(r#"rel="first""#));

    let (_, index) = text(&admin, "/data/").await;
    assert!(index.contains(r#"href="/data/daily/""#) && index.contains("1000 rows"));
    let download = admin.http.get(admin.url("/data/daily.csv")).send().await.expect("csv");
    assert_eq!(download.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(download.headers()["etag"], format!("\"{}\"", set.hash).as_str());
    assert_eq!(download.text().await.expect("csv"), daily_counts());
    let post = admin
        .http
        .post(admin.url("/data/daily.json"))
        .send()
        .await
        .expect("post");
    assert_eq!(post.status(), 405);
    assert_eq!(post.headers()["allow"], "GET, HEAD");
    server.stop().await;
}

#[tokio::test]
async fn the_json_api_filters_sorts_and_pages_like_datasette() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    publish_daily(&admin).await;
    let all = json_of(&admin, "/data/daily.json?_size=max").await;
    assert_eq!(all["columns"], json!(["day", "count"]));
    assert_eq!(all["rows"].as_array().expect("rows").len(), 1000);
    assert_eq!(all["rows"][0], json!({"day": "2024-01-01", "count": 100}));

    let filtered = json_of(
        &admin,
        "/data/daily.json?count__gt=340&day__contains=2024-0&_shape=arrays",
    )
    .await;
    let rows = filtered["rows"].as_array().expect("rows");
    assert!(!rows.is_empty());
    for row in rows {
        assert!(row[1].as_i64().expect("count") > 340 && row[0].as_str().expect("day").contains("2024-0"));
    }
    let exact = json_of(&admin, "/data/daily.json?day=2024-01-02").await;
    assert_eq!(exact["rows"], json!([{"day": "2024-01-02", "count": 137}]));

    // Every row once, in descending order, through `_next`.
    let mut path = "/data/daily.json?_sort_desc=count&_size=300".to_owned();
    let mut seen = Vec::new();
    loop {
        let page = json_of(&admin, &path).await;
        for row in page["rows"].as_array().expect("rows") {
            seen.push((
                row["count"].as_i64().expect("count"),
                row["day"].as_str().expect("day").to_owned(),
            ));
        }
        match page["next_url"].as_str() {
            Some(next) => path = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 1000);
    assert!(seen.windows(2).all(|w| w[0].0 >= w[1].0));
    let mut days: Vec<_> = seen.iter().map(|s| s.1.clone()).collect();
    days.sort();
    days.dedup();
    assert_eq!(days.len(), 1000, "no row twice");

    let (status, body) = text(&admin, "/data/daily.json?nope=1").await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = text(&admin, "/data/daily.json?count__gt=many").await;
    assert_eq!(status, 400);
    server.stop().await;
}

#[tokio::test]
async fn replacing_data_needs_the_current_version_and_bad_data_is_refused() {
    let server = TestServer::start_with(|c| c.datasets.max_rows = 2000).await;
    let admin = server.admin().await;
    let created = put_csv(
        &admin,
        "prices",
        "item,price\napple,1.5\n",
        &[("idempotency-key", "k1")],
    )
    .await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["etag"], "\"1\"");
    assert_eq!(created.headers()["location"], "/api/v1/datasets/prices");
    let replayed = put_csv(
        &admin,
        "prices",
        "item,price\napple,1.5\n",
        &[("idempotency-key", "k1")],
    )
    .await;
    assert_eq!(replayed.status(), 201, "a retry answers as the first time");

    let replaced = put_csv(&admin, "prices", "item,price\napple,1.75\n", &[("if-match", "\"1\"")]).await;
    assert_eq!(replaced.status(), 200);
    assert_eq!(replaced.headers()["etag"], "\"2\"");
    let stale = put_csv(&admin, "prices", "item,price\napple,9\n", &[("if-match", "\"1\"")]).await;
    assert_eq!(stale.status(), 412);
    let problem: Problem = stale.json().await.expect("problem");
    assert!(problem.detail.contains("now at 2"), "{}", problem.detail);
    let now: DatasetResponse = admin
        .get("/api/v1/datasets/prices")
        .await
        .json()
        .await
        .expect("dataset");
    assert_eq!(now.version, 2);
    let stale_patch = admin
        .patch_json(
            "/api/v1/datasets/prices",
            &json!({"title": "x"}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(stale_patch.status(), 412);

    let malformed = put_csv(&admin, "prices", "item,price\napple,1\npear,2,3\n", &[]).await;
    assert_eq!(malformed.status(), 422);
    let problem: Problem = malformed.json().await.expect("problem");
    assert_eq!(problem.problem_type, "urn:quire:problem:malformed-dataset");
    assert!(problem.detail.contains("line 3"), "{}", problem.detail);
    let many: String = std::iter::once("n\n".to_owned())
        .chain((0..2001).map(|i| format!("{i}\n")))
        .collect();
    assert_eq!(put_csv(&admin, "prices", &many, &[]).await.status(), 413);
    let text_plain = admin
        .request(Method::PUT, "/api/v1/datasets/prices")
        .header("content-type", "text/plain")
        .body("a\n1\n")
        .send()
        .await
        .expect("put");
    assert_eq!(text_plain.status(), 415);
    let json_body = admin
        .request(Method::PUT, "/api/v1/datasets/from-json")
        .header("content-type", "application/json")
        .body(r#"[{"when": "2026-01-01T10:00:00Z", "v": 1.5}, {"when": "2026-01-02T10:00:00Z", "v": 2}]"#)
        .send()
        .await
        .expect("put");
    assert_eq!(json_body.status(), 201);
    let set: DatasetResponse = json_body.json().await.expect("dataset");
    let types: Vec<_> = set
        .columns
        .iter()
        .map(|c| serde_json::to_value(c.column_type).expect("type"))
        .collect();
    assert_eq!(types, [json!("datetime"), json!("number")]);
    let history: Value = admin
        .get("/api/v1/datasets/prices/history")
        .await
        .json()
        .await
        .expect("history");
    let kinds: Vec<_> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["type"].clone())
        .collect();
    assert_eq!(
        kinds,
        [json!("DatasetPut"), json!("DatasetPut")],
        "refused writes appended nothing"
    );
    let v1: DatasetResponse = admin
        .get("/api/v1/datasets/prices/versions/1")
        .await
        .json()
        .await
        .expect("v1");
    assert_ne!(v1.hash, now.hash);
    server.stop().await;
}

#[tokio::test]
async fn an_unpublished_dataset_is_not_on_the_site_nor_shown_to_others() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let created = put_csv(&admin, "secret", "a,b\nSECRET-MARK,1\n", &[]).await;
    assert_eq!(created.status(), 201);
    for path in ["/data/secret/", "/data/secret.json", "/data/secret.csv"] {
        let (status, body) = text(&admin, path).await;
        assert_eq!(status, 404, "{path}");
        assert!(!body.contains("SECRET-MARK"));
    }
    let (_, index) = text(&admin, "/data/").await;
    assert!(!index.contains("secret"));
    let body = json!({"username": "carol", "password": "user-password-1", "role": "contributor"});
    assert_eq!(admin.post_json("/api/v1/users", &body, &[]).await.status(), 201);
    let carol = Client::login(&admin.base, "carol", "user-password-1").await;
    assert_eq!(carol.get("/api/v1/datasets/secret").await.status(), 404);
    let list: DatasetList = carol.get("/api/v1/datasets").await.json().await.expect("list");
    assert!(list.items.is_empty());
    // Another user's name is only "taken": a draft answers exactly as a published dataset
    // does, with nothing of it (not its owner, version or data).
    let taken = |answer: reqwest::Response| async move {
        assert_eq!(answer.status(), 409, "another user's dataset");
        assert!(answer.headers().get("etag").is_none());
        answer.text().await.expect("problem")
    };
    let as_draft = taken(put_csv(&carol, "secret", "a\n1\n", &[("if-match", "\"7\"")]).await).await;
    let problem: Problem = serde_json::from_str(&as_draft).expect("problem+json");
    assert_eq!(problem.problem_type, "urn:quire:problem:dataset-name-taken");
    assert!(problem.current.is_none());
    for hidden in ["SECRET-MARK", "admin", "draft", "version"] {
        assert!(!as_draft.contains(hidden), "{hidden} in {as_draft}");
    }

    let published = patch(&admin, "secret", json!({"status": "published"}), 1).await;
    assert_eq!(text(&admin, "/data/secret/").await.0, 200);
    assert_eq!(carol.get("/api/v1/datasets/secret").await.status(), 200);
    let as_published = taken(put_csv(&carol, "secret", "a\n1\n", &[("if-match", "\"7\"")]).await).await;
    assert_eq!(as_published, as_draft, "the same answer for a published dataset");
    patch(&admin, "secret", json!({"status": "draft"}), published.version).await;
    assert_eq!(text(&admin, "/data/secret.json").await.0, 404, "unpublished again");
    server.stop().await;
}

#[tokio::test]
async fn a_dataset_is_committed_to_git_as_hugo_data() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let set = publish_daily(&admin).await;
    wait_for_git(&admin).await;
    let repo = server.dir.path().join("content.git");
    let repo = repo.to_string_lossy();
    let csv = git(None, &["--git-dir", &repo, "show", "main:static/data/daily.csv"]);
    assert_eq!(csv, daily_counts());
    let meta: Value =
        serde_json::from_str(&git(None, &["--git-dir", &repo, "show", "main:data/daily.json"])).expect("json");
    assert_eq!(meta["title"], "Daily count");
    assert_eq!(meta["status"], "published");
    let log = git(None, &["--git-dir", &repo, "log", "-2", "--format=%B%x00"]);
    assert!(log.contains("Event-Type: DatasetUpdated") && log.contains("Event-Type: DatasetPut"));
    assert_eq!(log.matches("Dataset-Id: ").count(), 2);
    hugo_builds_a_clone(&server);
    let deleted = admin
        .request(Method::DELETE, "/api/v1/datasets/daily")
        .header("if-match", format!("\"{}\"", set.version))
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), 200);
    wait_for_git(&admin).await;
    let tree = git(None, &["--git-dir", &repo, "ls-tree", "-r", "--name-only", "main"]);
    assert!(!tree.contains("data/daily"), "both files go: {tree}");
    let report: AuditReport = admin.get("/api/v1/audit").await.json().await.expect("audit");
    assert!(report.ok, "quire verify agrees with git: {report:?}");
    assert_eq!(text(&admin, "/data/daily/").await.0, 404);
    server.stop().await;
}

/// Clones the repository, adds a home template that reads the dataset the documented way, and
/// builds it with stock Hugo.
fn hugo_builds_a_clone(server: &TestServer) {
    let work = tempfile::tempdir().expect("tempdir");
    let site = work.path().join("site");
    let repo = server.dir.path().join("content.git");
    git(
        None,
        &["clone", "--quiet", &repo.to_string_lossy(), &site.to_string_lossy()],
    );
    std::fs::create_dir_all(site.join("layouts")).expect("layouts");
    let template = r#"<h1>{{ site.Data.daily.title }}</h1>{{ range $i, $r := (os.ReadFile "static/data/daily.csv" | transform.Unmarshal) }}{{ if eq $i 1 }}<p>{{ index $r 0 }}={{ index $r 1 }}</p>{{ end }}{{ end }}"#;
    std::fs::write(site.join("layouts/index.html"), template).expect("template");
    let public = work.path().join("public");
    let hugo = std::process::Command::new("hugo")
        .arg("--source")
        .arg(&site)
        .arg("--destination")
        .arg(&public)
        .output()
        .expect("run hugo (scripts/test installs it)");
    assert!(
        hugo.status.success(),
        "hugo failed: {}",
        String::from_utf8_lossy(&hugo.stderr)
    );
    let home = std::fs::read_to_string(public.join("index.html")).expect("home page");
    assert!(home.contains("<h1>Daily count</h1><p>2024-01-01=100</p>"), "{home}");
    let csv = std::fs::read_to_string(public.join("data/daily.csv")).expect("the CSV at /data/daily.csv");
    assert_eq!(csv, daily_counts());
}

/// How the upstream answers.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Serve,
    /// Never answers.
    Hang,
    /// Streams far more than the limit, without a length.
    Huge,
}

/// A data source over HTTP/1.1 on 127.0.0.1 that counts its requests.
#[derive(Clone)]
pub(crate) struct Upstream {
    pub(crate) url: String,
    state: Arc<Mutex<(Mode, String, usize)>>,
}

impl Upstream {
    pub(crate) async fn start(body: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/counts.csv", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new((Mode::Serve, body.to_owned(), 0)));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = stream.read(&mut buf).await;
                    let (mode, body) = {
                        let mut s = state.lock().expect("state");
                        s.2 += 1;
                        (s.0, s.1.clone())
                    };
                    match mode {
                        Mode::Serve => {
                            let head = format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: text/csv\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                                body.len()
                            );
                            let _ = stream.write_all(head.as_bytes()).await;
                            let _ = stream.write_all(body.as_bytes()).await;
                        }
                        Mode::Hang => tokio::time::sleep(Duration::from_secs(30)).await,
                        Mode::Huge => {
                            let _ = stream
                                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/csv\r\nconnection: close\r\n\r\nn\n")
                                .await;
                            let chunk = "1\n".repeat(8192);
                            for _ in 0..200 {
                                if stream.write_all(chunk.as_bytes()).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                });
            }
        });
        Self { url, state }
    }

    fn set(&self, mode: Mode, body: &str) {
        let mut s = self.state.lock().expect("state");
        s.0 = mode;
        s.1 = body.to_owned();
    }

    pub(crate) fn hits(&self) -> usize {
        self.state.lock().expect("state").2
    }
}

pub(crate) async fn puts(admin: &Client, name: &str) -> usize {
    let history: Value = admin
        .get(&format!("/api/v1/datasets/{name}/history"))
        .await
        .json()
        .await
        .expect("history");
    let events = history["events"].as_array().expect("events");
    events.iter().filter(|e| e["type"] == "DatasetPut").count()
}

pub(crate) async fn wait_for_hits(upstream: &Upstream, hits: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while upstream.hits() < hits {
        assert!(Instant::now() < deadline, "the upstream was not fetched {hits} times");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The fetch state of `name` in `/api/v1/status`, once `done` holds.
pub(crate) async fn fetch_state(
    admin: &Client,
    name: &str,
    done: impl Fn(&quire_openapi::DatasetFetchStatus) -> bool,
) -> quire_openapi::DatasetFetchStatus {
    let status = wait_for_status(admin, Duration::from_secs(20), |s| {
        s.dataset_fetches.iter().any(|f| f.name == name && done(f))
    })
    .await;
    status
        .dataset_fetches
        .into_iter()
        .find(|f| f.name == name)
        .expect("state")
}

#[tokio::test]
async fn the_scheduled_fetch_records_only_changes_and_reports_failures() {
    let upstream = Upstream::start("day,count\n2026-01-01,1\n").await;
    let clock = TestClock::new();
    let server = TestServer::start_with(|c| {
        clock.install(c);
        c.webhooks.allow_private_addresses = true;
        c.datasets.fetch_timeout_secs = 1;
        c.datasets.max_bytes = 64 * 1024;
    })
    .await;
    let admin = server.admin().await;
    assert_eq!(put_csv(&admin, "feed", "day,count\n", &[]).await.status(), 201);
    let body = json!({"source_url": upstream.url, "refresh": "1m"});
    patch(&admin, "feed", body, 1).await;
    fetch_state(&admin, "feed", |f| f.changes == 1).await;
    assert_eq!(puts(&admin, "feed").await, 2, "the first fetch brought new data");
    let json = json_of_api(&admin, "feed").await;
    assert_eq!(json.rows, 1);

    // Unchanged upstream: fetched again, no event.
    clock.advance(time::Duration::seconds(61));
    wait_for_hits(&upstream, 2).await;
    fetch_state(&admin, "feed", |f| f.last_success_at == Some(clock.now())).await;
    assert_eq!(puts(&admin, "feed").await, 2, "same bytes, no new event");

    // Changed upstream: exactly one new event.
    upstream.set(Mode::Serve, "day,count\n2026-01-01,1\n2026-01-02,5\n");
    clock.advance(time::Duration::seconds(61));
    fetch_state(&admin, "feed", |f| f.changes == 2).await;
    assert_eq!(puts(&admin, "feed").await, 3);
    assert_eq!(json_of_api(&admin, "feed").await.rows, 2);

    // A slow upstream is cut off by the timeout, a huge one by the size limit.
    upstream.set(Mode::Hang, "");
    clock.advance(time::Duration::seconds(61));
    let slow = fetch_state(&admin, "feed", |f| f.failures == 1).await;
    assert!(
        slow.last_error.as_deref().is_some_and(|e| e.contains("within")),
        "{slow:?}"
    );
    upstream.set(Mode::Huge, "");
    clock.advance(time::Duration::seconds(61));
    let huge = fetch_state(&admin, "feed", |f| f.failures == 2).await;
    assert!(
        huge.last_error.as_deref().is_some_and(|e| e.contains("max_bytes")),
        "{huge:?}"
    );
    assert_eq!(puts(&admin, "feed").await, 3, "failures append nothing");
    let metrics = admin.get("/metrics").await.text().await.expect("metrics");
    assert!(metrics.contains("quire_dataset_fetch_failures_total 2"), "{metrics}");
    server.stop().await;
}

pub(crate) async fn json_of_api(admin: &Client, name: &str) -> DatasetResponse {
    admin
        .get(&format!("/api/v1/datasets/{name}"))
        .await
        .json()
        .await
        .expect("dataset")
}

#[tokio::test]
async fn a_loopback_source_is_refused_unless_private_addresses_are_allowed() {
    let upstream = Upstream::start("a\n1\n").await;
    let server = TestServer::start().await;
    let admin = server.admin().await;
    assert_eq!(put_csv(&admin, "local", "a\n", &[]).await.status(), 201);
    patch(&admin, "local", json!({"source_url": upstream.url, "refresh": "1m"}), 1).await;
    let refused = fetch_state(&admin, "local", |f| f.failures >= 1).await;
    assert!(
        refused.last_error.as_deref().is_some_and(|e| e.contains("loopback")),
        "{refused:?}"
    );
    assert_eq!(upstream.hits(), 0, "nothing was sent to the loopback address");
    assert_eq!(puts(&admin, "local").await, 1);
    server.stop().await;
}

/// The restore drill with the real binary: a dataset comes back from a git mirror alone, with
/// its data, and `quire verify` agrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dataset_comes_back_from_a_git_mirror() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, remote) = (dir.path().join("data"), dir.path().join("mirror.git"));
    git(None, &["init", "--quiet", "--bare", &remote.to_string_lossy()]);
    let server = BinaryServer::start(&data).await;
    let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    publish_daily(&client).await;
    wait_for_git(&client).await;
    drop(server);
    let repo = data.join("content.git");
    let commits = main_commits(&repo);
    git(
        Some(&repo),
        &["push", "--quiet", &remote.to_string_lossy(), "main:main"],
    );
    std::fs::remove_dir_all(&data).expect("wipe the data folder");
    let restored = quire(&data, &["restore", "--from-git", &remote.to_string_lossy()]);
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let verified = quire(&data, &["verify"]);
    assert!(String::from_utf8_lossy(&verified.stdout).starts_with("OK"));
    assert_eq!(main_commits(&data.join("content.git")), commits, "the same commit ids");
    let server = BinaryServer::start(&data).await;
    let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    assert_eq!(text(&client, "/data/daily.csv").await, (200, daily_counts()));
    let (status, page) = text(&client, "/data/daily/").await;
    assert_eq!(status, 200);
    assert!(page.contains("<h1>Daily count</h1>") && page.contains("<svg"));
}

/// `quire backup` carries a dataset's CSV (it lives in the media folder's store, not in the
/// log), and `restore --from-backup` brings the data page back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dataset_comes_back_from_a_backup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, restored, archive) = (
        dir.path().join("data"),
        dir.path().join("restored"),
        dir.path().join("b.tar"),
    );
    let server = BinaryServer::start(&data).await;
    let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    publish_daily(&client).await;
    wait_for_git(&client).await;
    drop(server);
    let out = quire(&data, &["backup", &archive.to_string_lossy()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = quire(&restored, &["restore", "--from-backup", &archive.to_string_lossy()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let server = BinaryServer::start(&restored).await;
    let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    assert_eq!(text(&client, "/data/daily.csv").await, (200, daily_counts()));
}
