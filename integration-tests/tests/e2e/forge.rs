//! Forge webhooks: a local bare repository plays GitHub, Gitea or GitLab. Commits pushed to it
//! and announced by a signed delivery to `POST /api/v1/hooks/git/{remote}` become events (origin
//! `forge-hook` with the commit); a wrong signature, an unknown remote or a remote that does not
//! pull get 401 and nothing is fetched; a diverged forge or a refused file is reported in
//! `/api/v1/status` and `/metrics`, and nothing is imported.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use hmac::{Hmac, Mac};
use quire_api::git::RemoteConfig;
use quire_integration_tests::git::{fsck, git, main_sha, quire, wait_for_git, wait_for_status};
use quire_integration_tests::{Client, TestServer};
use quire_openapi::{AuditReport, EventList, PostResponse, PullStatus, StatusResponse};
use serde_json::json;

const SECRET: &str = "forge-secret-0123456789";

struct Forge {
    _dir: tempfile::TempDir,
    repo: PathBuf,
    clone: PathBuf,
    server: TestServer,
    admin: Client,
    /// Quire's first post, "Hello" (slug `hello`).
    hello: PostResponse,
}

/// A server whose remote `forge` (a bare repository) pulls, plus a remote `backup` that does
/// not; once the mirror has pushed Quire's first post, a clone of the forge.
async fn forge() -> Forge {
    forge_pulling_every(0).await
}

/// [`forge`], its remote also pulling every `interval` seconds (0: never).
async fn forge_pulling_every(interval: u64) -> Forge {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("forge.git");
    let backup = dir.path().join("backup.git");
    for bare in [&repo, &backup] {
        git(
            None,
            &[
                "init",
                "--quiet",
                "--bare",
                "--initial-branch=main",
                &bare.to_string_lossy(),
            ],
        );
    }
    let (url, backup_url) = (
        repo.to_string_lossy().into_owned(),
        backup.to_string_lossy().into_owned(),
    );
    let server = TestServer::start_with(|config| {
        config.git.push_retry_initial_secs = 1;
        config.git.push_retry_max_secs = 2;
        config.git.remotes = vec![
            RemoteConfig {
                name: Some("forge".into()),
                url,
                pull: true,
                user: Some("admin".into()),
                secret: Some(SECRET.into()),
                pull_interval_secs: interval,
                ..RemoteConfig::default()
            },
            RemoteConfig {
                name: Some("backup".into()),
                url: backup_url,
                secret: Some(SECRET.into()),
                ..RemoteConfig::default()
            },
        ];
    })
    .await;
    let admin = server.admin().await;
    let hello = admin
        .create_post(json!({"title": "Hello", "body": "from Quire", "status": "published"}))
        .await;
    wait_for_status(&admin, Duration::from_secs(60), |s| {
        s.git.lag == Some(0) && s.git.mirrors[0].pushed_seq == Some(s.head)
    })
    .await;
    let clone = dir.path().join("clone");
    git(
        None,
        &["clone", "--quiet", &repo.to_string_lossy(), &clone.to_string_lossy()],
    );
    Forge {
        _dir: dir,
        repo,
        clone,
        server,
        admin,
        hello,
    }
}

/// Commits every change in `clone` and pushes it to the forge; returns the commit.
fn commit_and_push(clone: &Path, message: &str) -> String {
    let run = |args: &[&str]| {
        let out = Command::new("git")
            .current_dir(clone)
            .args([
                "-c",
                "user.name=Forge Editor",
                "-c",
                "user.email=editor@example.invalid",
            ])
            .args(args)
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    run(&["add", "-A"]);
    run(&["commit", "-q", "-m", message]);
    run(&["push", "-q", "origin", "main"]);
    run(&["rev-parse", "HEAD"])
}

/// `git --git-dir <repo> <args>`; returns its output.
fn in_repo(repo: &Path, args: &[&str]) -> String {
    git(None, &[&["--git-dir", &repo.to_string_lossy()], args].concat())
}

fn write(clone: &Path, path: &str, text: &str) {
    let file = clone.join(path);
    std::fs::create_dir_all(file.parent().expect("folder")).expect("mkdir");
    std::fs::write(file, text).expect("write");
}

/// The file of post `slug` in the clone (`content/posts/<year>/<slug>.md`).
fn post_file(clone: &Path, slug: &str) -> PathBuf {
    let posts = clone.join("content/posts");
    std::fs::read_dir(&posts)
        .expect("posts folder")
        .flatten()
        .map(|year| year.path().join(format!("{slug}.md")))
        .find(|file| file.is_file())
        .expect("the post's file")
}

fn hmac_hex(body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(body);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// POSTs `body` to the hook of `remote` with `headers`; returns the status and the body.
async fn deliver(f: &Forge, remote: &str, headers: &[(&str, String)], body: &str) -> (u16, String) {
    let mut request = f
        .admin
        .http
        .post(format!("{}/api/v1/hooks/git/{remote}", f.server.base))
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.expect("POST hook");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

fn github(event: &str, body: &str) -> Vec<(&'static str, String)> {
    vec![
        ("x-github-event", event.to_owned()),
        ("x-hub-signature-256", format!("sha256={}", hmac_hex(body.as_bytes()))),
    ]
}

const PUSH_MAIN: &str = r#"{"ref":"refs/heads/main","after":"0000"}"#;

async fn pull_status(admin: &Client) -> (StatusResponse, PullStatus) {
    let status: StatusResponse = admin.get("/api/v1/status").await.json().await.expect("status");
    let pull = status.git.mirrors[0].pull.clone().expect("forge pulls");
    (status, pull)
}

/// Announces a push to `main` GitHub-style (answered 202) and waits for the pull it starts
/// (the first after `after`, its `last_pull_at`).
async fn announce_push(f: &Forge, after: Option<time::OffsetDateTime>) -> PullStatus {
    let (accepted, body) = deliver(f, "forge", &github("push", PUSH_MAIN), PUSH_MAIN).await;
    assert_eq!(accepted, 202, "{body}");
    next_pull(&f.admin, after).await
}

/// Waits until a pull after `after` (its `last_pull_at`) is recorded.
async fn next_pull(admin: &Client, after: Option<time::OffsetDateTime>) -> PullStatus {
    let status = wait_for_status(admin, Duration::from_secs(60), |s| {
        s.git.mirrors[0]
            .pull
            .as_ref()
            .is_some_and(|p| p.last_pull_at.is_some() && p.last_pull_at != after)
    })
    .await;
    status.git.mirrors[0].pull.clone().expect("pull status")
}

async fn events_after(admin: &Client, after: u64) -> EventList {
    admin
        .get(&format!("/api/v1/events?after={after}&limit=100"))
        .await
        .json()
        .await
        .expect("events")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_deliveries_import_the_forges_commits_and_bad_ones_are_refused() {
    let f = forge().await;
    write(
        &f.clone,
        "content/posts/2026/from-the-forge.md",
        "---\ntitle: \"Written on the forge\"\ndate: 2026-03-04T05:06:07Z\ndraft: false\n---\nEdited in the browser.\n",
    );
    let first = commit_and_push(&f.clone, "a post written on the forge");
    let head = events_after(&f.admin, 0).await.head;

    // Refused alike, nothing fetched: wrong signature, unsigned, unknown remote, no pull.
    let mut wrong = github("push", PUSH_MAIN);
    wrong[1].1 = format!("sha256={}", "0".repeat(64));
    for (remote, headers) in [
        ("forge", wrong),
        ("forge", vec![("x-github-event", "push".to_owned())]),
        ("forge", vec![("x-gitlab-token", "not-the-secret".to_owned())]),
        ("nowhere", github("push", PUSH_MAIN)),
        ("backup", github("push", PUSH_MAIN)),
    ] {
        let (status, body) = deliver(&f, remote, &headers, PUSH_MAIN).await;
        assert_eq!(status, 401, "{remote} {headers:?}: {body}");
        assert!(body.contains("urn:quire:problem:unauthorized"), "{body}");
    }
    let (ping, body) = deliver(&f, "forge", &github("ping", "{}"), "{}").await;
    assert_eq!((ping, body.contains("pong")), (200, true), "{body}");
    let dev = r#"{"ref":"refs/heads/dev"}"#;
    let (other, body) = deliver(&f, "forge", &github("push", dev), dev).await;
    assert_eq!((other, body.contains("ignored")), (200, true), "{body}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, pull) = pull_status(&f.admin).await;
    assert!(pull.last_pull_at.is_none(), "nothing was pulled: {pull:?}");
    assert_eq!(events_after(&f.admin, 0).await.head, head);

    // A GitHub-signed push event imports the commit.
    let pull = announce_push(&f, None).await;
    assert_eq!(pull.ok, Some(true), "{pull:?}");
    assert_eq!(
        (pull.commit.as_deref(), pull.imported_events),
        (Some(first.as_str()), 1)
    );
    let events = events_after(&f.admin, head).await.events;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "PostCreated");
    let origin = events[0].origin.clone().expect("origin");
    assert_eq!(
        (origin.source.as_str(), origin.commit),
        ("forge-hook", Some(first.clone()))
    );
    assert_eq!(events[0].actor, "admin", "the remote's user is the actor");
    let posts = f.admin.get("/api/v1/posts?limit=50").await.text().await.expect("posts");
    assert!(posts.contains("Written on the forge"), "{posts}");

    // A second edit (of a post Quire wrote), announced GitLab-style, imports on top of the first.
    let file = post_file(&f.clone, "hello");
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, text.replace("from Quire", "edited on the forge")).expect("edit");
    let second = commit_and_push(&f.clone, "second edit");
    wait_for_git(&f.admin).await;
    let gitlab = vec![
        ("x-gitlab-event", "Push Hook".to_owned()),
        ("x-gitlab-token", SECRET.to_owned()),
    ];
    let (accepted, body) = deliver(&f, "forge", &gitlab, PUSH_MAIN).await;
    assert_eq!(accepted, 202, "{body}");
    let pull = next_pull(&f.admin, pull.last_pull_at).await;
    assert_eq!(
        (pull.ok, pull.commit.as_deref()),
        (Some(true), Some(second.as_str())),
        "{pull:?}"
    );
    let events = events_after(&f.admin, head + 1).await.events;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].event_type, "PostUpdated");
    assert_eq!(events[0].origin.clone().and_then(|o| o.commit), Some(second.clone()));

    // The forge's commits are kept as they are: Quire's main is the forge's branch, so the
    // mirror push has nothing to do and fails nothing.
    wait_for_git(&f.admin).await;
    let content = f.server.dir.path().join("content.git");
    assert_eq!(main_sha(&content), second, "main is the forge's commits as pulled");
    let status = wait_for_status(&f.admin, Duration::from_secs(60), |s| {
        s.git.mirrors[0].pushed_seq == Some(s.head) && s.git.mirrors[0].last_error.is_none()
    })
    .await;
    assert!(status.git.mirrors[0].last_error.is_none(), "{status:?}");

    // The post made on the forge has no `id` line; editing its file there again updates it.
    let made = "content/posts/2026/from-the-forge.md";
    let text = std::fs::read_to_string(f.clone.join(made)).expect("read");
    assert!(!text.contains("\nid:"), "the forge's file stays as written: {text}");
    write(&f.clone, made, &text.replace("Edited in the browser.", "Edited twice."));
    let third = commit_and_push(&f.clone, "third edit");
    let pull = announce_push(&f, pull.last_pull_at).await;
    assert_eq!(
        (pull.ok, pull.commit.as_deref()),
        (Some(true), Some(third.as_str())),
        "{pull:?}"
    );
    let events = events_after(&f.admin, status.head).await.events;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].event_type, "PostUpdated", "the same post, found by its path");
    let posts = f.admin.get("/api/v1/posts?limit=50").await.text().await.expect("posts");
    assert!(posts.contains("Edited twice."), "{posts}");
    wait_for_git(&f.admin).await;
    assert_eq!(main_sha(&content), third);

    let shown = f.admin.get("/api/v1/status").await.text().await.expect("status");
    assert!(!shown.contains(SECRET), "the secret leaks: {shown}");
    assert_eq!(main_sha(&f.repo), third, "Quire never overwrites the forge's branch");
    f.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forge_that_moved_on_beside_quire_is_merged_when_the_files_differ() {
    let f = forge().await;
    let content = f.server.dir.path().join("content.git");
    write(
        &f.clone,
        "content/posts/2026/forge-side.md",
        "---\ntitle: \"Forge side\"\ndraft: false\n---\nOn the forge.\n",
    );
    let forge_commit = commit_and_push(&f.clone, "forge side");
    f.admin
        .create_post(json!({"title": "Quire side", "body": "in Quire", "status": "published"}))
        .await;
    let quire_side = wait_for_git(&f.admin).await;
    let quire_commit = main_sha(&content);

    let pull = announce_push(&f, None).await;
    assert_eq!(pull.ok, Some(true), "{pull:?}");
    assert!(!pull.diverged && pull.conflicts.is_empty(), "{pull:?}");
    assert_eq!(
        (pull.commit.as_deref(), pull.imported_events),
        (Some(forge_commit.as_str()), 1)
    );
    let events = events_after(&f.admin, quire_side.head).await.events;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].event_type, "PostCreated");
    let origin = events[0].origin.clone().expect("origin");
    assert_eq!(origin.source, "forge-hook");

    // main is a merge of Quire's side and the forge's, written as the pull made it.
    wait_for_git(&f.admin).await;
    let merge = main_sha(&content);
    assert_eq!(
        origin.commit.as_deref(),
        Some(merge.as_str()),
        "the events name the merge"
    );
    let parents = in_repo(&content, &["rev-list", "--parents", "-n", "1", "main"]);
    assert_eq!(
        parents.split_whitespace().collect::<Vec<_>>(),
        [merge.as_str(), quire_commit.as_str(), forge_commit.as_str()],
        "parents: Quire's main, then the forge's branch"
    );
    let message = in_repo(&content, &["log", "-1", "--format=%an%n%B", "main"]);
    assert!(
        message.starts_with("admin\n") && message.contains("content/posts/2026/forge-side.md"),
        "{message}"
    );
    fsck(&content, &["--full", "--strict", "--no-dangling"]);
    let report: AuditReport = f.admin.get("/api/v1/audit").await.json().await.expect("audit");
    assert!(report.ok, "{report:?}");
    let posts = f.admin.get("/api/v1/posts?limit=50").await.text().await.expect("posts");
    assert!(posts.contains("Forge side") && posts.contains("Quire side"), "{posts}");

    // The mirror push is a fast-forward again: the forge gets Quire's post and the merge.
    wait_for_status(&f.admin, Duration::from_secs(60), |s| {
        s.git.mirrors[0].pushed_seq == Some(s.head) && s.git.mirrors[0].last_error.is_none()
    })
    .await;
    assert_eq!(main_sha(&f.repo), merge, "the forge is up to Quire's main");

    // The next edit on the forge is a plain fast-forward, kept as it is.
    git(Some(&f.clone), &["pull", "--quiet", "--ff-only", "origin", "main"]);
    let text = std::fs::read_to_string(f.clone.join("content/posts/2026/forge-side.md")).expect("read");
    write(
        &f.clone,
        "content/posts/2026/forge-side.md",
        &text.replace("On the forge.", "On the forge, again."),
    );
    let again = commit_and_push(&f.clone, "forge side, again");
    let pull = announce_push(&f, pull.last_pull_at).await;
    assert_eq!(
        (pull.ok, pull.commit.as_deref()),
        (Some(true), Some(again.as_str())),
        "{pull:?}"
    );
    wait_for_git(&f.admin).await;
    assert_eq!(main_sha(&content), again);

    // Rebuilt from the log, git has the same commits, the merge included.
    let mut server = f.server;
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().expect("tempdir"));
    server.stop().await;
    let commits = in_repo(&content, &["rev-list", "main"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let rebuild = quire(dir.path(), &["rebuild", "git"]);
        if rebuild.status.success() {
            break;
        }
        // The stopped server may still hold the log for a moment.
        assert!(
            std::time::Instant::now() < deadline,
            "rebuild: {}",
            String::from_utf8_lossy(&rebuild.stderr)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        in_repo(&content, &["rev-list", "main"]),
        commits,
        "rebuilding git gives the same commit ids"
    );
    fsck(&content, &["--full", "--strict", "--no-dangling"]);
    let verify = quire(dir.path(), &["verify"]);
    assert!(
        verify.status.success(),
        "verify: {}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forge_that_changed_the_same_file_is_reported_with_the_paths_and_nothing_is_lost() {
    let f = forge().await;
    let hello = post_file(&f.clone, "hello");
    let path = hello
        .strip_prefix(&f.clone)
        .expect("in the clone")
        .to_string_lossy()
        .into_owned();
    let text = std::fs::read_to_string(&hello).expect("read");
    std::fs::write(&hello, text.replace("from Quire", "edited on the forge")).expect("edit");
    let forge_commit = commit_and_push(&f.clone, "forge side");
    let etag = format!("\"{}\"", f.hello.version);
    let edited = f
        .admin
        .patch_json(
            &format!("/api/v1/posts/{}", f.hello.id),
            &json!({"title": "Hello from Quire"}),
            &[("If-Match", &etag)],
        )
        .await;
    assert_eq!(edited.status(), 200);
    wait_for_git(&f.admin).await;
    let head = events_after(&f.admin, 0).await.head;

    let body = r#"{"ref":"refs/heads/main"}"#;
    let gitea = vec![
        ("x-gitea-event", "push".to_owned()),
        ("x-gitea-signature", hmac_hex(body.as_bytes())),
    ];
    let (accepted, text) = deliver(&f, "forge", &gitea, body).await;
    assert_eq!(accepted, 202, "{text}");
    let pull = next_pull(&f.admin, None).await;
    assert!(pull.diverged && pull.ok == Some(false), "{pull:?}");
    assert_eq!(pull.conflicts, [path], "{pull:?}");
    // The paths name posts of anyone's: an author (who cannot read others' drafts) gets none.
    let ann = json!({"username": "ann", "password": "user-password-1", "role": "author"});
    let created = f.admin.post_json("/api/v1/users", &ann, &[]).await;
    assert_eq!(created.status(), 201);
    let ann = Client::login(&f.server.base, "ann", "user-password-1").await;
    let (_, seen) = pull_status(&ann).await;
    assert!(seen.diverged && seen.conflicts.is_empty(), "{seen:?}");
    assert!(
        pull.last_error
            .as_deref()
            .is_some_and(|e| e.contains("diverged") && e.contains("pull --rebase")),
        "{pull:?}"
    );
    assert_eq!(events_after(&f.admin, 0).await.head, head, "nothing imported");
    assert_eq!(main_sha(&f.repo), forge_commit, "the forge keeps its commit");
    let metrics = f.admin.get("/metrics").await.text().await.expect("metrics");
    assert!(
        metrics.contains("quire_git_pull_diverged{remote=\"forge\"} 1"),
        "{metrics}"
    );
    // The mirror push is refused too (never forced), and says so.
    let status = wait_for_status(&f.admin, Duration::from_secs(60), |s| s.git.mirrors[0].failures > 0).await;
    assert!(status.git.mirrors[0].last_error.is_some(), "{status:?}");

    // Resolved as the message says: rebase onto Quire's main (keeping the forge's edit of the
    // file), push to the forge; the next pull imports it and the mirror catches up.
    let content = f.server.dir.path().join("content.git");
    git(
        Some(&f.clone),
        &[
            "pull",
            "--quiet",
            "--rebase",
            "-X",
            "theirs",
            &content.to_string_lossy(),
            "main",
        ],
    );
    git(Some(&f.clone), &["push", "--quiet", "--force", "origin", "main"]);
    let (accepted, text) = deliver(&f, "forge", &gitea, body).await;
    assert_eq!(accepted, 202, "{text}");
    let pull = next_pull(&f.admin, pull.last_pull_at).await;
    assert!(
        !pull.diverged && pull.ok == Some(true) && pull.conflicts.is_empty(),
        "{pull:?}"
    );
    assert_eq!(pull.imported_events, 1);
    let post = f
        .admin
        .get(&format!("/api/v1/posts/{}", f.hello.id))
        .await
        .text()
        .await
        .expect("post");
    assert!(
        post.contains("edited on the forge") && post.contains("Hello from Quire"),
        "both edits: {post}"
    );
    let metrics = f.admin.get("/metrics").await.text().await.expect("metrics");
    assert!(
        metrics.contains("quire_git_pull_diverged{remote=\"forge\"} 0"),
        "{metrics}"
    );
    f.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forge_commit_with_a_bad_file_is_refused_with_its_paths() {
    let f = forge().await;
    write(&f.clone, "themes/custom.css", "body { color: red }\n");
    write(
        &f.clone,
        "content/posts/2026/broken.md",
        "---\ntitle: \"Broken\"\ndate: not a date\n---\nBody.\n",
    );
    commit_and_push(&f.clone, "bad files");
    let head = events_after(&f.admin, 0).await.head;
    let pull = announce_push(&f, None).await;
    assert_eq!(pull.ok, Some(false), "{pull:?}");
    assert!(!pull.diverged);
    let problems = pull.problems.join("\n");
    assert!(problems.contains("themes/custom.css"), "{problems}");
    assert!(problems.contains("content/posts/2026/broken.md"), "{problems}");
    assert_eq!(events_after(&f.admin, 0).await.head, head, "nothing imported");
    f.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_periodic_pull_imports_without_a_webhook() {
    let f = forge_pulling_every(1).await;
    write(
        &f.clone,
        "content/posts/2026/on-a-timer.md",
        "---\ntitle: \"On a timer\"\ndraft: false\n---\nNo webhook needed.\n",
    );
    let commit = commit_and_push(&f.clone, "pulled on a timer");
    let status = wait_for_status(&f.admin, Duration::from_secs(60), |s| {
        s.git.mirrors[0]
            .pull
            .as_ref()
            .is_some_and(|p| p.commit.as_deref() == Some(commit.as_str()))
    })
    .await;
    let pull = status.git.mirrors[0].pull.clone().expect("pull status");
    assert_eq!((pull.ok, pull.imported_events), (Some(true), 1), "{pull:?}");
    let posts = f.admin.get("/api/v1/posts?limit=50").await.text().await.expect("posts");
    assert!(posts.contains("On a timer"), "{posts}");
    f.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_committed_on_the_forge_becomes_media() {
    let f = forge().await;
    let mut png = Vec::new();
    image::DynamicImage::new_rgb8(5, 5)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encode");
    std::fs::create_dir_all(f.clone.join("static/media")).expect("mkdir");
    std::fs::write(f.clone.join("static/media/diagram.png"), &png).expect("write");
    let commit = commit_and_push(&f.clone, "a diagram");
    let head = events_after(&f.admin, 0).await.head;
    let pull = announce_push(&f, None).await;
    assert_eq!((pull.ok, pull.imported_events), (Some(true), 1), "{pull:?}");
    let events = events_after(&f.admin, head).await.events;
    assert_eq!(events[0].event_type, "MediaUploaded");
    let origin = events[0].origin.clone().expect("origin");
    assert_eq!((origin.source.as_str(), origin.commit), ("forge-hook", Some(commit)));
    f.server.stop().await;
}
