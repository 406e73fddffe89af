//! GitHub-style autolinks: bare `https://…`, `http://…` and `www.…` addresses in text become
//! links. CommonMark itself only links `<https://…>`.

use pulldown_cmark::{CowStr, Event, LinkType, Tag, TagEnd};

/// Splits the text events outside links, images and code into text and link events.
pub(crate) fn link_bare_urls(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let mut out = Vec::with_capacity(events.len());
    let mut opaque = 0usize;
    for event in events {
        match &event {
            Event::Start(Tag::Link { .. } | Tag::Image { .. } | Tag::CodeBlock(_)) => opaque += 1,
            Event::End(TagEnd::Link | TagEnd::Image | TagEnd::CodeBlock) => opaque = opaque.saturating_sub(1),
            Event::Text(text) if opaque == 0 && might_contain_url(text) => {
                push_linked(text, &mut out);
                continue;
            }
            _ => {}
        }
        out.push(event);
    }
    out
}

fn might_contain_url(text: &str) -> bool {
    text.contains("http://") || text.contains("https://") || text.contains("www.")
}

fn push_linked<'a>(text: &str, out: &mut Vec<Event<'a>>) {
    let mut rest = text;
    while let Some((start, end)) = find_url(rest) {
        if start > 0 {
            out.push(Event::Text(CowStr::from(rest[..start].to_owned())));
        }
        let shown = &rest[start..end];
        let dest = if shown.starts_with("www.") {
            format!("https://{shown}")
        } else {
            shown.to_owned()
        };
        out.push(Event::Start(Tag::Link {
            link_type: LinkType::Autolink,
            dest_url: dest.into(),
            title: CowStr::Borrowed(""),
            id: CowStr::Borrowed(""),
        }));
        out.push(Event::Text(CowStr::from(shown.to_owned())));
        out.push(Event::End(TagEnd::Link));
        rest = &rest[end..];
    }
    if !rest.is_empty() {
        out.push(Event::Text(CowStr::from(rest.to_owned())));
    }
}

/// The byte range of the first bare URL in `text`.
fn find_url(text: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while from < text.len() {
        let candidates = ["https://", "http://", "www."]
            .iter()
            .filter_map(|p| text[from..].find(p).map(|i| (from + i, p.len())));
        let (start, prefix_len) = candidates.min_by_key(|(i, _)| *i)?;
        let boundary = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || "(*_~\"'".contains(c));
        let end = start
            + text[start..]
                .find(|c: char| c.is_whitespace() || c == '<' || c == '>')
                .unwrap_or(text.len() - start);
        let end = trim_trailing(text, start, end);
        let body = &text[start + prefix_len..end];
        if boundary && body.contains(|c: char| c.is_alphanumeric()) && has_domain(body) {
            return Some((start, end));
        }
        from = start + prefix_len;
    }
    None
}

/// A host part with a dot in it for `www.`, anything for an explicit scheme.
fn has_domain(body: &str) -> bool {
    let host = body.split(['/', '?', '#']).next().unwrap_or_default();
    !host.is_empty() && !host.starts_with('.')
}

/// Drops punctuation that ends the sentence rather than the URL, and unbalanced `)`.
fn trim_trailing(text: &str, start: usize, mut end: usize) -> usize {
    loop {
        let url = &text[start..end];
        let Some(last) = url.chars().next_back() else {
            return end;
        };
        let unbalanced = last == ')' && url.matches('(').count() < url.matches(')').count();
        if "?!.,:;*_~'\"".contains(last) || unbalanced {
            end -= last.len_utf8();
        } else {
            return end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url_in(text: &str) -> Option<&str> {
        find_url(text).map(|(s, e)| &text[s..e])
    }

    #[test]
    fn finds_bare_urls() {
        assert_eq!(url_in("see https://example.org."), Some("https://example.org"));
        assert_eq!(url_in("(www.example.org/a_(b))"), Some("www.example.org/a_(b)"));
        assert_eq!(url_in("x https://a.b/c?d=1, then"), Some("https://a.b/c?d=1"));
        assert_eq!(url_in("nowww.example.org"), None);
        assert_eq!(url_in("https:// nothing"), None);
        assert_eq!(url_in("plain text"), None);
    }
}
