//! `quire-render`: Quire's site projection.
//!
//! Turns the published posts into a static site — sanitized HTML pages from maud templates,
//! Atom and JSON feeds, a sitemap — written atomically into a folder that nginx (or Quire
//! itself) serves. The crate knows nothing about storage or HTTP: callers hand it a
//! [`SiteConfig`] and plain [`PostInput`]s.
//!
//! Rendering is incremental: after one post changes, [`affected_pages`] names the few files to
//! redo and [`Site::update`] redoes them; [`Site::render_all`] rebuilds everything (after a
//! settings change, or to check), rewriting only files whose bytes differ.
//!
//! A caller that keeps bodies elsewhere (Quire's site projection: in the log) hands posts
//! with an empty `body_markdown`, a [`Lead`] and a `body_key`, and a [`Bodies`] to
//! [`Site::write_pages_with`]: only the pages that show a whole body (the post's own page,
//! the feeds) read it.
//!
//! ```no_run
//! use quire_render::{PostInput, Site, SiteConfig};
//!
//! # fn demo(before: PostInput, after: PostInput, published: Vec<PostInput>) -> quire_render::Result<()> {
//! let site = Site::new(SiteConfig::default(), "quire-data/site")?;
//! site.render_all(&published)?;
//! // Later, one post was edited: redo only what shows it.
//! let report = site.update(Some(&before), Some(&after), &published)?;
//! println!("{} pages written", report.written.len());
//! # Ok(()) }
//! ```

mod affected;
mod autolink;
mod chart;
mod data;
mod error;
mod feeds;
mod index;
mod markdown;
mod mf2;
mod model;
mod pages;
mod pagination;
mod paths;
mod site;
mod templates;
mod write;

pub use affected::{affected_pages, affected_pages_ordered, PostOrder};
pub use chart::{chart_svg, ChartInput};
pub use data::{data_index, data_page, data_page_file, DataColumn, DataPageInput, DataPager, DataSummary};
pub use error::{Error, Result};
pub use feeds::{xml_escape, SITEMAP_MAX_URLS};
pub use index::{PostIndex, TagEntry};
pub use markdown::{
    image_variant_path, image_variant_widths, plain_text_excerpt, Lead, Markdown, IMAGE_WIDTHS, LEAD_CHARS,
};
pub use model::{Bodies, NavLink, NoBodies, PostInput, SiteConfig};
pub use paths::{is_valid_slug, tag_slug, PagePath};
pub use site::{RenderReport, Site, STYLESHEET};
