//! `quire export` and `quire import`: the event log as JSON Lines, one envelope per line in
//! seq order, exactly as `GET /api/v1/events` shows them (`{"seq","id","stream","version",
//! "type","actor","at","idempotency_key","data"}`).
//!
//! An import keeps every envelope as it was (seq, ids, times, actors), so the imported log is
//! the exported one and the git projection gives the same commit ids. Users and tokens are not
//! events: an export does not carry them (a backup does).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use quire_storage::{Envelope, Store};

use super::archive::EventLines;
use crate::config::Config;

/// Writes the log to `file` (`None` or `-`: standard output). The server must be stopped.
pub fn export(config: &Config, file: Option<&Path>) -> anyhow::Result<()> {
    let store: Arc<dyn Store> = Arc::new(super::open_log(config)?);
    let head = store.head();
    let bar = super::progress_bar(head, "events")?;
    let mut progress = |done| bar.set_position(done);
    let mut lines = EventLines::new(store, head)
        .with_progress(&mut progress)
        .collecting_files();
    match file.filter(|f| *f != Path::new("-")) {
        Some(file) => {
            super::write_atomically(file, |out| {
                let mut out = io::BufWriter::new(out);
                io::copy(&mut lines, &mut out)?;
                out.flush()?;
                Ok(())
            })?;
            bar.finish_and_clear();
            eprintln!("exported events 1 to {head} into {}", file.display());
            let files = lines.stored_files().len();
            if files > 0 {
                eprintln!(
                    "the events name {files} media file(s), which are not in the export: import with \
                     `quire import {} --media {}`",
                    file.display(),
                    config.data_dir.join("media").display()
                );
            }
        }
        None => {
            let mut out = io::stdout().lock();
            io::copy(&mut lines, &mut out)?;
            out.flush()?;
            bar.finish_and_clear();
        }
    }
    Ok(())
}

/// Reads an export (`-`: standard input) into this empty data folder, then renders git and the
/// site from it.
pub fn import(config: &Config, file: &Path, media: Option<&Path>) -> anyhow::Result<()> {
    let input: Box<dyn Read> = if file == Path::new("-") {
        Box::new(io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?)
    };
    // The number of events is known only at the end: the bar grows with them.
    let imported = super::restore::into_fresh_log(config, false, 0, |store, bar| {
        let mut progress = |done| {
            bar.set_length(done);
            bar.set_position(done);
        };
        let imported = read_lines(store, BufReader::new(input), &mut progress)?;
        copy_media(config, store, imported, media)?;
        Ok(imported)
    })?;
    println!("imported events 1 to {imported} from {}", file.display());
    super::restore::rederive(config)
}

/// Puts the files events `1..=head` name (images, datasets' CSV) into the data folder's media
/// store, from `from` (a `media/` folder) where they are missing, each checked against the hash
/// that names it. Fails, naming them, if any is nowhere: git and the site would lack them.
fn copy_media(config: &Config, store: &quire_storage::SledStore, head: u64, from: Option<&Path>) -> anyhow::Result<()> {
    let blobs = quire_storage::MediaBlobs::new(config.data_dir.join("media"));
    let source = from.map(quire_storage::MediaBlobs::new);
    let mut missing = Vec::new();
    for name in super::archive::stored_file_names(store, head)? {
        let Some(target) = blobs.path_of(&name) else {
            continue;
        };
        if target.exists() {
            continue;
        }
        let Some(bytes) = source.as_ref().map(|s| s.read(&name)).transpose()?.flatten() else {
            missing.push(name);
            continue;
        };
        let (hash, ext) = name.split_once('.').unwrap_or((&name, ""));
        let actual = quire_storage::media::blobs::sha256_hex(&bytes);
        anyhow::ensure!(
            actual == hash,
            "{name} in the media folder is damaged: its bytes hash to {actual}"
        );
        blobs.put(&bytes, ext)?;
    }
    anyhow::ensure!(
        missing.is_empty(),
        "{} media file(s) the events name are missing ({}{}): pass the exported data folder's media \
         folder with --media <old data folder>/media",
        missing.len(),
        missing.iter().take(3).cloned().collect::<Vec<_>>().join(", "),
        if missing.len() > 3 { ", …" } else { "" }
    );
    Ok(())
}

/// Imports JSON Lines from `input` into `store`; a bad line stops the import, naming the line.
pub(crate) fn read_lines(
    store: &quire_storage::SledStore,
    input: impl BufRead,
    progress: &mut dyn FnMut(u64),
) -> anyhow::Result<u64> {
    let mut failure = None;
    let events = input
        .lines()
        .enumerate()
        .filter(|(_, line)| line.as_ref().map_or(true, |l| !l.trim().is_empty()))
        .map(|(n, line)| -> anyhow::Result<Envelope> {
            let line = line.with_context(|| format!("reading line {}", n + 1))?;
            serde_json::from_str(&line).with_context(|| format!("line {} is not an event", n + 1))
        })
        .map_while(|event| event.map_err(|e| failure = Some(e)).ok());
    let imported = store.import(events, progress)?;
    match failure {
        Some(e) => Err(e.context(format!("stopped after event {imported}"))),
        None => Ok(imported),
    }
}
