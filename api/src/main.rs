//! The `quire` binary.
//!
//! On glibc it first fixes malloc's mmap threshold. glibc raises that threshold to the size of
//! the largest block freed (up to 32 MiB), after which the big short-lived buffers of a burst and
//! a git catch-up (deflate state, encoded year folders, argon2's 19 MiB) are carved from arenas
//! that are rarely given back: the server stayed at 1.2–3.5 GB after a burst of creates. With a
//! fixed threshold, blocks of 128 KiB and more are mapped on their own and unmapped when freed.
//! Measured with `quire-burst` (README, Benchmarks), this did better than replacing the
//! allocator: mimalloc v2 and v3 kept 175–225 MB after the same run, since their per-thread
//! caches are only purged when that thread allocates again.
//!
//! It also caps malloc's arenas at two per core (glibc makes up to eight per core): each thread
//! that meets a busy arena gets one of its own, and the free space left in each after a burst
//! adds up. On two cores, 10,000 creates over 64 connections (README, Benchmarks): idle RSS
//! median 69.1 MiB (11 runs) against 72.1 (8 runs) with glibc's default, write path CPU per
//! create 431 against 418 µs and creates/s 1,524 against 1,570 (both within the run-to-run
//! spread); one arena per core saved as much but cost the write path ~10–20% more CPU in
//! earlier runs.
//! `MALLOC_ARENA_MAX` in the environment still wins.

fn main() -> std::process::ExitCode {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    glibc::tune_malloc();
    quire_api::cli::main()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod glibc {
    /// Blocks this big or bigger get their own mapping, returned to the system when freed
    /// (glibc's initial default, kept fixed instead of growing).
    const MMAP_THRESHOLD: libc::c_int = 128 * 1024;

    /// Malloc arenas per core.
    const ARENAS_PER_CORE: usize = 2;

    /// Sets `M_MMAP_THRESHOLD`, which also turns off glibc's dynamic adjustment of it, and
    /// `M_ARENA_MAX` (see the module docs).
    #[allow(unsafe_code)]
    pub(super) fn tune_malloc() {
        // SAFETY: mallopt(3) only changes allocator parameters; it is called first thing in
        // `main`, before any other thread exists, with a valid parameter and value.
        let ok = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) };
        if ok != 1 {
            eprintln!("quire: could not set malloc's mmap threshold; memory may stay high after bursts");
        }
        if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
            return;
        }
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let arenas = libc::c_int::try_from(cores.saturating_mul(ARENAS_PER_CORE)).unwrap_or(libc::c_int::MAX);
        // SAFETY: as above; still before any other thread exists.
        let ok = unsafe { libc::mallopt(libc::M_ARENA_MAX, arenas) };
        if ok != 1 {
            eprintln!("quire: could not limit malloc's arenas; idle memory may be a few MiB higher");
        }
    }
}
