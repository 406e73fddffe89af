//! Microformats2 for IndieWeb readers, and what notes (posts without a title) need: a short
//! derived title where one is required (Atom, `<title>`), and the markup of the extra
//! properties a Micropub client sent (`in-reply-to`, `like-of`, `repost-of`, `photo`).
//!
//! Property values arrive as the client sent them: a URL string, or an object such as an
//! `h-cite` (`{"type": ["h-cite"], "properties": {"url": [...]}}`) or a photo with alt text
//! (`{"value": url, "alt": text}`). Only `http(s)` URLs and site paths become links.

use maud::{html, Markup};

use crate::model::PostInput;

/// Longest title derived from a note's text.
const DERIVED_TITLE_CHARS: usize = 60;

/// The post's title, or for a note the start of its text (or `Note` when it has none).
pub(crate) fn display_title(post: &PostInput) -> String {
    if !post.title.is_empty() {
        return post.title.clone();
    }
    let text = post.lead().excerpt(DERIVED_TITLE_CHARS);
    if text.trim().is_empty() {
        "Note".to_owned()
    } else {
        text
    }
}

/// A link target that cannot run code: an `http(s)` URL or a path on this site.
fn safe_url(url: &str) -> Option<&str> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let ok = lower.starts_with("https://")
        || lower.starts_with("http://")
        || (url.starts_with('/') && !url.starts_with("//"));
    ok.then_some(url)
}

/// The URL of one property value: a string, `{"value": …}` or an h-entry/h-cite's first `url`.
fn value_url(value: &serde_json::Value) -> Option<&str> {
    match value {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Object(map) => map
            .get("value")
            .and_then(serde_json::Value::as_str)
            .or_else(|| map.get("properties")?.get("url")?.get(0)?.as_str()),
        _ => None,
    }
}

/// The safe URLs of property `name`.
pub(crate) fn urls<'a>(post: &'a PostInput, name: &str) -> Vec<&'a str> {
    let values = post.properties.get(name).and_then(serde_json::Value::as_array);
    values
        .into_iter()
        .flatten()
        .filter_map(value_url)
        .filter_map(safe_url)
        .collect()
}

/// The post's photos with their alt text.
pub(crate) fn photos(post: &PostInput) -> Vec<(&str, &str)> {
    let values = post.properties.get("photo").and_then(serde_json::Value::as_array);
    values
        .into_iter()
        .flatten()
        .filter_map(|v| {
            let alt = v.get("alt").and_then(serde_json::Value::as_str).unwrap_or_default();
            Some((safe_url(value_url(v)?)?, alt))
        })
        .collect()
}

/// What the post responds to (reply, like, repost), as `u-in-reply-to` etc. links.
pub(crate) fn responses(post: &PostInput) -> Markup {
    let kinds = [
        ("in-reply-to", "u-in-reply-to", "In reply to"),
        ("like-of", "u-like-of", "Liked"),
        ("repost-of", "u-repost-of", "Reposted"),
        ("bookmark-of", "u-bookmark-of", "Bookmarked"),
    ];
    html! {
        @for (name, class, label) in kinds {
            @for url in urls(post, name) {
                p.response { (label) " " a class=(class) href=(url) { (url) } }
            }
        }
    }
}

/// The post's photos as `u-photo` images.
pub(crate) fn photo_markup(post: &PostInput) -> Markup {
    html! {
        @for (url, alt) in photos(post) {
            img.u-photo src=(url) alt=(alt) loading="lazy";
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(body: &str, properties: serde_json::Value) -> PostInput {
        PostInput {
            id: "01N".into(),
            slug: "n".into(),
            title: String::new(),
            body_markdown: body.into(),
            tags: Vec::new(),
            published_at: time::macros::datetime!(2026-01-01 10:00 UTC),
            updated_at: time::macros::datetime!(2026-01-01 10:00 UTC),
            author: String::new(),
            old_slugs: Vec::new(),
            properties: serde_json::from_value(properties).expect("a map"),
            body_key: None,
            lead: None,
        }
    }

    #[test]
    fn a_note_gets_a_short_derived_title() {
        let long = note(&"word ".repeat(40), serde_json::json!({}));
        let title = display_title(&long);
        assert!(title.starts_with("word word") && title.chars().count() <= DERIVED_TITLE_CHARS + 1);
        assert_eq!(display_title(&note("", serde_json::json!({}))), "Note");
    }

    #[test]
    fn responses_link_only_safe_urls_from_strings_and_citations() {
        let post = note(
            "",
            serde_json::json!({
                "in-reply-to": ["https://example.org/a"],
                "like-of": [{"type": ["h-cite"], "properties": {"url": ["https://example.org/b"]}}],
                "repost-of": ["javascript:alert(1)"],
                "photo": [{"value": "/media/x.jpg", "alt": "A dog"}, "https://example.org/p.png"],
            }),
        );
        let html = responses(&post).into_string();
        assert!(
            html.contains(r#"class="u-in-reply-to" href="https://example.org/a""#),
            "{html}"
        );
        assert!(
            html.contains(r#"class="u-like-of" href="https://example.org/b""#),
            "{html}"
        );
        assert!(!html.contains("javascript"), "{html}");
        assert_eq!(
            photos(&post),
            vec![("/media/x.jpg", "A dog"), ("https://example.org/p.png", "")]
        );
    }
}
