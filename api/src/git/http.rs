//! Git's smart HTTP protocol at `/git/content.git`: `git clone`, `fetch` and `push` with the
//! stock client. The protocol is spoken by `git http-backend` (git is already a runtime
//! dependency, for mirrors), run as a CGI program: the request body is streamed into it and
//! its answer streamed back, so a pack never sits whole in memory.
//!
//! Authentication is HTTP Basic with an API token (or access token) as the password and any
//! username, or a Bearer token; a missing or wrong one gets 401 with `WWW-Authenticate: Basic`,
//! so git asks its credential helper. The repository holds every draft, so reading it needs
//! `posts:read` and a role that reads everyone's posts (editor, admin); pushing needs
//! `posts:write` (see [`super::push`] for what a push does).
//!
//! These routes are not part of the JSON API: like the editor and the API docs they are
//! registered here, outside `routes::ROUTES`, and are not in `openapi.json`.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse, ResponseError as _};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use futures_util::StreamExt as _;
use tokio::sync::mpsc;

use crate::auth::{authenticate, Auth};
use crate::error::ApiError;
use crate::state::AppState;

/// Largest request body (a pushed pack) accepted.
pub(crate) const MAX_PUSH_BYTES: usize = 256 << 20;
/// Chunks buffered between git and the network in each direction.
const CHANNEL_CHUNKS: usize = 8;

/// Registers `/git/content.git/…`.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/git/content.git")
            .route("/info/refs", web::get().to(info_refs))
            .route("/git-upload-pack", web::post().to(upload_pack))
            .route("/git-receive-pack", web::post().to(super::push::receive_pack))
            .default_service(web::to(|| async {
                ApiError::not_found("the git repository answers only git's smart HTTP protocol").error_response()
            })),
    );
}

/// What a request wants to do with the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Push,
}

/// The caller, if its credentials allow `access`; otherwise the response to send (401 with
/// `WWW-Authenticate: Basic`, or 403).
pub(crate) async fn git_auth(req: &HttpRequest, state: &AppState, access: Access) -> Result<Auth, HttpResponse> {
    if !state.config.git.enabled {
        return Err(ApiError::not_found("the git repository is off (git.enabled = false)").error_response());
    }
    let Some(token) = credentials(req) else {
        return Err(basic_challenge(ApiError::unauthorized(
            "send an API token as the password (any username), or as `Authorization: Bearer <token>`",
        )));
    };
    let auth = authenticate(state, token).await.map_err(basic_challenge)?;
    let allowed = match access {
        Access::Read => auth.actor.require_read_all(),
        Access::Push => auth.actor.require(quire_storage::Scope::PostsWrite),
    };
    allowed.map_err(|e| ApiError::from(e).error_response())?;
    Ok(auth)
}

/// A problem response that asks git for Basic credentials.
fn basic_challenge(error: ApiError) -> HttpResponse {
    let mut response = error.error_response();
    if response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Basic realm=\"Quire\", charset=\"UTF-8\""),
        );
    }
    response
}

/// The token of `Authorization: Basic` (the password) or `Authorization: Bearer`.
fn credentials(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_owned());
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(rest.trim()).ok()?).ok()?;
    let (_, password) = decoded.split_once(':')?;
    (!password.is_empty()).then(|| password.to_owned())
}

#[derive(Debug, serde::Deserialize)]
struct InfoRefsQuery {
    service: Option<String>,
}

/// `GET /git/content.git/info/refs?service=…` — the refs advertisement.
async fn info_refs(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<InfoRefsQuery>,
    body: web::Payload,
) -> HttpResponse {
    let access = match query.service.as_deref() {
        Some("git-upload-pack") => Access::Read,
        Some("git-receive-pack") => Access::Push,
        _ => {
            return ApiError::bad_request("only git's smart HTTP protocol is served: ?service=git-upload-pack")
                .error_response()
        }
    };
    if let Err(response) = git_auth(&req, &state, access).await {
        return response;
    }
    let cgi = Cgi::new(&req, state.config.data_dir.clone(), "/content.git/info/refs");
    cgi.run(body, None, None).await
}

/// `POST /git/content.git/git-upload-pack` — sends objects to `git clone`/`fetch`.
async fn upload_pack(req: HttpRequest, state: web::Data<AppState>, body: web::Payload) -> HttpResponse {
    if let Err(response) = git_auth(&req, &state, Access::Read).await {
        return response;
    }
    let cgi = Cgi::new(&req, state.config.data_dir.clone(), "/content.git/git-upload-pack");
    cgi.run(body, None, None).await
}

/// One run of `git http-backend`.
pub(crate) struct Cgi {
    /// `GIT_PROJECT_ROOT`: the folder that holds the repository.
    pub(crate) root: PathBuf,
    /// `PATH_INFO`: the repository and service below the root.
    pub(crate) path_info: String,
    env: Vec<(String, String)>,
}

impl Cgi {
    /// The CGI environment of `req`.
    pub(crate) fn new(req: &HttpRequest, root: PathBuf, path_info: &str) -> Self {
        let mut env = vec![
            ("REQUEST_METHOD".to_owned(), req.method().to_string()),
            ("QUERY_STRING".to_owned(), req.query_string().to_owned()),
            ("GIT_HTTP_EXPORT_ALL".to_owned(), "1".to_owned()),
            ("REMOTE_USER".to_owned(), "quire".to_owned()),
            ("REMOTE_ADDR".to_owned(), "127.0.0.1".to_owned()),
        ];
        let headers = [
            (header::CONTENT_TYPE, "CONTENT_TYPE"),
            (header::CONTENT_LENGTH, "CONTENT_LENGTH"),
            (header::CONTENT_ENCODING, "HTTP_CONTENT_ENCODING"),
        ];
        for (name, var) in headers {
            if let Some(value) = req.headers().get(name).and_then(|v| v.to_str().ok()) {
                env.push((var.to_owned(), value.to_owned()));
            }
        }
        if let Some(value) = req.headers().get("Git-Protocol").and_then(|v| v.to_str().ok()) {
            env.push(("GIT_PROTOCOL".to_owned(), value.to_owned()));
        }
        Self {
            root,
            path_info: path_info.to_owned(),
            env,
        }
    }

    /// Runs the backend, streams `body` in and the answer out; a backend still running after
    /// `time_limit` is killed. `after` runs on a blocking thread once the backend has exited
    /// (cleanup), before the answer ends.
    pub(crate) async fn run(
        self,
        mut body: web::Payload,
        time_limit: Option<Duration>,
        after: Option<Box<dyn FnOnce() + Send>>,
    ) -> HttpResponse {
        let spawned = Command::new("git")
            .arg("http-backend")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("GIT_PROJECT_ROOT", &self.root)
            .env("PATH_INFO", &self.path_info)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => {
                tracing::error!(error = %e, "cannot start `git http-backend`");
                if let Some(after) = after {
                    after();
                }
                return ApiError::internal().error_response();
            }
        };
        let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return ApiError::internal().error_response();
        };
        let (in_tx, in_rx) = mpsc::channel::<Bytes>(CHANNEL_CHUNKS);
        let (out_tx, mut out_rx) = mpsc::channel::<Bytes>(CHANNEL_CHUNKS);
        std::thread::spawn(move || feed_stdin(stdin, in_rx));
        std::thread::spawn(move || log_stderr(stderr));
        let child = Arc::new(Mutex::new(child));
        let (exited, exit_rx) = std::sync::mpsc::channel::<()>();
        if let Some(limit) = time_limit {
            let child = child.clone();
            std::thread::spawn(move || {
                if exit_rx.recv_timeout(limit) == Err(RecvTimeoutError::Timeout) {
                    tracing::warn!(secs = limit.as_secs(), "`git http-backend` ran too long; killed");
                    let _ = child.lock().map(|mut c| c.kill());
                }
            });
        }
        std::thread::spawn(move || {
            read_stdout(stdout, &out_tx);
            let _ = exited.send(());
            if let Err(e) = child.lock().map_err(|_| ()).and_then(|mut c| c.wait().map_err(|_| ())) {
                tracing::warn!(error = ?e, "waiting for `git http-backend`");
            }
            // Clean up before the answer ends, so the client sees the result of both.
            if let Some(after) = after {
                after();
            }
            drop(out_tx);
        });
        actix_web::rt::spawn(async move {
            let mut total = 0usize;
            while let Some(chunk) = body.next().await {
                let Ok(chunk) = chunk else { break };
                total += chunk.len();
                if total > MAX_PUSH_BYTES || in_tx.send(chunk).await.is_err() {
                    tracing::warn!(total, "git request body refused (too large or backend gone)");
                    break;
                }
            }
        });
        let mut head = Vec::new();
        let (status, headers, rest) = loop {
            match out_rx.recv().await {
                Some(chunk) => head.extend_from_slice(&chunk),
                None => return ApiError::internal().error_response(),
            }
            if let Some(parsed) = parse_cgi_head(&head) {
                break parsed;
            }
            if head.len() > 64 << 10 {
                return ApiError::internal().error_response();
            }
        };
        let mut response = HttpResponse::build(status);
        for (name, value) in headers {
            response.insert_header((name, value));
        }
        let first = futures_util::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(rest)) });
        let more = futures_util::stream::unfold(out_rx, |mut rx| async move {
            rx.recv().await.map(|chunk| (Ok::<_, std::io::Error>(chunk), rx))
        });
        response.streaming(first.chain(more))
    }
}

fn feed_stdin(mut stdin: std::process::ChildStdin, mut rx: mpsc::Receiver<Bytes>) {
    while let Some(chunk) = rx.blocking_recv() {
        if stdin.write_all(&chunk).is_err() {
            break;
        }
    }
}

fn read_stdout(mut stdout: std::process::ChildStdout, tx: &mpsc::Sender<Bytes>) {
    let mut buf = vec![0u8; 64 << 10];
    loop {
        match stdout.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if tx.blocking_send(Bytes::copy_from_slice(&buf[..n])).is_err() {
                    break;
                }
            }
        }
    }
}

fn log_stderr(mut stderr: std::process::ChildStderr) {
    let mut text = String::new();
    let _ = stderr.read_to_string(&mut text);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        tracing::info!(target: "quire_api::git", "git http-backend: {line}");
    }
}

/// A CGI answer's header block, parsed: status, headers, and the bytes after it.
type CgiHead = (StatusCode, Vec<(String, String)>, Vec<u8>);

/// The CGI header block: status, headers, and what follows it.
fn parse_cgi_head(head: &[u8]) -> Option<CgiHead> {
    let (end, skip) = find(head, b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| find(head, b"\n\n").map(|i| (i, 2)))?;
    let text = String::from_utf8_lossy(&head[..end]);
    let mut status = StatusCode::OK;
    let mut headers = Vec::new();
    for line in text.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim().to_owned();
        if name.eq_ignore_ascii_case("status") {
            let code = value.split_whitespace().next().and_then(|c| c.parse::<u16>().ok());
            status = code
                .and_then(|c| StatusCode::from_u16(c).ok())
                .unwrap_or(StatusCode::BAD_GATEWAY);
        } else {
            headers.push((name.trim().to_owned(), value));
        }
    }
    Some((status, headers, head[end + skip..].to_vec()))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
