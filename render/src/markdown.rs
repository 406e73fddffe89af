//! Markdown to sanitized HTML.
//!
//! pulldown-cmark parses CommonMark with the GitHub extensions (tables, footnotes,
//! strikethrough, task lists); small event transforms add heading ids, bare-URL autolinks and
//! class-based table alignment; ammonia then sanitizes the HTML, so nothing an author writes —
//! raw HTML included — can put script, event handlers, `javascript:`/`data:` URLs, frames,
//! objects or inline styles on a page.
//!
//! Images the site knows (uploads, `/media/<hash>.<ext>`, see [`Markdown::add_image`]) are
//! written with their size (no layout shift), `loading="lazy"` and a `srcset` of the smaller
//! copies the site projection writes to `media/w<width>/` ([`IMAGE_WIDTHS`]).

use std::borrow::Cow;
use std::collections::HashMap;

use ammonia::Builder;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, TextMergeStream};

use crate::autolink;

/// Converts Markdown to HTML that is safe to put on a page as is.
///
/// Building the sanitizer's tables costs more than cleaning a short post, so make one and reuse
/// it; it is `Send + Sync`.
pub struct Markdown {
    cleaner: Builder<'static>,
    images: Images,
}

/// The widths of the smaller copies of an image the site offers in `srcset`: those narrower
/// than the image itself.
pub const IMAGE_WIDTHS: [u32; 3] = [480, 960, 1600];

/// `sizes` of an image in a post: the full width of a small screen, else the text column
/// (`main`'s `max-width` in the stylesheet).
const IMAGE_SIZES: &str = "(max-width: 42rem) 100vw, 42rem";

/// The widths of [`IMAGE_WIDTHS`] that an image `width` pixels wide has copies at.
pub fn image_variant_widths(width: u32) -> impl Iterator<Item = u32> {
    IMAGE_WIDTHS.into_iter().filter(move |w| *w < width)
}

/// Where the copy of the stored image `file` (`<hash>.<ext>`) at `width` lives, relative to
/// the site's root: `media/w480/<hash>.jpg`.
pub fn image_variant_path(width: u32, file: &str) -> String {
    format!("media/w{width}/{file}")
}

/// The stored images the site knows, by file name, and where the site lives.
#[derive(Debug, Default, Clone)]
struct Images {
    sizes: HashMap<String, (u32, u32)>,
    /// `https://example.org`: made absolute in feeds.
    origin: String,
    /// `""` or `/blog`: the variants are in the site's folder.
    base_path: String,
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
        cleaner.add_tag_attributes("img", ["srcset", "sizes", "loading", "decoding"]);
        Markdown {
            cleaner,
            images: Images::default(),
        }
    }

    /// Sets where the site lives: `base` is its base URL (`https://example.org/blog`).
    pub(crate) fn set_base(&mut self, base: &str, base_path: &str) {
        self.images.base_path = base_path.to_owned();
        self.images.origin = base[..base.len() - base_path.len()].to_owned();
    }

    /// Makes `![…](/media/<file>)` show the stored image `file` with its size and the copies
    /// of [`image_variant_widths`] — which must exist in the site's folder.
    pub fn add_image(&mut self, file: &str, width: u32, height: u32) {
        self.images.sizes.insert(file.to_owned(), (width, height));
    }

    /// Renders `markdown` to sanitized HTML.
    pub fn to_html(&self, markdown: &str) -> String {
        self.render(markdown, false)
    }

    /// [`Markdown::to_html`] for feeds: uploaded images get absolute URLs, since feed readers
    /// show the content away from the site.
    pub fn to_feed_html(&self, markdown: &str) -> String {
        self.render(markdown, true)
    }

    fn render(&self, markdown: &str, absolute: bool) -> String {
        let events = TextMergeStream::new(Parser::new_ext(markdown, options()));
        let events = autolink::link_bare_urls(events.collect());
        let events = add_heading_ids(events);
        let events = align_table_cells(events);
        let events = stored_images(events, &self.images, absolute);
        let mut html = String::with_capacity(markdown.len() * 3 / 2);
        pulldown_cmark::html::push_html(&mut html, events.into_iter());
        self.cleaner.clean(&html).to_string()
    }
}

/// The Markdown dialect of the site.
fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// Keeps only the classes the renderer itself emits and the image attributes it writes
/// ([`stored_images`]); every other attribute that passed the allow-list is kept as is.
fn filter_attribute<'u>(element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    match (element, attribute) {
        ("img", "srcset") => return is_image_srcset(value).then_some(Cow::Borrowed(value)),
        ("img", "sizes") => return (value == IMAGE_SIZES).then_some(Cow::Borrowed(value)),
        ("img", "loading") => return matches!(value, "lazy" | "eager").then_some(Cow::Borrowed(value)),
        ("img", "decoding") => return matches!(value, "async" | "sync" | "auto").then_some(Cow::Borrowed(value)),
        _ => {}
    }
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

/// Whether `srcset` names only same-site or http(s) image URLs with width descriptors, as
/// [`stored_images`] writes them (no `javascript:`, `data:` or protocol-relative URLs).
fn is_image_srcset(value: &str) -> bool {
    value.split(',').all(|candidate| {
        let mut parts = candidate.split_ascii_whitespace();
        let (Some(url), Some(descriptor), None) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        let url_ok = (url.starts_with('/') && !url.starts_with("//"))
            || url.starts_with("https://")
            || url.starts_with("http://");
        let descriptor_ok = descriptor
            .strip_suffix('w')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        url_ok && descriptor_ok && !url.contains(['"', '\'', '<', '>'])
    })
}

/// Writes images of stored files the site knows (`/media/<file>`) as `<img>` with width,
/// height, lazy loading and a `srcset` of their smaller copies; in feeds (`absolute`), every
/// `/media/` image gets an absolute URL.
fn stored_images<'a>(events: Vec<Event<'a>>, images: &Images, absolute: bool) -> Vec<Event<'a>> {
    if images.sizes.is_empty() && !absolute {
        return events;
    }
    let mut out = Vec::with_capacity(events.len());
    let mut events = events.into_iter();
    while let Some(event) = events.next() {
        let Event::Start(Tag::Image { dest_url, title, .. }) = &event else {
            out.push(event);
            continue;
        };
        let Some(file) = dest_url.strip_prefix("/media/") else {
            out.push(event);
            continue;
        };
        let size = images.sizes.get(file).copied();
        if size.is_none() && !absolute {
            out.push(event);
            continue;
        }
        let origin = if absolute { images.origin.as_str() } else { "" };
        let mut alt = String::new();
        let mut depth = 1;
        for inner in events.by_ref() {
            match inner {
                Event::Start(Tag::Image { .. }) => depth += 1,
                Event::End(TagEnd::Image) => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                Event::Text(t) | Event::Code(t) | Event::InlineHtml(t) | Event::Html(t) => alt.push_str(&t),
                Event::SoftBreak | Event::HardBreak => alt.push(' '),
                _ => {}
            }
        }
        let mut tag = format!(
            "<img src=\"{origin}{}\" alt=\"{}\"",
            escape_attribute(dest_url),
            escape_attribute(&alt)
        );
        if !title.is_empty() {
            tag.push_str(&format!(" title=\"{}\"", escape_attribute(title)));
        }
        if let Some((width, height)) = size {
            tag.push_str(&format!(
                " width=\"{width}\" height=\"{height}\" loading=\"lazy\" decoding=\"async\""
            ));
            let file = escape_attribute(file);
            let mut srcset: Vec<String> = image_variant_widths(width)
                .map(|w| format!("{origin}{}/{} {w}w", images.base_path, image_variant_path(w, &file)))
                .collect();
            if !srcset.is_empty() {
                srcset.push(format!("{origin}{} {width}w", escape_attribute(dest_url)));
                tag.push_str(&format!(" srcset=\"{}\" sizes=\"{IMAGE_SIZES}\"", srcset.join(", ")));
            }
        }
        tag.push('>');
        out.push(Event::Html(tag.into()));
    }
    out
}

/// `value` safe inside a double-quoted attribute.
fn escape_attribute(value: &str) -> Cow<'_, str> {
    if !value.contains(['&', '"', '<', '>']) {
        return Cow::Borrowed(value);
    }
    Cow::Owned(
        value
            .replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
            .replace('>', "&gt;"),
    )
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
    Lead::up_to(markdown, max_chars).excerpt(max_chars)
}

/// The characters of a post's text a [`Lead`] keeps: the longest excerpt the pages show.
pub const LEAD_CHARS: usize = 280;

/// Bytes of a long body [`Lead::of`] parses first (up to the next paragraph).
const LEAD_PREFIX_BYTES: usize = 1024;

/// The start of `markdown` up to the first blank line past [`LEAD_PREFIX_BYTES`] followed by a
/// line that begins with a letter; `None` for a short body, one with link or footnote
/// definitions, or one without such a line.
fn paragraph_cut(markdown: &str) -> Option<&str> {
    if markdown.len() <= LEAD_PREFIX_BYTES * 2 || markdown.contains("]:") {
        return None;
    }
    let bytes = markdown.as_bytes();
    let at = bytes
        .get(LEAD_PREFIX_BYTES..)?
        .windows(3)
        .position(|w| w[0] == b'\n' && w[1] == b'\n' && w[2].is_ascii_alphabetic())?;
    // A newline is never inside a character of several bytes: the cut is a char boundary.
    markdown.get(..LEAD_PREFIX_BYTES + at)
}

/// The start of a post's plain text (as [`plain_text_excerpt`] sees it), enough for every
/// excerpt the site shows of it: list summaries, descriptions, a note's derived title. A caller
/// that keeps these instead of whole bodies needs the body only for the post's own page and
/// the feeds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lead {
    /// Whole words separated by one space, at most [`LEAD_CHARS`] characters.
    words: Box<str>,
    /// Whether the text goes on after `words`.
    more: bool,
}

impl Lead {
    /// The lead of `markdown`.
    ///
    /// A long body is parsed from its start up to a blank line past [`LEAD_PREFIX_BYTES`]
    /// that a line starting with a letter follows (a new paragraph: any list or quote before
    /// it has ended) first. Nothing before such a line depends on what follows it, but for
    /// link and footnote definitions (`[x]: …`), so for a body without `]:` that start gives
    /// the same text. Only when it holds too little text is the whole body parsed.
    pub fn of(markdown: &str) -> Lead {
        if let Some(start) = paragraph_cut(markdown) {
            let lead = Lead::up_to(start, LEAD_CHARS);
            if lead.more {
                return lead;
            }
        }
        Lead::up_to(markdown, LEAD_CHARS)
    }

    /// The words of `markdown`'s plain text that fit in `max_chars` characters. Parsing stops
    /// once the text, whitespace collapsed, reaches past them (the word that does not fit has
    /// begun, so the lead is known), or at `8 × max_chars` bytes of text.
    fn up_to(markdown: &str, max_chars: usize) -> Lead {
        let mut text = String::new();
        let mut skip_depth = 0usize;
        // Characters of `text` with each run of whitespace counted as one.
        let mut collapsed = 0usize;
        let mut in_space = true;
        let mut count = |piece: &str| {
            for c in piece.chars() {
                let space = c.is_whitespace();
                collapsed += usize::from(!space || !in_space);
                in_space = space;
            }
            collapsed
        };
        for event in Parser::new_ext(markdown, options()) {
            let before = text.len();
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
            if text.len() > max_chars * 8 || count(&text[before..]) > max_chars + 1 {
                break;
            }
        }
        let (words, more) = fit_words(text.split_whitespace(), max_chars);
        Lead {
            words: words.into(),
            more,
        }
    }

    /// The text cut at a word boundary to at most `max_chars` characters, with `…` when cut;
    /// the same as [`plain_text_excerpt`] of the body for any `max_chars` up to [`LEAD_CHARS`].
    pub fn excerpt(&self, max_chars: usize) -> String {
        let (mut out, cut) = fit_words(self.words.split(' ').filter(|w| !w.is_empty()), max_chars);
        if cut || self.more {
            out.push('…');
        }
        out
    }
}

/// The leading `words` that fit in `max_chars` characters joined by one space, and whether a
/// word was left out.
fn fit_words<'a>(words: impl Iterator<Item = &'a str>, max_chars: usize) -> (String, bool) {
    let mut out = String::new();
    let mut chars = 0;
    for word in words {
        let needed = chars + usize::from(!out.is_empty()) + word.chars().count();
        if needed > max_chars {
            return (out, true);
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        chars = needed;
    }
    (out, false)
}

#[cfg(test)]
#[path = "markdown_tests.rs"]
mod tests;
