//! A full render in steps, so that progress can be shown and a shutdown noticed between them.
//! The renderer itself spreads each step over several concurrent writers.

use std::collections::BTreeSet;

use quire_render::{Bodies, PagePath, PostIndex, PostInput, RenderReport, Site};

use super::error::{Result, SiteError};

/// Steps of a full render: progress is reported, and a shutdown noticed, between them.
const STEPS: usize = 10;

/// Reports progress of a full render: `(pages done, pages in all)`.
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize);

/// Renders every page of the site for `posts` (their bodies from `bodies`), calling `progress`
/// along the way, then removes pages that should no longer exist (and leftover temporary
/// files). Gives up with
/// [`SiteError::Stopped`] between steps once `stopping` says so (a server shutting down).
pub fn render_all(
    site: &Site,
    posts: &[PostInput],
    bodies: &dyn Bodies,
    progress: Progress<'_>,
    stopping: &dyn Fn() -> bool,
) -> Result<RenderReport> {
    let index = PostIndex::new(posts);
    let mut pages: Vec<PagePath> = index.all_pages(site.config()).into_iter().collect();
    // Each step then reads a stretch of the log, not posts from all over it.
    index.sort_for_reading(&mut pages);
    let total = pages.len();
    progress(0, total);
    let mut report = RenderReport::default();
    let mut done = 0;
    for step in pages.chunks(total.div_ceil(STEPS).max(1)) {
        if stopping() {
            return Err(SiteError::Stopped);
        }
        let set: BTreeSet<PagePath> = step.iter().cloned().collect();
        report.merge(site.write_pages_with(&set, posts, bodies)?);
        done += step.len();
        progress(done, total);
    }
    report.merge(site.remove_stale(posts)?);
    report.skipped_posts.dedup();
    Ok(report)
}
