//! The scheduled fetch: datasets with a `source_url` and a `refresh` are fetched on their
//! schedule by a task on the shared runtime. A fetch has a timeout and a size limit, follows no
//! redirect, and connects only to the addresses checked just before (private and loopback ones
//! only with `webhooks.allow_private_addresses`). The body goes through the same `put` as the
//! API, which appends an event only when the data's hash changed. Failures are kept per dataset
//! for `/api/v1/status` and counted for `/metrics`; they stop nothing else.
//!
//! **Persisted state.** When each dataset was last fetched (and how it went) is kept in
//! `<data>/dataset-fetches.json` ([`STATE_FILE`]), replaced atomically after every fetch, so a
//! restart carries on with the schedule instead of fetching every source at once. It is derived
//! state, not events: a missing or unreadable file only means every source is due.
//! A dataset whose `source_url` changed since its last fetch is due at once. `https` sources
//! are checked against the built-in roots and `datasets.ca_file`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use quire_storage::datasets::{Format, NewData, Refresh};
use quire_storage::webhooks::check_url;
use quire_storage::{Actor, Clock, Dataset, DatasetService, IfMatch, SCHEDULER_ACTOR};
use time::OffsetDateTime;
use tokio::sync::watch;

/// How often the fetcher looks for due datasets.
const TICK: Duration = Duration::from_secs(1);

/// The file in the data folder that keeps [`FetchState`]s across restarts.
pub const STATE_FILE: &str = "dataset-fetches.json";

/// How the fetches of one dataset went.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FetchState {
    pub source_url: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_attempt_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_success_at: Option<OffsetDateTime>,
    /// Why the last fetch failed (cleared by a success).
    pub last_error: Option<String>,
    /// Failed fetches since the last success.
    pub failures: u64,
    /// Fetches that brought new data (a new event).
    pub changes: u64,
}

/// Every dataset's fetch state, and totals for `/metrics`.
#[derive(Debug, Default)]
pub struct FetchStatus {
    states: Mutex<HashMap<String, FetchState>>,
    /// Where the states are kept across restarts; `None`: in memory only.
    file: Option<PathBuf>,
    pub attempts: AtomicU64,
    pub failures: AtomicU64,
}

impl FetchStatus {
    /// The states kept in `<data_dir>/`[`STATE_FILE`] (none yet if it is missing or unreadable),
    /// saved there after each fetch.
    pub fn persisted(data_dir: &Path) -> Self {
        let file = data_dir.join(STATE_FILE);
        let states = match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|error| {
                tracing::warn!(%error, file = %file.display(), "unreadable fetch state; every source is due");
                HashMap::new()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(error) => {
                tracing::warn!(%error, file = %file.display(), "unreadable fetch state; every source is due");
                HashMap::new()
            }
        };
        Self {
            states: Mutex::new(states),
            file: Some(file),
            ..Self::default()
        }
    }

    /// Replaces the state file atomically (temporary file, fsync, rename). A failure is logged:
    /// the worst it costs is an early fetch after a restart.
    fn save(&self, states: &HashMap<String, FetchState>) {
        let Some(file) = &self.file else {
            return;
        };
        let temp = file.with_extension(format!("json.{}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let bytes = serde_json::to_vec_pretty(states).map_err(std::io::Error::other)?;
            let mut out = std::fs::File::create(&temp)?;
            std::io::Write::write_all(&mut out, &bytes)?;
            out.sync_all()?;
            std::fs::rename(&temp, file)
        };
        if let Err(error) = write() {
            let _ = std::fs::remove_file(&temp);
            tracing::warn!(%error, file = %file.display(), "could not save the fetch state");
        }
    }

    /// A copy of every dataset's state, by name.
    pub fn snapshot(&self) -> Vec<(String, FetchState)> {
        let states = self.states.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut all: Vec<_> = states.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// When `set` was last fetched from its current `source_url`.
    fn last_attempt(&self, set: &Dataset) -> Option<OffsetDateTime> {
        let states = self.states.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let url = set.meta.source_url.as_deref().unwrap_or_default();
        states
            .get(&set.name)
            .filter(|s| s.source_url == url)
            .and_then(|s| s.last_attempt_at)
    }

    fn record(&self, set: &Dataset, at: OffsetDateTime, outcome: Result<bool, String>) {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        let mut states = self.states.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let state = states.entry(set.name.clone()).or_default();
        state.source_url = set.meta.source_url.clone().unwrap_or_default();
        state.last_attempt_at = Some(at);
        match outcome {
            Ok(changed) => {
                state.last_success_at = Some(at);
                state.last_error = None;
                state.failures = 0;
                state.changes += u64::from(changed);
            }
            Err(error) => {
                tracing::warn!(dataset = %set.name, %error, "fetching a dataset failed");
                self.failures.fetch_add(1, Ordering::Relaxed);
                state.last_error = Some(error);
                state.failures += 1;
            }
        }
        self.save(&states);
    }
}

/// What the fetcher needs.
pub(crate) struct Fetcher {
    pub datasets: DatasetService,
    pub status: Arc<FetchStatus>,
    pub clock: Clock,
    pub timeout: Duration,
    pub max_bytes: u64,
    pub allow_private: bool,
    /// Extra CAs to trust for `https` sources (`datasets.ca_file`).
    pub ca_file: Option<PathBuf>,
}

/// Fetches due datasets until `stop`.
pub(crate) async fn run(fetcher: Fetcher, mut stop: watch::Receiver<bool>) {
    loop {
        let service = fetcher.datasets.clone();
        let due = match tokio::task::spawn_blocking(move || service.scheduled()).await {
            Ok(Ok(sets)) => sets,
            Ok(Err(error)) => {
                tracing::warn!(%error, "listing datasets to fetch failed");
                Vec::new()
            }
            Err(_) => Vec::new(),
        };
        let now = (fetcher.clock)();
        for set in due {
            let Some(refresh) = set.meta.refresh.as_deref().and_then(|r| r.parse::<Refresh>().ok()) else {
                continue;
            };
            if refresh.next(fetcher.status.last_attempt(&set), now) > now {
                continue;
            }
            let outcome = fetch_one(&fetcher, &set).await;
            let status = fetcher.status.clone();
            // Writes the state file: off the executor.
            let _ = tokio::task::spawn_blocking(move || status.record(&set, now, outcome)).await;
        }
        tokio::select! {
            changed = stop.changed() => if changed.is_err() || *stop.borrow() { return },
            () = tokio::time::sleep(TICK) => {}
        }
    }
}

/// Fetches one dataset; `Ok(true)` when its data changed.
async fn fetch_one(fetcher: &Fetcher, set: &Dataset) -> Result<bool, String> {
    let url = set.meta.source_url.clone().unwrap_or_default();
    let allow = fetcher.allow_private;
    let checked = url.clone();
    let target = tokio::task::spawn_blocking(move || check_url(&checked, allow))
        .await
        .map_err(|_| "the address lookup failed".to_owned())??;
    let client = crate::tls::http_client(fetcher.ca_file.as_deref())
        .map_err(|e| format!("cannot read datasets.ca_file: {e:#}"))?
        .redirect(reqwest::redirect::Policy::none())
        .timeout(fetcher.timeout)
        .resolve_to_addrs(&target.host, &target.addrs)
        .user_agent(concat!("Quire-Datasets/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot make an HTTP client: {e}"))?;
    let timed_out = || format!("no complete answer within {:?}", fetcher.timeout);
    let response = client.get(target.url).send().await.map_err(|e| {
        if e.is_timeout() {
            timed_out()
        } else {
            format!("fetching {url} failed: {}", crate::webhooks::sender::describe(&e))
        }
    })?;
    if !response.status().is_success() {
        return Err(format!("{url} answered HTTP {}", response.status().as_u16()));
    }
    let json = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let too_large = || format!("{url} sent more than datasets.max_bytes ({} bytes)", fetcher.max_bytes);
    if response.content_length().is_some_and(|n| n > fetcher.max_bytes) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    let mut response = response;
    loop {
        let chunk = response.chunk().await;
        let Some(chunk) = chunk.map_err(|e| {
            if e.is_timeout() {
                timed_out()
            } else {
                format!("reading {url} failed: {e}")
            }
        })?
        else {
            break;
        };
        if body.len() as u64 + chunk.len() as u64 > fetcher.max_bytes {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    let (service, name, version) = (fetcher.datasets.clone(), set.name.clone(), set.version);
    let put = tokio::task::spawn_blocking(move || {
        let expected = IfMatch::Versions(vec![version]);
        let data = NewData {
            body: &body,
            format: if json { Format::Json } else { Format::Csv },
            expected: Some(&expected),
            fetched_from: Some(&url),
        };
        service
            .put(&Actor::system(SCHEDULER_ACTOR), &name, data, None)
            .map(|(after, _)| after.version != version)
    });
    put.await
        .map_err(|_| "storing the fetched data failed".to_owned())?
        .map_err(|e| format!("the fetched data was refused: {e}"))
}
