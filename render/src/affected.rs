//! Which pages a change of one post touches, so that a projection can re-render a handful of
//! files per event instead of the whole site.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use crate::index::{newest_first, post_tags};
use crate::model::{PostInput, SiteConfig};
use crate::pagination;
use crate::paths::{is_valid_slug, PagePath};

/// The pages to re-render (or remove) after one post changed.
///
/// `before` is the post as it was published before the change (`None` if it was not
/// published), `after` as it is published now (`None` if it was deleted or unpublished), and
/// `all_posts` the published posts *after* the change. The result holds the post's page and
/// redirect pages under its old and new slugs, its old and new tags' pages, the list pages
/// whose content or links change (for a new post usually the home page alone), the archive,
/// the tag index, the sitemap and — when the post is among
/// the newest `feed_size` — the feeds. Other posts' pages never depend on this post, so they are
/// never included. Pages in the result that should no longer exist render to `None`.
///
/// A change of [`SiteConfig`] touches every page: use [`crate::Site::render_all`] then.
pub fn affected_pages(
    config: &SiteConfig,
    before: Option<&PostInput>,
    after: Option<&PostInput>,
    all_posts: &[PostInput],
) -> BTreeSet<PagePath> {
    affected(config, before, after, |before, after| {
        // One pass over the other posts: count them and how many are newer than `before` and
        // `after` (the rest are older), allocating nothing.
        let changed = |p: &PostInput| before.is_some_and(|b| b.id == p.id) || after.is_some_and(|a| a.id == p.id);
        let (mut others, mut old_newer, mut new_newer) = (0, 0, 0);
        for post in all_posts.iter().filter(|p| !changed(p) && is_valid_slug(&p.slug)) {
            others += 1;
            old_newer += usize::from(before.is_some_and(|b| newest_first(post, b).is_lt()));
            new_newer += usize::from(after.is_some_and(|a| newest_first(post, a).is_lt()));
        }
        Ranks {
            others,
            old_newer: before.map(|_| old_newer),
            new_newer: after.map(|_| new_newer),
        }
    })
}

/// [`affected_pages`] for a caller that keeps the published posts in a [`PostOrder`] (`order`,
/// as it is *after* the change): the same pages, without a pass over every post.
pub fn affected_pages_ordered(
    config: &SiteConfig,
    before: Option<&PostInput>,
    after: Option<&PostInput>,
    order: &PostOrder,
) -> BTreeSet<PagePath> {
    affected(config, before, after, |before, after| {
        // `after` is in the order (it is published with a valid slug); `before` is not.
        let old_newer = before.map(|b| {
            let after_is_newer = after.is_some_and(|a| newest_first(a, b).is_lt());
            order.newer_than(b).saturating_sub(usize::from(after_is_newer))
        });
        Ranks {
            others: order.len().saturating_sub(usize::from(after.is_some())),
            old_newer,
            new_newer: after.map(|a| order.newer_than(a)),
        }
    })
}

/// The pages of a change: the post's own ones, then the lists at the ranks `rank` finds for
/// `before` and `after` (each `None` unless published with a valid slug).
fn affected<'a>(
    config: &SiteConfig,
    before: Option<&'a PostInput>,
    after: Option<&'a PostInput>,
    rank: impl FnOnce(Option<&'a PostInput>, Option<&'a PostInput>) -> Ranks,
) -> BTreeSet<PagePath> {
    let before = before.filter(|p| is_valid_slug(&p.slug));
    let after = after.filter(|p| is_valid_slug(&p.slug));
    let mut pages = post_pages(before, after);
    if !pages.is_empty() {
        pages.extend(list_pages(config, rank(before, after)));
    }
    pages
}

/// Where the changed post stands among the other published posts.
struct Ranks {
    /// How many other posts there are.
    others: usize,
    /// How many of them are newer than the post before the change, and after it.
    old_newer: Option<usize>,
    new_newer: Option<usize>,
}

/// The lists, feeds and pages a change at `ranks` touches.
fn list_pages(config: &SiteConfig, ranks: Ranks) -> BTreeSet<PagePath> {
    let Ranks {
        others,
        old_newer,
        new_newer,
    } = ranks;
    let mut pages = BTreeSet::new();
    if [old_newer, new_newer].iter().flatten().any(|&n| n < config.feed_size) {
        pages.extend([PagePath::AtomFeed, PagePath::JsonFeed]);
    }
    let oldest_first = |n: usize| others.saturating_sub(n);
    pages.extend(pagination::affected(
        config.page_size,
        others,
        old_newer.map(oldest_first),
        new_newer.map(oldest_first),
    ));
    pages
}

/// The changed post's own pages (under its old and new slugs), its tags' pages and the pages
/// that list every post; empty when it was and is not published.
fn post_pages(before: Option<&PostInput>, after: Option<&PostInput>) -> BTreeSet<PagePath> {
    let mut pages = BTreeSet::new();
    if before.is_none() && after.is_none() {
        return pages;
    }
    for post in before.iter().chain(after.iter()) {
        pages.insert(PagePath::Post(post.slug.clone()));
        for old in post.old_slugs.iter().filter(|s| is_valid_slug(s)) {
            pages.insert(PagePath::Post(old.clone()));
        }
        pages.extend(post_tags(post).into_iter().map(|(s, _)| PagePath::Tag(s)));
    }
    pages.extend([PagePath::TagIndex, PagePath::Archive, PagePath::Sitemap]);
    pages
}

/// The published posts with a valid slug, oldest first, so that [`affected_pages_ordered`]
/// finds how many posts are newer than one with a binary search. A new post usually goes at
/// the end.
#[derive(Debug, Default, Clone)]
pub struct PostOrder {
    /// `newest_first`'s order reversed: the instant, then the id backwards.
    keys: Vec<(i128, Reverse<String>)>,
}

impl PostOrder {
    fn key(post: &PostInput) -> (i128, Reverse<String>) {
        (post.published_at.unix_timestamp_nanos(), Reverse(post.id.clone()))
    }

    /// Adds a published post (nothing if its slug is not valid, or it is there already).
    pub fn insert(&mut self, post: &PostInput) {
        if is_valid_slug(&post.slug) {
            let key = Self::key(post);
            if let Err(at) = self.keys.binary_search(&key) {
                self.keys.insert(at, key);
            }
        }
    }

    /// Removes a post as it was inserted (nothing if it is not there).
    pub fn remove(&mut self, post: &PostInput) {
        if let Ok(at) = self.keys.binary_search(&Self::key(post)) {
            self.keys.remove(at);
        }
    }

    /// How many posts of the order are newer than `post`.
    pub fn newer_than(&self, post: &PostInput) -> usize {
        let key = Self::key(post);
        self.keys.len() - self.keys.partition_point(|k| *k <= key)
    }

    /// How many posts the order holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}
