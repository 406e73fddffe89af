//! The content-addressed store of media bytes, `<data>/media/`.
//!
//! A file is named by the SHA-256 of its bytes and fanned out by the first two hex digits:
//! `media/ab/abcdef….jpg`. It is written to a temporary file, fsynced, renamed into place and
//! its folder fsynced, all before the event that names it is appended: an acknowledged upload
//! always has its bytes. The same bytes are stored once. Bytes never go into sled, and they stay
//! after `MediaDeleted` (there is no sweep yet). Uploads in progress wait in `media/tmp/`.

use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// The media folder.
#[derive(Debug, Clone)]
pub struct MediaBlobs {
    dir: PathBuf,
}

/// The hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `name` is `<64 hex>.<jpg|png|csv>`, the only names the store hands out (`csv`:
/// dataset files, which `/media/` does not serve).
pub fn valid_file_name(name: &str) -> bool {
    let Some((hash, ext)) = name.split_once('.') else {
        return false;
    };
    hash.len() == 64
        && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && (super::model::content_type_of(ext).is_some() || ext == "csv")
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let context = context.into();
    move |source| Error::Io { context, source }
}

impl MediaBlobs {
    /// The store in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The media folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the file `<hash>.<ext>` lives (whether or not it exists); `None` for a name the
    /// store never makes, so a request path cannot reach outside the folder.
    pub fn path_of(&self, file_name: &str) -> Option<PathBuf> {
        valid_file_name(file_name).then(|| self.dir.join(&file_name[..2]).join(file_name))
    }

    /// A fresh path for an upload in progress, in `media/tmp/` (the folder is created).
    pub fn temp_path(&self) -> Result<PathBuf> {
        let tmp = self.dir.join("tmp");
        fs::create_dir_all(&tmp).map_err(io(format!("creating {}", tmp.display())))?;
        Ok(tmp.join(format!("{}.upload", ulid::Ulid::new())))
    }

    /// Removes uploads a crash left in `media/tmp/`; returns how many. Call it only while no
    /// upload can be running (at start, with the log's lock held).
    pub fn clear_temp(&self) -> Result<usize> {
        let tmp = self.dir.join("tmp");
        let Ok(entries) = fs::read_dir(&tmp) else {
            return Ok(0);
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            fs::remove_file(entry.path()).map_err(io(format!("removing {}", entry.path().display())))?;
            removed += 1;
        }
        Ok(removed)
    }

    /// Stores `bytes` as `<sha256>.<ext>` durably; returns the hash. Bytes already stored are
    /// not written again.
    pub fn put(&self, bytes: &[u8], ext: &str) -> Result<String> {
        let hash = sha256_hex(bytes);
        let name = format!("{hash}.{ext}");
        let target = self
            .path_of(&name)
            .ok_or_else(|| Error::invalid("content_type", format!("Quire does not store .{ext} files")))?;
        if target.exists() {
            return Ok(hash);
        }
        let folder = target.parent().unwrap_or(&self.dir).to_path_buf();
        fs::create_dir_all(&folder).map_err(io(format!("creating {}", folder.display())))?;
        let temp = self.temp_path()?;
        let written = (|| {
            let mut file = File::create(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&temp, &target)?;
            File::open(&folder)?.sync_all()?;
            File::open(&self.dir)?.sync_all()
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written.map_err(io(format!("storing {}", target.display())))?;
        Ok(hash)
    }

    /// The bytes of `<hash>.<ext>`, or `None` if the store does not have them.
    pub fn read(&self, file_name: &str) -> Result<Option<Vec<u8>>> {
        let Some(path) = self.path_of(file_name) else {
            return Ok(None);
        };
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(format!("reading {}", path.display()))(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_are_stored_once_under_their_hash() {
        let dir = tempfile::tempdir().expect("temp dir");
        let blobs = MediaBlobs::new(dir.path().join("media"));
        let a = blobs.put(b"pixels", "png").expect("stored");
        let b = blobs.put(b"pixels", "png").expect("stored again");
        assert_eq!(a, b);
        let name = format!("{a}.png");
        let path = blobs.path_of(&name).expect("valid name");
        assert!(path.starts_with(dir.path().join("media").join(&a[..2])));
        assert_eq!(blobs.read(&name).expect("read"), Some(b"pixels".to_vec()));
        let files = fs::read_dir(path.parent().expect("fan-out folder"))
            .expect("list")
            .count();
        assert_eq!(files, 1);
        assert!(blobs.path_of("../../etc/passwd").is_none());
        assert!(blobs.path_of(&format!("{a}.svg")).is_none());
    }
}
