//! Snapshot tests of every kind of page for a fixed set of posts and a fixed clock.

mod common;

use quire_render::{PagePath, Site};

fn render(page: PagePath) -> String {
    let site = Site::new(common::config(), "unused").expect("valid config");
    let bytes = site
        .render_page(&page, &common::posts())
        .expect("renders")
        .unwrap_or_else(|| panic!("{page} should exist"));
    String::from_utf8(bytes).expect("utf-8")
}

/// Pages are one long line from maud; break after tags so snapshots diff well.
fn pretty(html: String) -> String {
    html.replace("><", ">\n<")
}

#[test]
fn home_page() {
    insta::assert_snapshot!(pretty(render(PagePath::Home)));
}

#[test]
fn second_home_page() {
    insta::assert_snapshot!(pretty(render(PagePath::Page(1))));
}

#[test]
fn post_page() {
    insta::assert_snapshot!(pretty(render(PagePath::Post("hello-rust".into()))));
}

#[test]
fn redirect_page() {
    insta::assert_snapshot!(pretty(render(PagePath::Post("hello-world".into()))));
}

#[test]
fn tag_page() {
    insta::assert_snapshot!(pretty(render(PagePath::Tag("rust".into()))));
}

#[test]
fn tag_index_page() {
    insta::assert_snapshot!(pretty(render(PagePath::TagIndex)));
}

#[test]
fn archive_page() {
    insta::assert_snapshot!(pretty(render(PagePath::Archive)));
}

#[test]
fn not_found_page() {
    insta::assert_snapshot!(pretty(render(PagePath::NotFound)));
}

#[test]
fn atom_feed() {
    insta::assert_snapshot!(render(PagePath::AtomFeed));
}

#[test]
fn json_feed() {
    insta::assert_snapshot!(render(PagePath::JsonFeed));
}

#[test]
fn sitemap() {
    insta::assert_snapshot!(render(PagePath::Sitemap));
}

#[test]
fn robots() {
    insta::assert_snapshot!(render(PagePath::Robots));
}

#[test]
fn pages_that_should_not_exist_render_to_none() {
    let site = Site::new(common::config(), "unused").expect("valid config");
    let posts = common::posts();
    for page in [
        PagePath::Page(2),
        PagePath::Page(0),
        PagePath::Post("nope".into()),
        PagePath::Tag("nope".into()),
        PagePath::CustomCss,
    ] {
        assert_eq!(site.render_page(&page, &posts).expect("renders"), None, "{page}");
    }
}

#[test]
fn links_honor_a_base_url_with_a_path() {
    let mut config = common::config();
    config.base_url = "https://example.org/blog".into();
    config.custom_css = Some("body { color: rebeccapurple; }".into());
    let site = Site::new(config, "unused").expect("valid config");
    let html = site
        .render_page(&PagePath::Post("hello-rust".into()), &common::posts())
        .expect("renders")
        .expect("exists");
    let html = String::from_utf8(html).expect("utf-8");
    for expected in [
        r#"<link rel="stylesheet" href="/blog/style.css">"#,
        r#"<link rel="stylesheet" href="/blog/custom.css">"#,
        r#"<a class="site-title" href="/blog/">"#,
        r#"<a class="p-category" href="/blog/tags/rust/" rel="tag">"#,
        r#"<link rel="canonical" href="https://example.org/blog/posts/hello-rust/">"#,
    ] {
        assert!(html.contains(expected), "{expected} in {html}");
    }
    // The archive builds its posts' links itself: the same links, the same base.
    let archive = site
        .render_page(&PagePath::Archive, &common::posts())
        .expect("renders")
        .expect("exists");
    let archive = String::from_utf8(archive).expect("utf-8");
    for slug in ["spring-garden", "hello-rust", "old-notes", "first-post"] {
        let expected = format!(r#"href="/blog/posts/{slug}/">"#);
        assert!(archive.contains(&expected), "{expected} in {archive}");
    }
}
