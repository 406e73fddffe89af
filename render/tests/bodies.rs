//! Posts whose bodies the caller keeps elsewhere ([`PostInput::body_key`] and a [`Bodies`]):
//! every page is the same as for posts that carry their bodies, and a body that cannot be read
//! is an error, never a page with the body missing.

mod common;

use std::collections::HashMap;

use quire_render::{Bodies, Error, Lead, PagePath, PostIndex, PostInput, Site};

/// Bodies by key, as a caller's store would keep them.
struct Kept(HashMap<u64, String>);

impl Bodies for Kept {
    fn body(&self, key: u64) -> Result<String, String> {
        self.0.get(&key).cloned().ok_or_else(|| format!("no body {key}"))
    }
}

/// `posts` with their bodies taken out into a [`Kept`].
fn taken_out(posts: &[PostInput]) -> (Vec<PostInput>, Kept) {
    let mut kept = HashMap::new();
    let light = posts
        .iter()
        .zip(100_u64..)
        .map(|(post, key)| {
            kept.insert(key, post.body_markdown.clone());
            PostInput {
                body_markdown: String::new(),
                body_key: Some(key),
                lead: Some(Lead::of(&post.body_markdown)),
                ..post.clone()
            }
        })
        .collect();
    (light, Kept(kept))
}

#[test]
fn every_page_is_the_same_with_bodies_kept_elsewhere() {
    let mut posts = common::posts();
    let mut note = common::post("01NOTE", "a-note", "", &["Garden"]);
    note.body_markdown = "A note without a title, long enough that its derived title is cut somewhere. ".repeat(5);
    posts.push(note);
    let (light, kept) = taken_out(&posts);
    let site = Site::new(common::config(), "unused").expect("config");
    let (whole, light_index) = (PostIndex::new(&posts), PostIndex::new(&light));
    let pages = whole.all_pages(site.config());
    assert!(pages.contains(&PagePath::Post("a-note".into())) && pages.contains(&PagePath::AtomFeed));
    for page in &pages {
        let expected = site.render_page(page, &posts).expect("renders");
        let got = site.render_page_with(page, &light_index, &kept).expect("renders");
        assert!(got == expected, "{page} differs");
    }
}

#[test]
fn a_body_that_cannot_be_read_is_an_error() {
    let (light, _) = taken_out(&common::posts());
    let site = Site::new(common::config(), "unused").expect("config");
    let index = PostIndex::new(&light);
    let nothing = Kept(HashMap::new());
    for page in [
        PagePath::Post("hello-rust".into()),
        PagePath::AtomFeed,
        PagePath::JsonFeed,
    ] {
        let result = site.render_page_with(&page, &index, &nothing);
        assert!(matches!(result, Err(Error::Body { .. })), "{page}: {result:?}");
    }
    // The lists show the leads only: no body is read for them.
    assert!(site
        .render_page_with(&PagePath::Home, &index, &nothing)
        .expect("renders")
        .is_some());
    assert!(site
        .render_page_with(&PagePath::Archive, &index, &nothing)
        .expect("renders")
        .is_some());
}
