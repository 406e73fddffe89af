//! `quire-burst`: the server's memory and threads through a burst of creates, git's catch-up
//! after it, and the idle time that follows (issue 15, "Efficiency on a Pi").
//!
//! Starts the real `quire` binary (the one next to this executable, or `QUIRE_BIN`) on a
//! temporary data folder with the git projection on, creates `--posts` published posts over
//! `--connections` concurrent connections, waits until git has every event (`/api/v1/status`
//! lag 0), then stays idle for `--idle-seconds`. `/proc/<pid>/status` is sampled every 100 ms;
//! each phase prints its peak `VmRSS`, `VmHWM` at its end, `VmRSS` at its end and the most
//! threads, then the size of `content.git`. The disk's fsync rate, measured in the same run on
//! the same folder, is printed beside it, because the numbers depend on that disk.
//!
//! ```text
//! cargo build --release -p quire-api -p quire-integration-tests --bins
//! target/release/quire-burst --posts 10000 --connections 64 --idle-seconds 10
//! ```

use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use futures_util::stream::{self, StreamExt as _};
use quire_integration_tests::proc_status::ProcStatus;
use quire_integration_tests::{BinaryServer, Client, ADMIN};
use quire_openapi::StatusResponse;
use serde_json::json;

#[derive(Debug, Parser)]
#[command(about = "Memory and threads of a Quire server through a burst of creates and git's catch-up")]
struct Args {
    /// Posts to create.
    #[arg(long, default_value_t = 10_000)]
    posts: usize,
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds to stay idle after git caught up.
    #[arg(long, default_value_t = 10)]
    idle_seconds: u64,
}

/// The samples of one phase.
#[derive(Debug, Default)]
struct Phase {
    peak_rss_kib: AtomicU64,
    max_threads: AtomicU64,
}

impl Phase {
    fn record(&self, status: &ProcStatus) {
        self.peak_rss_kib.fetch_max(status.rss_kib, Ordering::Relaxed);
        self.max_threads.fetch_max(status.threads, Ordering::Relaxed);
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let data = tempfile::tempdir_in(std::env::current_dir()?).context("temp dir")?;
    let fsyncs = fsync_rate(data.path())?;
    let server = BinaryServer::start_with_env(data.path(), &[("QUIRE_GIT__ENABLED", "true")]).await;
    let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    let pid = server.pid();
    println!("disk: {fsyncs:.0} fsyncs/s (1 KiB appends, same folder, same run)");
    println!(
        "{:<10} {:>8} {:>10} {:>13} {:>12} {:>12} {:>8}",
        "phase", "seconds", "events/s", "peak RSS MiB", "HWM MiB", "end RSS MiB", "threads"
    );
    let start = ProcStatus::of(pid).context("server status")?;
    report("start", 0.0, 0, &Phase::default(), &start);

    let phase = Arc::new(Phase::default());
    let sampler = sample(pid, phase.clone());
    let began = Instant::now();
    let created = burst(&client, args.posts, args.connections).await;
    let took = began.elapsed().as_secs_f64();
    sampler.abort();
    report(
        "burst",
        took,
        created,
        &phase,
        &ProcStatus::of(pid).context("server status")?,
    );

    let phase = Arc::new(Phase::default());
    let sampler = sample(pid, phase.clone());
    let began = Instant::now();
    let status = wait_for_git(&client).await?;
    sampler.abort();
    let git_behind = status.head;
    report(
        "catch-up",
        began.elapsed().as_secs_f64(),
        0,
        &phase,
        &ProcStatus::of(pid).context("server status")?,
    );

    let phase = Arc::new(Phase::default());
    let sampler = sample(pid, phase.clone());
    tokio::time::sleep(Duration::from_secs(args.idle_seconds)).await;
    sampler.abort();
    report(
        "idle",
        args.idle_seconds as f64,
        0,
        &phase,
        &ProcStatus::of(pid).context("server status")?,
    );

    let repo = data.path().join("content.git");
    println!(
        "content.git: {:.1} MiB, {} loose objects, {} events in git",
        folder_size(&repo) as f64 / 1_048_576.0,
        quire_storage::git::count_loose_objects(&repo),
        git_behind
    );
    Ok(())
}

fn report(name: &str, seconds: f64, events: usize, phase: &Phase, end: &ProcStatus) {
    let mib = |kib: u64| kib as f64 / 1024.0;
    let rate = if events > 0 && seconds > 0.0 {
        format!("{:.0}", events as f64 / seconds)
    } else {
        "-".into()
    };
    println!(
        "{name:<10} {seconds:>8.1} {rate:>10} {:>13.1} {:>12.1} {:>12.1} {:>8}",
        mib(phase.peak_rss_kib.load(Ordering::Relaxed).max(end.rss_kib)),
        end.hwm_mib(),
        end.rss_mib(),
        phase.max_threads.load(Ordering::Relaxed).max(end.threads)
    );
}

/// Samples the server every 100 ms into `phase` until aborted.
fn sample(pid: u32, phase: Arc<Phase>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Some(status) = ProcStatus::of(pid) {
                phase.record(&status);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

/// Creates `posts` published posts over `connections` connections; returns how many got 201.
async fn burst(client: &Client, posts: usize, connections: usize) -> usize {
    stream::iter(0..posts)
        .map(|i| {
            let client = client.clone();
            async move {
                let body = json!({"title": format!("Burst post number {i}"), "status": "published",
                                  "body": format!("Post {i} of a burst.\n\n{}", "Some words here. ".repeat(30))});
                let response = client.post_json("/api/v1/posts", &body, &[]).await;
                response.status().as_u16() == 201
            }
        })
        .buffer_unordered(connections)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await
}

async fn wait_for_git(client: &Client) -> anyhow::Result<StatusResponse> {
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let status: StatusResponse = client.get("/api/v1/status").await.json().await?;
        if status.git.lag == Some(0) && status.git.last_error.is_none() {
            return Ok(status);
        }
        anyhow::ensure!(Instant::now() < deadline, "git did not catch up: {status:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// 1 KiB appends with an fsync after each, for half a second: fsyncs per second.
fn fsync_rate(dir: &Path) -> anyhow::Result<f64> {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path)?;
    let block = [7u8; 1024];
    let (began, mut n) = (Instant::now(), 0u32);
    while began.elapsed() < Duration::from_millis(500) {
        file.write_all(&block)?;
        file.sync_data()?;
        n += 1;
    }
    let rate = f64::from(n) / began.elapsed().as_secs_f64();
    std::fs::remove_file(&path)?;
    Ok(rate)
}

fn folder_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => folder_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
