//! The command line: API tokens and signing-key rotation, against the real binary.

use std::process::{Command, Stdio};

use quire_integration_tests::{quire_bin, BinaryServer, Client, ADMIN};
use serde_json::json;

fn quire(dir: &std::path::Path, args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(quire_bin())
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn quire");
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), stdin.as_bytes()).expect("stdin");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "quire {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_made_on_the_command_line_carry_their_scopes_and_can_be_revoked() {
    let dir = tempfile::tempdir().expect("tempdir");
    quire(
        dir.path(),
        &["user", "add", "bob", "--role", "author"],
        "bob-password-1\n",
    );
    let out = quire(
        dir.path(),
        &[
            "token",
            "create",
            "--user",
            "bob",
            "--scope",
            "posts:write",
            "--scope",
            "posts:read",
            "--name",
            "deploy-script",
        ],
        "",
    );
    let secret = out
        .lines()
        .find(|l| l.starts_with("qk_"))
        .expect("secret printed")
        .to_owned();
    let id = out.split_whitespace().nth(2).expect("token id").to_owned();
    assert!(quire(dir.path(), &["token", "list"], "").contains("deploy-script"));

    let server = BinaryServer::start(dir.path()).await;
    // The user added on the command line exists, so QUIRE_ADMIN_USER creates no admin.
    let bob = Client::login(&server.base, "bob", "bob-password-1").await;
    let script = Client {
        token: secret.clone(),
        ..bob.clone()
    };
    let created = script
        .post_json("/api/v1/posts", &json!({"title": "From cron"}), &[])
        .await;
    assert_eq!(created.status(), 201);
    let publish = script
        .post_json("/api/v1/posts", &json!({"title": "x", "status": "published"}), &[])
        .await;
    assert_eq!(
        publish.status(),
        403,
        "the token lacks posts:publish although bob has it"
    );
    drop(server);

    quire(dir.path(), &["token", "revoke", &id], "");
    let server = BinaryServer::start(dir.path()).await;
    let script = Client {
        base: server.base.clone(),
        ..script
    };
    assert_eq!(script.get("/api/v1/posts").await.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_keys_sign_new_tokens_and_old_tokens_stay_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = BinaryServer::start(dir.path()).await;
    let old = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    drop(server);
    let out = quire(dir.path(), &["keys", "rotate"], "");
    assert!(out.contains("new signing key"));
    let server = BinaryServer::start(dir.path()).await;
    let old = Client {
        base: server.base.clone(),
        ..old
    };
    assert_eq!(
        old.get("/api/v1/posts").await.status(),
        200,
        "tokens signed with the old key still work"
    );
    let new = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    let kid = |token: &str| {
        let header = jsonwebtoken::decode_header(token).expect("header");
        header.kid.expect("kid")
    };
    assert_ne!(kid(&old.token), kid(&new.token), "new tokens use the new key");
    assert_eq!(new.get("/api/v1/posts").await.status(), 200);
}

/// Commands that only read or rebuild (verify, rebuild) open the log, not the whole server: they
/// create no signing key as a side effect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_and_rebuild_create_no_signing_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = BinaryServer::start(dir.path()).await;
    let admin = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    admin.create_post(json!({"title": "Kept"})).await;
    assert_eq!(server.signal(libc::SIGTERM).code(), Some(0));
    let keys = dir.path().join("keys");
    std::fs::remove_dir_all(&keys).expect("remove keys");
    assert!(quire(dir.path(), &["verify"], "").starts_with("OK"));
    quire(dir.path(), &["rebuild", "git"], "");
    quire(dir.path(), &["rebuild", "site"], "");
    assert!(!keys.exists(), "a read-only command created {}", keys.display());
}

/// The newest of sled's snapshot files in the log folder (`snap.<lsn in hex>`), 0 without one.
fn newest_snapshot_lsn(log: &std::path::Path) -> u64 {
    std::fs::read_dir(log)
        .expect("log folder")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            u64::from_str_radix(name.strip_prefix("snap.")?, 16).ok()
        })
        .max()
        .unwrap_or(0)
}

/// sled writes the snapshot an open starts from only when it opens; a stopping server opens
/// the log once more so the next start does not read the whole run back first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_stop_leaves_a_snapshot_past_the_runs_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = BinaryServer::start(dir.path()).await;
    let admin = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    for i in 0..20 {
        admin.create_post(json!({"title": format!("Post {i}")})).await;
    }
    let log = dir.path().join("log");
    let while_running = newest_snapshot_lsn(&log);
    assert_eq!(server.signal(libc::SIGTERM).code(), Some(0));
    assert!(
        newest_snapshot_lsn(&log) > while_running,
        "the stop wrote a snapshot past the run's writes"
    );
    let server = BinaryServer::start(dir.path()).await;
    let admin = Client::login(&server.base, ADMIN.0, ADMIN.1).await;
    let posts: serde_json::Value = admin.get("/api/v1/posts?limit=100").await.json().await.expect("json");
    assert_eq!(posts["items"].as_array().map(Vec::len), Some(20), "{posts}");
}
