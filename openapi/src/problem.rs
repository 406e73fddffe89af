//! RFC 9457 problem details (`application/problem+json`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::posts::{MergeConflict, PostResponse};

/// An error. `type` is stable: match on it, not on `title` or `detail`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of problem, e.g. `urn:quire:problem:version-conflict`; the
    /// catalog is [`crate::ProblemType`].
    #[serde(rename = "type")]
    #[schema(schema_with = crate::problem_types::type_schema)]
    pub problem_type: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong this time and what to do about it.
    pub detail: String,
    /// For a 412 or a merge conflict (409): the post as it is now, so the client can merge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<Box<PostResponse>>,
    /// For a 403: the right that is missing (a scope like `posts:publish`, or
    /// `edit-others-posts`, `old-password`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
    /// For a 400 about a field: which one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For a merge conflict (409, `urn:quire:problem:merge-conflict`): every overlapping change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicts: Option<Vec<MergeConflict>>,
    /// For a merge conflict: your change as "keep my changes" makes it, to apply to `current`:
    /// your side of every conflict, and both sides' other changes (tags merged as a set; the
    /// body merged line by line, with your lines in each overlapping hunk, where a body
    /// conflict's `line` points). Send it as it is, or with some fields or hunks set to
    /// `theirs`, as a `PATCH` with `Base-Version: <current.version>`; nothing of the other side
    /// outside the conflicts is lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_mine: Option<Box<crate::posts::PatchPostRequest>>,
}
