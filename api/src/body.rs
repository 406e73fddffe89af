//! The JSON body extractor: content type, size limit, strict decoding, all as problem+json.
//! It keeps the raw bytes for the idempotency fingerprint.

use std::future::Future;
use std::pin::Pin;

use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ProblemType};
use crate::state::AppState;

/// A decoded JSON body and its bytes.
#[derive(Debug)]
pub struct JsonBody<T> {
    pub value: T,
    pub raw: web::Bytes,
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let limit = body_limit(req);
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            })
            .unwrap_or(false);
        let bytes = web::Bytes::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let raw = read_limited(&req, bytes, limit).await?;
            if !is_json {
                return Err(ApiError::new(
                    ProblemType::UnsupportedMediaType,
                    "send the body as JSON with `Content-Type: application/json`",
                ));
            }
            // serde would also read a struct from an array; every body of this API is an object.
            if raw.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
                return Err(ApiError::bad_request("the body must be a JSON object"));
            }
            let value = serde_json::from_slice(&raw)
                .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON for this request: {e}")))?;
            Ok(JsonBody { value, raw })
        })
    }
}

async fn read_limited(
    req: &HttpRequest,
    bytes: impl Future<Output = Result<web::Bytes, actix_web::Error>>,
    limit: usize,
) -> Result<web::Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            ProblemType::PayloadTooLarge,
            format!("the body is larger than the limit of {limit} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let raw = bytes.await.map_err(|e| match e.as_error::<PayloadError>() {
        Some(PayloadError::Overflow) => too_large(),
        _ => ApiError::bad_request(format!("could not read the body: {e}")),
    })?;
    if raw.len() > limit {
        return Err(too_large());
    }
    Ok(raw)
}

/// Body size limit for actix's own reader (kept above ours so ours answers first).
pub fn payload_config(limit: usize) -> web::PayloadConfig {
    web::PayloadConfig::new(limit.saturating_add(1))
}

/// The raw body, within `api.max_body_bytes` (413 as problem+json past it), for handlers that
/// check a signature over the exact bytes (forge webhooks).
#[derive(Debug)]
pub struct RawBody(pub web::Bytes);

impl FromRequest for RawBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let limit = body_limit(req);
        let bytes = web::Bytes::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move { read_limited(&req, bytes, limit).await.map(RawBody) })
    }
}

/// `api.max_body_bytes` of the running server (1 MiB where there is none, as in unit tests).
fn body_limit(req: &HttpRequest) -> usize {
    req.app_data::<web::Data<AppState>>()
        .map_or(1024 * 1024, |s| s.config.api.max_body_bytes)
}
