//! The feeds follow their specifications: JSON Feed 1.1 structure, well-formed Atom with the
//! required elements, a sitemap search engines accept.

mod common;

use std::collections::{BTreeSet, HashSet};

use common::xml;
use quire_render::{PagePath, PostIndex, Site, SITEMAP_MAX_URLS};

fn render(page: PagePath) -> String {
    let site = Site::new(common::config(), "unused").expect("config");
    let bytes = site
        .render_page(&page, &common::posts())
        .expect("render")
        .expect("exists");
    String::from_utf8(bytes).expect("utf-8")
}

#[test]
fn json_feed_has_the_version_1_1_structure() {
    let feed: serde_json::Value = serde_json::from_str(&render(PagePath::JsonFeed)).expect("json");
    assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(feed["title"], "Field Notes");
    assert_eq!(feed["home_page_url"], "https://notes.example.org/");
    assert_eq!(feed["feed_url"], "https://notes.example.org/feed.json");
    let items = feed["items"].as_array().expect("items is an array");
    assert_eq!(items.len(), 3, "feed_size newest posts");
    let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().expect("id")).collect();
    assert_eq!(
        ids,
        [
            "urn:quire:post:01GARDEN",
            "urn:quire:post:01HELLO",
            "urn:quire:post:01NOTES"
        ]
    );
    for item in items {
        for key in ["id", "url", "content_html", "date_published"] {
            assert!(item[key].is_string(), "{key} in {item}");
        }
        let url = item["url"].as_str().expect("url");
        assert!(url.starts_with("https://notes.example.org/posts/"), "{url}");
        let date = item["date_published"].as_str().expect("date");
        time::OffsetDateTime::parse(date, &time::format_description::well_known::Rfc3339)
            .expect("date_published is RFC 3339");
    }
    assert_eq!(items[1]["title"], "Hello, Rust & <friends>", "JSON carries plain text");
}

#[test]
fn atom_feed_is_well_formed_with_required_elements() {
    let atom = render(PagePath::AtomFeed);
    let elements = xml::parse(&atom);
    let root = &elements[0];
    assert_eq!(root.path, "feed");
    assert!(root
        .attrs
        .contains(&("xmlns".into(), "http://www.w3.org/2005/Atom".into())));
    for required in ["feed/id", "feed/title", "feed/updated", "feed/author/name"] {
        assert_eq!(xml::texts(&elements, required).len(), 1, "{required}");
    }
    assert_eq!(xml::texts(&elements, "feed/updated"), ["2024-06-01T07:00:00Z"]);
    let links: Vec<_> = elements.iter().filter(|e| e.path == "feed/link").collect();
    assert!(links.iter().any(|l| l.attrs.contains(&("rel".into(), "self".into()))));
    let entries = xml::texts(&elements, "feed/entry");
    assert_eq!(entries.len(), 3);
    for required in ["id", "title", "updated", "published", "author/name", "content", "link"] {
        let found = xml::texts(&elements, &format!("feed/entry/{required}"));
        assert_eq!(found.len(), 3, "every entry has {required}");
    }
    assert_eq!(xml::texts(&elements, "feed/entry/title")[1], "Hello, Rust & <friends>");
    let content = xml::texts(&elements, "feed/entry/content")[1];
    assert!(content.starts_with("<h2 id=\"why-rust\">Why Rust</h2>"), "{content}");
}

#[test]
fn feeds_survive_control_characters_and_odd_text() {
    let site = Site::new(common::config(), "unused").expect("config");
    let mut post = common::post("01ODD", "odd", "Bell\u{7} & NUL\u{0} ]]> <![CDATA[", &["a&b"]);
    post.body_markdown = "Text with \u{1b}[31m escape, \u{FFFF} and 🦀 & ]]>".into();
    let posts = vec![post];
    let atom = site
        .render_page(&PagePath::AtomFeed, &posts)
        .expect("render")
        .expect("atom");
    let elements = xml::parse(std::str::from_utf8(&atom).expect("utf-8"));
    assert_eq!(xml::texts(&elements, "feed/entry/title"), ["Bell & NUL ]]> <![CDATA["]);
    let sitemap = site
        .render_page(&PagePath::Sitemap, &posts)
        .expect("render")
        .expect("sitemap");
    xml::parse(std::str::from_utf8(&sitemap).expect("utf-8"));
    let json = site
        .render_page(&PagePath::JsonFeed, &posts)
        .expect("render")
        .expect("json");
    serde_json::from_slice::<serde_json::Value>(&json).expect("valid JSON");
}

#[test]
fn sitemap_lists_every_public_page_and_robots_points_to_it() {
    let sitemap = render(PagePath::Sitemap);
    let elements = xml::parse(&sitemap);
    let locs = xml::texts(&elements, "urlset/url/loc");
    assert_eq!(locs.len(), 11);
    for post in common::posts() {
        let url = format!("https://notes.example.org/posts/{}/", post.slug);
        assert!(locs.contains(&url.as_str()), "{url}");
    }
    assert!(
        !locs.iter().any(|l| l.contains("hello-world")),
        "no redirects in the sitemap"
    );
    assert!(render(PagePath::Robots).contains("Sitemap: https://notes.example.org/sitemap.xml\n"));
}

/// Past the sitemap protocol's 50,000 URLs, `sitemap.xml` becomes an index of part files that
/// each list at most that many; when the site shrinks again the parts go away.
#[test]
fn a_sitemap_past_50000_urls_is_split_into_parts_and_joined_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::config();
    let site = Site::new(config.clone(), dir.path()).expect("config");
    let start = time::macros::datetime!(2020-01-01 00:00 UTC);
    // 34,000 posts at two a page: the home page, 16,999 older pages, the posts, the archive
    // and the tag index make 51,002 URLs.
    let posts: Vec<_> = (0..34_000i64)
        .map(|i| {
            let mut post = common::post(&format!("{i:05}"), &format!("p{i}"), &format!("Post {i}"), &[]);
            post.published_at = start + time::Duration::minutes(i);
            post.updated_at = post.published_at;
            post
        })
        .collect();
    let sitemap_only: BTreeSet<PagePath> = [PagePath::Sitemap].into();
    let report = site.write_pages(&sitemap_only, &posts).expect("write the sitemap");
    assert_eq!(
        report.written,
        [PagePath::Sitemap, PagePath::SitemapPart(1), PagePath::SitemapPart(2)]
    );
    let read = |file: &str| std::fs::read_to_string(dir.path().join(file)).expect(file);
    let index = xml::parse(&read("sitemap.xml"));
    assert_eq!(index[0].path, "sitemapindex");
    assert_eq!(
        xml::texts(&index, "sitemapindex/sitemap/loc"),
        [
            "https://notes.example.org/sitemap-1.xml",
            "https://notes.example.org/sitemap-2.xml"
        ]
    );
    let mut seen = HashSet::new();
    for (file, expected) in [("sitemap-1.xml", SITEMAP_MAX_URLS), ("sitemap-2.xml", 1_002)] {
        let part = xml::parse(&read(file));
        let locs = xml::texts(&part, "urlset/url/loc");
        assert_eq!(locs.len(), expected, "{file}");
        for loc in locs {
            assert!(seen.insert(loc.to_owned()), "{loc} listed twice");
        }
    }
    assert_eq!(seen.len(), 51_002);
    for post in &posts {
        assert!(seen.contains(&format!("https://notes.example.org/posts/{}/", post.slug)));
    }
    let all = PostIndex::new(&posts).all_pages(&config);
    assert!(all.contains(&PagePath::SitemapPart(2)) && !all.contains(&PagePath::SitemapPart(3)));

    // 33,000 posts: 49,502 URLs, one file again.
    let fewer = &posts[..33_000];
    let report = site.write_pages(&sitemap_only, fewer).expect("write the sitemap");
    assert_eq!(report.removed, [PagePath::SitemapPart(1), PagePath::SitemapPart(2)]);
    assert!(!dir.path().join("sitemap-1.xml").exists() && !dir.path().join("sitemap-2.xml").exists());
    let whole = xml::parse(&read("sitemap.xml"));
    assert_eq!(xml::texts(&whole, "urlset/url/loc").len(), 49_502);

    // A part no sitemap names any more (left by a crash, say) goes with the stale pages.
    std::fs::write(dir.path().join("sitemap-3.xml"), "stale").expect("write");
    let report = site.remove_stale(fewer).expect("remove stale pages");
    assert!(
        report.removed.contains(&PagePath::SitemapPart(3)),
        "{:?}",
        report.removed
    );
    assert!(!dir.path().join("sitemap-3.xml").exists());
}
