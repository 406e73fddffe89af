//! A flush wakes one of sled's I/O threads, not all of them. sled hands each log buffer it
//! seals to a pool of (at least seven) I/O threads; as released, 0.34.7 woke every idle thread
//! for each buffer, and all but one went back to sleep (in a 64-connection burst on two cores,
//! an eighth of the write path's CPU). Quire builds sled with that wake-up changed to one
//! thread (`storage/vendor/sled/PATCHED.md`). A test binary of its own: it counts the context switches
//! of its process's `sled-io-*` threads in `/proc`, which other tests' stores would share.

use std::sync::Arc;

use quire_storage::{system_clock, Actor, NewPost, Posts, Role, SledOptions, SledStore, Status, Store};

/// Context switches of every `sled-io-*` thread of this process so far.
fn sled_io_switches() -> u64 {
    let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task");
    let mut total = 0;
    let mut threads = 0;
    for task in tasks {
        let path = task.expect("task").path();
        let Ok(comm) = std::fs::read_to_string(path.join("comm")) else {
            continue;
        };
        if !comm.starts_with("sled-io-") {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(path.join("status")) else {
            continue;
        };
        threads += 1;
        total += status
            .lines()
            .filter(|line| line.starts_with("voluntary_ctxt_switches:"))
            .filter_map(|line| line.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
    }
    assert!(
        threads >= 2,
        "sled's I/O pool has {threads} threads; the test needs several"
    );
    total
}

#[test]
fn a_flush_wakes_one_of_sleds_io_threads_not_all() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SledStore::open(dir.path(), &SledOptions::default()).expect("open store"));
    let posts = Posts::new(store.clone(), system_clock());
    let actor = Actor::user(ulid::Ulid::new(), "ada", Role::Admin);
    let create = |i: usize| {
        let input = NewPost {
            title: format!("Post {i}"),
            body: "A short body.".into(),
            status: Some(Status::Published),
            ..NewPost::default()
        };
        posts.create(&actor, input, None).expect("create");
    };
    // The pool starts with the first buffer written.
    create(0);

    let (switches, flushes) = (sled_io_switches(), store.flush_count());
    for i in 1..=300 {
        create(i);
    }
    let switches = sled_io_switches() - switches;
    let flushes = store.flush_count() - flushes;
    let per_flush = switches as f64 / flushes as f64;
    println!("{switches} context switches of sled's I/O threads for {flushes} flushes ({per_flush:.1} a flush)");
    assert!(flushes >= 300, "a lone writer flushes once per append: {flushes}");
    // Measured on the development machine: 6.3–6.7 a flush with one thread woken per buffer
    // (the thread that writes it also waits for the disk), 13.5 when every idle thread was.
    assert!(
        per_flush <= 10.0,
        "{per_flush:.1} context switches of sled's I/O threads a flush: each buffer wakes every idle thread"
    );
}
