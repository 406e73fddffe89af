//! argon2id password hashes, with a bound on how many are computed at once.
//!
//! Each argon2id hash (m=19456, t=2, p=1) fills 19 MiB of memory. Without a bound, 50 concurrent
//! wrong-password logins hashed at once on the blocking pool and raised the server's peak memory
//! from 52 MB to 985 MB. Hashing is CPU-bound, so running more hashes than there are cores only
//! adds memory, not throughput: the [`HashGate`] lets one hash per core run, lets a bounded
//! number of callers wait for a turn, and refuses the rest at once with [`Error::Busy`] (the API
//! answers 503 with `Retry-After`). Every hash and verification in the process goes through one
//! gate, so the bound holds whatever asks (login, setup, new users, password changes).

use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;

use crate::{Error, Result};

/// Callers that may wait for a turn, per running hash; beyond that they are refused.
const WAITING_PER_CORE: usize = 8;
/// What a refused caller is told to wait, in seconds: the queue drains in well under that.
const RETRY_AFTER_SECS: u64 = 1;

/// The argon2id PHC string of `password` (with a new random salt). Blocking; may be refused.
pub(crate) fn hash_password(password: &str) -> Result<String> {
    gate().run(|| argon2_hash(password))?
}

/// A real argon2id hash of a random password, so unknown users cost as much as known ones.
/// Made once, outside the gate (it is needed before the first refusal could be answered).
pub(crate) fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| argon2_hash(&crate::users::random_token("dummy_")).unwrap_or_default())
}

fn argon2_hash(password: &str) -> Result<String> {
    let hash: PasswordHash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| Error::Hash(e.to_string()))?;
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `phc`. Blocking; may be refused (`Err`), which is
/// not a wrong password.
pub(crate) fn verify_password(password: &str, phc: &str) -> Result<bool> {
    gate().run(|| {
        PasswordHash::new(phc)
            .map(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
            .unwrap_or(false)
    })
}

/// The process's gate: one hash per core, [`WAITING_PER_CORE`] waiting per core.
fn gate() -> &'static HashGate {
    static GATE: OnceLock<HashGate> = OnceLock::new();
    GATE.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        HashGate::new(cores, cores * WAITING_PER_CORE)
    })
}

/// A counting semaphore with a bounded wait queue, for blocking threads.
#[derive(Debug)]
pub(crate) struct HashGate {
    running_max: usize,
    waiting_max: usize,
    state: Mutex<GateState>,
    turn: Condvar,
}

#[derive(Debug, Default)]
struct GateState {
    running: usize,
    waiting: usize,
}

impl HashGate {
    /// At most `running_max` (at least 1) at once, and `waiting_max` waiting for a turn.
    pub(crate) fn new(running_max: usize, waiting_max: usize) -> Self {
        Self {
            running_max: running_max.max(1),
            waiting_max,
            state: Mutex::new(GateState::default()),
            turn: Condvar::new(),
        }
    }

    /// Runs `work` when a turn is free: at once, after waiting, or not at all ([`Error::Busy`])
    /// when the wait queue is full.
    pub(crate) fn run<T>(&self, work: impl FnOnce() -> T) -> Result<T> {
        let mut state = self.lock();
        if state.running >= self.running_max {
            if state.waiting >= self.waiting_max {
                return Err(Error::Busy {
                    retry_after_secs: RETRY_AFTER_SECS,
                });
            }
            state.waiting += 1;
            while state.running >= self.running_max {
                state = self.turn.wait(state).unwrap_or_else(PoisonError::into_inner);
            }
            state.waiting -= 1;
        }
        state.running += 1;
        drop(state);
        let _turn = Turn(self);
        Ok(work())
    }

    /// The counters stay consistent even if a holder panicked, so a poisoned lock is usable.
    fn lock(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Gives the turn back when the work ends (or panics).
struct Turn<'a>(&'a HashGate);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.0.lock().running -= 1;
        self.0.turn.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn at_most_running_max_run_and_the_overflow_is_refused() {
        let gate = Arc::new(HashGate::new(2, 3));
        let (now, peak, refused) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        );
        let release = Arc::new(AtomicBool::new(false));
        let threads: Vec<_> = (0..10)
            .map(|_| {
                let (gate, now, peak) = (gate.clone(), now.clone(), peak.clone());
                let (refused, release) = (refused.clone(), release.clone());
                std::thread::spawn(move || {
                    let result = gate.run(|| {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(n, Ordering::SeqCst);
                        while !release.load(Ordering::SeqCst) {
                            std::thread::sleep(Duration::from_millis(1));
                        }
                        now.fetch_sub(1, Ordering::SeqCst);
                    });
                    if matches!(result, Err(Error::Busy { retry_after_secs: 1 })) {
                        refused.fetch_add(1, Ordering::SeqCst);
                    }
                    result.is_ok()
                })
            })
            .collect();
        // The first two hold their turns until every other caller has queued or been refused.
        let deadline = Instant::now() + Duration::from_secs(30);
        while refused.load(Ordering::SeqCst) < 5 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        release.store(true, Ordering::SeqCst);
        let ran = threads.into_iter().map(|t| t.join().expect("no panic"));
        assert_eq!(ran.filter(|ok| *ok).count(), 5, "two run, three wait, then run");
        assert_eq!(refused.load(Ordering::SeqCst), 5, "the other five are refused");
        assert_eq!(peak.load(Ordering::SeqCst), 2, "never more than two at once");
        assert_eq!(gate.run(|| 7).expect("free again"), 7);
    }

    #[test]
    fn hashes_verify_and_wrong_passwords_do_not() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(verify_password("correct horse", &hash).expect("verify"));
        assert!(!verify_password("wrong horse", &hash).expect("verify"));
        assert!(!verify_password("anything", "not a phc string").expect("verify"));
    }
}
