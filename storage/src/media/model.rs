//! The media aggregate: one uploaded image, folded from its stream's events like a post.
//!
//! The read model keeps the result of [`Media::apply`] after each event; an idempotent replay
//! folds the stream up to the recorded version with the same function.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ulid::Ulid;

use crate::event::{Envelope, EventPayload};

/// Longest alt text, in characters.
pub const MAX_ALT_LEN: usize = 1000;
/// Longest kept original file name, in characters (longer ones are cut).
pub const MAX_NAME_LEN: usize = 255;

/// An uploaded image as the read model keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Media {
    pub id: Ulid,
    /// SHA-256 (hex) of the stored bytes.
    pub hash: String,
    /// `image/jpeg` or `image/png`.
    pub content_type: String,
    pub bytes: u64,
    pub width: u32,
    pub height: u32,
    pub alt: String,
    pub original_name: Option<String>,
    /// Username of the uploader, who owns it.
    pub uploader: String,
    #[serde(with = "time::serde::rfc3339")]
    pub uploaded_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Version of the media's stream: the number of events applied.
    pub version: u64,
    /// Set once deleted.
    #[serde(with = "time::serde::rfc3339::option")]
    pub deleted_at: Option<OffsetDateTime>,
}

impl Media {
    /// The media after `event`; `None` when the stream does not start with `MediaUploaded`
    /// (or the event is not a media event).
    pub fn apply(before: Option<Media>, event: &Envelope) -> Option<Media> {
        let mut media = match (before, &event.payload) {
            (
                None,
                EventPayload::MediaUploaded {
                    hash,
                    content_type,
                    bytes,
                    width,
                    height,
                    alt,
                    original_name,
                    uploader,
                },
            ) => Media {
                id: event.stream,
                hash: hash.clone(),
                content_type: content_type.clone(),
                bytes: *bytes,
                width: *width,
                height: *height,
                alt: alt.clone(),
                original_name: original_name.clone(),
                uploader: uploader.clone(),
                uploaded_at: event.at,
                updated_at: event.at,
                version: 0,
                deleted_at: None,
            },
            (None, _) => return None,
            (Some(media), _) => media,
        };
        match &event.payload {
            EventPayload::MediaUploaded { .. } => {}
            EventPayload::MediaUpdated { alt } => media.alt.clone_from(alt),
            EventPayload::MediaDeleted {} => media.deleted_at = Some(event.at),
            _ => return None,
        }
        media.version = event.version;
        media.updated_at = event.at;
        Some(media)
    }

    /// Folds a stream's events (in version order).
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a Envelope>) -> Option<Media> {
        events.into_iter().fold(None, Media::apply)
    }

    /// Whether the media is live (not deleted).
    pub fn is_live(&self) -> bool {
        self.deleted_at.is_none()
    }

    /// The file name: `<hash>.<ext>`.
    pub fn file_name(&self) -> String {
        file_name(&self.hash, &self.content_type)
    }

    /// The public URL to use in Markdown: `/media/<hash>.<ext>`.
    pub fn url(&self) -> String {
        format!("/media/{}", self.file_name())
    }
}

/// `<hash>.<ext>` for a stored file of `content_type`.
pub fn file_name(hash: &str, content_type: &str) -> String {
    format!("{hash}.{}", extension_of(content_type).unwrap_or("bin"))
}

/// The file extension of a content type Quire stores.
pub fn extension_of(content_type: &str) -> Option<&'static str> {
    match content_type {
        "image/jpeg" => Some("jpg"),
        "image/png" => Some("png"),
        _ => None,
    }
}

/// The content type of a stored file's extension.
pub fn content_type_of(extension: &str) -> Option<&'static str> {
    match extension {
        "jpg" => Some("image/jpeg"),
        "png" => Some("image/png"),
        _ => None,
    }
}

/// Filters and cursor of a media listing, newest first.
#[derive(Debug, Clone, Default)]
pub struct MediaQuery {
    /// Start after this id (exclusive).
    pub after: Option<Ulid>,
    /// Page size.
    pub limit: usize,
    /// Only this user's uploads (`None`: everyone's).
    pub uploader: Option<String>,
}

/// A new media id (monotonic within the process, so id order is upload order).
pub fn new_media_id() -> Ulid {
    crate::post::new_post_id()
}
