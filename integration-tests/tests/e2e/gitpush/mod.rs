//! Git as a way in: clone and push over smart HTTP (`/git/content.git`) with the real `git`
//! client against the real `quire` binary. A push becomes events (with the pushed commit's id)
//! and pages, and `main` becomes the pushed commits themselves; a bad push changes nothing;
//! credentials and scopes are checked.

mod media;
mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use quire_integration_tests::git::{main_commits, main_sha, quire, wait_for_git};
use quire_integration_tests::{BinaryServer, Client, ADMIN};
use quire_openapi::{PostCommits, PostResponse};
use serde_json::json;

use support::*;

#[tokio::test]
async fn clone_needs_credentials_and_a_read_only_token_cannot_push() {
    let s = setup().await;
    s.admin
        .create_post(json!({"title": "Hello", "body": "first", "status": "published"}))
        .await;
    wait_for_git(&s.admin).await;

    let anonymous = reqwest::get(format!(
        "{}/git/content.git/info/refs?service=git-upload-pack",
        s.server.base
    ))
    .await
    .expect("GET info/refs");
    assert_eq!(anonymous.status(), 401);
    let challenge = anonymous.headers()["www-authenticate"].to_str().expect("ascii");
    assert!(challenge.starts_with("Basic realm="), "{challenge}");
    let host = s.server.base.trim_start_matches("http://");
    let stderr = git_fails(&s.work, &["clone", &format!("http://{host}/git/content.git"), "anon"]);
    assert!(
        stderr.contains("401") || stderr.contains("Authentication failed"),
        "{stderr}"
    );
    let wrong = git_fails(&s.work, &["clone", &clone_url(&s.server, "qk_wrong"), "wrong"]);
    assert!(
        wrong.contains("401") || wrong.contains("Authentication failed"),
        "{wrong}"
    );

    let read = s.admin.api_token(&["posts:read"]).await;
    git_ok(&s.work, &["clone", &clone_url(&s.server, &read), "clone"]);
    let clone = s.work.join("clone");
    assert_eq!(
        git_ok(&clone, &["rev-parse", "HEAD"]).trim(),
        main_sha(&s.data.join("content.git"))
    );
    let file = post_file(&clone, "hello");
    let text = std::fs::read_to_string(&file).expect("post file");
    std::fs::write(&file, text.replace("first", "changed")).expect("edit");
    git_ok(&clone, &["commit", "-am", "edit"]);
    let head = events_after(&s.admin, 0).await.head;
    let refused = git_fails(&clone, &["push", "origin", "main"]);
    assert!(refused.contains("403"), "{refused}");
    assert_eq!(
        events_after(&s.admin, 0).await.head,
        head,
        "a refused push stores nothing"
    );
}

#[tokio::test]
async fn a_push_becomes_events_and_pages_and_main_is_the_pushed_commits() {
    let s = setup().await;
    for (title, body) in [("Edited", "old body"), ("Doomed", "to delete"), ("Moved", "to rename")] {
        s.admin
            .create_post(json!({"title": title, "body": body, "status": "published"}))
            .await;
    }
    wait_for_git(&s.admin).await;
    let writer = s.admin.api_token(&["posts:read", "posts:write", "posts:publish"]).await;
    git_ok(&s.work, &["clone", &clone_url(&s.server, &writer), "clone"]);
    let clone = s.work.join("clone");
    let head = events_after(&s.admin, 0).await.head;

    // Commit 1: edit a body, add a post without an id.
    let edited = post_file(&clone, "edited");
    let text = std::fs::read_to_string(&edited).expect("read");
    std::fs::write(&edited, text.replace("old body", "new body from git")).expect("edit");
    let year = edited.parent().expect("year folder").to_owned();
    let by_hand = year.join("from-git.md");
    std::fs::write(
        &by_hand,
        "---\ntitle: \"Written in git\"\ndate: 2026-02-03T04:05:06Z\ndraft: false\ntags: [\"git\"]\n---\nHello from an editor.\n",
    )
    .expect("new file");
    git_ok(&clone, &["add", "-A"]);
    git_ok(&clone, &["commit", "-m", "edit and add"]);
    let first = git_ok(&clone, &["rev-parse", "HEAD"]).trim().to_owned();

    // Commit 2: delete a post, rename another (with its slug).
    let doomed = post_file(&clone, "doomed");
    git_ok(&clone, &["rm", "-q", &relative(&clone, &doomed)]);
    let moved = post_file(&clone, "moved");
    let renamed = moved.with_file_name("moved-away.md");
    git_ok(&clone, &["mv", &relative(&clone, &moved), &relative(&clone, &renamed)]);
    let text = std::fs::read_to_string(&renamed).expect("read");
    std::fs::write(&renamed, text.replace("slug: \"moved\"", "slug: \"moved-away\"")).expect("slug");
    git_ok(&clone, &["commit", "-am", "delete and rename"]);
    let second = git_ok(&clone, &["rev-parse", "HEAD"]).trim().to_owned();

    let pushed = git_ok(&clone, &["push", "origin", "main"]);
    assert!(
        pushed.contains("Quire imported 4 event(s) from 2 commit(s)"),
        "{pushed}"
    );
    assert!(pushed.contains("there is nothing to pull"), "{pushed}");

    let events = events_after(&s.admin, head).await.events;
    let seen: Vec<(String, Option<String>)> = events
        .iter()
        .map(|e| (e.event_type.clone(), e.origin.as_ref().and_then(|o| o.commit.clone())))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("PostUpdated".to_owned(), Some(first.clone())),
            ("PostCreated".to_owned(), Some(first.clone())),
            ("PostUpdated".to_owned(), Some(second.clone())),
            ("PostDeleted".to_owned(), Some(second.clone())),
        ]
    );
    assert!(events
        .iter()
        .all(|e| e.origin.as_ref().is_some_and(|o| o.source == "git-push")));
    assert!(events.iter().all(|e| e.actor == ADMIN.0), "the pusher is the actor");
    let by_hand_id = events[1].stream.clone();

    wait_for_text(&s.admin, "/posts/from-git/", "Hello from an editor.").await;
    wait_for_text(&s.admin, "/posts/edited/", "new body from git").await;
    wait_for_page(&s.admin, "/posts/moved-away/", 200).await;
    wait_for_page(&s.admin, "/posts/doomed/", 404).await;

    // main is the pushed commits themselves: ids, authors, messages; nothing to pull.
    let repo = s.data.join("content.git");
    let git_dir = repo.to_string_lossy().into_owned();
    assert_eq!(main_sha(&repo), second, "the push's answer waited for main");
    let remote = git_ok(&clone, &["ls-remote", "origin", "refs/heads/main"]);
    assert!(remote.starts_with(&second), "{remote}");
    assert_eq!(
        git_ok(&clone, &["--git-dir", &git_dir, "rev-parse", "main^", "main~2"]),
        format!("{first}\n{}", git_ok(&clone, &["rev-parse", "HEAD~2"])),
        "the pushed commits sit on Quire's main as it was"
    );
    let log = git_ok(
        &clone,
        &["--git-dir", &git_dir, "log", "-2", "--format=%H|%an|%ae|%s", "main"],
    );
    assert_eq!(
        log.trim(),
        format!(
            "{second}|Pusher|pusher@example.invalid|delete and rename\n{first}|Pusher|pusher@example.invalid|edit and add"
        )
    );
    let pulled = git_ok(&clone, &["pull", "origin", "main"]);
    assert!(pulled.contains("Already up to date"), "{pulled}");
    assert_eq!(git_ok(&clone, &["rev-parse", "HEAD"]).trim(), second);
    let note = git_ok(&clone, &["--git-dir", &git_dir, "notes", "--ref=quire", "show", &first]);
    assert_eq!(
        note.lines().count(),
        2,
        "the note lists the commit's two events: {note}"
    );

    // The file written by hand keeps having no id in git; the API knows its post.
    let path = relative(&clone, &by_hand);
    let in_git = git_ok(&clone, &["--git-dir", &git_dir, "show", &format!("main:{path}")]);
    assert!(!in_git.contains("\nid:"), "{in_git}");
    let post: PostResponse = s
        .admin
        .get(&format!("/api/v1/posts/{by_hand_id}"))
        .await
        .json()
        .await
        .expect("post json");
    assert_eq!(
        (post.title.as_str(), post.slug.as_str()),
        ("Written in git", "from-git")
    );

    // An API edit makes Quire's own commit on top of the pushed ones.
    let edited_post = events[0].stream.clone();
    let current: PostResponse = s
        .admin
        .get(&format!("/api/v1/posts/{edited_post}"))
        .await
        .json()
        .await
        .expect("post json");
    let etag = format!("\"{}\"", current.version);
    let response = s
        .admin
        .patch_json(
            &format!("/api/v1/posts/{edited_post}"),
            &json!({"body": "edited through the API"}),
            &[("if-match", etag.as_str())],
        )
        .await;
    assert_eq!(response.status(), 200);
    wait_for_git(&s.admin).await;
    assert_eq!(
        git_ok(&clone, &["--git-dir", &git_dir, "rev-parse", "main^"]).trim(),
        second
    );
    let quire_commit = git_ok(&clone, &["--git-dir", &git_dir, "log", "-1", "--format=%B", "main"]);
    assert!(quire_commit.contains("Event-Seq: "), "{quire_commit}");

    // A second push edits the id-less file: the same post is updated.
    let pulled = git_ok(&clone, &["pull", "origin", "main"]);
    assert!(pulled.contains("Fast-forward"), "{pulled}");
    let text = std::fs::read_to_string(&by_hand).expect("read");
    std::fs::write(&by_hand, text.replace("Hello from an editor.", "Hello again.")).expect("edit");
    git_ok(&clone, &["commit", "-am", "edit the hand-made post"]);
    let third = git_ok(&clone, &["rev-parse", "HEAD"]).trim().to_owned();
    let before = events_after(&s.admin, 0).await.head;
    git_ok(&clone, &["push", "origin", "main"]);
    let events = events_after(&s.admin, before).await.events;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (events[0].event_type.as_str(), events[0].stream.as_str()),
        ("PostUpdated", by_hand_id.as_str())
    );
    wait_for_text(&s.admin, "/posts/from-git/", "Hello again.").await;
    assert_eq!(main_sha(&repo), third);
    let history: PostCommits = s
        .admin
        .get(&format!("/api/v1/posts/{by_hand_id}/commits"))
        .await
        .json()
        .await
        .expect("commits json");
    let shas: Vec<&str> = history.commits.iter().map(|c| c.sha.as_str()).collect();
    assert_eq!(
        shas,
        [third.as_str(), first.as_str()],
        "a post's history has its adopted commits"
    );

    // The clone builds with Hugo: new and edited pages, none for the deleted. (Hugo names a
    // page without `slug` after its title, where Quire takes the file name.)
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hugo-layout/layouts"),
        &clone.join("layouts"),
    );
    let public = s.work.join("public");
    let hugo = Command::new("hugo")
        .arg("--source")
        .arg(&clone)
        .arg("--destination")
        .arg(&public)
        .output()
        .expect("run hugo (scripts/test installs it)");
    assert!(hugo.status.success(), "hugo: {}", String::from_utf8_lossy(&hugo.stderr));
    let built = |slug: &str| std::fs::read_to_string(public.join("posts").join(slug).join("index.html")).ok();
    let by_hand_page = built("from-git").or_else(|| built("written-in-git"));
    assert!(by_hand_page.is_some_and(|p| p.contains("Hello again.")));
    assert!(built("edited").is_some_and(|p| p.contains("edited through the API")));
    assert!(built("moved-away").is_some() && built("doomed").is_none());

    // verify, rebuild (same ids), and a restore from a mirror (same events, same ids).
    let tip = main_sha(&repo);
    let commits = main_commits(&repo);
    drop(s.server);
    assert_verified(&s.data);
    let rebuild = quire(&s.data, &["rebuild", "git"]);
    assert!(
        rebuild.status.success(),
        "rebuild: {}",
        String::from_utf8_lossy(&rebuild.stderr)
    );
    assert_eq!(main_sha(&repo), tip, "rebuilding git gives the same commit ids");
    assert_verified(&s.data);

    let mirror = s.work.join("mirror.git");
    git_ok(&s.work, &["init", "-q", "--bare", &mirror.to_string_lossy()]);
    let mirror_url = mirror.to_string_lossy().into_owned();
    git_ok(
        &s.work,
        &[
            "--git-dir",
            &git_dir,
            "push",
            "-q",
            &mirror_url,
            "main:main",
            "+refs/notes/*:refs/notes/*",
        ],
    );
    let restored = s.work.join("restored");
    let restore = quire(&restored, &["restore", "--from-git", &mirror_url]);
    assert!(
        restore.status.success(),
        "restore: {}{}",
        String::from_utf8_lossy(&restore.stdout),
        String::from_utf8_lossy(&restore.stderr)
    );
    assert_eq!(main_commits(&restored.join("content.git")), commits, "the same commits");
    let export = |data: &Path| String::from_utf8(quire(data, &["export"]).stdout).expect("utf-8");
    assert_eq!(export(&restored), export(&s.data), "the same events, byte for byte");
}

#[tokio::test]
async fn a_commit_the_log_cannot_rebuild_gets_quires_own_commits() {
    let s = setup().await;
    s.admin
        .create_post(json!({"title": "Seed", "body": "seed", "status": "published"}))
        .await;
    wait_for_git(&s.admin).await;
    let writer = s.admin.api_token(&["posts:read", "posts:write", "posts:publish"]).await;
    git_ok(&s.work, &["clone", &clone_url(&s.server, &writer), "clone"]);
    let clone = s.work.join("clone");
    let deep = post_file(&clone, "seed").parent().expect("year").join("03");
    std::fs::create_dir_all(&deep).expect("mkdir");
    std::fs::write(deep.join("deep.md"), "---\ntitle: \"Deep\"\n---\ntwo folders down\n").expect("write");
    git_ok(&clone, &["add", "-A"]);
    git_ok(&clone, &["commit", "-m", "a post two folders down"]);
    let pushed = git_ok(&clone, &["push", "origin", "main"]);
    assert!(pushed.contains("0 of 1 commit(s) are kept as pushed"), "{pushed}");
    wait_for_page(&s.admin, "/posts/deep/", 200).await;
    wait_for_git(&s.admin).await;
    let repo = s.data.join("content.git");
    let local = git_ok(&clone, &["rev-parse", "HEAD"]).trim().to_owned();
    assert_ne!(main_sha(&repo), local);
    let message = git_ok(
        &clone,
        &["--git-dir", &repo.to_string_lossy(), "log", "-1", "--format=%B", "main"],
    );
    assert!(message.contains(&format!("Pushed-Commit: {local}")), "{message}");
    git_ok(&clone, &["pull", "--rebase", "origin", "main"]);
    assert_eq!(git_ok(&clone, &["rev-parse", "HEAD"]).trim(), main_sha(&repo));
    drop(s.server);
    assert_verified(&s.data);
}

#[tokio::test]
async fn a_bad_push_is_refused_whole_with_the_paths() {
    let s = setup().await;
    s.admin
        .create_post(json!({"title": "Keep", "body": "unchanged", "status": "published"}))
        .await;
    wait_for_git(&s.admin).await;
    let writer = s.admin.api_token(&["posts:read", "posts:write", "posts:publish"]).await;
    git_ok(&s.work, &["clone", &clone_url(&s.server, &writer), "clone"]);
    let clone = s.work.join("clone");
    let repo = s.data.join("content.git");
    let (head, tip) = (events_after(&s.admin, 0).await.head, main_sha(&repo));

    let keep = post_file(&clone, "keep");
    let text = std::fs::read_to_string(&keep).expect("read");
    std::fs::write(&keep, text.replace("unchanged", "a good change")).expect("edit");
    let bad = keep.with_file_name("x.md");
    std::fs::write(&bad, "---\ntitle: \"Bad\"\ndate: yesterday\n---\nbody\n").expect("bad file");
    std::fs::create_dir_all(clone.join("layouts")).expect("layouts");
    std::fs::write(clone.join("layouts/single.html"), "<html></html>").expect("layout");
    git_ok(&clone, &["add", "-A"]);
    git_ok(&clone, &["commit", "-m", "one good, two bad"]);
    let refused = git_fails(&clone, &["push", "origin", "main"]);
    let bad_path = relative(&clone, &bad);
    assert!(
        refused.contains(&format!("remote: {bad_path}: front matter: 'date' is not a date")),
        "{refused}"
    );
    assert!(
        refused.contains("remote: layouts/single.html: Quire does not import this file"),
        "{refused}"
    );
    assert_eq!(events_after(&s.admin, 0).await.head, head, "no events");
    assert_eq!(main_sha(&repo), tip, "main unchanged");
    let page = wait_for_page(&s.admin, "/posts/keep/", 200).await;
    assert!(page.contains("unchanged") && !page.contains("a good change"));

    let other = git_fails(&clone, &["push", "origin", "HEAD:refs/heads/feature"]);
    assert!(
        other.contains("refs/heads/feature: only refs/heads/main is accepted"),
        "{other}"
    );
    git_ok(&clone, &["reset", "-q", "--hard", &tip]);
    git_ok(&clone, &["commit", "-q", "--amend", "-m", "rewritten history"]);
    let forced = git_fails(&clone, &["push", "--force", "origin", "main"]);
    assert!(forced.contains("remote: non-fast-forward"), "{forced}");
    assert_eq!(
        (events_after(&s.admin, 0).await.head, main_sha(&repo)),
        (head, tip.clone())
    );
    let staging = s.data.join("git-incoming");
    let left: Vec<_> = std::fs::read_dir(&staging)
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "staging repositories are removed: {left:?}");
}

#[tokio::test]
async fn api_writes_racing_pushes_lose_nothing() {
    let s = setup().await;
    s.admin
        .create_post(json!({"title": "Seed", "body": "seed", "status": "published"}))
        .await;
    wait_for_git(&s.admin).await;
    let writer = s.admin.api_token(&["posts:read", "posts:write", "posts:publish"]).await;
    git_ok(&s.work, &["clone", &clone_url(&s.server, &writer), "clone"]);
    let clone = s.work.join("clone");

    let api = s.admin.clone();
    let writes = tokio::spawn(async move {
        let mut ids = Vec::new();
        for n in 0..20 {
            let post = api
                .create_post(json!({"title": format!("API {n}"), "body": "from the API", "status": "published"}))
                .await;
            ids.push(post.id);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        ids
    });
    let clone_dir = clone.clone();
    let pushes = tokio::task::spawn_blocking(move || {
        let year = post_file(&clone_dir, "seed").parent().expect("year").to_owned();
        for n in 0..3 {
            std::fs::write(
                year.join(format!("pushed-{n}.md")),
                format!("---\ntitle: \"Pushed {n}\"\n---\nfrom git\n"),
            )
            .expect("write");
            git_ok(&clone_dir, &["add", "-A"]);
            git_ok(&clone_dir, &["commit", "-m", &format!("pushed {n}")]);
            let mut tries = 0;
            while !git_raw(&clone_dir, &["push", "origin", "main"]).status.success() {
                tries += 1;
                assert!(tries < 200, "the push never got through");
                std::thread::sleep(Duration::from_millis(100));
                git_ok(&clone_dir, &["pull", "--rebase", "origin", "main"]);
            }
            git_ok(&clone_dir, &["pull", "--rebase", "origin", "main"]);
        }
    });
    let ids = writes.await.expect("API writes");
    pushes.await.expect("pushes");
    wait_for_git(&s.admin).await;
    for id in ids {
        assert_eq!(s.admin.get(&format!("/api/v1/posts/{id}")).await.status(), 200);
    }
    for n in 0..3 {
        wait_for_page(&s.admin, &format!("/posts/pushed-{n}/"), 200).await;
    }
    quire_integration_tests::git::fsck(&s.data.join("content.git"), &["--no-dangling"]);
    drop(s.server);
    assert_verified(&s.data);
}

#[tokio::test]
async fn sigkill_during_a_push_keeps_all_of_it_or_none() {
    let s = setup().await;
    s.admin
        .create_post(json!({"title": "Seed", "body": "seed", "status": "published"}))
        .await;
    wait_for_git(&s.admin).await;
    let writer = s.admin.api_token(&["posts:read", "posts:write", "posts:publish"]).await;
    let clone = s.work.join("clone");
    git_ok(&s.work, &["clone", &clone_url(&s.server, &writer), "clone"]);
    let year = post_file(&clone, "seed").parent().expect("year").to_owned();
    let mut server = s.server;
    let mut expected = 0;
    for (round, delay_ms) in [5u64, 40, 120].into_iter().enumerate() {
        for n in 0..5 {
            let body = format!("---\ntitle: \"Round {round} post {n}\"\n---\nbody\n");
            std::fs::write(year.join(format!("r{round}-{n}.md")), body).expect("write");
        }
        git_ok(&clone, &["add", "-A"]);
        git_ok(&clone, &["commit", "-m", &format!("round {round}")]);
        let push = Command::new("git")
            .current_dir(&clone)
            .args(["push", "origin", "main"])
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start git push");
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        server.signal(libc::SIGKILL);
        let _ = tokio::task::spawn_blocking(move || {
            let mut push = push;
            push.wait()
        })
        .await;
        server = BinaryServer::start(&s.data).await;
        let leftovers: Vec<_> = std::fs::read_dir(s.data.join("git-incoming"))
            .map(|d| d.flatten().collect())
            .unwrap_or_default();
        assert!(
            leftovers.is_empty(),
            "a restart removes interrupted pushes: {leftovers:?}"
        );
        git_ok(&clone, &["remote", "set-url", "origin", &clone_url(&server, &writer)]);
        let admin = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
        let count = pushed_events(&admin).await;
        assert!(
            count == expected || count == expected + 5,
            "round {round}: {count} pushed events, expected {expected} or {}",
            expected + 5
        );
        expected = count;
        wait_for_git(&admin).await;
        // Start the next round from Quire's main, whatever happened.
        git_ok(&clone, &["fetch", "origin"]);
        git_ok(&clone, &["reset", "-q", "--hard", "origin/main"]);
    }
    drop(server);
    assert_verified(&s.data);
}
