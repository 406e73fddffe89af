//! Images in a push: a clean JPEG or PNG under `static/media/` becomes `MediaUploaded` with its
//! bytes stored as they were pushed; one with EXIF metadata (a GPS position could be in it) is
//! refused with what to do, and nothing is stored; deleting a media file deletes the media.

use quire_integration_tests::git::wait_for_git;
use quire_openapi::{MediaList, MediaResponse};
use serde_json::json;
use sha2::Digest as _;

use super::support::*;

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::DynamicImage::new_rgb8(width, height)
        .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .expect("encode png");
    bytes
}

/// A JPEG with an EXIF segment right after its start marker.
fn jpeg_with_exif() -> Vec<u8> {
    let mut clean = Vec::new();
    image::DynamicImage::new_rgb8(8, 8)
        .write_to(&mut std::io::Cursor::new(&mut clean), image::ImageFormat::Jpeg)
        .expect("encode jpeg");
    let mut bytes = clean[..2].to_vec();
    bytes.extend_from_slice(&[0xFF, 0xE1, 0x00, 0x08]);
    bytes.extend_from_slice(b"Exif\0\0");
    bytes.extend_from_slice(&clean[2..]);
    bytes
}

#[tokio::test]
async fn images_in_a_push_become_media_and_a_deleted_file_deletes_it() {
    let s = setup().await;
    s.admin
        .create_post(json!({"title": "Gallery", "body": "soon", "status": "published"}))
        .await;
    wait_for_git(&s.admin).await;
    let writer = s
        .admin
        .api_token(&["posts:read", "posts:write", "posts:publish", "media:write"])
        .await;
    git_ok(&s.work, &["clone", &clone_url(&s.server, &writer), "clone"]);
    let clone = s.work.join("clone");
    let head = events_after(&s.admin, 0).await.head;

    let photo = png(6, 4);
    std::fs::create_dir_all(clone.join("static/media")).expect("media folder");
    std::fs::write(clone.join("static/media/photo.png"), &photo).expect("write photo");
    git_ok(&clone, &["add", "-A"]);
    git_ok(&clone, &["commit", "-qm", "a photo"]);
    let commit = git_ok(&clone, &["rev-parse", "HEAD"]).trim().to_owned();
    let pushed = git_ok(&clone, &["push", "origin", "main"]);
    assert!(pushed.contains("Quire imported 1 event(s)"), "{pushed}");
    let events = events_after(&s.admin, head).await.events;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "MediaUploaded");
    let origin = events[0].origin.clone().expect("origin");
    assert_eq!((origin.source.as_str(), origin.commit), ("git-push", Some(commit)));
    let list: MediaList = s.admin.get("/api/v1/media").await.json().await.expect("media");
    let media: &MediaResponse = list.items.first().expect("the photo");
    let hash = sha2::Sha256::digest(&photo)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    assert_eq!(media.hash, hash, "stored as pushed");
    assert_eq!(media.original_name.as_deref(), Some("photo.png"));
    assert_eq!((media.width, media.height), (6, 4));
    let served = s.admin.get(&media.url).await.bytes().await.expect("bytes");
    assert_eq!(
        served.as_ref(),
        photo.as_slice(),
        "the published file is the pushed file"
    );

    // EXIF metadata and other formats are refused whole, with what to do (on a clone of
    // Quire's main, which now carries the photo as static/media/<hash>.png).
    wait_for_git(&s.admin).await;
    git_ok(&s.work, &["clone", &clone_url(&s.server, &writer), "second"]);
    let second = s.work.join("second");
    let file = format!("static/media/{hash}.png");
    assert!(second.join(&file).is_file(), "Quire's commit has the photo");
    let head = events_after(&s.admin, 0).await.head;
    std::fs::write(second.join("static/media/gps.jpg"), jpeg_with_exif()).expect("write");
    std::fs::write(second.join("static/media/anim.gif"), b"GIF89a not really").expect("write");
    git_ok(&second, &["add", "-A"]);
    git_ok(&second, &["commit", "-qm", "metadata"]);
    let refused = git_fails(&second, &["push", "origin", "main"]);
    assert!(
        refused.contains("static/media/gps.jpg") && refused.contains("exiftool"),
        "{refused}"
    );
    assert!(refused.contains("static/media/anim.gif"), "{refused}");
    assert_eq!(events_after(&s.admin, 0).await.head, head, "nothing stored");
    git_ok(&second, &["reset", "-q", "--hard", "origin/main"]);

    // Deleting the file deletes the media.
    git_ok(&second, &["rm", "-q", &file]);
    git_ok(&second, &["commit", "-qm", "drop the photo"]);
    git_ok(&second, &["push", "origin", "main"]);
    let events = events_after(&s.admin, head).await.events;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "MediaDeleted");
    let gone = s.admin.get(&format!("/api/v1/media/{}", media.id)).await;
    assert_eq!(gone.status(), 404);

    // git still matches the log.
    wait_for_git(&s.admin).await;
    drop(s.server);
    assert_verified(&s.data);
}

#[tokio::test]
async fn a_token_without_media_write_cannot_push_images() {
    let s = setup().await;
    s.admin
        .create_post(json!({"title": "Words only", "body": "text", "status": "published"}))
        .await;
    wait_for_git(&s.admin).await;
    let writer = s.admin.api_token(&["posts:read", "posts:write", "posts:publish"]).await;
    git_ok(&s.work, &["clone", &clone_url(&s.server, &writer), "clone"]);
    let clone = s.work.join("clone");
    std::fs::create_dir_all(clone.join("static/media")).expect("media folder");
    std::fs::write(clone.join("static/media/photo.png"), png(2, 2)).expect("write");
    git_ok(&clone, &["add", "-A"]);
    git_ok(&clone, &["commit", "-qm", "photo"]);
    let refused = git_fails(&clone, &["push", "origin", "main"]);
    assert!(refused.contains("media:write"), "{refused}");
}
