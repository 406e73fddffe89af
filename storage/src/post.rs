//! The post aggregate: its state, how events change it, and the rules for slugs and tags.
//!
//! The read model stores the result of [`Post::apply`] after each event, and
//! `GET /posts/{id}/versions/{n}` folds the first `n` events with the same function, so the
//! current post and every past version are computed by one piece of code.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ulid::Ulid;

use crate::event::{Envelope, EventPayload};
use crate::{Error, Result};

/// Longest allowed slug.
pub const MAX_SLUG_LEN: usize = 80;
/// Longest allowed title, in characters.
pub const MAX_TITLE_LEN: usize = 300;
/// Longest allowed tag, in characters.
pub const MAX_TAG_LEN: usize = 64;
/// Most tags on one post.
pub const MAX_TAGS: usize = 32;

/// Properties a client sent that Quire has no field for (Micropub's `in-reply-to`,
/// `like-of`, `location`, `syndication`…), kept exactly as sent: name → array of values.
pub type Properties = BTreeMap<String, serde_json::Value>;

/// Publication state of a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Visible only to its authors.
    Draft,
    /// Public since `publish_at`.
    Published,
    /// Becomes public at `publish_at`.
    Scheduled,
}

impl Status {
    /// The lowercase name used in the API and the indexes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Scheduled => "scheduled",
        }
    }
}

impl std::str::FromStr for Status {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "draft" => Ok(Self::Draft),
            "published" => Ok(Self::Published),
            "scheduled" => Ok(Self::Scheduled),
            _ => Err(Error::invalid(
                "status",
                format!("{s:?} is not a status; use draft, published or scheduled"),
            )),
        }
    }
}

/// A post as the read model keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    pub id: Ulid,
    pub slug: String,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    pub status: Status,
    #[serde(with = "time::serde::rfc3339::option")]
    pub publish_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Version of the post's stream: the number of events applied.
    pub version: u64,
    /// Username of the post's author.
    pub author: String,
    /// Set while the post is deleted.
    #[serde(with = "time::serde::rfc3339::option")]
    pub deleted_at: Option<OffsetDateTime>,
    /// Extra properties without a Quire field (see [`Properties`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: Properties,
}

impl Post {
    /// The post after `event`; `None` before the stream's first event.
    ///
    /// Returns `None` only when the first event is not a `PostCreated` (a corrupt stream).
    pub fn apply(before: Option<Post>, event: &Envelope) -> Option<Post> {
        let mut post = match (before, &event.payload) {
            (
                None,
                EventPayload::PostCreated {
                    slug,
                    title,
                    body,
                    tags,
                    status,
                    publish_at,
                    author,
                    properties,
                },
            ) => Post {
                id: event.stream,
                slug: slug.clone(),
                title: title.clone(),
                body: body.clone(),
                tags: tags.clone(),
                status: *status,
                publish_at: *publish_at,
                created_at: event.at,
                updated_at: event.at,
                version: 0,
                author: author.clone(),
                deleted_at: None,
                properties: properties.clone(),
            },
            (None, _) => return None,
            (Some(post), _) => post,
        };
        match &event.payload {
            EventPayload::PostCreated { .. } => {}
            EventPayload::PostUpdated {
                slug,
                title,
                body,
                tags,
                publish_at,
                properties,
                ..
            } => {
                if let Some(properties) = properties {
                    post.properties.clone_from(properties);
                }
                if publish_at.is_some() {
                    post.publish_at = *publish_at;
                }
                if let Some(slug) = slug {
                    post.slug.clone_from(slug);
                }
                if let Some(title) = title {
                    post.title.clone_from(title);
                }
                if let Some(body) = body {
                    post.body.clone_from(body);
                }
                if let Some(tags) = tags {
                    post.tags.clone_from(tags);
                }
            }
            EventPayload::PostPublished { publish_at, .. } => {
                post.status = Status::Published;
                post.publish_at = Some(*publish_at);
            }
            EventPayload::PostScheduled { publish_at, .. } => {
                post.status = Status::Scheduled;
                post.publish_at = Some(*publish_at);
            }
            EventPayload::PostUnpublished { .. } => {
                post.status = Status::Draft;
                post.publish_at = None;
            }
            EventPayload::PostDeleted {} => post.deleted_at = Some(event.at),
            EventPayload::PostRestored { slug } => {
                post.deleted_at = None;
                if let Some(slug) = slug {
                    post.slug.clone_from(slug);
                }
            }
            // A kept conflict copy is history, not content: only the version moves on.
            EventPayload::PostConflictCopy { .. } => {
                post.version = event.version;
                return Some(post);
            }
            // Media events live in their own streams; they never reach a post.
            EventPayload::MediaUploaded { .. } | EventPayload::MediaUpdated { .. } | EventPayload::MediaDeleted {} => {}
            EventPayload::DatasetPut { .. } | EventPayload::DatasetUpdated { .. } | EventPayload::DatasetDeleted {} => {
            }
        }
        post.version = event.version;
        post.updated_at = event.at;
        Some(post)
    }

    /// Folds a stream's events (in version order) into the post.
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a Envelope>) -> Option<Post> {
        events.into_iter().fold(None, Post::apply)
    }

    /// Whether the post is a note: a post without a title.
    pub fn is_note(&self) -> bool {
        self.title.is_empty()
    }

    /// Whether the post is live (not deleted).
    pub fn is_live(&self) -> bool {
        self.deleted_at.is_none()
    }
}

/// A new post id. Ids made by one process are strictly increasing (monotonic ULIDs), so id
/// order is creation order even within one millisecond; listings rely on it.
pub fn new_post_id() -> Ulid {
    static GENERATOR: std::sync::Mutex<ulid::Generator> = std::sync::Mutex::new(ulid::Generator::new());
    let mut generator = GENERATOR.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    generator.generate().unwrap_or_else(|_| Ulid::new())
}

/// Checks an explicitly given slug.
pub fn validate_slug(slug: &str) -> Result<()> {
    let allowed = slug
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if slug.is_empty()
        || slug.len() > MAX_SLUG_LEN
        || !allowed
        || slug.starts_with('-')
        || slug.ends_with('-')
        || slug.contains("--")
    {
        return Err(Error::invalid(
            "slug",
            format!(
                "{slug:?} is not a valid slug: use 1 to {MAX_SLUG_LEN} characters of lowercase \
                 a-z, digits 0-9 and single hyphens, not starting or ending with a hyphen"
            ),
        ));
    }
    Ok(())
}

/// Derives a slug from a title: transliterated to ASCII, lowercase, hyphen-separated.
pub fn slugify(title: &str) -> String {
    let ascii = deunicode::deunicode(title).to_ascii_lowercase();
    let mut slug = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    truncate_slug(&mut slug, MAX_SLUG_LEN);
    if slug.is_empty() {
        slug.push_str("post");
    }
    slug
}

/// The base of a derived slug: the title's, or for a note (no title) its first words, or
/// `note` when it has none.
pub fn slug_base(title: &str, body: &str) -> String {
    if !title.trim().is_empty() {
        return slugify(title);
    }
    let words: Vec<&str> = body.split_whitespace().take(6).collect();
    let slug = slugify(&words.join(" "));
    if words.is_empty() || slug == "post" {
        "note".to_owned()
    } else {
        slug
    }
}

/// Checks extra properties: each is a name of at most 100 characters with an array value.
pub fn validate_properties(properties: &Properties) -> Result<()> {
    for (name, value) in properties {
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(Error::invalid("properties", format!("{name:?} is not a property name")));
        }
        if !value.is_array() {
            return Err(Error::invalid(
                "properties",
                format!("property {name:?} must be an array of values"),
            ));
        }
    }
    Ok(())
}

/// The `n`-th candidate for a derived slug: `base`, then `base-2`, `base-3`…, always valid.
pub fn slug_candidate(base: &str, n: u32) -> String {
    if n <= 1 {
        return base.to_owned();
    }
    let suffix = format!("-{n}");
    let mut slug = base.to_owned();
    truncate_slug(&mut slug, MAX_SLUG_LEN - suffix.len());
    slug.push_str(&suffix);
    slug
}

fn truncate_slug(slug: &mut String, max: usize) {
    slug.truncate(max);
    while slug.ends_with('-') {
        slug.pop();
    }
}

/// Checks and normalizes a title. An empty title makes the post a note.
pub fn normalize_title(title: &str) -> Result<String> {
    let title = title.trim();
    if title.chars().count() > MAX_TITLE_LEN {
        return Err(Error::invalid(
            "title",
            format!("the title is longer than {MAX_TITLE_LEN} characters"),
        ));
    }
    Ok(title.to_owned())
}

/// Checks and normalizes tags: trimmed, non-empty, no duplicates, order kept.
pub fn normalize_tags(tags: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        let tag = tag.trim();
        if tag.is_empty() {
            return Err(Error::invalid("tags", "a tag must not be empty"));
        }
        if tag.chars().count() > MAX_TAG_LEN || tag.chars().any(char::is_control) {
            return Err(Error::invalid(
                "tags",
                format!("tag {tag:?} must be at most {MAX_TAG_LEN} printable characters"),
            ));
        }
        if !out.iter().any(|t| t == tag) {
            out.push(tag.to_owned());
        }
    }
    if out.len() > MAX_TAGS {
        return Err(Error::invalid("tags", format!("at most {MAX_TAGS} tags per post")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugify_transliterates_and_collapses() {
        assert_eq!(slugify("Hello, World!"), "hello-world");
        assert_eq!(slugify("  Crème brûlée -- 2026 "), "creme-brulee-2026");
        assert_eq!(slugify("!!!"), "post");
        let long = slugify(&"word ".repeat(40));
        assert!(long.len() <= MAX_SLUG_LEN && !long.ends_with('-'));
        validate_slug(&long).expect("derived slugs are valid");
    }

    #[test]
    fn slug_candidates_stay_within_the_limit() {
        let base = "a".repeat(MAX_SLUG_LEN);
        assert_eq!(slug_candidate("intro", 1), "intro");
        assert_eq!(slug_candidate("intro", 3), "intro-3");
        let c = slug_candidate(&base, 12);
        assert_eq!(c.len(), MAX_SLUG_LEN);
        assert!(c.ends_with("-12"));
    }

    #[test]
    fn validate_slug_rejects_what_is_not_allowed() {
        for bad in [
            "",
            "Upper",
            "with space",
            "-lead",
            "trail-",
            "a--b",
            "ünï",
            &"a".repeat(81),
        ] {
            assert!(validate_slug(bad).is_err(), "{bad:?} should be rejected");
        }
        validate_slug("ok-slug-2").expect("valid");
    }

    #[test]
    fn notes_get_slugs_from_their_first_words() {
        assert_eq!(
            slug_base("", "Just had the best coffee in town, really."),
            "just-had-the-best-coffee-in"
        );
        assert_eq!(slug_base("", "  "), "note");
        assert_eq!(slug_base("", "!!!"), "note");
        assert_eq!(slug_base("Title", "body"), "title");
        assert_eq!(normalize_title("  ").expect("a note"), "");
    }

    #[test]
    fn tags_are_trimmed_and_deduplicated() {
        let tags = normalize_tags(&[" rust ".into(), "rust".into(), "web".into()]).expect("valid");
        assert_eq!(tags, vec!["rust", "web"]);
        assert!(normalize_tags(&["  ".into()]).is_err());
    }
}
