//! The rendered site as the publisher sees it: every file of `<data>/site` (dot files, the
//! site's manifest and temporary files, left out), with the order it is uploaded in
//! ([`Tier`]), its `Content-Type` and its `Cache-Control`.

use std::fs;
use std::io::{ErrorKind, Read as _};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use sha2::{Digest as _, Sha256};

/// When a file is uploaded in a publish: assets before the pages that use them, and the pages
/// a reader arrives by (the home page, feeds, sitemap) last, so no page is ever broken while a
/// publish is in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// Media, stylesheets, data files: everything that is not a page.
    Asset,
    /// Post, tag, archive and listing pages.
    Page,
    /// The home page, the feeds, the sitemap and `robots.txt`.
    Front,
}

/// The files uploaded last.
const FRONT: &[&str] = &["index.html", "feed.xml", "feed.json", "sitemap.xml", "robots.txt"];

/// The tier of the file at `key` (its path in the site, `/`-separated).
pub fn tier(key: &str) -> Tier {
    if FRONT.contains(&key) {
        Tier::Front
    } else if key.ends_with(".html") {
        Tier::Page
    } else {
        Tier::Asset
    }
}

/// The `Content-Type` of the file at `key`, by its extension.
pub fn content_type(key: &str) -> &'static str {
    let extension = key.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("xml") if key == "feed.xml" => "application/atom+xml; charset=utf-8",
        Some("xml") => "application/xml; charset=utf-8",
        Some("json") if key == "feed.json" => "application/feed+json; charset=utf-8",
        Some("json") => "application/json; charset=utf-8",
        Some("txt") => "text/plain; charset=utf-8",
        Some("csv") => "text/csv; charset=utf-8",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("svg") => "image/svg+xml",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// Whether the file at `key` never changes under its name: media are named by the SHA-256 of
/// their bytes, so a CDN may keep them for good.
pub fn immutable(key: &str) -> bool {
    key.starts_with("media/")
}

/// One file of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFile {
    /// Its path in the site, `/`-separated: the object key below the prefix.
    pub key: String,
    /// Where it is on disk.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Its modification time in nanoseconds since the epoch (with the size: whether the hash
    /// remembered for it still holds).
    pub modified_ns: u64,
}

/// Every file of the site in `dir`, sorted by key. Dot files and dot folders are skipped.
pub fn scan(dir: &Path) -> std::io::Result<Vec<LocalFile>> {
    let mut files = Vec::new();
    let mut folders = vec![(dir.to_path_buf(), String::new())];
    while let Some((folder, prefix)) = folders.pop() {
        let entries = match fs::read_dir(&folder) {
            Ok(entries) => entries,
            // A folder removed while we look (a page deleted by the site) is simply gone.
            Err(e) if e.kind() == ErrorKind::NotFound && !prefix.is_empty() => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let key = format!("{prefix}{name}");
            let metadata = match entry.metadata() {
                Ok(metadata) => metadata,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            if metadata.is_dir() {
                folders.push((entry.path(), format!("{key}/")));
            } else if metadata.is_file() {
                let modified_ns = metadata
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
                files.push(LocalFile {
                    key,
                    path: entry.path(),
                    size: metadata.len(),
                    modified_ns,
                });
            }
        }
    }
    files.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(files)
}

/// The uploaded images of the media store `dir` (`<dir>/ab/<hash>.<jpg|png>`), keyed
/// `media/<hash>.<ext>`: the URL the site's pages show them at (Quire serves them from the store,
/// not from the site folder). Datasets' CSV files, also in the store, are not served there.
pub fn scan_media(dir: &Path) -> std::io::Result<Vec<LocalFile>> {
    let mut files = Vec::new();
    let fans = match fs::read_dir(dir) {
        Ok(fans) => fans,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(files),
        Err(e) => return Err(e),
    };
    for fan in fans {
        let fan = fan?;
        if !fan.file_type()?.is_dir() {
            continue;
        }
        for entry in fs::read_dir(fan.path())? {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let image = name.ends_with(".jpg") || name.ends_with(".png");
            if !image || !quire_storage::media::blobs::valid_file_name(&name) {
                continue;
            }
            let metadata = entry.metadata()?;
            let modified_ns = metadata
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
            files.push(LocalFile {
                key: format!("media/{name}"),
                path: entry.path(),
                size: metadata.len(),
                modified_ns,
            });
        }
    }
    files.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(files)
}

/// The hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The hex SHA-256 of the file at `path`, read in pieces into `buffer`; `None` if it is gone.
pub fn hash_file(path: &Path, buffer: &mut [u8]) -> std::io::Result<Option<String>> {
    let mut file = match fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut hash = Sha256::new();
    loop {
        let read = file.read(buffer)?;
        if read == 0 {
            return Ok(Some(hex(&hash.finalize())));
        }
        hash.update(&buffer[..read]);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_come_first_then_pages_then_the_front_pages() {
        assert_eq!(tier("media/ab/abcdef.jpg"), Tier::Asset);
        assert_eq!(tier("style.css"), Tier::Asset);
        assert_eq!(tier("posts/hello/index.html"), Tier::Page);
        assert_eq!(tier("page/2/index.html"), Tier::Page);
        assert_eq!(tier("404.html"), Tier::Page);
        for front in ["index.html", "feed.xml", "feed.json", "sitemap.xml", "robots.txt"] {
            assert_eq!(tier(front), Tier::Front, "{front}");
        }
        assert!(Tier::Asset < Tier::Page && Tier::Page < Tier::Front);
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type("posts/a/index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("feed.xml"), "application/atom+xml; charset=utf-8");
        assert_eq!(content_type("sitemap.xml"), "application/xml; charset=utf-8");
        assert_eq!(content_type("feed.json"), "application/feed+json; charset=utf-8");
        assert_eq!(content_type("media/ab/ab.JPG"), "image/jpeg");
        assert_eq!(content_type("style.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
        assert!(immutable("media/ab/ab.png") && !immutable("style.css"));
    }

    #[test]
    fn a_scan_lists_files_by_key_without_dot_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        fs::create_dir_all(root.join("posts/hello")).expect("mkdir");
        fs::create_dir_all(root.join(".hidden")).expect("mkdir");
        fs::write(root.join("index.html"), "home").expect("write");
        fs::write(root.join("posts/hello/index.html"), "hello").expect("write");
        fs::write(root.join(".quire-manifest.json"), "{}").expect("write");
        fs::write(root.join(".hidden/x"), "x").expect("write");
        let files = scan(root).expect("scan");
        let keys: Vec<_> = files.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["index.html", "posts/hello/index.html"]);
        assert_eq!(files[1].size, 5);
        let mut buffer = [0u8; 3];
        let hash = hash_file(&files[1].path, &mut buffer).expect("hash");
        assert_eq!(hash.as_deref(), Some(sha256_hex(b"hello").as_str()));
        assert_eq!(hash_file(&root.join("gone"), &mut buffer).expect("gone"), None);
    }
}
