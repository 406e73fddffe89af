//! The media operations of the OpenAPI document.

use crate::media::{MediaList, MediaResponse, PatchMediaRequest, UploadForm};
use crate::problem::Problem;

/// `POST /api/v1/media` — upload an image: the raw bytes as the body, or a
/// `multipart/form-data` form with the image in `file` and the alt text in `alt`. The type is read from the bytes: JPEG,
/// PNG, WebP or GIF (SVG is refused: it can carry scripts). The image is turned upright from its
/// EXIF orientation, scaled down to `media.max_dimension` and encoded anew, which drops EXIF,
/// XMP and IPTC metadata (GPS positions). The same cleaned bytes are stored once.
#[utoipa::path(post, path = "/api/v1/media", tag = "media", security(("bearer" = [])),
    request_body(description = "The image bytes (any image type; it is read from the bytes), or a form",
        content((Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"), (Vec<u8> = "image/gif"),
            (UploadForm = "multipart/form-data"))),
    params(
        ("alt" = Option<String>, Query, description = "Alt text (or the `X-Alt-Text` header)"),
        ("name" = Option<String>, Query, description = "The original file name, kept for reference"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
    ),
    responses(
        (status = 201, description = "Stored", body = MediaResponse,
            headers(("Location" = String, description = "`/api/v1/media/{id}`"), ("ETag" = String, description = "\"<version>\""))),
        (status = 400, description = "Bad alt text or Idempotency-Key, malformed form or no `file` field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing right `media:write`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The Idempotency-Key is in use", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than `media.max_bytes`, or too many pixels", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a JPEG, PNG, WebP or GIF image", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not decodable (truncated, damaged), or Idempotency-Key reused with another request", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many writes; see Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub(super) fn upload_media() {}

/// `GET /api/v1/media` — list media, newest first (editors and admins: everyone's; others: their own).
#[utoipa::path(get, path = "/api/v1/media", tag = "media", security(("bearer" = [])),
    params(
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 200 (default 50)"),
    ),
    responses(
        (status = 200, description = "A page of media", body = MediaList),
        (status = 400, description = "Bad query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing right `posts:read`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) fn list_media() {}

/// `GET /api/v1/media/{id}` — one media file's metadata (404 if the caller may not see it).
#[utoipa::path(get, path = "/api/v1/media/{id}", tag = "media", security(("bearer" = [])),
    params(("id" = String, Path, description = "Media id (ULID)")),
    responses(
        (status = 200, description = "The media", body = MediaResponse, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing right `posts:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such media (or deleted, or not the caller's)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) fn get_media() {}

/// `PATCH /api/v1/media/{id}` — change the alt text.
#[utoipa::path(patch, path = "/api/v1/media/{id}", tag = "media", security(("bearer" = [])),
    request_body = PatchMediaRequest,
    params(
        ("id" = String, Path, description = "Media id (ULID)"),
        ("If-Match" = String, Header, description = "The media's current `ETag`, or `*`"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
    ),
    responses(
        (status = 200, description = "Changed", body = MediaResponse, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 400, description = "Malformed body or Idempotency-Key, bad alt text", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing right (`media:write`, or another user's upload)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such media", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The Idempotency-Key is in use", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Idempotency-Key reused with another request", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many writes; see Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub(super) fn patch_media() {}

/// `DELETE /api/v1/media/{id}` — delete a media file: it leaves listings and git; its bytes
/// stay on disk (and keep being served at its URL) until a sweep exists.
#[utoipa::path(delete, path = "/api/v1/media/{id}", tag = "media", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Media id (ULID)"),
        ("If-Match" = String, Header, description = "The media's current `ETag`, or `*`"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
    ),
    responses(
        (status = 200, description = "Deleted", body = MediaResponse, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 400, description = "Malformed Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing right (`media:write`, or another user's upload)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such media", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The Idempotency-Key is in use", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Idempotency-Key reused with another request", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many writes; see Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub(super) fn delete_media() {}
