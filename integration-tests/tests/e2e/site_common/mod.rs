//! Helpers shared by the site tests: waiting for the projection, reading the site folder,
//! and plain GETs.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use quire_integration_tests::Client;
use quire_openapi::EventList;

/// The seq of the newest event.
pub async fn head(client: &Client) -> u64 {
    let list: EventList = client.get("/api/v1/events?limit=1").await.json().await.expect("events");
    list.head
}

/// The `seq` in the site's manifest (0 when there is none yet).
pub fn manifest_seq(site: &Path) -> u64 {
    std::fs::read(site.join(".quire-manifest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|m| m["seq"].as_u64())
        .unwrap_or(0)
}

/// Waits until the site in `site` reflects the log's head.
pub async fn wait_for_site(client: &Client, site: &Path) {
    let head = head(client).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while manifest_seq(site) < head {
        assert!(Instant::now() < deadline, "the site did not reach seq {head}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls `check` until it holds (20 s at most).
pub async fn eventually<F, Fut>(what: &str, mut check: F)
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

/// Every visible file of the site folder with its bytes (dot files left out).
pub fn site_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
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
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    out
}

/// Every visible file of the site folder with its text.
pub fn site_files(dir: &Path) -> BTreeMap<String, String> {
    site_bytes(dir)
        .into_iter()
        .map(|(rel, bytes)| (rel, String::from_utf8_lossy(&bytes).into_owned()))
        .collect()
}

pub async fn get(client: &Client, path: &str) -> (u16, String) {
    let response = client.http.get(client.url(path)).send().await.expect("GET");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}
