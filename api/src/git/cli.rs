//! `quire verify` and `quire rebuild git`, run while the server is stopped (sled allows one
//! process at a time).

use std::time::Instant;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;

/// Checks `main` against the log and prints the report; a mismatch is an error (exit code 1).
pub fn verify(config: &Config) -> anyhow::Result<()> {
    config.validate()?;
    let store = crate::ops::open_log(config)?;
    let path = super::repo_dir(config);
    anyhow::ensure!(
        path.exists(),
        "there is no git repository at {}: start quire with git.enabled = true, or run `quire rebuild git`",
        path.display()
    );
    let report = quire_storage::git::verify(&path, &super::settings(config), &store)
        .with_context(|| format!("checking {}", path.display()))?;
    println!("{report}");
    anyhow::ensure!(
        report.is_ok(),
        "{} differs from the event log in {} place(s); `quire rebuild git` recreates it from the log",
        path.display(),
        report.problems.len()
    );
    Ok(())
}

/// Recreates `<data>/content.git` from the log with a progress bar; the same events give the
/// same commit ids.
pub fn rebuild(config: &Config) -> anyhow::Result<()> {
    config.validate()?;
    let store = crate::ops::open_log(config)?;
    let path = super::repo_dir(config);
    let started = Instant::now();
    let bar = ProgressBar::new(quire_storage::Store::head(&store)).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} commits ({per_sec}, {eta} left)")
            .context("progress bar template")?,
    );
    let made = quire_storage::git::rebuild(&path, &super::settings(config), &store, |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .with_context(|| format!("rebuilding {}", path.display()))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "rebuilt {} with {made} commits up to event {} in {seconds:.2} s ({:.0} commits/s)",
        path.display(),
        quire_storage::Store::head(&store),
        made as f64 / seconds.max(1e-9),
    );
    Ok(())
}
