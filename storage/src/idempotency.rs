//! Idempotency keys, after the IETF httpapi `Idempotency-Key` draft.
//!
//! Keys are scoped per user. A completed request's record is written in the same transaction as
//! its events, so a crash can never leave events without their record or the reverse. A request
//! that is still running holds its key in memory only: a retry meanwhile gets `InProgress`, and
//! after a crash nothing is in flight.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use ulid::Ulid;

use crate::store::{IdempotencyRecord, IdempotencyWrite, Store};
use crate::{Error, Result};

/// Longest accepted key.
pub const MAX_KEY_LEN: usize = 255;

/// Tracks keys in flight and looks up completed ones.
#[derive(Clone)]
pub struct Idempotency {
    store: Arc<dyn Store>,
    in_flight: Arc<Mutex<HashSet<Vec<u8>>>>,
    clock: crate::Clock,
}

impl std::fmt::Debug for Idempotency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idempotency").finish_non_exhaustive()
    }
}

/// What to do with a request that carries a key.
#[derive(Debug)]
pub enum Begin {
    /// First time: run the command with this record attached; the key is held until dropped.
    Fresh(InFlight),
    /// Done before with the same request: answer as recorded.
    Replay(IdempotencyRecord),
    /// Done before with a different request.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

/// A key held while its request runs; released on drop.
#[derive(Debug)]
pub struct InFlight {
    write: IdempotencyWrite,
    in_flight: Arc<Mutex<HashSet<Vec<u8>>>>,
}

impl InFlight {
    /// The record to store with the command's events.
    pub fn write(&self) -> IdempotencyWrite {
        self.write.clone()
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.write.scope);
    }
}

impl Idempotency {
    /// Idempotency over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            in_flight: Arc::default(),
            clock: crate::system_clock(),
        }
    }

    /// The same service reading time from `clock` (the records' ages).
    pub fn with_clock(self, clock: crate::Clock) -> Self {
        Self { clock, ..self }
    }

    /// Decides how to treat a request with `key` from `user`; `status` is what it will answer.
    pub fn begin(&self, user: Ulid, key: &str, fingerprint: String, status: u16) -> Result<Begin> {
        self.begin_within(user, key, fingerprint, status, None)
    }

    /// Like [`Idempotency::begin`], but a record older than `window` counts as absent: the
    /// request runs again and its record replaces the old one (Micropub's dedupe of repeated
    /// creates, whose key is derived from the content).
    pub fn begin_within(
        &self,
        user: Ulid,
        key: &str,
        fingerprint: String,
        status: u16,
        window: Option<time::Duration>,
    ) -> Result<Begin> {
        validate_key(key)?;
        let mut scope = user.0.to_be_bytes().to_vec();
        scope.extend_from_slice(key.as_bytes());
        if !self
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(scope.clone())
        {
            return Ok(Begin::InProgress);
        }
        let held = InFlight {
            write: IdempotencyWrite {
                scope,
                key: key.to_owned(),
                record: IdempotencyRecord {
                    fingerprint,
                    status,
                    stream: Ulid::nil(),
                    version: 0,
                    created_at: (self.clock)(),
                },
            },
            in_flight: self.in_flight.clone(),
        };
        let now = held.write.record.created_at;
        let recent = |done: &IdempotencyRecord| window.is_none_or(|w| now - done.created_at <= w);
        Ok(match self.store.idempotency_record(&held.write.scope)?.filter(recent) {
            Some(done) if done.fingerprint == held.write.record.fingerprint => Begin::Replay(done),
            Some(_) => Begin::Mismatch,
            None => Begin::Fresh(held),
        })
    }
}

fn validate_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(Error::invalid(
            "Idempotency-Key",
            format!("use 1 to {MAX_KEY_LEN} visible ASCII characters (a UUID or ULID is ideal)"),
        ));
    }
    Ok(())
}
