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

/// The consent form of the IndieAuth authorization endpoint: the authorization request again,
/// the user's login and the decision.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConsentForm {
    pub response_type: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub state: String,
    pub code_challenge: String,
    /// `S256` (required).
    pub code_challenge_method: String,
    pub scope: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `approve` or `deny`.
    pub decision: String,
}

/// `POST /indieauth/token`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenForm {
    /// `authorization_code`.
    pub grant_type: String,
    pub code: String,
    pub client_id: String,
    pub redirect_uri: String,
    /// The PKCE verifier of the request's `code_challenge`.
    pub code_verifier: String,
}

/// `POST /indieauth/revoke` and `/indieauth/introspect`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenParam {
    pub token: String,
}
