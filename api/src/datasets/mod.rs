//! Datasets around the handlers: the `[datasets]` settings, reading a `PUT` body (streamed,
//! refused past `datasets.max_bytes`), the public pages and query API under `/data/`
//! ([`public`]), and the scheduled fetch ([`fetch`]) with its status.

pub(crate) mod fetch;
pub(crate) mod pages;
pub(crate) mod public;

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt as _;
use quire_storage::datasets::{Format, TableLimits};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ProblemType};

pub(crate) use fetch::FetchStatus;

/// `[datasets]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatasetsConfig {
    /// Largest dataset (the body of a `PUT`, a fetched source, the stored CSV), in bytes.
    pub max_bytes: u64,
    /// Most data rows of a dataset.
    pub max_rows: u64,
    /// Fetch datasets that have `source_url` and `refresh` on their schedule.
    pub fetch_enabled: bool,
    /// How long one fetch may take, in seconds. Private and loopback sources are refused
    /// unless `webhooks.allow_private_addresses` is on (the same rule as for webhooks).
    pub fetch_timeout_secs: u64,
    /// A PEM file of extra CAs to trust for `https` sources (a private CA); the Mozilla roots
    /// built into Quire are always trusted.
    pub ca_file: Option<std::path::PathBuf>,
}

impl Default for DatasetsConfig {
    fn default() -> Self {
        Self {
            max_bytes: 16 * 1024 * 1024,
            max_rows: 200_000,
            fetch_enabled: true,
            fetch_timeout_secs: 30,
            ca_file: None,
        }
    }
}

impl DatasetsConfig {
    /// Explains the first bad value.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.max_bytes >= 1024, "datasets.max_bytes must be at least 1024");
        anyhow::ensure!(self.max_rows >= 1, "datasets.max_rows must be at least 1");
        anyhow::ensure!(
            (1..=600).contains(&self.fetch_timeout_secs),
            "datasets.fetch_timeout_secs must be between 1 and 600"
        );
        if let Some(file) = &self.ca_file {
            crate::tls::client_config(Some(file)).map_err(|e| anyhow::anyhow!("datasets.ca_file: {e:#}"))?;
        }
        Ok(())
    }

    /// The limits the domain applies.
    pub fn limits(&self) -> TableLimits {
        TableLimits {
            max_bytes: self.max_bytes,
            max_rows: self.max_rows,
            ..TableLimits::default()
        }
    }
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        ProblemType::PayloadTooLarge,
        format!("the data is larger than datasets.max_bytes ({limit} bytes); send less"),
    )
}

/// The format a `Content-Type` names: `text/csv` or JSON; anything else is 415.
pub(crate) fn format_of(req: &HttpRequest) -> Result<Format, ApiError> {
    let kind = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match kind.as_str() {
        "text/csv" => Ok(Format::Csv),
        "application/json" => Ok(Format::Json),
        _ => Err(ApiError::new(
            ProblemType::UnsupportedMediaType,
            "send the data as `Content-Type: text/csv` (with a header row) or `application/json` (an array of objects)",
        )),
    }
}

/// Reads the body, refusing more than `limit` bytes (a declared length over it before reading).
pub(crate) async fn read_body(req: &HttpRequest, mut payload: web::Payload, limit: u64) -> Result<Vec<u8>, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0).min(limit) as usize);
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("could not read the body: {e}")))?;
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
