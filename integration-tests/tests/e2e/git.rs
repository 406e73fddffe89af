//! The git projection wired into the server: status and readiness, the audit endpoint, a post's
//! commits, mirroring to a remote, the `quire verify` and `quire rebuild git` commands, and git
//! after SIGKILL during heavy writing.

use std::path::Path;
use std::time::Duration;

use quire_api::git::RemoteConfig;
use quire_integration_tests::git::{event_seqs, git, main_commits, main_sha, quire, wait_for_git, wait_for_status};
use quire_integration_tests::{BinaryServer, Client, TestServer, ADMIN};
use quire_openapi::{AuditReport, PostCommits, PostResponse, Problem};
use serde_json::json;

async fn publish(client: &Client, title: &str) -> PostResponse {
    client
        .create_post(json!({"title": title, "body": format!("About {title}."), "status": "published"}))
        .await
}

/// Changes `post` with `If-Match` of its version; returns the new post.
async fn patch(client: &Client, post: &PostResponse, body: serde_json::Value) -> PostResponse {
    let etag = format!("\"{}\"", post.version);
    let response = client
        .patch_json(&format!("/api/v1/posts/{}", post.id), &body, &[("If-Match", &etag)])
        .await;
    assert_eq!(response.status(), 200, "patch failed: {:?}", response.text().await);
    response.json().await.expect("post json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reports_git_position_and_lag() {
    let server = TestServer::start().await;
    let client = server.admin().await;
    for i in 0..5 {
        publish(&client, &format!("Status {i}")).await;
    }
    let status = wait_for_git(&client).await;
    assert!(status.head >= 5);
    assert_eq!(status.git.position, Some(status.head));
    assert!(status.git.enabled && status.git.last_error.is_none() && status.git.mirrors.is_empty());
    assert_eq!(status.git.max_lag, 1000);
    let repo = server.dir.path().join("content.git");
    assert_eq!(event_seqs(&repo), (1..=status.head).collect::<Vec<_>>());
    let ready = reqwest::get(format!("{}/readyz", server.base)).await.expect("readyz");
    assert_eq!(ready.status(), 200);
    let anonymous = reqwest::get(format!("{}/api/v1/status", server.base))
        .await
        .expect("status");
    assert_eq!(anonymous.status(), 401, "status is for logged-in users");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_not_ready_while_git_is_far_behind() {
    let server = TestServer::start_with(|config| {
        config.git.max_lag = 2;
        // A file where the repository should be: the projection fails until it is gone.
        std::fs::write(config.data_dir.join("content.git"), "not a repository").expect("write");
    })
    .await;
    let client = server.admin().await;
    for i in 0..3 {
        publish(&client, &format!("Behind {i}")).await;
    }
    let status = wait_for_status(&client, Duration::from_secs(30), |s| s.git.last_error.is_some()).await;
    assert_eq!(status.git.position, None, "git never opened: {status:?}");
    let ready = reqwest::get(format!("{}/readyz", server.base)).await.expect("readyz");
    assert_eq!(ready.status(), 503);
    let problem: Problem = ready.json().await.expect("problem");
    assert!(problem.detail.contains("git.max_lag = 2"), "{}", problem.detail);

    std::fs::remove_file(server.dir.path().join("content.git")).expect("remove");
    // The position moves during the catch-up; the error is cleared when it has finished.
    let status = wait_for_status(&client, Duration::from_secs(30), |s| {
        s.git.lag == Some(0) && s.git.last_error.is_none()
    })
    .await;
    assert_eq!(status.git.position, Some(status.head), "{status:?}");
    let ready = reqwest::get(format!("{}/readyz", server.base)).await.expect("readyz");
    assert_eq!(ready.status(), 200, "caught up, so ready");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_is_for_admins_and_finds_a_hand_made_commit() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    for i in 0..3 {
        publish(&admin, &format!("Audit {i}")).await;
    }
    let head = wait_for_git(&admin).await.head;
    let report: AuditReport = admin.get("/api/v1/audit").await.json().await.expect("report");
    assert!(report.ok, "{report:?}");
    assert_eq!((report.position, report.head, report.commits), (head, head, head));

    let created = admin
        .post_json(
            "/api/v1/users",
            &json!({"username": "eddie", "password": "editor-password-1", "role": "editor"}),
            &[],
        )
        .await;
    assert_eq!(created.status(), 201);
    let editor = Client::login(&server.base, "eddie", "editor-password-1").await;
    let forbidden = editor.get("/api/v1/audit").await;
    assert_eq!(forbidden.status(), 403);
    let problem: Problem = forbidden.json().await.expect("problem");
    assert_eq!(problem.missing.as_deref(), Some("admin"));

    let repo = server.dir.path().join("content.git");
    let work = tempfile::tempdir().expect("tempdir");
    let hand = commit_by_hand(&repo, work.path());
    let response = admin.get("/api/v1/audit").await;
    assert_eq!(response.status(), 200, "a mismatch is a finding, not a failed request");
    let report: AuditReport = response.json().await.expect("report");
    assert!(!report.ok);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains(&hand) && p.contains("not made by Quire")),
        "{report:?}"
    );
    // The projection carries on on top of the hand-made commit.
    publish(&admin, "After the hand edit").await;
    let status = wait_for_git(&admin).await;
    assert_eq!(status.git.position, Some(status.head));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_of_a_post_are_listed_newest_first() {
    let server = TestServer::start().await;
    let client = server.admin().await;
    let post = client.create_post(json!({"title": "Draft title", "body": "v1"})).await;
    let post = patch(&client, &post, json!({"title": "Better title"})).await;
    patch(&client, &post, json!({"status": "published"})).await;
    let other = publish(&client, "Another post").await;
    wait_for_git(&client).await;

    let response = client.get(&format!("/api/v1/posts/{}/commits", post.id)).await;
    assert_eq!(response.status(), 200);
    let commits: PostCommits = response.json().await.expect("commits");
    let summaries: Vec<&str> = commits.commits.iter().map(|c| c.summary.as_str()).collect();
    assert_eq!(
        summaries,
        [
            "Publish \"Better title\"",
            "Update \"Better title\"",
            "Create \"Draft title\""
        ]
    );
    let seqs: Vec<Option<u64>> = commits.commits.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, [Some(3), Some(2), Some(1)]);
    let on_main = main_commits(&server.dir.path().join("content.git"));
    for commit in &commits.commits {
        assert!(on_main.contains(&commit.sha), "{} is on main", commit.sha);
        assert_eq!(commit.author, ADMIN.0);
    }
    let others: PostCommits = client
        .get(&format!("/api/v1/posts/{}/commits", other.id))
        .await
        .json()
        .await
        .expect("commits");
    assert_eq!(others.commits.len(), 1);
    for missing in ["01ARZ3NDEKTSV4RRFFQ69G5FAV", "not-an-id"] {
        let response = client.get(&format!("/api/v1/posts/{missing}/commits")).await;
        assert_eq!(response.status(), 404, "{missing}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mirror_pushes_main_to_a_bare_remote_and_reports_failures() {
    let remotes = tempfile::tempdir().expect("tempdir");
    let backup = remotes.path().join("backup.git");
    git(None, &["init", "--quiet", "--bare", &backup.to_string_lossy()]);
    let (good, missing) = (
        backup.to_string_lossy().into_owned(),
        remotes.path().join("missing.git"),
    );
    let server = TestServer::start_with(|config| {
        config.git.push_retry_initial_secs = 1;
        config.git.remotes = vec![
            RemoteConfig {
                name: Some("backup".into()),
                url: good,
                ..RemoteConfig::default()
            },
            RemoteConfig {
                name: None,
                url: missing.to_string_lossy().into_owned(),
                ..RemoteConfig::default()
            },
            RemoteConfig {
                name: None,
                url: "https://quire:s3cret-token@127.0.0.1:9/blog.git".into(),
                ..RemoteConfig::default()
            },
        ];
    })
    .await;
    let client = server.admin().await;
    for i in 0..4 {
        publish(&client, &format!("Mirrored {i}")).await;
    }
    let status = wait_for_status(&client, Duration::from_secs(60), |s| {
        s.git.lag == Some(0)
            && s.git.mirrors[0].pushed_seq == Some(s.head)
            && s.git.mirrors[1].failures >= 1
            && s.git.mirrors[2].failures >= 1
    })
    .await;
    let repo = server.dir.path().join("content.git");
    assert_eq!(main_sha(&backup), main_sha(&repo), "the remote's main is ours");
    let (ok, bad, secret) = (&status.git.mirrors[0], &status.git.mirrors[1], &status.git.mirrors[2]);
    assert_eq!(ok.name, "backup");
    assert!(ok.last_error.is_none() && ok.last_success_at.is_some() && ok.failures == 0);
    assert!(bad.last_error.is_some() && bad.next_retry_at.is_some() && bad.pushed_seq.is_none());
    assert!(bad.name.ends_with("missing.git"));
    let shown = serde_json::to_string(secret).expect("json");
    assert!(!shown.contains("s3cret"), "credentials leak: {shown}");
    assert_eq!(secret.url, "https://***@127.0.0.1:9/blog.git");

    // Publishing goes on while a remote fails, and the next commits are pushed too.
    publish(&client, "Mirrored later").await;
    wait_for_status(&client, Duration::from_secs(60), |s| {
        s.git.lag == Some(0) && s.git.mirrors[0].pushed_seq == Some(s.head)
    })
    .await;
    assert_eq!(main_sha(&backup), main_sha(&repo));
    server.stop().await;
}

/// Clones `repo` into `work`, commits a file by hand and pushes it back; returns the commit.
fn commit_by_hand(repo: &Path, work: &Path) -> String {
    let clone = work.join("hand");
    git(
        None,
        &["clone", "--quiet", &repo.to_string_lossy(), &clone.to_string_lossy()],
    );
    std::fs::write(clone.join("notes.txt"), "edited by hand\n").expect("write");
    git(Some(&clone), &["add", "notes.txt"]);
    git(Some(&clone), &["commit", "--quiet", "-m", "Edit by hand"]);
    git(Some(&clone), &["push", "--quiet", "origin", "main"]);
    git(Some(&clone), &["rev-parse", "HEAD"]).trim().to_owned()
}

/// Rewrites the author of `main`'s second commit (and so every later commit id); returns the
/// rewritten commit.
fn rewrite_history(repo: &Path, work: &Path) -> String {
    let clone = work.join("rewrite");
    git(
        None,
        &["clone", "--quiet", &repo.to_string_lossy(), &clone.to_string_lossy()],
    );
    let second = git(Some(&clone), &["rev-list", "--reverse", "main"])
        .lines()
        .nth(1)
        .expect("two commits")
        .to_owned();
    let filter = format!("if [ $GIT_COMMIT = {second} ]; then export GIT_AUTHOR_NAME=mallory; fi");
    git(Some(&clone), &["filter-branch", "-f", "--env-filter", &filter, "main"]);
    git(Some(&clone), &["push", "--quiet", "--force", "origin", "main"]);
    git(Some(&clone), &["rev-list", "--reverse", "main"])
        .lines()
        .nth(1)
        .expect("two commits")
        .to_owned()
}

/// Writes a few posts with the real binary, waits for git, and stops it (sled is locked while
/// it runs). Returns the log's head.
async fn write_and_stop(data: &Path) -> u64 {
    let server = BinaryServer::start(data).await;
    let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    let first = publish(&client, "One").await;
    publish(&client, "Two").await;
    let first = patch(&client, &first, json!({"body": "Changed."})).await;
    let draft = client.create_post(json!({"title": "Draft"})).await;
    let response = client
        .request(reqwest::Method::DELETE, &format!("/api/v1/posts/{}", draft.id))
        .header("If-Match", format!("\"{}\"", draft.version))
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status(), 200);
    patch(&client, &first, json!({"slug": "one-renamed"})).await;
    let head = wait_for_git(&client).await.head;
    stop(server).await;
    head
}

async fn stop(server: BinaryServer) {
    let status = tokio::task::spawn_blocking(move || server.signal(libc::SIGTERM))
        .await
        .expect("join");
    assert!(status.success(), "graceful stop: {status:?}");
}

fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quire_verify_detects_hand_made_commits_and_rewritten_history() {
    let data = tempfile::tempdir().expect("tempdir");
    let head = write_and_stop(data.path()).await;
    let repo = data.path().join("content.git");
    let good = quire(data.path(), &["verify"]);
    assert!(good.status.success(), "{good:?}");
    assert!(
        stdout_of(&good).starts_with(&format!("OK: {head} commits checked")),
        "{good:?}"
    );

    let work = tempfile::tempdir().expect("tempdir");
    let hand = commit_by_hand(&repo, work.path());
    let found = quire(data.path(), &["verify"]);
    assert_eq!(found.status.code(), Some(1), "{found:?}");
    let report = stdout_of(&found);
    assert!(report.starts_with("MISMATCH"), "{report}");
    assert!(
        report.contains(&format!("commit {hand} (\"Edit by hand\") was not made by Quire")),
        "{report}"
    );
    assert!(report.contains("notes.txt is Unexpected"), "{report}");

    let rebuilt = quire(data.path(), &["rebuild", "git"]);
    assert!(rebuilt.status.success(), "{rebuilt:?}");
    assert!(
        quire(data.path(), &["verify"]).status.success(),
        "a rebuild drops the hand-made commit"
    );

    let rewritten = rewrite_history(&repo, work.path());
    let found = quire(data.path(), &["verify"]);
    assert_eq!(found.status.code(), Some(1), "{found:?}");
    let report = stdout_of(&found);
    assert!(
        report.contains(&format!("commit {rewritten} (seq 2) should be ")),
        "{report}"
    );
    assert!(report.contains("rewritten: author"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quire_rebuild_git_recreates_the_same_commit_ids() {
    let data = tempfile::tempdir().expect("tempdir");
    let head = write_and_stop(data.path()).await;
    let repo = data.path().join("content.git");
    let before = main_commits(&repo);
    assert_eq!(before.len() as u64, head);
    std::fs::remove_dir_all(&repo).expect("remove the repository");
    let rebuilt = quire(data.path(), &["rebuild", "git"]);
    assert!(rebuilt.status.success(), "{rebuilt:?}");
    assert!(
        stdout_of(&rebuilt).contains(&format!("with {head} commits")),
        "{rebuilt:?}"
    );
    assert_eq!(main_commits(&repo), before, "same events, same commit ids");

    // The server carries on from the rebuilt repository.
    let server = BinaryServer::start(data.path()).await;
    let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    publish(&client, "After the rebuild").await;
    let status = wait_for_git(&client).await;
    assert_eq!(event_seqs(&repo), (1..=status.head).collect::<Vec<_>>());
    assert_eq!(main_commits(&repo)[..before.len()], before[..]);
    stop(server).await;
}

const WRITERS: usize = 24;

/// `WRITERS` clients creating posts (every third one published, then edited) until requests fail.
fn spawn_writers(client: &Client, round: usize) -> Vec<tokio::task::JoinHandle<u64>> {
    (0..WRITERS)
        .map(|w| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut acked = 0;
                for i in 0.. {
                    let status = if i % 3 == 0 { "published" } else { "draft" };
                    let body = json!({"title": format!("r{round} w{w} n{i}"), "body": "text", "status": status});
                    let Ok(response) = client
                        .request(reqwest::Method::POST, "/api/v1/posts")
                        .json(&body)
                        .send()
                        .await
                    else {
                        return acked;
                    };
                    if response.status() != 201 {
                        return acked;
                    }
                    acked += 1;
                }
                acked
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_heavy_writing_leaves_git_equal_to_the_log() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut acked = 0;
    for round in 0..3 {
        let server = BinaryServer::start(data.path()).await;
        let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
        let writers = spawn_writers(&client, round);
        tokio::time::sleep(Duration::from_millis(rand::random_range(500..1500))).await;
        assert!(!server.signal(libc::SIGKILL).success());
        for writer in writers {
            acked += writer.await.expect("writer");
        }
    }
    let server = BinaryServer::start(data.path()).await;
    let client = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    let status = wait_for_git(&client).await;
    assert!(status.head >= acked && acked > 0, "{status:?}, {acked} acknowledged");
    let repo = data.path().join("content.git");
    let seqs = event_seqs(&repo);
    assert_eq!(seqs.len() as u64, status.head, "one commit per event");
    assert!(
        seqs.iter().copied().eq(1..=status.head),
        "git's Event-Seq trailers run 1..={} with no gap and no duplicate",
        status.head
    );
    assert_eq!(main_commits(&repo).len(), seqs.len(), "no commit without a trailer");
    stop(server).await;
    let verified = quire(data.path(), &["verify"]);
    assert!(verified.status.success(), "{verified:?}");
}
