//! `--cold-start-events N`: how long the real binary takes from being spawned to `/readyz`
//! answering 200 on a data folder of N events, with git and the site caught up.
//!
//! The folder is made through the API as a user would make it (N creates of `--body-bytes`
//! over the burst's connections, then the wait until git and the site have every event), the
//! server stopped with SIGTERM, then started `--cold-start-runs` times. Beside it, the anchor
//! from the same run: reading every file of the data folder once (as `cat` to /dev/null
//! would), and of the log (sled) folder alone. Both are warm-cache figures: the folder was just written.
//!
//! After each start it also waits until git and the site have caught up with the log again
//! and the server has been idle for [`SETTLE`], and reads its resident memory: what a server
//! holds once it has been restarted on a folder of N events (a Pi after a reboot).

use std::io::Read as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use quire_integration_tests::{BinaryServer, Client, ADMIN};
use quire_openapi::StatusResponse;

use super::ms;

const GIT_ON: [(&str, &str); 1] = [("QUIRE_GIT__ENABLED", "true")];

/// Idle time after a restart's projections caught up, before its memory is read (the server
/// gives memory back after a tick without progress).
const SETTLE: Duration = Duration::from_secs(3);

/// Builds the folder, then times `runs` cold starts; prints the figures and a table row.
pub(crate) async fn measure(args: &super::Args) -> anyhow::Result<()> {
    let (events, runs) = (args.cold_start_events, args.cold_start_runs.max(1));
    let data = tempfile::tempdir_in(std::env::current_dir()?).context("temp dir")?;
    let began = Instant::now();
    let server = BinaryServer::start_with_env(data.path(), &GIT_ON).await;
    let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    let created = super::burst(&client, args, events, args.body_bytes).await;
    let status = wait_caught_up(&client).await?;
    stop(server).await?;
    println!(
        "cold start: made {created} posts ({} events, {}) through the API, git and site caught up, in {:.0} s",
        status.head,
        match args.years {
            0 => "all in this year's folder".to_owned(),
            years => format!("spread over {years} past years"),
        },
        began.elapsed().as_secs_f64()
    );
    let (all_bytes, all_read) = read_all(data.path())?;
    let (log_bytes, log_read) = read_all(&data.path().join("log"))?;
    let mib = |bytes: u64| bytes as f64 / 1_048_576.0;
    println!(
        "anchor: reading the data folder once {:.0} ms ({:.1} MiB); the log folder {:.0} ms ({:.1} MiB); \
         content.git {:.1} MiB, site {:.1} MiB",
        ms(all_read),
        mib(all_bytes),
        ms(log_read),
        mib(log_bytes),
        mib(super::folder_size(&data.path().join("content.git"))),
        mib(super::folder_size(&data.path().join("site"))),
    );
    let mut times = Vec::with_capacity(runs);
    let mut idle = Vec::with_capacity(runs);
    for run in 0..runs {
        let start = time_to_ready(data.path()).await?;
        anyhow::ensure!(
            start.head == status.head,
            "run {run}: /readyz names head {}, expected {}",
            start.head,
            status.head
        );
        println!(
            "cold start {}: spawn -> /readyz 200 in {:.0} ms; idle once caught up: RSS {:.1} MiB \
             ({:.1} anonymous, {:.1} from files), peak {:.1} MiB",
            run + 1,
            ms(start.took),
            start.idle.rss_mib(),
            mib(start.idle.anon_kib * 1024),
            mib(start.idle.file_kib * 1024),
            start.idle.hwm_mib()
        );
        times.push(ms(start.took));
        idle.push(start.idle.rss_mib());
    }
    times.sort_by(f64::total_cmp);
    idle.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!();
    println!("| what | measured | anchor (same run) | ratio | target |");
    println!("|---|---|---|---|---|");
    println!(
        "| cold start to /readyz at {} events, median of {runs} | {median:.0} ms | reading the data folder once {:.0} ms | {:.2}x | <= 300 ms |",
        status.head,
        ms(all_read),
        median / ms(all_read).max(0.001)
    );
    println!(
        "| RSS idle after a restart at {} events, median of {runs} | {:.1} MiB | | | <= 60 MB at 10k posts |",
        status.head,
        idle[idle.len() / 2]
    );
    Ok(())
}

/// One timed start.
struct Start {
    /// Spawn to the first 200 from `/readyz`.
    took: Duration,
    /// The head `/readyz` named.
    head: u64,
    /// The server's memory once its projections caught up and it stayed idle for [`SETTLE`].
    idle: quire_integration_tests::proc_status::ProcStatus,
}

/// Spawns the binary on `data` and polls `/readyz` every 2 ms; returns the time to its first
/// 200, the head it names and its memory once idle, after stopping the server again.
async fn time_to_ready(data: &Path) -> anyhow::Result<Start> {
    let http = reqwest::Client::new();
    let began = Instant::now();
    let server = BinaryServer::spawn_with_env(data, &GIT_ON);
    let url = format!("{}/readyz", server.base);
    let deadline = began + Duration::from_secs(300);
    let (took, head) = loop {
        if let Ok(response) = http.get(&url).send().await {
            if response.status().is_success() {
                let took = began.elapsed();
                let ready: serde_json::Value = response.json().await?;
                break (took, ready["head"].as_u64().context("/readyz names no head")?);
            }
        }
        anyhow::ensure!(Instant::now() < deadline, "not ready after 300 s");
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    wait_caught_up(&client).await?;
    drop(client);
    tokio::time::sleep(SETTLE).await;
    let idle = server.proc_status();
    stop(server).await?;
    Ok(Start { took, head, idle })
}

async fn wait_caught_up(client: &Client) -> anyhow::Result<StatusResponse> {
    let deadline = Instant::now() + Duration::from_secs(3600);
    loop {
        let status: StatusResponse = client.get("/api/v1/status").await.json().await?;
        if status.git.lag == Some(0) && status.site.lag == Some(0) && status.git.last_error.is_none() {
            return Ok(status);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "git and the site did not catch up: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Stops `server` with SIGTERM, as a service manager would, and checks it stopped cleanly.
pub(crate) async fn stop(server: BinaryServer) -> anyhow::Result<()> {
    let status = tokio::task::spawn_blocking(move || server.signal(libc::SIGTERM)).await?;
    anyhow::ensure!(status.success(), "quire stopped with {status}");
    Ok(())
}

/// Reads every file under `dir` once; returns the bytes read and the time it took.
fn read_all(dir: &Path) -> anyhow::Result<(u64, Duration)> {
    let began = Instant::now();
    let mut buffer = vec![0u8; 1 << 20];
    let mut total = 0;
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            }
            if !kind.is_file() {
                continue;
            }
            let mut file = std::fs::File::open(entry.path())?;
            loop {
                let n = file.read(&mut buffer)?;
                if n == 0 {
                    break;
                }
                total += n as u64;
            }
        }
    }
    Ok((total, began.elapsed()))
}
