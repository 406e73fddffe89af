//! The Hugo side: the same posts as content files with YAML front matter, the minimal layout
//! from `integration-tests/fixtures/site-bench-hugo` (without layouts Hugo writes only feeds and
//! a sitemap), Quire's stylesheet as a static file, then `hugo` timed from start to exit.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::corpus::GenPost;

const FILES: &[(&str, &str)] = &[
    ("hugo.toml", include_str!("../../../fixtures/site-bench-hugo/hugo.toml")),
    (
        "layouts/index.html",
        include_str!("../../../fixtures/site-bench-hugo/layouts/index.html"),
    ),
    (
        "layouts/_default/baseof.html",
        include_str!("../../../fixtures/site-bench-hugo/layouts/_default/baseof.html"),
    ),
    (
        "layouts/_default/single.html",
        include_str!("../../../fixtures/site-bench-hugo/layouts/_default/single.html"),
    ),
    (
        "layouts/_default/list.html",
        include_str!("../../../fixtures/site-bench-hugo/layouts/_default/list.html"),
    ),
    (
        "layouts/_default/terms.html",
        include_str!("../../../fixtures/site-bench-hugo/layouts/_default/terms.html"),
    ),
];

/// One Hugo build.
#[derive(Debug)]
pub struct HugoRun {
    pub seconds: f64,
    /// HTML and XML files Hugo wrote.
    pub pages: usize,
    /// Hugo's peak resident memory, sampled every 20 ms.
    pub peak_rss_kib: u64,
}

/// `hugo version`, or `None` when `bin` cannot be run.
pub fn version(bin: &str) -> Option<String> {
    let output = Command::new(bin).arg("version").stderr(Stdio::null()).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Writes the Hugo project for `posts` (with their Quire slugs) into `dir`, builds it, and
/// reports time, pages and memory.
pub fn build(bin: &str, dir: &Path, posts: &[(String, GenPost)]) -> anyhow::Result<HugoRun> {
    for (name, text) in FILES {
        write(&dir.join(name), text)?;
    }
    write(&dir.join("static/style.css"), quire_render::STYLESHEET)?;
    let content = dir.join("content/posts");
    for (slug, post) in posts {
        let date = post
            .published_at
            .format(&time::format_description::well_known::Rfc3339)?;
        let tags: Vec<String> = post.tags.iter().map(|t| format!("{t:?}")).collect();
        let text = format!(
            "---\ntitle: {:?}\ndate: {date}\nslug: {slug:?}\ntags: [{}]\ndraft: false\n---\n\n{}",
            post.title,
            tags.join(", "),
            post.body
        );
        write(&content.join(format!("{slug}.md")), &text)?;
    }
    let public = dir.join("public");
    let started = Instant::now();
    let mut child = Command::new(bin)
        .arg("--quiet")
        .arg("--source")
        .arg(dir)
        .arg("--destination")
        .arg(&public)
        .stdout(Stdio::null())
        .spawn()
        .context("starting hugo")?;
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_rss_kib = 0;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        peak_rss_kib = peak_rss_kib.max(vm_hwm_kib(&status_file).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(20));
    };
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(status.success(), "hugo failed: {status}");
    Ok(HugoRun {
        seconds,
        pages: count_pages(&public)?,
        peak_rss_kib,
    })
}

/// `VmHWM` (peak resident set) of a `/proc/<pid>/status` file, in KiB.
pub fn vm_hwm_kib(status_file: &str) -> Option<u64> {
    let text = std::fs::read_to_string(status_file).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// HTML and XML files below `dir`.
pub fn count_pages(dir: &Path) -> anyhow::Result<usize> {
    let mut count = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "html" || e == "xml") {
                count += 1;
            }
        }
    }
    Ok(count)
}
