//! Media inside storage: uploads are cleaned (upright, no metadata), stored once by hash and
//! before their event, go through the one log writer, import into an empty log, and the git
//! projection commits them under `static/media/` in a way `verify` agrees with.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use quire_storage::git::{events_from_git, verify};
use quire_storage::{
    system_clock, Actor, Error, GitProjection, GitSettings, IfMatch, ImageLimits, MediaBlobs, MediaQuery, MediaService,
    Role, SledOptions, SledStore, Store, Upload,
};
use ulid::Ulid;

/// A `w`×`h` JPEG, red on the left half and blue on the right, with an EXIF block saying
/// "rotate 90° clockwise to view" (Orientation = 6) and a GPS latitude.
fn jpeg_with_exif(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, _| {
        if x < w / 2 {
            image::Rgb([255, 0, 0])
        } else {
            image::Rgb([0, 0, 255])
        }
    });
    let mut jpeg = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95))
        .expect("encode");
    let tiff = exif_tiff();
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&u16::try_from(2 + 6 + tiff.len()).expect("small").to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Little-endian TIFF: IFD0 with Orientation 6 and a GPS IFD pointer; the GPS IFD with
/// latitude N 52° 31′.
fn exif_tiff() -> Vec<u8> {
    let mut t = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&kind.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value);
    };
    t.extend_from_slice(&2u16.to_le_bytes());
    entry(&mut t, 0x0112, 3, 1, [6, 0, 0, 0]);
    entry(&mut t, 0x8825, 4, 1, 38u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len(), 38);
    t.extend_from_slice(&2u16.to_le_bytes());
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, 5, 3, 68u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len(), 68);
    for (num, den) in [(52u32, 1u32), (31, 1), (0, 1)] {
        t.extend_from_slice(&num.to_le_bytes());
        t.extend_from_slice(&den.to_le_bytes());
    }
    t
}

struct Fixture {
    dir: tempfile::TempDir,
    store: Arc<SledStore>,
    media: MediaService,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SledStore::open(&dir.path().join("log"), &SledOptions::default()).expect("store"));
    let blobs = MediaBlobs::new(dir.path().join("media"));
    let limits = ImageLimits {
        max_dimension: 64,
        ..ImageLimits::default()
    };
    let media = MediaService::new(store.clone(), blobs, limits, system_clock());
    Fixture { dir, store, media }
}

fn ada() -> Actor {
    Actor::user(Ulid::new(), "ada", Role::Author)
}

fn upload(f: &Fixture, bytes: &[u8], alt: &str) -> Result<quire_storage::Media, Error> {
    let path = f.dir.path().join(format!("upload-{}", Ulid::new()));
    std::fs::write(&path, bytes).expect("write upload");
    let upload = Upload {
        path: &path,
        alt: alt.into(),
        original_name: Some("IMG_0001.JPG".into()),
    };
    f.media.upload(&ada(), upload, None)
}

fn stored_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for fan in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if fan.file_name() == "tmp" {
            continue;
        }
        out.extend(
            std::fs::read_dir(fan.path())
                .expect("fan-out")
                .flatten()
                .map(|e| e.path()),
        );
    }
    out
}

#[test]
fn an_upload_is_upright_without_metadata_and_stored_once() {
    let f = fixture();
    let original = jpeg_with_exif(40, 20);
    assert!(original.windows(6).any(|w| w == b"Exif\0\0"));
    let first = upload(&f, &original, "A red and blue flag").expect("upload");
    assert_eq!((first.width, first.height), (20, 40), "turned upright");
    assert_eq!(first.content_type, "image/jpeg");
    assert_eq!(first.uploader, "ada");
    let stored = f.media.blobs().read(&first.file_name()).expect("read").expect("stored");
    assert_eq!(stored.len() as u64, first.bytes);
    assert!(!stored.windows(4).any(|w| w == b"Exif"), "no EXIF left");
    assert!(!stored.windows(4).any(|w| w == b"II*\0"), "no TIFF block left");
    let img = image::load_from_memory(&stored).expect("decodes").to_rgb8();
    assert_eq!(img.dimensions(), (20, 40));
    let (top, bottom) = (img.get_pixel(10, 3), img.get_pixel(10, 36));
    assert!(
        top[0] > 200 && top[2] < 60,
        "the left (red) half is now on top: {top:?}"
    );
    assert!(bottom[2] > 200 && bottom[0] < 60, "blue at the bottom: {bottom:?}");

    let second = upload(&f, &original, "again").expect("upload again");
    assert_ne!(first.id, second.id);
    assert_eq!(first.hash, second.hash);
    assert_eq!(
        stored_files(&f.dir.path().join("media")).len(),
        1,
        "same bytes stored once"
    );
    let list = f
        .media
        .list(
            &ada(),
            &MediaQuery {
                limit: 10,
                ..MediaQuery::default()
            },
        )
        .expect("list");
    assert_eq!(list.len(), 2);
}

#[test]
fn large_images_are_scaled_down_to_the_limit() {
    let f = fixture();
    let mut png = Vec::new();
    image::DynamicImage::ImageRgba8(image::RgbaImage::new(200, 100))
        .write_with_encoder(image::codecs::png::PngEncoder::new(&mut png))
        .expect("encode");
    let media = upload(&f, &png, "").expect("upload");
    assert_eq!((media.width, media.height), (64, 32));
    assert_eq!(media.content_type, "image/png");
}

#[test]
fn refused_uploads_store_nothing() {
    let f = fixture();
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
    assert!(matches!(upload(&f, svg, ""), Err(Error::UnsupportedMedia { .. })));
    let jpeg = jpeg_with_exif(40, 20);
    let truncated = &jpeg[..jpeg.len() / 2];
    let err = upload(&f, truncated, "").expect_err("truncated");
    assert!(matches!(err, Error::UnreadableMedia { .. }), "{err:?}");
    assert!(stored_files(&f.dir.path().join("media")).is_empty());
    assert_eq!(f.store.head(), 0, "no event");
}

#[test]
fn only_the_uploader_or_an_editor_changes_media() {
    let f = fixture();
    let media = upload(&f, &jpeg_with_exif(8, 8), "old").expect("upload");
    let bob = Actor::user(Ulid::new(), "bob", Role::Author);
    let hidden = f.media.update_alt(&bob, media.id, IfMatch::Any, "x".into(), None);
    assert!(matches!(hidden, Err(Error::MediaNotFound { .. })), "{hidden:?}");
    let stale = f
        .media
        .update_alt(&ada(), media.id, IfMatch::Versions(vec![7]), "x".into(), None);
    assert!(
        matches!(stale, Err(Error::MediaVersionConflict { actual: 1, .. })),
        "{stale:?}"
    );
    let editor = Actor::user(Ulid::new(), "ed", Role::Editor);
    let changed = f
        .media
        .update_alt(&editor, media.id, IfMatch::Any, "new".into(), None)
        .expect("alt");
    assert_eq!((changed.alt.as_str(), changed.version), ("new", 2));
    let deleted = f
        .media
        .delete(&ada(), media.id, IfMatch::Versions(vec![2]), None)
        .expect("delete");
    assert!(deleted.deleted_at.is_some());
    assert!(matches!(
        f.media.get(&ada(), media.id),
        Err(Error::MediaNotFound { .. })
    ));
    assert!(
        f.media.blobs().read(&media.file_name()).expect("read").is_some(),
        "bytes stay"
    );
}

fn git_files(repo: &Path) -> Vec<String> {
    let out = Command::new("git")
        .args([
            "--git-dir",
            &repo.to_string_lossy(),
            "ls-tree",
            "-r",
            "--name-only",
            "main",
        ])
        .output()
        .expect("git");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn git_commits_media_under_static_media_and_verify_agrees() {
    let f = fixture();
    let first = upload(&f, &jpeg_with_exif(40, 20), "one").expect("upload");
    let twin = upload(&f, &jpeg_with_exif(40, 20), "same bytes").expect("upload");
    let other = upload(&f, &jpeg_with_exif(8, 8), "other").expect("upload");
    let repo = f.dir.path().join("content.git");
    let mut git = GitProjection::open(&repo, GitSettings::default()).expect("open");
    assert_eq!(git.catch_up(f.store.as_ref()).expect("catch up"), 3);
    let file = |m: &quire_storage::Media| format!("static/media/{}", m.file_name());
    assert!(git_files(&repo).contains(&file(&first)));
    assert!(git_files(&repo).contains(&file(&other)));

    f.media.delete(&ada(), other.id, IfMatch::Any, None).expect("delete");
    f.media.delete(&ada(), first.id, IfMatch::Any, None).expect("delete");
    assert_eq!(git.catch_up(f.store.as_ref()).expect("catch up"), 2);
    let files = git_files(&repo);
    assert!(
        !files.contains(&file(&other)),
        "a deleted file leaves the tree: {files:?}"
    );
    assert!(
        files.contains(&file(&twin)),
        "kept while another live media has the bytes"
    );
    let log = Command::new("git")
        .args(["--git-dir", &repo.to_string_lossy(), "log", "-1", "--format=%B", "main"])
        .output()
        .expect("git log");
    let message = String::from_utf8_lossy(&log.stdout);
    assert!(message.contains(&format!("Media-Id: {}", first.id)), "{message}");
    assert!(message.contains("Event-Type: MediaDeleted"), "{message}");
    drop(git);
    let report = verify(&repo, &GitSettings::default(), f.store.as_ref()).expect("verify");
    assert!(report.is_ok(), "{report:?}");

    // Git alone brings the events and the bytes back, into another data folder.
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let clone = elsewhere.path().join("source.git");
    let cloned = Command::new("git")
        .args([
            "clone",
            "-q",
            "--bare",
            &repo.to_string_lossy(),
            &clone.to_string_lossy(),
        ])
        .status()
        .expect("git clone");
    assert!(cloned.success());
    let restored_media = MediaBlobs::new(elsewhere.path().join("restored-media"));
    let events: Vec<_> = events_from_git(&clone, &GitSettings::default())
        .expect("open")
        .restore_media_into(restored_media.clone())
        .collect::<Result<_, _>>()
        .expect("every commit restores");
    assert_eq!(events, f.store.events_after(0, 100).expect("events"));
    let bytes = restored_media
        .read(&first.file_name())
        .expect("read")
        .expect("restored");
    assert_eq!(Some(bytes), f.media.blobs().read(&first.file_name()).expect("read"));
}

#[test]
fn media_events_import_into_an_empty_log() {
    let f = fixture();
    let media = upload(&f, &jpeg_with_exif(8, 8), "alt").expect("upload");
    f.media
        .update_alt(&ada(), media.id, IfMatch::Any, "better".into(), None)
        .expect("alt");
    let events = f.store.events_after(0, 100).expect("events");
    let other = tempfile::tempdir().expect("tempdir");
    let copy = SledStore::open(&other.path().join("log"), &SledOptions::default()).expect("store");
    assert_eq!(copy.import(events, &mut |_| {}).expect("import"), 2);
    let imported = copy.media(media.id).expect("read").expect("imported");
    assert_eq!(imported, f.store.media(media.id).expect("read").expect("there"));
    assert_eq!(imported.alt, "better");
}
