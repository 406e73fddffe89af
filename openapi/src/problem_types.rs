//! The catalog of problem types: every kind of error the API answers with, its stable `type`
//! code, HTTP status and title. Handlers name a [`ProblemType`], never a string, so the list in
//! the OpenAPI document (the `type` enum of `Problem`) and the server cannot drift apart.

/// Prefix of every problem `type`.
pub const PROBLEM_PREFIX: &str = "urn:quire:problem:";

macro_rules! problem_types {
    ($($(#[$doc:meta])* $variant:ident = ($code:literal, $status:literal, $title:literal),)*) => {
        /// A kind of problem; see the module documentation.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ProblemType {
            $($(#[$doc])* $variant,)*
        }

        impl ProblemType {
            /// Every problem type, in catalog order.
            pub const ALL: &'static [ProblemType] = &[$(ProblemType::$variant,)*];

            /// The stable code, e.g. `version-conflict`.
            pub fn code(self) -> &'static str {
                match self { $(ProblemType::$variant => $code,)* }
            }

            /// The HTTP status this problem is answered with.
            pub fn status(self) -> u16 {
                match self { $(ProblemType::$variant => $status,)* }
            }

            /// A short human summary.
            pub fn title(self) -> &'static str {
                match self { $(ProblemType::$variant => $title,)* }
            }
        }
    };
}

problem_types! {
    /// The request is malformed (query string, header, path).
    BadRequest = ("bad-request", 400, "Bad request"),
    /// A field breaks a rule; `field` names it.
    InvalidField = ("invalid-field", 400, "Invalid field"),
    /// No valid credentials.
    Unauthorized = ("unauthorized", 401, "Not authenticated"),
    /// A right is missing; `missing` names it.
    Forbidden = ("forbidden", 403, "Forbidden"),
    /// Nothing there (or nothing the caller may know of).
    NotFound = ("not-found", 404, "Not found"),
    /// The method is not one the resource answers; `Allow` lists them.
    MethodNotAllowed = ("method-not-allowed", 405, "Method not allowed"),
    /// The resource is in a state the command does not apply to.
    InvalidState = ("invalid-state", 409, "Not possible now"),
    /// The explicit slug belongs to another post.
    SlugTaken = ("slug-taken", 409, "Slug taken"),
    /// The dataset name belongs to another user's dataset (published, draft or deleted alike).
    DatasetNameTaken = ("dataset-name-taken", 409, "Dataset name taken"),
    /// The username is taken.
    UserExists = ("user-exists", 409, "User exists"),
    /// A request with this Idempotency-Key is still being processed.
    IdempotencyInProgress = ("idempotency-in-progress", 409, "Request in progress"),
    /// The git projection is turned off.
    GitDisabled = ("git-disabled", 409, "Git projection off"),
    /// A merge from `Base-Version` found changes made on both sides; `conflicts` lists them.
    MergeConflict = ("merge-conflict", 409, "Merge conflict"),
    /// The post was deleted; it can be restored.
    PostDeleted = ("post-deleted", 410, "Post deleted"),
    /// `If-Match` names another version than the current one.
    VersionConflict = ("version-conflict", 412, "Version conflict"),
    /// The body is larger than the limit.
    PayloadTooLarge = ("payload-too-large", 413, "Body too large"),
    /// The body is not of a type the route takes.
    UnsupportedMediaType = ("unsupported-media-type", 415, "Unsupported media type"),
    /// The Idempotency-Key was used for a different request.
    IdempotencyKeyReused = ("idempotency-key-reused", 422, "Idempotency-Key reused"),
    /// The upload claims to be an image but cannot be decoded (truncated, damaged).
    UnreadableImage = ("unreadable-image", 422, "Image not readable"),
    /// A dataset body that cannot be read (the `detail` names the line).
    MalformedDataset = ("malformed-dataset", 422, "Malformed dataset"),
    /// `Base-Version` names a version the post never had.
    UnknownBaseVersion = ("unknown-base-version", 422, "Unknown base version"),
    /// A webhook URL that may not be called (not http, or a private address).
    WebhookUrlRefused = ("webhook-url-refused", 422, "Webhook URL refused"),
    /// A change without `If-Match`.
    IfMatchRequired = ("if-match-required", 428, "If-Match required"),
    /// Too many requests; `Retry-After` says when to retry.
    TooManyRequests = ("too-many-requests", 429, "Too many requests"),
    /// The server failed; nothing about it is disclosed.
    Internal = ("internal", 500, "Internal error"),
    /// Too many passwords are being checked at once; `Retry-After` says when to retry.
    Busy = ("busy", 503, "Busy"),
    /// Not ready to serve (the log, or a projection too far behind).
    NotReady = ("not-ready", 503, "Not ready"),
}

impl ProblemType {
    /// The `type` URI, e.g. `urn:quire:problem:version-conflict`.
    pub fn uri(self) -> String {
        format!("{PROBLEM_PREFIX}{}", self.code())
    }
}

/// The schema of `Problem.type`: the catalog as an enum, with a table in its description.
pub(crate) fn type_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let table: String = ProblemType::ALL
        .iter()
        .map(|p| format!("\n- `{}` ({}): {}", p.uri(), p.status(), p.title()))
        .collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(format!(
            "Stable identifier of the kind of problem: match on it, not on `title` or `detail`.{table}"
        )))
        .enum_values(Some(ProblemType::ALL.iter().map(|p| p.uri())))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_statuses_are_errors() {
        let mut codes: Vec<_> = ProblemType::ALL.iter().map(|p| p.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ProblemType::ALL.len());
        assert!(ProblemType::ALL.iter().all(|p| (400..600).contains(&p.status())));
    }
}
