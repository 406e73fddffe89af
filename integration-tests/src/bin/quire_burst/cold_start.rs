//! `--cold-start-events N`: how long the real binary takes from being spawned to `/readyz`
//! answering 200 on a data folder of N events, with git and the site caught up.
//!
//! The folder is made through the API as a user would make it (N creates over the burst's
//! connections, then the wait until git and the site have every event), the server stopped
//! with SIGTERM, then started `--cold-start-runs` times. Beside it, the anchor from the same
//! run: reading every file of the data folder once (as `cat` to /dev/null would), and of the
//! log (sled) folder alone. Both are warm-cache figures: the folder was just written.

use std::io::Read as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use quire_integration_tests::{BinaryServer, Client, ADMIN};
use quire_openapi::StatusResponse;

use super::ms;

const GIT_ON: [(&str, &str); 1] = [("QUIRE_GIT__ENABLED", "true")];

/// Builds the folder, then times `runs` cold starts; prints the figures and a table row.
pub(crate) async fn measure(args: &super::Args) -> anyhow::Result<()> {
    let (events, runs) = (args.cold_start_events, args.cold_start_runs.max(1));
    let data = tempfile::tempdir_in(std::env::current_dir()?).context("temp dir")?;
    let began = Instant::now();
    let server = BinaryServer::start_with_env(data.path(), &GIT_ON).await;
    let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    let created = super::burst(&client, args, events, super::SHORT_BODY).await;
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
    for run in 0..runs {
        let (took, head) = time_to_ready(data.path()).await?;
        anyhow::ensure!(
            head == status.head,
            "run {run}: /readyz names head {head}, expected {}",
            status.head
        );
        println!("cold start {}: spawn -> /readyz 200 in {:.0} ms", run + 1, ms(took));
        times.push(ms(took));
    }
    times.sort_by(f64::total_cmp);
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
    Ok(())
}

/// Spawns the binary on `data` and polls `/readyz` every 2 ms; returns the time to its first
/// 200 and the head it names, after stopping the server again.
async fn time_to_ready(data: &Path) -> anyhow::Result<(Duration, u64)> {
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
    stop(server).await?;
    Ok((took, head))
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
