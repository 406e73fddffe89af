//! Incremental rendering: `affected_pages` names the right pages, and applying changes one at a
//! time leaves the folder exactly as a full rebuild would, written atomically and only where
//! bytes changed.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use quire_render::{affected_pages, affected_pages_ordered, PagePath, PostInput, PostOrder, Site};
use time::macros::datetime;

fn post_pages(pages: &BTreeSet<PagePath>) -> Vec<&str> {
    pages
        .iter()
        .filter_map(|p| match p {
            PagePath::Post(slug) => Some(slug.as_str()),
            _ => None,
        })
        .collect()
}

fn find<'a>(posts: &'a mut [PostInput], id: &str) -> &'a mut PostInput {
    posts.iter_mut().find(|p| p.id == id).expect("fixture post")
}

/// The site projection keeps a [`PostOrder`] instead of scanning every post at every event:
/// through a long run of creates, edits that move posts in time (also onto another post's
/// instant and offset), renames to and from invalid slugs, unpublishes and republishes, both
/// must name the same pages.
#[test]
fn the_ordered_variant_names_the_same_pages_as_the_scan() {
    let config = common::config(); // pages of 2, feeds of 3: every boundary is near
    let mut posts: Vec<PostInput> = Vec::new();
    let mut order = PostOrder::default();
    let mut hidden: Vec<PostInput> = Vec::new();
    let mut seed = 20_261_202_u64;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let at = |hour: u64, offset: bool| {
        let utc = datetime!(2024-01-01 00:00 UTC) + time::Duration::hours(hour as i64);
        if offset {
            utc.to_offset(time::macros::offset!(+02:00))
        } else {
            utc
        }
    };
    let mut compared = 0;
    for step in 0..600 {
        let choice = next(10);
        let (before, after) = if posts.is_empty() || choice < 3 {
            let mut post = common::post(&format!("01P{step:04}"), &format!("post-{step}"), "T", &["a"]);
            post.published_at = at(next(40), next(2) == 0);
            (None, Some(post))
        } else if choice == 9 && !hidden.is_empty() {
            let i = next(hidden.len() as u64) as usize;
            (None, Some(hidden.swap_remove(i)))
        } else {
            let i = next(posts.len() as u64) as usize;
            let before = posts.swap_remove(i);
            order.remove(&before);
            let mut after = before.clone();
            match choice {
                3 | 4 => after.published_at = at(next(40), next(2) == 0),
                5 => {
                    after.slug = if next(2) == 0 {
                        "bad slug".into()
                    } else {
                        format!("renamed-{step}")
                    }
                }
                6 => after.body_markdown = "edited".into(),
                _ => hidden.push(before.clone()), // unpublished or deleted
            }
            let after = (choice < 7).then_some(after);
            (Some(before), after)
        };
        if let Some(after) = &after {
            posts.push(after.clone());
            order.insert(after);
        }
        let scanned = affected_pages(&config, before.as_ref(), after.as_ref(), &posts);
        let ordered = affected_pages_ordered(&config, before.as_ref(), after.as_ref(), &order);
        assert_eq!(ordered, scanned, "step {step}: {before:?} -> {after:?}");
        compared += usize::from(!scanned.is_empty());
    }
    assert!(compared > 400, "only {compared} changes touched pages");
    assert_eq!(
        order.len(),
        posts.iter().filter(|p| quire_render::is_valid_slug(&p.slug)).count()
    );
}

#[test]
fn editing_a_post_touches_its_pages_only() {
    let config = common::config();
    let before_list = common::posts();
    let mut posts = before_list.clone();
    let before = before_list.iter().find(|p| p.id == "01HELLO").expect("post");
    find(&mut posts, "01HELLO").body_markdown = "New body".into();
    let after = posts.iter().find(|p| p.id == "01HELLO").expect("post");
    let pages = affected_pages(&config, Some(before), Some(after), &posts);
    let expected: BTreeSet<PagePath> = [
        PagePath::Home,
        PagePath::Post("hello-rust".into()),
        PagePath::Post("hello-world".into()),
        PagePath::Tag("programming".into()),
        PagePath::Tag("rust".into()),
        PagePath::TagIndex,
        PagePath::Archive,
        PagePath::AtomFeed,
        PagePath::JsonFeed,
        PagePath::Sitemap,
    ]
    .into();
    assert_eq!(pages, expected);
}

#[test]
fn adding_an_old_post_shifts_the_newer_list_pages_and_skips_feeds() {
    let config = common::config();
    let mut posts = common::posts();
    let mut old = common::post("01ANCIENT", "ancient", "Ancient", &["History"]);
    old.published_at = datetime!(2020-01-01 0:00 UTC);
    posts.push(old.clone());
    let pages = affected_pages(&config, None, Some(&old), &posts);
    let lists: Vec<&PagePath> = pages
        .iter()
        .filter(|p| matches!(p, PagePath::Home | PagePath::Page(_)))
        .collect();
    // 4 → 5 posts of 2 a page: page 1 shifts, the home page takes the 5th post.
    assert_eq!(lists, [&PagePath::Home, &PagePath::Page(1)]);
    assert!(!pages.contains(&PagePath::AtomFeed), "not among the newest 3");
    assert!(pages.contains(&PagePath::Tag("history".into())));
    assert_eq!(post_pages(&pages), ["ancient"]);
}

#[test]
fn publishing_a_new_post_touches_only_the_home_page_of_the_list() {
    let config = common::config();
    let mut posts = common::posts();
    let mut new = common::post("01NEWEST", "newest", "Newest", &[]);
    new.published_at = datetime!(2025-01-01 0:00 UTC);
    posts.push(new.clone());
    let pages = affected_pages(&config, None, Some(&new), &posts);
    assert!(pages.contains(&PagePath::Home));
    assert!(!pages.iter().any(|p| matches!(p, PagePath::Page(_))), "{pages:?}");
    // The sixth post makes a second full bucket: page 2 appears and page 1 links to it.
    let mut newer = common::post("01NEWER", "newer", "Newer", &[]);
    newer.published_at = datetime!(2025-02-01 0:00 UTC);
    posts.push(newer.clone());
    let pages = affected_pages(&config, None, Some(&newer), &posts);
    assert!(pages.contains(&PagePath::Page(2)) && pages.contains(&PagePath::Page(1)));
}

#[test]
fn renaming_and_retagging_touch_old_and_new_addresses() {
    let config = common::config();
    let before = common::posts();
    let mut posts = before.clone();
    let garden = find(&mut posts, "01GARDEN");
    garden.slug = "summer-garden".into();
    garden.old_slugs = vec!["spring-garden".into()];
    garden.tags = vec!["Flowers".into()];
    let after = garden.clone();
    let old = before.iter().find(|p| p.id == "01GARDEN").expect("post");
    let pages = affected_pages(&config, Some(old), Some(&after), &posts);
    assert_eq!(post_pages(&pages), ["spring-garden", "summer-garden"]);
    assert!(pages.contains(&PagePath::Tag("garden".into())));
    assert!(pages.contains(&PagePath::Tag("flowers".into())));
}

#[test]
fn unpublished_changes_touch_nothing() {
    let config = common::config();
    assert!(affected_pages(&config, None, None, &common::posts()).is_empty());
}

/// Every file under `dir`, by relative path.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("inside").to_string_lossy().into_owned();
                files.insert(rel, fs::read(&path).expect("read"));
            }
        }
    }
    files
}

fn assert_no_temp_files(files: &BTreeMap<String, Vec<u8>>) {
    for name in files.keys() {
        assert!(!name.contains("quire-tmp"), "temp file left: {name}");
    }
}

/// Applies `change` incrementally in one folder and as a full rebuild in another: both must
/// hold the same files afterwards.
fn check_change(before: &[PostInput], after: &[PostInput], id: &str) {
    let inc = tempfile::tempdir().expect("tempdir");
    let full = tempfile::tempdir().expect("tempdir");
    let site = Site::new(common::config(), inc.path()).expect("site");
    let full_site = Site::new(common::config(), full.path()).expect("site");
    site.render_all(before).expect("initial render");
    let old = before.iter().find(|p| p.id == id);
    let new = after.iter().find(|p| p.id == id);
    let report = site.update(old, new, after).expect("update");
    full_site.render_all(after).expect("full render");
    let (got, want) = (snapshot(inc.path()), snapshot(full.path()));
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{id}: same files"
    );
    assert!(got == want, "{id}: same bytes");
    assert_no_temp_files(&got);
    let again = site.render_all(after).expect("rebuild");
    assert!(
        again.written.is_empty() && again.removed.is_empty(),
        "{id}: {again:?} after {report:?}"
    );
}

#[test]
fn incremental_updates_match_a_full_rebuild() {
    let base = common::posts();

    let mut edited = base.clone();
    find(&mut edited, "01NOTES").title = "Old notes, revised".into();
    check_change(&base, &edited, "01NOTES");

    let mut moved = base.clone();
    find(&mut moved, "01FIRST").published_at = datetime!(2025-01-01 0:00 UTC);
    check_change(&base, &moved, "01FIRST");

    let deleted: Vec<PostInput> = base.iter().filter(|p| p.id != "01GARDEN").cloned().collect();
    check_change(&base, &deleted, "01GARDEN");

    let mut added = base.clone();
    let mut new = common::post("01NEW", "brand-new", "Brand new", &["Fresh", "rust"]);
    new.published_at = datetime!(2024-05-20 0:00 UTC);
    added.push(new);
    check_change(&base, &added, "01NEW");

    let mut renamed = base.clone();
    let hello = find(&mut renamed, "01HELLO");
    hello.slug = "hello-again".into();
    hello.old_slugs.push("hello-rust".into());
    hello.tags = vec!["Rust".into()];
    check_change(&base, &renamed, "01HELLO");
}

#[test]
fn growing_and_shrinking_the_list_matches_a_full_rebuild() {
    // 0, 1, 2 (= page size), 3 (= 2p-1), 4 (= 2p), 5, 6 posts, each newer than the last.
    let mut posts: Vec<PostInput> = Vec::new();
    for i in 0..7_i64 {
        let mut post = common::post(&format!("01P{i}"), &format!("p{i}"), &format!("P{i}"), &["t"]);
        post.published_at = datetime!(2025-01-01 0:00 UTC) + time::Duration::days(i);
        let mut after = posts.clone();
        after.push(post);
        check_change(&posts, &after, &format!("01P{i}"));
        posts = after;
    }
    // Removing the oldest shifts every bucket; an edit on page 1 touches that page alone.
    let mut edited = posts.clone();
    find(&mut edited, "01P1").title = "P1, revised".into();
    check_change(&posts, &edited, "01P1");
    for id in ["01P0", "01P3", "01P6", "01P5"] {
        let after: Vec<PostInput> = posts.iter().filter(|p| p.id != id).cloned().collect();
        check_change(&posts, &after, id);
        posts = after;
    }
}

#[test]
fn full_rebuild_writes_only_changed_files_and_prunes_only_its_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = Site::new(common::config(), dir.path()).expect("site");
    let posts = common::posts();
    let first = site.render_all(&posts).expect("render");
    assert_eq!(first.written.len(), 18, "{:?}", first.written);
    assert_eq!(first.unchanged, 0);

    let second = site.render_all(&posts).expect("render again");
    assert!(second.written.is_empty(), "{:?}", second.written);
    assert_eq!(second.unchanged, 18);

    // A page of a post that is gone, a crash's leftover temp file, and files that are not ours.
    fs::create_dir_all(dir.path().join("posts/ghost")).expect("mkdir");
    fs::write(dir.path().join("posts/ghost/index.html"), "old").expect("write");
    fs::write(dir.path().join("posts/hello-rust/.index.html.9.9.quire-tmp"), "half").expect("write");
    fs::create_dir_all(dir.path().join("media")).expect("mkdir");
    fs::write(dir.path().join("media/photo.jpg"), "jpg").expect("write");
    fs::write(dir.path().join("posts/notes.txt"), "mine").expect("write");

    let third = site.render_all(&posts).expect("render with strays");
    assert_eq!(third.removed, [PagePath::Post("ghost".into())]);
    assert!(third.written.is_empty());
    let files = snapshot(dir.path());
    assert_no_temp_files(&files);
    assert!(!dir.path().join("posts/ghost").exists(), "emptied folder removed");
    assert!(files.contains_key("media/photo.jpg") && files.contains_key("posts/notes.txt"));
}

#[test]
fn removing_the_last_post_of_a_tag_removes_the_tag_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = Site::new(common::config(), dir.path()).expect("site");
    let posts = common::posts();
    site.render_all(&posts).expect("render");
    assert!(dir.path().join("tags/garden/index.html").exists());
    let garden = posts.iter().find(|p| p.id == "01GARDEN").expect("post").clone();
    let rest: Vec<PostInput> = posts.into_iter().filter(|p| p.id != "01GARDEN").collect();
    let report = site.update(Some(&garden), None, &rest).expect("unpublish");
    // 4 → 3 posts of 2 a page: the home page takes back the posts of page 1.
    assert_eq!(
        report.removed,
        [
            PagePath::Page(1),
            PagePath::Post("spring-garden".into()),
            PagePath::Tag("garden".into())
        ]
    );
    assert!(!dir.path().join("tags/garden").exists());
    assert!(!dir.path().join("posts/spring-garden").exists());
}

#[test]
fn posts_with_unusable_slugs_are_skipped_not_written_outside() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("site");
    let site = Site::new(common::config(), &out).expect("site");
    let mut posts = common::posts();
    posts.push(common::post("01EVIL", "../escape", "Evil", &[]));
    let report = site.render_all(&posts).expect("render");
    assert_eq!(report.skipped_posts, ["01EVIL"]);
    assert!(!dir.path().join("escape").exists());
    let report = site
        .write_pages(&[PagePath::Post("../../x".into())].into(), &posts)
        .expect("unsafe page ignored");
    assert!(report.written.is_empty() && report.removed.is_empty());
}

#[test]
fn custom_css_is_written_and_removed_with_the_setting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = common::config();
    config.custom_css = Some("body { font-size: 20px; }".into());
    let site = Site::new(config.clone(), dir.path()).expect("site");
    site.render_all(&common::posts()).expect("render");
    let css = fs::read_to_string(dir.path().join("custom.css")).expect("custom.css");
    assert_eq!(css, "body { font-size: 20px; }");
    config.custom_css = None;
    let site = Site::new(config, dir.path()).expect("site");
    let report = site.render_all(&common::posts()).expect("render");
    assert_eq!(report.removed, [PagePath::CustomCss]);
    assert!(!dir.path().join("custom.css").exists());
    let home = fs::read_to_string(dir.path().join("index.html")).expect("home");
    assert!(!home.contains("custom.css"));
}
