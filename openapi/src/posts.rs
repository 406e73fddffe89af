//! Posts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::events::EventResponse;

/// Publication state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PostStatus {
    Draft,
    Published,
    Scheduled,
}

/// A post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PostResponse {
    /// ULID.
    #[schema(example = "01JDQ3V5X8Y6Z7A8B9C0D1E2F3")]
    pub id: String,
    /// URL name: lowercase `a-z`, `0-9` and single hyphens, at most 80 characters.
    #[schema(example = "hello-world")]
    pub slug: String,
    /// Empty for a note (a post without a title).
    pub title: String,
    /// Markdown.
    pub body: String,
    pub tags: Vec<String>,
    pub status: PostStatus,
    /// When the post is (or will be) public; null for drafts.
    #[serde(with = "time::serde::rfc3339::option")]
    pub publish_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Increases with every change; the `ETag` is `"<version>"`.
    pub version: u64,
    /// Username of the author.
    pub author: String,
    /// Set while the post is deleted (restore it with `POST /posts/{id}/restore`).
    #[serde(with = "time::serde::rfc3339::option")]
    pub deleted_at: Option<OffsetDateTime>,
    /// Extra properties without a Quire field, as a Micropub client sent them (`in-reply-to`,
    /// `like-of`, `location`, `photo`…): name → array of values.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub properties: BTreeMap<String, serde_json::Value>,
}

/// `POST /api/v1/posts`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePostRequest {
    /// Empty or absent: the post is a **note** (no heading on the site; its slug comes from
    /// the first words of the body).
    #[serde(default)]
    #[schema(example = "Hello, world")]
    pub title: String,
    /// Markdown.
    #[serde(default)]
    pub body: String,
    /// Derived from the title when absent (a taken derived slug gets `-2`, `-3`…); a taken
    /// explicit slug is a 409.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Default `draft`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PostStatus>,
    /// Required for `scheduled`; defaults to now for `published`; not allowed for `draft`.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub publish_at: Option<OffsetDateTime>,
    /// Extra properties: name → array of values, kept as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub properties: Option<BTreeMap<String, serde_json::Value>>,
}

/// `PATCH /api/v1/posts/{id}`: only the fields present change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchPostRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PostStatus>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub publish_at: Option<OffsetDateTime>,
    /// Replaces all extra properties: name → array of values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub properties: Option<BTreeMap<String, serde_json::Value>>,
}

/// `POST /api/v1/posts/{id}/conflict-copies`: the losing side of a conflict, kept in the post's
/// history. Only the fields the losing change set; at least one.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConflictCopyRequest {
    /// The version the copy applies to: the post's version when the other side was chosen
    /// (`current.version` of the 409). Restoring the copy is a change made from this version,
    /// merged with what happened since.
    #[schema(minimum = 1)]
    pub base_version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// For a body conflict, best the whole body as keeping your side makes it (`keep_mine.body`
    /// of the 409), so that restoring it keeps the other side's other changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PostStatus>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub publish_at: Option<OffsetDateTime>,
}

/// One page of posts, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PostList {
    pub items: Vec<PostResponse>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The events of one post, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PostHistory {
    pub events: Vec<EventResponse>,
}

/// One overlapping change found when merging a `PATCH` sent with `Base-Version`: the value at
/// the base version, yours (`mine`) and the one made since (`theirs`). `null` is an unset value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MergeConflict {
    /// `title`, `slug`, `status`, `publish_at`, or `body` (one entry per overlapping hunk of
    /// lines). Tags never conflict: they merge as a set.
    #[schema(example = "title")]
    pub field: String,
    /// The value at the base version (for `body`: the hunk's lines).
    pub base: Option<String>,
    /// Your value.
    pub mine: Option<String>,
    /// The value now.
    pub theirs: Option<String>,
    /// For `body`: the line (from 1) where the hunk starts in the merged body, counting your
    /// lines for the conflicting hunks before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub line: Option<u64>,
}
