//! The site as a folder of files: renders pages for a list of published posts and keeps the
//! output folder in step with it, one change at a time or all at once.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::affected::affected_pages;
use crate::error::Result;
use crate::index::PostIndex;
use crate::markdown::Markdown;
use crate::model::{Bodies, NoBodies, PostInput, SiteConfig};
use crate::paths::{is_valid_slug, PagePath};
use crate::{feeds, pages, write};

/// The default stylesheet, `/style.css`.
pub const STYLESHEET: &str = include_str!("assets/style.css");

/// Folders whose sub-folders hold one page each; the only places [`Site::remove_stale`] looks.
const PAGE_FOLDERS: [&str; 3] = ["posts", "tags", "page"];

/// Most threads rendering and writing pages at once. Pages are written without an fsync each
/// and made durable by one `syncfs` at the end of [`Site::write_pages`], so writing is bound by
/// the CPU: one thread per core (a Pi has four), never more.
const MAX_WRITERS: usize = 4;

fn writers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, MAX_WRITERS)
}

/// What a render did to the output folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderReport {
    /// Pages written because their bytes changed (or they were new), in path order.
    pub written: Vec<PagePath>,
    /// Pages removed because they should no longer exist, in path order.
    pub removed: Vec<PagePath>,
    /// Pages rendered to exactly the bytes already on disk, so left alone.
    pub unchanged: usize,
    /// Ids of posts left out of the site because their slug cannot name a folder.
    pub skipped_posts: Vec<String>,
}

impl RenderReport {
    /// Adds what another render did (page lists stay unsorted until the caller sorts them).
    pub fn merge(&mut self, other: RenderReport) {
        self.written.extend(other.written);
        self.removed.extend(other.removed);
        self.unchanged += other.unchanged;
    }
}

/// A site: its settings, the folder it is written to, and the Markdown converter.
#[derive(Debug)]
pub struct Site {
    config: SiteConfig,
    out_dir: PathBuf,
    markdown: Markdown,
}

impl Site {
    /// A site written to `out_dir`. Checks `config`; creates nothing until the first write.
    pub fn new(config: SiteConfig, out_dir: impl Into<PathBuf>) -> Result<Site> {
        config.validate()?;
        let mut markdown = Markdown::new();
        markdown.set_base(config.base(), config.base_path());
        Ok(Site {
            config,
            out_dir: out_dir.into(),
            markdown,
        })
    }

    /// Makes posts show the stored image `file` (`<hash>.<ext>`, served at `/media/<file>`)
    /// with its size and a `srcset` of its copies at [`crate::image_variant_widths`], which
    /// the caller writes with [`Site::write_file`] before the pages that show them.
    pub fn add_image(&mut self, file: &str, width: u32, height: u32) {
        self.markdown.add_image(file, width, height);
    }

    /// Writes `bytes` to `rel` in the site's folder atomically, unless the file already holds
    /// them; returns whether it was written. For files the site shows but does not render.
    pub fn write_file(&self, rel: &str, bytes: &[u8]) -> Result<bool> {
        crate::write::write_if_changed(&self.out_dir, rel, bytes, write::Sync::Now)
    }

    /// Copies the file `src` to `rel` in the site's folder atomically, unless it already holds
    /// the same bytes; returns whether it was written. Streams: for large files (datasets' CSV).
    pub fn copy_file(&self, rel: &str, src: &Path) -> Result<bool> {
        crate::write::copy_if_changed(&self.out_dir, rel, src)
    }

    /// Removes the file `rel` (and its folder once empty); returns whether it existed.
    pub fn remove_file(&self, rel: &str) -> Result<bool> {
        crate::write::remove_page(&self.out_dir, rel, write::Sync::Now)
    }

    /// Removes the folder `rel` with all it holds; returns whether it existed.
    pub fn remove_folder(&self, rel: &str) -> Result<bool> {
        crate::write::remove_tree(&self.out_dir, rel)
    }

    /// The site's settings.
    pub fn config(&self) -> &SiteConfig {
        &self.config
    }

    /// The folder the site is written to.
    pub fn out_dir(&self) -> &Path {
        &self.out_dir
    }

    /// The bytes of `page` for the published `posts`, or `None` if that page should not exist
    /// (a post that is gone, an emptied tag, a home page past the last one).
    pub fn render_page(&self, page: &PagePath, posts: &[PostInput]) -> Result<Option<Vec<u8>>> {
        self.render_page_with(page, &PostIndex::new(posts), &NoBodies)
    }

    /// [`Site::render_page`] with posts already indexed, for rendering many pages, reading the
    /// bodies posts do not carry from `bodies`.
    pub fn render_page_with(
        &self,
        page: &PagePath,
        index: &PostIndex<'_>,
        bodies: &dyn Bodies,
    ) -> Result<Option<Vec<u8>>> {
        let config = &self.config;
        let text = match page {
            PagePath::Home => Some(pages::home(config, index)),
            PagePath::Page(n) => pages::older(config, index, *n),
            PagePath::Post(slug) => pages::post_or_redirect(config, &self.markdown, bodies, index, slug)?,
            PagePath::TagIndex => Some(pages::tag_index(config, index)),
            PagePath::Tag(slug) => pages::tag(config, index, slug),
            PagePath::Archive => Some(pages::archive(config, index)),
            PagePath::AtomFeed => Some(feeds::atom(config, &self.markdown, bodies, index)?),
            PagePath::JsonFeed => Some(feeds::json_feed(config, &self.markdown, bodies, index)?),
            PagePath::Sitemap => Some(feeds::sitemap(config, index)),
            PagePath::SitemapPart(n) => feeds::sitemap_part(config, index, *n),
            PagePath::Robots => Some(feeds::robots(config)),
            PagePath::NotFound => Some(pages::not_found(config)),
            PagePath::Stylesheet => Some(STYLESHEET.to_owned()),
            PagePath::CustomCss => config.custom_css.clone(),
        };
        Ok(text.map(String::into_bytes))
    }

    /// Brings `pages` on disk in line with the published `posts`: writes those whose bytes
    /// changed and removes those that should no longer exist. Everything it changed is durable
    /// when it returns. Posts' own pages come first, the lists that show them after (the archive
    /// and the sitemap name every post: at 10k posts they take most of the time), so the page
    /// a person opens after publishing is there soonest.
    pub fn write_pages(&self, pages: &BTreeSet<PagePath>, posts: &[PostInput]) -> Result<RenderReport> {
        self.write_pages_with(pages, posts, &NoBodies)
    }

    /// [`Site::write_pages`], reading the bodies posts do not carry from `bodies`.
    pub fn write_pages_with(
        &self,
        pages: &BTreeSet<PagePath>,
        posts: &[PostInput],
        bodies: &dyn Bodies,
    ) -> Result<RenderReport> {
        let index = PostIndex::new(posts);
        // The sitemap's parts change with it: every part it has now, and any left on disk
        // from when it had more (rendered as `None`, so removed).
        let parts = if pages.contains(&PagePath::Sitemap) {
            let mut parts: BTreeSet<PagePath> = (1..=feeds::sitemap_parts(&self.config, &index))
                .map(PagePath::SitemapPart)
                .collect();
            parts.extend(self.sitemap_parts_on_disk()?);
            parts.retain(|part| !pages.contains(part));
            parts
        } else {
            BTreeSet::new()
        };
        let mut pages: Vec<&PagePath> = pages.iter().chain(&parts).filter(|p| is_safe(p)).collect();
        index.sort_for_reading(&mut pages);
        let threads = pages.len().min(writers());
        let mut report = if threads < 2 {
            self.write_chunk(&pages, &index, bodies)?
        } else {
            let chunk = pages.len().div_ceil(threads);
            // The calling thread writes the first chunk itself: one thread fewer.
            let results: Vec<Result<RenderReport>> = std::thread::scope(|scope| {
                let mut chunks = pages.chunks(chunk);
                let first = chunks.next().unwrap_or_default();
                let handles: Vec<_> = chunks
                    .map(|part| scope.spawn(|| self.write_chunk(part, &index, bodies)))
                    .collect();
                let mut results = vec![self.write_chunk(first, &index, bodies)];
                results.extend(
                    handles
                        .into_iter()
                        .map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))),
                );
                results
            });
            let mut report = RenderReport::default();
            for result in results {
                report.merge(result?);
            }
            report
        };
        if !report.written.is_empty() || !report.removed.is_empty() {
            write::sync_filesystem(&self.out_dir)?;
        }
        report.written.sort();
        report.removed.sort();
        report.skipped_posts = index.skipped().iter().map(|p| p.id.clone()).collect();
        Ok(report)
    }

    fn write_chunk(&self, pages: &[&PagePath], index: &PostIndex<'_>, bodies: &dyn Bodies) -> Result<RenderReport> {
        let mut report = RenderReport::default();
        for &page in pages {
            let file = page.file_path();
            match self.render_page_with(page, index, bodies)? {
                Some(bytes) => {
                    if write::write_if_changed(&self.out_dir, &file, &bytes, write::Sync::Later)? {
                        report.written.push(page.clone());
                    } else {
                        report.unchanged += 1;
                    }
                }
                None => {
                    if write::remove_page(&self.out_dir, &file, write::Sync::Later)? {
                        report.removed.push(page.clone());
                    }
                }
            }
        }
        Ok(report)
    }

    /// Applies one post's change: renders the pages [`affected_pages`] names. `before` is the
    /// post as published before (`None` if it was not), `after` as published now (`None` if it
    /// was deleted or unpublished), `posts` every published post after the change.
    pub fn update(
        &self,
        before: Option<&PostInput>,
        after: Option<&PostInput>,
        posts: &[PostInput],
    ) -> Result<RenderReport> {
        let pages = affected_pages(&self.config, before, after, posts);
        self.write_pages(&pages, posts)
    }

    /// Renders the whole site, writing only files whose bytes changed, then removes pages of
    /// posts and tags that no longer exist. Nothing else in the folder is touched.
    pub fn render_all(&self, posts: &[PostInput]) -> Result<RenderReport> {
        let pages = PostIndex::new(posts).all_pages(&self.config);
        let mut report = self.write_pages_with(&pages, posts, &NoBodies)?;
        let stale = self.remove_stale(posts)?;
        report.removed.extend(stale.removed);
        report.removed.sort();
        Ok(report)
    }

    /// The sitemap part files in the output folder.
    fn sitemap_parts_on_disk(&self) -> Result<Vec<PagePath>> {
        Ok(write::list_dir(&self.out_dir)?
            .iter()
            .filter_map(|path| path.file_name()?.to_str())
            .filter_map(PagePath::from_file_path)
            .filter(|page| matches!(page, PagePath::SitemapPart(_)))
            .collect())
    }

    /// Removes pages that should not exist for `posts` — pages of deleted or unpublished posts,
    /// emptied tags, home pages past the last, `/custom.css` once unset — and temporary files
    /// an interrupted write left behind. Only files this crate writes are considered.
    pub fn remove_stale(&self, posts: &[PostInput]) -> Result<RenderReport> {
        let index = PostIndex::new(posts);
        let expected = index.all_pages(&self.config);
        let mut report = RenderReport::default();
        let mut candidates = vec![PagePath::CustomCss];
        candidates.extend(self.sitemap_parts_on_disk()?);
        write::sweep_temp_files(&self.out_dir)?;
        for folder in PAGE_FOLDERS {
            let dir = self.out_dir.join(folder);
            write::sweep_temp_files(&dir)?;
            for sub in write::list_dir(&dir)?.into_iter().filter(|p| p.is_dir()) {
                write::sweep_temp_files(&sub)?;
                let name = sub.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                if let Some(page) = PagePath::from_file_path(&format!("{folder}/{name}/index.html")) {
                    candidates.push(page);
                }
            }
        }
        for page in candidates.into_iter().filter(|p| !expected.contains(p)) {
            if write::remove_page(&self.out_dir, &page.file_path(), write::Sync::Now)? {
                report.removed.push(page);
            }
        }
        report.removed.sort();
        report.skipped_posts = index.skipped().iter().map(|p| p.id.clone()).collect();
        Ok(report)
    }
}

/// Whether writing `page` stays inside the output folder.
fn is_safe(page: &PagePath) -> bool {
    match page {
        PagePath::Post(slug) | PagePath::Tag(slug) => is_valid_slug(slug),
        PagePath::Page(n) | PagePath::SitemapPart(n) => *n >= 1,
        _ => true,
    }
}
