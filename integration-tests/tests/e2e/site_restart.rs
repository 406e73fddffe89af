//! The site with the real binary: restarts catch up from the manifest and publish what fell
//! due while Quire was stopped, and a SIGKILL in the middle of a full render leaves no partial
//! page.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::site_common::{eventually, get, head, manifest_seq, site_files, wait_for_site};
use quire_integration_tests::{BinaryServer, Client, ADMIN};
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The real binary with extra environment, logged in; killed (SIGKILL) when dropped.
struct Quire {
    server: BinaryServer,
    client: Client,
}

impl Quire {
    async fn start(data: &Path, env: &[(&str, &str)]) -> Quire {
        let server = BinaryServer::start_with_env(data, env).await;
        let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
        Quire { server, client }
    }

    fn kill(self) {
        let status = self.server.signal(libc::SIGKILL);
        assert!(!status.success(), "SIGKILL ends quire");
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
