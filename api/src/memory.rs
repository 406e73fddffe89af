//! Memory given back once a burst has settled.
//!
//! glibc's malloc keeps the memory freed in its arenas for the next allocations; after a burst
//! of writes and the projections' catch-up, most of it is free but still counted in the
//! server's RSS until the same thread allocates again. [`Settle`] watches the log's head and
//! the projections' positions and, the first time nothing moved for a whole tick after they
//! did, asks malloc to return its free pages to the system (`malloc_trim`). A steady trickle of
//! writes never triggers it; a quiet server pays for it once per burst.

/// Watches progress and gives memory back when it stops; see the module docs.
pub(crate) struct Settle {
    progress: Box<dyn Fn() -> u64 + Send>,
    last: u64,
    released: u64,
}

impl std::fmt::Debug for Settle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settle")
            .field("last", &self.last)
            .field("released", &self.released)
            .finish_non_exhaustive()
    }
}

impl Settle {
    /// `progress` must grow whenever anything the server does after a write moves on (e.g.
    /// the head plus every projection's position).
    pub(crate) fn new(progress: impl Fn() -> u64 + Send + 'static) -> Self {
        Self {
            progress: Box::new(progress),
            last: 0,
            released: 0,
        }
    }

    /// Called once per tick; returns whether it gave memory back.
    pub(crate) fn tick(&mut self) -> bool {
        let now = (self.progress)();
        let settled = now == self.last && now != self.released;
        self.last = now;
        if settled {
            self.released = now;
            release_free_memory();
        }
        settled
    }
}

/// Returns malloc's free memory to the system, where the allocator can.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn release_free_memory() {
    // SAFETY: malloc_trim(3) only releases free memory; any thread may call it at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_free_memory() {}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    use super::*;

    #[test]
    fn memory_is_given_back_once_per_settled_burst() {
        let progress = Arc::new(AtomicU64::new(0));
        let read = progress.clone();
        let mut settle = Settle::new(move || read.load(Ordering::Relaxed));
        assert!(!settle.tick(), "nothing happened yet");
        progress.store(10, Ordering::Relaxed);
        assert!(!settle.tick(), "still moving");
        progress.store(25, Ordering::Relaxed);
        assert!(!settle.tick(), "still moving");
        assert!(settle.tick(), "a tick without progress after a burst");
        assert!(!settle.tick(), "once per burst");
        assert!(!settle.tick());
        progress.store(26, Ordering::Relaxed);
        assert!(!settle.tick());
        assert!(settle.tick(), "the next burst settles too");
    }
}
