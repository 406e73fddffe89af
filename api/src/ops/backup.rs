//! `quire backup <file>`: a consistent snapshot of the data folder as a tar archive (see
//! [`super::archive`]), with a progress bar.
//!
//! With `--url` (and an admin's API token in `--token` or `QUIRE_TOKEN`), the running server
//! at that address writes the snapshot (`GET /api/v1/backup`) and this command saves it; without
//! it, the command opens the data folder itself, which works only while the server is stopped.
//! Either way the archive is written to `<file>.partial` and renamed when complete.

use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use actix_web::web::Bytes;
use anyhow::Context as _;
use futures_util::Stream;
use quire_storage::{SecretStore, Store};
use tokio::sync::mpsc;

use super::archive::Snapshot;
use crate::config::Config;

/// Size of the chunks the server sends.
const CHUNK: usize = 64 * 1024;

/// Takes a backup into `file`: from the server at `url`, or from the stopped data folder.
pub fn run(config: &Config, file: &Path, url: Option<&str>, token: Option<&str>) -> anyhow::Result<()> {
    match url {
        Some(url) => {
            let token = token.context("a backup over HTTP needs an admin's API token: --token or QUIRE_TOKEN")?;
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(download(url, token, file))
        }
        None => offline(config, file),
    }
}

fn offline(config: &Config, file: &Path) -> anyhow::Result<()> {
    let store = Arc::new(super::open_log(config)?);
    let secrets: Arc<dyn SecretStore> = store.clone();
    let snapshot = Snapshot::take(store, secrets.as_ref(), config)?;
    let head = snapshot.manifest.head;
    let bar = super::progress_bar(head, "events")?;
    super::write_atomically(file, |out| {
        snapshot.write(io::BufWriter::new(out), &mut |done| bar.set_position(done))
    })?;
    bar.finish_and_clear();
    println!(
        "backed up events 1 to {head} into {} ({} bytes)",
        file.display(),
        snapshot.size()
    );
    Ok(())
}

async fn download(url: &str, token: &str, file: &Path) -> anyhow::Result<()> {
    let endpoint = format!("{}/api/v1/backup", url.trim_end_matches('/'));
    let mut response = reqwest::Client::new()
        .get(&endpoint)
        .bearer_auth(token)
        .send()
        .await
        .with_context(|| format!("requesting {endpoint}"))?;
    if !response.status().is_success() {
        let status = response.status();
        let detail = response.text().await.unwrap_or_default();
        anyhow::bail!("{endpoint} answered {status}: {detail}");
    }
    let head = response
        .headers()
        .get("x-quire-head")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("?")
        .to_owned();
    let size = response.content_length();
    let bar = super::progress_bar(size.unwrap_or(0), "bytes")?;
    let partial = super::partial_path(file);
    let result = async {
        let mut out = io::BufWriter::new(
            std::fs::File::create(&partial).with_context(|| format!("creating {}", partial.display()))?,
        );
        let mut received = 0u64;
        // A CLI with one task: plain blocking writes between chunks are fine here.
        while let Some(chunk) = response.chunk().await.context("the backup download broke off")? {
            out.write_all(&chunk)?;
            received += chunk.len() as u64;
            bar.set_position(received);
        }
        anyhow::ensure!(
            size.is_none_or(|size| size == received),
            "the backup broke off after {received} of {} bytes",
            size.unwrap_or(0)
        );
        out.into_inner().map_err(io::IntoInnerError::into_error)?.sync_all()?;
        Ok(received)
    }
    .await;
    let received = match result {
        Ok(received) => received,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, file).with_context(|| format!("renaming {} into place", partial.display()))?;
    bar.finish_and_clear();
    println!(
        "backed up events 1 to {head} from {url} into {} ({received} bytes)",
        file.display()
    );
    Ok(())
}

/// The archive of `snapshot` as a stream of chunks, written on a blocking thread. A failure
/// ends the stream with an error, so the client sees a short body, never a torn archive
/// presented as whole.
pub fn stream(snapshot: Snapshot) -> impl Stream<Item = Result<Bytes, io::Error>> {
    let (tx, rx) = mpsc::channel::<Result<Bytes, io::Error>>(8);
    actix_web::rt::task::spawn_blocking(move || {
        let mut out = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
        };
        let head = snapshot.manifest.head;
        if let Err(error) = snapshot.write(&mut out, &mut |_| {}) {
            tracing::warn!(%error, head, "a backup download stopped");
            let _ = tx.blocking_send(Err(io::Error::other(error.to_string())));
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) })
}

/// Sends what is written as chunks; fails once the receiver (the response) is gone.
struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    buf: Vec<u8>,
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

/// What the handler needs: the snapshot of the running server's store. Blocking.
pub fn take(store: Arc<dyn Store>, secrets: Arc<dyn SecretStore>, config: &Config) -> anyhow::Result<Snapshot> {
    Snapshot::take(store, secrets.as_ref(), config)
}
