//! Crash-safe file output.
//!
//! A page is replaced by writing a temporary file next to it and renaming it over the page: a
//! reader sees the old page or the new one, never half of one. [`Sync::Now`] also fsyncs the file
//! and its folder, so after a crash the page is one or the other too; [`Sync::Later`] leaves that
//! to one [`sync_filesystem`] after a whole batch of pages (one flush instead of two per page,
//! and no thread per concurrent fsync), which is enough for pages the site projection writes
//! again from the log if it crashes before the batch was synced. Unchanged pages are not written
//! at all, which keeps a full rebuild cheap (and avoids the slow delete-then-create path of
//! ext4). One writer per output folder is assumed: the site projection.

use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// What the temporary files of this module end with; see [`is_temp_file`].
const TEMP_SUFFIX: &str = ".quire-tmp";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// When a write reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sync {
    /// Before the call returns (the file and its folder are fsynced).
    Now,
    /// At the caller's next [`sync_filesystem`].
    Later,
}

/// Writes `bytes` to `root/rel` atomically unless the file already holds exactly them.
/// Returns whether the file was written.
pub(crate) fn write_if_changed(root: &Path, rel: &str, bytes: &[u8], sync: Sync) -> Result<bool> {
    let path = root.join(rel);
    if same_content(&path, bytes)? {
        return Ok(false);
    }
    replace(root, &path, sync, |temp| write_temp(temp, bytes, sync))?;
    Ok(true)
}

/// Puts a new `path` (under `root`) in place atomically: `fill` writes a temporary file next to
/// it (and fsyncs it if `sync` is [`Sync::Now`]), which is renamed over `path`; the folder is
/// fsynced too for [`Sync::Now`]. A failed `fill` or rename leaves no temporary file.
fn replace(root: &Path, path: &Path, sync: Sync, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let dir = path.parent().unwrap_or(root);
    create_dirs(dir, sync)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp = dir.join(format!(".{name}.{}.{n}{TEMP_SUFFIX}", std::process::id()));
    let result =
        fill(&temp).and_then(|()| fs::rename(&temp, path).map_err(|e| Error::io("rename into place", path, e)));
    if result.is_err() {
        // Best effort: the error being returned is the one that matters.
        let _ = fs::remove_file(&temp);
    }
    result?;
    if sync == Sync::Now {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Makes every write to the filesystem holding `root` durable (`syncfs`): the end of a batch of
/// [`Sync::Later`] writes.
pub(crate) fn sync_filesystem(root: &Path) -> Result<()> {
    let dir = File::open(root).map_err(|e| Error::io("open", root, e))?;
    rustix::fs::syncfs(&dir).map_err(|e| Error::io("sync the filesystem of", root, e.into()))
}

/// Copies the file `src` to `root/rel` atomically unless `root/rel` already holds the same
/// bytes (compared in chunks, so memory does not follow the file's size). Returns whether the
/// file was written.
pub(crate) fn copy_if_changed(root: &Path, rel: &str, src: &Path) -> Result<bool> {
    let path = root.join(rel);
    if same_file_content(&path, src)? {
        return Ok(false);
    }
    replace(root, &path, Sync::Now, |temp| {
        fs::copy(src, temp).map_err(|e| Error::io("copy into temp file", temp, e))?;
        File::open(temp)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io("fsync temp file", temp, e))
    })?;
    Ok(true)
}

/// Removes the folder `root/rel` with everything in it; returns whether it existed.
pub(crate) fn remove_tree(root: &Path, rel: &str) -> Result<bool> {
    let path = root.join(rel);
    match fs::remove_dir_all(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io("remove folder", &path, e)),
    }
    sync_dir(path.parent().unwrap_or(root))?;
    Ok(true)
}

fn same_file_content(path: &Path, src: &Path) -> Result<bool> {
    let (Ok(a), Ok(b)) = (fs::metadata(path), fs::metadata(src)) else {
        return Ok(false);
    };
    if !a.is_file() || a.len() != b.len() {
        return Ok(false);
    }
    let open = |p: &Path| File::open(p).map_err(|e| Error::io("read", p, e));
    let (mut x, mut y) = (open(path)?, open(src)?);
    let (mut bx, mut by) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        let n = read_full(&mut x, &mut bx).map_err(|e| Error::io("read", path, e))?;
        let m = read_full(&mut y, &mut by).map_err(|e| Error::io("read", src, e))?;
        if n != m || bx[..n] != by[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

/// Reads until `buf` is full or the file ends.
fn read_full(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    use std::io::Read as _;
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Removes `root/rel` if it exists, then its folder if that is now empty (not `root`).
/// Returns whether the file existed.
pub(crate) fn remove_page(root: &Path, rel: &str, sync: Sync) -> Result<bool> {
    let path = root.join(rel);
    match fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io("remove", &path, e)),
    }
    let dir = path.parent().unwrap_or(root);
    if sync == Sync::Now {
        sync_dir(dir)?;
    }
    if dir != root {
        match fs::remove_dir(dir) {
            Ok(()) => {
                if let (Some(parent), Sync::Now) = (dir.parent(), sync) {
                    sync_dir(parent)?;
                }
            }
            // Something else lives there too (or a leftover temp file): keep the folder.
            Err(e) if matches!(e.kind(), ErrorKind::DirectoryNotEmpty | ErrorKind::NotFound) => {}
            Err(e) => return Err(Error::io("remove folder", dir, e)),
        }
    }
    Ok(true)
}

/// Removes the temporary files a crash may have left in `dir` (not recursive).
pub(crate) fn sweep_temp_files(dir: &Path) -> Result<usize> {
    let mut removed = 0;
    for entry in list_dir(dir)? {
        if is_temp_file(&entry) {
            fs::remove_file(&entry).map_err(|e| Error::io("remove temp file", &entry, e))?;
            removed += 1;
        }
    }
    if removed > 0 {
        sync_dir(dir)?;
    }
    Ok(removed)
}

/// Whether `path` is one of this module's temporary files.
pub(crate) fn is_temp_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') && n.ends_with(TEMP_SUFFIX))
}

/// The entries of `dir`; empty if it does not exist.
pub(crate) fn list_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("list folder", dir, e)),
    };
    entries
        .map(|entry| entry.map(|e| e.path()).map_err(|e| Error::io("list folder", dir, e)))
        .collect()
}

fn same_content(path: &Path, bytes: &[u8]) -> Result<bool> {
    match fs::metadata(path) {
        Ok(meta) if meta.is_file() && meta.len() == bytes.len() as u64 => {}
        Ok(_) => return Ok(false),
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io("inspect", path, e)),
    }
    match fs::read(path) {
        Ok(existing) => Ok(existing == bytes),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

fn write_temp(temp: &Path, bytes: &[u8], sync: Sync) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(temp)
        .map_err(|e| Error::io("create temp file", temp, e))?;
    file.write_all(bytes)
        .map_err(|e| Error::io("write temp file", temp, e))?;
    match sync {
        Sync::Now => file.sync_all().map_err(|e| Error::io("fsync temp file", temp, e)),
        Sync::Later => Ok(()),
    }
}

/// Creates `dir` and its missing ancestors. With [`Sync::Now`] each parent is fsynced so the new
/// folders survive a crash along with the files put in them; with [`Sync::Later`] the batch's
/// [`sync_filesystem`] makes them durable (a new post's folder used to cost an fsync of the
/// `posts/` folder on its own, a tenth of the server's CPU in a burst of creates).
fn create_dirs(dir: &Path, sync: Sync) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dirs(parent, sync)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists && dir.is_dir() => return Ok(()),
        Err(e) => return Err(Error::io("create folder", dir, e)),
    }
    match dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) if sync == Sync::Now => sync_dir(parent),
        _ => Ok(()),
    }
}

/// fsyncs a folder, making renames, creations and removals in it durable.
fn sync_dir(dir: &Path) -> Result<()> {
    let sync = |dir: &Path| -> io::Result<()> { File::open(dir)?.sync_all() };
    sync(dir).map_err(|e| Error::io("fsync folder", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = list_dir(dir)
            .expect("list")
            .iter()
            .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn copies_only_changed_files_and_removes_trees() {
        let root = tempfile::tempdir().expect("tempdir");
        let src = root.path().join("source.csv");
        fs::write(&src, b"a,b\n1,2\n").expect("write source");
        assert!(copy_if_changed(root.path(), "data/x.csv", &src).expect("copy"));
        assert!(!copy_if_changed(root.path(), "data/x.csv", &src).expect("same"));
        fs::write(&src, b"a,b\n1,3\n").expect("same length, other bytes");
        assert!(copy_if_changed(root.path(), "data/x.csv", &src).expect("changed"));
        assert_eq!(fs::read(root.path().join("data/x.csv")).expect("read"), b"a,b\n1,3\n");
        assert_eq!(files(&root.path().join("data")), ["x.csv"], "no temp file left");
        assert!(write_if_changed(root.path(), "data/x/page/2/index.html", b"p", Sync::Now).expect("page"));
        assert!(remove_tree(root.path(), "data/x").expect("remove"));
        assert!(!remove_tree(root.path(), "data/x").expect("gone"));
        assert_eq!(files(&root.path().join("data")), ["x.csv"]);
    }

    #[test]
    fn writes_atomically_and_skips_unchanged_files() {
        for sync in [Sync::Now, Sync::Later] {
            let root = tempfile::tempdir().expect("tempdir");
            assert!(write_if_changed(root.path(), "a/b/index.html", b"one", sync).expect("write"));
            assert!(!write_if_changed(root.path(), "a/b/index.html", b"one", sync).expect("same"));
            assert!(write_if_changed(root.path(), "a/b/index.html", b"two", sync).expect("change"));
            assert!(write_if_changed(root.path(), "a/b/index.html", b"three", sync).expect("longer"));
            sync_filesystem(root.path()).expect("syncfs");
            let content = fs::read(root.path().join("a/b/index.html")).expect("read");
            assert_eq!(content, b"three");
            assert_eq!(files(&root.path().join("a/b")), ["index.html"], "{sync:?}");
        }
    }

    #[test]
    fn unchanged_files_are_not_touched() {
        let root = tempfile::tempdir().expect("tempdir");
        write_if_changed(root.path(), "x.txt", b"same", Sync::Now).expect("write");
        let path = root.path().join("x.txt");
        let inode = |p: &Path| {
            use std::os::unix::fs::MetadataExt;
            fs::metadata(p).expect("metadata").ino()
        };
        let before = inode(&path);
        assert!(!write_if_changed(root.path(), "x.txt", b"same", Sync::Now).expect("again"));
        assert_eq!(inode(&path), before, "an unchanged file keeps its inode");
        assert!(write_if_changed(root.path(), "x.txt", b"new!", Sync::Now).expect("change"));
        assert_ne!(inode(&path), before, "a changed file is replaced by rename");
    }

    #[test]
    fn removing_a_page_removes_its_empty_folder() {
        let root = tempfile::tempdir().expect("tempdir");
        write_if_changed(root.path(), "posts/a/index.html", b"a", Sync::Now).expect("write");
        write_if_changed(root.path(), "posts/b/index.html", b"b", Sync::Later).expect("write");
        assert!(remove_page(root.path(), "posts/a/index.html", Sync::Later).expect("remove"));
        assert!(!remove_page(root.path(), "posts/a/index.html", Sync::Now).expect("again"));
        assert_eq!(files(&root.path().join("posts")), ["b"]);
    }

    #[test]
    fn sweeps_leftover_temp_files() {
        let root = tempfile::tempdir().expect("tempdir");
        let leftover = root.path().join(".index.html.1.2.quire-tmp");
        fs::write(&leftover, b"half a pa").expect("write");
        fs::write(root.path().join("keep.html"), b"x").expect("write");
        assert_eq!(sweep_temp_files(root.path()).expect("sweep"), 1);
        assert_eq!(files(root.path()), ["keep.html"]);
    }
}
