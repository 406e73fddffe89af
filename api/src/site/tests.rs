//! The projection against a real store: incremental output equals a full render, restarts
//! catch up, interrupted writes are repaired, settings changes re-render everything.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use quire_render::{PostInput, SiteConfig};
use quire_storage::{system_clock, Actor, NewPost, PostPatch, Posts, Role, SledOptions, SledStore, Status, Store};
use ulid::Ulid;

use super::manifest::{self, Manifest};
use super::projection::SiteProjection;

struct Fixture {
    _dir: tempfile::TempDir,
    posts: Posts,
    site: std::path::PathBuf,
    actor: Actor,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SledStore::open(&dir.path().join("log"), &SledOptions::default()).expect("open store");
        Fixture {
            site: dir.path().join("site"),
            posts: Posts::new(Arc::new(store), system_clock()),
            actor: Actor::user(Ulid::new(), "ada", Role::Admin),
            _dir: dir,
        }
    }

    fn store(&self) -> &dyn Store {
        self.posts.store().as_ref()
    }

    fn create(&self, title: &str, status: Status, tags: &[&str]) -> Ulid {
        let input = NewPost {
            title: title.into(),
            body: format!("# {title}\n\nSome *text* about {title}."),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            status: Some(status),
            ..NewPost::default()
        };
        self.posts.create(&self.actor, input, None).expect("create").id
    }

    fn patch(&self, id: Ulid, patch: PostPatch) {
        self.posts.update(&self.actor, id, None, patch, None).expect("update");
    }

    fn projection(&self, dir: &Path) -> SiteProjection {
        SiteProjection::open(config(), dir).expect("open projection")
    }
}

/// Small list pages, so that the histories below move posts between them.
fn config() -> SiteConfig {
    SiteConfig {
        page_size: 4,
        ..SiteConfig::default()
    }
}

/// Every visible file of a site folder with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("list") {
            let path = entry.expect("entry").path();
            let name = path.file_name().expect("name").to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("inside").to_string_lossy();
                out.insert(rel.into_owned(), std::fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn assert_same_site(incremental: &Path, full: &Path) {
    let (a, b) = (files(incremental), files(full));
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "the same files");
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{name} differs from a full render");
    }
}

/// A history with every kind of change a page can depend on.
fn busy_history(f: &Fixture, projection: &mut SiteProjection) {
    let a = f.create("Alpha", Status::Published, &["rust", "web"]);
    let b = f.create("Beta", Status::Draft, &["rust"]);
    projection.catch_up(f.store()).expect("catch up");
    let c = f.create("Gamma", Status::Published, &["notes"]);
    for i in 0..12 {
        f.create(&format!("Filler {i}"), Status::Published, &["filler"]);
    }
    projection.catch_up(f.store()).expect("catch up");
    f.patch(
        b,
        PostPatch {
            status: Some(Status::Published),
            ..PostPatch::default()
        },
    );
    f.patch(
        a,
        PostPatch {
            slug: Some("alpha-renamed".into()),
            tags: Some(vec!["web".into()]),
            ..PostPatch::default()
        },
    );
    projection.catch_up(f.store()).expect("catch up");
    f.posts.delete(&f.actor, c, None, None).expect("delete");
    f.patch(
        b,
        PostPatch {
            status: Some(Status::Draft),
            ..PostPatch::default()
        },
    );
    f.patch(
        a,
        PostPatch {
            title: Some("Alpha, edited".into()),
            ..PostPatch::default()
        },
    );
    projection.catch_up(f.store()).expect("catch up");
}

#[test]
fn incremental_updates_equal_a_full_render() {
    let f = Fixture::new();
    let mut projection = f.projection(&f.site);
    let first = projection.catch_up(f.store()).expect("first");
    assert!(first.full, "the first start renders everything");
    busy_history(&f, &mut projection);
    let head = f.store().head();
    assert_eq!(projection.seq(), Some(head));

    let fresh = f._dir.path().join("fresh");
    let done = f.projection(&fresh).catch_up(f.store()).expect("full");
    assert!(done.full);
    assert_same_site(&f.site, &fresh);
    let site = files(&f.site);
    assert!(site.contains_key("posts/alpha-renamed/index.html"));
    let redirect = String::from_utf8_lossy(&site["posts/alpha/index.html"]).into_owned();
    assert!(redirect.contains("alpha-renamed"), "old slug redirects");
    assert!(!site.keys().any(|k| k.contains("gamma") || k.contains("beta")));
    assert!(!site.contains_key("tags/notes/index.html"), "emptied tag is gone");
}

/// The model keeps no bodies: the pages that show one read it from the log, the rest show the
/// start of its text. Both must come out exactly as from posts that carry their bodies.
#[test]
fn bodies_read_from_the_log_render_as_bodies_carried_whole() {
    let f = Fixture::new();
    let mut projection = f.projection(&f.site);
    busy_history(&f, &mut projection);
    let alpha = projection
        .visible()
        .iter()
        .find(|p| p.slug == "alpha-renamed")
        .expect("alpha")
        .id
        .clone();
    f.patch(
        alpha.parse().expect("ulid"),
        PostPatch {
            body: Some(format!(
                "A new body with *emphasis*, [a link](https://example.org) and {}",
                "many words ".repeat(60)
            )),
            ..PostPatch::default()
        },
    );
    let note = NewPost {
        body: "A note: its title is **derived** from the start of its text, which goes on and on for a while.".into(),
        status: Some(Status::Published),
        ..NewPost::default()
    };
    f.posts.create(&f.actor, note, None).expect("note");
    projection.catch_up(f.store()).expect("catch up");

    let whole: Vec<PostInput> = projection
        .visible()
        .iter()
        .map(|p| {
            assert!(
                p.body_markdown.is_empty() && p.body_key.is_some() && p.lead.is_some(),
                "{}",
                p.slug
            );
            let post = f.posts.get(&f.actor, p.id.parse().expect("ulid")).expect("post");
            PostInput {
                body_markdown: post.body,
                body_key: None,
                lead: None,
                ..p.clone()
            }
        })
        .collect();
    let dir = f._dir.path().join("whole");
    quire_render::Site::new(config(), &dir)
        .expect("site")
        .render_all(&whole)
        .expect("render");
    let (ours, theirs) = (files(&f.site), files(&dir));
    assert!(theirs.len() > 20, "{} files", theirs.len());
    for (name, bytes) in &theirs {
        assert!(ours.get(name) == Some(bytes), "{name} differs");
    }
    let page = String::from_utf8_lossy(&ours["posts/alpha-renamed/index.html"]).into_owned();
    assert!(page.contains("<em>emphasis</em>"), "the post's page shows its new body");
    assert!(!ours.keys().any(|k| k.starts_with("posts/") && !theirs.contains_key(k)));
}

#[test]
fn a_restart_catches_up_from_the_manifest() {
    let f = Fixture::new();
    let mut projection = f.projection(&f.site);
    f.create("One", Status::Published, &[]);
    projection.catch_up(f.store()).expect("first");
    drop(projection);
    let two = f.create("Two", Status::Published, &["late"]);
    f.patch(
        two,
        PostPatch {
            body: Some("changed".into()),
            ..PostPatch::default()
        },
    );

    let mut reopened = f.projection(&f.site);
    let done = reopened.catch_up(f.store()).expect("catch up");
    assert!(!done.full, "a known position is caught up event by event");
    assert_eq!(done.events, 2);
    assert_eq!(reopened.seq(), Some(f.store().head()));
    let fresh = f._dir.path().join("fresh");
    f.projection(&fresh).catch_up(f.store()).expect("full");
    assert_same_site(&f.site, &fresh);
    assert_eq!(
        reopened.catch_up(f.store()).expect("idle"),
        super::CatchUp {
            seq: f.store().head(),
            ..super::CatchUp::default()
        },
        "nothing new, nothing done"
    );
}

#[test]
fn an_interrupted_run_is_repaired_on_restart() {
    let f = Fixture::new();
    let mut projection = f.projection(&f.site);
    f.create("Kept", Status::Published, &[]);
    projection.catch_up(f.store()).expect("first");
    let before = Manifest::load(&f.site).expect("load").expect("manifest");
    let gone = f.create("Gone soon", Status::Published, &["temp"]);
    projection.catch_up(f.store()).expect("second");
    f.posts.delete(&f.actor, gone, None, None).expect("delete");
    projection.catch_up(f.store()).expect("third");
    drop(projection);
    // As if the process died after writing pages of later events but before the manifest
    // moved, with a temporary file half written.
    before.save(&f.site).expect("rewind manifest");
    std::fs::write(f.site.join("posts/.index.html.1.1.quire-tmp"), b"<html><bo").expect("write");
    std::fs::write(f.site.join("posts/kept/.index.html.9.9.quire-tmp"), b"<ht").expect("write");

    let mut reopened = f.projection(&f.site);
    reopened.catch_up(f.store()).expect("catch up");
    let fresh = f._dir.path().join("fresh");
    f.projection(&fresh).catch_up(f.store()).expect("full");
    assert_same_site(&f.site, &fresh);
    let leftovers = walkdir_hidden(&f.site);
    assert_eq!(leftovers, [manifest::FILE_NAME], "temporary files are swept");
}

fn walkdir_hidden(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("list") {
            let path = entry.expect("entry").path();
            let name = path.file_name().expect("name").to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if name.starts_with('.') {
                out.push(name);
            }
        }
    }
    out
}

#[test]
fn other_settings_render_everything_again() {
    let f = Fixture::new();
    f.create("Hello", Status::Published, &[]);
    f.projection(&f.site).catch_up(f.store()).expect("first");
    let config = SiteConfig {
        title: "Renamed site".into(),
        ..config()
    };
    let mut projection = SiteProjection::open(config, &f.site).expect("open");
    assert_eq!(projection.seq(), None, "the manifest is for other settings");
    let done = projection.catch_up(f.store()).expect("catch up");
    assert!(done.full && done.written > 0);
    let home = String::from_utf8(std::fs::read(f.site.join("index.html")).expect("read")).expect("utf-8");
    assert!(home.contains("Renamed site"));
}

#[test]
fn rebuild_reports_progress_to_the_end() {
    let f = Fixture::new();
    for i in 0..30 {
        f.create(&format!("Post {i}"), Status::Published, &["t"]);
    }
    let mut projection = f.projection(&f.site);
    let mut seen = Vec::new();
    let done = projection
        .rebuild(f.store(), &mut |d, t| seen.push((d, t)))
        .expect("rebuild");
    let (last_done, total) = *seen.last().expect("progress");
    assert_eq!(last_done, total);
    assert_eq!(done.written + done.unchanged, total);
    assert_eq!(projection.seq(), Some(f.store().head()));
}

#[test]
fn a_shutdown_stops_a_long_render_without_moving_the_manifest() {
    let f = Fixture::new();
    f.create("Hello", Status::Published, &[]);
    let mut projection = f.projection(&f.site);
    let (stop, stopped) = tokio::sync::watch::channel(true);
    projection.stop_on(stopped);
    let result = projection.catch_up(f.store());
    assert!(matches!(result, Err(super::SiteError::Stopped)), "{result:?}");
    assert_eq!(Manifest::load(&f.site).expect("load"), None);
    drop(stop);
    let mut reopened = f.projection(&f.site);
    assert!(reopened.catch_up(f.store()).expect("catch up").full);
}
