//! Media over HTTP: uploads are cleaned (upright, no EXIF/GPS), stored once, served publicly
//! with a strong ETag, refused with 413/415/422 without storing anything, guarded by
//! `media:write` / `posts:read`, idempotent, and committed to git under `static/media/`.

use std::path::Path;

use quire_integration_tests::git::{git, quire, wait_for_git};
use quire_integration_tests::{BinaryServer, Client, TestServer, ADMIN};
use quire_openapi::{EventList, MediaList, MediaResponse, Problem};
use reqwest::Method;
use serde_json::json;

/// 64×32 JPEG with EXIF Orientation = 6 (rotate 90° clockwise) and a GPS latitude.
const PHOTO: &[u8] = include_bytes!("../../fixtures/exif-orientation-6-gps.jpg");

async fn upload(client: &Client, bytes: &[u8], content_type: &str, query: &str) -> reqwest::Response {
    client
        .request(Method::POST, &format!("/api/v1/media{query}"))
        .header("content-type", content_type)
        .body(bytes.to_vec())
        .send()
        .await
        .expect("upload")
}

/// Stored files (not counting uploads in progress).
fn stored(data: &Path) -> usize {
    let Ok(fans) = std::fs::read_dir(data.join("media")) else {
        return 0;
    };
    fans.flatten()
        .filter(|f| f.file_name() != "tmp")
        .map(|f| std::fs::read_dir(f.path()).map_or(0, Iterator::count))
        .sum()
}

async fn head(admin: &Client) -> u64 {
    let list: EventList = admin.get("/api/v1/events?limit=1").await.json().await.expect("events");
    list.head
}

#[tokio::test]
async fn an_upload_is_upright_without_exif_and_served_with_a_strong_etag() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    assert!(PHOTO.windows(6).any(|w| w == b"Exif\0\0"), "the fixture has EXIF");
    let response = upload(&admin, PHOTO, "image/jpeg", "?alt=A%20flag&name=IMG_0001.JPG").await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().expect("ascii").to_owned();
    let media: MediaResponse = response.json().await.expect("media json");
    assert_eq!(location, format!("/api/v1/media/{}", media.id));
    assert_eq!((media.width, media.height), (32, 64), "turned upright");
    assert_eq!(media.alt, "A flag");
    assert_eq!(media.original_name.as_deref(), Some("IMG_0001.JPG"));
    assert_eq!(media.url, format!("/media/{}.jpg", media.hash));

    let file = admin.http.get(admin.url(&media.url)).send().await.expect("get file");
    assert_eq!(file.status(), 200);
    assert_eq!(file.headers()["content-type"], "image/jpeg");
    assert_eq!(
        file.headers()["etag"].to_str().expect("ascii"),
        format!("\"{}\"", media.hash)
    );
    assert!(file.headers()["cache-control"]
        .to_str()
        .expect("ascii")
        .contains("immutable"));
    let bytes = file.bytes().await.expect("bytes");
    assert_eq!(bytes.len() as u64, media.bytes);
    assert!(!bytes.windows(4).any(|w| w == b"Exif"), "EXIF removed");
    assert!(!bytes.windows(4).any(|w| w == b"II*\0"), "no TIFF block (GPS) left");
    let cached = admin
        .http
        .get(admin.url(&media.url))
        .header("if-none-match", format!("\"{}\"", media.hash))
        .send()
        .await
        .expect("conditional get");
    assert_eq!(cached.status(), 304);
    let missing = admin
        .http
        .get(admin.url("/media/../log/conf"))
        .send()
        .await
        .expect("get");
    assert_eq!(missing.status(), 404);

    let again = upload(&admin, PHOTO, "image/jpeg", "").await;
    assert_eq!(again.status(), 201);
    let again: MediaResponse = again.json().await.expect("media json");
    assert_ne!(again.id, media.id);
    assert_eq!(again.hash, media.hash);
    assert_eq!(stored(server.dir.path()), 1, "same bytes stored once");
    let list: MediaList = admin.get("/api/v1/media").await.json().await.expect("list");
    assert_eq!(list.items.len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn a_form_upload_takes_file_and_alt_fields() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let boundary = "quire-test-boundary";
    let mut form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"alt\"\r\n\r\nA flag, from a form\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"IMG_0002.JPG\"\r\n\
         Content-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    form.extend_from_slice(PHOTO);
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let response = upload(&admin, &form, &content_type, "").await;
    assert_eq!(response.status(), 201);
    let media: MediaResponse = response.json().await.expect("media");
    assert_eq!(media.alt, "A flag, from a form");
    assert_eq!(media.original_name.as_deref(), Some("IMG_0002.JPG"));
    assert_eq!((media.width, media.height), (32, 64));
    let no_file =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"alt\"\r\n\r\nx\r\n--{boundary}--\r\n");
    assert_eq!(
        upload(&admin, no_file.as_bytes(), &content_type, "").await.status(),
        400
    );
    assert_eq!(
        upload(&admin, PHOTO, "multipart/mixed; boundary=x", "").await.status(),
        415
    );
    server.stop().await;
}

#[tokio::test]
async fn refused_uploads_store_nothing() {
    let server = TestServer::start_with(|c| c.media.max_bytes = 4096).await;
    let admin = server.admin().await;
    let before = head(&admin).await;
    let big = vec![0xFFu8; 10_000];
    let cases: [(&[u8], &str, u16, &str); 3] = [
        (&big, "image/jpeg", 413, "payload-too-large"),
        (
            br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#,
            "image/jpeg",
            415,
            "unsupported-media-type",
        ),
        (&PHOTO[..PHOTO.len() / 2], "image/jpeg", 422, "unreadable-image"),
    ];
    for (body, content_type, status, kind) in cases {
        let response = upload(&admin, body, content_type, "").await;
        assert_eq!(response.status(), status, "{kind}");
        let problem: Problem = response.json().await.expect("problem+json");
        assert_eq!(problem.problem_type, format!("urn:quire:problem:{kind}"));
    }
    assert_eq!(stored(server.dir.path()), 0, "nothing stored");
    assert_eq!(head(&admin).await, before, "nothing logged");
    server.stop().await;
}

#[tokio::test]
async fn rights_decide_who_uploads_reads_and_changes() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let media_only = admin.with_token(&["media:write"]).await;
    let read_only = admin.with_token(&["posts:read"]).await;
    let response = upload(&media_only, PHOTO, "image/jpeg", "").await;
    assert_eq!(response.status(), 201, "a media-only token uploads");
    let media: MediaResponse = response.json().await.expect("media");
    let refused = upload(&read_only, PHOTO, "image/jpeg", "").await;
    assert_eq!(refused.status(), 403);
    let problem: Problem = refused.json().await.expect("problem");
    assert_eq!(problem.missing.as_deref(), Some("media:write"));
    let path = format!("/api/v1/media/{}", media.id);
    assert_eq!(media_only.get(&path).await.status(), 403, "metadata needs posts:read");
    assert_eq!(read_only.get(&path).await.status(), 200);

    let body = json!({"username": "bob", "password": "user-password-1", "role": "author"});
    assert_eq!(admin.post_json("/api/v1/users", &body, &[]).await.status(), 201);
    let bob = Client::login(&admin.base, "bob", "user-password-1").await;
    assert_eq!(bob.get(&path).await.status(), 404, "another author's upload is hidden");
    let stale = bob
        .patch_json(&path, &json!({"alt": "mine"}), &[("if-match", "\"1\"")])
        .await;
    assert_eq!(stale.status(), 404);

    let changed = admin
        .patch_json(&path, &json!({"alt": "new"}), &[("if-match", "\"1\"")])
        .await;
    assert_eq!(changed.status(), 200);
    assert_eq!(changed.headers()["etag"], "\"2\"");
    let stale = admin
        .patch_json(&path, &json!({"alt": "x"}), &[("if-match", "\"1\"")])
        .await;
    assert_eq!(stale.status(), 412);
    let deleted = admin
        .request(Method::DELETE, &path)
        .header("if-match", "\"2\"")
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), 200);
    assert_eq!(admin.get(&path).await.status(), 404);
    let file = admin.http.get(admin.url(&media.url)).send().await.expect("file");
    assert_eq!(file.status(), 200, "bytes stay after a delete (no sweep yet)");
    server.stop().await;
}

#[tokio::test]
async fn a_retried_upload_with_the_same_key_is_stored_once() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let send = |key: &'static str, alt: &'static str| {
        admin
            .request(Method::POST, &format!("/api/v1/media?alt={alt}"))
            .header("content-type", "image/jpeg")
            .header("idempotency-key", key)
            .body(PHOTO.to_vec())
            .send()
    };
    let first: MediaResponse = send("k-1", "one").await.expect("send").json().await.expect("media");
    let retry = send("k-1", "one").await.expect("send");
    assert_eq!(retry.status(), 201);
    let retry: MediaResponse = retry.json().await.expect("media");
    assert_eq!(retry, first);
    assert_eq!(
        send("k-1", "two").await.expect("send").status(),
        422,
        "same key, other request"
    );
    let list: MediaList = admin.get("/api/v1/media").await.json().await.expect("list");
    assert_eq!(list.items.len(), 1);
    server.stop().await;
}

/// Runs the real binary, so that `quire verify` can open the log after it stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_becomes_a_git_commit_under_static_media_and_verify_passes() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = BinaryServer::start(data.path()).await;
    let admin = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    let media: MediaResponse = upload(&admin, PHOTO, "image/jpeg", "?alt=x")
        .await
        .json()
        .await
        .expect("media");
    wait_for_git(&admin).await;
    let repo = data.path().join("content.git");
    let repo = repo.to_string_lossy();
    let file = format!("static/media/{}.jpg", media.hash);
    let files = git(None, &["--git-dir", &repo, "ls-tree", "-r", "--name-only", "main"]);
    assert!(files.lines().any(|l| l == file), "{files}");
    let message = git(None, &["--git-dir", &repo, "log", "-1", "--format=%B", "main"]);
    assert!(message.contains(&format!("Media-Id: {}", media.id)), "{message}");
    assert!(message.contains("Event-Type: MediaUploaded"), "{message}");
    let blob = git(None, &["--git-dir", &repo, "cat-file", "-s", &format!("main:{file}")]);
    assert_eq!(blob.trim(), media.bytes.to_string());

    let path = format!("/api/v1/media/{}", media.id);
    let deleted = admin
        .request(Method::DELETE, &path)
        .header("if-match", "*")
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), 200);
    wait_for_git(&admin).await;
    let files = git(None, &["--git-dir", &repo, "ls-tree", "-r", "--name-only", "main"]);
    assert!(!files.lines().any(|l| l == file), "{files}");
    let stopped = tokio::task::spawn_blocking(move || server.signal(libc::SIGTERM))
        .await
        .expect("join");
    assert!(stopped.success(), "graceful stop: {stopped:?}");
    let verified = quire(data.path(), &["verify"]);
    assert!(verified.status.success(), "quire verify: {verified:?}");

    // `restore --from-git` into an empty folder brings the events and the media bytes back.
    let tip = git(None, &["--git-dir", &repo, "rev-parse", "main"]);
    let restored = tempfile::tempdir().expect("tempdir");
    let out = quire(restored.path(), &["restore", "--from-git", &repo]);
    assert!(out.status.success(), "restore: {out:?}");
    let stored = restored
        .path()
        .join("media")
        .join(&media.hash[..2])
        .join(format!("{}.jpg", media.hash));
    assert_eq!(std::fs::metadata(&stored).expect("restored bytes").len(), media.bytes);
    let new_repo = restored.path().join("content.git");
    let new_tip = git(None, &["--git-dir", &new_repo.to_string_lossy(), "rev-parse", "main"]);
    assert_eq!(new_tip, tip, "the same commit ids");
    let verified = quire(restored.path(), &["verify"]);
    assert!(verified.status.success(), "quire verify after restore: {verified:?}");
}

/// `quire backup` carries the media files (a deleted one too: git's history still shows it), and
/// `restore --from-backup` puts them back after checking each against its hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_carries_the_media_files_and_a_damaged_one_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = BinaryServer::start(&data).await;
    let admin = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    let kept: MediaResponse = upload(&admin, PHOTO, "image/jpeg", "?alt=kept")
        .await
        .json()
        .await
        .expect("media");
    let png = {
        let mut out = std::io::Cursor::new(Vec::new());
        image::RgbImage::from_fn(8, 4, |x, y| image::Rgb([x as u8 * 30, y as u8 * 60, 7]))
            .write_to(&mut out, image::ImageFormat::Png)
            .expect("png");
        out.into_inner()
    };
    let gone: MediaResponse = upload(&admin, &png, "image/png", "?alt=gone")
        .await
        .json()
        .await
        .expect("media");
    let deleted = admin
        .request(Method::DELETE, &format!("/api/v1/media/{}", gone.id))
        .header("if-match", "*")
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), 200);
    admin
        .create_post(json!({"title": "Flag", "body": format!("![kept]({})", kept.url), "status": "published"}))
        .await;
    wait_for_git(&admin).await;
    let api = admin.with_token(&["admin", "posts:read"]).await;

    // Over HTTP, from the running server: the announced length includes the media entries.
    let archive = dir.path().join("backup.tar");
    let (base, secret, file, data_dir) = (server.base.clone(), api.token.clone(), archive.clone(), data.clone());
    let out = tokio::task::spawn_blocking(move || {
        quire(
            &data_dir,
            &["backup", &file.to_string_lossy(), "--url", &base, "--token", &secret],
        )
    })
    .await
    .expect("backup");
    assert!(out.status.success(), "backup: {out:?}");
    drop(server);
    let listed = std::process::Command::new("tar")
        .arg("tf")
        .arg(&archive)
        .output()
        .expect("tar");
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    for name in [format!("{}.jpg", kept.hash), format!("{}.png", gone.hash)] {
        assert!(listed.contains(&format!("quire-backup/media/{name}\n")), "{listed}");
    }

    let restored = dir.path().join("restored");
    let out = quire(&restored, &["restore", "--from-backup", &archive.to_string_lossy()]);
    assert!(out.status.success(), "restore: {out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("2 media files"),
        "{out:?}"
    );
    for (media, ext) in [(&kept, "jpg"), (&gone, "png")] {
        let at = |root: &Path| {
            root.join("media")
                .join(&media.hash[..2])
                .join(format!("{}.{ext}", media.hash))
        };
        assert_eq!(
            std::fs::read(at(&restored)).expect("restored file"),
            std::fs::read(at(&data)).expect("original file"),
            "{ext} restored byte for byte"
        );
    }
    let verified = quire(&restored, &["verify"]);
    assert!(verified.status.success(), "quire verify after restore: {verified:?}");
    let server = BinaryServer::start(&restored).await;
    let served = reqwest::get(format!("{}{}", server.base, kept.url)).await.expect("get");
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().await.expect("bytes").len() as u64, kept.bytes);
    drop(server);

    // One flipped byte in a media entry: the restore stops and leaves no log behind.
    let mut bytes = std::fs::read(&archive).expect("archive");
    let name = format!("quire-backup/media/{}.jpg", kept.hash);
    let header = bytes
        .windows(name.len())
        .position(|w| w == name.as_bytes())
        .expect("media entry");
    bytes[header + 512 + 100] ^= 0xff;
    let damaged = dir.path().join("damaged.tar");
    std::fs::write(&damaged, bytes).expect("write");
    let elsewhere = dir.path().join("elsewhere");
    let out = quire(&elsewhere, &["restore", "--from-backup", &damaged.to_string_lossy()]);
    assert!(!out.status.success(), "a damaged archive restores: {out:?}");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("damaged") && said.contains(&kept.hash), "{said}");
    assert!(!elsewhere.join("log").exists(), "the half-restored log was removed");
}

/// A photo wider than the copies' widths: the site writes its 480 and 960 px copies and the
/// post's page offers them in `srcset`, with the size and lazy loading; feeds use absolute URLs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_offers_smaller_copies_of_its_photo_in_srcset() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let jpeg = {
        let mut out = std::io::Cursor::new(Vec::new());
        image::RgbImage::from_fn(1200, 800, |x, y| image::Rgb([(x / 5) as u8, (y / 4) as u8, 90]))
            .write_to(&mut out, image::ImageFormat::Jpeg)
            .expect("jpeg");
        out.into_inner()
    };
    let photo: MediaResponse = upload(&admin, &jpeg, "image/jpeg", "?alt=x")
        .await
        .json()
        .await
        .expect("media");
    assert_eq!((photo.width, photo.height), (1200, 800));
    let file = format!("{}.jpg", photo.hash);
    let post = admin
        .create_post(json!({"title": "Wide", "body": format!("![A wide photo]({})", photo.url), "status": "published"}))
        .await;
    crate::site_common::wait_for_site(&admin, &server.dir.path().join("site")).await;

    let page = reqwest::get(format!("{}/posts/{}/", server.base, post.slug))
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    let page = page.text().await.expect("html");
    let srcset = format!(
        "srcset=\"/media/w480/{file} 480w, /media/w960/{file} 960w, {} 1200w\"",
        photo.url
    );
    assert!(page.contains(&srcset), "{page}");
    assert!(
        page.contains("width=\"1200\" height=\"800\" loading=\"lazy\""),
        "{page}"
    );
    for width in [480u32, 960] {
        let copy = reqwest::get(format!("{}/media/w{width}/{file}", server.base))
            .await
            .expect("copy");
        assert_eq!(copy.status(), 200, "/media/w{width}/{file}");
        assert_eq!(copy.headers()["content-type"], "image/jpeg");
        let bytes = copy.bytes().await.expect("bytes");
        let decoded = image::load_from_memory(&bytes).expect("a JPEG");
        assert_eq!((decoded.width(), decoded.height()), (width, width * 2 / 3));
    }
    let copies = server.dir.path().join("site").join("media");
    assert!(!copies.join("w1600").exists(), "no copy wider than the photo");
    let feed: serde_json::Value = reqwest::get(format!("{}/feed.json", server.base))
        .await
        .expect("feed")
        .json()
        .await
        .expect("json");
    let html = feed["items"][0]["content_html"].as_str().expect("content_html");
    assert!(
        html.contains("src=\"http://") && html.contains(&format!("{}\"", photo.url)),
        "{html}"
    );
    assert!(
        !html.contains(&format!("src=\"{}\"", photo.url)),
        "relative in the feed: {html}"
    );
    server.stop().await;
}

/// `quire export` / `quire import` move the log; the images come from the old data folder's
/// `media/` with `--media` (checked against their hashes), and without them the import stops
/// instead of committing posts without their images.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_takes_the_media_files_from_the_exported_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = BinaryServer::start(&data).await;
    let admin = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    let photo: MediaResponse = upload(&admin, PHOTO, "image/jpeg", "?alt=x")
        .await
        .json()
        .await
        .expect("media");
    admin
        .create_post(json!({"title": "Flag", "body": format!("![x]({})", photo.url), "status": "published"}))
        .await;
    wait_for_git(&admin).await;
    drop(server);
    let export = dir.path().join("events.jsonl");
    let out = quire(&data, &["export", &export.to_string_lossy()]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--media"), "{out:?}");

    let bare = dir.path().join("bare");
    let out = quire(&bare, &["import", &export.to_string_lossy()]);
    assert!(!out.status.success(), "an import without the images stops");
    assert!(String::from_utf8_lossy(&out.stderr).contains(&photo.hash), "{out:?}");
    assert!(!bare.join("log").exists(), "and leaves no log behind");

    let copy = dir.path().join("copy");
    let media = data.join("media");
    let out = quire(
        &copy,
        &["import", &export.to_string_lossy(), "--media", &media.to_string_lossy()],
    );
    assert!(out.status.success(), "{out:?}");
    let file = |root: &Path| {
        root.join("media")
            .join(&photo.hash[..2])
            .join(format!("{}.jpg", photo.hash))
    };
    assert_eq!(
        std::fs::read(file(&copy)).expect("copied"),
        std::fs::read(file(&data)).expect("original")
    );
    assert_eq!(
        quire_integration_tests::git::main_commits(&copy.join("content.git")),
        quire_integration_tests::git::main_commits(&data.join("content.git")),
        "the same commits, the image's included"
    );
    assert!(quire(&copy, &["verify"]).status.success());
}
