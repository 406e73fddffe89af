//! The one projection runner with a projection that counts what it is given: it applies an
//! idle log's change at once, takes a burst in a few catch-ups, retries failures, reports its
//! position and stops when asked.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use quire_storage::runner::{Projection, ProjectionError, ProjectionStatus, Runner, RunnerSettings};
use quire_storage::{system_clock, Actor, NewPost, Posts, Role, SledOptions, SledStore, Store};

/// Applies nothing but remembers how far it got; fails the first `fail` catch-ups.
struct Counter {
    checkpoint: Arc<AtomicU64>,
    catch_ups: Arc<AtomicUsize>,
    fail: usize,
    pause: Duration,
}

impl Projection for Counter {
    fn checkpoint(&mut self) -> Result<u64, ProjectionError> {
        Ok(self.checkpoint.load(Ordering::SeqCst))
    }

    fn catch_up(&mut self, store: &dyn Store, progress: &mut dyn FnMut(u64)) -> Result<u64, ProjectionError> {
        let n = self.catch_ups.fetch_add(1, Ordering::SeqCst);
        if n < self.fail {
            return Err("the disk is full".into());
        }
        // Reads the events first, then takes `pause` to apply them, like a projection rendering.
        let (from, head) = (self.checkpoint.load(Ordering::SeqCst), store.head());
        std::thread::sleep(self.pause);
        self.checkpoint.store(head, Ordering::SeqCst);
        progress(head);
        Ok(head - from)
    }
}

struct Running {
    posts: Posts,
    checkpoint: Arc<AtomicU64>,
    catch_ups: Arc<AtomicUsize>,
    status: Arc<ProjectionStatus>,
    stop: tokio::sync::watch::Sender<bool>,
    thread: std::thread::JoinHandle<()>,
    _waits: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

fn start(settings: RunnerSettings, fail: usize, pause: Duration) -> Running {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SledStore::open(dir.path(), &SledOptions::default()).expect("store"));
    let waits = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_time()
        .build()
        .expect("runtime");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let (checkpoint, catch_ups) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicUsize::new(0)));
    let status = Arc::new(ProjectionStatus::default());
    let runner = Runner {
        settings,
        store: store.clone(),
        report: status.clone(),
        stop: stopped,
        waits: waits.handle().clone(),
    };
    let counter = (checkpoint.clone(), catch_ups.clone());
    let thread = std::thread::spawn(move || {
        runner.run(|| {
            Ok(Counter {
                checkpoint: counter.0.clone(),
                catch_ups: counter.1.clone(),
                fail,
                pause,
            })
        })
    });
    Running {
        posts: Posts::new(store, system_clock()),
        checkpoint,
        catch_ups,
        status,
        stop,
        thread,
        _waits: waits,
        _dir: dir,
    }
}

fn create(posts: &Posts, title: &str) {
    let actor = Actor::user(ulid::Ulid::new(), "ada", Role::Admin);
    let post = NewPost {
        title: title.into(),
        ..NewPost::default()
    };
    posts.create(&actor, post, None).expect("create");
}

/// Waits (bounded) until the projection's checkpoint is the log's head.
fn caught_up(running: &Running) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while running.checkpoint.load(Ordering::SeqCst) < running.posts.store().head() {
        assert!(Instant::now() < deadline, "the runner did not catch up");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn stop(running: Running) {
    running.stop.send_replace(true);
    running.thread.join().expect("the runner thread ends");
}

#[test]
fn an_idle_log_is_applied_at_once_without_waiting_to_coalesce() {
    // Coalescing for 30 s would make this change wait that long if the runner coalesced always.
    let settings = RunnerSettings {
        coalesce: Duration::from_secs(30),
        ..RunnerSettings::new("counter")
    };
    let running = start(settings, 0, Duration::ZERO);
    for title in ["one", "two", "three"] {
        std::thread::sleep(Duration::from_millis(50));
        let asked = Instant::now();
        create(&running.posts, title);
        caught_up(&running);
        assert!(
            asked.elapsed() < Duration::from_secs(10),
            "applied without the 30 s pause"
        );
    }
    assert_eq!(running.status.position(), Some(3));
    stop(running);
}

#[test]
fn a_change_arriving_while_a_single_change_is_applied_does_not_wait_to_coalesce() {
    // A big site takes a while to apply one change; a second person's change that arrives
    // meanwhile is not a burst (nor are a few: fewer than `BURST_EVENTS`). Coalescing for
    // 30 s would hold it back that long.
    let settings = RunnerSettings {
        coalesce: Duration::from_secs(30),
        ..RunnerSettings::new("counter")
    };
    let running = start(settings, 0, Duration::from_millis(300));
    // The first catch-up (of the empty log) runs at start; let it end.
    std::thread::sleep(Duration::from_millis(500));
    let before = running.catch_ups.load(Ordering::SeqCst);
    create(&running.posts, "first");
    // Let the catch-up of the first change begin, then write the second during it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while running.catch_ups.load(Ordering::SeqCst) == before {
        assert!(Instant::now() < deadline, "the runner never caught up");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(100));
    let asked = Instant::now();
    create(&running.posts, "second");
    caught_up(&running);
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "the second change waited {:?}: the 30 s coalescing pause",
        asked.elapsed()
    );
    assert_eq!(running.status.position(), Some(2));
    stop(running);
}

#[test]
fn a_steady_stream_of_writes_is_taken_in_few_catch_ups() {
    let settings = RunnerSettings {
        coalesce: Duration::from_millis(200),
        ..RunnerSettings::new("counter")
    };
    let running = start(settings, 0, Duration::from_millis(50));
    // Writes keep coming for 1.5 s, many per catch-up: catching up after each (50 ms) would
    // take 30 catch-ups; pausing 200 ms while they keep coming takes ~6.
    let began = Instant::now();
    let mut n = 0;
    while began.elapsed() < Duration::from_millis(1500) {
        create(&running.posts, &format!("post {n}"));
        n += 1;
    }
    caught_up(&running);
    let catch_ups = running.catch_ups.load(Ordering::SeqCst);
    // A burst is at least `BURST_EVENTS` per catch-up: 160 writes a second here.
    assert!(n >= 240, "only {n} writes in 1.5 s: too slow to be a burst");
    assert!(catch_ups < 15, "{n} events over 1.5 s took {catch_ups} catch-ups");
    stop(running);
}

#[test]
fn failures_are_reported_retried_and_cleared() {
    let running = start(RunnerSettings::new("counter"), 3, Duration::ZERO);
    create(&running.posts, "kept");
    caught_up(&running);
    assert!(running.status.failures() >= 3, "each failure is counted");
    assert_eq!(running.status.last_error(), None, "a success clears the error");
    stop(running);
}
