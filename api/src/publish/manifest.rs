//! What the bucket holds, as far as Quire knows: `<data>/publish/manifest.json` (key → SHA-256,
//! size and modification time of the file uploaded, the target it was uploaded to, and the
//! site seq of the last complete publish) plus `journal.jsonl`, one line per upload or delete
//! since the manifest was last written.
//!
//! A line is appended right after the bucket confirmed the request, so the journal never
//! claims more than the bucket holds; a crash loses at most the last unflushed lines, whose
//! files are uploaded again (same bytes, harmless). At the end of each publish the manifest is
//! rewritten atomically and the journal emptied. The seq moves only then, so a publish cut
//! short by a crash or shutdown is completed on the next start — without re-uploading what
//! the journal already records.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead as _, BufReader, ErrorKind, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One object as uploaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Hex SHA-256 of the bytes uploaded.
    pub sha256: String,
    /// Size of the local file then.
    pub size: u64,
    /// Modification time of the local file then (ns since the epoch).
    pub modified_ns: u64,
}

/// The manifest file's content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Saved {
    target: String,
    seq: u64,
    objects: BTreeMap<String, Entry>,
}

/// A journal line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
enum Line {
    Put { key: String, entry: Entry },
    Delete { key: String },
}

/// The bucket's manifest with its journal, open for recording.
#[derive(Debug)]
pub struct BucketManifest {
    dir: PathBuf,
    saved: Saved,
    journal: Option<File>,
}

impl BucketManifest {
    /// Loads the manifest in `dir` for `target` (a description of endpoint, bucket and
    /// prefix): `None` when there is none or it was written for another target, which calls
    /// for a full sync.
    pub fn load(dir: &Path, target: &str) -> std::io::Result<Option<Self>> {
        let saved: Saved = match fs::read(dir.join("manifest.json")) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(saved) => saved,
                Err(error) => {
                    tracing::warn!(%error, "unreadable publish manifest; publishing everything");
                    return Ok(None);
                }
            },
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if saved.target != target {
            return Ok(None);
        }
        let mut this = Self {
            dir: dir.to_path_buf(),
            saved,
            journal: None,
        };
        this.replay()?;
        Ok(Some(this))
    }

    /// An empty manifest for `target` (nothing known to be in the bucket), not yet saved.
    pub fn empty(dir: &Path, target: &str) -> Self {
        Self {
            dir: dir.to_path_buf(),
            saved: Saved {
                target: target.to_owned(),
                ..Saved::default()
            },
            journal: None,
        }
    }

    fn replay(&mut self) -> std::io::Result<()> {
        let file = match File::open(self.dir.join("journal.jsonl")) {
            Ok(file) => file,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        for line in BufReader::new(file).lines() {
            // A torn last line (a crash mid-write) ends the journal.
            let Ok(line) = serde_json::from_str::<Line>(&line?) else {
                break;
            };
            match line {
                Line::Put { key, entry } => self.saved.objects.insert(key, entry),
                Line::Delete { key } => self.saved.objects.remove(&key),
            };
        }
        Ok(())
    }

    /// The folder of the manifest and its journal.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The site seq of the last complete publish.
    pub fn seq(&self) -> u64 {
        self.saved.seq
    }

    /// What the bucket holds.
    pub fn objects(&self) -> &BTreeMap<String, Entry> {
        &self.saved.objects
    }

    /// Records an upload the bucket confirmed.
    pub fn put(&mut self, key: &str, entry: Entry) -> std::io::Result<()> {
        self.append(&Line::Put {
            key: key.to_owned(),
            entry: entry.clone(),
        })?;
        self.saved.objects.insert(key.to_owned(), entry);
        Ok(())
    }

    /// Records a delete the bucket confirmed.
    pub fn delete(&mut self, key: &str) -> std::io::Result<()> {
        self.append(&Line::Delete { key: key.to_owned() })?;
        self.saved.objects.remove(key);
        Ok(())
    }

    fn append(&mut self, line: &Line) -> std::io::Result<()> {
        let journal = match &mut self.journal {
            Some(journal) => journal,
            None => {
                fs::create_dir_all(&self.dir)?;
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(self.dir.join("journal.jsonl"))?;
                self.journal.insert(file)
            }
        };
        let mut bytes = serde_json::to_vec(line).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        journal.write_all(&bytes)
    }

    /// Writes the manifest with `seq` atomically and durably, then empties the journal.
    pub fn complete(&mut self, seq: u64) -> std::io::Result<()> {
        self.saved.seq = seq;
        fs::create_dir_all(&self.dir)?;
        let (file, temp) = (self.dir.join("manifest.json"), self.dir.join("manifest.json.tmp"));
        let mut out = OpenOptions::new().write(true).create(true).truncate(true).open(&temp)?;
        out.write_all(&serde_json::to_vec(&self.saved).map_err(std::io::Error::other)?)?;
        out.sync_all()?;
        fs::rename(&temp, &file)?;
        self.journal = None;
        match fs::remove_file(self.dir.join("journal.jsonl")) {
            Err(e) if e.kind() != ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        File::open(&self.dir)?.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(sha: &str) -> Entry {
        Entry {
            sha256: sha.into(),
            size: 1,
            modified_ns: 2,
        }
    }

    #[test]
    fn the_journal_carries_uploads_over_a_crash_until_the_manifest_is_complete() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(BucketManifest::load(dir.path(), "s3://b").expect("load").is_none());
        let mut manifest = BucketManifest::empty(dir.path(), "s3://b");
        manifest.put("a.html", entry("1")).expect("put");
        manifest.complete(7).expect("complete");
        manifest.put("b.html", entry("2")).expect("put");
        manifest.delete("a.html").expect("delete");
        drop(manifest); // a crash: the journal holds b and the delete of a, seq stays 7
        let mut file = OpenOptions::new()
            .append(true)
            .open(dir.path().join("journal.jsonl"))
            .expect("journal");
        file.write_all(b"{\"op\":\"put\",\"key\":\"torn").expect("torn line");

        let mut again = BucketManifest::load(dir.path(), "s3://b").expect("load").expect("some");
        assert_eq!(again.seq(), 7);
        assert_eq!(again.objects().keys().collect::<Vec<_>>(), ["b.html"]);
        again.complete(9).expect("complete");
        assert!(!dir.path().join("journal.jsonl").exists());
        let last = BucketManifest::load(dir.path(), "s3://b").expect("load").expect("some");
        assert_eq!((last.seq(), last.objects().len()), (9, 1));
        assert!(
            BucketManifest::load(dir.path(), "s3://other").expect("load").is_none(),
            "another bucket starts from nothing"
        );
    }
}
