//! `quire-bench`: durable publishes per second over real HTTP.
//!
//! Starts the real `quire` binary (the one next to this executable, or `--bin`) on a temporary
//! data folder — or uses `--url` — then, for each client count, runs that many concurrent
//! clients creating published posts for `--seconds` and prints publishes/s and p50/p99 latency.
//! Every counted publish got a 201, which Quire sends only after the event is flushed.
//!
//! ```text
//! cargo build --release -p quire-api -p quire-integration-tests
//! target/release/quire-bench --clients 1,8,64 --seconds 10
//! ```

use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use quire_integration_tests::{BinaryServer, Client, ADMIN};
use serde_json::json;

#[derive(Debug, Parser)]
#[command(about = "Measure durable publishes/s of a Quire server")]
struct Args {
    /// Client counts to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,8,64")]
    clients: Vec<usize>,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// An already running server (with the admin below); default: start the binary.
    #[arg(long)]
    url: Option<String>,
    #[arg(long, default_value = ADMIN.0)]
    user: String,
    #[arg(long, default_value = ADMIN.1)]
    password: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let data = tempfile::tempdir().context("temp dir")?;
    let (_server, base) = match &args.url {
        Some(url) => (None, url.clone()),
        None => {
            let server = BinaryServer::start(data.path()).await;
            let base = server.base.clone();
            (Some(server), base)
        }
    };
    let client = Client::login(&base, &args.user, &args.password).await;
    println!(
        "{:>8} {:>10} {:>14} {:>9} {:>9}",
        "clients", "publishes", "publishes/s", "p50 ms", "p99 ms"
    );
    for &clients in &args.clients {
        let (count, mut latencies, elapsed) = measure(&client, clients, Duration::from_secs_f64(args.seconds)).await;
        latencies.sort_unstable();
        let pct = |p: f64| {
            latencies
                .get(((latencies.len() as f64 - 1.0) * p) as usize)
                .map_or(0.0, |d| d.as_secs_f64() * 1e3)
        };
        println!(
            "{clients:>8} {count:>10} {:>14.0} {:>9.2} {:>9.2}",
            count as f64 / elapsed.as_secs_f64(),
            pct(0.50),
            pct(0.99)
        );
    }
    Ok(())
}

async fn measure(client: &Client, clients: usize, duration: Duration) -> (usize, Vec<Duration>, Duration) {
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut i = 0u64;
                while Instant::now() < deadline {
                    let body = json!({
                        "title": format!("bench {c} {i}"),
                        "body": "A short post written by the benchmark.\n\nIt has *two* paragraphs.",
                        "status": "published",
                        "tags": ["bench"],
                    });
                    let t = Instant::now();
                    let response = client.post_json("/api/v1/posts", &body, &[]).await;
                    assert_eq!(response.status(), 201, "publish failed");
                    latencies.push(t.elapsed());
                    i += 1;
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("client task"));
    }
    (all.len(), all, start.elapsed())
}
