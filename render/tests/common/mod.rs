//! The fixed site the integration tests render: four posts, a fixed clock.

#![allow(dead_code)]

use quire_render::{NavLink, PostInput, SiteConfig};
use time::macros::datetime;

pub fn config() -> SiteConfig {
    SiteConfig {
        title: "Field Notes".into(),
        description: "Notes from the field & elsewhere.".into(),
        base_url: "https://notes.example.org/".into(),
        author: "Ada Example".into(),
        language: "en".into(),
        nav: vec![
            NavLink {
                label: "About".into(),
                url: "/about/".into(),
            },
            NavLink {
                label: "Bad".into(),
                url: "javascript:alert(1)".into(),
            },
        ],
        custom_css: None,
        page_size: 2,
        feed_size: 3,
    }
}

pub fn post(id: &str, slug: &str, title: &str, tags: &[&str]) -> PostInput {
    PostInput {
        id: id.into(),
        slug: slug.into(),
        title: title.into(),
        body_markdown: format!("Body of *{title}*.\n\nSecond paragraph."),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        published_at: datetime!(2024-03-01 09:00 UTC),
        updated_at: datetime!(2024-03-01 09:00 UTC),
        author: String::new(),
        old_slugs: Vec::new(),
        properties: Default::default(),
        body_key: None,
        lead: None,
    }
}

/// Newest first: spring-garden, hello-rust, old-notes (2023), first-post (2023).
pub fn posts() -> Vec<PostInput> {
    let mut hello = post(
        "01HELLO",
        "hello-rust",
        "Hello, Rust & <friends>",
        &["Rust", "Programming"],
    );
    hello.body_markdown = "## Why Rust\n\nFast *and* safe.[^1]\n\n\
        | Language | Year |\n|:---|---:|\n| Rust | 2015 |\n\n\
        - [x] install\n- [ ] learn\n\n```rust\nfn main() {}\n```\n\n\
        See https://www.rust-lang.org.\n\n[^1]: Mostly.\n"
        .into();
    hello.published_at = datetime!(2024-05-10 08:30 +02:00);
    hello.updated_at = datetime!(2024-05-12 18:00 +02:00);
    hello.old_slugs = vec!["hello-world".into()];

    let mut garden = post("01GARDEN", "spring-garden", "Spring garden", &["Garden"]);
    garden.published_at = datetime!(2024-06-01 07:00 UTC);
    garden.updated_at = garden.published_at;
    garden.author = "Grace Gardener".into();

    let mut notes = post("01NOTES", "old-notes", "Old notes", &["Programming", "rust"]);
    notes.published_at = datetime!(2023-11-20 12:00 UTC);
    notes.updated_at = notes.published_at;

    let mut first = post("01FIRST", "first-post", "First post", &[]);
    first.published_at = datetime!(2023-01-02 10:00 UTC);
    first.updated_at = first.published_at;
    vec![first, hello, notes, garden]
}

pub mod html;
pub mod xml;
