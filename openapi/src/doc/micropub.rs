//! The Micropub operations of the OpenAPI document. Their errors are Micropub's JSON
//! (`MicropubErrorBody`), as the spec demands, not problem+json.

use crate::media::UploadForm;
use crate::micropub::{MicropubErrorBody, MicropubForm, MicropubMultipart};

/// `GET /micropub` — queries: `q=config` (media endpoint, post types, syndication targets),
/// `q=source` (a post's properties by `url`, all or the `properties[]` named), `q=syndicate-to`,
/// `q=category` (tags, optionally starting with `filter`).
#[utoipa::path(get, path = "/micropub", tag = "micropub", security(("bearer" = [])),
    params(
        ("q" = String, Query, description = "`config`, `source`, `syndicate-to` or `category`"),
        ("url" = Option<String>, Query, description = "For `q=source`: the post's URL"),
        ("properties[]" = Option<Vec<String>>, Query, description = "For `q=source`: the properties wanted"),
        ("filter" = Option<String>, Query, description = "For `q=category`: a prefix"),
    ),
    responses(
        (status = 200, description = "The answer to the query", body = Object),
        (status = 400, description = "Unknown query, missing or unknown url", body = MicropubErrorBody),
        (status = 401, description = "No valid token", body = MicropubErrorBody),
        (status = 403, description = "The token lacks `posts:read`", body = MicropubErrorBody),
    ))]
pub(super) fn micropub_get() {}

/// `POST /micropub` — create a post (`h=entry` form, JSON `{"type": ["h-entry"], "properties":
/// {…}}`, or multipart with `photo` files), or `update` (JSON: `replace`, `add`, `delete`),
/// `delete` or `undelete` the post at `url`. A create without `Idempotency-Key` that repeats
/// one made with the same token within `micropub.dedupe_window_secs` answers with the first
/// post's `Location`. The token comes from `Authorization` or `access_token`, never both.
#[utoipa::path(post, path = "/micropub", tag = "micropub", security(("bearer" = [])),
    request_body(description = "A Micropub request",
        content((MicropubForm = "application/x-www-form-urlencoded"), (Object = "application/json"),
            (MicropubMultipart = "multipart/form-data"))),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe (without it, creates are deduplicated by content)")),
    responses(
        (status = 201, description = "Created", headers(("Location" = String, description = "The post's URL"))),
        (status = 204, description = "Updated, deleted or undeleted"),
        (status = 400, description = "Malformed request, a non-array value, an unknown post URL, or a token in both places", body = MicropubErrorBody),
        (status = 401, description = "No valid token", body = MicropubErrorBody),
        (status = 403, description = "The token lacks a right (`insufficient_scope`), or the post is another's (`forbidden`)", body = MicropubErrorBody),
        (status = 413, description = "Larger than `api.max_body_bytes` (or a photo over `media.max_bytes`)", body = MicropubErrorBody),
        (status = 415, description = "Not a form, JSON or multipart body, or a photo that is no image", body = MicropubErrorBody),
        (status = 429, description = "Too many writes", body = MicropubErrorBody),
    ))]
pub(super) fn micropub_post() {}

/// `POST /micropub/media` — Micropub's media endpoint: a multipart `file`, cleaned and stored
/// like `POST /api/v1/media`; the file's URL is in `Location`.
#[utoipa::path(post, path = "/micropub/media", tag = "micropub", security(("bearer" = [])),
    request_body(description = "The image", content((UploadForm = "multipart/form-data"))),
    responses(
        (status = 201, description = "Stored", headers(("Location" = String, description = "The file's URL"))),
        (status = 400, description = "Malformed form, no `file`, or an unreadable image", body = MicropubErrorBody),
        (status = 401, description = "No valid token", body = MicropubErrorBody),
        (status = 403, description = "The token lacks `media:write`", body = MicropubErrorBody),
        (status = 413, description = "Larger than `media.max_bytes`", body = MicropubErrorBody),
        (status = 415, description = "Not an image Quire accepts", body = MicropubErrorBody),
        (status = 429, description = "Too many writes", body = MicropubErrorBody),
    ))]
pub(super) fn micropub_media() {}
