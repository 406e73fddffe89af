//! Prometheus metrics, served at `GET /metrics` in the OpenMetrics text format (which
//! Prometheus reads natively).
//!
//! Two kinds. What requests count as they happen: requests and their latency by route, method
//! and status ([`track`], a middleware around every route), `Idempotency-Key` outcomes and 412
//! conflicts (counted in `write.rs`). And what is read at scrape time from where it already
//! lives ([`LogCollector`]): the log's head and flush count, each projection's position and lag,
//! each mirror's push state and, for remotes that pull, whether the last pull failed or diverged.
//!
//! Routes are labelled by their pattern (`/api/v1/posts/{id}`), never the raw path, and methods
//! outside the standard ones as `other`, so no client can grow the label sets. `/metrics` tells
//! request rates and event counts, nothing about content; it is open by default like most
//! exporters, and `metrics.token` makes it ask for a bearer token (`metrics.enabled = false`
//! turns it off).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric as _};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use quire_storage::Store;
use serde::{Deserialize, Serialize};

use crate::git::GitStatus;
use crate::state::AppState;

/// The content type of the OpenMetrics text format.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Latency buckets, in seconds: 0.5 ms to 10 s.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// `[metrics]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve `GET /metrics`.
    pub enabled: bool,
    /// When set, `/metrics` needs `Authorization: Bearer <token>` (Prometheus: `authorization`
    /// in the scrape config).
    pub token: Option<String>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            token: None,
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// How a request with an `Idempotency-Key` went.
#[derive(Debug, Clone, Copy)]
pub enum IdempotencyOutcome {
    /// First time: the command ran.
    Fresh,
    /// Seen before with the same request: the first response was replayed.
    Replayed,
    /// Seen before with another request: 422.
    Mismatch,
    /// The first request is still running: 409.
    InProgress,
}

/// The registry and the metrics the request path updates.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RequestLabels, Histogram, fn() -> Histogram>,
    idempotency: Family<OutcomeLabels, Counter>,
    conflicts: Counter,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Metrics whose scrape-time part reads `log`.
    pub fn new(log: LogCollector) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(|| {
            Histogram::new(BUCKETS.iter().copied())
        });
        let idempotency = Family::<OutcomeLabels, Counter>::default();
        let conflicts = Counter::default();
        registry.register(
            "quire_http_requests",
            "HTTP requests answered, by method, route pattern and status",
            requests.clone(),
        );
        registry.register(
            "quire_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route pattern and status",
            latency.clone(),
        );
        registry.register(
            "quire_idempotency_requests",
            "Writes with an Idempotency-Key: fresh, replayed (the outbox retried), mismatch (422), in_progress (409)",
            idempotency.clone(),
        );
        registry.register(
            "quire_write_conflicts",
            "Writes refused with 412 because If-Match named a stale version",
            conflicts.clone(),
        );
        registry.register_collector(Box::new(log));
        Self {
            registry,
            requests,
            latency,
            idempotency,
            conflicts,
        }
    }

    /// Counts an `Idempotency-Key` outcome.
    pub fn idempotency(&self, outcome: IdempotencyOutcome) {
        let outcome = match outcome {
            IdempotencyOutcome::Fresh => "fresh",
            IdempotencyOutcome::Replayed => "replayed",
            IdempotencyOutcome::Mismatch => "mismatch",
            IdempotencyOutcome::InProgress => "in_progress",
        };
        self.idempotency.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    /// Counts a 412.
    pub fn conflict(&self) {
        self.conflicts.inc();
    }

    fn observe(&self, method: &str, route: String, status: u16, seconds: f64) {
        let labels = RequestLabels {
            method: method_label(method),
            route,
            status,
        };
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&labels).observe(seconds);
    }

    /// The exposition text. Blocking: the collector reads the site's manifest file.
    pub fn render(&self) -> Result<String, fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    KNOWN.into_iter().find(|m| *m == method).unwrap_or("other")
}

/// A request that took this long until its answer started is logged as a warning: on a Pi a
/// stalled disk or an overloaded blocking pool shows there first.
const SLOW_REQUEST: Duration = Duration::from_secs(5);

/// Middleware: counts every request and its latency under its route pattern, and warns about
/// slow ones.
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<AppState>>().map(|s| s.metrics.clone());
    let method = req.method().as_str().to_owned();
    let result = next.call(req).await;
    if let Some(metrics) = metrics {
        let (route, status) = match &result {
            Ok(res) => (res.request().match_pattern(), res.status().as_u16()),
            Err(e) => (None, e.as_response_error().status_code().as_u16()),
        };
        // Unmatched paths (the site, 404s) share one label.
        let route = route.unwrap_or_else(|| "other".to_owned());
        let elapsed = started.elapsed();
        if elapsed >= SLOW_REQUEST {
            tracing::warn!(method, route, status, secs = elapsed.as_secs_f64(), "slow request");
        }
        metrics.observe(&method, route, status, elapsed.as_secs_f64());
    }
    result
}

/// The metrics read at scrape time.
pub struct LogCollector {
    pub store: Arc<dyn Store>,
    pub git: Arc<GitStatus>,
    /// `<data>/site`, when the site projection runs.
    pub site_dir: Option<PathBuf>,
    /// The projection that queues webhook deliveries, when it runs.
    pub webhooks: Option<Arc<quire_storage::runner::ProjectionStatus>>,
    /// The publisher of the site to S3, when `[site.publish]` names a bucket.
    pub publish: Option<Arc<quire_storage::runner::ProjectionStatus>>,
    /// Scheduled dataset fetches.
    pub dataset_fetches: Arc<crate::datasets::FetchStatus>,
}

impl fmt::Debug for LogCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogCollector")
            .field("site_dir", &self.site_dir)
            .finish()
    }
}

impl Collector for LogCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let head = self.store.head();
        let appended = ConstCounter::new(head);
        let help = "Events appended to the log since it began (its head: events are never removed)";
        appended.encode(encoder.encode_descriptor("quire_events_appended", help, None, MetricType::Counter)?)?;
        let gauge = ConstGauge::new(head);
        let help = "seq of the last durable event in the log";
        gauge.encode(encoder.encode_descriptor("quire_log_head_seq", help, None, MetricType::Gauge)?)?;
        let flushes = ConstCounter::new(self.store.flush_count());
        let help = "Flushes of the log by this process (group commit shares one among concurrent writes)";
        flushes.encode(encoder.encode_descriptor("quire_log_flushes", help, None, MetricType::Counter)?)?;

        let git = self.git.enabled().then(|| self.git.position()).flatten();
        let site = self
            .site_dir
            .as_deref()
            .and_then(|dir| crate::site::manifest::Manifest::load(dir).ok().flatten())
            .map(|m| m.seq);
        let webhooks = self.webhooks.as_ref().and_then(|w| w.position());
        let publish = self.publish.as_ref().and_then(|p| p.position());
        let projections = [
            ("git", git),
            ("site", site),
            ("webhooks", webhooks),
            ("publish", publish),
        ];
        let help = "seq of the last event a projection applied (absent while unknown or turned off)";
        let mut seqs = encoder.encode_descriptor("quire_projection_seq", help, None, MetricType::Gauge)?;
        for (name, seq) in projections {
            if let Some(seq) = seq {
                ConstGauge::new(seq).encode(seqs.encode_family(&[("projection", name)])?)?;
            }
        }
        let help = "Events in the log that a projection has not applied yet";
        let mut lags = encoder.encode_descriptor("quire_projection_lag_events", help, None, MetricType::Gauge)?;
        for (name, seq) in projections {
            if let Some(seq) = seq {
                let lag = head.saturating_sub(seq);
                ConstGauge::new(lag).encode(lags.encode_family(&[("projection", name)])?)?;
            }
        }
        if let Some(publish) = &self.publish {
            let help = "Failed attempts to publish the site to S3 since the server started";
            let failures = ConstCounter::new(publish.failures());
            failures.encode(encoder.encode_descriptor("quire_publish_failures", help, None, MetricType::Counter)?)?;
        }
        let fetches = &self.dataset_fetches;
        let help = "Scheduled dataset fetches tried since the start";
        ConstCounter::new(fetches.attempts.load(std::sync::atomic::Ordering::Relaxed))
            .encode(encoder.encode_descriptor("quire_dataset_fetches", help, None, MetricType::Counter)?)?;
        let help = "Scheduled dataset fetches that failed (timeout, too large, refused address, bad data)";
        ConstCounter::new(fetches.failures.load(std::sync::atomic::Ordering::Relaxed))
            .encode(encoder.encode_descriptor("quire_dataset_fetch_failures", help, None, MetricType::Counter)?)?;
        self.encode_mirrors(&mut encoder)
    }
}

impl LogCollector {
    fn encode_mirrors(&self, encoder: &mut DescriptorEncoder) -> Result<(), fmt::Error> {
        let mirrors: Vec<_> = (0..).map_while(|i| self.git.mirror(i)).collect();
        if mirrors.is_empty() {
            return Ok(());
        }
        let help = "Failed pushes to a mirror since its last successful one (0 when in step)";
        let mut failures = encoder.encode_descriptor("quire_git_push_failures", help, None, MetricType::Gauge)?;
        for m in &mirrors {
            ConstGauge::new(m.failures).encode(failures.encode_family(&[("remote", m.name.as_str())])?)?;
        }
        let help = "git position last pushed to a mirror";
        let mut pushed = encoder.encode_descriptor("quire_git_push_seq", help, None, MetricType::Gauge)?;
        for m in &mirrors {
            if let Some(seq) = m.pushed_seq {
                ConstGauge::new(seq).encode(pushed.encode_family(&[("remote", m.name.as_str())])?)?;
            }
        }
        let help = "Unix time of the last successful push to a mirror";
        let mut last = encoder.encode_descriptor(
            "quire_git_push_last_success_timestamp_seconds",
            help,
            None,
            MetricType::Gauge,
        )?;
        for m in &mirrors {
            if let Some(at) = m.last_success_at {
                ConstGauge::new(at.unix_timestamp()).encode(last.encode_family(&[("remote", m.name.as_str())])?)?;
            }
        }
        let pulls: Vec<_> = mirrors
            .iter()
            .filter_map(|m| Some((m.name.as_str(), m.pull.as_ref()?)))
            .collect();
        if pulls.is_empty() {
            return Ok(());
        }
        let help = "1 while a forge's branch and Quire's main both have commits the other lacks";
        let mut diverged = encoder.encode_descriptor("quire_git_pull_diverged", help, None, MetricType::Gauge)?;
        for (name, pull) in &pulls {
            ConstGauge::new(i64::from(pull.diverged)).encode(diverged.encode_family(&[("remote", *name)])?)?;
        }
        let help = "1 if the last pull from a forge failed (fetch, refused files, divergence)";
        let mut failed = encoder.encode_descriptor("quire_git_pull_failed", help, None, MetricType::Gauge)?;
        for (name, pull) in &pulls {
            ConstGauge::new(i64::from(pull.ok == Some(false))).encode(failed.encode_family(&[("remote", *name)])?)?;
        }
        Ok(())
    }
}

/// Whether `header` (an `Authorization` value) carries `token` as a bearer token, compared in
/// constant time.
pub fn token_matches(header: Option<&str>, token: &str) -> bool {
    let given = header
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map_or("", |(_, t)| t.trim());
    let (a, b) = (given.as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_set_share_a_label() {
        assert_eq!(method_label("PATCH"), "PATCH");
        assert_eq!(method_label("BREW"), "other");
    }

    #[test]
    fn the_token_must_match_exactly() {
        assert!(token_matches(Some("Bearer s3cret"), "s3cret"));
        assert!(token_matches(Some("bearer s3cret"), "s3cret"));
        assert!(!token_matches(Some("Bearer s3cre"), "s3cret"));
        assert!(!token_matches(None, "s3cret"));
    }
}
