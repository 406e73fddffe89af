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

/// Records which bodies were read, by thread, in order.
struct Recorder(std::sync::Mutex<Vec<(std::thread::ThreadId, u64)>>);

impl Bodies for Recorder {
    fn body(&self, key: u64) -> Result<String, String> {
        if let Ok(mut reads) = self.0.lock() {
            reads.push((std::thread::current().id(), key));
        }
        Ok(format!("Body {key}."))
    }
}

/// The post pages are rendered in the order their bodies went into the log, not in slug order:
/// each writer thread reads its stretch of the log forwards.
#[test]
fn post_pages_read_their_bodies_in_log_order() {
    let n = 64_u64;
    let posts: Vec<PostInput> = (0..n)
        .map(|key| {
            // Slug order is unrelated to log order.
            let slug = format!("post-{:03}", (key * 37) % n);
            let mut post = common::post(&format!("01P{key:03}"), &slug, &slug, &[]);
            post.body_markdown = String::new();
            post.body_key = Some(key);
            post.lead = Some(Lead::of(&format!("Body {key}.")));
            post
        })
        .collect();
    let out = tempfile::tempdir().expect("tempdir");
    let site = Site::new(common::config(), out.path()).expect("config");
    let pages = posts.iter().map(|p| PagePath::Post(p.slug.clone())).collect();
    let recorder = Recorder(std::sync::Mutex::new(Vec::new()));
    site.write_pages_with(&pages, &posts, &recorder).expect("renders");
    let reads = recorder.0.into_inner().expect("reads");
    let mut keys: Vec<u64> = reads.iter().map(|&(_, key)| key).collect();
    keys.sort_unstable();
    assert_eq!(keys, (0..n).collect::<Vec<_>>(), "each body read once");
    let mut by_thread: HashMap<std::thread::ThreadId, Vec<u64>> = HashMap::new();
    for (thread, key) in reads {
        by_thread.entry(thread).or_default().push(key);
    }
    for keys in by_thread.values() {
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "a thread read {keys:?}");
        assert!(
            keys.windows(2).all(|w| w[1] == w[0] + 1),
            "a thread skipped around: {keys:?}"
        );
    }

    // The order itself: the posts' pages first, in log order, then the rest.
    let index = PostIndex::new(&posts);
    let mut all: Vec<PagePath> = index.all_pages(site.config()).into_iter().collect();
    index.sort_for_reading(&mut all);
    let post_keys: Vec<u64> = all
        .iter()
        .map_while(|p| match p {
            PagePath::Post(slug) => index.post(slug).and_then(|p| p.body_key),
            _ => None,
        })
        .collect();
    assert_eq!(post_keys, (0..n).collect::<Vec<_>>());
    assert!(all[n as usize..].iter().all(|p| !matches!(p, PagePath::Post(_))));
}
