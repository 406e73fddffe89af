//! Media: images uploaded for posts.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// An uploaded image. The stored file is the cleaned image (upright, at most
/// `media.max_dimension` pixels on its longest side, without EXIF/XMP/IPTC metadata).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MediaResponse {
    /// ULID.
    #[schema(example = "01JDQ3V5X8Y6Z7A8B9C0D1E2F3")]
    pub id: String,
    /// Public URL of the file, to use in Markdown: `![alt](/media/<hash>.<ext>)`.
    #[schema(example = "/media/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.jpg")]
    pub url: String,
    /// SHA-256 (hex) of the stored bytes; also the file's strong `ETag`.
    pub hash: String,
    /// `image/jpeg` or `image/png`.
    pub content_type: String,
    /// Size of the stored file.
    pub bytes: u64,
    pub width: u32,
    pub height: u32,
    /// Text alternative for readers who cannot see the image.
    pub alt: String,
    /// The uploaded file's name, if the client gave one.
    pub original_name: Option<String>,
    /// Username of the uploader (who owns it).
    pub uploader: String,
    #[serde(with = "time::serde::rfc3339")]
    pub uploaded_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Increases with every change; the `ETag` of this resource is `"<version>"`.
    pub version: u64,
}

/// A page of media, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MediaList {
    pub items: Vec<MediaResponse>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// `PATCH /api/v1/media/{id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchMediaRequest {
    /// The new alt text (at most 1000 characters).
    pub alt: String,
}

/// `POST /api/v1/media` as a form (what a browser's `FormData` sends).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UploadForm {
    /// The image: JPEG, PNG, WebP or GIF. Its file name is kept as `original_name`.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// Alt text.
    pub alt: Option<String>,
}
