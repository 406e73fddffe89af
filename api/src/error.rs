//! `ApiError`: every failure of a request as RFC 9457 problem+json with a stable `type`.
//! Storage failures are logged and answered with a generic 500 that leaks no internals.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use quire_openapi::{PostResponse, Problem};
use quire_storage::Error as DomainError;

/// Prefix of every problem `type`.
pub const PROBLEM_PREFIX: &str = "urn:quire:problem:";

/// A failed request (boxed: errors travel through every handler's `Result`).
#[derive(Debug, Clone)]
pub struct ApiError(Box<ErrorInner>);

/// The parts of a problem response.
#[derive(Debug, Clone)]
pub struct ErrorInner {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
    field: Option<String>,
    current: Option<Box<PostResponse>>,
    allow: Option<&'static str>,
    missing: Option<String>,
    retry_after: Option<u64>,
}

impl std::ops::Deref for ApiError {
    type Target = ErrorInner;
    fn deref(&self) -> &ErrorInner {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ErrorInner {
        &mut self.0
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl ApiError {
    /// A problem with `status`, stable `code`, `title` and `detail`.
    pub fn new(status: StatusCode, code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self(Box::new(ErrorInner {
            status,
            code,
            title,
            detail: detail.into(),
            field: None,
            current: None,
            allow: None,
            missing: None,
            retry_after: None,
        }))
    }

    /// 429 with `Retry-After` (whole seconds, at least 1).
    pub fn too_many_requests(wait: std::time::Duration, detail: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-requests",
            "Too many requests",
            detail,
        );
        e.retry_after = Some(wait.as_secs_f64().ceil().max(1.0) as u64);
        e
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", "Bad request", detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "Not authenticated", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    pub fn method_not_allowed(allow: &'static str) -> Self {
        let mut e = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            format!("this resource supports {allow}"),
        );
        e.allow = Some(allow);
        e
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the server failed; the request may be retried with the same Idempotency-Key",
        )
    }

    /// Attaches the current post (for 412 answers).
    pub fn with_current(mut self, post: PostResponse) -> Self {
        self.current = Some(Box::new(post));
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The body as sent.
    pub fn problem(&self) -> Problem {
        Problem {
            problem_type: format!("{PROBLEM_PREFIX}{}", self.code),
            title: self.title.into(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            current: self.current.clone(),
            field: self.field.clone(),
            missing: self.missing.clone(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if let Some(allow) = self.allow {
            response.insert_header((header::ALLOW, allow));
        }
        if let Some(secs) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        response.body(body)
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        use StatusCode as S;
        match e {
            DomainError::Invalid { field, message } => {
                let mut err = Self::new(
                    S::BAD_REQUEST,
                    "invalid-field",
                    "Invalid field",
                    format!("{field}: {message}"),
                );
                err.field = Some(field.into());
                err
            }
            DomainError::PostNotFound { id } => Self::not_found(format!("there is no post with id {id}")),
            e @ DomainError::VersionNotFound { .. } => Self::not_found(e.to_string()),
            DomainError::VersionConflict { id, expected, actual } => Self::new(
                S::PRECONDITION_FAILED,
                "version-conflict",
                "Version conflict",
                format!(
                    "post {id} changed: your If-Match is version {expected}, it is now at {actual}; \
                     merge with `current` and retry with If-Match: \"{actual}\""
                ),
            ),
            DomainError::SlugTaken { slug, owner } => Self::new(
                S::CONFLICT,
                "slug-taken",
                "Slug taken",
                format!("slug {slug:?} is used by post {owner}; choose another slug or leave it out to derive one"),
            ),
            DomainError::InvalidState { message, .. } => {
                Self::new(S::CONFLICT, "invalid-state", "Not possible now", message)
            }
            DomainError::UserExists { username } => Self::new(
                S::CONFLICT,
                "user-exists",
                "User exists",
                format!("user {username:?} already exists"),
            ),
            DomainError::InvalidCredentials => Self::unauthorized("invalid credentials"),
            DomainError::Forbidden { missing, message } => {
                let mut err = Self::new(
                    S::FORBIDDEN,
                    "forbidden",
                    "Forbidden",
                    format!("missing right {missing}: {message}"),
                );
                err.missing = Some(missing);
                err
            }
            DomainError::UserNotFound { id } => Self::not_found(format!("there is no user with id {id}")),
            DomainError::TokenNotFound { id } => Self::not_found(format!("you have no API token with id {id}")),
            DomainError::Busy { retry_after_secs } => {
                let mut err = Self::new(
                    S::SERVICE_UNAVAILABLE,
                    "busy",
                    "Busy",
                    "too many passwords are being checked right now; retry after Retry-After seconds",
                );
                err.retry_after = Some(retry_after_secs.max(1));
                err
            }
            e => {
                tracing::error!(error = %e, "request failed");
                Self::internal()
            }
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        tracing::error!("blocking task failed");
        Self::internal()
    }
}

/// Result of a handler.
pub type ApiResult<T = HttpResponse> = Result<T, ApiError>;
