//! The published posts arranged the ways the pages need them: newest first, by slug, by old
//! slug, by tag. Built once per render so that rendering one page costs what that page shows,
//! not a sort of the whole site.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::{PostInput, SiteConfig};
use crate::pagination::older_page_count;
use crate::paths::{is_valid_slug, tag_slug, PagePath};

/// The newest-first order of every list of the site; ties broken by id so the order is stable.
pub(crate) fn newest_first(a: &PostInput, b: &PostInput) -> Ordering {
    b.published_at.cmp(&a.published_at).then_with(|| a.id.cmp(&b.id))
}

/// One tag as the site shows it.
#[derive(Debug, Clone)]
pub struct TagEntry<'a> {
    /// The spelling used on the tag's page: the one of its newest post.
    pub name: &'a str,
    /// Positions in [`PostIndex::posts`], newest first.
    pub posts: Vec<usize>,
}

/// The published posts, indexed for rendering.
#[derive(Debug, Clone)]
pub struct PostIndex<'a> {
    posts: Vec<&'a PostInput>,
    by_slug: HashMap<&'a str, usize>,
    redirects: HashMap<&'a str, usize>,
    tags: BTreeMap<String, TagEntry<'a>>,
    skipped: Vec<&'a PostInput>,
}

impl<'a> PostIndex<'a> {
    /// Indexes `posts`, which must all be published. Posts whose slug cannot name a folder
    /// (see [`is_valid_slug`]) are left out and listed by [`PostIndex::skipped`].
    pub fn new(posts: &'a [PostInput]) -> Self {
        let (mut valid, skipped): (Vec<&PostInput>, Vec<&PostInput>) =
            posts.iter().partition(|p| is_valid_slug(&p.slug));
        // The same order as `newest_first`, with the instants computed once per post.
        valid.sort_by_cached_key(|p| (Reverse(p.published_at.unix_timestamp_nanos()), p.id.as_str()));
        let mut by_slug = HashMap::with_capacity(valid.len());
        for (i, post) in valid.iter().enumerate() {
            by_slug.entry(post.slug.as_str()).or_insert(i);
        }
        let mut redirects = HashMap::new();
        let mut tags: BTreeMap<String, TagEntry<'a>> = BTreeMap::new();
        // Sites use a few dozen tags on thousands of posts: slugify each spelling once.
        let mut slugs: HashMap<&'a str, Option<String>> = HashMap::new();
        for (i, post) in valid.iter().enumerate() {
            for old in &post.old_slugs {
                if is_valid_slug(old) && !by_slug.contains_key(old.as_str()) {
                    redirects.entry(old.as_str()).or_insert(i);
                }
            }
            let post: &'a PostInput = post;
            let slug_of = |tag: &'a String| slugs.entry(tag.as_str()).or_insert_with(|| tag_slug(tag)).clone();
            for (slug, name) in tags_with(post, slug_of) {
                let entry = tags.entry(slug).or_insert_with(|| TagEntry {
                    name,
                    posts: Vec::new(),
                });
                entry.posts.push(i);
            }
        }
        PostIndex {
            posts: valid,
            by_slug,
            redirects,
            tags,
            skipped,
        }
    }

    /// The posts, newest first.
    pub fn posts(&self) -> &[&'a PostInput] {
        &self.posts
    }

    /// The post whose current slug is `slug`.
    pub fn post(&self, slug: &str) -> Option<&'a PostInput> {
        self.by_slug.get(slug).map(|&i| self.posts[i])
    }

    /// The post an old slug redirects to, unless a post uses that slug now.
    pub fn redirect(&self, old_slug: &str) -> Option<&'a PostInput> {
        self.redirects.get(old_slug).map(|&i| self.posts[i])
    }

    /// Every tag by slug, in slug order.
    pub fn tags(&self) -> &BTreeMap<String, TagEntry<'a>> {
        &self.tags
    }

    /// Orders `pages` for rendering: the posts' own pages first, in the order their bodies went
    /// into the log ([`PostInput::body_key`]), then every other page; each group otherwise keeps
    /// its order. Each body read back then follows the one before it in the log, whose cache
    /// keeps only the part being read; in slug order a full render reads the log at random.
    pub fn sort_for_reading<P: std::borrow::Borrow<PagePath>>(&self, pages: &mut [P]) {
        pages.sort_by_cached_key(|page| match page.borrow() {
            PagePath::Post(slug) => (false, self.post(slug).and_then(|post| post.body_key).unwrap_or(0)),
            _ => (true, 0),
        });
    }

    /// Posts left out because their slug is unusable.
    pub fn skipped(&self) -> &[&'a PostInput] {
        &self.skipped
    }

    /// Every page the site consists of for these posts.
    pub fn all_pages(&self, config: &SiteConfig) -> BTreeSet<PagePath> {
        let mut pages: BTreeSet<PagePath> = [
            PagePath::TagIndex,
            PagePath::Archive,
            PagePath::AtomFeed,
            PagePath::JsonFeed,
            PagePath::Sitemap,
            PagePath::Robots,
            PagePath::NotFound,
            PagePath::Stylesheet,
        ]
        .into();
        if config.custom_css.is_some() {
            pages.insert(PagePath::CustomCss);
        }
        pages.insert(PagePath::Home);
        let older = older_page_count(self.posts.len(), config.page_size);
        pages.extend((1..=older).map(PagePath::Page));
        pages.extend(self.by_slug.keys().map(|s| PagePath::Post((*s).to_owned())));
        pages.extend(self.redirects.keys().map(|s| PagePath::Post((*s).to_owned())));
        pages.extend(self.tags.keys().map(|s| PagePath::Tag(s.clone())));
        pages.extend((1..=crate::feeds::sitemap_parts(config, self)).map(PagePath::SitemapPart));
        pages
    }
}

/// A post's tags as `(slug, name)`, one per slug, in the author's order.
pub(crate) fn post_tags(post: &PostInput) -> Vec<(String, &str)> {
    tags_with(post, |tag| tag_slug(tag))
}

/// [`post_tags`] with `slug_of` to find a tag's slug.
fn tags_with<'a>(post: &'a PostInput, mut slug_of: impl FnMut(&'a String) -> Option<String>) -> Vec<(String, &'a str)> {
    let mut seen = Vec::new();
    for tag in &post.tags {
        if let Some(slug) = slug_of(tag) {
            if !seen.iter().any(|(s, _)| *s == slug) {
                seen.push((slug, tag.trim()));
            }
        }
    }
    seen
}
