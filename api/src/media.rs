//! Media around the handlers: the `[media]` settings, receiving an upload — a raw image body
//! or a `multipart/form-data` form with `file` and `alt` — into a temporary file (streamed,
//! never held whole in memory, refused past `media.max_bytes`), and serving the stored files at
//! `/media/<hash>.<ext>`.

use std::fs::File;
use std::io::Write as _;
use std::path::PathBuf;

use actix_files::NamedFile;
use actix_multipart::Multipart;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::{Stream, StreamExt as _};
use quire_storage::{ImageLimits, MediaBlobs};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ProblemType};

/// Bytes gathered before each write to the temporary file (off the async workers).
const CHUNK: usize = 256 * 1024;
/// Room for a form's boundaries and small fields on top of `media.max_bytes`.
const FORM_OVERHEAD: u64 = 64 * 1024;
/// Longest text field of an upload form (`alt`, `name`).
const MAX_FIELD: usize = 4096;
/// Stored files never change (their name is their hash): caches keep them for a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `[media]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// Largest upload, in bytes (larger ones get 413).
    pub max_bytes: u64,
    /// Longest side of a stored image, in pixels; larger images are scaled down to it.
    pub max_dimension: u32,
    /// Uploads decoded at the same time (1 to 4); more wait their turn.
    pub concurrent_decodes: usize,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            max_bytes: 20 * 1024 * 1024,
            max_dimension: 2560,
            concurrent_decodes: 1,
        }
    }
}

impl MediaConfig {
    /// Explains the first bad value.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.max_bytes >= 1024, "media.max_bytes must be at least 1024");
        anyhow::ensure!(
            (16..=16384).contains(&self.max_dimension),
            "media.max_dimension must be between 16 and 16384"
        );
        anyhow::ensure!(
            (1..=4).contains(&self.concurrent_decodes),
            "media.concurrent_decodes must be between 1 and 4: each decode can take hundreds of MB"
        );
        Ok(())
    }

    /// The limits the domain applies.
    pub fn limits(&self) -> ImageLimits {
        ImageLimits {
            max_bytes: self.max_bytes,
            max_dimension: self.max_dimension,
            ..ImageLimits::default()
        }
    }
}

/// An upload body in a temporary file, removed on drop.
#[derive(Debug)]
pub struct Received {
    pub path: PathBuf,
    /// SHA-256 (hex) of the body, for the idempotency fingerprint.
    pub digest: String,
}

impl Drop for Received {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        ProblemType::PayloadTooLarge,
        format!("the upload is larger than media.max_bytes ({limit} bytes); send a smaller image"),
    )
}

fn io_failed(e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "receiving an upload failed");
    ApiError::internal()
}

/// What an upload request carried.
#[derive(Debug)]
pub struct Incoming {
    pub file: Received,
    /// The form's `alt` field.
    pub alt: Option<String>,
    /// The form's file name.
    pub name: Option<String>,
}

/// Reads an upload: a raw image body, or a `multipart/form-data` form whose `file` field is the
/// image and `alt` field the alt text. A declared length over the limit is refused before
/// anything is read, and so is any other multipart type.
pub async fn read_upload(
    req: &HttpRequest,
    payload: web::Payload,
    blobs: &MediaBlobs,
    limit: u64,
) -> Result<Incoming, ApiError> {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    let kind = header(header::CONTENT_TYPE).unwrap_or_default().to_ascii_lowercase();
    let form = kind.starts_with("multipart/form-data");
    let declared = header(header::CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit + if form { FORM_OVERHEAD } else { 0 }) {
        return Err(too_large(limit));
    }
    if kind.starts_with("multipart/") && !form {
        return Err(ApiError::new(
            ProblemType::UnsupportedMediaType,
            "send the image as the body (e.g. `Content-Type: image/jpeg`) or as a multipart/form-data `file` field",
        ));
    }
    if !form {
        let file = receive(payload, blobs, limit).await?;
        return Ok(Incoming {
            file,
            alt: None,
            name: None,
        });
    }
    receive_form(Multipart::new(req.headers(), payload), blobs, limit).await
}

fn bad_form(e: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("the multipart/form-data body is malformed: {e}"))
}

async fn receive_form(mut form: Multipart, blobs: &MediaBlobs, limit: u64) -> Result<Incoming, ApiError> {
    let (mut file, mut alt, mut name) = (None, None, None);
    while let Some(field) = form.next().await {
        let mut field = field.map_err(bad_form)?;
        let field_name = field.name().map(str::to_owned);
        match field_name.as_deref() {
            Some("file") if file.is_none() => {
                name = field
                    .content_disposition()
                    .and_then(|d| d.get_filename())
                    .map(str::to_owned);
                file = Some(receive(&mut field, blobs, limit).await?);
            }
            Some("alt") => alt = Some(read_text(&mut field).await?),
            _ => {
                read_text(&mut field).await?;
            }
        }
    }
    let file = file.ok_or_else(|| ApiError::bad_request("the form has no `file` field with the image"))?;
    Ok(Incoming { file, alt, name })
}

/// A small text field (at most [`MAX_FIELD`] bytes of UTF-8).
pub(crate) async fn read_text(field: &mut actix_multipart::Field) -> Result<String, ApiError> {
    let mut text = Vec::new();
    while let Some(chunk) = field.next().await {
        text.extend_from_slice(&chunk.map_err(bad_form)?);
        if text.len() > MAX_FIELD {
            return Err(ApiError::bad_request(format!(
                "a form field other than `file` is over {MAX_FIELD} bytes"
            )));
        }
    }
    String::from_utf8(text).map_err(|_| ApiError::bad_request("a form field is not UTF-8"))
}

/// Streams `body` into a temporary file of `blobs`, refusing more than `limit` bytes.
pub(crate) async fn receive<S, E>(mut body: S, blobs: &MediaBlobs, limit: u64) -> Result<Received, ApiError>
where
    S: Stream<Item = Result<web::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let blobs = blobs.clone();
    let path = web::block(move || blobs.temp_path()).await??;
    let created = path.clone();
    let file = web::block(move || File::create(created)).await?.map_err(io_failed)?;
    let mut received = Received {
        path,
        digest: String::new(),
    };
    let (mut hash, mut file, mut buf, mut total) = (Sha256::new(), file, Vec::with_capacity(CHUNK), 0u64);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("could not read the body: {e}")))?;
        total += chunk.len() as u64;
        if total > limit {
            return Err(too_large(limit));
        }
        hash.update(&chunk);
        buf.extend_from_slice(&chunk);
        if buf.len() >= CHUNK {
            (file, buf) = write_out(file, buf).await?;
        }
    }
    write_out(file, buf).await?;
    received.digest = quire_storage::media::blobs::hex(&hash.finalize());
    Ok(received)
}

async fn write_out(mut file: File, mut buf: Vec<u8>) -> Result<(File, Vec<u8>), ApiError> {
    let written = web::block(move || {
        file.write_all(&buf)?;
        buf.clear();
        Ok::<_, std::io::Error>((file, buf))
    })
    .await?;
    written.map_err(io_failed)
}

/// `GET /media/<hash>.<ext>` — a stored file, public (it is on published pages), with its hash
/// as a strong `ETag` and a year of caching.
pub async fn serve(req: HttpRequest, blobs: MediaBlobs, name: String) -> Result<HttpResponse, ApiError> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return Err(ApiError::method_not_allowed("GET, HEAD"));
    }
    let not_found = || ApiError::not_found("no media file has this name");
    let path = blobs.path_of(&name).ok_or_else(not_found)?;
    let content_type = name
        .rsplit('.')
        .next()
        .and_then(quire_storage::media::model::content_type_of);
    let (Some(content_type), Some((hash, _))) = (content_type, name.split_once('.')) else {
        return Err(not_found());
    };
    let etag = format!("\"{hash}\"");
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if fresh {
        HttpResponse::NotModified().finish()
    } else {
        let file = web::block(move || NamedFile::open(path))
            .await?
            .map_err(|_| not_found())?;
        let mime = content_type.parse().map_err(|_| ApiError::internal())?;
        let file = file.use_etag(false).use_last_modified(false).set_content_type(mime);
        file.disable_content_disposition().into_response(&req)
    };
    let headers = response.headers_mut();
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).map_err(|_| ApiError::internal())?,
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(response)
}
