//! Which pages a change of one post touches, so that a projection can re-render a handful of
//! files per event instead of the whole site.

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
    // How many unchanged posts are newer than `post`; the rest are older.
    let newer = |post: &PostInput| others.iter().filter(|o| newest_first(o, post).is_lt()).count();
    let old_newer = before.map(newer);
    let new_newer = after.map(newer);

    if [old_newer, new_newer].iter().flatten().any(|&n| n < config.feed_size) {
        pages.extend([PagePath::AtomFeed, PagePath::JsonFeed]);
    }
    let oldest_first = |n: usize| others.len() - n;
    pages.extend(pagination::affected(
        config.page_size,
        others.len(),
        old_newer.map(oldest_first),
        new_newer.map(oldest_first),
    ));
    pages
}
