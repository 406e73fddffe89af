//! A post file as written in git: YAML front matter between `---` lines, then the Markdown body.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};
use ulid::Ulid;
use yaml_rust2::{Yaml, YamlLoader};

/// The front matter fields Quire reads; others (`lastmod`, `aliases`…) are ignored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FrontMatter {
    pub title: String,
    pub date: Option<OffsetDateTime>,
    /// `draft: true`; Hugo's default is false (published).
    pub draft: bool,
    pub tags: Vec<String>,
    pub slug: Option<String>,
    pub id: Option<Ulid>,
    pub body: String,
}

/// Parses a post file; the error says what is wrong (`front matter: 'date' is not a date`).
pub fn parse_post_file(bytes: &[u8]) -> Result<FrontMatter, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the file is not UTF-8".to_owned())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
        .ok_or("front matter: the file must start with a '---' line")?;
    let (yaml, body) = split_front(rest).ok_or("front matter: no closing '---' line")?;
    let docs = YamlLoader::load_from_str(yaml).map_err(|e| format!("front matter: not YAML: {e}"))?;
    let doc = docs.into_iter().next().unwrap_or(Yaml::Hash(Default::default()));
    let Yaml::Hash(_) = doc else {
        return Err("front matter: expected 'key: value' lines".into());
    };
    let title = match &doc["title"] {
        Yaml::String(s) => s.clone(),
        Yaml::BadValue => return Err("front matter: 'title' is missing".into()),
        other => scalar(other).ok_or("front matter: 'title' is not text")?,
    };
    let date = match &doc["date"] {
        Yaml::BadValue | Yaml::Null => None,
        other => Some(
            scalar(other)
                .and_then(|s| parse_date(&s))
                .ok_or("front matter: 'date' is not a date")?,
        ),
    };
    let draft = match &doc["draft"] {
        Yaml::BadValue | Yaml::Null => false,
        Yaml::Boolean(b) => *b,
        _ => return Err("front matter: 'draft' is not true or false".into()),
    };
    let tags = match &doc["tags"] {
        Yaml::BadValue | Yaml::Null => Vec::new(),
        Yaml::Array(items) => items
            .iter()
            .map(|t| scalar(t).ok_or("front matter: 'tags' must be a list of words"))
            .collect::<Result<_, _>>()?,
        _ => return Err("front matter: 'tags' must be a list".into()),
    };
    let slug = optional_text(&doc["slug"], "slug")?;
    let id = optional_text(&doc["id"], "id")?
        .map(|id| {
            id.parse::<Ulid>()
                .map_err(|_| "front matter: 'id' is not a post id (ULID)".to_owned())
        })
        .transpose()?;
    Ok(FrontMatter {
        title,
        date,
        draft,
        tags,
        slug,
        id,
        body: body.to_owned(),
    })
}

/// The front matter and the body after the closing `---` line.
fn split_front(rest: &str) -> Option<(&str, &str)> {
    if let Some(body) = rest.strip_prefix("---\n") {
        return Some(("", body));
    }
    let end = rest.find("\n---\n").map(|i| (i, 5)).or_else(|| {
        rest.strip_suffix("\n---")
            .map(|s| (s.len(), 4))
            .or_else(|| rest.find("\n---\r\n").map(|i| (i, 6)))
    })?;
    Some((&rest[..end.0], rest.get(end.0 + end.1..).unwrap_or("")))
}

fn scalar(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn optional_text(value: &Yaml, name: &str) -> Result<Option<String>, String> {
    match value {
        Yaml::BadValue | Yaml::Null => Ok(None),
        other => scalar(other)
            .map(Some)
            .ok_or_else(|| format!("front matter: '{name}' is not text")),
    }
}

/// An RFC 3339 date-time, or a plain `YYYY-MM-DD` (midnight UTC), as Hugo accepts.
fn parse_date(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    if let Ok(at) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(at);
    }
    Date::parse(s, format_description!("[year]-[month]-[day]"))
        .ok()
        .map(|d| d.midnight().assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_projection_writes() {
        let file = "---\ntitle: \"Hi: there\"\ndate: 2026-01-02T03:04:05Z\nlastmod: 2026-01-02T03:04:05Z\n\
                    draft: false\ntags: [\"a\", \"b\"]\nslug: \"hi\"\nid: \"01ARZ3NDEKTSV4RRFFQ69G5FAV\"\n---\nBody\n";
        let front = parse_post_file(file.as_bytes()).expect("parses");
        assert_eq!(front.title, "Hi: there");
        assert_eq!(front.tags, vec!["a", "b"]);
        assert_eq!(front.slug.as_deref(), Some("hi"));
        assert!(!front.draft);
        assert_eq!(front.body, "Body\n");
        assert_eq!(front.date, Some(time::macros::datetime!(2026-01-02 03:04:05 UTC)));
        assert!(front.id.is_some());
    }

    #[test]
    fn explains_bad_front_matter() {
        let bad_date = parse_post_file(b"---\ntitle: x\ndate: yesterday\n---\nb").expect_err("bad date");
        assert_eq!(bad_date, "front matter: 'date' is not a date");
        let no_title = parse_post_file(b"---\ndate: 2026-01-01\n---\nb").expect_err("no title");
        assert_eq!(no_title, "front matter: 'title' is missing");
        assert!(parse_post_file(b"just text").is_err());
        let plain = parse_post_file(b"---\ntitle: t\ndate: 2026-03-04\n---\n").expect("plain date");
        assert_eq!(plain.date, Some(time::macros::datetime!(2026-03-04 00:00 UTC)));
    }
}
