//! `quire-burst`: the server's memory and threads through a burst of creates, git's catch-up
//! after it, and the idle time that follows (issue 15, "Efficiency on a Pi").
//!
//! Starts the real `quire` binary (the one next to this executable, or `QUIRE_BIN`) on a
//! temporary data folder with the git projection on, creates `--posts` published posts over
//! `--connections` concurrent connections, waits until git has every event (`/api/v1/status`
//! lag 0), then stays idle for `--idle-seconds`. `/proc/<pid>/status` is sampled every 100 ms;
//! each phase prints its peak `VmRSS`, `VmHWM` at its end, `VmRSS` at its end and the most
//! threads, then the size of `content.git`. The disk's fsync rate, measured in the same run on
//! the same folder, is printed beside it, because the numbers depend on that disk. Then it
//! publishes `--publishes` posts one at a time and times each until its page is on disk and its
//! commit is in git, and ends with one table of issue 15's figures next to their anchors.
//!
//! With `--cold-start-events N` it measures the cold start instead ([`cold_start`]).
//!
//! ```text
//! cargo build --release -p quire-api -p quire-integration-tests --bins
//! target/release/quire-burst --posts 10000 --connections 64 --idle-seconds 10
//! target/release/quire-burst --cold-start-events 100000 --years 20
//! target/release/quire-burst --posts 10000 --busy-threads 2   # a machine busy with other work
//! ```

use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use futures_util::stream::{self, StreamExt as _};
use quire_integration_tests::proc_status::{CpuSplit, ProcStatus};
use quire_integration_tests::{BinaryServer, Client, ADMIN};
use quire_openapi::StatusResponse;
use serde_json::json;

mod cold_start;

/// The server's threads that project the log (named in `api/src/git` and `api/src/projections.rs`);
/// the rest of its CPU time is the write path's (HTTP, the log's writer, the blocking pool).
const PROJECTION_THREADS: &[&str] = &["quire-git", "quire-site", "quire-publish", "quire-webhooks"];

/// The default `--body-bytes`.
const SHORT_BODY: usize = 510;

#[derive(Debug, Parser)]
#[command(about = "Memory and threads of a Quire server through a burst of creates and git's catch-up")]
struct Args {
    /// Posts to create.
    #[arg(long, default_value_t = 10_000)]
    posts: usize,
    /// About how long each post's body is, in bytes (the default, 510, is a short post; a
    /// blog's posts are often 2–5 KB).
    #[arg(long, default_value_t = SHORT_BODY)]
    body_bytes: usize,
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds to stay idle after git caught up.
    #[arg(long, default_value_t = 10)]
    idle_seconds: u64,
    /// Posts published one at a time after the idle phase, each timed until its page is on
    /// disk and its commit is in git.
    #[arg(long, default_value_t = 100)]
    publishes: usize,
    /// Spread the posts over this many past years (`publish_at` from 1 January of last year
    /// backwards, as an import of an old blog would), so git keeps them in that many year
    /// folders; 0 (the default) publishes them all now, in this year's folder.
    #[arg(long, default_value_t = 0)]
    years: u32,
    /// Measure the cold start instead: make a data folder of this many creates through the API
    /// (over `--connections`), let git and the site catch up, stop the server, then time each of
    /// `--cold-start-runs` starts from spawning the binary to `/readyz` answering 200.
    #[arg(long, default_value_t = 0)]
    cold_start_events: usize,
    /// Starts timed by `--cold-start-events`.
    #[arg(long, default_value_t = 5)]
    cold_start_runs: usize,
    /// Threads of this process that spin on the CPU through the burst, as other work on a
    /// shared machine would (each at the default priority, like `yes > /dev/null`).
    #[arg(long, default_value_t = 0)]
    busy_threads: usize,
}

/// Threads that spin until dropped (`--busy-threads`).
struct BusyThreads {
    stop: Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl BusyThreads {
    fn start(n: usize) -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let threads = (0..n)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x = 0_u64;
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..10_000 {
                            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                        }
                    }
                })
            })
            .collect();
        Self { stop, threads }
    }
}

impl Drop for BusyThreads {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// The samples of one phase.
#[derive(Debug, Default)]
struct Phase {
    peak_rss_kib: AtomicU64,
    max_threads: AtomicU64,
    /// CPU time by thread, read with every sample (threads that exit keep their last reading).
    cpu: std::sync::Mutex<CpuSplit>,
}

impl Phase {
    fn record(&self, status: &ProcStatus, cpu: Option<CpuSplit>) {
        self.peak_rss_kib.fetch_max(status.rss_kib, Ordering::Relaxed);
        self.max_threads.fetch_max(status.threads, Ordering::Relaxed);
        if let (Some(cpu), Ok(mut split)) = (cpu, self.cpu.lock()) {
            split.merge(cpu);
        }
    }

    /// The CPU used since `before`, with a last reading taken now.
    fn cpu_since(&self, pid: u32, before: &CpuSplit) -> anyhow::Result<CpuSplit> {
        let mut split = self
            .cpu
            .lock()
            .map_err(|_| anyhow::anyhow!("a sampler panicked"))?
            .clone();
        split.merge(CpuSplit::of(pid).context("server CPU time")?);
        Ok(split.since(before))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.cold_start_events > 0 {
        return cold_start::measure(&args).await;
    }
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

    if args.busy_threads > 0 {
        println!(
            "{} busy threads spin beside the server through the burst",
            args.busy_threads
        );
    }
    let busy = BusyThreads::start(args.busy_threads);
    let phase = Arc::new(Phase::default());
    let sampler = sample(pid, phase.clone());
    let began = Instant::now();
    let cpu_before = CpuSplit::of(pid).context("server CPU time")?;
    let flushes_before = log_flushes(&client).await?;
    let created = burst(&client, &args, args.posts, args.body_bytes).await;
    let flushes = log_flushes(&client).await?.saturating_sub(flushes_before);
    let took = began.elapsed().as_secs_f64();
    let burst_cpu = phase.cpu_since(pid, &cpu_before)?;
    sampler.abort();
    drop(busy);
    report(
        "burst",
        took,
        created,
        &phase,
        &ProcStatus::of(pid).context("server status")?,
    );

    let burst_phase = phase;
    let phase = Arc::new(Phase::default());
    let sampler = sample(pid, phase.clone());
    let began = Instant::now();
    let cpu_before = CpuSplit::of(pid).context("server CPU time")?;
    let status = wait_for_git(&client).await?;
    let catch_up_cpu = phase.cpu_since(pid, &cpu_before)?;
    let catch_up_seconds = began.elapsed().as_secs_f64();
    sampler.abort();
    let git_behind = status.head;
    report(
        "catch-up",
        catch_up_seconds,
        0,
        &phase,
        &ProcStatus::of(pid).context("server status")?,
    );
    let catch_up_phase = phase;

    let phase = Arc::new(Phase::default());
    let sampler = sample(pid, phase.clone());
    tokio::time::sleep(Duration::from_secs(args.idle_seconds)).await;
    sampler.abort();
    let idle = ProcStatus::of(pid).context("server status")?;
    report("idle", args.idle_seconds as f64, 0, &phase, &idle);
    println!(
        "idle RSS split: {:.1} MiB anonymous (heap, caches, stacks), {:.1} MiB mapped from files (the binary, libraries)",
        idle.anon_kib as f64 / 1024.0,
        idle.file_kib as f64 / 1024.0
    );

    let mut by_name = std::collections::BTreeMap::<&str, Duration>::new();
    for (name, time) in burst_cpu.threads.values().chain(catch_up_cpu.threads.values()) {
        *by_name.entry(name).or_default() += *time;
    }
    let mut by_name: Vec<_> = by_name.into_iter().filter(|(_, t)| !t.is_zero()).collect();
    by_name.sort_by_key(|b| std::cmp::Reverse(b.1));
    let by_name: Vec<String> = by_name
        .iter()
        .map(|(n, t)| format!("{n} {:.2}", t.as_secs_f64()))
        .collect();
    println!("CPU seconds by thread name, burst + catch-up: {}", by_name.join(", "));

    let repo = data.path().join("content.git");
    let git_mib = folder_size(&repo) as f64 / 1_048_576.0;
    let loose = quire_storage::git::count_loose_objects(&repo);
    println!("content.git: {git_mib:.1} MiB, {loose} loose objects, {git_behind} events in git");

    let latency = publish_latencies(&client, data.path(), args.publishes).await?;
    let mib = |kib: u64| kib as f64 / 1024.0;
    let peak = |phase: &Phase| mib(phase.peak_rss_kib.load(Ordering::Relaxed));
    let threads = burst_phase
        .max_threads
        .load(Ordering::Relaxed)
        .max(catch_up_phase.max_threads.load(Ordering::Relaxed));
    let rate = created as f64 / took;
    let fsync_ms = 1000.0 / fsyncs;
    println!();
    println!("| what | measured | anchor (same run) | ratio | target |");
    println!("|---|---|---|---|---|");
    println!(
        "| durable creates/s, {} connections | {rate:.0} | {fsyncs:.0} fsyncs/s | {:.2}x | >= 3x |",
        args.connections,
        rate / fsyncs
    );
    println!(
        "| log flushes in the burst | {flushes} ({:.1} creates per flush) | | | |",
        created as f64 / flushes.max(1) as f64
    );
    let per = |cpu: Duration| micros_per(cpu, created);
    let projections = |split: &CpuSplit| split.threads_named(PROJECTION_THREADS);
    println!(
        "| server CPU per create in the burst: write path (all but the projections' threads) / all | {:.0} / {:.0} us | | | <= 150 us |",
        per(burst_cpu.total.saturating_sub(projections(&burst_cpu) + burst_cpu.unseen())),
        per(burst_cpu.total)
    );
    for (what, names) in [("git", &["quire-git"][..]), ("site", &["quire-site"][..])] {
        println!(
            "| {what} thread's CPU per event: burst + catch-up | {:.0} + {:.0} us | | | |",
            per(burst_cpu.threads_named(names)),
            per(catch_up_cpu.threads_named(names))
        );
    }
    println!(
        "| CPU per event of the rest: write path in the catch-up / `git` children (repack) / threads no 100 ms reading saw | {:.0} / {:.0} / {:.0} us | | | |",
        per(catch_up_cpu.total.saturating_sub(projections(&catch_up_cpu) + catch_up_cpu.unseen())),
        per(burst_cpu.children + catch_up_cpu.children),
        per(burst_cpu.unseen() + catch_up_cpu.unseen())
    );
    println!(
        "| peak RSS: burst / catch-up | {:.1} / {:.1} MiB | start {:.1} MiB | | <= 150 MB |",
        peak(&burst_phase),
        peak(&catch_up_phase),
        start.rss_mib()
    );
    println!(
        "| RSS idle at {created} posts | {:.1} MiB | | | <= 60 MB |",
        idle.rss_mib()
    );
    println!(
        "| most threads (burst, catch-up) | {threads} | {} at start | | <= 32 |",
        start.threads
    );
    println!("| content.git | {git_mib:.1} MiB, {loose} loose | | | <= 50 MB |");
    for (what, samples, target) in [
        ("publish -> 201", &latency.ack, "p99 <= 100 ms"),
        ("publish -> page on disk", &latency.page, "p99 <= 100 ms"),
        ("publish -> commit in git", &latency.commit, "p99 <= 100 ms"),
        ("publish -> site and git caught up (lists too)", &latency.settled, ""),
    ] {
        if samples.is_empty() {
            // `--publishes 0`: nothing was timed.
            continue;
        }
        let (p50, p99) = (percentile(samples, 0.5), percentile(samples, 0.99));
        println!(
            "| {what}, idle, p50 / p99 of {} | {p50:.1} / {p99:.1} ms | one fsync {fsync_ms:.2} ms | {:.0}x | {target} |",
            samples.len(),
            p99 / fsync_ms
        );
    }
    // A clean stop ends the server's background `git repack` too; killed, the server would
    // leave it running into the next run (and writing into a folder being removed).
    cold_start::stop(server).await
}

/// The log's flushes so far (`quire_log_flushes_total` in `/metrics`).
async fn log_flushes(client: &Client) -> anyhow::Result<u64> {
    let text = client.get("/metrics").await.text().await.context("reading /metrics")?;
    text.lines()
        .find_map(|line| line.strip_prefix("quire_log_flushes_total "))
        .and_then(|n| n.trim().parse().ok())
        .context("/metrics has no quire_log_flushes_total")
}

fn micros_per(cpu: Duration, n: usize) -> f64 {
    cpu.as_secs_f64() * 1e6 / n.max(1) as f64
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Milliseconds from sending a create to its answer, to its page on disk and to its commit in
/// git, sorted.
#[derive(Debug, Default)]
struct Latencies {
    ack: Vec<f64>,
    page: Vec<f64>,
    commit: Vec<f64>,
    /// Until the site and git have the event entirely (lists, feeds and sitemap included).
    settled: Vec<f64>,
}

/// Publishes `n` posts one at a time on the idle server, polling the site folder and
/// `content.git`'s `main` every millisecond for each, then `/api/v1/status` until the site and
/// git have all of it; the next one goes 50 ms after that, so each starts on an idle server.
async fn publish_latencies(client: &Client, data: &Path, n: usize) -> anyhow::Result<Latencies> {
    let repo = data.join("content.git");
    let mut latencies = Latencies::default();
    for i in 0..n {
        let (_, before) = quire_storage::GitProjection::main_of(&repo)?;
        let began = Instant::now();
        let body = json!({"title": format!("Timed publish {i}"), "status": "published",
                          "body": "A post published on an idle server."});
        let response = client.post_json("/api/v1/posts", &body, &[]).await;
        anyhow::ensure!(
            response.status().as_u16() == 201,
            "create answered {}",
            response.status()
        );
        latencies.ack.push(ms(began.elapsed()));
        let post: serde_json::Value = response.json().await?;
        let slug = post["slug"].as_str().context("slug")?.to_owned();
        let page = data.join("site/posts").join(&slug).join("index.html");
        let (mut page_at, mut commit_at) = (None, None);
        let deadline = began + Duration::from_secs(30);
        while page_at.is_none() || commit_at.is_none() {
            anyhow::ensure!(
                Instant::now() < deadline,
                "publish {i} not on disk and in git after 30 s"
            );
            if page_at.is_none() && page.exists() {
                page_at = Some(began.elapsed());
            }
            if commit_at.is_none() && quire_storage::GitProjection::main_of(&repo)?.1 > before {
                commit_at = Some(began.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        latencies.page.extend(page_at.map(ms));
        latencies.commit.extend(commit_at.map(ms));
        loop {
            let status: StatusResponse = client.get("/api/v1/status").await.json().await?;
            if status.site.lag == Some(0) && status.git.lag == Some(0) {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "publish {i}: the site and git did not catch up in 30 s: {status:?}"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        latencies.settled.push(ms(began.elapsed()));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for samples in [
        &mut latencies.ack,
        &mut latencies.page,
        &mut latencies.commit,
        &mut latencies.settled,
    ] {
        samples.sort_by(f64::total_cmp);
    }
    Ok(latencies)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
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
                phase.record(&status, CpuSplit::of(pid));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

/// Creates `posts` published posts over `connections` connections; returns how many got 201.
async fn burst(client: &Client, args: &Args, posts: usize, body_bytes: usize) -> usize {
    const WORDS: &str = "Some words here. ";
    let words = WORDS.repeat((body_bytes / WORDS.len()).max(1));
    let last_year = time::OffsetDateTime::now_utc().year() - 1;
    stream::iter(0..posts)
        .map(|i| {
            let (client, words) = (client.clone(), &words);
            async move {
                let mut body = json!({"title": format!("Burst post number {i}"), "status": "published",
                                      "body": format!("Post {i} of a burst.\n\n{words}")});
                if let Some(date) = past_date(i, args.years, last_year) {
                    body["publish_at"] = json!(date);
                }
                let response = client.post_json("/api/v1/posts", &body, &[]).await;
                response.status().as_u16() == 201
            }
        })
        .buffer_unordered(args.connections)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await
}

/// Post `i`'s `publish_at` when the posts are spread over `years` past years: year
/// `last_year - i % years`, its month and day moving on with `i / years`; `None` for `years` 0.
fn past_date(i: usize, years: u32, last_year: i32) -> Option<String> {
    let years = usize::try_from(years).ok().filter(|&y| y > 0)?;
    let year = last_year - i32::try_from(i % years).ok()?;
    let step = i / years;
    let (month, day, minute) = (1 + step % 12, 1 + (step / 12) % 28, (step / 336) % 1440);
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:00Z",
        minute / 60,
        minute % 60
    ))
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

#[cfg(test)]
mod tests {
    use time::format_description::well_known::Rfc3339;
    use time::OffsetDateTime;

    use super::past_date;

    #[test]
    fn past_dates_rotate_over_the_years_and_parse() {
        assert_eq!(past_date(5, 0, 2025), None);
        let dates: Vec<OffsetDateTime> = (0..100_000)
            .map(|i| {
                let date = past_date(i, 20, 2025).expect("20 years give a date");
                OffsetDateTime::parse(&date, &Rfc3339).expect("an RFC 3339 date")
            })
            .collect();
        assert_eq!(dates[0].year(), 2025);
        assert_eq!(dates[19].year(), 2006);
        assert_eq!(dates[20].year(), 2025);
        assert!(dates.iter().all(|d| (2006..=2025).contains(&d.year())));
        let distinct: std::collections::HashSet<_> = dates.iter().collect();
        assert_eq!(distinct.len(), dates.len(), "every post has its own time");
    }
}
