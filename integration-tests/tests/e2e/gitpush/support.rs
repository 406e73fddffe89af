//! Helpers of the git push tests: the `git` command without prompts, tokens, a server with a
//! work folder, and waiting for pages and events.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use quire_integration_tests::{BinaryServer, Client, ADMIN};
use quire_openapi::EventList;

/// `quire verify` on the data folder of a stopped server passes (git matches the log).
pub(super) fn assert_verified(data: &Path) {
    let verify = quire_integration_tests::git::quire(data, &["verify"]);
    assert!(
        verify.status.success(),
        "verify: {}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

/// Runs `git` in `dir` with a fixed identity and no prompts; returns the output unchecked.
pub(super) fn git_raw(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=Pusher", "-c", "user.email=pusher@example.invalid"])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .output()
        .expect("run git")
}

/// Runs `git`, asserting success; returns stdout and stderr together.
pub(super) fn git_ok(dir: &Path, args: &[&str]) -> String {
    let out = git_raw(dir, args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "git {args:?} failed: {text}");
    text
}

/// Runs `git`, asserting failure; returns stderr.
pub(super) fn git_fails(dir: &Path, args: &[&str]) -> String {
    let out = git_raw(dir, args);
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "git {args:?} should fail: {text}");
    text
}

/// `http://git:<token>@host/git/content.git`.
pub(super) fn clone_url(server: &BinaryServer, token: &str) -> String {
    let host = server.base.trim_start_matches("http://");
    format!("http://git:{token}@{host}/git/content.git")
}

pub(super) struct Setup {
    pub(super) _dir: tempfile::TempDir,
    pub(super) data: PathBuf,
    pub(super) work: PathBuf,
    pub(super) server: BinaryServer,
    pub(super) admin: Client,
}

pub(super) async fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).expect("work dir");
    let server = BinaryServer::start(&data).await;
    let admin = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    Setup {
        _dir: dir,
        data,
        work,
        server,
        admin,
    }
}

/// The one file of the clone whose name is `<slug>.md`.
pub(super) fn post_file(clone: &Path, slug: &str) -> PathBuf {
    let posts = clone.join("content/posts");
    for year in std::fs::read_dir(&posts).expect("posts folder").flatten() {
        let file = year.path().join(format!("{slug}.md"));
        if file.is_file() {
            return file;
        }
    }
    panic!("no file for {slug} in the clone");
}

pub(super) fn relative(clone: &Path, file: &Path) -> String {
    file.strip_prefix(clone).expect("inside").to_string_lossy().into_owned()
}

pub(super) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read fixtures").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

pub(super) async fn events_after(admin: &Client, after: u64) -> EventList {
    let response = admin.get(&format!("/api/v1/events?after={after}&limit=100")).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("events json")
}

/// GETs a site page until it answers `status` (the site projection follows the log).
pub(super) async fn wait_for_page(admin: &Client, path: &str, status: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let response = admin.http.get(admin.url(path)).send().await.expect("GET page");
        if response.status().as_u16() == status {
            return response.text().await.unwrap_or_default();
        }
        assert!(Instant::now() < deadline, "{path} never answered {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// GETs a site page until it answers 200 with `text` in it (a page that existed before the
/// change answers 200 at once, with its old text until the site projection rewrites it).
pub(super) async fn wait_for_text(admin: &Client, path: &str, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let response = admin.http.get(admin.url(path)).send().await.expect("GET page");
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        if status == 200 && body.contains(text) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{path} never showed {text:?}: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many events of the log came from a push.
pub(super) async fn pushed_events(admin: &Client) -> usize {
    let mut after = 0;
    let mut count = 0;
    loop {
        let page = events_after(admin, after).await;
        if page.events.is_empty() {
            return count;
        }
        count += page.events.iter().filter(|e| e.origin.is_some()).count();
        after = page.next_after;
    }
}
