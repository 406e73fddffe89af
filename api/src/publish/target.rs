//! The bucket a site is published to: an `object_store` S3 client built from `[site.publish]`,
//! with the credentials read from a file or the environment (never from `quire.toml`, so they
//! are neither in backups of the configuration nor in the log) and HTTPS through
//! [`crate::tls`].

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use figment::providers::Format as _;
use object_store::aws::AmazonS3Builder;
use object_store::client::{HttpClient, HttpConnector};
use object_store::path::Path;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};
use serde::Deserialize;

use super::PublishConfig;

/// Keys to the bucket.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    #[serde(default)]
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// From `file` (TOML) when given, else from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`
    /// and `AWS_SESSION_TOKEN`.
    pub fn load(file: Option<&FsPath>) -> anyhow::Result<Self> {
        if let Some(file) = file {
            anyhow::ensure!(
                file.is_file(),
                "site.publish.credentials_file {} does not exist",
                file.display()
            );
            let toml = figment::providers::Toml::file_exact(file);
            return figment::Figment::from(toml).extract().with_context(|| {
                format!(
                    "{} must hold access_key_id and secret_access_key (and optionally session_token)",
                    file.display()
                )
            });
        }
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            (Some(access_key_id), Some(secret_access_key)) => Ok(Self {
                access_key_id,
                secret_access_key,
                session_token: var("AWS_SESSION_TOKEN"),
            }),
            _ => anyhow::bail!(
                "publishing needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
                 or site.publish.credentials_file"
            ),
        }
    }
}

/// Makes the bucket's HTTP client: reqwest over [`crate::tls`], no redirects.
#[derive(Debug)]
struct Connector {
    ca_file: Option<PathBuf>,
    https_only: bool,
    timeout: Duration,
}

impl HttpConnector for Connector {
    fn connect(&self, _options: &ClientOptions) -> object_store::Result<HttpClient> {
        let generic = |error: anyhow::Error| object_store::Error::Generic {
            store: "S3",
            source: error.into(),
        };
        let client = crate::tls::http_client(self.ca_file.as_deref())
            .map_err(generic)?
            .https_only(self.https_only)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("Quire-Publish/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| generic(e.into()))?;
        Ok(HttpClient::new(client))
    }
}

/// The bucket and how objects are written to it.
#[derive(Debug, Clone)]
pub struct Target {
    pub store: Arc<dyn ObjectStore>,
    prefix: String,
    /// Names the bucket and the object settings: a manifest made for another target is not
    /// trusted.
    pub id: String,
    pub cache_control: String,
    pub cache_control_media: String,
    pub concurrency: usize,
}

impl Target {
    /// The client for `config`'s bucket (no request is made yet).
    pub fn open(config: &PublishConfig) -> anyhow::Result<Self> {
        let credentials = Credentials::load(config.credentials_file.as_deref())?;
        let timeout = Duration::from_secs(config.timeout_secs);
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_access_key_id(credentials.access_key_id)
            .with_secret_access_key(credentials.secret_access_key)
            .with_allow_http(config.allow_http)
            .with_virtual_hosted_style_request(config.virtual_hosted_style)
            .with_client_options(ClientOptions::new().with_timeout(timeout))
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 3,
                retry_timeout: timeout,
            })
            .with_http_connector(Connector {
                ca_file: config.ca_file.clone(),
                https_only: !config.allow_http,
                timeout,
            });
        if let Some(token) = credentials.session_token {
            builder = builder.with_token(token);
        }
        if !config.endpoint.is_empty() {
            builder = builder.with_endpoint(&config.endpoint);
        }
        let store = builder.build().context("site.publish: the S3 client")?;
        let prefix = config.prefix().to_owned();
        Ok(Self {
            store: Arc::new(store),
            id: format!(
                "{}|{}|{}|{}|{}|{}",
                config.endpoint, config.region, config.bucket, prefix, config.cache_control, config.cache_control_media
            ),
            prefix,
            cache_control: config.cache_control.clone(),
            cache_control_media: config.cache_control_media.clone(),
            concurrency: config.concurrency,
        })
    }

    /// The object of the site file `key`.
    pub fn object(&self, key: &str) -> Path {
        let full = if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.prefix)
        };
        Path::parse(&full).unwrap_or_else(|_| Path::from(full.as_str()))
    }

    /// The prefix as a listing filter.
    pub fn list_prefix(&self) -> Option<Path> {
        (!self.prefix.is_empty()).then(|| Path::from(self.prefix.as_str()))
    }

    /// The site file of an object listed under the prefix.
    pub fn key_of(&self, object: &Path) -> Option<String> {
        let object = object.as_ref();
        if self.prefix.is_empty() {
            return Some(object.to_owned());
        }
        object
            .strip_prefix(self.prefix.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
            .map(str::to_owned)
    }

    /// For messages: `s3://bucket/prefix`.
    pub fn describe(config: &PublishConfig) -> String {
        format!("s3://{}/{}", config.bucket, config.prefix())
    }
}
