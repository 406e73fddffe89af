//! What `/proc/<pid>/status` says about a process's memory and threads (Linux): the numbers
//! the memory tests bound and the burst benchmark prints.

/// A few fields of `/proc/<pid>/status`, in KiB where they are sizes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcStatus {
    /// Resident memory now (`VmRSS`).
    pub rss_kib: u64,
    /// The most resident memory the process ever had (`VmHWM`, its high-water mark).
    pub hwm_kib: u64,
    /// Threads now.
    pub threads: u64,
    /// Of `rss_kib`, the anonymous part (`RssAnon`: heap, stacks, caches).
    pub anon_kib: u64,
    /// Of `rss_kib`, the part mapped from files (`RssFile`: the binary's code and data, libraries).
    pub file_kib: u64,
}

impl ProcStatus {
    /// Reads the status of process `pid`; `None` if it is gone (or this is not Linux).
    pub fn of(pid: u32) -> Option<Self> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        Some(Self::parse(&text))
    }

    /// Parses the text of a status file; missing fields are 0.
    pub fn parse(text: &str) -> Self {
        let mut status = Self::default();
        for line in text.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let number = value
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            match key {
                "VmRSS" => status.rss_kib = number,
                "VmHWM" => status.hwm_kib = number,
                "Threads" => status.threads = number,
                "RssAnon" => status.anon_kib = number,
                "RssFile" => status.file_kib = number,
                _ => {}
            }
        }
        status
    }

    /// `VmRSS` in MiB.
    pub fn rss_mib(&self) -> f64 {
        self.rss_kib as f64 / 1024.0
    }

    /// `VmHWM` in MiB.
    pub fn hwm_mib(&self) -> f64 {
        self.hwm_kib as f64 / 1024.0
    }
}

/// Where a process's CPU time went: its threads (by id, with their names), the whole of it,
/// and its children. `/proc` forgets a thread once it exits, so a split [`CpuSplit::merge`]s
/// readings taken while threads come and go; what no reading saw is [`CpuSplit::unseen`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CpuSplit {
    /// Each thread seen: its name and CPU time.
    pub threads: std::collections::BTreeMap<u32, (String, std::time::Duration)>,
    /// The whole process (all threads, including those that have exited).
    pub total: std::time::Duration,
    /// Children the process has waited for (`cutime + cstime`): `git` processes it ran.
    pub children: std::time::Duration,
}

impl CpuSplit {
    /// Reads every `/proc/<pid>/task/<tid>/stat`, then `/proc/<pid>/stat` (so the total is
    /// read after each thread's time, never before it); `None` if the process is gone.
    pub fn of(pid: u32) -> Option<Self> {
        let mut threads = std::collections::BTreeMap::new();
        for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
            let Some(tid) = task.file_name().to_str().and_then(|t| t.parse().ok()) else {
                continue;
            };
            // A thread may exit between the listing and the read: it is then left out.
            let Ok(text) = std::fs::read_to_string(task.path().join("stat")) else {
                continue;
            };
            if let (Some(name), Some((ticks, _))) = (thread_name(&text), parse_cpu_ticks(&text)) {
                threads.insert(tid, (name.to_owned(), ticks_to_time(ticks)));
            }
        }
        let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let (own, children) = parse_cpu_ticks(&text)?;
        Some(Self {
            threads,
            total: ticks_to_time(own),
            children: ticks_to_time(children),
        })
    }

    /// Takes in a later reading: threads keep their latest time, exited ones their last seen.
    pub fn merge(&mut self, later: Self) {
        self.threads.extend(later.threads);
        self.total = self.total.max(later.total);
        self.children = self.children.max(later.children);
    }

    /// CPU time of the threads whose names are in `names`.
    pub fn threads_named(&self, names: &[&str]) -> std::time::Duration {
        self.threads
            .values()
            .filter(|(name, _)| names.contains(&name.as_str()))
            .map(|(_, time)| *time)
            .sum()
    }

    /// CPU time of the process no thread reading accounts for (threads that lived and ended
    /// between two readings, and what those seen used after their last one).
    pub fn unseen(&self) -> std::time::Duration {
        let seen: std::time::Duration = self.threads.values().map(|(_, time)| *time).sum();
        self.total.saturating_sub(seen)
    }

    /// What was used between `earlier` and `self` (threads missing from `earlier` count from 0).
    pub fn since(&self, earlier: &Self) -> Self {
        let threads = self
            .threads
            .iter()
            .map(|(tid, (name, time))| {
                let before = earlier.threads.get(tid).map(|(_, t)| *t).unwrap_or_default();
                (*tid, (name.clone(), time.saturating_sub(before)))
            })
            .collect();
        Self {
            threads,
            total: self.total.saturating_sub(earlier.total),
            children: self.children.saturating_sub(earlier.children),
        }
    }
}

fn ticks_to_time(ticks: u64) -> std::time::Duration {
    let per_second = rustix::param::clock_ticks_per_second();
    std::time::Duration::from_secs_f64(ticks as f64 / per_second as f64)
}

/// The command (thread) name of a `stat` line: between the first `(` and the last `)`.
fn thread_name(stat: &str) -> Option<&str> {
    stat.get(stat.find('(')? + 1..stat.rfind(')')?)
}

/// `(utime + stime, cutime + cstime)` (fields 14–17) of a `/proc/<pid>/stat` line. The command
/// name (field 2) is in parentheses and may hold spaces, so fields are counted after its closing
/// one.
fn parse_cpu_ticks(stat: &str) -> Option<(u64, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11).map(|f| f.parse::<u64>().ok());
    let mut next = || fields.next().flatten();
    let (utime, stime, cutime, cstime) = (next()?, next()?, next()?, next()?);
    Some((utime + stime, cutime + cstime))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_cpu_ticks_after_the_command_name() {
        let stat = "4242 (quire (x) y) S 1 4242 4242 0 -1 4194560 123 0 0 0 250 17 0 0 20 0 9 0 1 2 3";
        assert_eq!(super::parse_cpu_ticks(stat), Some((267, 0)));
        assert_eq!(super::thread_name(stat), Some("quire (x) y"));
        assert_eq!(super::parse_cpu_ticks("garbage"), None);
        let children = "7 (git) S 1 7 7 0 -1 0 0 0 0 0 5 6 70 30 20 0 1 0";
        assert_eq!(super::parse_cpu_ticks(children), Some((11, 100)));
        let own = super::CpuSplit::of(std::process::id()).expect("own stat");
        assert!(own.total < std::time::Duration::from_secs(100_000));
    }

    #[test]
    fn splits_cpu_time_by_thread() {
        let spin = std::thread::Builder::new()
            .name("cpu-split-spin".into())
            .spawn(|| {
                // Spins until its own reading shows 50 ms (however loaded the machine), or gives
                // up after 20 s of wall time and lets the assertion below say so.
                let began = std::time::Instant::now();
                let mut n = 0u64;
                loop {
                    for _ in 0..100_000 {
                        n = std::hint::black_box(n.wrapping_add(1));
                    }
                    let split = super::CpuSplit::of(std::process::id()).expect("own stat");
                    let spun = split.threads_named(&["cpu-split-spin"]);
                    if spun >= std::time::Duration::from_millis(50) || began.elapsed().as_secs() >= 20 {
                        return split;
                    }
                }
            })
            .expect("thread");
        let mut split = spin.join().expect("joined");
        let spun = split.threads_named(&["cpu-split-spin"]);
        assert!(spun >= std::time::Duration::from_millis(50), "{split:?}");
        // The total is read after the thread's time, but the kernel splits the process's run
        // time and the thread's into utime and stime separately (`cputime_adjust`) and cuts
        // each to whole ticks: the total may show up to one tick less per field.
        assert!(
            split.total + ticks_to_time(2) >= spun && !split.total.is_zero(),
            "{split:?}"
        );
        // The thread has exited: a later reading no longer lists it, the merged split keeps it.
        let later = super::CpuSplit::of(std::process::id()).expect("own stat");
        assert_eq!(later.threads_named(&["cpu-split-spin"]), std::time::Duration::ZERO);
        let earlier = split.clone();
        split.merge(later);
        assert_eq!(split.threads_named(&["cpu-split-spin"]), spun);
        assert!(split.unseen() <= split.total);
        let since = split.since(&earlier);
        assert_eq!(since.threads_named(&["cpu-split-spin"]), std::time::Duration::ZERO);
    }

    use super::*;

    #[test]
    fn reads_the_fields_it_knows() {
        let text = "Name:\tquire\nVmHWM:\t  52340 kB\nVmRSS:\t   41000 kB\nRssAnon:\t   30000 kB\n\
                    RssFile:\t   10900 kB\nRssShmem:\t     100 kB\nThreads:\t12\n";
        let status = ProcStatus::parse(text);
        assert_eq!(
            status,
            ProcStatus {
                rss_kib: 41000,
                hwm_kib: 52340,
                threads: 12,
                anon_kib: 30000,
                file_kib: 10900,
            }
        );
        assert!(ProcStatus::of(std::process::id()).is_some_and(|s| s.rss_kib > 0 && s.threads >= 1));
    }
}
