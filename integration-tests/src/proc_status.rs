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

#[cfg(test)]
mod tests {
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
