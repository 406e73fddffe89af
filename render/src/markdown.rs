//! Markdown to sanitized HTML.
//!
//! pulldown-cmark parses CommonMark with the GitHub extensions (tables, footnotes,
//! strikethrough, task lists); small event transforms add heading ids, bare-URL autolinks and
//! class-based table alignment; ammonia then sanitizes the HTML, so nothing an author writes —
//! raw HTML included — can put script, event handlers, `javascript:`/`data:` URLs, frames,
//! objects or inline styles on a page.

use std::borrow::Cow;

use ammonia::Builder;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, TextMergeStream};

use crate::autolink;

/// Converts Markdown to HTML that is safe to put on a page as is.
///
/// Building the sanitizer's tables costs more than cleaning a short post, so make one and reuse
/// it; it is `Send + Sync`.
pub struct Markdown {
    cleaner: Builder<'static>,
}

impl std::fmt::Debug for Markdown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Markdown").finish_non_exhaustive()
    }
}

impl Default for Markdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Markdown {
    /// A converter with the site's allow-list of tags, attributes and classes.
    pub fn new() -> Self {
        let mut cleaner = Builder::default();
        cleaner
            .add_tags(["input"])
            // Task-list checkboxes. Any `<input>` ends up disabled; only the checkbox type is
            // kept. (Forcing one attribute only: ammonia adds forced attributes in hash order,
            // and two of them would make the output differ from run to run.)
            .add_tag_attributes("input", ["checked", "disabled"])
            .add_tag_attribute_values("input", "type", ["checkbox"])
            .set_tag_attribute_value("input", "disabled", "")
            .add_tag_attributes("div", ["id", "class"])
            .add_tag_attributes("sup", ["class"])
            .add_tag_attributes("code", ["class"])
            .add_tag_attributes("th", ["class"])
            .add_tag_attributes("td", ["class"])
            .attribute_filter(filter_attribute);
        for heading in ["h1", "h2", "h3", "h4", "h5", "h6"] {
            cleaner.add_tag_attributes(heading, ["id"]);
        }
        Markdown { cleaner }
    }

    /// Renders `markdown` to sanitized HTML.
    pub fn to_html(&self, markdown: &str) -> String {
        let events = TextMergeStream::new(Parser::new_ext(markdown, options()));
        let events = autolink::link_bare_urls(events.collect());
        let events = add_heading_ids(events);
        let events = align_table_cells(events);
        let mut html = String::with_capacity(markdown.len() * 3 / 2);
        pulldown_cmark::html::push_html(&mut html, events.into_iter());
        self.cleaner.clean(&html).to_string()
    }
}

/// The Markdown dialect of the site.
fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// Keeps only the classes the renderer itself emits; every other attribute that passed the
/// allow-list is kept as is.
fn filter_attribute<'u>(element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    if attribute != "class" {
        return Some(Cow::Borrowed(value));
    }
    let allowed = |class: &&str| match element {
        "code" => is_language_class(class),
        "div" => *class == "footnote-definition",
        "sup" => matches!(*class, "footnote-reference" | "footnote-definition-label"),
        "th" | "td" => matches!(*class, "align-left" | "align-center" | "align-right"),
        _ => false,
    };
    let kept: Vec<&str> = value.split_ascii_whitespace().filter(allowed).collect();
    (!kept.is_empty()).then(|| Cow::Owned(kept.join(" ")))
}

/// `language-rust`, `language-c++`: what a fenced code block's info string becomes.
fn is_language_class(class: &str) -> bool {
    class.strip_prefix("language-").is_some_and(|lang| {
        !lang.is_empty()
            && lang.len() <= 40
            && lang
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '#' | '.'))
    })
}

/// Gives every heading an `id` made from its text, unique within the document, so sections can
/// be linked to.
fn add_heading_ids(mut events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let mut used: Vec<String> = Vec::new();
    let mut i = 0;
    while i < events.len() {
        if let Event::Start(Tag::Heading { .. }) = events[i] {
            let mut text = String::new();
            for event in &events[i + 1..] {
                match event {
                    Event::End(TagEnd::Heading(_)) => break,
                    Event::Text(t) | Event::Code(t) => text.push_str(t),
                    _ => {}
                }
            }
            let base = crate::paths::slugify(&text, 60);
            let base = if base.is_empty() { "section".to_owned() } else { base };
            let mut id = base.clone();
            let mut n = 1;
            while used.contains(&id) {
                id = format!("{base}-{n}");
                n += 1;
            }
            if let Event::Start(Tag::Heading { id: slot, .. }) = &mut events[i] {
                *slot = Some(id.clone().into());
            }
            used.push(id);
        }
        i += 1;
    }
    events
}

/// pulldown-cmark aligns table cells with `style` attributes, which the sanitizer removes;
/// write the table tags here with `align-*` classes instead.
fn align_table_cells(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    use pulldown_cmark::Alignment;
    let mut alignments = Vec::new();
    let mut in_head = false;
    let mut cell = 0;
    let html = |s: String| Event::Html(s.into());
    events
        .into_iter()
        .map(|event| match event {
            Event::Start(Tag::Table(a)) => {
                alignments = a;
                html("<table>".into())
            }
            Event::End(TagEnd::Table) => html("</tbody></table>\n".into()),
            Event::Start(Tag::TableHead) => {
                in_head = true;
                cell = 0;
                html("<thead><tr>".into())
            }
            Event::End(TagEnd::TableHead) => {
                in_head = false;
                html("</tr></thead><tbody>\n".into())
            }
            Event::Start(Tag::TableRow) => {
                cell = 0;
                html("<tr>".into())
            }
            Event::End(TagEnd::TableRow) => html("</tr>\n".into()),
            Event::Start(Tag::TableCell) => {
                let tag = if in_head { "th" } else { "td" };
                let class = match alignments.get(cell) {
                    Some(Alignment::Left) => " class=\"align-left\"",
                    Some(Alignment::Center) => " class=\"align-center\"",
                    Some(Alignment::Right) => " class=\"align-right\"",
                    _ => "",
                };
                html(format!("<{tag}{class}>"))
            }
            Event::End(TagEnd::TableCell) => {
                cell += 1;
                html(if in_head { "</th>" } else { "</td>" }.into())
            }
            other => other,
        })
        .collect()
}

/// The plain text of `markdown` without headings, images, code blocks, tables and footnotes,
/// whitespace collapsed, cut at a word boundary to at most `max_chars` characters (with `…`
/// when cut): for descriptions and list summaries.
pub fn plain_text_excerpt(markdown: &str, max_chars: usize) -> String {
    let mut text = String::new();
    let mut skip_depth = 0usize;
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(
                Tag::CodeBlock(_)
                | Tag::FootnoteDefinition(_)
                | Tag::Table(_)
                | Tag::Image { .. }
                | Tag::Heading { .. },
            ) => skip_depth += 1,
            Event::End(
                TagEnd::CodeBlock | TagEnd::FootnoteDefinition | TagEnd::Table | TagEnd::Image | TagEnd::Heading(_),
            ) => skip_depth = skip_depth.saturating_sub(1),
            Event::Text(t) | Event::Code(t) if skip_depth == 0 => {
                text.push_str(&t);
            }
            Event::SoftBreak | Event::HardBreak | Event::End(TagEnd::Paragraph | TagEnd::Item) => text.push(' '),
            _ => {}
        }
        if text.len() > max_chars * 8 {
            break;
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = String::new();
    for word in words {
        let needed = out.chars().count() + usize::from(!out.is_empty()) + word.chars().count();
        if needed > max_chars {
            out.push('…');
            return out;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
#[path = "markdown_tests.rs"]
mod tests;
