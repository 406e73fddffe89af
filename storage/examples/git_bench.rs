//! Benchmark of the git projection against `git fast-import`.
//!
//! `cargo run --release -p quire-storage --example git_bench -- --events 10000 [--years 4]`
//!
//! Writes N events (creates, edits, renames and publishes of posts spread over four years) into
//! a temporary sled log, replays them into a fresh bare repository with the projection and
//! reports commits/s. Then it exports the very same commits with `git fast-export`, imports
//! that stream into another fresh bare repository with `git fast-import` (only the import is
//! timed), reports its commits/s and the ratio, and checks both tips are the same commit.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use quire_storage::git::verify;
use quire_storage::{
    Actor, Clock, GitProjection, GitSettings, NewPost, PostPatch, Posts, Role, SledOptions, SledStore, Status, Store,
};
use time::OffsetDateTime;
use ulid::Ulid;

const WORDS: &[&str] = &[
    "quire", "ink", "page", "river", "stone", "light", "garden", "north", "letter", "window", "autumn", "bread",
    "signal", "harbor", "lantern", "copper", "meadow", "thread", "orbit", "salt", "cedar", "echo", "field", "paper",
];

/// A tiny deterministic generator, so every run writes the same content.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn words(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| WORDS[self.below(WORDS.len())])
            .collect::<Vec<_>>()
            .join(" ")
    }
    fn body(&mut self) -> String {
        let paragraphs = 2 + self.below(6);
        let mut out = Vec::with_capacity(paragraphs);
        for _ in 0..paragraphs {
            let words = 30 + self.below(60);
            out.push(format!("{}.\n", self.words(words)));
        }
        out.join("\n")
    }
    fn new_post(&mut self) -> NewPost {
        let title_words = 3 + self.below(5);
        NewPost {
            title: self.words(title_words),
            body: self.body(),
            tags: (0..self.below(4)).map(|_| self.words(1)).collect(),
            ..NewPost::default()
        }
    }
    /// A body edit (most), a new title, a publish or a slug change, by `roll` in 33..100.
    fn edit(&mut self, roll: usize) -> PostPatch {
        let mut patch = PostPatch::default();
        match roll {
            33..=79 => patch.body = Some(self.body()),
            80..=89 => patch.title = Some(self.words(4)),
            90..=96 => patch.status = Some(Status::Published),
            _ => patch.slug = Some(format!("{}-{}", self.words(1), self.next() % 100_000)),
        }
        patch
    }
}

type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> BoxResult<()> {
    let events = arg("--events")?.unwrap_or(10_000);
    let years = arg("--years")?.unwrap_or(4);
    let dir = tempfile::tempdir()?;
    let log = dir.path().join("log");
    let store = Arc::new(SledStore::open(&log, &SledOptions::default())?);
    let started = Instant::now();
    generate(&store, events, years)?;
    let elapsed = started.elapsed();
    println!("generated {} events over {years} years in {elapsed:.1?}", store.head());

    let repo = dir.path().join("content.git");
    let settings = GitSettings::default();
    let started = Instant::now();
    let cpu = cpu_seconds();
    let made = GitProjection::open(&repo, settings.clone())?.catch_up(store.as_ref())?;
    let gix_secs = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    let rate = made as f64 / gix_secs;
    println!("gix projection: {made} commits in {gix_secs:.2} s = {rate:.0} commits/s");
    let per_commit = cpu * 1e3 / made.max(1) as f64;
    println!("  CPU (this process and the git commands it ran): {cpu:.2} s = {per_commit:.2} ms per commit");
    let objects = git(&repo, &["count-objects", "-v"])?.replace('\n', " ");
    println!("  {objects}");
    println!("  content.git on disk: {:.1} MB", folder_size(&repo) as f64 / 1e6);

    let started = Instant::now();
    let report = verify(&repo, &settings, store.as_ref())?;
    let state = if report.is_ok() { "OK" } else { "PROBLEMS" };
    println!("verify: {state} in {:.2} s", started.elapsed().as_secs_f64());

    let imported = dir.path().join("imported.git");
    let fi_secs = fast_import(&repo, &imported, &dir.path().join("stream.fi"))?;
    let rate = made as f64 / fi_secs;
    println!("git fast-import: {made} commits in {fi_secs:.2} s = {rate:.0} commits/s");
    println!("ratio (fast-import speed / gix speed): {:.2}x", gix_secs / fi_secs);
    let (a, b) = (
        git(&repo, &["rev-parse", "main"])?,
        git(&imported, &["rev-parse", "main"])?,
    );
    println!("same tip commit: {} ({})", a == b, a.trim());
    Ok(())
}

/// Exports `repo`'s main to `stream` (untimed), then imports it into a fresh `imported`
/// repository with `git fast-import`; returns the import's seconds.
fn fast_import(repo: &Path, imported: &Path, stream: &Path) -> BoxResult<f64> {
    let export = Command::new("git")
        .arg("--git-dir")
        .arg(repo)
        .args(["fast-export", "--reencode=no", "main"])
        .stdout(std::fs::File::create(stream)?)
        .status()?;
    let init = Command::new("git")
        .args(["init", "--quiet", "--bare"])
        .arg(imported)
        .status()?;
    if !export.success() || !init.success() {
        return Err("git fast-export or git init failed".into());
    }
    let started = Instant::now();
    let status = Command::new("git")
        .arg("--git-dir")
        .arg(imported)
        .args(["fast-import", "--quiet"])
        .stdin(std::fs::File::open(stream)?)
        .status()?;
    if !status.success() {
        return Err("git fast-import failed".into());
    }
    Ok(started.elapsed().as_secs_f64())
}

/// The number after `name` on the command line, if given.
fn arg(name: &str) -> BoxResult<Option<u64>> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        Some(i) => Ok(Some(args.get(i + 1).ok_or(format!("{name} needs a number"))?.parse()?)),
        None => Ok(None),
    }
}

/// Writes `n` events: about a third creates, the rest edits, publishes and renames.
fn generate(store: &Arc<SledStore>, n: u64, years: u64) -> BoxResult<()> {
    let start = OffsetDateTime::parse("2022-01-01T08:00:00Z", &time::format_description::well_known::Rfc3339)?;
    let step = (years * 365 * 86_400 / n.max(1)).max(1) as i64;
    let tick = Arc::new(AtomicI64::new(0));
    let clock: Clock = Arc::new(move || start + time::Duration::seconds(tick.fetch_add(step, Ordering::Relaxed)));
    let posts = Posts::new(store.clone(), clock);
    let authors = ["ada", "bob", "chloe"].map(|name| Actor::user(Ulid::new(), name, Role::Admin));
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut ids: Vec<Ulid> = Vec::new();
    while store.head() < n {
        let actor = &authors[rng.below(authors.len())];
        let roll = rng.below(100);
        if ids.is_empty() || roll < 33 {
            ids.push(posts.create(actor, rng.new_post(), None)?.id);
            continue;
        }
        // Edits favour recent posts, as people mostly touch what they just wrote.
        let id = ids[ids.len() - 1 - rng.below(ids.len().min(50))];
        let patch = rng.edit(roll);
        if let Err(e) = posts.update(actor, id, None, patch, None) {
            eprintln!("skipped an edit: {e}");
        }
    }
    Ok(())
}

/// CPU time (user + system) of this process and its waited-for children so far, from
/// `/proc/self/stat` (0 elsewhere).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime, stime, cutime and cstime from the 12th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let ticks: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(4)
        .filter_map(|f| f.parse().ok())
        .collect();
    ticks.iter().sum::<u64>() as f64 / 100.0
}

/// Bytes of the files under `dir`.
fn folder_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => folder_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn git(repo: &Path, args: &[&str]) -> BoxResult<String> {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(repo)
        .args(args)
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err(format!("git {args:?} failed").into());
    }
    Ok(String::from_utf8(out.stdout)?)
}
