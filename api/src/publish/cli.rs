//! `quire publish --full`: a complete sync of `<data>/site` to the bucket of `[site.publish]`,
//! with a progress bar (run it while Quire is stopped). Every file is uploaded and every
//! object under the prefix that the site lacks is deleted, whatever the manifest said; the
//! manifest is then rebuilt from what was done. Without `--full`, only what changed since the
//! last publish is sent, as the running server does.

use std::time::Instant;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

use super::manifest::BucketManifest;
use super::sync::sync;
use super::target::Target;
use crate::config::Config;

/// Publishes the rendered site; prints a summary.
pub fn publish(config: &Config, full: bool) -> anyhow::Result<()> {
    config.validate()?;
    let settings = &config.site.publish;
    anyhow::ensure!(
        settings.enabled(),
        "nothing to publish to: set site.publish.bucket (see README, Publishing to S3)"
    );
    let site_dir = crate::site::site_dir(config);
    let seq = crate::site::manifest::Manifest::load(&site_dir)?
        .map(|m| m.seq)
        .with_context(|| {
            format!(
                "{} is not rendered yet: start Quire once or run `quire rebuild site`",
                site_dir.display()
            )
        })?;
    let target = Target::open(settings)?;
    let dir = super::publish_dir(config);
    let loaded = BucketManifest::load(&dir, &target.id)
        .with_context(|| format!("reading the publish manifest in {}", dir.display()))?;
    let full = full || loaded.is_none();
    let mut manifest = match loaded {
        Some(manifest) if !full => manifest,
        _ => BucketManifest::empty(&dir, &target.id),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting a runtime")?;
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} files ({per_sec}, {eta} left)")
            .context("progress bar template")?,
    );
    let started = Instant::now();
    let report = runtime
        .block_on(sync(
            &target,
            &site_dir,
            &mut manifest,
            (full, seq),
            &mut |done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            },
            &|| false,
        ))
        .with_context(|| format!("publishing to {}", Target::describe(settings)))?;
    bar.finish_and_clear();
    println!(
        "published the site up to event {seq} to {}{} in {:.2} s: {} uploaded, {} deleted, {} unchanged",
        Target::describe(settings),
        if settings.public_url.is_empty() {
            String::new()
        } else {
            format!(" ({})", settings.public_url)
        },
        started.elapsed().as_secs_f64(),
        report.uploaded,
        report.deleted,
        report.unchanged,
    );
    Ok(())
}
