//! Micropub: its error shape and the request forms, described for the OpenAPI document. The
//! properties themselves are microformats2 (name → array of values) and stay free-form.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A Micropub error (the spec's shape, not problem+json).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MicropubErrorBody {
    /// `invalid_request`, `unauthorized`, `forbidden`, `insufficient_scope`,
    /// `too_many_requests` or `server_error`.
    #[schema(example = "invalid_request")]
    pub error: String,
    /// What to do about it.
    pub error_description: String,
}

/// A form-encoded Micropub request: `h=entry` with properties as fields (`category[]` for
/// several values), or `action=delete|undelete` with `url`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MicropubForm {
    /// `entry` (the only type supported).
    pub h: Option<String>,
    /// The text of the post.
    pub content: Option<String>,
    /// Its title; none makes the post a note.
    pub name: Option<String>,
    pub category: Option<String>,
    /// `delete` or `undelete`.
    pub action: Option<String>,
    /// The post's URL, for an action.
    pub url: Option<String>,
    /// The token, instead of the `Authorization` header (never both).
    pub access_token: Option<String>,
}

/// A multipart Micropub create: the form's fields plus photo files.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MicropubMultipart {
    pub h: Option<String>,
    pub content: Option<String>,
    /// A photo (JPEG, PNG, WebP or GIF); also `photo[]`, repeated.
    #[schema(value_type = Option<String>, format = Binary)]
    pub photo: Option<Vec<u8>>,
    pub access_token: Option<String>,
}
