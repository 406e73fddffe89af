//! Abuse protection: login lockouts and a write rate limit.
//!
//! Login: after `max_failures_per_user` failed attempts for one username (from any address), or
//! `max_failures_per_address` from one address, further attempts are refused with 429 and
//! `Retry-After` — even with the right password — for a lockout that doubles each time (10
//! minutes up to a day by default). The counters live in memory: a restart clears them.
//!
//! Writes: each user (or API token) may make `write_rate_per_minute` writes a minute with bursts
//! of `write_burst`, enforced with `governor`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use time::OffsetDateTime;

use governor::clock::{Clock as _, DefaultClock};
use governor::{Quota, RateLimiter};

use crate::config::{ApiConfig, AuthConfig};

/// Most entries kept before expired ones are swept.
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Default, Clone)]
struct Entry {
    failures: u32,
    lockouts: u32,
    locked_until: Option<OffsetDateTime>,
}

/// Failed-login bookkeeping per username and per address.
pub struct LoginGuard {
    entries: Mutex<HashMap<String, Entry>>,
    clock: quire_storage::Clock,
    per_user: u32,
    per_address: u32,
    base: Duration,
    max: Duration,
}

impl std::fmt::Debug for LoginGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginGuard").finish_non_exhaustive()
    }
}

impl LoginGuard {
    /// A guard with the configured thresholds, reading time from `clock`.
    pub fn new(config: &AuthConfig, clock: quire_storage::Clock) -> Self {
        Self {
            entries: Mutex::default(),
            clock,
            per_user: config.max_failures_per_user,
            per_address: config.max_failures_per_address,
            base: Duration::from_secs(config.lockout_secs),
            max: Duration::from_secs(config.max_lockout_secs),
        }
    }

    fn keys(username: &str, addr: Option<IpAddr>) -> [Option<String>; 2] {
        [
            Some(format!("u:{}", username.to_lowercase())),
            addr.map(|a| format!("a:{a}")),
        ]
    }

    /// `Some(wait)` while the username or the address is locked out.
    pub fn locked(&self, username: &str, addr: Option<IpAddr>) -> Option<Duration> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = (self.clock)();
        Self::keys(username, addr)
            .into_iter()
            .flatten()
            .filter_map(|k| entries.get(&k)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| Duration::try_from(until - now).unwrap_or_default())
            .max()
    }

    /// Counts a failed attempt; locks out when a threshold is reached.
    pub fn failed(&self, username: &str, addr: Option<IpAddr>) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = (self.clock)();
        if entries.len() > MAX_ENTRIES {
            entries.retain(|_, e| e.locked_until.is_some_and(|u| u > now));
        }
        let [user, address] = Self::keys(username, addr);
        for (key, limit) in [(user, self.per_user), (address, self.per_address)] {
            let Some(key) = key else { continue };
            let entry = entries.entry(key).or_default();
            entry.failures += 1;
            if entry.failures >= limit {
                let factor = 2u32.saturating_pow(entry.lockouts);
                entry.locked_until = Some(now + self.base.saturating_mul(factor).min(self.max));
                entry.lockouts = entry.lockouts.saturating_add(1);
                entry.failures = 0;
            }
        }
    }

    /// A successful login clears the username's failures (not its lockout history).
    pub fn succeeded(&self, username: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(entry) = entries.get_mut(&format!("u:{}", username.to_lowercase())) {
            entry.failures = 0;
        }
    }
}

type KeyedLimiter = RateLimiter<String, governor::state::keyed::HashMapStateStore<String>, DefaultClock>;

/// The per-user write rate limit.
pub struct WriteLimiter {
    limiter: Option<KeyedLimiter>,
}

impl std::fmt::Debug for WriteLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteLimiter")
            .field("enabled", &self.limiter.is_some())
            .finish()
    }
}

impl WriteLimiter {
    /// A limiter with the configured quota; `write_rate_per_minute = 0` turns it off.
    pub fn new(config: &ApiConfig) -> Self {
        let limiter = NonZeroU32::new(config.write_rate_per_minute).map(|rate| {
            let burst = NonZeroU32::new(config.write_burst).unwrap_or(rate);
            RateLimiter::hashmap(Quota::per_minute(rate).allow_burst(burst))
        });
        Self { limiter }
    }

    /// `Err(wait)` when `key` has used up its writes for now.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        match &self.limiter {
            Some(limiter) => limiter
                .check_key(&key.to_owned())
                .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now())),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockouts_start_at_the_threshold_and_grow() {
        let config = AuthConfig::default();
        let guard = LoginGuard::new(&config, quire_storage::system_clock());
        let addr: Option<IpAddr> = "10.0.0.1".parse().ok();
        for _ in 0..config.max_failures_per_user - 1 {
            guard.failed("ada", addr);
        }
        assert!(guard.locked("ada", addr).is_none());
        guard.failed("ADA", addr);
        let first = guard.locked("ada", None).expect("locked by username from any address");
        assert!(first <= Duration::from_secs(config.lockout_secs));
        for _ in 0..config.max_failures_per_user {
            guard.failed("ada", None);
        }
        let second = guard.locked("ada", None).expect("locked again");
        assert!(second > first, "the second lockout is longer");
    }
}
