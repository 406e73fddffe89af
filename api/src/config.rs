//! Configuration: built-in defaults, then an optional `quire.toml`, then `QUIRE_*` environment
//! variables (`QUIRE_SECTION__KEY` for nested keys), then command-line flags. Unknown keys are
//! rejected with the key's name.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use figment::providers::{Env, Format as _, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// Everything Quire can be told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on (`QUIRE_LISTEN`).
    pub listen: String,
    /// Folder with the event log, git repository, site and keys (`QUIRE_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Login and tokens.
    pub auth: AuthConfig,
    /// HTTP API limits.
    pub api: ApiConfig,
    /// Storage tuning.
    pub storage: StorageConfig,
    /// The public site: rendering, serving and its settings.
    pub site: SiteSection,
    /// The git projection (`<data>/content.git`) and its mirrors.
    pub git: crate::git::GitConfig,
    /// `GET /metrics` for Prometheus.
    pub metrics: crate::metrics::MetricsConfig,
    /// Uploaded images: size and pixel limits.
    pub media: crate::media::MediaConfig,
    /// `[webhooks]`: Standard Webhooks deliveries of the log's events.
    pub webhooks: crate::webhooks::WebhookConfig,
    /// `[micropub]`: the Micropub endpoint.
    pub micropub: crate::micropub::MicropubConfig,
    /// `[datasets]`: size limits and the scheduled fetch.
    pub datasets: crate::datasets::DatasetsConfig,
    /// The first admin to create when there is no user yet (`QUIRE_ADMIN_USER`,
    /// `QUIRE_ADMIN_PASSWORD`); never read from the file.
    #[serde(skip)]
    pub initial_admin: Option<(String, String)>,
    /// A clock replacing the system clock, for tests (scheduled publishing without sleeps);
    /// never read from the file or the environment.
    #[serde(skip)]
    pub clock: Option<ClockOverride>,
}

/// `[site]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SiteSection {
    /// Render the site into `<data>/site` and keep it in step with the log.
    pub enabled: bool,
    /// Serve `<data>/site` at `/` (turn off when nginx or another server serves the folder).
    pub serve: bool,
    /// Memory for hot pages served from RAM with their gzip variant, in MB (0: always from disk).
    pub cache_mb: usize,
    /// `[site.settings]`: title, description, base URL, author, language, navigation links,
    /// custom CSS, page and feed sizes. Changing them re-renders the whole site on start.
    pub settings: quire_render::SiteConfig,
    /// `[site.publish]`: upload the rendered site to S3-compatible storage (off without a bucket).
    pub publish: crate::publish::PublishConfig,
}

impl Default for SiteSection {
    fn default() -> Self {
        Self {
            enabled: true,
            serve: true,
            cache_mb: 32,
            settings: quire_render::SiteConfig::default(),
            publish: crate::publish::PublishConfig::default(),
        }
    }
}

/// A replacement clock (see [`Config::clock`]).
#[derive(Clone)]
pub struct ClockOverride(pub quire_storage::Clock);

impl std::fmt::Debug for ClockOverride {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClockOverride")
    }
}

impl PartialEq for ClockOverride {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

/// `[auth]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Lifetime of access tokens, in seconds.
    pub access_token_ttl_secs: u64,
    /// Lifetime of refresh tokens, in days.
    pub refresh_token_ttl_days: u64,
    /// `iss` of issued tokens, checked on every request.
    pub issuer: String,
    /// `aud` of issued tokens, checked on every request.
    pub audience: String,
    /// Failed logins for one username (from any address) before a lockout.
    pub max_failures_per_user: u32,
    /// Failed logins from one address before a lockout.
    pub max_failures_per_address: u32,
    /// First lockout, in seconds; each further one doubles.
    pub lockout_secs: u64,
    /// Longest lockout, in seconds.
    pub max_lockout_secs: u64,
}

/// `[api]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Largest accepted request body, in bytes (larger ones get 413).
    pub max_body_bytes: usize,
    /// How long idempotency keys are remembered, in hours (at least 168, 7 days).
    pub idempotency_retention_hours: u64,
    /// HTTP worker threads (0: one per CPU).
    pub workers: usize,
    /// Writes per minute per user or API token (0: no limit).
    pub write_rate_per_minute: u32,
    /// Writes allowed in a burst above the rate.
    pub write_burst: u32,
    /// Take the client address from `X-Forwarded-For`/`Forwarded` (only behind your own proxy).
    pub trust_proxy_headers: bool,
}

/// `[storage]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// sled's page cache, in MiB.
    pub cache_mb: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./quire-data"),
            auth: AuthConfig::default(),
            api: ApiConfig::default(),
            storage: StorageConfig::default(),
            site: SiteSection::default(),
            git: crate::git::GitConfig::default(),
            metrics: crate::metrics::MetricsConfig::default(),
            media: crate::media::MediaConfig::default(),
            webhooks: crate::webhooks::WebhookConfig::default(),
            micropub: crate::micropub::MicropubConfig::default(),
            datasets: crate::datasets::DatasetsConfig::default(),
            initial_admin: None,
            clock: None,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            access_token_ttl_secs: 900,
            refresh_token_ttl_days: 30,
            issuer: "quire".into(),
            audience: "quire-api".into(),
            max_failures_per_user: 5,
            max_failures_per_address: 20,
            lockout_secs: 600,
            max_lockout_secs: 86_400,
        }
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            idempotency_retention_hours: 168,
            workers: 0,
            write_rate_per_minute: 600,
            write_burst: 200,
            trust_proxy_headers: false,
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self { cache_mb: 8 }
    }
}

/// Environment variables that are read elsewhere and are not configuration keys.
/// (`QUIRE_URL` and `QUIRE_TOKEN` are for `quire backup --url`.)
const NOT_KEYS: &[&str] = &[
    "config",
    "admin_user",
    "admin_password",
    "log",
    "log_format",
    "url",
    "token",
];

impl Config {
    /// Layers defaults, the optional file and the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            anyhow::ensure!(file.is_file(), "config file {} does not exist", file.display());
            figment = figment.merge(Toml::file_exact(file));
        }
        figment = figment.merge(Env::prefixed("QUIRE_").split("__").ignore(NOT_KEYS));
        let mut config: Config = figment.extract().context("invalid configuration")?;
        let admin = (std::env::var("QUIRE_ADMIN_USER"), std::env::var("QUIRE_ADMIN_PASSWORD"));
        if let (Ok(user), Ok(password)) = admin {
            config.initial_admin = Some((user, password));
        }
        Ok(config)
    }

    /// Explains the first bad value.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.listen_addr()?;
        anyhow::ensure!(
            self.auth.access_token_ttl_secs >= 30,
            "auth.access_token_ttl_secs must be at least 30"
        );
        anyhow::ensure!(
            self.auth.refresh_token_ttl_days >= 1,
            "auth.refresh_token_ttl_days must be at least 1"
        );
        anyhow::ensure!(
            self.api.max_body_bytes >= 1024,
            "api.max_body_bytes must be at least 1024"
        );
        anyhow::ensure!(
            self.api.idempotency_retention_hours >= 168,
            "api.idempotency_retention_hours must be at least 168 (7 days): offline clients replay late"
        );
        anyhow::ensure!(self.storage.cache_mb >= 4, "storage.cache_mb must be at least 4");
        self.site
            .settings
            .validate()
            .map_err(|e| anyhow::anyhow!("site.settings: {e}"))?;
        self.git.validate()?;
        self.media.validate()?;
        self.webhooks.validate()?;
        self.micropub.validate()?;
        self.site.publish.validate()?;
        self.datasets.validate()?;
        anyhow::ensure!(
            self.auth.max_failures_per_user >= 1 && self.auth.max_failures_per_address >= 1,
            "auth.max_failures_per_user and auth.max_failures_per_address must be at least 1"
        );
        anyhow::ensure!(
            self.auth.lockout_secs >= 1 && self.auth.max_lockout_secs >= self.auth.lockout_secs,
            "auth.lockout_secs must be at least 1 and at most auth.max_lockout_secs"
        );
        Ok(())
    }

    /// `listen` as an address.
    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listen
            .parse()
            .with_context(|| format!("listen = {:?} is not an address like 127.0.0.1:8080", self.listen))
    }

    /// The clock of the server: the system clock unless a test replaced it.
    pub fn clock(&self) -> quire_storage::Clock {
        self.clock
            .as_ref()
            .map_or_else(quire_storage::system_clock, |c| c.0.clone())
    }

    /// A configuration for tests: everything in `dir`, an ephemeral port.
    pub fn for_test(dir: &Path) -> Self {
        Self {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.to_path_buf(),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error type
    fn file_and_environment_override_defaults_and_unknown_keys_are_named() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "quire.toml",
                "listen = \"0.0.0.0:9000\"\n[api]\nmax_body_bytes = 4096\n",
            )?;
            jail.set_env("QUIRE_API__MAX_BODY_BYTES", "8192");
            jail.set_env("QUIRE_LOG", "debug");
            let config = Config::load(Some(Path::new("quire.toml"))).expect("loads");
            assert_eq!(config.listen, "0.0.0.0:9000");
            assert_eq!(config.api.max_body_bytes, 8192, "environment wins over the file");
            config.validate().expect("valid");

            jail.create_file("bad.toml", "[api]\nmax_body = 1\n")?;
            let err = Config::load(Some(Path::new("bad.toml"))).expect_err("unknown key");
            assert!(format!("{err:#}").contains("max_body"), "{err:#}");
            Ok(())
        });
    }

    #[test]
    fn validate_explains_bad_values() {
        let mut config = Config {
            listen: "nowhere".into(),
            ..Config::default()
        };
        assert!(config.validate().expect_err("bad").to_string().contains("listen"));
        config.listen = "127.0.0.1:1".into();
        config.api.idempotency_retention_hours = 1;
        assert!(config.validate().expect_err("bad").to_string().contains("idempotency"));
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error type
    fn site_section_reads_settings_from_file_and_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "quire.toml",
                "[site]\nserve = false\n[site.settings]\ntitle = \"Field notes\"\n\
                 base_url = \"https://notes.example.org\"\n\
                 nav = [{ label = \"About\", url = \"/posts/about/\" }]\n",
            )?;
            jail.set_env("QUIRE_SITE__SETTINGS__PAGE_SIZE", "25");
            let config = Config::load(Some(Path::new("quire.toml"))).expect("loads");
            assert!(config.site.enabled && !config.site.serve);
            assert_eq!(config.site.settings.title, "Field notes");
            assert_eq!(config.site.settings.page_size, 25);
            assert_eq!(config.site.settings.nav.len(), 1);
            config.validate().expect("valid");

            jail.create_file("bad.toml", "[site.settings]\nbase_url = \"notes.example.org\"\n")?;
            let bad = Config::load(Some(Path::new("bad.toml"))).expect("loads");
            let err = bad.validate().expect_err("no scheme").to_string();
            assert!(err.contains("site.settings") && err.contains("base_url"), "{err}");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error type
    fn site_publish_reads_from_file_and_environment_and_refuses_plain_http() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "quire.toml",
                "[site.publish]\nbucket = \"blog\"\nendpoint = \"http://minio.lan:9000\"\nprefix = \"/www/\"\n",
            )?;
            let config = Config::load(Some(Path::new("quire.toml"))).expect("loads");
            assert!(config.site.publish.enabled());
            assert_eq!(config.site.publish.prefix(), "www");
            let err = config.validate().expect_err("plain http").to_string();
            assert!(err.contains("allow_http"), "{err}");
            jail.set_env("QUIRE_SITE__PUBLISH__ALLOW_HTTP", "true");
            let config = Config::load(Some(Path::new("quire.toml"))).expect("loads");
            config.validate().expect("plain http allowed");
            assert!(!Config::default().site.publish.enabled(), "off without a bucket");
            Ok(())
        });
    }
}
