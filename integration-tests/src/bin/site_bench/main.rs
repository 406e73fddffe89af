//! `quire-site-bench`: how fast Quire renders its site, next to Hugo on the same posts.
//!
//! For each post count it writes that many generated posts (headings, lists, code, links) into
//! a fresh event log, then measures, on a temporary folder:
//!
//! - **full render**: the site projection's first catch-up — folding the log and rendering and
//!   atomically writing every page (fsync per file), as on first start or a settings change. It
//!   runs in a child process that opens the log as the server does (`storage.cache_mb = 8`), so
//!   its peak RSS is the render's own, like Hugo's, not the generator's;
//! - **rebuild, unchanged**: `quire rebuild site` when nothing changed (pages are rendered and
//!   compared, none is written);
//! - **single publish** and **single edit**: one new published post, or an edit of an old one,
//!   followed by the projection's incremental catch-up (the append itself is not timed);
//! - **Hugo**: `hugo` on the same posts with a minimal layout, if installed (`--hugo PATH`).
//!
//! ```text
//! cargo build --release -p quire-integration-tests --bin quire-site-bench
//! target/release/quire-site-bench --posts 1000,10000
//! ```

mod corpus;
mod hugo;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use quire_api::site::SiteProjection;
use quire_render::SiteConfig;
use quire_storage::{system_clock, Actor, NewPost, PostPatch, Posts, Role, SledOptions, SledStore, Status};

#[derive(Debug, Parser)]
#[command(about = "Measure Quire's site rendering against Hugo")]
struct Args {
    /// Post counts to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    posts: Vec<usize>,
    /// Single publishes (and edits) to time after each full render.
    #[arg(long, default_value_t = 10)]
    publishes: usize,
    /// The Hugo executable.
    #[arg(long, default_value = "hugo")]
    hugo: String,
    /// Folder for the temporary data (default: the system's temporary folder).
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
    /// Internal: render the site of the data folder DIR in this process and print the result.
    #[arg(long, hide = true)]
    render_only: Option<std::path::PathBuf>,
}

/// The server's default sled cache (`storage.cache_mb`).
fn server_store_options() -> SledOptions {
    SledOptions {
        cache_bytes: 8 * 1024 * 1024,
        ..SledOptions::default()
    }
}

/// The full render in this process: prints `pages seconds peak_kib` for the parent.
fn render_only(dir: &Path) -> anyhow::Result<()> {
    let store = SledStore::open(&dir.join("log"), &server_store_options())?;
    let mut projection = SiteProjection::open(SiteConfig::default(), dir.join("site"))?;
    let started = Instant::now();
    let full = projection.catch_up(&store)?;
    let secs = started.elapsed().as_secs_f64();
    let peak = hugo::vm_hwm_kib("/proc/self/status").context("VmHWM of the render process")?;
    println!("{} {secs} {peak}", full.written + full.unchanged);
    Ok(())
}

/// Runs [`render_only`] in a child process: pages, seconds and its peak RSS in KiB. A profiler
/// can wrap the child: `QUIRE_SITE_BENCH_WRAP=heaptrack` runs `heaptrack quire-site-bench …`.
fn render_in_child(dir: &Path) -> anyhow::Result<(usize, f64, u64)> {
    let exe = std::env::current_exe()?;
    let mut command = match std::env::var("QUIRE_SITE_BENCH_WRAP") {
        Ok(wrapper) if !wrapper.trim().is_empty() => {
            let mut words = wrapper.split_whitespace();
            let mut command = std::process::Command::new(words.next().unwrap_or_default());
            command.args(words).arg(exe);
            command
        }
        _ => std::process::Command::new(exe),
    };
    let out = command
        .arg("--render-only")
        .arg(dir)
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("starting the render process")?;
    anyhow::ensure!(out.status.success(), "the render process failed: {}", out.status);
    let text = String::from_utf8(out.stdout)?;
    let mut fields = text.split_whitespace();
    let mut next = || fields.next().context("the render process's output");
    Ok((next()?.parse()?, next()?.parse()?, next()?.parse()?))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(dir) = &args.render_only {
        return render_only(dir);
    }
    let hugo_version = hugo::version(&args.hugo);
    match &hugo_version {
        Some(v) => println!("hugo: {v}"),
        None => println!(
            "hugo: not found ({}); Quire's numbers only. Install it with `apt-get install -y hugo`.",
            args.hugo
        ),
    }
    for &n in &args.posts {
        let dir = match &args.dir {
            Some(parent) => tempfile::tempdir_in(parent),
            None => tempfile::tempdir(),
        }
        .context("temporary folder")?;
        run(&args, n, dir.path(), hugo_version.is_some())?;
    }
    Ok(())
}

fn run(args: &Args, n: usize, dir: &Path, with_hugo: bool) -> anyhow::Result<()> {
    println!("\n== {n} posts ==");
    let generated = corpus::posts(n);
    let store = Arc::new(SledStore::open(&dir.join("log"), &SledOptions::default())?);
    let posts = Posts::new(store.clone(), system_clock());
    let started = Instant::now();
    let slugs = write_posts(&posts, &generated)?;
    let words: usize = generated.iter().map(|g| g.body.split_whitespace().count()).sum();
    println!(
        "log:    {n} posts ({} words each on average) appended in {:.1} s",
        words / n.max(1),
        started.elapsed().as_secs_f64()
    );

    // The log is closed while the child renders from it, then opened again for the publishes.
    drop(posts);
    drop(store);
    let (pages, full_secs, rss) = render_in_child(dir)?;
    println!(
        "quire:  full render  {pages} pages in {full_secs:.2} s = {:.0} pages/s (peak RSS of the render process {} MiB)",
        pages as f64 / full_secs,
        rss / 1024
    );
    let store = Arc::new(SledStore::open(&dir.join("log"), &server_store_options())?);
    let posts = Posts::new(store.clone(), system_clock());
    let site = dir.join("site");
    let mut projection = SiteProjection::open(SiteConfig::default(), &site)?;
    // As on a server's restart: the model is folded again, the pages on disk are kept.
    let restarted = projection.catch_up(store.as_ref())?;
    anyhow::ensure!(restarted.written == 0, "a restart rewrote {} pages", restarted.written);

    let started = Instant::now();
    let rebuilt = SiteProjection::open(SiteConfig::default(), &site)?.rebuild(store.as_ref(), &mut |_, _| {})?;
    println!(
        "quire:  rebuild, unchanged  {} pages compared, {} written, in {:.2} s",
        rebuilt.unchanged + rebuilt.written,
        rebuilt.written,
        started.elapsed().as_secs_f64()
    );

    let actor = Actor::user(ulid::Ulid::new(), "bench", Role::Admin);
    let mut publish = Timings::default();
    let mut edit = Timings::default();
    for i in 0..args.publishes {
        let input = NewPost {
            title: format!("Fresh post {i}"),
            body: generated[i % generated.len()].body.clone(),
            tags: vec!["rust".into(), "fresh".into()],
            status: Some(Status::Published),
            ..NewPost::default()
        };
        posts.create(&actor, input, None)?;
        publish.time(|| projection.catch_up(store.as_ref()))?;
        let (old_id, _) = &slugs[(i * 7919 + n / 2) % slugs.len()];
        let patch = PostPatch {
            body: Some(format!("Edited body {i}.\n\n## Still here\n")),
            ..PostPatch::default()
        };
        posts.update(&actor, *old_id, None, patch, None)?;
        edit.time(|| projection.catch_up(store.as_ref()))?;
    }
    publish.print("single publish");
    edit.print("single edit (old post)");

    if with_hugo {
        let posts: Vec<(String, corpus::GenPost)> = slugs
            .iter()
            .map(|(_, slug)| slug.clone())
            .zip(generated.iter().cloned())
            .collect();
        let run = hugo::build(&args.hugo, &dir.join("hugo"), &posts)?;
        println!(
            "hugo:   full build   {} pages in {:.2} s = {:.0} pages/s (peak RSS {} MiB)",
            run.pages,
            run.seconds,
            run.pages as f64 / run.seconds,
            run.peak_rss_kib / 1024
        );
        println!(
            "ratio:  Hugo time / Quire time = {:.2} (above 1: Quire is faster)",
            run.seconds / full_secs
        );
    }
    Ok(())
}

/// Appends the generated posts as published, from a few threads so appends share flushes;
/// returns each post's id and slug in the order of `generated`.
fn write_posts(posts: &Posts, generated: &[corpus::GenPost]) -> anyhow::Result<Vec<(ulid::Ulid, String)>> {
    let actor = Actor::user(ulid::Ulid::new(), "bench", Role::Admin);
    let threads = 8;
    let chunk = generated.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = generated
            .chunks(chunk)
            .map(|part| {
                let actor = actor.clone();
                scope.spawn(move || {
                    part.iter()
                        .map(|g| {
                            let input = NewPost {
                                title: g.title.clone(),
                                body: g.body.clone(),
                                tags: g.tags.clone(),
                                status: Some(Status::Published),
                                publish_at: Some(g.published_at),
                                ..NewPost::default()
                            };
                            posts.create(&actor, input, None).map(|p| (p.id, p.slug))
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        let mut all = Vec::with_capacity(generated.len());
        for handle in handles {
            all.extend(
                handle
                    .join()
                    .map_err(|_| anyhow::anyhow!("a writer thread panicked"))??,
            );
        }
        Ok(all)
    })
}

/// Durations and pages written of repeated incremental catch-ups.
#[derive(Default)]
struct Timings {
    runs: Vec<(Duration, usize)>,
}

impl Timings {
    fn time(&mut self, f: impl FnOnce() -> quire_api::site::Result<quire_api::site::CatchUp>) -> anyhow::Result<()> {
        let started = Instant::now();
        let done = f()?;
        anyhow::ensure!(
            !done.full && done.events >= 1,
            "expected an incremental catch-up, got {done:?}"
        );
        self.runs.push((started.elapsed(), done.written + done.removed));
        Ok(())
    }

    fn print(&self, what: &str) {
        let mut times: Vec<Duration> = self.runs.iter().map(|r| r.0).collect();
        times.sort_unstable();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let pages: Vec<usize> = self.runs.iter().map(|r| r.1).collect();
        let (Some(min), Some(max)) = (times.first(), times.last()) else {
            return;
        };
        println!(
            "quire:  {what}: median {:.1} ms, min {:.1} ms, max {:.1} ms ({} runs; pages written {}-{})",
            ms(times[times.len() / 2]),
            ms(*min),
            ms(*max),
            times.len(),
            pages.iter().min().unwrap_or(&0),
            pages.iter().max().unwrap_or(&0),
        );
    }
}
