//! The result of `verify`: a report listing every way `main` differs from the event log.

use std::fmt;

/// What `verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// The seq of the newest projected commit on `main` (0 if none).
    pub position: u64,
    /// The log's head when checked; `head - position` events are not in git yet (not a problem).
    pub head: u64,
    /// How many commits were read.
    pub commits: u64,
    /// Everything that differs from the log, oldest commit first.
    pub problems: Vec<Problem>,
    /// Whether problems were left out (more than 200).
    pub truncated: bool,
}

impl VerifyReport {
    /// Whether git matches the log (up to its position).
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// One way a commit differs from what the log says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A commit without an `Event-Seq` trailer: made by hand or by another tool.
    Foreign { commit: String, summary: String },
    /// A merge commit on `main` (the projection never makes one).
    Merge { commit: String },
    /// No commit for event `seq`: it was lost or dropped from history.
    Missing { seq: u64 },
    /// A commit whose seq is not after the previous one (repeated or reordered).
    OutOfOrder { commit: String, seq: u64, expected: u64 },
    /// A commit for an event the log does not have.
    BeyondLog { commit: String, seq: u64 },
    /// A trailer disagrees with the log's event at that seq.
    Trailer {
        commit: String,
        seq: u64,
        field: &'static str,
        expected: String,
        found: String,
    },
    /// A file differs from the tree the log gives at this commit (`seq` is `None` for a
    /// foreign commit, compared with the tree of the last projected event).
    Path {
        commit: String,
        seq: Option<u64>,
        path: String,
        change: PathChange,
    },
    /// Same event, different commit: the listed fields (`author`, `committer`, `message`,
    /// `parent`) were rewritten.
    Rewritten {
        commit: String,
        seq: u64,
        expected: String,
        fields: Vec<&'static str>,
    },
}

/// How a file differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathChange {
    /// The log says it should be there; git does not have it.
    Missing,
    /// Git has it; the log says it should not be there.
    Unexpected,
    /// Both have it, with different contents (or mode).
    Different,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Foreign { commit, summary } => {
                write!(f, "commit {commit} ({summary:?}) was not made by Quire")
            }
            Self::Merge { commit } => write!(f, "commit {commit} is a merge"),
            Self::Missing { seq } => write!(f, "no commit for event seq {seq}"),
            Self::OutOfOrder { commit, seq, expected } => {
                write!(f, "commit {commit} is for seq {seq}, expected seq {expected} or later")
            }
            Self::BeyondLog { commit, seq } => {
                write!(f, "commit {commit} is for seq {seq}, beyond the log's head")
            }
            Self::Trailer {
                commit,
                seq,
                field,
                expected,
                found,
            } => {
                write!(
                    f,
                    "commit {commit} (seq {seq}): {field} is {found:?}, the log says {expected:?}"
                )
            }
            Self::Path {
                commit,
                seq,
                path,
                change,
            } => {
                let at = seq.map_or_else(|| "foreign commit".to_owned(), |s| format!("seq {s}"));
                write!(f, "commit {commit} ({at}): {path} is {change:?}")
            }
            Self::Rewritten {
                commit,
                seq,
                expected,
                fields,
            } => write!(
                f,
                "commit {commit} (seq {seq}) should be {expected}; rewritten: {}",
                fields.join(", ")
            ),
        }
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.is_ok() { "OK" } else { "MISMATCH" };
        write!(
            f,
            "{state}: {} commits checked, git at seq {} of {}",
            self.commits, self.position, self.head
        )?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        if self.truncated {
            write!(f, "\n  - … more problems left out")?;
        }
        Ok(())
    }
}
