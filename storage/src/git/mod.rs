//! The git projection: the event log as a bare git repository (`<data>/content.git`, branch
//! `main`) in Hugo's layout, one commit per post event, in seq order.
//!
//! Each commit changes one file, `content/posts/<year>/<slug>.md` (the year of the post's date:
//! `publish_at`, else its creation), written as YAML front matter plus the Markdown body, or for
//! a media event `static/media/<hash>.<ext>` (bytes from `<data>/media`, beside the repository;
//! the commit names the stream with `Media-Id` instead of `Post-Id`); `hugo.toml` comes with the
//! first commit. The author is the event's actor, the committer is Quire, both dated at the
//! event's time, and the message ends in `Event-Id`/`Event-Seq`/`Event-Type`/`Stream-Version`/
//! `Post-Id`/`Actor` trailers, then `Event-Time` (the exact time; commit dates have seconds
//! only), `Idempotency-Key` (if any) and `Event-Data` (the payload as JSON, a live post's body
//! left to its file). Nothing depends on the clock or the machine, so replaying a log gives the
//! same commit ids ([`rebuild`]), the commits can be checked against the log ([`verify`]), and
//! the log can be read back from git alone ([`events_from_git`]).
//!
//! **Pushed commits are adopted** ([`import`]): the events of a `git push` record the pushed
//! files and commit objects, and the projection writes those commits themselves, one per pushed
//! commit, with the pusher's ids, authors and messages (module docs of `projector`). Their
//! messages carry no trailers, so the events each carries are listed in a git note,
//! `refs/notes/quire` (one JSON envelope a line), written with `main` in one ref transaction.
//!
//! **Where the projection stands is read from git itself**: the newest event carried by a commit
//! of `main`, from its note if it has one, else from its `Event-Seq` trailer. Objects are written
//! first and `main` moves last, with a compare-and-swap, so a crash in between only means those
//! commits are made again on restart (the orphaned objects are harmless). To render a file the projection needs every post's state
//! at that position: on the first [`GitProjection::catch_up`] after opening a non-empty
//! repository it folds the log's events up to git's position again (reading the log once, no
//! writes), then commits what follows.
//!
//! gix does blocking file I/O: the projection runs on its own thread, driven by the one
//! projection runner ([`crate::runner`]), never on the async executor.
//!
//! Every commit stores a new version of its year folder's tree (about 70 bytes per post of that
//! year). The objects of a page go straight into one pack, each tree as a delta against its
//! previous version, fsynced with its index before `main` moves ([`packfile`]); many small packs
//! are rolled together by the `git` command in the background ([`pack`], [`rollup`]): the repository stays
//! small and no commit waits for it. A commit made
//! on `main` by hand is kept: the projection continues on top of it, and [`verify`] reports it. An alias of an
//! old slug is kept even if another post takes that slug later.

#[cfg(test)]
mod adopt_tests;
mod error;
mod follow;
mod hash;
mod history;
#[cfg(test)]
mod idle_tests;
pub mod import;
mod notes;
mod pack;
mod packfile;
mod projector;
mod render;
mod repo;
mod report;
mod restore;
mod rollup;
mod tree;
mod verify;

use std::path::{Path, PathBuf};

use gix::ObjectId;
use ulid::Ulid;

use crate::event::Envelope;
use crate::store::Store;

pub use error::{GitError, Result};
pub use history::{post_commits, rebuild, CommitInfo};
pub use pack::{count_loose_objects, LOOSE_LIMIT as LOOSE_OBJECT_LIMIT};
pub use report::{PathChange, Problem, VerifyReport};
pub use restore::{events_from_git, settings_of, GitEvents};
pub use rollup::{hold_packing, PackingGuard, LOCK_FILE as PACKING_LOCK_FILE};
pub use verify::verify;

use pack::Packer;
use projector::Projector;
use tree::ContentTree;

/// How many events are read from the log at a time; `main` moves once per page, and each page's
/// objects (about 6 an event) make one pack.
const PAGE: usize = 256;

/// The media folder beside a repository: `<data>/content.git` reads `<data>/media`.
pub(crate) fn media_beside(repo: &Path) -> crate::media::MediaBlobs {
    crate::media::MediaBlobs::new(repo.parent().unwrap_or(Path::new(".")).join("media"))
}

/// What the projection writes besides the posts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSettings {
    /// `title` in `hugo.toml`.
    pub site_title: String,
    /// `baseURL` in `hugo.toml`.
    pub base_url: String,
    /// Authors are `<actor>@<author_email_domain>`…
    pub author_email_domain: String,
    /// …unless this is set, then every author has this email.
    pub author_email: Option<String>,
    /// Name of the committer of every commit.
    pub committer_name: String,
    /// Email of the committer of every commit.
    pub committer_email: String,
}

impl Default for GitSettings {
    fn default() -> Self {
        Self {
            site_title: "Quire".into(),
            base_url: "http://localhost:8080/".into(),
            author_email_domain: "users.quire.invalid".into(),
            author_email: None,
            committer_name: "Quire".into(),
            committer_email: "quire@quire.invalid".into(),
        }
    }
}

/// The projection over one repository. Not `Sync`: one writer per repository.
pub struct GitProjection {
    path: PathBuf,
    settings: GitSettings,
    repo: gix::Repository,
    projector: Projector,
    /// Where `main` was when we last read or moved it: the expected value of the next swap.
    ref_tip: Option<ObjectId>,
    /// Whether `projector` holds the posts state at its position (see the module docs).
    loaded: bool,
    /// What was written and not packed yet.
    packer: Packer,
    /// Whether loose objects found on opening were packed (done once, on the first catch-up).
    checked_loose: bool,
}

impl std::fmt::Debug for GitProjection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitProjection")
            .field("path", &self.path)
            .field("position", &self.projector.position())
            .finish_non_exhaustive()
    }
}

impl GitProjection {
    /// Opens the bare repository at `path`, creating it if it is missing.
    pub fn open(path: impl Into<PathBuf>, settings: GitSettings) -> Result<Self> {
        let path = path.into();
        let repo = repo::open_or_init(&path)?;
        let mut projection = Self {
            packer: Packer::new(&path),
            path,
            settings: settings.clone(),
            repo,
            projector: Projector::new(settings).without_bodies(),
            ref_tip: None,
            loaded: false,
            checked_loose: false,
        };
        projection.reset_from_git()?;
        Ok(projection)
    }

    /// The repository folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Packs the loose objects found on opening once there are `limit` of them (default
    /// [`LOOSE_OBJECT_LIMIT`]); `usize::MAX` writes loose objects, as Quire did before packing.
    pub fn set_loose_object_limit(&mut self, limit: usize) {
        self.packer.set_limit(limit);
        self.checked_loose = limit == usize::MAX;
    }

    /// The seq of the last event in git, read from `main`'s trailers (0 for an empty repository).
    pub fn position(&self) -> Result<u64> {
        repo::git_position(&self.repo).map(|(seq, _)| seq)
    }

    /// `main`'s commit id and the seq of the last event in git, read from the repository at
    /// `path` (without opening a projection): what a push must build on.
    pub fn main_of(path: &Path) -> Result<(Option<ObjectId>, u64)> {
        let repo = gix::open(path).map_err(error::gix_err(format!("opening {}", path.display())))?;
        let tip = repo::main_tip(&repo)?;
        Ok((tip, repo::git_position(&repo)?.0))
    }

    /// Commits every event after git's position; returns how many commits were made.
    pub fn catch_up(&mut self, store: &dyn Store) -> Result<u64> {
        self.catch_up_with(store, &mut |_, _| {})
    }

    /// [`GitProjection::catch_up`], calling `progress(done, total)` after each page.
    pub fn catch_up_with(&mut self, store: &dyn Store, progress: &mut dyn FnMut(u64, u64)) -> Result<u64> {
        // After a failure, or if someone else moved `main`, start again from what git says.
        if !self.loaded || repo::main_tip(&self.repo)? != self.ref_tip {
            self.reset_from_git()?;
        }
        if !self.loaded {
            self.load_posts(store)?;
        }
        if !self.checked_loose {
            self.packer.pack_old_loose_objects();
            self.checked_loose = true;
        }
        self.packer.poll();
        let mut made = 0;
        loop {
            let events = store.events_after(self.projector.position(), PAGE)?;
            if events.is_empty() {
                self.packer.idle();
                return Ok(made);
            }
            self.commit_all(store, &events)?;
            made += events.len() as u64;
            progress(made, store.head().saturating_sub(self.projector.position()) + made);
        }
    }

    /// Waits for a background roll-up of small packs, then rolls up what is left to roll up:
    /// call before handing a freshly written repository over. Dropping the projection instead
    /// stops a running roll-up (harmless: it is done again later).
    pub fn settle_packs(&mut self) {
        self.packer.settle();
    }

    /// Commits one event of `store`'s log (one already in git is skipped, so redelivery is
    /// harmless).
    pub fn apply(&mut self, store: &dyn Store, event: &Envelope) -> Result<()> {
        if !self.loaded {
            return Err(GitError::NotLoaded);
        }
        if event.seq <= self.projector.position() {
            return Ok(());
        }
        self.commit_all(store, std::slice::from_ref(event))
    }

    /// Writes one commit per event, then moves `main` once. On any failure the in-memory
    /// state is dropped, and the next `catch_up` starts again from what git says.
    fn commit_all(&mut self, store: &dyn Store, events: &[Envelope]) -> Result<()> {
        let result = self.try_commit_all(store, events);
        if result.is_err() {
            self.loaded = false;
        }
        result
    }

    fn try_commit_all(&mut self, store: &dyn Store, events: &[Envelope]) -> Result<()> {
        let mut sink = self.packer.sink(&self.repo);
        for event in events {
            if let Some(seq) = self.projector.missing_body(event) {
                self.projector
                    .give_body(event.stream, body_at(store, seq, event.stream)?);
            }
            self.projector.commit(event, &mut sink)?;
        }
        let (Some(tip), Some(last)) = (self.projector.tip(), events.last()) else {
            return sink.finish();
        };
        if Some(tip) == self.ref_tip {
            // The events of a pushed commit whose last is still to come: their files must be
            // stored all the same, the commit that names them comes with a later page.
            return sink.finish();
        }
        let who = gix::actor::Signature {
            name: self.settings.committer_name.as_str().into(),
            email: self.settings.committer_email.as_str().into(),
            time: gix::date::Time::new(last.at.unix_timestamp(), 0),
        };
        let added = self.projector.take_notes();
        let notes = if added.is_empty() {
            None
        } else {
            let mut notes = notes::Notes::load(&self.repo)?;
            let was = notes.tip();
            Some((was, notes.add(&added, &who, &mut sink)?))
        };
        // Objects durable first: a crash before the ref moves leaves an unreferenced pack.
        sink.finish()?;
        repo::move_main(&self.repo, self.ref_tip, tip, notes, &who)?;
        self.ref_tip = Some(tip);
        self.packer.after_move();
        Ok(())
    }

    /// Takes position, tip and tree from git; the posts state must be loaded again.
    fn reset_from_git(&mut self) -> Result<()> {
        let tip = repo::main_tip(&self.repo)?;
        let (seq, _) = repo::git_position(&self.repo)?;
        let tree = match tip {
            Some(tip) => ContentTree::load(&self.repo, repo::read_commit(&self.repo, tip)?.tree)?,
            None => ContentTree::default(),
        };
        self.projector = Projector::resume(self.settings.clone(), tree, tip, seq)
            .with_media(media_beside(&self.path))
            .without_bodies();
        self.ref_tip = tip;
        self.loaded = seq == 0;
        Ok(())
    }

    /// Folds the log's events up to git's position, checking that git's last event is the log's.
    fn load_posts(&mut self, store: &dyn Store) -> Result<()> {
        let (position, commit) = repo::git_position(&self.repo)?;
        let mut after = 0;
        while after < position {
            let events = store.events_after(after, PAGE)?;
            for event in events.iter().take_while(|e| e.seq <= position) {
                self.projector.replay(event)?;
                after = event.seq;
                if event.seq == position {
                    check_same_event(commit.as_deref(), event)?;
                }
            }
            if events.is_empty() {
                return Err(GitError::LogMismatch {
                    seq: position,
                    git_event: commit.unwrap_or_default(),
                    log_event: None,
                });
            }
        }
        self.loaded = true;
        Ok(())
    }
}

/// The body that event `seq` of the log gave post `stream`.
fn body_at(store: &dyn Store, seq: u64, stream: Ulid) -> Result<String> {
    let events = store.events_after(seq - 1, 1)?;
    (events.into_iter().next())
        .filter(|e| e.seq == seq && e.stream == stream)
        .and_then(|e| projector::body_of(&e.payload).map(str::to_owned))
        .ok_or(GitError::BrokenStream { seq, stream })
}

/// Checks that `git_event`, the id of the event git's position names, is the log's `event`.
fn check_same_event(git_event: Option<&str>, event: &Envelope) -> Result<()> {
    let git_event = git_event.unwrap_or_default().to_owned();
    if git_event == event.id.to_string() {
        return Ok(());
    }
    Err(GitError::LogMismatch {
        seq: event.seq,
        git_event,
        log_event: Some(event.id.to_string()),
    })
}
