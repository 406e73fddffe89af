//! The backup archive: one uncompressed tar that `tar tf` lists and `tar xf` unpacks.
//!
//! ```text
//! quire-backup/manifest.json      format, Quire version, time, head seq (read first on restore)
//! quire-backup/events.jsonl       the log, seq 1..=head, one envelope per line (as `quire export`)
//! quire-backup/secrets.jsonl      users, password and token hashes, settings, idempotency records
//! quire-backup/keys/signing.json  the JWT signing keys
//! quire-backup/config.json        the configuration in force (for reference; URLs without credentials)
//! quire-backup/media/<sha256>.<ext>  every stored file an event up to the head names (images,
//!                                    datasets' CSV)
//! ```
//!
//! **Consistent**: the head is fixed when the snapshot is taken; events up to it never change,
//! so the archive holds a prefix of the log whatever is written meanwhile, and the idempotency
//! records are those of events in that prefix. Media files are named by their content's hash and
//! never change once stored, so the files the prefix's events name are fixed too.
//!
//! **Why tar**: one file that streams as it is written, standard tools read it, and the crate
//! is small. A tar header needs each file's size first: the events are serialized once to
//! measure and once to send (they are immutable, so both give the same bytes), which also gives
//! the archive's exact size before its first byte, for `Content-Length` and progress bars. No
//! compression: the archive holds password hashes and keys; encrypt it at rest your way.

use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use quire_storage::{Envelope, EventPayload, MediaBlobs, SecretStore, Store};
use time::OffsetDateTime;

use crate::config::Config;

/// The archive format this Quire writes and reads.
pub const FORMAT: u32 = 1;
/// The folder every entry is in.
pub const ROOT: &str = "quire-backup";
/// Events read from the log at a time.
const PAGE: usize = 512;

/// `manifest.json` (part of the API contract: `GET /api/v1/backup` returns this archive).
pub use quire_openapi::BackupManifest as Manifest;

/// Everything a backup holds, fixed at one moment, ready to be written.
pub struct Snapshot {
    pub manifest: Manifest,
    store: Arc<dyn Store>,
    files: Vec<(&'static str, Vec<u8>)>,
    events_len: u64,
    /// The media files, in the order their events name them first: name, path, size.
    media: Vec<(String, std::path::PathBuf, u64)>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("manifest", &self.manifest)
            .finish_non_exhaustive()
    }
}

impl Snapshot {
    /// Fixes the head and reads the secrets, keys and configuration. Blocking.
    pub fn take(store: Arc<dyn Store>, secrets: &dyn SecretStore, config: &Config) -> anyhow::Result<Self> {
        let head = store.head();
        let manifest = Manifest {
            format: FORMAT,
            quire_version: env!("CARGO_PKG_VERSION").into(),
            created_at: OffsetDateTime::now_utc(),
            head,
        };
        let mut records = Vec::new();
        for record in secrets.backup_records(head).context("reading users and tokens")? {
            serde_json::to_writer(&mut records, &record)?;
            records.push(b'\n');
        }
        let keys_file = config.data_dir.join("keys").join("signing.json");
        let keys = std::fs::read(&keys_file).with_context(|| format!("reading {}", keys_file.display()))?;
        let mut shown = config.clone();
        for remote in &mut shown.git.remotes {
            remote.url = crate::git::config::redact_url(&remote.url);
            remote.secret = remote.secret.as_ref().map(|_| "(set)".into());
        }
        shown.metrics.token = shown.metrics.token.map(|_| "(set)".into());
        let files = vec![
            ("manifest.json", serde_json::to_vec_pretty(&manifest)?),
            ("secrets.jsonl", records),
            ("keys/signing.json", keys),
            ("config.json", serde_json::to_vec_pretty(&shown)?),
        ];
        // One pass over the log measures the lines and finds the files the events name.
        let (events_len, names) = EventLines::new(store.clone(), head).measure()?;
        let media = media_files(names, &MediaBlobs::new(config.data_dir.join("media")))?;
        Ok(Self {
            manifest,
            store,
            files,
            events_len,
            media,
        })
    }

    /// The archive's exact size in bytes.
    pub fn size(&self) -> u64 {
        let entry = |len: u64| 512 + len.div_ceil(512) * 512;
        self.files
            .iter()
            .map(|(_, bytes)| entry(bytes.len() as u64))
            .sum::<u64>()
            + entry(self.events_len)
            + self.media.iter().map(|(_, _, len)| entry(*len)).sum::<u64>()
            + 1024
    }

    /// Writes the archive; `progress(events written)` is called after each page. Blocking.
    pub fn write(&self, out: impl Write, progress: &mut dyn FnMut(u64)) -> anyhow::Result<()> {
        let mut tar = tar::Builder::new(out);
        let mtime = self.manifest.created_at.unix_timestamp().max(0).unsigned_abs();
        for (i, (name, bytes)) in self.files.iter().enumerate() {
            tar.append(&header(name, bytes.len() as u64, mtime)?, bytes.as_slice())?;
            if i == 0 {
                let mut lines = EventLines::new(self.store.clone(), self.manifest.head).with_progress(progress);
                lines.expected = Some(self.events_len);
                tar.append(&header("events.jsonl", self.events_len, mtime)?, lines)?;
            }
        }
        for (name, path, len) in &self.media {
            let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
            // `quire-backup/media/<64 hex>.<ext>` fits ustar's 100-byte name field.
            tar.append(&header(&format!("media/{name}"), *len, mtime)?, file.take(*len))
                .with_context(|| format!("adding {}", path.display()))?;
        }
        tar.into_inner()?.flush()?;
        Ok(())
    }
}

/// The files events name in the media store (uploaded images, datasets' CSV) as
/// `<hash>.<ext>`, each once, in the order they are first named.
#[derive(Debug, Default)]
struct StoredFiles {
    seen: std::collections::HashSet<String>,
    names: Vec<String>,
}

impl StoredFiles {
    fn note(&mut self, event: &Envelope) {
        let name = match &event.payload {
            EventPayload::MediaUploaded { hash, content_type, .. } => {
                quire_storage::media::model::file_name(hash, content_type)
            }
            // A dataset's CSV lives in the same content-addressed store.
            EventPayload::DatasetPut { hash, .. } => format!("{hash}.csv"),
            _ => return,
        };
        if self.seen.insert(name.clone()) {
            self.names.push(name);
        }
    }
}

/// The names (`<hash>.<ext>`) of the files events `1..=head` name in the media store (uploaded
/// images, datasets' CSV), each once, in the order they are first named.
pub(crate) fn stored_file_names(store: &dyn Store, head: u64) -> anyhow::Result<Vec<String>> {
    let mut files = StoredFiles::default();
    let mut after = 0;
    while after < head {
        let events = store.events_after(after, PAGE)?;
        let Some(last) = events.last() else { break };
        after = last.seq;
        events.iter().take_while(|e| e.seq <= head).for_each(|e| files.note(e));
    }
    Ok(files.names)
}

/// The files `names` in the media store with their sizes; an error if one is missing (the
/// backup would not restore the posts that show it).
fn media_files(names: Vec<String>, blobs: &MediaBlobs) -> anyhow::Result<Vec<(String, std::path::PathBuf, u64)>> {
    let mut out = Vec::new();
    for name in names {
        let path = blobs
            .path_of(&name)
            .with_context(|| format!("the events name the file {name:?}, which Quire never stores"))?;
        let len = std::fs::metadata(&path)
            .with_context(|| format!("{} is missing", path.display()))?
            .len();
        out.push((name, path, len));
    }
    Ok(out)
}

fn header(name: &str, size: u64, mtime: u64) -> io::Result<tar::Header> {
    let mut header = tar::Header::new_ustar();
    header.set_path(format!("{ROOT}/{name}"))?;
    header.set_size(size);
    header.set_mode(0o600);
    header.set_mtime(mtime);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    Ok(header)
}

/// The log up to `head` as JSON Lines, read page by page.
pub struct EventLines<'p> {
    store: Arc<dyn Store>,
    next: u64,
    head: u64,
    buf: Vec<u8>,
    pos: usize,
    progress: Option<&'p mut dyn FnMut(u64)>,
    /// The size measured before: reading fails rather than give other bytes than announced.
    expected: Option<u64>,
    read: u64,
    /// While measuring: the media files the events name.
    files: Option<StoredFiles>,
}

impl<'p> EventLines<'p> {
    /// The events `1..=head` of `store`.
    pub fn new(store: Arc<dyn Store>, head: u64) -> Self {
        Self {
            store,
            next: 1,
            head,
            buf: Vec::new(),
            pos: 0,
            progress: None,
            expected: None,
            read: 0,
            files: None,
        }
    }

    /// Calls `progress(events read)` after each page.
    pub fn with_progress(mut self, progress: &'p mut dyn FnMut(u64)) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Notes, as the lines are read, the media files the events name ([`Self::stored_files`]).
    pub fn collecting_files(mut self) -> Self {
        self.files = Some(StoredFiles::default());
        self
    }

    /// The media files named by the events read so far (with [`Self::collecting_files`]).
    pub fn stored_files(&self) -> &[String] {
        self.files.as_ref().map_or(&[], |f| &f.names)
    }

    /// How many bytes the lines take, and the media files the events name.
    fn measure(self) -> io::Result<(u64, Vec<String>)> {
        let mut this = self.collecting_files();
        let mut len = 0;
        while this.fill()? {
            len += this.buf.len() as u64;
            this.buf.clear();
        }
        Ok((len, this.files.map(|f| f.names).unwrap_or_default()))
    }

    /// Reads the next page into `buf`; false at the end.
    fn fill(&mut self) -> io::Result<bool> {
        if self.next > self.head {
            return Ok(false);
        }
        let events = self.store.events_after(self.next - 1, PAGE).map_err(io::Error::other)?;
        let events: Vec<&Envelope> = events.iter().take_while(|e| e.seq <= self.head).collect();
        let Some(last) = events.last() else {
            return Err(io::Error::other(format!("event {} is missing from the log", self.next)));
        };
        self.next = last.seq + 1;
        for event in &events {
            serde_json::to_writer(&mut self.buf, event)?;
            self.buf.push(b'\n');
            if let Some(files) = self.files.as_mut() {
                files.note(event);
            }
        }
        if let Some(progress) = self.progress.as_mut() {
            progress(self.next - 1);
        }
        Ok(true)
    }
}

impl Read for EventLines<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
            if !self.fill()? {
                if self.expected.is_some_and(|expected| expected != self.read) {
                    return Err(io::Error::other("the events changed while the backup was written"));
                }
                return Ok(0);
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        if self.expected.is_some_and(|expected| self.read + n as u64 > expected) {
            return Err(io::Error::other("the events changed while the backup was written"));
        }
        self.read += n as u64;
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The path of an archive entry below [`ROOT`] (`events.jsonl`, `keys/signing.json`…).
pub fn entry_name(path: &Path) -> Option<String> {
    let rest = path.strip_prefix(ROOT).ok()?;
    Some(rest.to_string_lossy().replace('\\', "/"))
}
