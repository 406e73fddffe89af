//! Pages served from memory: the second request for a page is answered from the cache with the
//! same strong `ETag`, a `304` for a client that has it, gzip for one that takes it — and an
//! edit is visible at once, never hidden behind a cached copy.

use std::io::Read as _;

use quire_integration_tests::TestServer;
use serde_json::json;

use crate::site_common::wait_for_site;

async fn fetch(client: &reqwest::Client, url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = client.get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("GET")
}

#[tokio::test]
async fn pages_come_from_memory_with_etags_gzip_and_no_stale_copy() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let site = server.dir.path().join("site");
    let body = "A paragraph with *emphasis*. ".repeat(40);
    let post = admin
        .create_post(json!({"title": "Cached", "body": body, "status": "published"}))
        .await;
    wait_for_site(&admin, &site).await;
    let http = reqwest::Client::new();
    let url = format!("{}/posts/cached/", server.base);

    let first = fetch(&http, &url, &[]).await;
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().expect("ascii").to_owned();
    let plain = first.text().await.expect("body");
    assert!(plain.contains("<em>emphasis</em>"));
    let second = fetch(&http, &url, &[]).await;
    assert_eq!(
        second.headers()["etag"].to_str().expect("ascii"),
        etag,
        "same bytes, same tag"
    );

    let revalidated = fetch(&http, &url, &[("if-none-match", etag.as_str())]).await;
    assert_eq!(revalidated.status(), 304);

    let zipped = fetch(&http, &url, &[("accept-encoding", "gzip, deflate")]).await;
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    assert_eq!(zipped.headers()["vary"], "Accept-Encoding");
    let bytes = zipped.bytes().await.expect("bytes");
    assert!(bytes.len() < plain.len(), "compressed");
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut unzipped)
        .expect("gunzip");
    assert_eq!(unzipped, plain);
    let refused = fetch(&http, &url, &[("accept-encoding", "gzip;q=0")]).await;
    assert!(refused.headers().get("content-encoding").is_none());

    let edit = admin
        .patch_json(
            &format!("/api/v1/posts/{}", post.id),
            &json!({"body": "Changed."}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(edit.status(), 200);
    wait_for_site(&admin, &site).await;
    let after = fetch(&http, &url, &[("if-none-match", etag.as_str())]).await;
    assert_eq!(after.status(), 200, "the old tag no longer matches");
    assert_ne!(after.headers()["etag"].to_str().expect("ascii"), etag);
    assert!(
        after.text().await.expect("body").contains("Changed."),
        "the edit is served at once"
    );
    server.stop().await;
}
