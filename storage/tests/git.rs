//! The git projection against a real sled log, checked with the real `git` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use quire_storage::git::{post_commits, rebuild, verify, PathChange, Problem};
use quire_storage::{
    Actor, Clock, GitError, GitProjection, GitSettings, NewPost, Post, PostPatch, PostQuery, Posts, Role, SledOptions,
    SledStore, Status, Store,
};
use time::macros::datetime;
use time::OffsetDateTime;
use ulid::Ulid;
use yaml_rust2::{Yaml, YamlLoader};

struct Fixture {
    _dir: tempfile::TempDir,
    repo: PathBuf,
    store: Arc<SledStore>,
    posts: Posts,
}

/// A clock that moves 40 days per command, so posts spread over several years.
fn stepping_clock() -> Clock {
    let start = datetime!(2023-03-01 10:00 UTC).unix_timestamp();
    let calls = Arc::new(AtomicI64::new(0));
    Arc::new(move || {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        OffsetDateTime::from_unix_timestamp(start + n * 40 * 86_400).expect("valid time")
    })
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SledStore::open(&dir.path().join("log"), &SledOptions::default()).expect("store"));
    let posts = Posts::new(store.clone(), stepping_clock());
    Fixture {
        repo: dir.path().join("content.git"),
        _dir: dir,
        store,
        posts,
    }
}

fn settings() -> GitSettings {
    GitSettings {
        site_title: "Ada's \"Notes\": a blog".into(),
        base_url: "https://ada.example/".into(),
        author_email_domain: "ada.example".into(),
        ..GitSettings::default()
    }
}

fn actor(name: &str) -> Actor {
    Actor::user(Ulid::new(), name, Role::Admin)
}

fn patch() -> PostPatch {
    PostPatch::default()
}

struct Ids {
    tricky: Ulid,
    renamed: Ulid,
    deleted: Ulid,
    restored: Ulid,
}

/// Creates, edits, publishes, renames, deletes, restores and schedules posts.
fn script(posts: &Posts) -> Ids {
    let (ada, bob) = (actor("ada"), actor("bob"));
    let new = |title: &str, body: &str, tags: &[&str]| NewPost {
        title: title.into(),
        body: body.into(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        ..NewPost::default()
    };
    let tricky = new(
        "He said \"hi\": a test #1",
        "# Hi\n\n---\nnot front matter\n",
        &["rust", "yaml: tricky"],
    );
    let tricky = posts.create(&ada, tricky, None).expect("create").id;
    let renamed = posts
        .create(&bob, new("Second post", "two", &[]), None)
        .expect("create")
        .id;
    let body = PostPatch {
        body: Some("edited body\n".into()),
        ..patch()
    };
    posts.update(&ada, tricky, None, body, None).expect("edit");
    let publish = PostPatch {
        status: Some(Status::Published),
        ..patch()
    };
    posts.update(&ada, tricky, None, publish, None).expect("publish");
    for slug in ["second-renamed", "second-final"] {
        let rename = PostPatch {
            slug: Some(slug.into()),
            ..patch()
        };
        posts.update(&bob, renamed, None, rename, None).expect("rename");
    }
    let deleted = posts.create(&ada, new("Doomed", "bye", &[]), None).expect("create").id;
    posts.delete(&ada, deleted, None, None).expect("delete");
    let restored = posts
        .create(&ada, new("Phoenix", "rises", &["myth"]), None)
        .expect("create")
        .id;
    posts.delete(&ada, restored, None, None).expect("delete");
    posts.restore(&bob, restored, None, None).expect("restore");
    let schedule = PostPatch {
        status: Some(Status::Scheduled),
        publish_at: Some(datetime!(2031-01-01 08:00 UTC)),
        ..patch()
    };
    posts.update(&bob, renamed, None, schedule, None).expect("schedule");
    posts
        .create(&ada, new("Line one\nline: two", "multi", &[]), None)
        .expect("create");
    Ids {
        tricky,
        renamed,
        deleted,
        restored,
    }
}

fn git(repo: &Path, args: &[&str]) -> String {
    git_with(repo, args, &[], None)
}

fn git_with(repo: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> String {
    let mut cmd = Command::new("git");
    cmd.arg("--git-dir").arg(repo).args(args).envs(env.iter().copied());
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run git");
    if let Some(input) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .expect("write stdin");
    }
    let out = child.wait_with_output().expect("git output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "git {args:?} failed: {stderr}");
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn show(repo: &Path, path: &str) -> String {
    git(repo, &["show", &format!("main:{path}")])
}

fn files_at_main(repo: &Path) -> Vec<String> {
    let list = git(repo, &["ls-tree", "-r", "--name-only", "main"]);
    list.lines().map(Into::into).collect()
}

fn project(fx: &Fixture) -> GitProjection {
    let mut projection = GitProjection::open(&fx.repo, settings()).expect("open repo");
    projection.catch_up(fx.store.as_ref()).expect("catch up");
    projection
}

/// Where a post's file is: the year of its date (`publish_at`, else its creation).
fn path_of(post: &Post) -> String {
    let date = post.publish_at.unwrap_or(post.created_at);
    format!("content/posts/{}/{}.md", date.year(), post.slug)
}

/// Splits a post file into its parsed front matter and its body.
fn parse_file(text: &str) -> (Yaml, String) {
    let rest = text.strip_prefix("---\n").expect("front matter start");
    let (front, body) = rest.split_once("\n---\n").expect("front matter end");
    let doc = YamlLoader::load_from_str(front).expect("valid YAML").remove(0);
    (doc, body.to_owned())
}

fn strings(yaml: &Yaml) -> Vec<String> {
    yaml.as_vec()
        .expect("a list")
        .iter()
        .map(|y| y.as_str().expect("string").to_owned())
        .collect()
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("format")
}

#[test]
fn commits_match_the_log_one_to_one_and_git_fsck_is_clean() {
    let fx = fixture();
    script(&fx.posts);
    let head = fx.store.head();
    let projection = project(&fx);
    assert_eq!(projection.position().expect("position"), head);
    let fsck = Command::new("git")
        .arg("--git-dir")
        .arg(&fx.repo)
        .args(["fsck", "--strict"])
        .output()
        .expect("fsck");
    assert!(fsck.status.success(), "fsck: {}", String::from_utf8_lossy(&fsck.stderr));
    assert!(!String::from_utf8_lossy(&fsck.stderr).contains("warning"));

    let events = fx.store.events_after(0, 1000).expect("events");
    let log = git(
        &fx.repo,
        &[
            "log",
            "--first-parent",
            "--reverse",
            "--format=%an|%ae|%at|%cn|%ce|%ct%n%B%x00",
            "main",
        ],
    );
    let commits: Vec<&str> = log.split('\0').map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(commits.len() as u64, head, "one commit per event");
    for (commit, event) in commits.iter().zip(&events) {
        let (who, message) = commit.split_once('\n').expect("header line");
        let at = event.at.unix_timestamp();
        let expected_who = format!("{0}|{0}@ada.example|{at}|Quire|quire@quire.invalid|{at}", event.actor);
        assert_eq!(who, expected_who);
        for trailer in [
            format!("Event-Id: {}", event.id),
            format!("Event-Seq: {}", event.seq),
            format!("Stream-Version: {}", event.version),
            format!("Post-Id: {}", event.stream),
            format!("Actor: {}", event.actor),
        ] {
            assert!(message.lines().any(|l| l == trailer), "{trailer} missing in {message}");
        }
    }
    assert!(
        commits[0].contains("\nCreate \"He said \"hi\": a test #1\"\n"),
        "{}",
        commits[0]
    );
    assert!(commits[3].contains("\nPublish \""));
    assert!(commits
        .last()
        .expect("last")
        .contains("\nCreate \"Line one line: two\"\n"));
}

#[test]
fn files_at_head_match_the_read_model() {
    let fx = fixture();
    script(&fx.posts);
    project(&fx);
    let query = PostQuery {
        limit: 100,
        ..PostQuery::default()
    };
    let live = fx.store.list_posts(&query).expect("list");
    assert_eq!(live.len(), 4);
    let mut expected: Vec<String> = live.iter().map(path_of).collect();
    expected.push("hugo.toml".into());
    expected.sort();
    assert_eq!(files_at_main(&fx.repo), expected);
    for post in &live {
        let (front, body) = parse_file(&show(&fx.repo, &path_of(post)));
        assert_eq!(front["title"].as_str(), Some(post.title.as_str()));
        assert_eq!(front["slug"].as_str(), Some(post.slug.as_str()));
        assert_eq!(front["id"].as_str(), Some(post.id.to_string().as_str()));
        let draft = post.status != Status::Published;
        assert_eq!(front["draft"].as_bool(), Some(draft));
        assert_eq!(strings(&front["tags"]), post.tags);
        let date = rfc3339(post.publish_at.unwrap_or(post.created_at));
        assert_eq!(front["date"].as_str(), Some(date.as_str()));
        let lastmod = rfc3339(post.updated_at);
        assert_eq!(front["lastmod"].as_str(), Some(lastmod.as_str()));
        assert_eq!(body, post.body);
    }
}

#[test]
fn deleted_renamed_and_restored_posts_move_their_files() {
    let fx = fixture();
    let ids = script(&fx.posts);
    project(&fx);
    let files = files_at_main(&fx.repo);
    let deleted = fx.store.post(ids.deleted).expect("deleted post").expect("exists");
    assert!(!files.contains(&path_of(&deleted)), "a deleted post has no file");
    let restored = fx.store.post(ids.restored).expect("restored").expect("exists");
    assert!(files.contains(&path_of(&restored)), "a restored post is back");
    let renamed = fx.store.post(ids.renamed).expect("renamed").expect("exists");
    assert_eq!(renamed.slug, "second-final");
    let old = |f: &String| f.ends_with("/second-post.md") || f.ends_with("/second-renamed.md");
    assert!(!files.iter().any(old), "the old files are gone");
    let (front, _) = parse_file(&show(&fx.repo, &path_of(&renamed)));
    let aliases = strings(&front["aliases"]);
    assert_eq!(aliases, ["/posts/second-post/", "/posts/second-renamed/"]);
    assert_eq!(
        front["draft"].as_bool(),
        Some(true),
        "scheduled is draft until published"
    );
    let published = fx.store.post(ids.tricky).expect("tricky").expect("exists");
    let (front, _) = parse_file(&show(&fx.repo, &path_of(&published)));
    assert_eq!(front["draft"].as_bool(), Some(false));
    assert!(front["aliases"].is_badvalue(), "no aliases without a slug change");

    let hugo: toml::Table = show(&fx.repo, "hugo.toml").parse().expect("valid TOML");
    assert_eq!(hugo["title"].as_str(), Some("Ada's \"Notes\": a blog"));
    assert_eq!(hugo["baseURL"].as_str(), Some("https://ada.example/"));
    assert_eq!(hugo["permalinks"]["posts"].as_str(), Some("/posts/:slug/"));
}

#[test]
fn post_commits_lists_one_posts_history_newest_first() {
    let fx = fixture();
    let ids = script(&fx.posts);
    project(&fx);
    let history = post_commits(&fx.repo, ids.renamed).expect("history");
    let summaries: Vec<&str> = history.iter().map(|c| c.summary.as_str()).collect();
    let (schedule, update, create) = (
        "Schedule \"Second post\"",
        "Update \"Second post\"",
        "Create \"Second post\"",
    );
    assert_eq!(summaries, [schedule, update, update, create]);
    let seqs: Vec<Option<u64>> = history.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, [Some(12), Some(6), Some(5), Some(2)]);
    assert_eq!(history[0].author, "bob");
    assert_eq!(history[0].time, datetime!(2024-05-14 10:00 UTC));
    assert_eq!(post_commits(&fx.repo, Ulid::new()).expect("none"), []);
}

#[test]
fn a_restart_continues_without_duplicates_and_a_lost_ref_move_is_redone() {
    let fx = fixture();
    let ids = script(&fx.posts);
    drop(project(&fx));
    let first_head = fx.store.head();
    let title = PostPatch {
        title: Some("Renamed title".into()),
        ..patch()
    };
    fx.posts
        .update(&actor("ada"), ids.tricky, None, title, None)
        .expect("edit");

    let mut projection = GitProjection::open(&fx.repo, settings()).expect("reopen");
    assert_eq!(projection.position().expect("position"), first_head);
    assert_eq!(
        projection.catch_up(fx.store.as_ref()).expect("catch up"),
        1,
        "only the new event"
    );
    assert_eq!(projection.catch_up(fx.store.as_ref()).expect("again"), 0);
    let all = git(&fx.repo, &["rev-list", "main"]);
    assert_eq!(all.lines().count() as u64, fx.store.head());
    drop(projection);

    // A crash after writing objects but before moving `main`: main is three commits behind.
    let behind = git(&fx.repo, &["rev-parse", "main~3"]);
    git(&fx.repo, &["update-ref", "refs/heads/main", behind.trim()]);
    let mut projection = GitProjection::open(&fx.repo, settings()).expect("reopen");
    assert_eq!(projection.position().expect("position"), fx.store.head() - 3);
    assert_eq!(projection.catch_up(fx.store.as_ref()).expect("redo"), 3);
    assert_eq!(
        git(&fx.repo, &["rev-list", "main"]),
        all,
        "redone commits are identical"
    );
    let report = verify(&fx.repo, &settings(), fx.store.as_ref()).expect("verify");
    assert!(report.is_ok(), "{:?}", report.problems);
}

#[test]
fn a_lock_file_left_by_a_killed_process_does_not_block_the_projection() {
    let fx = fixture();
    let ids = script(&fx.posts);
    drop(project(&fx));
    let head_before = git(&fx.repo, &["rev-parse", "main"]);
    // A process killed while moving `main` leaves its lock file behind.
    std::fs::write(fx.repo.join("refs/heads/main.lock"), head_before.as_bytes()).expect("lock file");
    let title = PostPatch {
        title: Some("Edited after a crash".into()),
        ..patch()
    };
    fx.posts
        .update(&actor("ada"), ids.tricky, None, title, None)
        .expect("edit");
    let mut projection = GitProjection::open(&fx.repo, settings()).expect("reopen");
    assert_eq!(
        projection
            .catch_up(fx.store.as_ref())
            .expect("catch up past the stale lock"),
        1
    );
    assert!(!fx.repo.join("refs/heads/main.lock").exists());
    assert_eq!(
        git(&fx.repo, &["rev-list", "main"]).lines().count() as u64,
        fx.store.head()
    );
}

#[test]
fn a_stale_writer_loses_the_compare_and_swap_and_recovers() {
    let fx = fixture();
    let ids = script(&fx.posts);
    let (mut first, mut second) = (project(&fx), project(&fx));
    let last_event = || fx.store.events_after(fx.store.head() - 1, 1).expect("event").remove(0);
    let title = PostPatch {
        title: Some("Raced".into()),
        ..patch()
    };
    fx.posts
        .update(&actor("ada"), ids.tricky, None, title, None)
        .expect("edit");
    let event = last_event();
    first
        .apply(fx.store.as_ref(), &event)
        .expect("the first writer commits");
    let tip = git(&fx.repo, &["rev-parse", "main"]);
    let err = second
        .apply(fx.store.as_ref(), &event)
        .expect_err("main moved under the second writer");
    assert!(matches!(err, GitError::RefMoved { .. }), "{err}");
    assert_eq!(git(&fx.repo, &["rev-parse", "main"]), tip, "main was not touched");
    assert!(matches!(
        second.apply(fx.store.as_ref(), &event),
        Err(GitError::NotLoaded)
    ));
    assert_eq!(second.catch_up(fx.store.as_ref()).expect("recovers"), 0);

    let edit = PostPatch {
        body: Some("again".into()),
        ..patch()
    };
    fx.posts
        .update(&actor("ada"), ids.tricky, None, edit, None)
        .expect("edit");
    assert_eq!(second.catch_up(fx.store.as_ref()).expect("second"), 1);
    assert_eq!(first.catch_up(fx.store.as_ref()).expect("sees the move"), 0);
    let report = verify(&fx.repo, &settings(), fx.store.as_ref()).expect("verify");
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.position, fx.store.head());
}

#[test]
fn rebuild_gives_identical_commits_and_verify_is_ok() {
    let fx = fixture();
    script(&fx.posts);
    drop(project(&fx));
    let before = git(&fx.repo, &["rev-list", "main"]);
    let report = verify(&fx.repo, &settings(), fx.store.as_ref()).expect("verify");
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(
        (report.position, report.head, report.commits),
        (fx.store.head(), fx.store.head(), fx.store.head())
    );
    let mut seen = Vec::new();
    let made = rebuild(&fx.repo, &settings(), fx.store.as_ref(), |done, total| {
        seen.push((done, total))
    })
    .expect("rebuild");
    assert_eq!(made, fx.store.head());
    assert_eq!(seen.last().copied(), Some((made, made)));
    assert_eq!(git(&fx.repo, &["rev-list", "main"]), before);
    assert_eq!(git(&fx.repo, &["symbolic-ref", "HEAD"]).trim(), "refs/heads/main");
}

#[test]
fn verify_names_a_hand_made_commit_and_the_file_it_changed() {
    let fx = fixture();
    let ids = script(&fx.posts);
    drop(project(&fx));
    let tip = git(&fx.repo, &["rev-parse", "main"]).trim().to_owned();
    let post = fx.store.post(ids.tricky).expect("post").expect("exists");
    let blob = git_with(&fx.repo, &["hash-object", "-w", "--stdin"], &[], Some(b"hand edit\n"));
    let index = fx.repo.join("hand-index");
    let env = [("GIT_INDEX_FILE", index.to_str().expect("utf-8 path"))];
    git_with(&fx.repo, &["read-tree", "main"], &env, None);
    let cacheinfo = format!("100644,{},{}", blob.trim(), path_of(&post));
    git_with(&fx.repo, &["update-index", "--cacheinfo", &cacheinfo], &env, None);
    let tree = git_with(&fx.repo, &["write-tree"], &env, None);
    let who = [
        ("GIT_AUTHOR_NAME", "mallory"),
        ("GIT_AUTHOR_EMAIL", "m@x"),
        ("GIT_COMMITTER_NAME", "m"),
        ("GIT_COMMITTER_EMAIL", "m@x"),
    ];
    let commit = git_with(
        &fx.repo,
        &["commit-tree", tree.trim(), "-p", &tip, "-m", "fix typo"],
        &who,
        None,
    );
    git(&fx.repo, &["update-ref", "refs/heads/main", commit.trim(), &tip]);

    let report = verify(&fx.repo, &settings(), fx.store.as_ref()).expect("verify");
    let commit = commit.trim().to_owned();
    assert_eq!(
        report.problems,
        [
            Problem::Foreign {
                commit: commit.clone(),
                summary: "fix typo".into()
            },
            Problem::Path {
                commit,
                seq: None,
                path: path_of(&post),
                change: PathChange::Different
            },
        ]
    );
    // The projection goes on from the last projected commit, on top of the hand-made one.
    let title = PostPatch {
        title: Some("After the hand edit".into()),
        ..patch()
    };
    fx.posts
        .update(&actor("ada"), ids.renamed, None, title, None)
        .expect("edit");
    assert_eq!(project(&fx).position().expect("position"), fx.store.head());
}

/// Replaces commit `at` (0-based, oldest first) by `edit` of it, re-creates every later commit
/// on top of the replacement and moves main there. Returns the old ids and the replacement's id.
fn rewrite_history(repo: &Path, at: usize, edit: impl FnOnce(String) -> String) -> (Vec<String>, String) {
    let ids: Vec<String> = git(repo, &["rev-list", "--reverse", "main"])
        .lines()
        .map(Into::into)
        .collect();
    let (mut edit, mut parent, mut replaced) = (Some(edit), String::new(), String::new());
    for (i, id) in ids.iter().enumerate().skip(at) {
        let raw = git(repo, &["cat-file", "commit", id]);
        let raw = match edit.take() {
            Some(edit) => edit(raw),
            None => raw.replacen(&ids[i - 1], &parent, 1),
        };
        let args = ["hash-object", "-t", "commit", "-w", "--stdin"];
        parent = git_with(repo, &args, &[], Some(raw.as_bytes())).trim().to_owned();
        if i == at {
            replaced.clone_from(&parent);
        }
    }
    git(repo, &["update-ref", "refs/heads/main", &parent]);
    (ids, replaced)
}

#[test]
fn verify_names_the_rewritten_commit_of_a_replaced_history() {
    let fx = fixture();
    script(&fx.posts);
    drop(project(&fx));
    let (ids, replaced) = rewrite_history(&fx.repo, 4, |raw| {
        raw.replacen("author bob <bob@ada.example>", "author eve <eve@ada.example>", 1)
    });
    let report = verify(&fx.repo, &settings(), fx.store.as_ref()).expect("verify");
    let expected = ids[4].clone();
    let rewritten = Problem::Rewritten {
        commit: replaced,
        seq: 5,
        expected,
        fields: vec!["author"],
    };
    assert_eq!(report.problems, [rewritten]);
}

#[test]
fn verify_reports_a_lost_commit() {
    let fx = fixture();
    script(&fx.posts);
    drop(project(&fx));
    let ids: Vec<String> = git(&fx.repo, &["rev-list", "--reverse", "main"])
        .lines()
        .map(Into::into)
        .collect();
    // Drop commit 3 by re-parenting commit 4 onto commit 2.
    rewrite_history(&fx.repo, 3, |raw| raw.replacen(&ids[2], &ids[1], 1));
    let report = verify(&fx.repo, &settings(), fx.store.as_ref()).expect("verify");
    assert_eq!(report.problems.first(), Some(&Problem::Missing { seq: 3 }), "{report}");
    assert!(!report.is_ok());
}

#[test]
fn the_runner_keeps_git_up_and_stops() {
    let fx = fixture();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let waits = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_time()
        .build()
        .expect("runtime");
    let status = Arc::new(quire_storage::runner::ProjectionStatus::default());
    let runner = quire_storage::runner::Runner {
        settings: quire_storage::runner::RunnerSettings::new("git"),
        store: fx.store.clone(),
        report: status.clone(),
        stop: stop_rx,
        waits: waits.handle().clone(),
    };
    let repo = fx.repo.clone();
    let follower = std::thread::spawn(move || runner.run(|| Ok(GitProjection::open(&repo, settings())?)));
    script(&fx.posts);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let position = || quire_storage::git::verify(&fx.repo, &settings(), fx.store.as_ref()).map(|r| r.position);
    while position().unwrap_or(0) < fx.store.head() {
        assert!(std::time::Instant::now() < deadline, "the follower did not catch up");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    stop_tx.send(true).expect("stop");
    follower.join().expect("join");
    assert_eq!(status.position(), Some(fx.store.head()), "the status followed");
    assert_eq!(status.last_error(), None);
    assert!(verify(&fx.repo, &settings(), fx.store.as_ref())
        .expect("verify")
        .is_ok());
}
