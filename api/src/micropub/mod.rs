//! Micropub (W3C Recommendation) around the handlers: the `[micropub]` settings, Micropub's
//! own JSON errors, the token (header or `access_token` field, never both), and reading a
//! request — form-encoded, JSON or multipart with photo files — into one [`Request`].
//!
//! The mapping of properties to posts is the domain's (`quire_storage::micropub`).

mod request;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use request::{parse_query, read_request, Action};

use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;

/// `[micropub]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MicropubConfig {
    /// A create that repeats the content of one made with the same token less than this many
    /// seconds ago answers with the first post instead of publishing it twice (0: off).
    pub dedupe_window_secs: u64,
}

impl Default for MicropubConfig {
    fn default() -> Self {
        Self {
            dedupe_window_secs: 600,
        }
    }
}

impl MicropubConfig {
    /// Explains the first bad value.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.dedupe_window_secs <= 7 * 24 * 3600,
            "micropub.dedupe_window_secs must be at most a week (604800)"
        );
        Ok(())
    }
}

/// A Micropub error: `{"error", "error_description"}` with the spec's codes.
#[derive(Debug, Clone)]
pub struct MicropubError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl MicropubError {
    /// `invalid_request` (400).
    pub fn invalid(description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_request",
            description: description.into(),
        }
    }

    /// An OAuth error (IndieAuth's endpoints) in the same shape.
    pub fn oauth(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }

    /// `unauthorized` (401): no token, or an unknown one.
    pub fn unauthorized(description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: "unauthorized",
            description: description.into(),
        }
    }
}

impl std::fmt::Display for MicropubError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.error, self.description)
    }
}

impl From<ApiError> for MicropubError {
    fn from(e: ApiError) -> Self {
        let problem = e.problem();
        let scope = problem.missing.as_deref().is_some_and(|m| m.contains(':'));
        let (status, error) = match e.status().as_u16() {
            401 => (StatusCode::UNAUTHORIZED, "unauthorized"),
            403 if scope => (StatusCode::FORBIDDEN, "insufficient_scope"),
            403 => (StatusCode::FORBIDDEN, "forbidden"),
            // A post that is not there (or not the caller's to know) is a bad URL.
            404 | 409 | 410 | 412 | 422 => (StatusCode::BAD_REQUEST, "invalid_request"),
            status @ (400 | 413 | 415 | 429) => (
                e.status(),
                if status == 429 {
                    "too_many_requests"
                } else {
                    "invalid_request"
                },
            ),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
        };
        Self {
            status,
            error,
            description: problem.detail,
        }
    }
}

impl From<quire_storage::Error> for MicropubError {
    fn from(e: quire_storage::Error) -> Self {
        ApiError::from(e).into()
    }
}

impl From<actix_web::error::BlockingError> for MicropubError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::from(e).into()
    }
}

impl ResponseError for MicropubError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        response.json(quire_openapi::MicropubErrorBody {
            error: self.error.to_owned(),
            error_description: self.description.clone(),
        })
    }
}

/// A Micropub answer.
pub type MicropubResult = Result<HttpResponse, MicropubError>;

/// The caller, from `Authorization: Bearer` or the form's `access_token` (both: 400). Quire's
/// access tokens and its API tokens (`qk_…`) both work.
pub async fn authenticate(
    state: &AppState,
    req: &HttpRequest,
    form_token: Option<String>,
) -> Result<(Auth, String), MicropubError> {
    let header = crate::auth::bearer_token(req);
    let token = match (header, form_token) {
        (Some(_), Some(_)) => {
            return Err(MicropubError::invalid(
                "send the access token in the Authorization header or in access_token, not both",
            ))
        }
        (Some(token), None) | (None, Some(token)) => token,
        (None, None) => {
            return Err(MicropubError::unauthorized(
                "send an access token as `Authorization: Bearer <token>` or in access_token",
            ))
        }
    };
    let auth = crate::auth::authenticate(state, token.clone()).await?;
    Ok((auth, token))
}

/// The client's name as it gives it in `User-Agent` (its first word), for the events' source.
pub fn client_name(req: &HttpRequest) -> Option<String> {
    let agent = req.headers().get("user-agent")?.to_str().ok()?;
    let name: String = agent
        .split(['/', ' '])
        .next()?
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect();
    (!name.is_empty()).then_some(name)
}

/// SHA-256 (hex) of the parts, each ended by a NUL.
pub fn digest(parts: &[&[u8]]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part);
        hash.update([0]);
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The absolute URL of `path` on the public site.
pub fn site_url(state: &AppState, path: &str) -> String {
    format!("{}{path}", state.config.site.settings.base_url.trim_end_matches('/'))
}

/// The slug a post URL names: `…/posts/<slug>/`.
pub fn slug_of(url: &str) -> Option<&str> {
    let path = url.split(['?', '#']).next()?;
    let rest = &path[path.rfind("/posts/")? + "/posts/".len()..];
    let slug = rest.trim_end_matches('/');
    (quire_render::is_valid_slug(slug)).then_some(slug)
}

/// Extracts the state; every Micropub handler takes it.
pub fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, MicropubError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_urls_name_their_slug() {
        assert_eq!(slug_of("https://example.org/posts/hello/"), Some("hello"));
        assert_eq!(slug_of("http://127.0.0.1:1/blog/posts/a-b?x=1"), Some("a-b"));
        assert_eq!(slug_of("https://example.org/tags/x/"), None);
        assert_eq!(slug_of("https://example.org/posts/../x/"), None);
    }
}
