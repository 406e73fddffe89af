//! Forge webhooks and pulls: edits made on GitHub, Gitea, Forgejo or GitLab come back into the
//! log.
//!
//! A `[[git.remotes]]` entry with `pull = true` is both a mirror (Quire's `main` is pushed to
//! it, [`super::mirror`]) and a source: a signed delivery to `POST /api/v1/hooks/git/{name}`
//! ([`signature`]) or every `pull_interval_secs` queues a **pull**, which runs on a thread of
//! its own (the webhook is answered 202 at once; forges give up after ~10 s):
//!
//! 1. `git fetch` of the remote's branch (`branch`, default `main`) into a staging repository
//!    like a push's (`<data>/git-incoming/pull-<id>.git`, borrowing `content.git`'s objects
//!    through `alternates`), stopped after `git.push_timeout_secs`;
//! 2. under the push gate, with git caught up with the log: if the fetched tip is `main` or
//!    behind it, nothing is new; if it descends from `main`, its new commits are imported
//!    exactly as a push's ([`super::push::ImportCommits`]: same checks, all or nothing), as the
//!    remote's `user`, each event's origin `{source: "forge-hook", commit}`;
//! 3. otherwise both sides have commits the other lacks. If they changed **different files**
//!    since they parted, the pull merges ([`merge`]): a merge commit with `main` and the forge's
//!    tip as parents and `main`'s tree plus the forge's edits is imported like a pushed commit
//!    (its events are the forge's edits; the forge's commits are copied into `content.git`
//!    first), so the projection writes that very merge onto `main` and the mirror push brings
//!    the forge up to it: nothing is forced, no commit of either side is dropped. If both
//!    changed a file, nothing is imported and the remote is marked **diverged** with those
//!    paths in `/api/v1/status` (`git.mirrors[].pull.conflicts`), in `/metrics`
//!    (`quire_git_pull_diverged`) and in the editor, until a later pull succeeds; the mirror
//!    push is refused too (shown as mirror failures).
//!
//! A refused import (a file Quire does not model, bad front matter, missing rights) is shown
//! the same way, with the paths. Pulls of one remote never overlap: a delivery during a pull
//! makes it run once more afterwards.
//!
//! **Pull, then mirror push.** Pulled commits are kept as they are (like a push's, see
//! [`super::push`]), so after a fast-forward pull `main` *is* the forge's branch and the mirror
//! push has nothing to do. Where the projection cannot keep a pulled commit (an image, whose
//! file Quire names by its hash), it writes its own; the forge commit last imported then stands
//! in for `main` (in memory) as long as nothing else was appended since, so the forge's next
//! commits still import.

mod merge;
pub(crate) mod signature;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use quire_storage::git::GitSettings;
use quire_storage::{Accounts, Actor, Clock, GitProjection, MediaService, Store};
use time::OffsetDateTime;

use super::push::{ImportCommits, Imported};
use super::status::GitStatus;
use crate::config::Config;

/// The `source` of events read from a forge's commits.
pub const SOURCE: &str = "forge-hook";
/// How long a pull waits for git to catch up with the log before it gives up (it is retried
/// by the next delivery or interval).
const CATCH_UP_WAIT: Duration = Duration::from_secs(30);

/// The pulling remotes and what a pull needs; in `AppState`.
pub struct Forges {
    remotes: Vec<ForgeRemote>,
    store: Arc<dyn Store>,
    media: MediaService,
    accounts: Accounts,
    clock: Clock,
    data_dir: PathBuf,
    timeout: Duration,
    gate: Arc<Mutex<()>>,
    status: Arc<GitStatus>,
    /// Who signs the merges a pull makes.
    settings: GitSettings,
}

struct ForgeRemote {
    /// Position in `git.remotes` (and in the status).
    index: usize,
    name: String,
    url: String,
    branch: String,
    user: String,
    secret: Option<Vec<u8>>,
    interval: Option<Duration>,
    queue: Mutex<Queue>,
    /// The forge commit the last import brought in and the log's head right after it.
    last_import: Mutex<Option<(String, u64)>>,
}

#[derive(Default)]
struct Queue {
    running: bool,
    again: bool,
}

impl Forges {
    /// The remotes of `config` with `pull = true`; their secrets are read now.
    pub(crate) fn new(
        config: &Config,
        store: Arc<dyn Store>,
        media: MediaService,
        accounts: Accounts,
        gate: Arc<Mutex<()>>,
        status: Arc<GitStatus>,
    ) -> anyhow::Result<Self> {
        let mut remotes = Vec::new();
        for (index, remote) in config.git.remotes.iter().enumerate().filter(|(_, r)| r.pull) {
            remotes.push(ForgeRemote {
                index,
                name: remote.display_name(),
                url: remote.url.clone(),
                branch: remote.pull_branch().to_owned(),
                user: remote.user.clone().unwrap_or_default(),
                secret: remote.hook_secret()?.map(String::into_bytes),
                interval: (remote.pull_interval_secs > 0).then(|| Duration::from_secs(remote.pull_interval_secs)),
                queue: Mutex::default(),
                last_import: Mutex::default(),
            });
        }
        Ok(Self {
            remotes,
            store,
            media,
            accounts,
            clock: config.clock(),
            data_dir: config.data_dir.clone(),
            timeout: Duration::from_secs(config.git.push_timeout_secs),
            gate,
            status,
            settings: super::settings(config),
        })
    }

    /// Whether a delivery for remote `name` is genuine; an unknown name is checked against a
    /// dummy secret, so both take the same time and get the same answer.
    pub(crate) fn verify(&self, name: &str, headers: &actix_web::http::header::HeaderMap, body: &[u8]) -> bool {
        let remote = self.remotes.iter().find(|r| r.name == name);
        let secret = remote.and_then(|r| r.secret.as_deref());
        let genuine = signature::verify(secret.unwrap_or(b"no such remote: nothing matches"), headers, body);
        genuine && secret.is_some()
    }

    /// The branch remote `name` pulls.
    pub(crate) fn branch(&self, name: &str) -> Option<&str> {
        self.remotes.iter().find(|r| r.name == name).map(|r| r.branch.as_str())
    }

    /// Queues a pull of remote `name` on a thread of its own (or once more after the running
    /// one).
    pub(crate) fn queue_pull(self: &Arc<Self>, name: &str) {
        let Some(n) = self.remotes.iter().position(|r| r.name == name) else {
            return;
        };
        {
            let mut queue = lock(&self.remotes[n].queue);
            if queue.running {
                queue.again = true;
                return;
            }
            queue.running = true;
        }
        let forges = self.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("quire-pull-{n}"))
            .spawn(move || forges.drain(n));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "starting a pull");
            lock(&self.remotes[n].queue).running = false;
        }
    }

    /// Pulls remote `n` until no delivery came in meanwhile.
    fn drain(&self, n: usize) {
        super::lower_priority();
        let remote = &self.remotes[n];
        loop {
            self.pull(remote);
            let mut queue = lock(&remote.queue);
            if !queue.again {
                queue.running = false;
                return;
            }
            queue.again = false;
        }
    }

    /// The remotes that pull on a timer, with their interval.
    pub(crate) fn periodic(&self) -> Vec<(String, Duration)> {
        self.remotes
            .iter()
            .filter_map(|r| Some((r.name.clone(), r.interval?)))
            .collect()
    }

    /// One pull: fetch, then import or report; the outcome goes to the status.
    fn pull(&self, remote: &ForgeRemote) {
        let outcome = self.try_pull(remote).unwrap_or_else(|e| {
            // What git said may name the URL, with its credentials.
            let error = e
                .to_string()
                .replace(&remote.url, &super::config::redact_url(&remote.url));
            tracing::warn!(remote = %remote.name, %error, "pull failed");
            Outcome::Failed(error)
        });
        tracing::info!(remote = %remote.name, ?outcome, "pulled");
        if let Outcome::InStep { merge: Some(merge), .. } = &outcome {
            tracing::info!(remote = %remote.name, %merge, "merged the forge's edits beside Quire's own");
        }
        let now = OffsetDateTime::now_utc();
        self.status.update_mirror(remote.index, |m| {
            let Some(pull) = &mut m.pull else { return };
            pull.last_pull_at = Some(now);
            pull.problems.clear();
            pull.conflicts.clear();
            pull.diverged = false;
            match outcome {
                Outcome::InStep { commit, events, .. } => {
                    pull.ok = Some(true);
                    pull.last_error = None;
                    pull.commit = Some(commit);
                    pull.imported_events = events;
                }
                Outcome::Diverged { message, conflicts } => {
                    pull.ok = Some(false);
                    pull.diverged = true;
                    pull.last_error = Some(message);
                    pull.conflicts = conflicts;
                }
                Outcome::Refused(problems) => {
                    pull.ok = Some(false);
                    pull.last_error = Some("the forge's commits were refused; nothing was imported".into());
                    pull.problems = problems;
                }
                Outcome::Failed(message) => {
                    pull.ok = Some(false);
                    pull.last_error = Some(message);
                }
            }
        });
    }

    fn try_pull(&self, remote: &ForgeRemote) -> anyhow::Result<Outcome> {
        let actor = match self.accounts.user_by_name(&remote.user)? {
            Some(user) if !user.disabled => Actor::user(user.id, user.username, user.role),
            _ => {
                return Ok(Outcome::Failed(format!(
                    "user {:?} (git.remotes {:?}) does not exist or is disabled",
                    remote.user, remote.name
                )))
            }
        };
        let content = self.data_dir.join("content.git");
        anyhow::ensure!(content.is_dir(), "the git projection is off or has not started");
        let staging = Staging::create(&self.data_dir, &content)?;
        let result = (|| {
            let tip = staging.fetch(&remote.url, &remote.branch, self.timeout)?;
            self.import(remote, &actor, &content, &staging.dir, &tip)
        })();
        staging.remove();
        result
    }

    /// Imports `fetched..` onto `main` once git has every event of the log.
    fn import(
        &self,
        remote: &ForgeRemote,
        actor: &Actor,
        content: &Path,
        staging: &Path,
        fetched: &str,
    ) -> anyhow::Result<Outcome> {
        let deadline = Instant::now() + CATCH_UP_WAIT;
        let (_gate, main, head) = loop {
            let gate = self.gate.lock().unwrap_or_else(PoisonError::into_inner);
            let (main, position) = GitProjection::main_of(content)?;
            let head = self.store.head();
            if position == head {
                break (gate, main.map(|m| m.to_string()), head);
            }
            drop(gate);
            if Instant::now() > deadline {
                return Ok(Outcome::Failed(
                    "git is behind the log; the next pull tries again".into(),
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let in_step = |commit: &str| commit == fetched || ancestor(staging, fetched, commit);
        if main.as_deref().is_some_and(in_step) {
            // Nothing new (the mirror push brings the forge up to `main`).
            return Ok(Outcome::InStep {
                commit: fetched.to_owned(),
                events: 0,
                merge: None,
            });
        }
        // The git projection writes commits of its own for imported events, so after a pull
        // `main` lacks the forge's commits: the forge commit last imported stands in for `main`
        // while the log has not moved since (in memory: after a restart, such a pull reports a
        // divergence instead).
        let last = lock(&remote.last_import).clone().filter(|(_, at)| *at == head);
        let base = match last {
            Some((commit, _)) if commit == fetched => {
                return Ok(Outcome::InStep {
                    commit: fetched.to_owned(),
                    events: 0,
                    merge: None,
                })
            }
            Some((commit, _)) if ancestor(staging, &commit, fetched) => Some(commit),
            _ => main.clone(),
        };
        let import = ImportCommits {
            store: self.store.as_ref(),
            media: &self.media,
            actor,
            now: (self.clock)(),
            source: SOURCE,
            git_dir: staging,
            env: &[],
            old: base.as_deref(),
            new: fetched,
            tip_only: false,
        };
        Ok(match import.run()? {
            Imported::Appended { events, last_seq, .. } => {
                *lock(&remote.last_import) = Some((fetched.to_owned(), last_seq.unwrap_or(head)));
                Outcome::InStep {
                    commit: fetched.to_owned(),
                    events,
                    merge: None,
                }
            }
            Imported::NotFastForward => match main {
                Some(main) => self.merge(remote, actor, content, staging, &main, fetched)?,
                None => Outcome::diverged(Vec::new()),
            },
            Imported::Refused(problems) => Outcome::Refused(problems),
        })
    }

    /// `main` and the forge's branch both moved on since they parted. When they changed
    /// different files, a merge commit (parents `main` and the forge's tip; `main`'s tree with
    /// the forge's edits) is imported like a pushed commit: its events are the forge's edits,
    /// and the projection writes that very merge onto `main` (the forge's commits are copied
    /// into `content.git` first), so the mirror push then brings the forge up to `main`.
    /// When both changed a file, those paths are reported and nothing is imported.
    #[allow(clippy::too_many_arguments)]
    fn merge(
        &self,
        remote: &ForgeRemote,
        actor: &Actor,
        content: &Path,
        staging: &Path,
        main: &str,
        fetched: &str,
    ) -> anyhow::Result<Outcome> {
        let Some(base) = merge::base(staging, main, fetched)? else {
            return Ok(Outcome::diverged(Vec::new()));
        };
        let theirs = merge::changed_files(staging, &base, fetched)?;
        let ours = merge::changed_files(staging, &base, main)?;
        let conflicts: Vec<String> = theirs.intersection(&ours).cloned().collect();
        if !conflicts.is_empty() {
            return Ok(Outcome::diverged(conflicts));
        }
        let Some(tree) = merge::tree(staging, main, fetched)? else {
            return Ok(Outcome::diverged(theirs.into_iter().collect()));
        };
        let now = (self.clock)();
        let author = merge::Identity {
            name: remote.user.clone(),
            email: (self.settings.author_email.clone())
                .unwrap_or_else(|| format!("{}@{}", remote.user, self.settings.author_email_domain)),
        };
        let committer = merge::Identity {
            name: self.settings.committer_name.clone(),
            email: self.settings.committer_email.clone(),
        };
        let message = merge::message(&remote.name, &remote.branch, &theirs);
        let commit = merge::commit(staging, &tree, [main, fetched], &message, &author, &committer, now)?;
        // The merge names the forge's commits: `content.git` must hold them before the
        // projection writes it (else it writes a commit of its own).
        merge::copy_objects(staging, content, fetched, main)?;
        let import = ImportCommits {
            store: self.store.as_ref(),
            media: &self.media,
            actor,
            now,
            source: SOURCE,
            git_dir: staging,
            env: &[],
            old: Some(main),
            new: &commit,
            tip_only: true,
        };
        Ok(match import.run()? {
            Imported::Appended { events, .. } => {
                // `main` is to be the merge, which has the forge's tip: no stand-in is needed.
                *lock(&remote.last_import) = None;
                Outcome::InStep {
                    commit: fetched.to_owned(),
                    events,
                    merge: Some(commit),
                }
            }
            Imported::NotFastForward => Outcome::diverged(Vec::new()),
            Imported::Refused(problems) => Outcome::Refused(problems),
        })
    }
}

/// Whether `ancestor` is an ancestor of `commit` in `staging` (false if either is unknown).
fn ancestor(staging: &Path, ancestor: &str, commit: &str) -> bool {
    quire_storage::git::import::is_ancestor(staging, &[], ancestor, commit).unwrap_or(false)
}

#[derive(Debug)]
enum Outcome {
    /// Quire has every commit of the forge's branch (`events` appended now, through `merge`
    /// when both sides had moved on).
    InStep {
        commit: String,
        events: usize,
        merge: Option<String>,
    },
    /// Both sides changed `conflicts` (empty: they share no history).
    Diverged {
        message: String,
        conflicts: Vec<String>,
    },
    Refused(Vec<String>),
    Failed(String),
}

impl Outcome {
    fn diverged(conflicts: Vec<String>) -> Self {
        let message = match conflicts.is_empty() {
            true => {
                "diverged: the forge's branch and Quire's main share no commit; nothing was imported \
                     and nothing is overwritten. Rebase the forge's branch onto Quire's main on a clone \
                     and push it to the forge; the next pull imports it"
            }
            false => {
                "diverged: the forge's branch and Quire's main both changed the files in `conflicts` \
                      since they parted; nothing was imported and nothing is overwritten. On a clone of \
                      the forge, `git pull --rebase <Quire's git URL> main`, resolve those files and push \
                      to the forge; the next pull imports it"
            }
        };
        Self::Diverged {
            message: message.to_owned(),
            conflicts,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The repository a pull fetches into, removed afterwards (and on start, with a push's).
struct Staging {
    dir: PathBuf,
}

impl Staging {
    fn create(data_dir: &Path, content: &Path) -> anyhow::Result<Self> {
        let root = data_dir.join("git-incoming");
        std::fs::create_dir_all(&root)?;
        let dir = root.join(format!("pull-{}.git", ulid::Ulid::new()));
        run_git(Command::new("git").args(["init", "--bare", "-q"]).arg(&dir))?;
        let staging = Self { dir };
        let content = std::fs::canonicalize(content)?;
        std::fs::write(
            staging.dir.join("objects/info/alternates"),
            format!("{}\n", content.join("objects").display()),
        )?;
        if let (Some(tip), _) = GitProjection::main_of(&content)? {
            // Lets the fetch tell the forge what Quire has, so only new objects come.
            std::fs::write(staging.dir.join("refs/heads/main"), format!("{tip}\n"))?;
        }
        Ok(staging)
    }

    /// Fetches `branch` of `url`; returns its tip.
    fn fetch(&self, url: &str, branch: &str, timeout: Duration) -> anyhow::Result<String> {
        let mut command = Command::new("git");
        command
            .arg("--git-dir")
            .arg(&self.dir)
            .args(["fetch", "--quiet", "--no-tags", "--"])
            .arg(url)
            .arg(format!("+refs/heads/{branch}:refs/remotes/forge/{branch}"))
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if std::env::var_os("GIT_SSH_COMMAND").is_none() && std::env::var_os("GIT_SSH").is_none() {
            command.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
        }
        let mut child = command.spawn()?;
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if started.elapsed() > timeout {
                let _ = child.kill();
                let _ = child.wait();
                anyhow::bail!("git fetch did not finish within {} s", timeout.as_secs());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        if !status.success() {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
            }
            let stderr: String = stderr.trim().chars().take(1000).collect();
            anyhow::bail!("git fetch of {branch} failed: {stderr}");
        }
        let output = Command::new("git")
            .arg("--git-dir")
            .arg(&self.dir)
            .args(["rev-parse", "--verify", "--quiet"])
            .arg(format!("refs/remotes/forge/{branch}^{{commit}}"))
            .output()?;
        anyhow::ensure!(output.status.success(), "the forge has no branch {branch}");
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    fn remove(self) {
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            tracing::warn!(error = %e, dir = %self.dir.display(), "removing a pull's staging repository");
        }
    }
}

fn run_git(command: &mut Command) -> anyhow::Result<()> {
    let output = command.output()?;
    anyhow::ensure!(
        output.status.success(),
        "git failed: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(())
}

/// Pulls each remote with `pull_interval_secs` on that interval until the server stops.
pub(crate) fn start_periodic(
    projections: &mut crate::projections::Projections,
    forges: &Arc<Forges>,
) -> anyhow::Result<()> {
    for (name, interval) in forges.periodic() {
        let (forges, waits, mut stop) = (forges.clone(), projections.waits(), projections.stopped());
        projections.spawn(&format!("quire-pull-timer-{name}"), true, move || loop {
            let stopped = waits.block_on(async {
                tokio::select! {
                    changed = stop.changed() => changed.is_err() || *stop.borrow(),
                    () = tokio::time::sleep(interval) => false,
                }
            });
            if stopped {
                return;
            }
            forges.queue_pull(&name);
        })?;
    }
    Ok(())
}
