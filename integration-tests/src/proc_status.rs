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

/// CPU time a process used so far (user + system, all threads), from `/proc/<pid>/stat`;
/// `None` if it is gone.
pub fn cpu_time(pid: u32) -> Option<std::time::Duration> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let ticks = parse_cpu_ticks(&text)?;
    let per_second = rustix::param::clock_ticks_per_second();
    Some(std::time::Duration::from_secs_f64(ticks as f64 / per_second as f64))
}

/// `utime + stime` (fields 14 and 15) of a `/proc/<pid>/stat` line. The command name (field 2)
/// is in parentheses and may hold spaces, so fields are counted after its closing one.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_cpu_ticks_after_the_command_name() {
        let stat = "4242 (quire (x) y) S 1 4242 4242 0 -1 4194560 123 0 0 0 250 17 0 0 20 0 9 0 1 2 3";
        assert_eq!(super::parse_cpu_ticks(stat), Some(267));
        assert_eq!(super::parse_cpu_ticks("garbage"), None);
        let own = super::cpu_time(std::process::id()).expect("own stat");
        assert!(own < std::time::Duration::from_secs(100_000));
    }

    use super::*;

    #[test]
    fn reads_the_fields_it_knows() {
        let text = "Name:\tquire\nVmHWM:\t  52340 kB\nVmRSS:\t   41000 kB\nThreads:\t12\n";
        let status = ProcStatus::parse(text);
        assert_eq!(
            status,
            ProcStatus {
                rss_kib: 41000,
                hwm_kib: 52340,
                threads: 12
            }
        );
        assert!(ProcStatus::of(std::process::id()).is_some_and(|s| s.rss_kib > 0 && s.threads >= 1));
    }
}
