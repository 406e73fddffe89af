//! Operations on a whole data folder: backups ([`backup`], the archive format in [`archive`]),
//! the event log as JSON Lines ([`export`]), and rebuilding a data folder from an export, a
//! backup or the mirrored git repository alone ([`restore`]).
//!
//! sled locks `<data>/log` for one process, so commands that open the folder run while the
//! server is stopped; a backup of a running server goes through its `GET /api/v1/backup`.

pub mod archive;
pub mod backup;
pub mod export;
pub mod restore;

use std::path::Path;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use quire_storage::{SledOptions, SledStore};

use crate::config::Config;

/// Opens `<data>/log` directly (not through `open_state`: no keys are created).
pub(crate) fn open_log(config: &Config) -> anyhow::Result<SledStore> {
    let dir = config.data_dir.join("log");
    let options = SledOptions {
        cache_bytes: config.storage.cache_mb * 1024 * 1024,
        ..SledOptions::default()
    };
    SledStore::open(&dir, &options).with_context(|| {
        format!(
            "opening the event log in {} (is quire running? stop it, or use `quire backup --url`)",
            dir.display()
        )
    })
}

/// A progress bar to stderr (hidden when stderr is not a terminal).
pub(crate) fn progress_bar(len: u64, unit: &str) -> anyhow::Result<ProgressBar> {
    let template = format!("{{bar:40}} {{pos}}/{{len}} {unit} ({{per_sec}}, {{eta}} left)");
    Ok(ProgressBar::new(len).with_style(ProgressStyle::with_template(&template).context("progress bar template")?))
}

/// Writes `bytes` to `path` through a temporary file, fsynced and renamed, so a crash leaves
/// the old file or the new one.
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let partial = partial_path(path);
    let mut file = std::fs::File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
    let result = write(&mut file).and_then(|()| Ok(file.sync_all()?));
    drop(file);
    if let Err(e) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, path).with_context(|| format!("renaming {} into place", partial.display()))
}

/// `<path>.partial`: where a file is written before it is complete.
pub(crate) fn partial_path(path: &Path) -> std::path::PathBuf {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    partial.into()
}
