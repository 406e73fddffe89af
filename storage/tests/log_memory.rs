//! Reading the whole log back (every projection does on start) keeps memory near sled's cache
//! size. A test binary of its own: it reads its process's resident memory from `/proc`.

use std::sync::Arc;

use quire_storage::{system_clock, Actor, NewPost, Posts, Role, SledOptions, SledStore, Status, Store};

/// Posts written, and the size of each body: 65 MiB of events in ~3,000 of sled's pages.
const POSTS: usize = 40_000;
const BODY_BYTES: usize = 1_500;
const CACHE_BYTES: u64 = 4 * 1024 * 1024;

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"))
}

fn write_posts(dir: &std::path::Path) {
    let options = SledOptions {
        cache_bytes: CACHE_BYTES,
        ..SledOptions::default()
    };
    let store = Arc::new(SledStore::open(dir, &options).expect("open store"));
    let posts = Posts::new(store.clone(), system_clock());
    let actor = Actor::user(ulid::Ulid::new(), "ada", Role::Admin);
    let threads = 8;
    std::thread::scope(|scope| {
        for t in 0..threads {
            let (posts, actor) = (&posts, &actor);
            scope.spawn(move || {
                for i in (t..POSTS).step_by(threads) {
                    let mut body = format!("Post {i}. ");
                    while body.len() < BODY_BYTES {
                        body.push_str("Some words of a long post that nobody will read twice. ");
                    }
                    let input = NewPost {
                        title: format!("Post {i}"),
                        body,
                        status: Some(Status::Published),
                        ..NewPost::default()
                    };
                    posts.create(actor, input, None).expect("create");
                }
            });
        }
    });
}

#[test]
fn reading_the_whole_log_keeps_memory_near_the_cache_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_posts(dir.path());
    let options = SledOptions {
        cache_bytes: CACHE_BYTES,
        ..SledOptions::default()
    };
    let store = SledStore::open(dir.path(), &options).expect("reopen store");
    assert_eq!(store.head(), POSTS as u64);

    let before = status_kib("VmRSS:");
    let (mut after, mut bytes, mut most) = (0, 0, before);
    loop {
        let page = store.events_after(after, 256).expect("events");
        let Some(last) = page.last() else { break };
        assert_eq!(
            last.seq,
            after + page.len() as u64,
            "events come in order, without gaps"
        );
        after = last.seq;
        bytes += page
            .iter()
            .map(|e| serde_json::to_vec(&e.payload).map_or(0, |v| v.len()))
            .sum::<usize>();
        drop(page);
        most = most.max(status_kib("VmRSS:"));
    }
    assert_eq!(after, POSTS as u64, "the whole log was read");
    let read_mib = bytes / (1024 * 1024);
    let grown_mib = (most.saturating_sub(before)) / 1024;
    assert!(read_mib >= 56, "read {read_mib} MiB of events");
    // With range scans sled kept every page it read: the resident set grew by 74 MiB. With point
    // reads it grew by 20 MiB while sled's cache had 256 shards whatever its size (it evicts
    // once 64 reads have queued in one shard, so a few thousand pages stayed), and by 3 MiB
    // with one shard per MiB of cache (storage/vendor/sled/PATCHED.md): at most 4 × 64 pages
    // (~22 KiB each here) wait beyond the cache's 4 MiB.
    assert!(
        grown_mib <= 12,
        "reading {read_mib} MiB of events grew the resident set by {grown_mib} MiB (cache {} MiB)",
        CACHE_BYTES / (1024 * 1024)
    );
    println!("read {read_mib} MiB of events; resident set grew by {grown_mib} MiB");
}
