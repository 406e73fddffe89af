//! The public site: a projection of the event log into static files in `<data>/site`, the
//! scheduler that publishes scheduled posts on time, and serving the folder at `/`.
//!
//! The rendering itself (Markdown, templates, feeds, atomic writes, which pages an event
//! touches) lives in `quire-render`; this module decides what is visible
//! ([`model`]), keeps the folder in step with the log ([`projection`], [`manifest`]), runs the
//! background threads ([`runner`], [`scheduler`]) and answers requests for the files
//! ([`serve`]).

pub(crate) mod error;
pub(crate) mod manifest;
pub(crate) mod model;
pub(crate) mod projection;
pub(crate) mod rebuild;
pub(crate) mod runner;
pub(crate) mod scheduler;
pub(crate) mod serve;
#[cfg(test)]
mod tests;
pub(crate) mod writer;

use std::path::PathBuf;

pub use error::{Result, SiteError};
pub use projection::{CatchUp, SiteProjection};
pub(crate) use runner::SiteTasks;

use crate::config::Config;

/// The folder the site is rendered to: `<data>/site`.
pub fn site_dir(config: &Config) -> PathBuf {
    config.data_dir.join("site")
}

/// Starts the scheduler and, unless `site.enabled` is off, the site projection.
pub fn start(config: &Config, posts: &quire_storage::Posts) -> anyhow::Result<SiteTasks> {
    let projection = config
        .site
        .enabled
        .then(|| (config.site.settings.clone(), site_dir(config)));
    SiteTasks::start(posts, projection)
}
