//! Appends answered before they are durable, for callers that wait for durability without a
//! thread.
//!
//! A post command runs on a blocking thread and needs its append's outcome (a slug retry
//! depends on it), but not the flush that makes it durable: holding the thread through the
//! flush bounded the appends that could share one flush by the number of blocking threads.
//! Inside [`deferring`], post appends to a [`crate::sled_store::SledStore`] are answered as
//! soon as they are applied; the caller then awaits [`settled`] (an async wait, no thread)
//! before it answers anyone. A store that does not defer answers when durable, as always;
//! [`settled`] then returns at once.
//!
//! [`settled`] waits for everything applied so far, not only the command's own appends: a
//! refused command (a stale version, a taken slug) was decided on what it read, which may be
//! another append that is applied but not durable yet. The log's writer counts its rounds (each
//! applies what queued up, then flushes once): a reader that saw a round's writes
//! sees that round's number, and waits until a flush has made that round durable.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::store::Store;
use crate::{Error, Result};

thread_local! {
    /// Whether post appends on this thread are answered once applied.
    static DEFERRING: Cell<bool> = const { Cell::new(false) };
}

/// Restores the state before [`deferring`] even if its closure panics, so no later append on
/// this thread is answered early without a waiter.
struct Restore(bool);

impl Drop for Restore {
    fn drop(&mut self) {
        DEFERRING.set(self.0);
    }
}

/// Runs `f`, answering the post appends it makes on this thread once applied. Before telling
/// anyone what `f` did, the caller must await [`settled`].
pub fn deferring<R>(f: impl FnOnce() -> R) -> R {
    let _restore = Restore(DEFERRING.replace(true));
    f()
}

/// Whether appends on this thread are deferred.
pub(crate) fn active() -> bool {
    DEFERRING.get()
}

/// The writer's rounds: applied (begun), made durable, and the last whose flush failed.
#[derive(Debug, Default)]
pub(crate) struct Rounds {
    applied: AtomicU64,
    durable: AtomicU64,
    failed: AtomicU64,
}

impl Rounds {
    /// Starts a round, before anything of it is applied; returns its number.
    pub(crate) fn begin(&self) -> u64 {
        self.applied.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Marks rounds up to `round` durable, or failed.
    pub(crate) fn flushed(&self, round: u64, ok: bool) {
        let which = if ok { &self.durable } else { &self.failed };
        which.fetch_max(round, Ordering::SeqCst);
    }

    /// The latest round begun: everything any reader has seen applied is in it or before.
    pub(crate) fn applied(&self) -> u64 {
        self.applied.load(Ordering::SeqCst)
    }

    pub(crate) fn durable(&self) -> u64 {
        self.durable.load(Ordering::SeqCst)
    }

    pub(crate) fn failed(&self) -> u64 {
        self.failed.load(Ordering::SeqCst)
    }
}

/// Waits until everything applied so far is durable; an error if the flush meant to make it
/// durable failed or the log closed. Returns at once when nothing is waiting for a flush.
pub async fn settled(store: &dyn Store) -> Result<()> {
    let round = store.applied_round();
    let mut heads = store.subscribe();
    loop {
        // Marked seen before the checks, so a flush that ends after them wakes `changed`.
        heads.borrow_and_update();
        if store.durable_round() >= round {
            return Ok(());
        }
        if store.failed_round() >= round {
            return Err(Error::Io {
                context: "making the write durable".into(),
                source: std::io::Error::other("the log's flush failed"),
            });
        }
        heads.changed().await.map_err(|_| Error::Closed)?;
    }
}
