//! The site's manifest, `<data>/site/.quire-manifest.json`: the `seq` of the last event the
//! files on disk reflect and a fingerprint of the settings and Quire version they were rendered
//! with.
//!
//! It is replaced atomically (temporary file, fsync, rename, fsync of the folder) and only
//! *after* the pages of its `seq` are on disk, so after a crash it may lag behind the pages,
//! never run ahead of them: re-applying events is harmless, skipping them is not. Living inside
//! the site folder means deleting that folder starts a full render. Its name starts with a dot,
//! and Quire never serves dot files.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};

use quire_render::SiteConfig;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::error::{Result, SiteError};

/// The manifest's file name inside the site folder.
pub const FILE_NAME: &str = ".quire-manifest.json";

/// Where the rendered site stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The last event the files reflect.
    pub seq: u64,
    /// [`fingerprint`] of the settings the files were rendered with.
    pub fingerprint: String,
}

/// Identifies everything besides the log that changes every page: the settings and the
/// renderer (its templates ship with each Quire version). A different fingerprint means a
/// full render.
pub fn fingerprint(config: &SiteConfig) -> String {
    let mut hash = Sha256::new();
    hash.update(env!("CARGO_PKG_VERSION").as_bytes());
    hash.update([0]);
    // What the site's files are made of; a new kind (data pages) renders everything once.
    hash.update(b"posts+data-pages");
    hash.update([0]);
    hash.update(quire_render::STYLESHEET.as_bytes());
    hash.update([0]);
    hash.update(serde_json::to_vec(config).unwrap_or_default());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The manifest file of the site in `dir`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

impl Manifest {
    /// Reads the manifest of the site in `dir`. A missing or unreadable one is `None`: the
    /// projection then renders everything, which repairs whatever state the folder is in.
    pub fn load(dir: &Path) -> Result<Option<Manifest>> {
        let file = path(dir);
        match fs::read(&file) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(manifest) => Ok(Some(manifest)),
                Err(error) => {
                    tracing::warn!(%error, file = %file.display(), "unreadable site manifest; rendering everything");
                    Ok(None)
                }
            },
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(source) => Err(SiteError::Manifest { path: file, source }),
        }
    }

    /// Replaces the manifest of the site in `dir` atomically and durably.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let file = path(dir);
        let temp = dir.join(format!("{FILE_NAME}.{}.tmp", std::process::id()));
        let bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        let write = || -> std::io::Result<()> {
            fs::create_dir_all(dir)?;
            let mut out = OpenOptions::new().write(true).create(true).truncate(true).open(&temp)?;
            out.write_all(&bytes)?;
            out.sync_all()?;
            fs::rename(&temp, &file)?;
            File::open(dir)?.sync_all()
        };
        write().map_err(|source| {
            // Best effort: the error being returned is the one that matters.
            let _ = fs::remove_file(&temp);
            SiteError::Manifest { path: file, source }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads_and_replaces() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(Manifest::load(dir.path()).expect("load"), None);
        let first = Manifest {
            seq: 3,
            fingerprint: "abc".into(),
        };
        first.save(dir.path()).expect("save");
        assert_eq!(Manifest::load(dir.path()).expect("load"), Some(first));
        let second = Manifest {
            seq: 9,
            fingerprint: "abc".into(),
        };
        second.save(dir.path()).expect("save");
        assert_eq!(Manifest::load(dir.path()).expect("load"), Some(second));
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, [FILE_NAME], "no temporary file is left behind");
    }

    #[test]
    fn a_corrupt_manifest_means_render_everything() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(path(dir.path()), b"{\"seq\": 4, \"fing").expect("write");
        assert_eq!(Manifest::load(dir.path()).expect("load"), None);
    }

    #[test]
    fn fingerprint_follows_the_settings() {
        let config = SiteConfig::default();
        let other = SiteConfig {
            title: "Other".into(),
            ..SiteConfig::default()
        };
        assert_eq!(fingerprint(&config), fingerprint(&config.clone()));
        assert_ne!(fingerprint(&config), fingerprint(&other));
        assert_eq!(fingerprint(&config).len(), 64);
    }
}
