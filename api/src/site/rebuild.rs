//! `quire rebuild site`: renders the whole site from the log while the server is stopped,
//! with a progress bar. Only files whose bytes change are rewritten, and pages that should no
//! longer exist are removed; the manifest then points at the log's head.

use std::time::Instant;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

use super::projection::SiteProjection;
use crate::config::Config;

/// Renders everything; prints a summary.
pub fn rebuild_site(config: &Config) -> anyhow::Result<()> {
    config.validate()?;
    let store = crate::ops::open_log(config)?;
    let dir = super::site_dir(config);
    let started = Instant::now();
    let mut projection = SiteProjection::open(config.site.settings.clone(), &dir)
        .with_context(|| format!("opening the site in {}", dir.display()))?;
    projection.images_from(quire_storage::MediaBlobs::new(config.data_dir.join("media")));
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} pages ({per_sec}, {eta} left)")
            .context("progress bar template")?,
    );
    let mut progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let done = projection
        .rebuild(&store, &mut progress)
        .context("rendering the site")?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let pages = done.written + done.unchanged;
    println!(
        "rendered {pages} pages of {} posts up to event {} into {} in {seconds:.2} s \
         ({:.0} pages/s): {} written, {} unchanged, {} removed",
        projection.visible().len(),
        done.seq,
        dir.display(),
        pages as f64 / seconds.max(1e-9),
        done.written,
        done.unchanged,
        done.removed,
    );
    Ok(())
}
