//! Writing many pages at once: full renders and the hundreds of home pages a new post shifts.
//!
//! Each page write waits on two fsyncs (the file, its folder), so a single writer leaves the
//! disk idle most of the time while ext4 can commit concurrent fsyncs together. Large page sets
//! are therefore split across more writers than there are cores, each a [`Site::write_pages`]
//! call on its own share of the pages. The shares are disjoint, and the only folders a write
//! removes are those of a single page (`posts/<slug>/`, `tags/<slug>/`, `page/<n>/`), so the
//! writers never touch the same file or a folder another one writes into.

use std::collections::BTreeSet;

use quire_render::{PagePath, PostIndex, PostInput, RenderReport, Site};

use super::error::{Result, SiteError};

/// Concurrent writers for a large page set. On the 2-core development machine, under the same
/// background load, a full render of 10,000 posts took 14 s with the renderer's own two threads
/// and 7 s with eight writers.
const WRITERS: usize = 8;
/// Below this many pages one `write_pages` call is as fast: it indexes the posts only once.
const PARALLEL_FROM: usize = 64;
/// Steps of a full render: progress is reported, and a shutdown noticed, between them.
const STEPS: usize = 10;

/// Reports progress of a full render: `(pages done, pages in all)`.
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize);

/// Brings `pages` on disk in line with `posts` (see [`Site::write_pages`]), with up to
/// [`WRITERS`] writers for large sets.
pub fn write_pages(site: &Site, pages: &BTreeSet<PagePath>, posts: &[PostInput]) -> Result<RenderReport> {
    if pages.len() < PARALLEL_FROM {
        return Ok(site.write_pages(pages, posts)?);
    }
    let mut shares = vec![BTreeSet::new(); WRITERS];
    for (i, page) in pages.iter().enumerate() {
        shares[i % WRITERS].insert(page.clone());
    }
    let results: Vec<Result<RenderReport>> = std::thread::scope(|scope| {
        let handles: Vec<_> = shares
            .iter()
            .map(|share| scope.spawn(move || site.write_pages(share, posts).map_err(Into::into)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    });
    let mut report = RenderReport::default();
    for result in results {
        merge(&mut report, result?);
    }
    report.written.sort();
    report.removed.sort();
    report.skipped_posts.dedup();
    Ok(report)
}

/// Renders every page of the site for `posts`, calling `progress` along the way, then removes
/// pages that should no longer exist (and leftover temporary files). Gives up with
/// [`SiteError::Stopped`] between steps once `stopping` says so (a server shutting down).
pub fn render_all(
    site: &Site,
    posts: &[PostInput],
    progress: Progress<'_>,
    stopping: &dyn Fn() -> bool,
) -> Result<RenderReport> {
    let pages: Vec<PagePath> = PostIndex::new(posts).all_pages(site.config()).into_iter().collect();
    let total = pages.len();
    progress(0, total);
    let mut report = RenderReport::default();
    let mut done = 0;
    for step in pages.chunks(total.div_ceil(STEPS).max(1)) {
        if stopping() {
            return Err(SiteError::Stopped);
        }
        let set: BTreeSet<PagePath> = step.iter().cloned().collect();
        merge(&mut report, write_pages(site, &set, posts)?);
        done += step.len();
        progress(done, total);
    }
    merge(&mut report, site.remove_stale(posts)?);
    report.skipped_posts.dedup();
    Ok(report)
}

fn merge(into: &mut RenderReport, from: RenderReport) {
    into.written.extend(from.written);
    into.removed.extend(from.removed);
    into.unchanged += from.unchanged;
    into.skipped_posts.extend(from.skipped_posts);
}
