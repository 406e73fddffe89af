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

    /// Sets `M_MMAP_THRESHOLD`, which also turns off glibc's dynamic adjustment of it.
    #[allow(unsafe_code)]
    pub(super) fn tune_malloc() {
        // SAFETY: mallopt(3) only changes allocator parameters; it is called first thing in
        // `main`, before any other thread exists, with a valid parameter and value.
        let ok = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) };
        if ok != 1 {
            eprintln!("quire: could not set malloc's mmap threshold; memory may stay high after bursts");
        }
    }
}
