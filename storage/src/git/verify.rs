//! Checking a repository against the event log.
//!
//! `verify` replays the log in memory (hashing objects, writing nothing) and walks `main`'s
//! first-parent history from the root, commit by commit. A projected commit must carry the
//! trailers of the event it names, follow the previous one in seq order, and be exactly the
//! commit the replay produces; when it is not, the report says what differs: which files
//! (against the replayed tree at that event), or which of author, committer, message or parent.
//!
//! A commit with a note in `refs/notes/quire` (a pushed commit Quire adopted) carries the events
//! its note lists: those must be the log's, and replaying them must give exactly that commit.
//!
//! Once history has diverged, later commits necessarily have other parents; that alone is not
//! reported again, and a run of commits that differ in the same way is reported at its first.

use std::collections::{HashSet, VecDeque};
use std::path::Path;

use gix::objs::tree::EntryMode;
use gix::ObjectId;

use crate::event::Envelope;
use crate::store::Store;

use super::error::{gix_err, GitError, Result};
use super::notes::Notes;
use super::projector::Projector;
use super::render::{parse_trailers, summary};
use super::repo::{first_parent_history, main_tip, CommitData};
use super::report::{PathChange, Problem, VerifyReport};
use super::tree::{read_tree, HashSink};
use super::{GitSettings, PAGE};

/// Most problems listed; past that the report is marked truncated.
const MAX_PROBLEMS: usize = 200;

/// Checks the repository at `path` against `store` (see the module docs).
pub fn verify(path: &Path, settings: &GitSettings, store: &dyn Store) -> Result<VerifyReport> {
    // Reads a stable set of packs: after a running roll-up, and none starts meanwhile (best
    // effort: a read-only repository has no lock to take, and nothing rolls it up either).
    let _packing = super::hold_packing(path).ok();
    let repo = gix::open(path).map_err(gix_err(format!("opening {}", path.display())))?;
    let mut history: Vec<CommitData> = first_parent_history(&repo, main_tip(&repo)?).collect::<Result<_>>()?;
    history.reverse();
    let mut checker = Checker {
        repo: &repo,
        store,
        head: store.head(),
        projector: Projector::new(settings.clone()).with_media(super::media_beside(path)),
        sink: HashSink::knowing(&repo),
        pending: VecDeque::new(),
        report: VerifyReport::default(),
        notes: Notes::load(&repo)?,
        position: 0,
        diverged: false,
        last_fields: Vec::new(),
        seen_paths: HashSet::new(),
    };
    checker.report.head = checker.head;
    for commit in &history {
        checker.check(commit)?;
    }
    let mut report = std::mem::take(&mut checker.report);
    report.commits = history.len() as u64;
    report.position = checker.position.min(report.head);
    Ok(report)
}

struct Checker<'a> {
    repo: &'a gix::Repository,
    store: &'a dyn Store,
    head: u64,
    projector: Projector,
    sink: HashSink,
    pending: VecDeque<Envelope>,
    report: VerifyReport,
    notes: Notes,
    /// The newest seq a commit carries.
    position: u64,
    /// Whether the actual chain already left the expected one (parents differ from here on).
    diverged: bool,
    /// Fields of the last `Rewritten`, to report a run of alike commits once.
    last_fields: Vec<&'static str>,
    seen_paths: HashSet<(String, Option<ObjectId>, Option<ObjectId>)>,
}

impl Checker<'_> {
    fn check(&mut self, commit: &CommitData) -> Result<()> {
        let id = commit.id.to_string();
        let expected = self.projector.position() + 1;
        let carried = self.notes.events(self.repo, commit.id)?;
        // A merge Quire made itself carries its events in a note (a pull's, see
        // `crate::git::import`); it is checked like any commit below.
        if commit.parents.len() > 1 && carried.is_none() {
            self.push(Problem::Merge { commit: id.clone() });
        }
        let (first, seq) = match (&carried, commit.seq()) {
            (Some(events), _) => (events.first().map_or(0, |e| e.seq), events.last().map_or(0, |e| e.seq)),
            (None, Some(seq)) => (seq, seq),
            (None, None) => {
                let summary = summary(commit.message());
                self.push(Problem::Foreign { commit: id, summary });
                self.diff_tree(commit, None)?;
                self.diverged = true;
                return Ok(());
            }
        };
        if first < expected || seq > self.head {
            self.push(match first < expected {
                true => Problem::OutOfOrder {
                    commit: id,
                    seq: first,
                    expected,
                },
                false => Problem::BeyondLog { commit: id, seq },
            });
            self.diverged = true;
            return Ok(());
        }
        self.position = self.position.max(seq);
        while self.projector.position() + 1 < first {
            let event = self.next_event()?;
            self.projector.commit(&event, &mut self.sink)?;
            self.push(Problem::Missing { seq: event.seq });
            self.diverged = true;
        }
        let (mut made, mut trailers_ok) = (None, true);
        while self.projector.position() < seq {
            let event = self.next_event()?;
            made = self.projector.commit(&event, &mut self.sink)?;
            trailers_ok &= match &carried {
                Some(events) => self.check_note(commit, events, &event),
                None => self.check_trailers(commit, &event),
            };
        }
        self.projector.take_notes();
        match made {
            Some(expected_id) if commit.id != expected_id => self.explain(commit, seq, expected_id, trailers_ok)?,
            Some(_) => {}
            None => {
                self.push(Problem::Trailer {
                    commit: id,
                    seq,
                    field: "note",
                    expected: "the last event of a pushed commit".into(),
                    found: format!("event {seq}"),
                });
                self.diverged = true;
            }
        }
        Ok(())
    }

    /// Compares the note's copy of `event` with the log's; returns whether they are the same.
    fn check_note(&mut self, commit: &CommitData, note: &[Envelope], event: &Envelope) -> bool {
        let found = note.iter().find(|e| e.seq == event.seq);
        if found == Some(event) {
            return true;
        }
        self.push(Problem::Trailer {
            commit: commit.id.to_string(),
            seq: event.seq,
            field: "note",
            expected: event.id.to_string(),
            found: found.map(|e| e.id.to_string()).unwrap_or_default(),
        });
        false
    }

    /// Says why `commit` is not `expected_id`.
    fn explain(&mut self, commit: &CommitData, seq: u64, expected_id: ObjectId, trailers_ok: bool) -> Result<()> {
        let want = self.projector.last_commit().expect("a commit was just made").clone();
        if commit.tree != want.tree {
            self.diff_tree(commit, Some(seq))?;
        }
        let got = &commit.commit;
        let mut fields = Vec::new();
        if got.author != want.author {
            fields.push("author");
        }
        if got.committer != want.committer {
            fields.push("committer");
        }
        if trailers_ok && (got.message != want.message || got.encoding != want.encoding) {
            fields.push("message");
        }
        if !self.diverged && commit.parents != want.parents.to_vec() {
            fields.push("parent");
        }
        if !fields.is_empty() && fields != self.last_fields {
            self.push(Problem::Rewritten {
                commit: commit.id.to_string(),
                seq,
                expected: expected_id.to_string(),
                fields: fields.clone(),
            });
        }
        self.last_fields = fields;
        self.diverged = true;
        Ok(())
    }

    /// Compares the trailers with the event; returns whether they all match.
    fn check_trailers(&mut self, commit: &CommitData, event: &Envelope) -> bool {
        let found = parse_trailers(commit.message());
        let stream = if event.payload.is_media() {
            ("Media-Id", found.media_id)
        } else if event.payload.is_dataset() {
            ("Dataset-Id", found.dataset_id)
        } else {
            ("Post-Id", found.post_id)
        };
        let checks = [
            ("Event-Id", event.id.to_string(), found.event_id),
            (
                "Stream-Version",
                event.version.to_string(),
                found.version.map(|v| v.to_string()),
            ),
            (stream.0, event.stream.to_string(), stream.1),
        ];
        let mut ok = true;
        for (field, expected, found) in checks {
            if found.as_deref() != Some(expected.as_str()) {
                ok = false;
                self.push(Problem::Trailer {
                    commit: commit.id.to_string(),
                    seq: event.seq,
                    field,
                    expected,
                    found: found.unwrap_or_default(),
                });
            }
        }
        ok
    }

    /// Reports every file of `commit` that differs from the replayed tree.
    fn diff_tree(&mut self, commit: &CommitData, seq: Option<u64>) -> Result<()> {
        if self.report.truncated {
            return Ok(());
        }
        let expected = self.projector.tree().files();
        let mut actual = Vec::new();
        flatten(self.repo, commit.tree, String::new(), &mut actual)?;
        actual.sort_by(|a, b| a.0.cmp(&b.0));
        for (path, want, got) in merge(&expected, &actual) {
            let change = match (want, got) {
                (Some(_), None) => PathChange::Missing,
                (None, Some(_)) => PathChange::Unexpected,
                _ => PathChange::Different,
            };
            if self.seen_paths.insert((path.clone(), want, got)) {
                let commit = commit.id.to_string();
                self.push(Problem::Path {
                    commit,
                    seq,
                    path,
                    change,
                });
            }
        }
        Ok(())
    }

    fn next_event(&mut self) -> Result<Envelope> {
        if self.pending.is_empty() {
            let after = self.projector.position();
            self.pending = self.store.events_after(after, PAGE)?.into();
        }
        let expected = self.projector.position() + 1;
        self.pending.pop_front().ok_or(GitError::Gap { expected, got: 0 })
    }

    fn push(&mut self, problem: Problem) {
        if self.report.problems.len() < MAX_PROBLEMS {
            self.report.problems.push(problem);
        } else {
            self.report.truncated = true;
        }
    }
}

type File = (String, EntryMode, ObjectId);

/// Pairs two path-sorted file lists; yields only the paths that differ.
fn merge(expected: &[File], actual: &[File]) -> Vec<(String, Option<ObjectId>, Option<ObjectId>)> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < expected.len() || j < actual.len() {
        let order = match (expected.get(i), actual.get(j)) {
            (Some(e), Some(a)) => e.0.cmp(&a.0),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                out.push((expected[i].0.clone(), Some(expected[i].2), None));
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push((actual[j].0.clone(), None, Some(actual[j].2)));
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let (e, a) = (&expected[i], &actual[j]);
                if e.1 != a.1 || e.2 != a.2 {
                    out.push((e.0.clone(), Some(e.2), Some(a.2)));
                }
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// Every non-tree entry under `tree`, with its full path.
fn flatten(repo: &gix::Repository, tree: ObjectId, prefix: String, out: &mut Vec<File>) -> Result<()> {
    for entry in read_tree(repo, tree)?.entries {
        let name = entry.filename.to_string();
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        if entry.mode.is_tree() {
            flatten(repo, entry.oid, path, out)?;
        } else {
            out.push((path, entry.mode, entry.oid));
        }
    }
    Ok(())
}
