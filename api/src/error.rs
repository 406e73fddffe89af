//! `ApiError`: every failure of a request as RFC 9457 problem+json with a stable `type`.
//! Storage failures are logged and answered with a generic 500 that leaks no internals.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
pub use quire_openapi::ProblemType;
use quire_openapi::{MergeConflict, PatchPostRequest, PostResponse, Problem};
use quire_storage::Error as DomainError;

/// A failed request (boxed: errors travel through every handler's `Result`).
#[derive(Debug, Clone)]
pub struct ApiError(Box<ErrorInner>);

/// The parts of a problem response.
#[derive(Debug, Clone)]
pub struct ErrorInner {
    problem: ProblemType,
    detail: String,
    field: Option<String>,
    current: Option<Box<PostResponse>>,
    conflicts: Option<Vec<MergeConflict>>,
    keep_mine: Option<Box<PatchPostRequest>>,
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
        write!(f, "{} {}: {}", self.problem.status(), self.problem.code(), self.detail)
    }
}

impl ApiError {
    /// A problem of the catalog's kind `problem`, with `detail` saying what to do.
    pub fn new(problem: ProblemType, detail: impl Into<String>) -> Self {
        Self(Box::new(ErrorInner {
            problem,
            detail: detail.into(),
            field: None,
            current: None,
            conflicts: None,
            keep_mine: None,
            allow: None,
            missing: None,
            retry_after: None,
        }))
    }

    /// 429 with `Retry-After` (whole seconds, at least 1).
    pub fn too_many_requests(wait: std::time::Duration, detail: impl Into<String>) -> Self {
        let mut e = Self::new(ProblemType::TooManyRequests, detail);
        e.retry_after = Some(wait.as_secs_f64().ceil().max(1.0) as u64);
        e
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(ProblemType::BadRequest, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(ProblemType::Unauthorized, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(ProblemType::NotFound, detail)
    }

    pub fn method_not_allowed(allow: &'static str) -> Self {
        let mut e = Self::new(ProblemType::MethodNotAllowed, format!("this resource supports {allow}"));
        e.allow = Some(allow);
        e
    }

    pub fn internal() -> Self {
        Self::new(
            ProblemType::Internal,
            "the server failed; the request may be retried with the same Idempotency-Key",
        )
    }

    /// Attaches the current post (for 412 answers).
    pub fn with_current(mut self, post: PostResponse) -> Self {
        self.current = Some(Box::new(post));
        self
    }

    /// Attaches the overlapping changes of a merge (for 409 merge conflicts).
    pub fn with_conflicts(mut self, conflicts: Vec<MergeConflict>) -> Self {
        self.conflicts = Some(conflicts);
        self
    }

    /// Attaches the change that keeps the caller's side of every conflict (for 409 merge
    /// conflicts).
    pub fn with_keep_mine(mut self, change: PatchPostRequest) -> Self {
        self.keep_mine = Some(Box::new(change));
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.problem.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The kind of problem.
    pub fn problem_type(&self) -> ProblemType {
        self.problem
    }

    /// The body as sent.
    pub fn problem(&self) -> Problem {
        Problem {
            problem_type: self.problem.uri(),
            title: self.problem.title().into(),
            status: self.problem.status(),
            detail: self.detail.clone(),
            current: self.current.clone(),
            field: self.field.clone(),
            missing: self.missing.clone(),
            conflicts: self.conflicts.clone(),
            keep_mine: self.keep_mine.clone(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status());
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if let Some(allow) = self.allow {
            response.insert_header((header::ALLOW, allow));
        }
        if let Some(secs) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if self.problem == ProblemType::Unauthorized {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        response.body(body)
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        use ProblemType as P;
        match e {
            DomainError::Invalid { field, message } => {
                let mut err = Self::new(P::InvalidField, format!("{field}: {message}"));
                err.field = Some(field.into());
                err
            }
            DomainError::PostNotFound { id } => Self::not_found(format!("there is no post with id {id}")),
            DomainError::PostDeleted { id } => Self::new(
                P::PostDeleted,
                format!(
                    "post {id} was deleted; `POST /api/v1/posts/{id}/restore` brings it back and \
                     `GET /api/v1/posts/{id}?deleted=true` shows what it was"
                ),
            ),
            e @ DomainError::VersionNotFound { .. } => Self::not_found(e.to_string()),
            DomainError::VersionConflict { id, expected, actual } => Self::new(
                P::VersionConflict,
                format!(
                    "post {id} changed: your If-Match is version {expected}, it is now at {actual}; \
                     merge with `current` and retry with If-Match: \"{actual}\""
                ),
            ),
            DomainError::MergeConflict {
                id,
                base,
                current,
                conflicts,
                keep_mine,
            } => crate::merge::conflict_error(id, base, &current, &conflicts, *keep_mine),
            e @ DomainError::ConflictCopyNotFound { .. } => Self::not_found(format!(
                "{e}; the post's history (`GET /api/v1/posts/{{id}}/history`) lists its PostConflictCopy events"
            )),
            DomainError::UnknownBase { id, base, latest } => crate::merge::unknown_base_error(id, base, latest),
            DomainError::SlugTaken { slug, owner } => Self::new(
                P::SlugTaken,
                format!("slug {slug:?} is used by post {owner}; choose another slug or leave it out to derive one"),
            ),
            DomainError::InvalidState { message, .. } => Self::new(P::InvalidState, message),
            DomainError::UserExists { username } => {
                Self::new(P::UserExists, format!("user {username:?} already exists"))
            }
            DomainError::InvalidCredentials => Self::unauthorized("invalid credentials"),
            DomainError::Forbidden { missing, message } => {
                let mut err = Self::new(P::Forbidden, format!("missing right {missing}: {message}"));
                err.missing = Some(missing);
                err
            }
            DomainError::UserNotFound { id } => Self::not_found(format!("there is no user with id {id}")),
            DomainError::TokenNotFound { id } => Self::not_found(format!("you have no API token with id {id}")),
            DomainError::MediaNotFound { id } => Self::not_found(format!("there is no media with id {id}")),
            DomainError::MediaVersionConflict { id, expected, actual } => Self::new(
                P::VersionConflict,
                format!(
                    "media {id} changed: your If-Match is version {expected}, it is now at {actual}; \
                     read it again and retry with If-Match: \"{actual}\""
                ),
            ),
            DomainError::MediaTooLarge { message } => Self::new(P::PayloadTooLarge, message),
            DomainError::UnsupportedMedia { message } => Self::new(P::UnsupportedMediaType, message),
            DomainError::UnreadableMedia { message } => Self::new(P::UnreadableImage, message),
            DomainError::DatasetNotFound { name } => Self::not_found(format!("there is no dataset {name:?}")),
            DomainError::DatasetNameTaken { name } => Self::new(
                P::DatasetNameTaken,
                format!("the name {name:?} belongs to another user's dataset; choose another name"),
            ),
            DomainError::DatasetVersionConflict { name, expected, actual } => Self::new(
                P::VersionConflict,
                format!(
                    "dataset {name} changed: your If-Match is version {expected}, it is now at {actual}; \
                     read it again and retry with If-Match: \"{actual}\""
                ),
            ),
            DomainError::DatasetTooLarge { message } => Self::new(P::PayloadTooLarge, message),
            DomainError::DatasetMalformed { line, message } => Self::new(
                P::MalformedDataset,
                match line {
                    Some(line) => format!("line {line}: {message}; fix that line and send the data again"),
                    None => format!("{message}; fix the data and send it again"),
                },
            ),
            DomainError::WebhookNotFound { id } => Self::not_found(format!("there is no webhook with id {id}")),
            DomainError::DeliveryNotFound { id } => {
                Self::not_found(format!("this webhook has no delivery {id:?} (old ones are forgotten)"))
            }
            DomainError::WebhookUrlRefused { reason } => Self::new(P::WebhookUrlRefused, reason),
            DomainError::Busy { retry_after_secs } => {
                let mut err = Self::new(
                    P::Busy,
                    "too many passwords are being checked right now; retry after Retry-After seconds",
                );
                err.retry_after = Some(retry_after_secs.max(1));
                err
            }
            e @ (DomainError::Sled(_)
            | DomainError::Corrupt { .. }
            | DomainError::Closed
            | DomainError::Hash(_)
            | DomainError::Import { .. }
            | DomainError::Io { .. }) => {
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
