//! The feeds follow their specifications: JSON Feed 1.1 structure, well-formed Atom with the
//! required elements, a sitemap search engines accept.

mod common;

use common::xml;
use quire_render::{PagePath, Site};

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
