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

/// Most URLs one sitemap file may list: the protocol's limit
/// (<https://www.sitemaps.org/protocol.html>; its other one, 50 MB, is not reached first at
/// ~100 bytes a URL). A longer sitemap is split into [`PagePath::SitemapPart`]s of this many.
pub const SITEMAP_MAX_URLS: usize = 50_000;

/// The pages the sitemap names — every HTML page but the 404 page and redirects — in its
/// order, each with when it last changed where that is known (posts, the home page, the archive).
fn sitemap_entries<'a>(
    config: &SiteConfig,
    index: &'a PostIndex<'_>,
) -> impl Iterator<Item = (PagePath, Option<time::OffsetDateTime>)> + 'a {
    let newest = index.posts().iter().map(|p| p.updated_at.max(p.published_at)).max();
    let older = crate::pagination::older_page_count(index.posts().len(), config.page_size);
    std::iter::once((PagePath::Home, newest))
        .chain((1..=older).rev().map(|n| (PagePath::Page(n), None)))
        .chain(index.posts().iter().map(|post| {
            let changed = post.updated_at.max(post.published_at);
            (PagePath::Post(post.slug.clone()), Some(changed))
        }))
        .chain([(PagePath::Archive, newest), (PagePath::TagIndex, None)])
        .chain(index.tags().keys().map(|slug| (PagePath::Tag(slug.clone()), None)))
}

/// How many URLs the sitemap names ([`sitemap_entries`]' length, without making them).
fn sitemap_url_count(config: &SiteConfig, index: &PostIndex<'_>) -> usize {
    let older = crate::pagination::older_page_count(index.posts().len(), config.page_size);
    3 + older + index.posts().len() + index.tags().len()
}

/// How many part files a sitemap of `urls` URLs takes, at most `max` each: 0 when it fits in
/// `sitemap.xml` itself.
fn parts_for(urls: usize, max: usize) -> usize {
    if urls <= max {
        0
    } else {
        urls.div_ceil(max.max(1))
    }
}

/// The sitemap's part files for these posts: 0 while `sitemap.xml` lists every page itself.
pub(crate) fn sitemap_parts(config: &SiteConfig, index: &PostIndex<'_>) -> usize {
    parts_for(sitemap_url_count(config, index), SITEMAP_MAX_URLS)
}

/// `/sitemap.xml`: every page ([`sitemap_entries`]), or an index of the parts that list them.
pub(crate) fn sitemap(config: &SiteConfig, index: &PostIndex<'_>) -> String {
    sitemap_with(config, index, SITEMAP_MAX_URLS)
}

/// Part `n` of a split sitemap; `None` if the sitemap has no such part.
pub(crate) fn sitemap_part(config: &SiteConfig, index: &PostIndex<'_>, n: usize) -> Option<String> {
    sitemap_part_with(config, index, n, SITEMAP_MAX_URLS)
}

fn sitemap_with(config: &SiteConfig, index: &PostIndex<'_>, max: usize) -> String {
    let urls = sitemap_url_count(config, index);
    let parts = parts_for(urls, max);
    if parts == 0 {
        return sitemap_document(config, "urlset", "url", sitemap_entries(config, index), urls);
    }
    // Each part's newest change, as its `lastmod`.
    let mut newest = vec![None; parts];
    for (i, (_, changed)) in sitemap_entries(config, index).enumerate() {
        let slot = &mut newest[(i / max).min(parts - 1)];
        *slot = (*slot).max(changed);
    }
    let entries = newest
        .into_iter()
        .enumerate()
        .map(|(i, changed)| (PagePath::SitemapPart(i + 1), changed));
    sitemap_document(config, "sitemapindex", "sitemap", entries, parts)
}

fn sitemap_part_with(config: &SiteConfig, index: &PostIndex<'_>, n: usize, max: usize) -> Option<String> {
    let urls = sitemap_url_count(config, index);
    let parts = parts_for(urls, max);
    if n == 0 || n > parts {
        return None;
    }
    let entries = sitemap_entries(config, index).skip((n - 1) * max).take(max);
    let len = max.min(urls - (n - 1) * max);
    Some(sitemap_document(config, "urlset", "url", entries, len))
}

/// A sitemap document: a `<urlset>` of `<url>`s, or a `<sitemapindex>` of `<sitemap>`s (the
/// `root` and its `item`s), one per entry with its `<loc>` and, when known, `<lastmod>`;
/// about `len` of them.
fn sitemap_document(
    config: &SiteConfig,
    root: &str,
    item: &str,
    entries: impl Iterator<Item = (PagePath, Option<time::OffsetDateTime>)>,
    len: usize,
) -> String {
    // About what each line takes, so the document is not copied as it grows.
    let mut xml = String::with_capacity(256 + len * (96 + config.base().len()));
    xml.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    xml.push_str(&format!(
        "<{root} xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n"
    ));
    for (page, lastmod) in entries {
        // Pieces, not `format!`: a sitemap has up to 50,000 lines.
        xml.push_str("  <");
        xml.push_str(item);
        xml.push_str("><loc>");
        xml_escape_into(&mut xml, &absolute(config, &page));
        xml.push_str("</loc>");
        if let Some(at) = lastmod {
            xml.push_str("<lastmod>");
            xml.push_str(&rfc3339(at));
            xml.push_str("</lastmod>");
        }
        xml.push_str("</");
        xml.push_str(item);
        xml.push_str(">\n");
    }
    xml.push_str(&format!("</{root}>\n"));
    xml
}

/// robots.txt: everything may be crawled; the sitemap says what there is.
pub(crate) fn robots(config: &SiteConfig) -> String {
    let sitemap = absolute(config, &PagePath::Sitemap);
    format!("User-agent: *\nAllow: /\n\nSitemap: {sitemap}\n")
}

#[cfg(test)]
mod tests {
    use super::{sitemap_part_with, sitemap_with, xml_escape};
    use crate::index::PostIndex;
    use crate::model::{PostInput, SiteConfig};

    fn post(i: i64) -> PostInput {
        let at = time::OffsetDateTime::from_unix_timestamp(1_700_000_000 + i * 86_400).expect("a date");
        PostInput {
            id: format!("{i:04}"),
            slug: format!("p{i}"),
            title: format!("Post {i}"),
            body_markdown: String::new(),
            tags: Vec::new(),
            published_at: at,
            updated_at: at,
            author: String::new(),
            old_slugs: Vec::new(),
            properties: Default::default(),
            body_key: None,
            lead: None,
        }
    }

    /// The `<loc>`s of a sitemap document, in order.
    fn locs(xml: &str) -> Vec<String> {
        xml.split("<loc>")
            .skip(1)
            .map(|rest| rest.split("</loc>").next().unwrap_or_default().to_owned())
            .collect()
    }

    /// Five posts and the home, archive and tag pages: eight URLs, newest post first.
    #[test]
    fn a_sitemap_over_the_limit_is_an_index_of_parts_that_list_every_url_once() {
        let config = SiteConfig {
            base_url: "https://example.org/".into(),
            ..SiteConfig::default()
        };
        let posts: Vec<PostInput> = (0..5).map(post).collect();
        let index = PostIndex::new(&posts);
        let whole = sitemap_with(&config, &index, 8);
        assert!(whole.contains("<urlset"), "eight URLs fit a limit of eight: {whole}");
        let all = locs(&whole);
        assert_eq!(all.len(), 8);
        assert_eq!(sitemap_part_with(&config, &index, 1, 8), None, "no parts then");

        let split = sitemap_with(&config, &index, 3);
        assert!(split.contains("<sitemapindex") && !split.contains("<urlset"), "{split}");
        assert_eq!(
            locs(&split),
            [
                "https://example.org/sitemap-1.xml",
                "https://example.org/sitemap-2.xml",
                "https://example.org/sitemap-3.xml"
            ]
        );
        let parts: Vec<String> = (1..=3)
            .map(|n| sitemap_part_with(&config, &index, n, 3).expect("a part"))
            .collect();
        let joined: Vec<String> = parts.iter().flat_map(|part| locs(part)).collect();
        assert_eq!(joined, all, "the parts list the same URLs in the same order");
        assert_eq!(parts.iter().map(|p| locs(p).len()).collect::<Vec<_>>(), [3, 3, 2]);
        assert_eq!(sitemap_part_with(&config, &index, 0, 3), None);
        assert_eq!(sitemap_part_with(&config, &index, 4, 3), None);
        // Part 2 holds the posts p2, p1 and p0 (after the home page and p4, p3): its lastmod
        // is p2's, the newest of them.
        let lastmods: Vec<&str> = split
            .split("<lastmod>")
            .skip(1)
            .map(|rest| rest.split("</lastmod>").next().unwrap_or_default())
            .collect();
        assert_eq!(lastmods.len(), 3);
        assert_eq!(lastmods[1], crate::templates::rfc3339(posts[2].updated_at));
        assert_eq!(lastmods[0], crate::templates::rfc3339(posts[4].updated_at));
    }

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
