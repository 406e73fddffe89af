//! Datasets through the log: the CSV in the content-addressed store before its event, git's
//! `static/data/<name>.csv` and `data/<name>.json`, `verify`, a restore from git (events and
//! bytes) and an import.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use quire_storage::datasets::{DatasetStatus, Format, MetaPatch, NewData, TableLimits};
use quire_storage::git::{events_from_git, verify};
use quire_storage::{
    system_clock, Actor, DatasetService, Error, GitProjection, GitSettings, IfMatch, MediaBlobs, Role, SledOptions,
    SledStore, Store,
};
use ulid::Ulid;

fn git_show(repo: &Path, what: &str) -> Option<String> {
    let out = Command::new("git")
        .args(["--git-dir", &repo.to_string_lossy(), "show", what])
        .output()
        .expect("git");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn csv(body: &str) -> NewData<'_> {
    NewData {
        body: body.as_bytes(),
        format: Format::Csv,
        expected: None,
        fetched_from: None,
    }
}

#[test]
fn datasets_reach_git_verify_and_come_back_from_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SledStore::open(&dir.path().join("log"), &SledOptions::default()).expect("store"));
    let blobs = MediaBlobs::new(dir.path().join("media"));
    let sets = DatasetService::new(store.clone(), blobs.clone(), TableLimits::default(), system_clock());
    let ada = Actor::user(Ulid::new(), "ada", Role::Author);

    let (first, created) = sets
        .put(&ada, "counts", csv("day,n\n2026-01-01,1\n"), None)
        .expect("put");
    assert!(created);
    let (same, _) = sets
        .put(&ada, "counts", csv("day,n\n2026-01-01,1\n"), None)
        .expect("put again");
    assert_eq!(same.version, 1, "the same data appends nothing");
    let stale = IfMatch::Versions(vec![7]);
    let refused = sets.put(
        &ada,
        "counts",
        NewData {
            expected: Some(&stale),
            ..csv("day,n\n")
        },
        None,
    );
    assert!(matches!(refused, Err(Error::DatasetVersionConflict { actual: 1, .. })));
    let (second, _) = sets
        .put(&ada, "counts", csv("day,n\n2026-01-01,1\n2026-01-02,2\n"), None)
        .expect("replace");
    let patch = MetaPatch {
        title: Some("Counts".into()),
        status: Some(DatasetStatus::Published),
        ..MetaPatch::default()
    };
    sets.patch(&ada, "counts", &IfMatch::Any, patch, None).expect("patch");
    assert_eq!(
        blobs.read(&first.file_name()).expect("read").as_deref(),
        Some(&b"day,n\n2026-01-01,1\n"[..])
    );

    let repo = dir.path().join("content.git");
    let mut git = GitProjection::open(&repo, GitSettings::default()).expect("open");
    assert_eq!(git.catch_up(store.as_ref()).expect("catch up"), 3);
    assert_eq!(
        git_show(&repo, "main:static/data/counts.csv").as_deref(),
        Some("day,n\n2026-01-01,1\n2026-01-02,2\n")
    );
    let meta: serde_json::Value =
        serde_json::from_str(&git_show(&repo, "main:data/counts.json").expect("metadata")).expect("json");
    assert_eq!(
        (meta["title"].as_str(), meta["rows"].as_u64()),
        (Some("Counts"), Some(2))
    );
    sets.delete(&ada, "counts", &IfMatch::Any, None).expect("delete");
    assert_eq!(git.catch_up(store.as_ref()).expect("catch up"), 1);
    assert!(git_show(&repo, "main:static/data/counts.csv").is_none());
    drop(git);
    let report = verify(&repo, &GitSettings::default(), store.as_ref()).expect("verify");
    assert!(report.is_ok(), "{report:?}");

    // Git alone brings the events and every version's bytes back.
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let restored = MediaBlobs::new(elsewhere.path().join("media"));
    let events: Vec<_> = events_from_git(&repo, &GitSettings::default())
        .expect("open")
        .restore_media_into(restored.clone())
        .collect::<Result<_, _>>()
        .expect("every commit restores");
    assert_eq!(events, store.events_after(0, 100).expect("events"));
    for set in [&first, &second] {
        assert_eq!(
            restored.read(&set.file_name()).expect("read"),
            blobs.read(&set.file_name()).expect("read")
        );
    }
    let copy = SledStore::open(&elsewhere.path().join("log"), &SledOptions::default()).expect("store");
    assert_eq!(copy.import(events, &mut |_| {}).expect("import"), 4);
    assert_eq!(
        copy.dataset(first.id).expect("read"),
        store.dataset(first.id).expect("read")
    );
}
