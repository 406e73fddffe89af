//! A catalog of classic XSS payloads, written into bodies, titles, tags and authors: none may
//! come out as active content in the post page or the feeds.

mod common;

use common::{html::assert_inert, xml};
use quire_render::{PagePath, PostInput, Site};

/// The catalog, shared with the editor's preview test (`integration-tests/browser/tests/preview.test.js`).
fn payloads() -> Vec<String> {
    serde_json::from_str(include_str!("xss-payloads.json")).expect("xss-payloads.json is a list of strings")
}

fn hostile_post(i: usize, body: &str) -> PostInput {
    let mut post = common::post(&format!("01XSS{i:02}"), &format!("xss-{i}"), "t", &[]);
    post.title = format!("<script>alert({i})</script>\"><img src=x onerror=alert(1)>");
    post.tags = vec![
        "\"><img src=x onerror=alert(1)>".into(),
        "<svg onload=alert(1)>".into(),
        "javascript:alert(1)".into(),
    ];
    post.author = "<b onmouseover=alert(1)>Mallory</b>".into();
    post.body_markdown = body.to_owned();
    post
}

#[test]
fn no_payload_survives_in_pages_or_feeds() {
    let site = Site::new(common::config(), "unused").expect("config");
    for (i, payload) in payloads().iter().enumerate() {
        let posts = vec![hostile_post(i, payload)];
        let render = |page: PagePath| {
            let bytes = site.render_page(&page, &posts).expect("render").expect("exists");
            String::from_utf8(bytes).expect("utf-8")
        };
        let context = format!("payload {i} {payload:?}");
        assert_inert(&render(PagePath::Post(format!("xss-{i}"))), &context);
        for page in [PagePath::Home, PagePath::Archive, PagePath::TagIndex] {
            assert_inert(&render(page.clone()), &format!("{context} on {page}"));
        }

        let atom = render(PagePath::AtomFeed);
        let elements = xml::parse(&atom);
        for content in xml::texts(&elements, "feed/entry/content") {
            assert_inert(content, &format!("{context} in Atom content"));
        }
        let title = xml::texts(&elements, "feed/entry/title");
        assert_eq!(title, [posts[0].title.as_str()], "titles are text, escaped once");

        let json: serde_json::Value = serde_json::from_str(&render(PagePath::JsonFeed)).expect("json");
        let html = json["items"][0]["content_html"].as_str().expect("content_html");
        assert_inert(html, &format!("{context} in JSON Feed"));
    }
}

#[test]
fn harmless_markup_survives_sanitizing() {
    let site = Site::new(common::config(), "unused").expect("config");
    let body = "<kbd>Ctrl</kbd> <abbr title=\"HyperText\">HTML</abbr> \
        <a href=\"https://example.org\">ok</a> <img src=\"/media/a.png\" alt=\"A\">";
    let posts = vec![hostile_post(0, body)];
    let page = site
        .render_page(&PagePath::Post("xss-0".into()), &posts)
        .expect("render")
        .expect("page");
    let page = String::from_utf8(page).expect("utf-8");
    assert!(page.contains("<kbd>Ctrl</kbd>"), "{page}");
    assert!(page.contains("<abbr title=\"HyperText\">HTML</abbr>"), "{page}");
    assert!(
        page.contains("<a href=\"https://example.org\" rel=\"noopener noreferrer\">ok</a>"),
        "{page}"
    );
    assert!(page.contains("<img src=\"/media/a.png\" alt=\"A\">"), "{page}");
}

#[test]
fn hostile_tags_get_safe_pages() {
    let site = Site::new(common::config(), "unused").expect("config");
    let posts = vec![hostile_post(0, "x")];
    let pages = quire_render::PostIndex::new(&posts).all_pages(site.config());
    let tags: Vec<&PagePath> = pages.iter().filter(|p| matches!(p, PagePath::Tag(_))).collect();
    assert_eq!(
        tags,
        [
            &PagePath::Tag("img-src-x-onerror-alert-1".into()),
            &PagePath::Tag("javascript-alert-1".into()),
            &PagePath::Tag("svg-onload-alert-1".into()),
        ]
    );
    for tag in tags {
        let html = site.render_page(tag, &posts).expect("render").expect("page");
        assert_inert(&String::from_utf8(html).expect("utf-8"), &format!("{tag}"));
    }
}

#[test]
fn the_checker_itself_catches_active_content() {
    let bad = [
        "<script>x</script>",
        "<img src=x onerror=alert(1)>",
        "<a href=\" javascript:alert(1)\">x</a>",
        "<a href='data:text/html,x'>x</a>",
        "<p style=\"color:red\">x</p>",
        "<svg></svg>",
        "<link rel=stylesheet href=https://evil.example/x.css>",
        "<img alt=\"a>b\" onload=x>",
    ];
    for html in bad {
        let caught = std::panic::catch_unwind(|| assert_inert(html, "self-test")).is_err();
        assert!(caught, "not caught: {html}");
    }
    assert_inert(
        "<p title=\"onclick=x\">javascript:alert(1) &lt;script&gt;</p>",
        "text is fine",
    );
}

#[test]
fn sanitized_examples_read_sensibly() {
    let md = quire_render::Markdown::new();
    let cases = [
        ("<p onmouseover=alert(1)>hover</p>", "<p>hover</p>"),
        ("[click](javascript:alert(1))", "<p><a rel=\"noopener noreferrer\">click</a></p>\n"),
        ("<img src=x onerror=alert(1)>", "<img src=\"x\">"),
        (
            "Visit https://example.org/\"onmouseover=\"alert(1) now",
            "<p>Visit <a href=\"https://example.org/%22onmouseover=%22alert(1)\" rel=\"noopener noreferrer\">https://example.org/\"onmouseover=\"alert(1)</a> now</p>\n",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(md.to_html(input), expected, "{input}");
    }
}
