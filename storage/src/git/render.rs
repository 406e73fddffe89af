//! What the projection writes: the Markdown file of a post, `hugo.toml`, and commit messages.
//!
//! Everything here is a pure function of the events and the settings, so replaying the same
//! log gives byte-identical files and messages, and therefore identical commit ids.
//!
//! Strings in front matter and `hugo.toml` are always written as double-quoted scalars with
//! escapes, a syntax YAML and TOML share, so no title (quotes, colons, `#`, newlines, control
//! characters) can break out of its field.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::event::{Envelope, EventPayload};
use crate::media::Media;
use crate::post::{Post, Status};

use super::GitSettings;

/// Folder of the posts inside the repository.
pub(crate) const POSTS_DIR: [&str; 2] = ["content", "posts"];
/// Folder of the media files inside the repository (Hugo serves `static/` at the site root).
pub(crate) const MEDIA_DIR: [&str; 2] = ["static", "media"];
/// Where datasets go: metadata in Hugo's data folder (`data/<name>.json`), the CSV in
/// `static/data/<name>.csv`.
pub(crate) const DATA_DIR: &str = "data";
/// Name of the Hugo configuration file at the root.
pub(crate) const HUGO_TOML: &str = "hugo.toml";

/// The year folder and file name of a post: the year (UTC) of its date, the `date` of its front
/// matter (`publish_at`, else its creation), so a post imported with a past date goes to the
/// folder of that year.
pub(crate) fn post_location(post: &Post) -> (String, String) {
    (format!("{:04}", post_date(post).year()), format!("{}.md", post.slug))
}

/// Where Quire put a post's file before the year followed `publish_at`: its creation year.
/// Restoring from an older repository looks there too.
pub(crate) fn created_location(post: &Post) -> (String, String) {
    (format!("{:04}", post.created_at.year()), format!("{}.md", post.slug))
}

/// The post's date as Hugo sees it.
fn post_date(post: &Post) -> OffsetDateTime {
    post.publish_at.unwrap_or(post.created_at)
}

/// The URL alias Hugo should redirect from for an old slug.
pub(crate) fn alias_for(slug: &str) -> String {
    format!("/posts/{slug}/")
}

/// The post's file into `out` (cleared first, so one buffer serves a whole catch-up): YAML
/// front matter, then the Markdown body as stored.
pub(crate) fn write_post_file(out: &mut String, post: &Post, aliases: &[String]) {
    out.clear();
    out.reserve(post.body.len() + 256);
    let date = post_date(post);
    out.push_str("---\n");
    field(out, "title", &quote(&post.title));
    field(out, "date", &timestamp(date));
    field(out, "lastmod", &timestamp(post.updated_at));
    field(
        out,
        "draft",
        if post.status == Status::Published {
            "false"
        } else {
            "true"
        },
    );
    field(out, "tags", &list(&post.tags));
    field(out, "slug", &quote(&post.slug));
    field(out, "id", &quote(&post.id.to_string()));
    if !post.properties.is_empty() {
        // JSON is YAML's flow syntax: Hugo reads it as a map (`.Params.properties`).
        let json = serde_json::to_string(&post.properties).unwrap_or_else(|_| "{}".to_owned());
        field(out, "properties", &json);
    }
    if !aliases.is_empty() {
        field(out, "aliases", &list(aliases));
    }
    out.push_str("---\n");
    out.push_str(&post.body);
}

/// The site's `hugo.toml`.
pub(crate) fn hugo_toml(settings: &GitSettings) -> String {
    format!(
        "baseURL = {}\ntitle = {}\n\n[permalinks]\n  posts = \"/posts/:slug/\"\n",
        quote(&settings.base_url),
        quote(&settings.site_title)
    )
}

/// The commit message of a post event: a one-line summary, a blank line, then trailers.
pub(crate) fn commit_message(event: &Envelope, post: &Post) -> String {
    message(event, &post.title, "Post-Id", &event_data(event, post))
}

/// The commit message of a media event; the stream is named by a `Media-Id` trailer.
pub(crate) fn media_commit_message(event: &Envelope, media: &Media) -> String {
    let name = media.original_name.clone().unwrap_or_else(|| media.file_name());
    message(event, &name, "Media-Id", &data_json(event, false))
}

/// The commit message of a dataset event; the stream is named by a `Dataset-Id` trailer.
pub(crate) fn dataset_commit_message(event: &Envelope, name: &str) -> String {
    message(event, name, "Dataset-Id", &data_json(event, false))
}

fn message(event: &Envelope, title: &str, stream_trailer: &str, data: &str) -> String {
    let verb = match &event.payload {
        EventPayload::PostCreated { .. } => "Create",
        EventPayload::PostUpdated { .. } => "Update",
        EventPayload::PostPublished { .. } => "Publish",
        EventPayload::PostScheduled { .. } => "Schedule",
        EventPayload::PostUnpublished { .. } => "Unpublish",
        EventPayload::PostDeleted {} => "Delete",
        EventPayload::PostRestored { .. } => "Restore",
        EventPayload::PostConflictCopy { .. } => "Keep conflict copy of",
        EventPayload::MediaUploaded { .. } => "Upload",
        EventPayload::MediaUpdated { .. } => "Describe",
        EventPayload::MediaDeleted {} => "Delete media",
        EventPayload::DatasetPut { .. } => "Put data",
        EventPayload::DatasetUpdated { .. } => "Describe data",
        EventPayload::DatasetDeleted {} => "Delete data",
    };
    let mut message = format!(
        "{verb} \"{}\"\n\nEvent-Id: {}\nEvent-Seq: {}\nEvent-Type: {}\nStream-Version: {}\n{stream_trailer}: {}\nActor: {}\n",
        one_line(title),
        event.id,
        event.seq,
        event.payload.type_name(),
        event.version,
        event.stream,
        one_line(&event.actor),
    );
    let _ = writeln!(message, "Event-Time: {}", timestamp(event.at));
    if let Some(key) = &event.idempotency_key {
        let _ = writeln!(message, "Idempotency-Key: {}", one_line(key));
    }
    if let Some(origin) = &event.origin {
        let _ = writeln!(message, "Event-Source: {}", one_line(&origin.source));
        if let Some(client) = &origin.client {
            let _ = writeln!(message, "Event-Client: {}", one_line(client));
        }
        if let Some(commit) = &origin.commit {
            let _ = writeln!(message, "Pushed-Commit: {}", one_line(commit));
        }
    }
    let _ = writeln!(message, "Event-Data: {data}");
    message
}

/// The `Event-Data` trailer: the event's `data` as compact JSON with sorted keys, so that the
/// log can be rebuilt from git alone (`restore`). A live post's `body` is the file's body, so it
/// is written as `true` ("see the file") instead of twice; a deleted post has no file, so there
/// it stays (no event of a deleted post carries a body today).
pub(crate) fn event_data(event: &Envelope, post: &Post) -> String {
    data_json(event, post.is_live())
}

/// The event's `data` as compact JSON with sorted keys; `body_in_file` writes a body as `true`.
fn data_json(event: &Envelope, body_in_file: bool) -> String {
    let data = match serde_json::to_value(&event.payload) {
        Ok(serde_json::Value::Object(mut tagged)) => tagged.remove("data"),
        _ => None,
    };
    // A BTreeMap, not `Value`'s map: its order must not depend on serde_json's features.
    let mut fields: BTreeMap<String, serde_json::Value> = match data {
        Some(serde_json::Value::Object(map)) => map.into_iter().collect(),
        _ => BTreeMap::new(),
    };
    if body_in_file {
        if let Some(body) = fields.get_mut("body") {
            *body = serde_json::Value::Bool(true);
        }
    }
    serde_json::to_string(&fields).unwrap_or_else(|_| "{}".to_owned())
}

/// The trailers the projection writes, as read back from a commit message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Trailers {
    pub(crate) event_id: Option<String>,
    pub(crate) seq: Option<u64>,
    pub(crate) version: Option<u64>,
    pub(crate) post_id: Option<String>,
    pub(crate) media_id: Option<String>,
    pub(crate) dataset_id: Option<String>,
    pub(crate) event_type: Option<String>,
    pub(crate) actor: Option<String>,
    pub(crate) time: Option<String>,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) data: Option<String>,
    pub(crate) source: Option<String>,
    pub(crate) client: Option<String>,
    pub(crate) pushed_commit: Option<String>,
}

/// Parses the trailer block (the last paragraph) of a commit message.
pub(crate) fn parse_trailers(message: &[u8]) -> Trailers {
    let text = String::from_utf8_lossy(message);
    let text = text.trim_end();
    let block = text.rsplit_once("\n\n").map_or(text, |(_, last)| last);
    let mut trailers = Trailers::default();
    for line in block.lines() {
        let Some((key, value)) = line.split_once(": ") else {
            continue;
        };
        let value = value.trim();
        match key {
            "Event-Id" => trailers.event_id = Some(value.to_owned()),
            "Event-Seq" => trailers.seq = value.parse().ok(),
            "Stream-Version" => trailers.version = value.parse().ok(),
            "Post-Id" => trailers.post_id = Some(value.to_owned()),
            "Media-Id" => trailers.media_id = Some(value.to_owned()),
            "Dataset-Id" => trailers.dataset_id = Some(value.to_owned()),
            "Event-Type" => trailers.event_type = Some(value.to_owned()),
            "Actor" => trailers.actor = Some(value.to_owned()),
            "Event-Time" => trailers.time = Some(value.to_owned()),
            "Idempotency-Key" => trailers.idempotency_key = Some(value.to_owned()),
            "Event-Data" => trailers.data = Some(value.to_owned()),
            "Event-Source" => trailers.source = Some(value.to_owned()),
            "Event-Client" => trailers.client = Some(value.to_owned()),
            "Pushed-Commit" => trailers.pushed_commit = Some(value.to_owned()),
            _ => {}
        }
    }
    trailers
}

/// The first line of a commit message.
pub(crate) fn summary(message: &[u8]) -> String {
    let text = String::from_utf8_lossy(message);
    text.lines().next().unwrap_or_default().to_owned()
}

fn field(out: &mut String, key: &str, value: &str) {
    out.push_str(key);
    out.push_str(": ");
    out.push_str(value);
    out.push('\n');
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", quoted.join(", "))
}

fn timestamp(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// A double-quoted scalar valid in both YAML and TOML.
///
/// Escapes `"` and `\`, the common whitespace escapes, and as `\uXXXX` every character YAML
/// does not count as printable (C0/C1 controls, DEL, line and paragraph separators, BOM).
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}') => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Reads back a scalar written by [`quote`]; `None` if it is not one.
pub(crate) fn unquote(s: &str) -> Option<String> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Collapses any run of whitespace or control characters into one space.
fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_what_could_break_out() {
        assert_eq!(quote(r#"a "b": c"#), r#""a \"b\": c""#);
        assert_eq!(quote("x\ny\\z"), r#""x\ny\\z""#);
        assert_eq!(quote("bell\u{7}\u{85}\u{2028}"), r#""bell\u0007\u0085\u2028""#);
        assert_eq!(quote("Crème"), "\"Crème\"");
    }

    #[test]
    fn trailers_come_from_the_last_paragraph_only() {
        let msg =
            b"Update \"x\"\n\nEvent-Seq: 99 in the body\n\nEvent-Id: E\nEvent-Seq: 7\nStream-Version: 2\nPost-Id: P\n";
        let t = parse_trailers(msg);
        assert_eq!(t.seq, Some(7));
        assert_eq!(t.version, Some(2));
        assert_eq!(t.event_id.as_deref(), Some("E"));
        assert_eq!(t.post_id.as_deref(), Some("P"));
        assert_eq!(parse_trailers(b"hand-made commit\n").seq, None);
        assert_eq!(summary(msg), "Update \"x\"");
    }

    #[test]
    fn unquote_reverses_quote() {
        for s in [r#"a "b": c"#, "x\ny\\z\t\r", "bell\u{7}\u{85}\u{2028}", "Crème", ""] {
            assert_eq!(unquote(&quote(s)).as_deref(), Some(s));
        }
        assert_eq!(unquote("no quotes"), None);
        assert_eq!(unquote(r#""bad \q""#), None);
    }

    #[test]
    fn one_line_collapses_newlines() {
        assert_eq!(one_line("a\n b\t\tc "), "a b c");
    }
}
