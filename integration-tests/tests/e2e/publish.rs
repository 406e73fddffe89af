//! Publishing the site to S3 (`[site.publish]`) with the real binary against a local S3
//! emulator, moto in server mode (installed into `.venv-s3` by `scripts/test`; the tests fail,
//! not skip, without it). moto's request recorder counts the PUTs and DELETEs Quire sends.
//!
//! - 200 posts are published; the bucket then equals `site/` byte for byte, with the right
//!   `Content-Type` and `Cache-Control`;
//! - an edit uploads exactly the files whose bytes changed (its page, the home page and feeds…),
//!   no other post's page; a delete removes the post's page from the bucket;
//! - a SIGKILL in the middle of a publish: the next start completes it without uploading again
//!   what the journal recorded, and `quire publish --full` removes stray objects.

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::TryStreamExt as _;
use object_store::aws::AmazonS3Builder;
use object_store::{Attribute, ObjectStore, ObjectStoreExt as _};
use quire_integration_tests::{quire_bin, BinaryServer, Client, ADMIN};
use quire_openapi::StatusResponse;
use serde_json::json;

use crate::site_common::wait_for_site;

const BUCKET: &str = "quire-site";
const POSTS: usize = 200;

/// Puts `counts` (120 rows: three table pages) and publishes it with a bar chart.
async fn publish_dataset(client: &Client) -> quire_openapi::DatasetResponse {
    let csv: String = std::iter::once("n,count\n".to_owned())
        .chain((1..=120).map(|n| format!("{n},{}\n", n % 7)))
        .collect();
    let created = client
        .request(reqwest::Method::PUT, "/api/v1/datasets/counts")
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("PUT dataset");
    assert_eq!(created.status(), 201);
    let created: quire_openapi::DatasetResponse = created.json().await.expect("dataset");
    let meta = json!({"title": "Counts", "status": "published", "chart": {"type": "bar", "x": "n", "y": "count"}});
    let published = client
        .patch_json(
            "/api/v1/datasets/counts",
            &meta,
            &[("If-Match", &format!("\"{}\"", created.version))],
        )
        .await;
    assert_eq!(published.status(), 200, "publish the dataset");
    published.json().await.expect("dataset")
}

/// moto's S3 on a free port, with request recording on; killed when dropped.
struct Moto {
    child: Child,
    endpoint: String,
    /// Holds the recording (moto writes it to a file, by default in its working folder).
    _dir: tempfile::TempDir,
}

fn moto_server() -> PathBuf {
    let bin = std::env::var_os("QUIRE_TEST_MOTO_SERVER").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv-s3/bin/moto_server"),
        PathBuf::from,
    );
    assert!(
        bin.is_file(),
        "{} not found: scripts/test installs moto[server] into .venv-s3 \
         (python3 -m venv .venv-s3 && .venv-s3/bin/pip install -r integration-tests/requirements-s3.txt)",
        bin.display()
    );
    bin
}

impl Moto {
    async fn start() -> Moto {
        quire_api::tls::install_default_provider();
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let dir = tempfile::tempdir().expect("tempdir");
        let child = Command::new(moto_server())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_ENABLE_RECORDING", "True")
            .env("MOTO_RECORDER_FILEPATH", dir.path().join("recording.jsonl"))
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn moto_server");
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let created = http.put(format!("{}/{BUCKET}", moto.endpoint)).send().await;
            if created.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            assert!(Instant::now() < deadline, "moto did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        moto.recorder("start-recording").await;
        moto
    }

    async fn recorder(&self, action: &str) {
        let url = format!("{}/moto-api/recorder/{action}", self.endpoint);
        let response = reqwest::Client::new().post(url).send().await.expect("moto recorder");
        assert!(response.status().is_success(), "moto recorder {action}");
    }

    /// (method, object key) of every PUT and DELETE to the bucket since the last reset.
    async fn writes(&self) -> Vec<(String, String)> {
        let url = format!("{}/moto-api/recorder/download-recording", self.endpoint);
        let text = reqwest::get(url).await.expect("recording").text().await.expect("text");
        let prefix = format!("{}/{BUCKET}/", self.endpoint);
        // One JSON object per request (moto does not always end them with a newline).
        serde_json::Deserializer::from_str(&text)
            .into_iter::<serde_json::Value>()
            .filter_map(|request| {
                let request = request.expect("recorded request");
                let method = request["method"].as_str()?.to_owned();
                let url = request["url"].as_str()?;
                if method == "POST" && url.ends_with("?delete") {
                    // A bulk delete (DeleteObjects): its keys are in the XML body.
                    return Some(deleted_keys(&request));
                }
                let key = url
                    .strip_prefix(&prefix)?
                    .split('?')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                matches!(method.as_str(), "PUT" | "DELETE").then(|| vec![(method, key)])
            })
            .flatten()
            .collect()
    }

    fn store(&self) -> Arc<dyn ObjectStore> {
        let store = AmazonS3Builder::new()
            .with_endpoint(&self.endpoint)
            .with_bucket_name(BUCKET)
            .with_region("us-east-1")
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .with_allow_http(true)
            .build()
            .expect("S3 client");
        Arc::new(store)
    }

    fn env(&self, concurrency: &str) -> Vec<(&'static str, String)> {
        vec![
            ("QUIRE_SITE__PUBLISH__BUCKET", BUCKET.into()),
            ("QUIRE_SITE__PUBLISH__ENDPOINT", self.endpoint.clone()),
            ("QUIRE_SITE__PUBLISH__ALLOW_HTTP", "true".into()),
            ("QUIRE_SITE__PUBLISH__CONCURRENCY", concurrency.into()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ]
    }
}

/// The keys of a recorded DeleteObjects request, as ("DELETE", key) pairs.
fn deleted_keys(request: &serde_json::Value) -> Vec<(String, String)> {
    use base64::Engine as _;
    let body = request["body"].as_str().unwrap_or_default();
    let body = if request["body_encoded"].as_bool() == Some(true) {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body)
            .expect("base64 body");
        String::from_utf8(bytes).expect("XML body")
    } else {
        body.to_owned()
    };
    body.split("<Key>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</Key>"))
        .map(|(key, _)| ("DELETE".to_owned(), key.to_owned()))
        .collect()
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(data: &Path, env: &[(&'static str, String)]) -> (BinaryServer, Client) {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = BinaryServer::start_with_env(data, &env).await;
    let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    (server, client)
}

async fn status(client: &Client) -> StatusResponse {
    client.get("/api/v1/status").await.json().await.expect("status")
}

/// Waits until the publisher has published the site at the log's head.
async fn wait_for_publish(client: &Client) -> StatusResponse {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let status = status(client).await;
        if status.publish.position == Some(status.head) && status.site.position == Some(status.head) {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the site was not published: {:?}",
            status.publish
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn create_posts(client: &Client, n: usize) -> Vec<quire_openapi::PostResponse> {
    let mut posts = Vec::new();
    for i in 0..n {
        let post = client
            .create_post(
                json!({"title": format!("Post number {i}"), "body": format!("Body of post {i}."),
                "tags": [format!("tag{}", i % 7)], "status": "published"}),
            )
            .await;
        posts.push(post);
    }
    posts
}

/// Every visible file of the site folder with its bytes, and the uploaded images of the media
/// store beside it at `media/<file>` (where the pages show them).
fn site_bytes(site: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = crate::site_common::site_bytes(site);
    let media = site.parent().expect("data folder").join("media");
    for fan in std::fs::read_dir(&media).into_iter().flatten() {
        let fan = fan.expect("entry").path();
        if fan.file_name().is_some_and(|n| n == "tmp") || !fan.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&fan).expect("list") {
            let path = file.expect("entry").path();
            let name = path.file_name().expect("name").to_string_lossy().into_owned();
            if name.ends_with(".jpg") || name.ends_with(".png") {
                out.insert(format!("media/{name}"), std::fs::read(&path).expect("read"));
            }
        }
    }
    out
}

/// Every object of the bucket with its bytes.
async fn bucket_bytes(store: &dyn ObjectStore) -> BTreeMap<String, Vec<u8>> {
    let listed: Vec<_> = store.list(None).try_collect().await.expect("list the bucket");
    let mut out = BTreeMap::new();
    for meta in listed {
        let bytes = store
            .get(&meta.location)
            .await
            .expect("get")
            .bytes()
            .await
            .expect("bytes");
        out.insert(meta.location.to_string(), bytes.to_vec());
    }
    out
}

async fn assert_bucket_equals_site(store: &dyn ObjectStore, site: &Path) {
    let (bucket, local) = (bucket_bytes(store).await, site_bytes(site));
    let keys = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(keys(&bucket), keys(&local), "the bucket holds the site's files");
    for (key, bytes) in &local {
        assert!(bucket[key] == *bytes, "{key} differs between the bucket and the site");
    }
}

fn keys(writes: &[(String, String)], method: &str) -> BTreeSet<String> {
    writes
        .iter()
        .filter(|(m, _)| m == method)
        .map(|(_, k)| k.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_uploads_only_what_changed_and_the_bucket_equals_the_site() {
    let moto = Moto::start().await;
    let (store, dir) = (moto.store(), tempfile::tempdir().expect("tempdir"));
    let (data, site) = (dir.path().join("data"), dir.path().join("data/site"));
    let (_server, client) = start(&data, &moto.env("4")).await;
    // A photo in a post: the original (served from the media store) and the site's smaller
    // copies go to the bucket too.
    let jpeg = {
        let mut out = std::io::Cursor::new(Vec::new());
        image::RgbImage::from_fn(1000, 600, |x, y| image::Rgb([(x / 4) as u8, (y / 3) as u8, 60]))
            .write_to(&mut out, image::ImageFormat::Jpeg)
            .expect("jpeg");
        out.into_inner()
    };
    let photo: quire_openapi::MediaResponse = client
        .request(reqwest::Method::POST, "/api/v1/media?alt=x")
        .header("content-type", "image/jpeg")
        .body(jpeg)
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("media");
    client
        .create_post(json!({"title": "With a photo", "body": format!("![x]({})", photo.url), "status": "published"}))
        .await;
    let posts = create_posts(&client, POSTS).await;
    let dataset = publish_dataset(&client).await;
    wait_for_site(&client, &site).await;
    wait_for_publish(&client).await;
    assert_bucket_equals_site(store.as_ref(), &site).await;
    // A published dataset's pages and CSV are site files like any other.
    for (key, kind) in [
        ("data/index.html", "text/html; charset=utf-8"),
        ("data/counts/index.html", "text/html; charset=utf-8"),
        ("data/counts/page/2/index.html", "text/html; charset=utf-8"),
        ("data/counts.csv", "text/csv; charset=utf-8"),
    ] {
        let object = store.get(&key.into()).await.unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(
            object.attributes.get(&Attribute::ContentType).map(|v| v.as_ref()),
            Some(kind),
            "{key}"
        );
    }
    let page = store.get(&"data/counts/index.html".into()).await.expect("page");
    let page = String::from_utf8(page.bytes().await.expect("bytes").to_vec()).expect("utf-8");
    assert!(page.contains("<svg") && page.contains("<td class=\"num\">"), "{page}");
    let original = format!("media/{}.jpg", photo.hash);
    let stored = store
        .get(&original.as_str().into())
        .await
        .expect("the original in the bucket");
    assert_eq!(
        stored.attributes.get(&Attribute::CacheControl).map(|v| v.as_ref()),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(stored.bytes().await.expect("bytes").len() as u64, photo.bytes);
    store
        .head(&format!("media/w480/{}.jpg", photo.hash).as_str().into())
        .await
        .expect("the site's copy in the bucket");
    let first = keys(&moto.writes().await, "PUT");
    assert!(first.len() > POSTS, "every page was uploaded: {}", first.len());

    let page = format!("posts/{}/index.html", posts[7].slug);
    let home = store.get(&"index.html".into()).await.expect("home page");
    assert_eq!(
        home.attributes.get(&Attribute::ContentType).map(|v| v.as_ref()),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        home.attributes.get(&Attribute::CacheControl).map(|v| v.as_ref()),
        Some("public, max-age=300")
    );
    let feed = store.get(&"feed.xml".into()).await.expect("feed");
    assert_eq!(
        feed.attributes.get(&Attribute::ContentType).map(|v| v.as_ref()),
        Some("application/atom+xml; charset=utf-8")
    );

    // An edit: exactly the files whose bytes changed are uploaded again.
    moto.recorder("reset-recording").await;
    moto.recorder("start-recording").await;
    let before = site_bytes(&site);
    let edited = client
        .patch_json(
            &format!("/api/v1/posts/{}", posts[POSTS - 1].id),
            &json!({"title": "Post number 199, edited", "body": "A new body."}),
            &[("If-Match", "*")],
        )
        .await;
    assert!(edited.status().is_success(), "edit: {}", edited.status());
    wait_for_site(&client, &site).await;
    wait_for_publish(&client).await;
    let after = site_bytes(&site);
    let changed: BTreeSet<String> = after
        .iter()
        .filter(|(key, bytes)| before.get(*key) != Some(*bytes))
        .map(|(key, _)| key.clone())
        .collect();
    let writes = moto.writes().await;
    let put = keys(&writes, "PUT");
    assert_eq!(put, changed, "only the changed files are uploaded again");
    assert_eq!(writes.len(), changed.len(), "each once, nothing deleted");
    let edited_page = format!("posts/{}/index.html", posts[POSTS - 1].slug);
    for expected in [edited_page.as_str(), "index.html", "feed.xml", "feed.json"] {
        assert!(put.contains(expected), "{expected} was uploaded again: {put:?}");
    }
    assert!(!put.contains(&page), "another post's page is not uploaded again");
    assert!(put.len() < 20, "a handful of files, not the site: {put:?}");
    assert_bucket_equals_site(store.as_ref(), &site).await;

    // A delete: the post's page leaves the bucket.
    moto.recorder("reset-recording").await;
    moto.recorder("start-recording").await;
    let deleted = client
        .request(reqwest::Method::DELETE, &format!("/api/v1/posts/{}", posts[7].id))
        .header("If-Match", "*")
        .send()
        .await
        .expect("DELETE");
    assert!(deleted.status().is_success());
    wait_for_site(&client, &site).await;
    wait_for_publish(&client).await;
    let unpublished = client
        .patch_json(
            "/api/v1/datasets/counts",
            &json!({"status": "draft"}),
            &[("If-Match", &format!("\"{}\"", dataset.version))],
        )
        .await;
    assert_eq!(unpublished.status(), 200, "unpublish the dataset");
    wait_for_site(&client, &site).await;
    wait_for_publish(&client).await;
    let deletes = keys(&moto.writes().await, "DELETE");
    assert!(deletes.contains(&page), "its page is deleted");
    for key in [
        "data/index.html",
        "data/counts/index.html",
        "data/counts/page/2/index.html",
        "data/counts.csv",
    ] {
        assert!(
            deletes.contains(key),
            "an unpublished dataset's {key} is deleted: {deletes:?}"
        );
    }
    let gone = store.get(&page.as_str().into()).await;
    assert!(
        matches!(gone, Err(object_store::Error::NotFound { .. })),
        "{page} is gone"
    );
    assert_bucket_equals_site(store.as_ref(), &site).await;

    let metrics = client.get("/metrics").await.text().await.expect("metrics");
    assert!(
        metrics.contains("quire_projection_lag_events{projection=\"publish\"} 0"),
        "{metrics}"
    );
    assert!(metrics.contains("quire_publish_failures_total 0"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_killed_midway_is_completed_on_the_next_start() {
    let moto = Moto::start().await;
    let (store, dir) = (moto.store(), tempfile::tempdir().expect("tempdir"));
    let (data, site) = (dir.path().join("data"), dir.path().join("data/site"));
    let journal = data.join("publish/journal.jsonl");
    {
        let (server, client) = start(&data, &[]).await;
        create_posts(&client, POSTS).await;
        wait_for_site(&client, &site).await;
        assert!(status(&client).await.publish.position.is_none(), "publishing is off");
        server.signal(libc::SIGTERM);
    }
    let total = site_bytes(&site).len();

    // With publishing on and one request at a time: killed once some uploads are recorded.
    let (server, _client) = start(&data, &moto.env("1")).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let recorded = loop {
        let lines = std::fs::read_to_string(&journal).map_or(0, |t| t.lines().count());
        if lines >= 10 {
            break lines;
        }
        assert!(Instant::now() < deadline, "the publish did not start");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    server.signal(libc::SIGKILL);
    let before_kill = keys(&moto.writes().await, "PUT");
    assert!(
        before_kill.len() < total,
        "killed in the middle: {} of {total}",
        before_kill.len()
    );
    assert!(bucket_bytes(store.as_ref()).await.len() < total);

    moto.recorder("reset-recording").await;
    moto.recorder("start-recording").await;
    let (server, client) = start(&data, &moto.env("4")).await;
    wait_for_publish(&client).await;
    assert_bucket_equals_site(store.as_ref(), &site).await;
    let after_restart = keys(&moto.writes().await, "PUT");
    assert!(
        after_restart.len() <= total - recorded,
        "what the journal recorded ({recorded}) is not uploaded again: {} of {total} after the restart",
        after_restart.len()
    );
    assert!(after_restart.len() + before_kill.len() >= total);
    server.signal(libc::SIGTERM);

    // `quire publish --full` (server stopped): a stray object goes, everything is uploaded.
    store
        .put(&"stray.html".into(), "stray".into())
        .await
        .expect("put a stray");
    moto.recorder("reset-recording").await;
    moto.recorder("start-recording").await;
    let output = Command::new(quire_bin())
        .args(["publish", "--full", "--data-dir"])
        .arg(&data)
        .envs(moto.env("4"))
        .env_remove("QUIRE_BIN")
        .env("QUIRE_LOG", "warn")
        .output()
        .expect("quire publish --full");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(&format!("{total} uploaded, 1 deleted")),
        "the summary counts the files: {stdout}"
    );
    assert_eq!(keys(&moto.writes().await, "PUT").len(), total);
    assert_bucket_equals_site(store.as_ref(), &site).await;
}
