//! The embedded web editor at `/editor/`: media types, caching headers, revalidation and the
//! service worker that names every file of the app shell. (The editor itself is tested in a
//! real browser by `scripts/test-browser`.)

use quire_integration_tests::TestServer;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION};
use reqwest::StatusCode;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

#[tokio::test]
async fn editor_files_have_types_validators_and_no_cache() {
    let server = TestServer::start().await;
    let http = client();
    let moved = http.get(format!("{}/editor", server.base)).send().await.expect("send");
    assert_eq!(moved.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(moved.headers()[LOCATION], "/editor/");

    for (path, mime) in [
        ("/editor/", "text/html; charset=utf-8"),
        ("/editor/js/app.js", "text/javascript; charset=utf-8"),
        ("/editor/css/app.css", "text/css; charset=utf-8"),
        ("/editor/manifest.webmanifest", "application/manifest+json"),
        ("/editor/icons/icon-192.png", "image/png"),
        ("/editor/sw.js", "text/javascript; charset=utf-8"),
    ] {
        let response = http.get(format!("{}{path}", server.base)).send().await.expect("send");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()[CONTENT_TYPE], mime, "{path}");
        assert_eq!(response.headers()[CACHE_CONTROL], "no-cache", "{path}");
        let etag = response.headers()[ETAG].clone();
        let again = http
            .get(format!("{}{path}", server.base))
            .header(IF_NONE_MATCH, etag.clone())
            .send()
            .await
            .expect("send");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.headers()[ETAG], etag, "{path}");
    }

    let index = http.get(format!("{}/editor/", server.base)).send().await.expect("send");
    let csp = index.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");

    let missing = http
        .get(format!("{}/editor/nope.js", server.base))
        .send()
        .await
        .expect("send");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.headers()[CONTENT_TYPE], "application/problem+json");
    server.stop().await;
}

#[tokio::test]
async fn the_service_worker_caches_every_other_file_under_a_versioned_name() {
    let server = TestServer::start().await;
    let sw = client()
        .get(format!("{}/editor/sw.js", server.base))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(!sw.contains("__QUIRE_ASSETS"), "placeholders are filled in");
    assert!(sw.contains(quire_web_client::version()));
    for path in quire_web_client::paths() {
        if path == "sw.js" {
            continue;
        }
        let listed = if path == "index.html" {
            "\"./\"".to_owned()
        } else {
            format!("\"./{path}\"")
        };
        assert!(sw.contains(&listed), "{path} is in the app shell");
    }
    server.stop().await;
}
