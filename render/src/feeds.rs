//! The machine-readable outputs: the Atom feed, JSON Feed 1.1, the sitemap and robots.txt.
//!
//! XML is written by hand with [`xml_escape`], which also drops the characters XML 1.0 cannot
//! carry at all; JSON goes through serde_json.

use serde::Serialize;

use crate::error::Result;
use crate::index::PostIndex;
use crate::markdown::Markdown;
use crate::model::{whole_body, Bodies, PostInput, SiteConfig};
use crate::paths::PagePath;
use crate::templates::{absolute, rfc3339};

/// Escapes text for XML content and attribute values, dropping characters that are not
/// allowed in an XML 1.0 document (most control characters), so that any title or body still
/// makes a well-formed feed.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    xml_escape_into(&mut out, text);
    out
}

/// [`xml_escape`] appended to `out`.
fn xml_escape_into(out: &mut String, text: &str) {
    let plain =
        |b: &u8| !matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'') && (*b >= b' ' || matches!(b, b'\t' | b'\n' | b'\r'));
    // U+FFFE and U+FFFF are dropped too: their UTF-8 begins with 0xEF, rare enough to check.
    if text.bytes().all(|b| plain(&b) && b != 0xEF) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

/// The posts the feeds carry: the newest `feed_size`.
fn feed_posts<'i, 'a>(config: &SiteConfig, index: &'i PostIndex<'a>) -> &'i [&'a PostInput] {
    let posts = index.posts();
    &posts[..posts.len().min(config.feed_size)]
}

fn author<'a>(config: &'a SiteConfig, post: &'a PostInput) -> &'a str {
    if post.author.is_empty() {
        &config.author
    } else {
        &post.author
    }
}

/// A feed entry's id: from the post id, so a renamed post stays the same entry.
fn entry_id(post: &PostInput) -> String {
    format!("urn:quire:post:{}", crate::paths::encode_segment(&post.id))
}

/// The Atom feed (RFC 4287).
pub(crate) fn atom(
    config: &SiteConfig,
    markdown: &Markdown,
    bodies: &dyn Bodies,
    index: &PostIndex<'_>,
) -> Result<String> {
    let posts = feed_posts(config, index);
    let updated = posts
        .iter()
        .map(|p| p.updated_at.max(p.published_at))
        .max()
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    xml.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\"");
    xml.push_str(&format!(" xml:lang=\"{}\">\n", xml_escape(&config.language)));
    let home = absolute(config, &PagePath::Home);
    let line = |xml: &mut String, s: String| {
        xml.push_str("  ");
        xml.push_str(&s);
        xml.push('\n');
    };
    line(&mut xml, format!("<id>{}</id>", xml_escape(&home)));
    line(&mut xml, format!("<title>{}</title>", xml_escape(&config.title)));
    if !config.description.is_empty() {
        let subtitle = xml_escape(&config.description);
        line(&mut xml, format!("<subtitle>{subtitle}</subtitle>"));
    }
    line(&mut xml, format!("<updated>{}</updated>", rfc3339(updated)));
    let self_url = xml_escape(&absolute(config, &PagePath::AtomFeed));
    line(
        &mut xml,
        format!("<link rel=\"self\" type=\"application/atom+xml\" href=\"{self_url}\"/>"),
    );
    line(
        &mut xml,
        format!(
            "<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
            xml_escape(&home)
        ),
    );
    if !config.author.is_empty() {
        let name = xml_escape(&config.author);
        line(&mut xml, format!("<author><name>{name}</name></author>"));
    }
    line(&mut xml, "<generator>Quire</generator>".to_owned());
    for post in posts {
        let body = whole_body(bodies, post)?;
        atom_entry(config, markdown, post, &body, &mut xml);
    }
    xml.push_str("</feed>\n");
    Ok(xml)
}

fn atom_entry(config: &SiteConfig, markdown: &Markdown, post: &PostInput, body: &str, xml: &mut String) {
    let url = xml_escape(&absolute(config, &PagePath::Post(post.slug.clone())));
    xml.push_str("  <entry>\n");
    xml.push_str(&format!("    <id>{}</id>\n", xml_escape(&entry_id(post))));
    xml.push_str(&format!(
        "    <title>{}</title>\n",
        xml_escape(&crate::mf2::display_title(post))
    ));
    xml.push_str(&format!(
        "    <link rel=\"alternate\" type=\"text/html\" href=\"{url}\"/>\n"
    ));
    xml.push_str(&format!("    <published>{}</published>\n", rfc3339(post.published_at)));
    let updated = post.updated_at.max(post.published_at);
    xml.push_str(&format!("    <updated>{}</updated>\n", rfc3339(updated)));
    // Every entry names its author: a feed without one would then be invalid Atom.
    let name = author(config, post);
    let name = if name.is_empty() { &config.title } else { name };
    xml.push_str(&format!("    <author><name>{}</name></author>\n", xml_escape(name)));
    for (_, tag) in crate::index::post_tags(post) {
        xml.push_str(&format!("    <category term=\"{}\"/>\n", xml_escape(tag)));
    }
    let summary = post.lead().excerpt(280);
    xml.push_str(&format!("    <summary>{}</summary>\n", xml_escape(&summary)));
    let html = markdown.to_feed_html(body);
    // xml:base lets feed readers resolve the post's relative links and images.
    let content = xml_escape(&html);
    xml.push_str(&format!(
        "    <content type=\"html\" xml:base=\"{url}\">{content}</content>\n"
    ));
    xml.push_str("  </entry>\n");
}

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: String,
    feed_url: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    language: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<JsonAuthor<'a>>,
    items: Vec<JsonItem<'a>>,
}

#[derive(Serialize)]
struct JsonAuthor<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: String,
    url: String,
    /// Absent for notes: JSON Feed items may go without a title.
    #[serde(skip_serializing_if = "str::is_empty")]
    title: &'a str,
    content_html: String,
    summary: String,
    date_published: String,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<JsonAuthor<'a>>,
}

/// The JSON Feed, version 1.1 (<https://jsonfeed.org/version/1.1>).
pub(crate) fn json_feed(
    config: &SiteConfig,
    markdown: &Markdown,
    bodies: &dyn Bodies,
    index: &PostIndex<'_>,
) -> Result<String> {
    let items = feed_posts(config, index)
        .iter()
        .map(|post| {
            let name = author(config, post);
            let body = whole_body(bodies, post)?;
            Ok(JsonItem {
                id: entry_id(post),
                url: absolute(config, &PagePath::Post(post.slug.clone())),
                title: &post.title,
                content_html: markdown.to_feed_html(&body),
                summary: post.lead().excerpt(280),
                date_published: rfc3339(post.published_at),
                date_modified: rfc3339(post.updated_at.max(post.published_at)),
                tags: crate::index::post_tags(post).into_iter().map(|(_, t)| t).collect(),
                authors: authors(name),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let feed = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: &config.title,
        home_page_url: absolute(config, &PagePath::Home),
        feed_url: absolute(config, &PagePath::JsonFeed),
        description: &config.description,
        language: &config.language,
        authors: authors(&config.author),
        items,
    };
    let mut json = serde_json::to_string_pretty(&feed)?;
    json.push('\n');
    Ok(json)
}

fn authors(name: &str) -> Vec<JsonAuthor<'_>> {
    if name.is_empty() {
        Vec::new()
    } else {
        vec![JsonAuthor { name }]
    }
}

/// The sitemap (<https://www.sitemaps.org/protocol.html>): every HTML page but the 404 page and
/// redirects, posts with the date they last changed.
pub(crate) fn sitemap(config: &SiteConfig, index: &PostIndex<'_>) -> String {
    // About what each post's line takes, so the document is not copied as it grows.
    let mut xml = String::with_capacity(256 + index.posts().len() * (96 + config.base().len()));
    xml.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    xml.push_str("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    let mut url = |page: &PagePath, lastmod: Option<time::OffsetDateTime>| {
        xml.push_str("  <url><loc>");
        xml_escape_into(&mut xml, &absolute(config, page));
        xml.push_str("</loc>");
        if let Some(at) = lastmod {
            xml.push_str("<lastmod>");
            xml.push_str(&rfc3339(at));
            xml.push_str("</lastmod>");
        }
        xml.push_str("</url>\n");
    };
    let newest = index.posts().iter().map(|p| p.updated_at.max(p.published_at)).max();
    url(&PagePath::Home, newest);
    let older = crate::pagination::older_page_count(index.posts().len(), config.page_size);
    for n in (1..=older).rev() {
        url(&PagePath::Page(n), None);
    }
    for post in index.posts() {
        let changed = post.updated_at.max(post.published_at);
        url(&PagePath::Post(post.slug.clone()), Some(changed));
    }
    url(&PagePath::Archive, newest);
    url(&PagePath::TagIndex, None);
    for slug in index.tags().keys() {
        url(&PagePath::Tag(slug.clone()), None);
    }
    xml.push_str("</urlset>\n");
    xml
}

/// robots.txt: everything may be crawled; the sitemap says what there is.
pub(crate) fn robots(config: &SiteConfig) -> String {
    let sitemap = absolute(config, &PagePath::Sitemap);
    format!("User-agent: *\nAllow: /\n\nSitemap: {sitemap}\n")
}

#[cfg(test)]
mod tests {
    use super::xml_escape;

    /// The fast path (nothing to escape) and the slow one give what the rules say.
    #[test]
    fn escapes_markup_and_drops_what_xml_cannot_carry() {
        assert_eq!(xml_escape("plain text, é 中"), "plain text, é 中");
        assert_eq!(xml_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(xml_escape("tab\tline\nret\r"), "tab\tline\nret\r");
        assert_eq!(xml_escape("bell\u{7}nul\u{0}"), "bellnul");
        assert_eq!(xml_escape("x\u{FFFE}y\u{FFFF}z"), "xyz");
        // U+FEFF begins with the same byte as U+FFFE and stays.
        assert_eq!(xml_escape("\u{FEFF}ok"), "\u{FEFF}ok");
    }
}
