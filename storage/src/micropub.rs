//! Micropub's view of a post: microformats2 properties (name → array of values) to a post and
//! back, and Micropub's update actions (`replace`, `add`, `delete`).
//!
//! Quire's own fields take what they can: `name` → title (none: a note), `content` → body
//! (text, or `{"html": …}`, which the renderer sanitizes), string `category` values → tags,
//! `mp-slug` → slug, `post-status` → draft/published, `published` → publication date (a future
//! one schedules the post). Everything else a client sends — `in-reply-to`, `like-of`,
//! `location`, `photo`, `syndication`, nested objects — is kept exactly as sent in the post's
//! extra properties, so `q=source` gives it back. `mp-*` commands and `access_token` are never
//! kept.

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::post::{slugify, Post, Properties, Status};
use crate::posts::{NewPost, PostPatch};
use crate::{Error, Result};

/// Properties that are Quire fields, not extras.
const FIELDS: &[&str] = &["name", "content", "category", "published", "post-status"];

/// Request parameters that are never properties.
pub const RESERVED: &[&str] = &["h", "type", "access_token", "action", "url", "properties"];

fn invalid(message: impl Into<String>) -> Error {
    Error::invalid("properties", message)
}

/// Fails unless every value is an array (Micropub's JSON syntax).
pub fn check_arrays(properties: &serde_json::Map<String, Value>) -> Result<()> {
    match properties.iter().find(|(_, v)| !v.is_array()) {
        Some((name, _)) => Err(invalid(format!("the value of {name:?} must be an array"))),
        None => Ok(()),
    }
}

fn values<'a>(props: &'a Properties, name: &str) -> &'a [Value] {
    props.get(name).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn first_string(props: &Properties, name: &str) -> Option<String> {
    values(props, name).first().and_then(Value::as_str).map(str::to_owned)
}

/// What a set of properties means for a post.
#[derive(Debug, Clone, PartialEq)]
struct Mapped {
    title: String,
    body: String,
    tags: Vec<String>,
    status: Option<Status>,
    publish_at: Option<OffsetDateTime>,
    extras: Properties,
}

fn map(props: &Properties) -> Result<Mapped> {
    if let Some((name, _)) = props.iter().find(|(_, v)| !v.is_array()) {
        return Err(invalid(format!("the value of {name:?} must be an array")));
    }
    let title = first_string(props, "name").unwrap_or_default();
    let mut extras: Properties = props
        .iter()
        .filter(|(k, _)| !FIELDS.contains(&k.as_str()) && !k.starts_with("mp-") && !RESERVED.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let body = match values(props, "content").first() {
        None => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Object(map)) => {
            let html = map.get("html").or_else(|| map.get("value")).and_then(Value::as_str);
            let html = html.ok_or_else(|| invalid("content must be text or {\"html\": …}"))?;
            if map.contains_key("html") {
                // Kept so that `q=source` gives back the HTML form the client sent.
                extras.insert("content".into(), Value::Array(vec![Value::Object(map.clone())]));
            }
            html.to_owned()
        }
        Some(_) => return Err(invalid("content must be text or {\"html\": …}")),
    };
    let (tags, other): (Vec<&Value>, Vec<&Value>) = values(props, "category").iter().partition(|v| v.is_string());
    if !other.is_empty() {
        extras.insert("category".into(), Value::Array(other.into_iter().cloned().collect()));
    }
    let tags = tags.into_iter().filter_map(Value::as_str).map(str::to_owned).collect();
    let status = match first_string(props, "post-status").as_deref() {
        None => None,
        Some("draft") => Some(Status::Draft),
        Some("published") => Some(Status::Published),
        Some(other) => return Err(invalid(format!("post-status {other:?} is not draft or published"))),
    };
    let publish_at = match first_string(props, "published") {
        None => None,
        Some(text) => Some(
            OffsetDateTime::parse(&text, &Rfc3339)
                .map_err(|_| invalid(format!("published {text:?} is not an RFC 3339 date-time")))?,
        ),
    };
    Ok(Mapped {
        title,
        body,
        tags,
        status,
        publish_at,
        extras,
    })
}

/// The post a Micropub create asks for. Without `post-status` it is published (a future
/// `published` schedules it).
pub fn new_post(props: &Properties, now: OffsetDateTime) -> Result<NewPost> {
    let mapped = map(props)?;
    let status = match mapped.status.unwrap_or(Status::Published) {
        Status::Published if mapped.publish_at.is_some_and(|at| at > now) => Status::Scheduled,
        status => status,
    };
    let slug = first_string(props, "mp-slug").map(|s| slugify(&s));
    Ok(NewPost {
        title: mapped.title,
        body: mapped.body,
        slug,
        tags: mapped.tags,
        status: Some(status),
        publish_at: mapped.publish_at,
        properties: mapped.extras,
    })
}

/// The post's properties in Micropub's form (`q=source`).
pub fn source(post: &Post) -> Properties {
    let mut props = post.properties.clone();
    if !post.title.is_empty() {
        props.insert("name".into(), Value::Array(vec![post.title.clone().into()]));
    }
    let html_matches = values(&post.properties, "content")
        .first()
        .and_then(|c| c.get("html"))
        .and_then(Value::as_str)
        == Some(post.body.as_str());
    if !html_matches {
        props.remove("content");
        if !post.body.is_empty() {
            props.insert("content".into(), Value::Array(vec![post.body.clone().into()]));
        }
    }
    let mut categories: Vec<Value> = post.tags.iter().cloned().map(Value::String).collect();
    categories.extend(values(&post.properties, "category").iter().cloned());
    props.remove("category");
    if !categories.is_empty() {
        props.insert("category".into(), Value::Array(categories));
    }
    if let Some(at) = post.publish_at.and_then(|at| at.format(&Rfc3339).ok()) {
        props.insert("published".into(), Value::Array(vec![at.into()]));
    }
    if post.status == Status::Draft {
        props.insert("post-status".into(), Value::Array(vec!["draft".into()]));
    }
    props
}

/// A Micropub update: `replace` and `add` map names to arrays of values; `delete` is a list of
/// names or a map of names to the values to remove.
#[derive(Debug, Clone, Default)]
pub struct Update {
    pub replace: Option<Value>,
    pub add: Option<Value>,
    pub delete: Option<Value>,
}

fn object<'a>(value: &'a Option<Value>, what: &str) -> Result<Option<&'a serde_json::Map<String, Value>>> {
    match value {
        None => Ok(None),
        Some(Value::Object(map)) => {
            check_arrays(map)?;
            Ok(Some(map))
        }
        Some(_) => Err(invalid(format!("{what} must be an object of arrays"))),
    }
}

/// The patch that applies `update` to `post`.
pub fn patch(post: &Post, update: &Update) -> Result<PostPatch> {
    let mut props = source(post);
    let replace = object(&update.replace, "replace")?;
    let add = object(&update.add, "add")?;
    for (name, values) in replace.into_iter().flatten() {
        props.insert(name.clone(), values.clone());
    }
    for (name, values) in add.into_iter().flatten() {
        let entry = props.entry(name.clone()).or_insert_with(|| Value::Array(Vec::new()));
        if let (Value::Array(have), Value::Array(more)) = (entry, values) {
            have.extend(more.iter().cloned());
        }
    }
    match &update.delete {
        None => {}
        Some(Value::Array(names)) => {
            for name in names {
                let name = name.as_str().ok_or_else(|| invalid("delete lists property names"))?;
                props.remove(name);
            }
        }
        Some(Value::Object(map)) => {
            check_arrays(map)?;
            for (name, gone) in map {
                if let (Some(Value::Array(have)), Value::Array(gone)) = (props.get_mut(name), gone) {
                    have.retain(|v| !gone.contains(v));
                }
            }
        }
        Some(_) => return Err(invalid("delete must be a list of names or an object of arrays")),
    }
    props.retain(|_, v| v.as_array().is_none_or(|a| !a.is_empty()));
    let mapped = map(&props)?;
    let touched = |name: &str| {
        [&update.replace, &update.add]
            .iter()
            .any(|m| m.as_ref().is_some_and(|m| m.get(name).is_some()))
            || match &update.delete {
                Some(Value::Array(names)) => names.iter().any(|n| n == name),
                Some(Value::Object(map)) => map.contains_key(name),
                _ => false,
            }
    };
    let status = touched("post-status").then(|| mapped.status.unwrap_or(Status::Published));
    Ok(PostPatch {
        title: (mapped.title != post.title).then_some(mapped.title),
        body: (mapped.body != post.body).then_some(mapped.body),
        slug: None,
        tags: (mapped.tags != post.tags).then_some(mapped.tags),
        status,
        publish_at: if touched("published") { mapped.publish_at } else { None },
        properties: (mapped.extras != post.properties).then_some(mapped.extras),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn props(value: Value) -> Properties {
        serde_json::from_value(value).expect("a map")
    }

    fn post_from(input: NewPost) -> Post {
        let at = time::macros::datetime!(2026-01-01 10:00 UTC);
        Post {
            id: ulid::Ulid::new(),
            slug: "s".into(),
            title: input.title,
            body: input.body,
            tags: input.tags,
            status: input.status.unwrap_or(Status::Draft),
            publish_at: input.publish_at.or(Some(at)),
            created_at: at,
            updated_at: at,
            version: 1,
            author: "ada".into(),
            deleted_at: None,
            properties: input.properties,
        }
    }

    #[test]
    fn extras_and_html_content_come_back_from_source_exactly() {
        let sent = props(json!({
            "content": [{"html": "<p>Hi <b>there</b></p>"}],
            "category": ["indieweb", {"type": ["h-card"], "properties": {"name": ["Ada"]}}],
            "in-reply-to": ["https://example.org/post"],
            "location": [{"type": ["h-card"], "properties": {"name": ["Berlin"]}}],
            "mp-slug": ["Hello There"],
        }));
        let now = time::macros::datetime!(2026-01-01 10:00 UTC);
        let new = new_post(&sent, now).expect("valid");
        assert_eq!((new.title.as_str(), new.slug.as_deref()), ("", Some("hello-there")));
        assert_eq!(new.tags, vec!["indieweb"]);
        assert!(!new.properties.contains_key("mp-slug"));
        let source = source(&post_from(new));
        for name in ["content", "category", "in-reply-to", "location"] {
            assert_eq!(source[name], sent[name], "{name}");
        }
    }

    #[test]
    fn a_future_published_date_schedules_and_a_non_array_is_refused() {
        let now = time::macros::datetime!(2026-01-01 10:00 UTC);
        let new = new_post(
            &props(json!({"content": ["x"], "published": ["2026-02-01T00:00:00Z"]})),
            now,
        )
        .expect("valid");
        assert_eq!(new.status, Some(Status::Scheduled));
        assert!(new_post(&props(json!({"content": "x"})), now).is_err());
    }

    #[test]
    fn updates_replace_add_and_delete_values_and_properties() {
        let now = time::macros::datetime!(2026-01-01 10:00 UTC);
        let new = new_post(
            &props(json!({"content": ["old"], "category": ["a", "b"], "syndication": ["https://x.example/1"]})),
            now,
        )
        .expect("valid");
        let post = post_from(new);
        let update = Update {
            replace: Some(json!({"content": ["new"]})),
            add: Some(json!({"category": ["c"]})),
            delete: Some(json!({"category": ["a"]})),
        };
        let changed = patch(&post, &update).expect("valid");
        assert_eq!(changed.body.as_deref(), Some("new"));
        assert_eq!(changed.tags, Some(vec!["b".into(), "c".into()]));
        let gone = patch(
            &post,
            &Update {
                delete: Some(json!(["syndication"])),
                ..Update::default()
            },
        )
        .expect("valid");
        assert_eq!(gone.properties, Some(Properties::new()));
        let bad = Update {
            replace: Some(json!({"content": "not an array"})),
            ..Update::default()
        };
        assert!(patch(&post, &bad).is_err());
    }
}
