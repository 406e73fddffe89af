//! `quire-media-bench`: photo uploads as a phone sends them (issue 11). Starts the real `quire`
//! binary (the one next to this executable, or `QUIRE_BIN`), makes `--megapixels` JPEG photos
//! in memory (each a little different, so none is deduplicated), then
//!
//! 1. uploads `--single` of them one at a time: the time to the 201 (stream to disk, decode, turn
//!    upright, shrink to `media.max_dimension`, re-encode, fsync, event) and from the 201 until
//!    the site projection has written the photo's widest smaller copy (`site/media/w1600/…` for
//!    a photo wider than 1600 px);
//! 2. uploads `--uploads` of them over `--connections` connections: uploads/s and MB/s.
//!
//! `/proc/<pid>/status` is sampled every 50 ms: the server's resident memory idle before the
//! uploads and its peak during each phase. Anchor, measured in the same run on the same folder:
//! how fast the disk takes the same bytes (write + fsync), and how long this process needs to
//! decode, shrink and encode one photo with the same `image` crate.
//!
//! ```text
//! cargo build --release -p quire-api -p quire-integration-tests --bins
//! target/release/quire-media-bench --megapixels 12 --single 5 --uploads 20 --connections 4
//! ```

use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use futures_util::stream::{self, StreamExt as _};
use quire_integration_tests::proc_status::ProcStatus;
use quire_integration_tests::{BinaryServer, Client, ADMIN};
use quire_openapi::MediaResponse;

#[derive(Debug, Parser)]
#[command(about = "Photo uploads: latency, throughput, time to the site's copies, and memory")]
struct Args {
    /// Size of each photo, in megapixels (4:3).
    #[arg(long, default_value_t = 12.0)]
    megapixels: f64,
    /// Photos uploaded one at a time (latency, and time until the site's copies exist).
    #[arg(long, default_value_t = 5)]
    single: usize,
    /// Photos uploaded concurrently (throughput).
    #[arg(long, default_value_t = 20)]
    uploads: usize,
    /// Concurrent connections for the throughput phase.
    #[arg(long, default_value_t = 4)]
    connections: usize,
}

fn photo(width: u32, height: u32, n: usize) -> Vec<u8> {
    let seed = n as u32;
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        let noise = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503) ^ seed.wrapping_mul(97)) >> 27;
        image::Rgb([
            ((x * 255 / width) as u8).wrapping_add(noise as u8),
            ((y * 255 / height) as u8).wrapping_add(seed as u8),
            (((x + y) / 16) as u8) ^ noise as u8,
        ])
    });
    let mut out = Vec::new();
    img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90))
        .expect("encode");
    out
}

fn sample(pid: u32, peak: Arc<AtomicU64>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Some(status) = ProcStatus::of(pid) {
                peak.fetch_max(status.rss_kib, Ordering::Relaxed);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
}

async fn upload(client: &Client, bytes: Vec<u8>) -> anyhow::Result<MediaResponse> {
    let response = client
        .request(reqwest::Method::POST, "/api/v1/media?alt=bench")
        .header("content-type", "image/jpeg")
        .body(bytes)
        .send()
        .await?;
    anyhow::ensure!(response.status() == 201, "upload answered {}", response.status());
    Ok(response.json().await?)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let height = ((args.megapixels * 1e6 * 3.0 / 4.0).sqrt()) as u32;
    let width = height * 4 / 3;
    let total = args.single + args.uploads;
    let photos: Vec<Vec<u8>> = (0..total).map(|n| photo(width, height, n)).collect();
    let mean_mb = photos.iter().map(Vec::len).sum::<usize>() as f64 / total as f64 / 1e6;
    println!(
        "{total} photos of {width}×{height} ({:.1} MP), {mean_mb:.1} MB each on average",
        f64::from(width * height) / 1e6
    );

    let data = tempfile::tempdir_in(std::env::current_dir()?).context("temp dir")?;
    // Anchors: the disk taking the same bytes, and this process doing the image work.
    let began = Instant::now();
    let probe = data.path().join("disk-probe");
    for bytes in photos.iter().take(5) {
        let mut file = std::fs::File::create(&probe)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    let disk_mb_s = photos.iter().take(5).map(Vec::len).sum::<usize>() as f64 / 1e6 / began.elapsed().as_secs_f64();
    std::fs::remove_file(&probe)?;
    let began = Instant::now();
    let decoded = image::load_from_memory(&photos[0])?;
    let shrunk = decoded.thumbnail(2560, 2560);
    let mut out = Vec::new();
    shrunk.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 88))?;
    let work_ms = began.elapsed().as_secs_f64() * 1e3;
    println!("anchors: disk {disk_mb_s:.0} MB/s (write + fsync of the same photos); decode + shrink to 2560 px + encode in this process: {work_ms:.0} ms");

    let server = BinaryServer::start(data.path()).await;
    let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    let pid = server.pid();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = ProcStatus::of(pid).context("server status")?;
    println!("server idle: {:.1} MiB RSS, {} threads", idle.rss_mib(), idle.threads);

    let peak = Arc::new(AtomicU64::new(0));
    let sampler = sample(pid, peak.clone());
    let (mut latencies, mut to_copies) = (Vec::new(), Vec::new());
    for bytes in photos.iter().take(args.single) {
        let began = Instant::now();
        let media = upload(&client, bytes.clone()).await?;
        latencies.push(began.elapsed().as_secs_f64() * 1e3);
        let acked = Instant::now();
        // The widest copy the site makes of this photo (none for a photo narrower than 480 px).
        if let Some(widest) = quire_render::image_variant_widths(media.width).max() {
            let copy = data
                .path()
                .join(format!("site/media/w{widest}"))
                .join(format!("{}.jpg", media.hash));
            while !copy.exists() {
                anyhow::ensure!(
                    acked.elapsed() < Duration::from_secs(60),
                    "no copy after 60 s: {}",
                    copy.display()
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            to_copies.push(acked.elapsed().as_secs_f64() * 1e3);
        }
    }
    sampler.abort();
    let single_peak = peak.swap(0, Ordering::Relaxed) as f64 / 1024.0;
    latencies.sort_by(f64::total_cmp);
    to_copies.sort_by(f64::total_cmp);
    if to_copies.is_empty() {
        to_copies.push(0.0);
    }
    println!(
        "one at a time ({}): upload p50 {:.0} ms, max {:.0} ms; 201 → copies on disk p50 {:.0} ms, max {:.0} ms; peak RSS {single_peak:.1} MiB (+{:.1} over idle)",
        args.single,
        percentile(&latencies, 0.5),
        percentile(&latencies, 1.0),
        percentile(&to_copies, 0.5),
        percentile(&to_copies, 1.0),
        single_peak - idle.rss_mib(),
    );

    let sampler = sample(pid, peak.clone());
    let began = Instant::now();
    let batch: Vec<Vec<u8>> = photos.into_iter().skip(args.single).collect();
    let bytes: usize = batch.iter().map(Vec::len).sum();
    let ok = stream::iter(batch)
        .map(|photo| {
            let client = client.clone();
            async move { upload(&client, photo).await.is_ok() }
        })
        .buffer_unordered(args.connections)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await;
    let seconds = began.elapsed().as_secs_f64();
    sampler.abort();
    let burst_peak = peak.load(Ordering::Relaxed) as f64 / 1024.0;
    println!(
        "{} connections: {ok}/{} uploads in {seconds:.1} s = {:.2} uploads/s, {:.1} MB/s ({:.2}× the disk's rate); peak RSS {burst_peak:.1} MiB (+{:.1} over idle)",
        args.connections,
        args.uploads,
        ok as f64 / seconds,
        bytes as f64 / 1e6 / seconds,
        bytes as f64 / 1e6 / seconds / disk_mb_s,
        burst_peak - idle.rss_mib(),
    );
    Ok(())
}
