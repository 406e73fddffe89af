//! Which pages a change of one post touches, so that a projection can re-render a handful of
//! files per event instead of the whole site.

use std::collections::BTreeSet;

use crate::index::{home_page_count, newest_first, post_tags};
use crate::model::{PostInput, SiteConfig};
use crate::paths::{is_valid_slug, PagePath};

/// The pages to re-render (or remove) after one post changed.
///
/// `before` is the post as it was published before the change (`None` if it was not
/// published), `after` as it is published now (`None` if it was deleted or unpublished), and
/// `all_posts` the published posts *after* the change. The result holds the post's page and
/// redirect pages under its old and new slugs, its old and new tags' pages, the home pages
/// whose content shifts, the archive, the tag index, the sitemap and — when the post is among
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
    let before = before.filter(|p| is_valid_slug(&p.slug));
    let after = after.filter(|p| is_valid_slug(&p.slug));
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

    let changed: Vec<&str> = before.iter().chain(after.iter()).map(|p| p.id.as_str()).collect();
    let others: Vec<&PostInput> = all_posts
        .iter()
        .filter(|p| is_valid_slug(&p.slug) && !changed.contains(&p.id.as_str()))
        .collect();
    let position = |post: &PostInput| others.iter().filter(|o| newest_first(o, post).is_lt()).count();
    let old_pos = before.map(position);
    let new_pos = after.map(position);

    if [old_pos, new_pos].iter().flatten().any(|&p| p < config.feed_size) {
        pages.extend([PagePath::AtomFeed, PagePath::JsonFeed]);
    }
    pages.extend(home_pages(config.page_size, others.len(), old_pos, new_pos));
    pages
}

/// The home pages whose list changes when a post moves from `old_pos` to `new_pos` among
/// `others` posts that did not change (`None`: not in that list).
fn home_pages(
    page_size: usize,
    others: usize,
    old_pos: Option<usize>,
    new_pos: Option<usize>,
) -> impl Iterator<Item = PagePath> {
    let page_size = page_size.max(1);
    let page_of = |pos: usize| pos / page_size + 1;
    let old_last = home_page_count(others + usize::from(old_pos.is_some()), page_size);
    let new_last = home_page_count(others + usize::from(new_pos.is_some()), page_size);
    let (first, last) = match (old_pos, new_pos) {
        // Moved or edited in place: only the posts between the two positions shift.
        (Some(a), Some(b)) => (page_of(a.min(b)), page_of(a.max(b))),
        // Added or removed: every later post shifts by one, and the last page may appear or
        // vanish (and the page before it gain or lose its "older" link).
        (Some(p), None) | (None, Some(p)) => (page_of(p).min(old_last.min(new_last)), old_last.max(new_last)),
        (None, None) => (1, 0),
    };
    (first..=last).map(PagePath::Home)
}
