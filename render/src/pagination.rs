//! Stable pagination of the post list.
//!
//! Posts are cut into buckets of `page_size` counted from the *oldest*: bucket `n` (from 1)
//! holds the posts `(n-1)·p .. n·p-1` in oldest-first order. Every full bucket but the newest
//! has a page of its own, `/page/<n>/`; the home page `/` shows the newest full bucket with the
//! remainder, so between `p` and `2p-1` posts (fewer only while the site has fewer than `p`).
//! Each list shows its posts newest first.
//!
//! Counting from the oldest keeps an old page's address and content fixed while posts are
//! published: a new post changes `/` only, and every `p` posts one bucket moves from `/` to a
//! new page of its own. Only a change among old posts (an edit, or a removal or back-dated post
//! shifting the buckets after it) touches older pages.

use std::collections::BTreeSet;
use std::ops::Range;

use crate::paths::PagePath;

/// The number of pages of their own (`/page/1/` …) for `count` posts.
pub(crate) fn older_page_count(count: usize, page_size: usize) -> usize {
    (count / page_size.max(1)).saturating_sub(1)
}

/// The posts a list page shows, as positions in the *newest-first* list of `count` posts;
/// `None` for a page that does not exist.
pub(crate) fn shown(page: &PagePath, count: usize, page_size: usize) -> Option<Range<usize>> {
    let p = page_size.max(1);
    let older = older_page_count(count, p);
    match *page {
        PagePath::Home => Some(0..count - older * p),
        PagePath::Page(n) if (1..=older).contains(&n) => Some(count - n * p..count - (n - 1) * p),
        _ => None,
    }
}

/// The list pages a list page links to as `(newer, older)`.
pub(crate) fn neighbours(page: &PagePath, count: usize, page_size: usize) -> (Option<PagePath>, Option<PagePath>) {
    let older = older_page_count(count, page_size);
    match *page {
        PagePath::Home => (None, (older >= 1).then_some(PagePath::Page(older))),
        PagePath::Page(n) => {
            let newer = if n < older {
                PagePath::Page(n + 1)
            } else {
                PagePath::Home
            };
            (Some(newer), (n > 1).then(|| PagePath::Page(n - 1)))
        }
        _ => (None, None),
    }
}

/// The list pages that change when one post moves from oldest-first position `old_pos` to
/// `new_pos` among `others` posts that did not change (`None`: not in the list then).
pub(crate) fn affected(
    page_size: usize,
    others: usize,
    old_pos: Option<usize>,
    new_pos: Option<usize>,
) -> BTreeSet<PagePath> {
    let p = page_size.max(1);
    let mut pages = BTreeSet::new();
    // The positions (of the whole list, before or after) whose post differs.
    let (lo, hi) = match (old_pos, new_pos) {
        (Some(a), Some(b)) => (a.min(b), a.max(b)),
        // Added or removed: every newer post shifts by one place.
        (Some(a), None) | (None, Some(a)) => (a, others),
        (None, None) => return pages,
    };
    let before = older_page_count(others + usize::from(old_pos.is_some()), p);
    let after = older_page_count(others + usize::from(new_pos.is_some()), p);
    for older in [before, after] {
        if lo / p < older {
            pages.extend((lo / p + 1..=(hi / p).min(older - 1) + 1).map(PagePath::Page));
        }
        if hi >= older * p {
            pages.insert(PagePath::Home);
        }
    }
    if before != after {
        // A page appears or vanishes; the one before it and the home page relink.
        pages.insert(PagePath::Home);
        pages.extend((before.min(after).max(1)..=before.max(after)).map(PagePath::Page));
    }
    pages
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home() -> BTreeSet<PagePath> {
        [PagePath::Home].into()
    }

    #[test]
    fn home_holds_the_newest_bucket_and_the_remainder() {
        let p = 10;
        for (count, home_len, older) in [(0, 0, 0), (9, 9, 0), (10, 10, 0), (19, 19, 0), (20, 10, 1), (35, 15, 2)] {
            assert_eq!(shown(&PagePath::Home, count, p), Some(0..home_len), "{count}");
            assert_eq!(older_page_count(count, p), older, "{count}");
            assert_eq!(shown(&PagePath::Page(older + 1), count, p), None, "{count}");
        }
        assert_eq!(shown(&PagePath::Page(1), 35, p), Some(25..35), "the oldest ten");
        assert_eq!(shown(&PagePath::Page(2), 35, p), Some(15..25));
        assert_eq!(shown(&PagePath::Page(0), 35, p), None);
    }

    #[test]
    fn links_run_from_home_down_to_page_one() {
        assert_eq!(neighbours(&PagePath::Home, 35, 10), (None, Some(PagePath::Page(2))));
        assert_eq!(
            neighbours(&PagePath::Page(2), 35, 10),
            (Some(PagePath::Home), Some(PagePath::Page(1)))
        );
        assert_eq!(neighbours(&PagePath::Page(1), 35, 10), (Some(PagePath::Page(2)), None));
        assert_eq!(neighbours(&PagePath::Home, 19, 10), (None, None));
    }

    #[test]
    fn publishing_touches_home_and_at_most_one_new_page() {
        // A new newest post among `others` sits at oldest-first position `others`.
        assert_eq!(affected(10, 0, None, Some(0)), home());
        assert_eq!(affected(10, 18, None, Some(18)), home());
        assert_eq!(
            affected(10, 19, None, Some(19)),
            [PagePath::Home, PagePath::Page(1)].into()
        );
        assert_eq!(affected(10, 20, None, Some(20)), home());
        // Page 998 now links to page 999 as its newer neighbour, no longer to the home page.
        let crossing = [PagePath::Home, PagePath::Page(998), PagePath::Page(999)];
        assert_eq!(affected(10, 9_999, None, Some(9_999)), crossing.into());
        assert_eq!(affected(10, 10_000, None, Some(10_000)), home());
    }

    #[test]
    fn an_old_edit_touches_its_page_and_a_removal_everything_newer() {
        assert_eq!(affected(10, 99, Some(42), Some(42)), [PagePath::Page(5)].into());
        assert_eq!(affected(10, 99, Some(95), Some(95)), home());
        let removed = affected(10, 99, Some(42), None);
        assert_eq!(
            removed,
            [5, 6, 7, 8, 9].map(PagePath::Page).into_iter().chain(home()).collect()
        );
        // 100 → 99 posts: page 9 goes, its posts join the home page, page 8 relinks.
        let removed = affected(10, 99, Some(95), None);
        assert_eq!(removed, [PagePath::Home, PagePath::Page(8), PagePath::Page(9)].into());
        let moved = affected(10, 99, Some(12), Some(31));
        assert_eq!(moved, [2, 3, 4].map(PagePath::Page).into());
    }
}
