//! Golden output of the git projection: fixed events give fixed commit ids.
//!
//! Mirrors, clones and `quire rebuild git` rely on the same log always giving the same commits.
//! A change to how events become files, front matter, trees, messages, authors or trailers
//! changes these ids and fails here — on purpose: such a change rewrites every mirror's history,
//! so it has to be made deliberately (and the ids below updated with a note why).

use std::path::Path;
use std::process::Command;

use quire_storage::{Envelope, GitProjection, GitSettings, SledOptions, SledStore};

/// The events: two posts in two years, edited, published, renamed, deleted and restored.
const EVENTS: &str = r#"
{"seq":1,"id":"01HQ0000000000000000000001","stream":"01HQ00000000000000000000A1","version":1,"actor":"ada","at":"2024-03-01T10:00:00Z","idempotency_key":null,"type":"PostCreated","data":{"slug":"first-light","title":"First light","body":"Hello *world*.\n","tags":["intro","pi"],"status":"draft","publish_at":null,"author":"ada"}}
{"seq":2,"id":"01HQ0000000000000000000002","stream":"01HQ00000000000000000000A1","version":2,"actor":"ada","at":"2024-03-02T10:00:00Z","idempotency_key":"k-2","type":"PostUpdated","data":{"body":"Hello *world*, again.\n"}}
{"seq":3,"id":"01HQ0000000000000000000003","stream":"01HQ00000000000000000000A1","version":3,"actor":"ada","at":"2024-03-03T10:00:00Z","idempotency_key":null,"type":"PostPublished","data":{"publish_at":"2024-03-03T10:00:00Z"}}
{"seq":4,"id":"01HQ0000000000000000000004","stream":"01HQ00000000000000000000B2","version":1,"actor":"bob","at":"2025-01-05T08:30:00Z","idempotency_key":null,"type":"PostCreated","data":{"slug":"second","title":"Second: \"quoted\"","body":"Line one\n\nLine two\n","tags":[],"status":"published","publish_at":"2025-01-05T08:30:00Z","author":"bob"}}
{"seq":5,"id":"01HQ0000000000000000000005","stream":"01HQ00000000000000000000B2","version":2,"actor":"bob","at":"2025-01-06T08:30:00Z","idempotency_key":null,"type":"PostUpdated","data":{"slug":"second-post","title":"Second post"}}
{"seq":6,"id":"01HQ0000000000000000000006","stream":"01HQ00000000000000000000A1","version":4,"actor":"ada","at":"2025-02-01T00:00:00Z","idempotency_key":null,"type":"PostDeleted","data":{}}
{"seq":7,"id":"01HQ0000000000000000000007","stream":"01HQ00000000000000000000A1","version":5,"actor":"ada","at":"2025-02-02T00:00:00Z","idempotency_key":null,"type":"PostRestored","data":{}}
"#;

/// `git rev-list main` of the projection of [`EVENTS`], newest first.
const COMMITS: [&str; 7] = [
    "073000a578212f2cbdeb89352b76a9b3bac90125",
    "b58af006c4f6eb42577a788d068e110cafc0d447",
    "e204df9f4549401f531e2fcbbb2f1ce8055c7121",
    "141edb01300780dedb847e52968e3243a62974ec",
    "b90a063e00f9208c598f16553fd093cd4f94948a",
    "ae525fae30408cbdb5f18c37e25b808b878e7524",
    "e8c0bb671dc9e1ef26f906f61dc0f0f1b2e100ce",
];

fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(repo)
        .args(args)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn fixed_events_give_fixed_commit_ids() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SledStore::open(&dir.path().join("log"), &SledOptions::default()).expect("store");
    let events: Vec<Envelope> = EVENTS
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).expect("envelope"))
        .collect();
    store.import(events, &mut |_| {}).expect("import");
    let repo = dir.path().join("content.git");
    let settings = GitSettings {
        site_title: "Golden".into(),
        base_url: "https://golden.example/".into(),
        author_email_domain: "golden.example".into(),
        ..GitSettings::default()
    };
    let mut projection = GitProjection::open(&repo, settings).expect("open repo");
    assert_eq!(projection.catch_up(&store).expect("project"), 7);
    let commits = git(&repo, &["rev-list", "main"]);
    let commits: Vec<&str> = commits.lines().collect();
    assert_eq!(
        commits, COMMITS,
        "the projection of fixed events changed: this rewrites every mirror's history"
    );
}
