//! The git projection keeps its repository small: objects go straight into packs as it catches
//! up, a repository full of loose objects is packed on the next catch-up, and posts land in the
//! year folder of their date. Checked with the real `git` binary.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use quire_storage::git::{count_loose_objects, hold_packing, verify, PACKING_LOCK_FILE};
use quire_storage::{Actor, Clock, GitProjection, GitSettings, NewPost, Posts, Role, SledOptions, SledStore, Status};
use time::macros::datetime;
use time::OffsetDateTime;
use ulid::Ulid;

/// A clock that moves one minute per command (all posts in one year: one big year folder).
fn minute_clock() -> Clock {
    let start = datetime!(2026-01-05 10:00 UTC).unix_timestamp();
    let calls = Arc::new(AtomicI64::new(0));
    Arc::new(move || {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        OffsetDateTime::from_unix_timestamp(start + n * 60).expect("valid time")
    })
}

fn open_store(dir: &Path) -> (Arc<SledStore>, Posts) {
    let store = Arc::new(SledStore::open(&dir.join("log"), &SledOptions::default()).expect("store"));
    let posts = Posts::new(store.clone(), minute_clock());
    (store, posts)
}

fn create_posts(posts: &Posts, n: usize) {
    let ada = Actor::user(Ulid::new(), "ada", Role::Admin);
    for i in 0..n {
        let post = NewPost {
            title: format!("Post number {i} with a fairly long title"),
            body: format!("Post {i}.\n\n{}", "Some words. ".repeat(20)),
            status: Some(Status::Published),
            ..NewPost::default()
        };
        posts.create(&ada, post, None).expect("create");
    }
}

fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(repo)
        .args(args)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn folder_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("read folder")
        .map(|e| e.expect("entry"))
        .map(|e| {
            let meta = e.metadata().expect("metadata");
            if meta.is_dir() {
                folder_size(&e.path())
            } else {
                meta.len()
            }
        })
        .sum()
}

#[test]
fn a_long_catch_up_packs_as_it_goes_and_git_fsck_is_clean() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, posts) = open_store(dir.path());
    create_posts(&posts, 3_000);
    let repo = dir.path().join("content.git");
    let mut projection = GitProjection::open(&repo, GitSettings::default()).expect("open");
    let mut most_loose = 0;
    let made = projection
        .catch_up_with(store.as_ref(), &mut |_, _| {
            most_loose = most_loose.max(count_loose_objects(&repo));
        })
        .expect("catch up");
    assert_eq!(made, 3_000);
    assert_eq!(most_loose, 0, "pages write packs, not loose objects");
    git(&repo, &["fsck", "--strict", "--no-progress"]);
    let size = folder_size(&repo);
    // Loose, the 3,000 versions of the year folder alone are ~330 MB.
    assert!(size < 8 << 20, "content.git is {size} bytes");
    let report = verify(&repo, &GitSettings::default(), store.as_ref()).expect("verify");
    assert!(report.is_ok(), "{:?}", report.problems);
}

#[test]
fn loose_objects_left_from_before_are_packed_on_the_next_catch_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, posts) = open_store(dir.path());
    create_posts(&posts, 400);
    let repo = dir.path().join("content.git");
    let mut projection = GitProjection::open(&repo, GitSettings::default()).expect("open");
    projection.set_loose_object_limit(usize::MAX);
    projection.catch_up(store.as_ref()).expect("catch up");
    drop(projection);
    let loose = count_loose_objects(&repo);
    assert!(loose > 2_000, "as an old Quire left it: {loose} loose objects");

    create_posts(&posts, 1);
    let mut projection = GitProjection::open(&repo, GitSettings::default()).expect("reopen");
    assert_eq!(projection.catch_up(store.as_ref()).expect("catch up"), 1);
    let loose = count_loose_objects(&repo);
    assert!(loose < 100, "{loose} loose objects after the catch-up");
    git(&repo, &["fsck", "--strict", "--no-progress"]);
}

#[test]
fn a_post_dated_in_a_past_year_goes_to_that_years_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, posts) = open_store(dir.path());
    let ada = Actor::user(Ulid::new(), "ada", Role::Admin);
    let imported = NewPost {
        title: "An old post".into(),
        body: "Written long ago.".into(),
        status: Some(Status::Published),
        publish_at: Some(datetime!(2019-06-01 08:00 UTC)),
        ..NewPost::default()
    };
    posts.create(&ada, imported, None).expect("create");
    let draft = NewPost {
        title: "A draft".into(),
        ..NewPost::default()
    };
    posts.create(&ada, draft, None).expect("create");
    let repo = dir.path().join("content.git");
    GitProjection::open(&repo, GitSettings::default())
        .expect("open")
        .catch_up(store.as_ref())
        .expect("catch up");
    let files = git(&repo, &["ls-tree", "-r", "--name-only", "main", "content/posts"]);
    assert_eq!(
        files.lines().collect::<Vec<_>>(),
        ["content/posts/2019/an-old-post.md", "content/posts/2026/a-draft.md"]
    );
    let report = verify(&repo, &GitSettings::default(), store.as_ref()).expect("verify");
    assert!(report.is_ok(), "{:?}", report.problems);
}

fn packs(repo: &Path) -> usize {
    std::fs::read_dir(repo.join("objects").join("pack"))
        .expect("pack folder")
        .filter(|e| {
            e.as_ref()
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .ends_with(".pack")
        })
        .count()
}

#[test]
fn a_page_of_events_is_one_pack_with_no_loose_object_and_git_reads_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, posts) = open_store(dir.path());
    create_posts(&posts, 200);
    let repo = dir.path().join("content.git");
    let made = GitProjection::open(&repo, GitSettings::default())
        .expect("open")
        .catch_up(store.as_ref())
        .expect("catch up");
    assert_eq!(made, 200);
    assert_eq!(count_loose_objects(&repo), 0);
    assert_eq!(packs(&repo), 1, "one page, one pack");
    git(&repo, &["fsck", "--strict", "--no-progress"]);
    let pack = pack_indexes(&repo).pop().expect("an index");
    let listing = git(&repo, &["verify-pack", "-v", pack.to_str().expect("utf-8 path")]);
    // The year folder's 200 versions: deltas against the one before, but for a few whole ones.
    let deltas = listing
        .lines()
        .filter(|l| l.contains(" tree ") && l.split_whitespace().count() == 7)
        .count();
    assert!(deltas >= 180, "{deltas} tree deltas:\n{listing}");
    assert_eq!(git(&repo, &["rev-list", "--count", "main"]).trim(), "200");
    let report = verify(&repo, &GitSettings::default(), store.as_ref()).expect("verify");
    assert!(report.is_ok(), "{:?}", report.problems);
}

/// The `.idx` files of the repository's packs.
fn pack_indexes(repo: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(repo.join("objects").join("pack"))
        .expect("pack folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "idx"))
        .collect()
}

/// `verify-pack -v`'s lines for the trees of the pack with index `idx`, split in fields: 5 for
/// an object stored whole, 7 for a delta (its depth is the sixth).
fn pack_trees(repo: &Path, idx: &Path) -> Vec<Vec<String>> {
    git(repo, &["verify-pack", "-v", idx.to_str().expect("utf-8 path")])
        .lines()
        .map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .filter(|f| f.get(1).is_some_and(|t| t == "tree"))
        .collect()
}

/// How many trees bigger than `bytes` a listing has stored whole.
fn whole_bigger_than(trees: &[Vec<String>], bytes: usize) -> usize {
    (trees.iter())
        .filter(|f| f.len() == 5 && f[2].parse::<usize>().expect("size") > bytes)
        .count()
}

#[test]
fn a_pack_stores_a_big_folder_whole_once_and_a_roll_up_can_chain_those_whole_versions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, posts) = open_store(dir.path());
    let repo = dir.path().join("content.git");
    let mut projection = GitProjection::open(&repo, GitSettings::default()).expect("open");
    create_posts(&posts, 300);
    projection.catch_up(store.as_ref()).expect("catch up");
    let before = pack_indexes(&repo);
    // One page of 200 commits on a year folder of 300 posts and more: one pack.
    create_posts(&posts, 200);
    assert_eq!(projection.catch_up(store.as_ref()).expect("catch up"), 200);
    let new: Vec<_> = pack_indexes(&repo)
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    assert_eq!(new.len(), 1, "one page, one pack");
    let trees = pack_trees(&repo, &new[0]);
    // The year folder's versions are the big trees (300 to 500 entries): whole once, at the
    // start of the pack, then deltas, every 10th against that whole version.
    assert_eq!(
        whole_bigger_than(&trees, 5_000),
        1,
        "the year folder stored whole more than once: {trees:?}"
    );
    let deepest = (trees.iter())
        .filter(|f| f.len() == 7)
        .map(|f| f[5].parse::<u32>().expect("depth"))
        .max();
    assert!(
        deepest.is_some_and(|d| (8..=10).contains(&d)),
        "deepest chain {deepest:?}"
    );

    // Another page, another pack that starts with the folder whole. Rolled up as the
    // projection's roll-up does (window 3, git's depth 50), the whole versions become deltas
    // of each other: with 50-deep chains below them git would have to keep each whole.
    create_posts(&posts, 200);
    assert_eq!(projection.catch_up(store.as_ref()).expect("catch up"), 200);
    git(&repo, &["repack", "-a", "-d", "-q", "--window=3"]);
    let packed = pack_indexes(&repo);
    assert_eq!(packed.len(), 1);
    let trees = pack_trees(&repo, &packed[0]);
    assert_eq!(
        whole_bigger_than(&trees, 5_000),
        1,
        "whole year folders after the roll-up: {trees:?}"
    );

    git(&repo, &["fsck", "--full", "--strict", "--no-progress"]);
    assert_eq!(git(&repo, &["rev-list", "--count", "main"]).trim(), "700");
    let report = verify(&repo, &GitSettings::default(), store.as_ref()).expect("verify");
    assert!(report.is_ok(), "{:?}", report.problems);
}

#[test]
fn a_pack_written_before_a_crash_moved_main_is_harmless() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, posts) = open_store(dir.path());
    create_posts(&posts, 300);
    let repo = dir.path().join("content.git");
    GitProjection::open(&repo, GitSettings::default())
        .expect("open")
        .catch_up(store.as_ref())
        .expect("catch up");
    let tip = git(&repo, &["rev-parse", "main"]);
    // As if the process died after the last pages' packs were durable but before `main` moved.
    let back = git(&repo, &["rev-parse", "main~130"]);
    git(&repo, &["update-ref", "refs/heads/main", back.trim()]);

    let mut projection = GitProjection::open(&repo, GitSettings::default()).expect("reopen");
    assert_eq!(projection.catch_up(store.as_ref()).expect("catch up again"), 130);
    assert_eq!(git(&repo, &["rev-parse", "main"]), tip, "the same commits again");
    assert_eq!(count_loose_objects(&repo), 0);
    git(&repo, &["fsck", "--strict", "--no-progress"]);
}

/// Whether a roll-up of small packs runs now (its `git repack` holds the packing lock).
fn rolling_up(repo: &Path) -> bool {
    let lock = std::fs::File::open(repo.join(PACKING_LOCK_FILE));
    lock.is_ok_and(|lock| rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_err())
}

/// One post, then one catch-up: one commit and one pack, as a server does for each publish.
fn publish_one(posts: &Posts, store: &SledStore, projection: &mut GitProjection) {
    create_posts(posts, 1);
    assert_eq!(projection.catch_up(store).expect("catch up"), 1);
}

#[test]
fn commits_made_while_a_roll_up_runs_are_all_kept_and_git_fsck_is_clean() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, posts) = open_store(dir.path());
    let repo = dir.path().join("content.git");
    let mut projection = GitProjection::open(&repo, GitSettings::default()).expect("open");
    let (mut during, mut rounds) = (0, 0);
    while rounds < 400 || during < 10 {
        let running = rolling_up(&repo);
        publish_one(&posts, &store, &mut projection);
        during += usize::from(running && rolling_up(&repo));
        rounds += 1;
        assert!(rounds < 3_000, "only {during} commits were made while a roll-up ran");
    }
    // The packs were rolled up as the commits went on, without waiting for it.
    assert!(packs(&repo) < 40, "{} packs", packs(&repo));
    let packing = hold_packing(&repo).expect("wait for the roll-up");
    git(&repo, &["fsck", "--full", "--strict", "--no-progress"]);
    let commits = git(&repo, &["rev-list", "main"]);
    assert_eq!(commits.lines().count(), rounds);
    let mut trees = git(&repo, &["log", "--format=%T", "main"]);
    trees.push_str(&commits);
    let check = Command::new("git")
        .arg("--git-dir")
        .arg(&repo)
        .args(["cat-file", "--batch-check"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().expect("stdin").write_all(trees.as_bytes())?;
            child.wait_with_output()
        })
        .expect("git cat-file");
    let listing = String::from_utf8_lossy(&check.stdout);
    assert!(!listing.contains("missing"), "{listing}");
    assert_eq!(listing.lines().count(), 2 * rounds);
    drop(packing);
    let report = verify(&repo, &GitSettings::default(), store.as_ref()).expect("verify");
    assert!(report.is_ok(), "{:?}", report.problems);
}

#[test]
fn dropping_the_projection_stops_a_roll_up_at_once_and_the_repository_stays_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, posts) = open_store(dir.path());
    let repo = dir.path().join("content.git");
    let mut projection = GitProjection::open(&repo, GitSettings::default()).expect("open");
    let mut rounds = 0;
    while !rolling_up(&repo) {
        publish_one(&posts, &store, &mut projection);
        rounds += 1;
        assert!(rounds < 200, "no roll-up started");
    }
    let started = std::time::Instant::now();
    drop(projection);
    assert!(
        started.elapsed().as_millis() < 2_500,
        "stopping took {:?}",
        started.elapsed()
    );
    assert!(!rolling_up(&repo), "the roll-up goes on after the projection is gone");
    git(&repo, &["fsck", "--full", "--strict", "--no-progress"]);
    let mut projection = GitProjection::open(&repo, GitSettings::default()).expect("reopen");
    publish_one(&posts, &store, &mut projection);
    projection.settle_packs();
    assert!(packs(&repo) <= 16, "{} packs after settling", packs(&repo));
    let report = verify(&repo, &GitSettings::default(), store.as_ref()).expect("verify");
    assert!(report.is_ok(), "{:?}", report.problems);
}
