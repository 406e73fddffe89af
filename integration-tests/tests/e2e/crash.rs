//! Acknowledged means durable: the real `quire` binary is killed with SIGKILL (or stopped with
//! SIGTERM) while 32 clients write; after a restart every write that got a 2xx is there with
//! its content, and `seq` has no gaps.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use quire_integration_tests::{BinaryServer, Client, ADMIN};
use quire_openapi::{EventList, PostResponse};
use serde_json::json;

const WRITERS: usize = 32;

/// What the writers were told was stored: post id → (title, body).
type Acked = Arc<Mutex<HashMap<String, (String, String)>>>;

/// Starts `WRITERS` clients creating posts until their requests fail.
fn spawn_writers(client: &Client, round: usize, acked: &Acked) -> Vec<tokio::task::JoinHandle<()>> {
    (0..WRITERS)
        .map(|w| {
            let (client, acked) = (client.clone(), acked.clone());
            tokio::spawn(async move {
                for i in 0.. {
                    let (title, body) = (
                        format!("r{round} w{w} n{i}"),
                        format!("body of round {round}, writer {w}, #{i}"),
                    );
                    let request = client
                        .request(reqwest::Method::POST, "/api/v1/posts")
                        .json(&json!({"title": title, "body": body}));
                    let Ok(response) = request.send().await else {
                        return;
                    };
                    if response.status() != 201 {
                        return;
                    }
                    let Ok(post) = response.json::<PostResponse>().await else {
                        return;
                    };
                    acked.lock().expect("lock").insert(post.id, (title, body));
                }
            })
        })
        .collect()
}

/// Every acknowledged post is present with its content, and seq runs 1..=head without gaps.
async fn check(client: &Client, acked: &Acked) -> u64 {
    let acked = acked.lock().expect("lock").clone();
    for (id, (title, body)) in &acked {
        let response = client.get(&format!("/api/v1/posts/{id}")).await;
        assert_eq!(response.status(), 200, "acknowledged post {id} lost");
        let post: PostResponse = response.json().await.expect("json");
        assert_eq!(
            (&post.title, &post.body),
            (title, body),
            "post {id} has the wrong content"
        );
    }
    let mut after = 0;
    let head = loop {
        let page: EventList = client
            .get(&format!("/api/v1/events?after={after}&limit=1000"))
            .await
            .json()
            .await
            .expect("events");
        for (i, event) in page.events.iter().enumerate() {
            assert_eq!(event.seq, after + 1 + i as u64, "seq has a gap");
        }
        if page.events.is_empty() {
            break page.head;
        }
        after = page.next_after;
    };
    assert_eq!(after, head, "the log reads up to its head");
    assert!(head >= acked.len() as u64);
    head
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_concurrent_writes_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let acked: Acked = Arc::default();
    let mut last_head = 0;
    for round in 0..4 {
        let server = BinaryServer::start(dir.path()).await;
        let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
        last_head = check(&client, &acked).await.max(last_head);
        let writers = spawn_writers(&client, round, &acked);
        let before = acked.lock().expect("lock").len();
        tokio::time::sleep(Duration::from_millis(rand::random_range(300..1500))).await;
        let status = server.signal(libc::SIGKILL);
        assert!(!status.success());
        for w in writers {
            w.await.expect("writer task");
        }
        assert!(
            acked.lock().expect("lock").len() > before,
            "round {round} acknowledged some writes"
        );
    }
    let server = BinaryServer::start(dir.path()).await;
    let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    let head = check(&client, &acked).await;
    assert!(head >= last_head);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_writes_and_exits_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let acked: Acked = Arc::default();
    let server = BinaryServer::start(dir.path()).await;
    let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    let writers = spawn_writers(&client, 0, &acked);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let status = tokio::task::spawn_blocking(move || server.signal(libc::SIGTERM))
        .await
        .expect("join");
    assert!(status.success(), "graceful stop exits 0, got {status:?}");
    for w in writers {
        w.await.expect("writer task");
    }
    let server = BinaryServer::start(dir.path()).await;
    let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    check(&client, &acked).await;
    drop(server);
}

/// Uploads under SIGKILL: every acknowledged upload is there after a restart with its bytes
/// intact (their SHA-256 is the hash that names them), no event names a file that is missing or
/// damaged, and no half-written upload is left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_uploads_loses_no_acknowledged_image() {
    use sha2::Digest as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let acked: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let file_of = |hash: &str| dir.path().join("media").join(&hash[..2]).join(format!("{hash}.png"));
    for round in 0..3u8 {
        let server = BinaryServer::start(dir.path()).await;
        let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
        let uploaders: Vec<_> = (0..8u8)
            .map(|w| {
                let (client, acked) = (client.clone(), acked.clone());
                tokio::spawn(async move {
                    for i in 0..u8::MAX {
                        let mut png = std::io::Cursor::new(Vec::new());
                        image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([round, w, i ^ (x as u8) ^ (y as u8)]))
                            .write_to(&mut png, image::ImageFormat::Png)
                            .expect("png");
                        let request = client
                            .request(reqwest::Method::POST, "/api/v1/media")
                            .header("content-type", "image/png")
                            .body(png.into_inner());
                        let Ok(response) = request.send().await else { return };
                        if response.status() != 201 {
                            return;
                        }
                        let Ok(media) = response.json::<quire_openapi::MediaResponse>().await else {
                            return;
                        };
                        acked.lock().expect("lock").insert(media.id, media.hash);
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(400 + 300 * u64::from(round))).await;
        assert!(!server.signal(libc::SIGKILL).success());
        for u in uploaders {
            u.await.expect("uploader");
        }
    }
    let server = BinaryServer::start(dir.path()).await;
    let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    let acked = acked.lock().expect("lock").clone();
    assert!(acked.len() > 10, "uploads were acknowledged: {}", acked.len());
    for id in acked.keys() {
        let response = client.get(&format!("/api/v1/media/{id}")).await;
        assert_eq!(response.status(), 200, "acknowledged upload {id} lost");
    }
    let mut events = Vec::new();
    loop {
        let path = format!("/api/v1/events?after={}&limit=1000", events.len());
        let page: EventList = client.get(&path).await.json().await.expect("events");
        if page.events.is_empty() {
            break;
        }
        events.extend(page.events);
    }
    let mut named = 0;
    for event in events.iter().filter(|e| e.event_type == "MediaUploaded") {
        let hash = event.data["hash"].as_str().expect("MediaUploaded names its hash");
        let bytes = std::fs::read(file_of(hash)).unwrap_or_else(|e| panic!("event {} names {hash}: {e}", event.seq));
        assert_eq!(
            format!("{:x}", sha2::Sha256::digest(&bytes)),
            hash,
            "event {} file damaged",
            event.seq
        );
        named += 1;
    }
    assert!(named >= acked.len(), "every acknowledged upload has its event");
    for hash in acked.values() {
        assert!(file_of(hash).exists(), "{hash} on disk");
    }
    let leftovers = std::fs::read_dir(dir.path().join("media").join("tmp")).map_or(0, Iterator::count);
    assert_eq!(leftovers, 0, "half-written uploads are cleared at start");
}
