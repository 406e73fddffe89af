//! `quire-web-client`: the browser and phone editor, embedded into the `quire` binary.
//!
//! The editor is plain HTML, CSS and ES modules under `assets/` — no build step — so what is in
//! the repository is what the browser runs. This crate embeds those files (also in debug
//! builds, so the binary under test is the binary that ships) and answers the HTTP layer's two
//! questions: what bytes and what media type does a path have, and what is its validator.
//!
//! The service worker is the one file that is not served verbatim: its cache name and its list
//! of files to keep offline are filled in from the embedded assets, so any change to any asset
//! changes `sw.js`, which is how browsers learn that a new version of the editor exists.

use std::borrow::Cow;
use std::sync::OnceLock;

use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

/// Type declarations (`*.d.ts`, for `tsc --checkJs` only) and notes (`*.md`) stay out.
#[derive(RustEmbed)]
#[folder = "assets/"]
#[exclude = "*.d.ts"]
#[exclude = "*.md"]
struct Assets;

/// The service worker's path; its placeholders are filled in when it is served.
const SERVICE_WORKER: &str = "sw.js";
/// Replaced in `sw.js` by a hash of every asset.
const VERSION_PLACEHOLDER: &str = "__QUIRE_ASSETS_VERSION__";
/// Replaced in `sw.js` by a JSON array of the files the app shell needs offline.
const LIST_PLACEHOLDER: &str = "\"__QUIRE_ASSETS_LIST__\"";

/// One editor file, ready to send.
#[derive(Debug, Clone)]
pub struct Asset {
    /// The file's bytes.
    pub bytes: Cow<'static, [u8]>,
    /// Media type for `Content-Type`.
    pub mime: &'static str,
    /// Strong validator for `ETag` (hex SHA-256 prefix of the bytes as served).
    pub etag: String,
}

/// The asset at `path` (relative to `/editor/`, e.g. `js/app.js`); `""` is `index.html`.
pub fn asset(path: &str) -> Option<Asset> {
    let path = if path.is_empty() { "index.html" } else { path };
    if path == SERVICE_WORKER {
        let sw = service_worker();
        return Some(Asset {
            bytes: Cow::Borrowed(sw.0.as_bytes()),
            mime: mime(path),
            etag: sw.1.clone(),
        });
    }
    let file = Assets::get(path)?;
    let etag = hex(&file.metadata.sha256_hash()[..12]);
    Some(Asset {
        bytes: file.data,
        mime: mime(path),
        etag,
    })
}

/// Every embedded path, sorted.
pub fn paths() -> Vec<String> {
    let mut paths: Vec<String> = Assets::iter().map(|p| p.into_owned()).collect();
    paths.sort();
    paths
}

/// A hash of every asset: changes whenever any file of the editor changes.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hash = Sha256::new();
        for path in paths() {
            if let Some(file) = Assets::get(&path) {
                hash.update(path.as_bytes());
                hash.update([0]);
                hash.update(file.metadata.sha256_hash());
            }
        }
        hex(&hash.finalize()[..8])
    })
}

/// `sw.js` with its placeholders filled in, and its ETag.
fn service_worker() -> &'static (String, String) {
    static SW: OnceLock<(String, String)> = OnceLock::new();
    SW.get_or_init(|| {
        let source = Assets::get(SERVICE_WORKER)
            .map(|f| String::from_utf8_lossy(&f.data).into_owned())
            .unwrap_or_default();
        let shell: Vec<String> = paths()
            .into_iter()
            .filter(|p| p != SERVICE_WORKER)
            .map(|p| {
                if p == "index.html" {
                    "./".to_owned()
                } else {
                    format!("./{p}")
                }
            })
            .collect();
        let list = format!(
            "[{}]",
            shell.iter().map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join(", ")
        );
        let text = source
            .replace(VERSION_PLACEHOLDER, version())
            .replace(LIST_PLACEHOLDER, &list);
        let etag = hex(&Sha256::digest(text.as_bytes())[..12]);
        (text, etag)
    })
}

/// The media type of a file, from its extension.
fn mime(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_is_the_default_and_html() {
        let index = asset("").expect("index.html is embedded");
        assert_eq!(index.mime, "text/html; charset=utf-8");
        assert!(String::from_utf8_lossy(&index.bytes).contains("<html"));
    }

    #[test]
    fn unknown_paths_are_none() {
        assert!(asset("nope.js").is_none());
        assert!(asset("../Cargo.toml").is_none());
    }

    #[test]
    fn service_worker_lists_every_other_asset_and_has_a_version() {
        let sw = asset("sw.js").expect("sw.js is embedded");
        let text = String::from_utf8_lossy(&sw.bytes);
        assert!(!text.contains("__QUIRE_ASSETS"), "placeholders are filled in");
        assert!(text.contains(version()));
        assert!(text.contains("\"./js/app.js\""));
        assert!(text.contains("\"./\""));
        assert!(!text.contains("\"./sw.js\""));
        assert_eq!(sw.mime, "text/javascript; charset=utf-8");
    }

    #[test]
    fn every_asset_has_a_known_type() {
        for path in paths() {
            assert_ne!(mime(&path), "application/octet-stream", "{path} needs a media type");
        }
    }
}
