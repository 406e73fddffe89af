//! Publishing the rendered site to S3-compatible storage (AWS S3, Cloudflare R2, Backblaze B2,
//! MinIO, Garage…) for a CDN to serve: `[site.publish]`.
//!
//! The publisher is a projection of the one runner that follows the *site*: when the site's
//! manifest reaches a newer seq, it uploads exactly the files whose bytes changed (by SHA-256,
//! against [`manifest`], its record of what the bucket holds), assets first, then pages, then
//! the home page and feeds ([`files::Tier`]), and deletes the files that disappeared. Requests
//! are signed by `object_store`; HTTPS is the shared rustls setup of [`crate::tls`].
//! `quire publish --full` ([`cli`]) compares with the bucket's listing and uploads everything.

pub(crate) mod cli;
pub(crate) mod files;
pub(crate) mod manifest;
mod projection;
mod sync;
mod target;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use quire_storage::runner::{ProjectionStatus, RunnerSettings};
use quire_storage::Store;
use serde::{Deserialize, Serialize};

pub use sync::{PublishError, SyncReport};
pub use target::{Credentials, Target};

use crate::config::Config;
use crate::projections::Projections;

/// How often the publisher looks at the site's manifest besides when the log moves (the site
/// renders a moment after the log, so a change is published within about this long).
const SITE_POLL: Duration = Duration::from_secs(1);

/// `[site.publish]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PublishConfig {
    /// The bucket to publish to; publishing is on when it is set.
    pub bucket: String,
    /// The S3 endpoint, e.g. `https://<account>.r2.cloudflarestorage.com` (empty: AWS).
    pub endpoint: String,
    /// The bucket's region (`auto` for R2).
    pub region: String,
    /// A folder in the bucket to publish below (empty: the bucket's root).
    pub prefix: String,
    /// Where readers find the published site (shown in status and logs).
    pub public_url: String,
    /// A TOML file with `access_key_id`, `secret_access_key` and optionally `session_token`;
    /// without it, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` are read.
    pub credentials_file: Option<PathBuf>,
    /// Allow a plain `http://` endpoint (a MinIO or Garage on your own network).
    pub allow_http: bool,
    /// Address the bucket as `<bucket>.<endpoint>` instead of `<endpoint>/<bucket>`.
    pub virtual_hosted_style: bool,
    /// A PEM file of extra CAs to trust for the endpoint (a private CA).
    pub ca_file: Option<PathBuf>,
    /// `Cache-Control` of pages, feeds and stylesheets.
    pub cache_control: String,
    /// `Cache-Control` of media, whose names are their content's hash.
    pub cache_control_media: String,
    /// Requests to the bucket at once.
    pub concurrency: usize,
    /// How long one request may take, in seconds.
    pub timeout_secs: u64,
}

impl Default for PublishConfig {
    fn default() -> Self {
        Self {
            bucket: String::new(),
            endpoint: String::new(),
            region: "us-east-1".into(),
            prefix: String::new(),
            public_url: String::new(),
            credentials_file: None,
            allow_http: false,
            virtual_hosted_style: false,
            ca_file: None,
            cache_control: "public, max-age=300".into(),
            cache_control_media: "public, max-age=31536000, immutable".into(),
            concurrency: 4,
            timeout_secs: 60,
        }
    }
}

impl PublishConfig {
    /// Whether publishing is configured.
    pub fn enabled(&self) -> bool {
        !self.bucket.is_empty()
    }

    /// Explains a bad value.
    pub fn validate(&self) -> anyhow::Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        anyhow::ensure!(
            (1..=32).contains(&self.concurrency),
            "site.publish.concurrency must be between 1 and 32"
        );
        anyhow::ensure!(
            (1..=600).contains(&self.timeout_secs),
            "site.publish.timeout_secs must be between 1 and 600"
        );
        if !self.endpoint.is_empty() {
            let url = url_scheme(&self.endpoint);
            anyhow::ensure!(
                url == Some("https") || (url == Some("http") && self.allow_http),
                "site.publish.endpoint must be an https:// URL (http:// only with site.publish.allow_http = true)"
            );
        }
        anyhow::ensure!(
            self.public_url.is_empty() || matches!(url_scheme(&self.public_url), Some("http" | "https")),
            "site.publish.public_url must be an http(s):// URL"
        );
        Ok(())
    }

    /// The object prefix without surrounding slashes.
    pub fn prefix(&self) -> &str {
        self.prefix.trim_matches('/')
    }
}

fn url_scheme(url: &str) -> Option<&str> {
    url.split_once("://").map(|(scheme, _)| scheme)
}

/// The publisher's own folder: `<data>/publish` (its manifest and journal).
pub fn publish_dir(config: &Config) -> PathBuf {
    config.data_dir.join("publish")
}

/// Starts the publisher on the runner when `[site.publish]` names a bucket and the site is
/// rendered.
pub(crate) fn start(
    projections: &mut Projections,
    config: &Config,
    store: Arc<dyn Store>,
    status: Arc<ProjectionStatus>,
) -> anyhow::Result<()> {
    if !config.site.enabled || !config.site.publish.enabled() {
        return Ok(());
    }
    let target = Target::open(&config.site.publish)?;
    let settings = RunnerSettings {
        idle_check: SITE_POLL,
        ..RunnerSettings::new("publish")
    };
    let runner = projections.runner(settings, store, status);
    let (site_dir, dir, waits, stop) = (
        crate::site::site_dir(config),
        publish_dir(config),
        projections.waits(),
        projections.stopped(),
    );
    projections.spawn("quire-publish", true, move || {
        runner.run(|| {
            Ok(projection::PublishProjection::new(
                target.clone(),
                site_dir.clone(),
                dir.clone(),
                waits.clone(),
                stop.clone(),
            ))
        })
    })
}
