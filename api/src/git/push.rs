//! `git push` to Quire: `POST /git/content.git/git-receive-pack`.
//!
//! git's `receive-pack` runs in a **staging repository** made for this one push
//! (`<data>/git-incoming/<id>.git`, borrowing `content.git`'s objects through `alternates`, its
//! `main` set to `content.git`'s), never in `content.git` itself, whose `main` only the git
//! projection moves. Its `pre-receive` hook is `quire git-pre-receive <socket>`: it hands the ref
//! updates and git's quarantine folder to this server over a Unix socket and prints the answer,
//! which the pusher sees as `remote: …` lines. The server, one push at a time:
//!
//! 1. accepts only a fast-forward of `refs/heads/main` from where `content.git`'s `main` is, with
//!    git caught up with the log (else: pull first);
//! 2. reads the pushed commits, oldest first, and plans their events as API writes are checked
//!    ([`quire_storage::git::import`]); any problem refuses the whole push with every path named;
//! 3. appends all the events in one transaction, durably, each carrying the pushed commit's id
//!    (source `git-push`, the pusher as actor).
//!
//! Then the hook waits (a few seconds at most) for the git projection to write the new events,
//! and succeeds. The events record the pushed files and commit objects
//! ([`quire_storage::git::import`]), so the projection writes **the pushed commits themselves**
//! onto `content.git`'s `main` (same ids, authors and messages; the events each carries are in
//! a note, `refs/notes/quire`): the pusher's next `git pull` has nothing to do. The staging
//! repository, with the pushed objects, is removed when the request ends; nothing in it is needed,
//! the log holds it all. A crash before step 3 completes leaves nothing; after it, the events are
//! in the log and the projection commits them on restart.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse, ResponseError as _};
use quire_storage::git::import::{self, parse_ref_updates, ZERO_ID};
use quire_storage::{Actor, GitProjection, MediaService, Store};
use serde::{Deserialize, Serialize};

use super::http::{git_auth, Access, Cgi};
use crate::error::ApiError;
use crate::state::AppState;

/// How long a push may take (receiving the pack, checking and importing it); past that git is
/// killed and nothing is stored unless the import had already been appended whole.
const PUSH_TIMEOUT: Duration = Duration::from_secs(600);

/// How long an accepted push waits for the git projection to write its commits.
const GIT_WAIT: Duration = Duration::from_secs(10);

/// What the hook sends: its standard input and git's quarantine folder.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct HookRequest {
    pub(crate) updates: String,
    pub(crate) quarantine: Option<String>,
}

/// What the server answers the hook.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct HookAnswer {
    pub(crate) ok: bool,
    pub(crate) messages: Vec<String>,
}

/// `POST /git/content.git/git-receive-pack` — receives a push (see the module docs).
pub(crate) async fn receive_pack(req: HttpRequest, state: web::Data<AppState>, body: web::Payload) -> HttpResponse {
    let auth = match git_auth(&req, &state, Access::Push).await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    let data_dir = state.config.data_dir.clone();
    let staging = web::block(move || Staging::create(&data_dir)).await;
    let staging = match staging {
        Ok(Ok(staging)) => staging,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "preparing a push failed");
            return ApiError::internal().error_response();
        }
        Err(_) => return ApiError::internal().error_response(),
    };
    let done = Arc::new(AtomicBool::new(false));
    let context = PushContext {
        store: state.store.clone(),
        media: state.media.clone(),
        actor: auth.actor(),
        clock: state.posts.clock(),
        content: super::repo_dir(&state.config),
        staging: staging.dir.clone(),
        gate: state.push_gate.clone(),
    };
    let server = {
        let (listener, done) = (staging.listener.try_clone(), done.clone());
        std::thread::spawn(move || match listener {
            Ok(listener) => serve_hook(&listener, &done, &context),
            Err(e) => tracing::error!(error = %e, "push hook socket"),
        })
    };
    let cgi = Cgi::new(
        &req,
        staging.root.clone(),
        &format!("/{}/git-receive-pack", staging.name),
    );
    let cleanup = Box::new(move || {
        done.store(true, Ordering::Release);
        let _ = server.join();
        staging.remove();
    });
    cgi.run(body, Some(PUSH_TIMEOUT), Some(cleanup)).await
}

/// Removes the staging repositories of pushes a crash interrupted (their events were appended
/// whole or not at all; the pushed objects are not needed either way). Run on start.
pub(crate) fn remove_leftovers(data_dir: &Path) {
    let root = data_dir.join("git-incoming");
    let Ok(entries) = std::fs::read_dir(&root) else { return };
    for entry in entries.flatten() {
        if let Err(e) = std::fs::remove_dir_all(entry.path()) {
            tracing::warn!(error = %e, dir = %entry.path().display(), "removing a leftover push");
        }
    }
}

/// The staging repository of one push.
struct Staging {
    root: PathBuf,
    name: String,
    dir: PathBuf,
    listener: UnixListener,
}

impl Staging {
    /// `<data>/git-incoming/<id>.git`: alternates to `content.git`, `main` at its `main`, the
    /// `pre-receive` hook, and the socket the hook talks to.
    fn create(data_dir: &Path) -> std::io::Result<Self> {
        let root = data_dir.join("git-incoming");
        std::fs::create_dir_all(&root)?;
        let name = format!("{}.git", ulid::Ulid::new());
        let dir = root.join(&name);
        let content = std::fs::canonicalize(data_dir.join("content.git"))?;
        git(&["init", "--bare", "-q", "--initial-branch=main"], &dir)?;
        let dir = std::fs::canonicalize(dir)?;
        std::fs::write(
            dir.join("objects/info/alternates"),
            format!("{}\n", content.join("objects").display()),
        )?;
        if let (Some(tip), _) = GitProjection::main_of(&content).map_err(std::io::Error::other)? {
            std::fs::write(dir.join("refs/heads/main"), format!("{tip}\n"))?;
        }
        let socket = dir.join("hook.sock");
        let listener = UnixListener::bind(&socket)?;
        listener.set_nonblocking(true)?;
        // After an upgrade replaced the binary, Linux names the running one "… (deleted)".
        let exe = std::env::current_exe()?;
        let exe = exe.to_string_lossy();
        let exe = exe.strip_suffix(" (deleted)").unwrap_or(&exe).to_owned();
        let hook = dir.join("hooks/pre-receive");
        std::fs::write(
            &hook,
            format!(
                "#!/bin/sh\nexec {} git-pre-receive {}\n",
                shell_quote(&exe),
                shell_quote(&socket.to_string_lossy())
            ),
        )?;
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))?;
        Ok(Self {
            root,
            name,
            dir,
            listener,
        })
    }

    fn remove(self) {
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            tracing::warn!(error = %e, dir = %self.dir.display(), "removing a push's staging repository");
        }
    }
}

fn git(args: &[&str], dir: &Path) -> std::io::Result<()> {
    let status = Command::new("git").args(args).arg(dir).status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("git {} failed", args.join(" "))))
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// What the hook's request is checked against.
struct PushContext {
    store: Arc<dyn Store>,
    media: MediaService,
    actor: Actor,
    clock: quire_storage::Clock,
    content: PathBuf,
    staging: PathBuf,
    /// Held from the check of `main` to the append.
    gate: Arc<Mutex<()>>,
}

/// Answers the hook (at most once) until the push request ends.
fn serve_hook(listener: &UnixListener, done: &AtomicBool, context: &PushContext) {
    let deadline = std::time::Instant::now() + PUSH_TIMEOUT;
    while !done.load(Ordering::Acquire) && std::time::Instant::now() < deadline {
        match listener.accept() {
            Ok((stream, _)) => {
                if let Err(e) = answer_hook(stream, context) {
                    tracing::error!(error = %e, "answering the push hook");
                }
                return;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                tracing::error!(error = %e, "push hook socket");
                return;
            }
        }
    }
}

fn answer_hook(stream: UnixStream, context: &PushContext) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line)?;
    let answer = match serde_json::from_str::<HookRequest>(&line) {
        Ok(request) => match import_push(context, &request) {
            Ok(Ok(messages)) => HookAnswer { ok: true, messages },
            Ok(Err(messages)) => HookAnswer { ok: false, messages },
            Err(e) => {
                tracing::error!(error = %e, "importing a push failed");
                HookAnswer {
                    ok: false,
                    messages: vec!["Quire could not import the push (see its log); nothing was stored".into()],
                }
            }
        },
        Err(_) => HookAnswer {
            ok: false,
            messages: vec!["malformed hook request".into()],
        },
    };
    let mut stream = stream;
    stream.write_all(&serde_json::to_vec(&answer).unwrap_or_default())?;
    stream.write_all(b"\n")
}

/// Checks and imports the push; `Ok(Err(messages))` refuses it.
fn import_push(context: &PushContext, request: &HookRequest) -> anyhow::Result<Result<Vec<String>, Vec<String>>> {
    let updates = parse_ref_updates(&request.updates);
    let _gate = context.gate.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut refused: Vec<String> = updates
        .iter()
        .filter(|u| u.name != "refs/heads/main")
        .map(|u| format!("{}: only refs/heads/main is accepted", u.name))
        .collect();
    let Some(update) = updates.iter().find(|u| u.name == "refs/heads/main") else {
        refused.push("nothing to import: push to main".into());
        return Ok(Err(refused));
    };
    if update.new == ZERO_ID {
        refused.push("refs/heads/main: main cannot be deleted".into());
    }
    let (tip, position) = GitProjection::main_of(&context.content)?;
    let tip = tip.map(|t| t.to_string());
    let old = (update.old != ZERO_ID).then_some(update.old.as_str());
    if old != tip.as_deref() {
        refused.push("main moved while you pushed: pull (git pull --rebase) and push again".into());
    } else if position != context.store.head() {
        refused.push("Quire has changes that are not in git yet: pull in a moment, then push again".into());
    }
    if !refused.is_empty() {
        return Ok(Err(refused));
    }
    let env = git_env(context, request);
    let import = ImportCommits {
        store: context.store.as_ref(),
        media: &context.media,
        actor: &context.actor,
        now: (context.clock)(),
        source: SOURCE,
        git_dir: &context.staging,
        env: &env,
        old,
        new: &update.new,
        tip_only: false,
    };
    Ok(match import.run()? {
        Imported::Appended {
            events,
            commits,
            adopted,
            last_seq,
        } => {
            let mut messages = vec![format!("Quire imported {events} event(s) from {commits} commit(s)")];
            let main = wait_for_git(&context.content, last_seq.unwrap_or(0));
            messages.push(match main {
                Some(main) if main == update.new => "main is your commits as pushed: there is nothing to pull".into(),
                None if adopted == commits => "Quire writes your commits to main in a moment, as pushed".into(),
                _ => format!(
                    "{adopted} of {commits} commit(s) are kept as pushed; the others make Quire's own commits: \
                     run `git pull --rebase` to take them"
                ),
            });
            Ok(messages)
        }
        Imported::NotFastForward => Err(vec![
            "non-fast-forward: main has commits you do not have; pull first".into()
        ]),
        Imported::Refused(problems) => Err(problems),
    })
}

/// The `source` of events read from a push.
const SOURCE: &str = "git-push";

/// The commits `old..new` of a repository, to be imported as events (a push's, or a forge's
/// fetched branch: [`super::forge`]). The caller holds the push gate and has checked that
/// `old` is `content.git`'s `main` and that git has every event of the log.
pub(crate) struct ImportCommits<'a> {
    pub(crate) store: &'a dyn Store,
    /// Where the images of `static/media/` files go, and their limits.
    pub(crate) media: &'a MediaService,
    pub(crate) actor: &'a Actor,
    pub(crate) now: time::OffsetDateTime,
    /// The `source` recorded in each event's origin (with the commit it was read from).
    pub(crate) source: &'a str,
    pub(crate) git_dir: &'a Path,
    /// Variables for `git` (a push's quarantine).
    pub(crate) env: &'a [(String, String)],
    /// `main` (`None`: no commit yet).
    pub(crate) old: Option<&'a str>,
    pub(crate) new: &'a str,
    /// Import `new` alone, against its first parent (`old`): a merge a pull made, whose other
    /// side is the forge's commits ([`super::forge`]).
    pub(crate) tip_only: bool,
}

/// What [`ImportCommits::run`] came to.
#[derive(Debug)]
pub(crate) enum Imported {
    /// Every event was appended, durably; `last_seq` is the newest one's (`None`: none).
    Appended {
        events: usize,
        commits: usize,
        /// How many of the commits become `main` as they are (the first ones).
        adopted: usize,
        last_seq: Option<u64>,
    },
    /// `new` does not descend from `old`: `main` has commits the other side lacks.
    NotFastForward,
    /// Nothing was appended; each problem names its path.
    Refused(Vec<String>),
}

impl ImportCommits<'_> {
    /// Checks the fast-forward, reads the commits oldest first, plans their events as API
    /// writes are checked and appends them all in one transaction, or none.
    pub(crate) fn run(&self) -> anyhow::Result<Imported> {
        if let Some(old) = self.old {
            if !import::is_ancestor(self.git_dir, self.env, old, self.new)? {
                return Ok(Imported::NotFastForward);
            }
        }
        let commits = match import::read_push(self.git_dir, self.env, self.old, self.new, self.tip_only)? {
            Ok(commits) => commits,
            Err(message) => return Ok(Imported::Refused(vec![message])),
        };
        let mut commits = commits;
        let media = import::take_media(&mut commits);
        let posts = import::plan_push(self.store, self.actor, &commits, self.now)?;
        let limits = self.media.limits();
        let media = import::plan_media(self.store, self.actor, &media, self.now, limits)?;
        let (mut batches, files, adopted) = match (posts, media) {
            (Ok(posts), Ok(media)) => ([posts.batches, media.batches].concat(), media.files, posts.adopted),
            (posts, media) => {
                let problems = [posts.err(), media.err()].into_iter().flatten().flatten();
                return Ok(Imported::Refused(problems.collect()));
            }
        };
        for (_, batch) in &mut batches {
            if let Some(origin) = &mut batch.origin {
                origin.source = self.source.to_owned();
            }
        }
        // Durable before the events that name them, like an upload's.
        for (bytes, extension) in &files {
            self.media.blobs().put(bytes, extension)?;
        }
        Ok(match import::append_import(self.store, batches)? {
            Ok(events) => Imported::Appended {
                events: events.len(),
                commits: commits.len(),
                adopted,
                last_seq: events.iter().map(|e| e.seq).max(),
            },
            Err(problems) => Imported::Refused(problems),
        })
    }
}

/// Waits until the git projection has written event `seq` (at most a few seconds); returns
/// `main` then, or `None` if it has not got there.
fn wait_for_git(content: &Path, seq: u64) -> Option<String> {
    let deadline = std::time::Instant::now() + GIT_WAIT;
    loop {
        match GitProjection::main_of(content) {
            Ok((main, position)) if position >= seq => return main.map(|m| m.to_string()),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "reading content.git's position after a push");
                return None;
            }
        }
        if std::time::Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The variables that let `git` see the quarantined objects of the push.
fn git_env(context: &PushContext, request: &HookRequest) -> Vec<(String, String)> {
    let objects = context.staging.join("objects");
    let content_objects = context.content.join("objects");
    let mut env = vec![(
        "GIT_ALTERNATE_OBJECT_DIRECTORIES".to_owned(),
        format!("{}:{}", objects.display(), content_objects.display()),
    )];
    if let Some(quarantine) = &request.quarantine {
        env.push(("GIT_OBJECT_DIRECTORY".to_owned(), quarantine.clone()));
    }
    env
}

/// `quire git-pre-receive SOCKET`: the hook git runs in a push's staging repository. It sends
/// its input to the server and prints the answer; `false` (exit code 1) refuses the push.
pub fn hook_main(socket: &Path) -> bool {
    let mut updates = String::new();
    let _ = std::io::stdin().read_to_string(&mut updates);
    let request = HookRequest {
        updates,
        quarantine: std::env::var("GIT_QUARANTINE_PATH").ok(),
    };
    let answer = (|| -> std::io::Result<HookAnswer> {
        let mut stream = UnixStream::connect(socket)?;
        stream.write_all(&serde_json::to_vec(&request).map_err(std::io::Error::other)?)?;
        stream.write_all(b"\n")?;
        let mut line = String::new();
        BufReader::new(&stream).read_line(&mut line)?;
        serde_json::from_str(&line).map_err(std::io::Error::other)
    })();
    match answer {
        Ok(answer) => {
            for message in &answer.messages {
                eprintln!("{message}");
            }
            if !answer.ok {
                eprintln!("push refused: nothing was stored");
            }
            answer.ok
        }
        Err(e) => {
            eprintln!("Quire did not answer the push ({e}); nothing was stored");
            false
        }
    }
}
