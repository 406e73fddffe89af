//! The public site: a projection of the event log into static files in `<data>/site`, and
//! serving the folder at `/`.
//!
//! The rendering itself (Markdown, templates, feeds, atomic writes, which pages an event
//! touches) lives in `quire-render`; this module decides what is visible
//! ([`model`]), keeps the folder in step with the log ([`projection`], [`manifest`], driven by
//! the one projection runner through [`follow`]) and answers requests for the files
//! ([`serve`]).

pub(crate) mod cache;
pub(crate) mod data;
pub(crate) mod error;
mod follow;
pub(crate) mod manifest;
pub(crate) mod model;
pub(crate) mod projection;
pub(crate) mod rebuild;
pub(crate) mod serve;
#[cfg(test)]
mod tests;
pub(crate) mod writer;

use std::path::PathBuf;

pub use error::{Result, SiteError};
pub use projection::{CatchUp, SiteProjection};

use crate::config::Config;

/// The folder the site is rendered to: `<data>/site`.
pub fn site_dir(config: &Config) -> PathBuf {
    config.data_dir.join("site")
}
