//! The hot pages of the site, kept in memory with their `ETag` and a gzip variant, so serving
//! them costs no file-system work and no hop to the blocking pool.
//!
//! The cache is bounded in bytes (`site.cache_mb`), least recently used first out. It never
//! serves a stale page: the site projection, which knows exactly which files it wrote or
//! removed, drops their entries right after each batch ([`SiteCache::invalidate`]). Only
//! regular files of the site are cached (not redirects or the 404 answer), each under the
//! request path that found it.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use sha2::{Digest, Sha256};

/// Files larger than this are served from disk, never cached.
const MAX_ENTRY_BYTES: usize = 512 * 1024;
/// Below this a gzip variant is not worth its bytes.
const MIN_GZIP_BYTES: usize = 256;

/// One cached file.
#[derive(Debug)]
pub struct CachedPage {
    /// The file it came from (canonical), to drop it when the file changes.
    pub file: PathBuf,
    pub body: actix_web::web::Bytes,
    /// The same bytes gzip-compressed, when smaller.
    pub gzip: Option<actix_web::web::Bytes>,
    /// Strong validator: a hash of `body`, quoted.
    pub etag: String,
    pub content_type: String,
    pub cache_control: &'static str,
    /// The file's modification time as an HTTP date, when known.
    pub last_modified: Option<String>,
}

impl CachedPage {
    /// Makes an entry for `file` with `body`; `None` if it is too large to keep.
    pub fn new(file: PathBuf, body: Vec<u8>, content_type: String, cache_control: &'static str) -> Option<Self> {
        if body.len() > MAX_ENTRY_BYTES {
            return None;
        }
        let digest = Sha256::digest(&body);
        let etag = format!(
            "\"{}\"",
            digest[..12].iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let gzip = (body.len() >= MIN_GZIP_BYTES)
            .then(|| gzip(&body))
            .flatten()
            .filter(|g| g.len() < body.len())
            .map(actix_web::web::Bytes::from);
        Some(Self {
            file,
            body: body.into(),
            gzip,
            etag,
            content_type,
            cache_control,
            last_modified: None,
        })
    }

    fn size(&self) -> usize {
        self.body.len() + self.gzip.as_ref().map_or(0, |g| g.len()) + self.file.as_os_str().len() + 128
    }
}

fn gzip(body: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(body).ok()?;
    encoder.finish().ok()
}

#[derive(Debug, Default)]
struct Entries {
    by_path: HashMap<String, (Arc<CachedPage>, u64)>,
    bytes: usize,
    tick: u64,
    /// Moves on every invalidation: a page read before one may be stale and is not kept.
    generation: u64,
}

/// The cache; shared between the handlers and the site projection.
#[derive(Debug)]
pub struct SiteCache {
    capacity: usize,
    entries: Mutex<Entries>,
}

impl SiteCache {
    /// A cache of at most `capacity` bytes (0 turns it off).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The entry for request path `path`, if cached.
    pub fn get(&self, path: &str) -> Option<Arc<CachedPage>> {
        let mut entries = self.lock();
        entries.tick += 1;
        let tick = entries.tick;
        let (page, used) = entries.by_path.get_mut(path)?;
        *used = tick;
        Some(page.clone())
    }

    /// The current generation: read it before reading a file, hand it to [`SiteCache::insert`].
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Keeps `page` under request path `path`, making room by dropping the least recently used
    /// — unless files changed since `generation` was read (the page may be an old version).
    pub fn insert(&self, path: String, page: Arc<CachedPage>, generation: u64) {
        let size = page.size();
        if size > self.capacity {
            return;
        }
        let mut entries = self.lock();
        if entries.generation != generation {
            return;
        }
        entries.tick += 1;
        let tick = entries.tick;
        if let Some((old, _)) = entries.by_path.insert(path, (page, tick)) {
            entries.bytes -= old.size();
        }
        entries.bytes += size;
        while entries.bytes > self.capacity {
            let Some(oldest) = entries
                .by_path
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some((gone, _)) = entries.by_path.remove(&oldest) {
                entries.bytes -= gone.size();
            }
        }
    }

    /// Drops every entry served from one of `files` (paths relative to the site folder `root`).
    pub fn invalidate(&self, root: &Path, files: impl IntoIterator<Item = String>) {
        let Ok(root) = root.canonicalize() else {
            return self.clear();
        };
        let files: Vec<PathBuf> = files.into_iter().map(|f| root.join(f)).collect();
        if files.is_empty() {
            return;
        }
        let mut entries = self.lock();
        entries.generation += 1;
        let stale: Vec<String> = entries
            .by_path
            .iter()
            .filter(|(_, (page, _))| files.iter().any(|f| *f == page.file))
            .map(|(path, _)| path.clone())
            .collect();
        for path in stale {
            if let Some((gone, _)) = entries.by_path.remove(&path) {
                entries.bytes -= gone.size();
            }
        }
    }

    /// Drops everything.
    pub fn clear(&self) {
        let mut entries = self.lock();
        entries.generation += 1;
        entries.by_path.clear();
        entries.bytes = 0;
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(file: &Path, body: &str) -> Arc<CachedPage> {
        let page = CachedPage::new(
            file.to_owned(),
            body.as_bytes().to_vec(),
            "text/html".into(),
            "no-cache",
        );
        Arc::new(page.expect("small page"))
    }

    #[test]
    fn keeps_pages_within_its_bytes_and_drops_the_least_recently_used() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = SiteCache::new(3 * (1000 + 200));
        for n in 0..3 {
            cache.insert(
                format!("/{n}/"),
                page(&dir.path().join(format!("{n}")), &"x".repeat(1000)),
                0,
            );
        }
        assert!(cache.get("/0/").is_some(), "touched: now the most recent");
        cache.insert("/3/".into(), page(&dir.path().join("3"), &"y".repeat(1000)), 0);
        assert!(cache.get("/1/").is_none(), "the least recently used went");
        assert!(cache.get("/0/").is_some() && cache.get("/3/").is_some());
        assert!(cache.bytes() <= 3 * 1200);
    }

    #[test]
    fn a_written_file_drops_every_path_it_was_served_under() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().canonicalize().expect("root");
        let file = root.join("posts/a/index.html");
        let cache = SiteCache::new(1 << 20);
        let before = cache.generation();
        cache.insert("/posts/a/".into(), page(&file, "old"), before);
        cache.insert("/posts/a/index.html".into(), page(&file, "old"), before);
        cache.insert("/".into(), page(&root.join("index.html"), "home"), before);
        cache.invalidate(&root, ["posts/a/index.html".to_owned()]);
        assert!(cache.get("/posts/a/").is_none() && cache.get("/posts/a/index.html").is_none());
        assert!(cache.get("/").is_some(), "other pages stay");
        cache.insert("/posts/a/".into(), page(&file, "read before the write"), before);
        assert!(
            cache.get("/posts/a/").is_none(),
            "a page read before an invalidation is not kept"
        );
    }

    #[test]
    fn etags_follow_the_bytes_and_gzip_is_kept_when_smaller() {
        let a = page(Path::new("/a"), &"hello ".repeat(100));
        let b = page(Path::new("/b"), &"hello ".repeat(100));
        let c = page(Path::new("/c"), "other");
        assert_eq!(a.etag, b.etag);
        assert_ne!(a.etag, c.etag);
        assert!(a.gzip.as_ref().is_some_and(|g| g.len() < a.body.len()));
        assert!(c.gzip.is_none(), "too small to compress");
    }
}
