//! Data pages as static files (issue 17): a published dataset is written into the site folder
//! (`data/<name>/index.html`, `data/<name>/page/<n>/index.html`, `data/<name>.csv`,
//! `data/index.html`) with the same bytes Quire answers at those URLs; a draft never is, and
//! unpublishing or deleting removes the files; `quire rebuild site` writes them too.

use std::path::Path;

use quire_integration_tests::git::quire;
use quire_integration_tests::{BinaryServer, Client, TestServer, ADMIN};
use quire_openapi::DatasetResponse;
use reqwest::Method;
use serde_json::json;

use crate::datasets::{daily_counts, next_link, patch, publish_daily, put_csv, table_rows, text};
use crate::site_common::{site_files, wait_for_site};

/// The files under `site/data/`, relative to `site/`.
fn data_files(site: &Path) -> Vec<String> {
    site_files(site)
        .into_keys()
        .filter(|k| k.starts_with("data/"))
        .collect()
}

fn read(site: &Path, rel: &str) -> String {
    std::fs::read_to_string(site.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The first `rows` of the daily counts.
fn first_days(rows: usize) -> String {
    daily_counts()
        .lines()
        .take(rows + 1)
        .map(|l| format!("{l}\n"))
        .collect()
}

#[tokio::test]
async fn a_published_dataset_is_static_files_with_the_bytes_quire_serves() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let site = server.dir.path().join("site");
    let set = publish_daily(&admin).await;
    wait_for_site(&admin, &site).await;

    let first = read(&site, "data/daily/index.html");
    assert!(
        first.contains("<h1>Daily count</h1>") && first.contains("<svg"),
        "{first}"
    );
    let rows = table_rows(&first);
    assert_eq!(rows.len(), 50);
    assert_eq!(rows[0], ["2024-01-01", "100"]);
    assert_eq!(next_link(&first).as_deref(), Some("/data/daily/page/2/"));
    let second = read(&site, "data/daily/page/2/index.html");
    assert_eq!(table_rows(&second)[0], ["2024-02-20", "200"], "row 51");
    assert!(!second.contains("<svg"), "the chart is on the first page only");
    let last = read(&site, "data/daily/page/20/index.html");
    assert_eq!(table_rows(&last).len(), 50);
    assert_eq!(next_link(&last), None, "1,000 rows are 20 pages");
    assert!(!site.join("data/daily/page/21").exists());
    assert_eq!(read(&site, "data/daily.csv"), daily_counts());
    assert!(read(&site, "data/index.html").contains(r#"href="/data/daily/""#));
    for (url, file) in [
        ("/data/", "data/index.html"),
        ("/data/daily/", "data/daily/index.html"),
        ("/data/daily/page/2/", "data/daily/page/2/index.html"),
        ("/data/daily/page/20/", "data/daily/page/20/index.html"),
        ("/data/daily.csv", "data/daily.csv"),
    ] {
        assert_eq!(
            text(&admin, url).await,
            (200, read(&site, file)),
            "Quire serves {url} as the file"
        );
    }
    assert_eq!(text(&admin, "/data/daily/page/21/").await.0, 404);
    assert_eq!(
        text(&admin, "/data/daily/page/1/").await.0,
        404,
        "page 1 is /data/daily/"
    );

    // Fewer rows: the pages past the new last one go.
    let replaced = put_csv(
        &admin,
        "daily",
        &first_days(120),
        &[("if-match", &format!("\"{}\"", set.version))],
    )
    .await;
    assert_eq!(replaced.status(), 200);
    let replaced: DatasetResponse = replaced.json().await.expect("dataset");
    wait_for_site(&admin, &site).await;
    let pages: Vec<String> = data_files(&site).into_iter().filter(|f| f.contains("/page/")).collect();
    assert_eq!(pages, ["data/daily/page/2/index.html", "data/daily/page/3/index.html"]);
    assert_eq!(read(&site, "data/daily.csv"), first_days(120));
    assert_eq!(table_rows(&read(&site, "data/daily/page/3/index.html")).len(), 20);

    // Unpublished: every file of the dataset and the emptied list go.
    let draft = patch(&admin, "daily", json!({"status": "draft"}), replaced.version).await;
    wait_for_site(&admin, &site).await;
    assert_eq!(data_files(&site), Vec::<String>::new());
    assert!(!site.join("data/daily").exists());

    // Published again, then deleted.
    let published = patch(&admin, "daily", json!({"status": "published"}), draft.version).await;
    wait_for_site(&admin, &site).await;
    assert!(site.join("data/daily/page/3/index.html").is_file());
    let deleted = admin
        .request(Method::DELETE, "/api/v1/datasets/daily")
        .header("if-match", format!("\"{}\"", published.version))
        .send()
        .await
        .expect("delete");
    assert!(deleted.status().is_success(), "{}", deleted.status());
    wait_for_site(&admin, &site).await;
    assert_eq!(data_files(&site), Vec::<String>::new());
    server.stop().await;
}

#[tokio::test]
async fn a_draft_dataset_never_has_files_on_the_site() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let site = server.dir.path().join("site");
    let created = put_csv(&admin, "secret", "a,b\nSECRET-MARK,1\n", &[]).await;
    assert_eq!(created.status(), 201);
    let meta = json!({"title": "Secret", "chart": {"type": "bar", "x": "a", "y": "b"}});
    patch(&admin, "secret", meta, 1).await;
    admin
        .create_post(json!({"title": "Public", "status": "published"}))
        .await;
    wait_for_site(&admin, &site).await;
    assert!(site.join("posts").is_dir(), "the site was written");
    assert_eq!(data_files(&site), Vec::<String>::new());
    for (rel, body) in site_files(&site) {
        assert!(!body.contains("SECRET-MARK") && !body.contains("/data/secret"), "{rel}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quire_rebuild_site_writes_the_data_pages() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = BinaryServer::start(data.path()).await;
    let admin = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    publish_daily(&admin).await;
    let site = data.path().join("site");
    wait_for_site(&admin, &site).await;
    let before = site_files(&site);
    let status = tokio::task::spawn_blocking(move || server.signal(libc::SIGTERM))
        .await
        .expect("join");
    assert!(status.success(), "graceful stop: {status:?}");

    std::fs::remove_dir_all(site.join("data")).expect("remove the data pages");
    std::fs::write(site.join("data.stale"), "not a page").expect("unrelated file");
    let rebuilt = quire(data.path(), &["rebuild", "site"]);
    assert!(rebuilt.status.success(), "{rebuilt:?}");
    let mut after = site_files(&site);
    assert_eq!(after.remove("data.stale").as_deref(), Some("not a page"));
    assert_eq!(after, before, "the rebuild writes the same files");
    assert!(after.contains_key("data/daily/page/20/index.html"));
}

#[tokio::test]
async fn a_post_shows_a_dataset_chart_with_a_plain_markdown_image() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let site = server.dir.path().join("site");
    let set = publish_daily(&admin).await;
    let body = "The counts so far:\n\n![Daily count](/data/daily/chart.svg)\n";
    let post = admin
        .create_post(json!({"title": "Counting", "body": body, "status": "published"}))
        .await;
    wait_for_site(&admin, &site).await;

    let svg = read(&site, "data/daily/chart.svg");
    assert!(svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg""#), "{svg}");
    assert!(svg.contains(r#"<title id="chart-title">Daily count</title>"#));
    let served = admin
        .http
        .get(admin.url("/data/daily/chart.svg"))
        .send()
        .await
        .expect("svg");
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/svg+xml");
    assert_eq!(served.text().await.expect("svg"), svg, "Quire serves the file's bytes");
    let page = read(&site, &format!("posts/{}/index.html", post.slug));
    assert!(
        page.contains(r#"src="/data/daily/chart.svg""#) && page.contains(r#"alt="Daily count""#),
        "{page}"
    );

    // No chart settings: no chart file (and Quire has none to serve).
    patch(&admin, "daily", json!({"chart": null}), set.version).await;
    wait_for_site(&admin, &site).await;
    assert!(!site.join("data/daily/chart.svg").exists());
    assert!(site.join("data/daily/index.html").exists());
    assert_eq!(text(&admin, "/data/daily/chart.svg").await.0, 404);
    assert_eq!(text(&admin, "/data/nothing/chart.svg").await.0, 404);
    server.stop().await;
}
