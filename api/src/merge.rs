//! `Base-Version`: the HTTP side of merged writes. A `PATCH` names either the version it must
//! apply to (`If-Match`, strict, RFC 9110) or the version it was made from (`Base-Version`,
//! merged three-way by `Posts::update_from_base`); this module reads which, runs the matching
//! command, and shapes a merge conflict as problem+json with its `conflicts` list.

use actix_web::http::header;
use actix_web::HttpRequest;
use quire_openapi::{MergeConflict, PatchPostRequest, PostStatus};
use quire_storage::{Actor, Conflict, Error as DomainError, IdempotencyWrite, IfMatch, Post, PostPatch, Posts, Status};
use ulid::Ulid;

use crate::error::{ApiError, ProblemType};
use crate::write::{if_match, post_response};

/// The request header naming the version a change was made from.
pub const BASE_VERSION: &str = "base-version";

/// What a write is conditional on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// `If-Match`: only these versions.
    IfMatch(IfMatch),
    /// `Base-Version`: made from this version; merge with what came after.
    Base(u64),
}

/// Reads `If-Match` or `Base-Version`: both is a 400, neither a 428 (as `if_match` says).
pub fn precondition(req: &HttpRequest) -> Result<Precondition, ApiError> {
    let Some(raw) = req.headers().get(BASE_VERSION) else {
        return if_match(req).map(Precondition::IfMatch);
    };
    if req.headers().contains_key(header::IF_MATCH) {
        return Err(ApiError::bad_request(
            "send either If-Match (the change applies only to that version) or Base-Version \
             (the change is merged with what changed since), not both",
        ));
    }
    raw.to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|n| *n >= 1)
        .map(Precondition::Base)
        .ok_or_else(|| {
            ApiError::bad_request(
                "Base-Version must be the version your change was made from, an integer from 1 \
                 (e.g. `Base-Version: 3`)",
            )
        })
}

/// Runs the update `precondition` asks for.
pub fn update(
    posts: &Posts,
    actor: &Actor,
    id: Ulid,
    precondition: Precondition,
    patch: PostPatch,
    idem: Option<IdempotencyWrite>,
) -> Result<Post, DomainError> {
    match precondition {
        Precondition::IfMatch(expected) => posts.update(actor, id, expected, patch, idem),
        Precondition::Base(base) => posts.update_from_base(actor, id, base, patch, idem),
    }
}

/// The 409 of overlapping changes. The domain put `current` in only after checking that the
/// actor may read it.
pub fn conflict_error(id: Ulid, base: u64, current: &Post, conflicts: &[Conflict], keep_mine: PostPatch) -> ApiError {
    let mut fields: Vec<&str> = conflicts.iter().map(|c| c.field).collect();
    fields.dedup();
    let now = current.version;
    let detail = format!(
        "your change to post {id}, made from version {base}, overlaps with changes made since \
         (it is now at version {now}) in: {}. Nothing was changed: resolve each entry of `conflicts` \
         and send the whole change again with Base-Version: {now}",
        fields.join(", ")
    );
    ApiError::new(ProblemType::MergeConflict, detail)
        .with_current(post_response(current))
        .with_conflicts(conflicts.iter().map(merge_conflict).collect())
        .with_keep_mine(patch_request(keep_mine))
}

/// A domain patch in the API's shape.
fn patch_request(patch: PostPatch) -> PatchPostRequest {
    PatchPostRequest {
        title: patch.title,
        body: patch.body,
        slug: patch.slug,
        tags: patch.tags,
        status: patch.status.map(|s| match s {
            Status::Draft => PostStatus::Draft,
            Status::Published => PostStatus::Published,
            Status::Scheduled => PostStatus::Scheduled,
        }),
        publish_at: patch.publish_at,
        properties: patch.properties,
    }
}

fn merge_conflict(c: &Conflict) -> MergeConflict {
    MergeConflict {
        field: c.field.into(),
        base: c.base.clone(),
        mine: c.mine.clone(),
        theirs: c.theirs.clone(),
        line: c.line.map(|l| l as u64),
    }
}

/// The 422 of a base version the post never had.
pub fn unknown_base_error(id: Ulid, base: u64, latest: u64) -> ApiError {
    ApiError::new(
        ProblemType::UnknownBaseVersion,
        format!(
            "post {id} has no version {base} (its versions are 1 to {latest}): Base-Version must be \
             the version your change was made from, as its ETag said"
        ),
    )
}
