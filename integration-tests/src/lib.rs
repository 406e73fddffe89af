//! Helpers for Quire's end-to-end tests: a server started in-process through the same
//! `quire_api::start` that `main` uses, or the real `quire` binary as a child process, and an
//! HTTP client that speaks the `quire_openapi` types.

pub mod git;
pub mod proc_status;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use quire_openapi::{LoginRequest, PostResponse, TokenResponse};
use reqwest::header::{HeaderMap, HeaderValue};
use serde::Serialize;

/// Username and password of the admin every test server starts with.
pub const ADMIN: (&str, &str) = ("admin", "admin-password-1");

/// A server running in this process on an ephemeral port, with its own data folder.
pub struct TestServer {
    pub base: String,
    pub dir: tempfile::TempDir,
    handle: actix_web::dev::ServerHandle,
}

impl TestServer {
    /// Starts a server with the default test configuration.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a server after `tweak` has adjusted its configuration.
    pub async fn start_with(tweak: impl FnOnce(&mut quire_api::Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = quire_api::Config::for_test(dir.path());
        config.initial_admin = Some((ADMIN.0.into(), ADMIN.1.into()));
        config.api.workers = 2;
        tweak(&mut config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let running = quire_api::start(config, listener).await.expect("server starts");
                tx.send((running.addr, running.server.handle())).expect("send handle");
                running.server.await.expect("server runs");
            });
        });
        let (addr, handle) = rx.recv_timeout(Duration::from_secs(30)).expect("server started");
        Self {
            base: format!("http://{addr}"),
            dir,
            handle,
        }
    }

    /// Stops the server gracefully.
    pub async fn stop(self) {
        self.handle.stop(true).await;
    }

    /// A client logged in as the admin.
    pub async fn admin(&self) -> Client {
        Client::login(&self.base, ADMIN.0, ADMIN.1).await
    }
}

/// A clock that tests move by hand: the server reads every time (tokens, lockouts, events,
/// schedules) from it, so no test sleeps to see something expire.
#[derive(Clone)]
pub struct TestClock(std::sync::Arc<std::sync::Mutex<time::OffsetDateTime>>);

impl TestClock {
    /// A clock standing at the current time, to the millisecond.
    pub fn new() -> Self {
        let now = time::OffsetDateTime::now_utc();
        let now = now.replace_millisecond(now.millisecond()).unwrap_or(now);
        Self(std::sync::Arc::new(std::sync::Mutex::new(now)))
    }

    /// The time it shows.
    pub fn now(&self) -> time::OffsetDateTime {
        *self.0.lock().expect("clock")
    }

    /// Moves it forward.
    pub fn advance(&self, by: time::Duration) {
        *self.0.lock().expect("clock") += by;
    }

    /// Makes `config`'s server read this clock.
    pub fn install(&self, config: &mut quire_api::Config) {
        let clock = self.0.clone();
        config.clock = Some(quire_api::config::ClockOverride(std::sync::Arc::new(move || {
            *clock.lock().expect("clock")
        })));
    }
}

impl Default for TestClock {
    fn default() -> Self {
        Self::new()
    }
}

/// The `quire` binary built by cargo (override with `QUIRE_BIN`).
pub fn quire_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("QUIRE_BIN") {
        return bin.into();
    }
    // Tests run from `target/<profile>/deps/`, binaries from `target/<profile>/`.
    let exe = std::env::current_exe().expect("test executable path");
    let bin = exe
        .ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join("quire"))
        .find(|bin| bin.is_file())
        .unwrap_or_else(|| exe.with_file_name("quire"));
    assert!(
        bin.exists(),
        "{} not found: build it first with `cargo build -p quire-api --bin quire` (scripts/test does)",
        bin.display()
    );
    bin
}

/// The real `quire` binary running as a child process.
pub struct BinaryServer {
    pub base: String,
    child: Child,
}

impl BinaryServer {
    /// Starts `quire serve` on a free port with `data` as its data folder and waits for `/healthz`.
    pub async fn start(data: &Path) -> Self {
        Self::start_with_env(data, &[]).await
    }

    /// Like `start`, with extra environment variables (settings as `QUIRE_SECTION__KEY`).
    pub async fn start_with_env(data: &Path, env: &[(&str, &str)]) -> Self {
        let server = Self::spawn_with_env(data, env);
        quire_api::tls::install_default_provider();
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http.get(format!("{}/healthz", server.base)).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "quire did not become healthy");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    /// Starts `quire serve` like `start_with_env` without waiting for it to answer.
    pub fn spawn_with_env(data: &Path, env: &[(&str, &str)]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let child = Command::new(quire_bin())
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(data)
            // Names the binary for the tests; quire itself would take it for a setting.
            .env_remove("QUIRE_BIN")
            .env("QUIRE_ADMIN_USER", ADMIN.0)
            .env("QUIRE_ADMIN_PASSWORD", ADMIN.1)
            .env("QUIRE_LOG", "warn")
            // These tests and the benchmark measure durability and throughput, not the rate limit.
            .env("QUIRE_API__WRITE_RATE_PER_MINUTE", "0")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn quire");
        let base = format!("http://127.0.0.1:{port}");
        Self { base, child }
    }

    /// The process id of the server.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What `/proc/<pid>/status` says about the server now (panics if it is gone).
    pub fn proc_status(&self) -> proc_status::ProcStatus {
        proc_status::ProcStatus::of(self.pid()).expect("the server's /proc/<pid>/status")
    }

    /// Sends `signal` and waits for the process; returns its exit status.
    pub fn signal(mut self, signal: i32) -> std::process::ExitStatus {
        let pid = i32::try_from(self.child.id()).expect("pid fits");
        // SAFETY: kill(2) on our own child; no memory is shared or touched.
        #[allow(unsafe_code)]
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "kill failed");
        self.child.wait().expect("wait for quire")
    }
}

impl Drop for BinaryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client with a bearer token.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub token: String,
    pub tokens: TokenResponse,
}

impl Client {
    /// Logs in; panics on failure.
    pub async fn login(base: &str, username: &str, password: &str) -> Self {
        quire_api::tls::install_default_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let response = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&LoginRequest {
                username: username.into(),
                password: password.into(),
            })
            .send()
            .await
            .expect("login request");
        assert_eq!(response.status(), 200, "login failed");
        let tokens: TokenResponse = response.json().await.expect("token json");
        Self {
            base: base.into(),
            http,
            token: tokens.access_token.clone(),
            tokens,
        }
    }

    /// `base + path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with the bearer token.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path)).bearer_auth(&self.token)
    }

    /// POSTs JSON with optional extra headers.
    pub async fn post_json<T: Serialize>(&self, path: &str, body: &T, headers: &[(&str, &str)]) -> reqwest::Response {
        self.request(reqwest::Method::POST, path)
            .headers(headers_of(headers))
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    /// PATCHes JSON with optional extra headers.
    pub async fn patch_json<T: Serialize>(&self, path: &str, body: &T, headers: &[(&str, &str)]) -> reqwest::Response {
        self.request(reqwest::Method::PATCH, path)
            .headers(headers_of(headers))
            .json(body)
            .send()
            .await
            .expect("PATCH")
    }

    /// GETs a path.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::GET, path).send().await.expect("GET")
    }

    /// Creates an API token of this client's user with `scopes` (asserting 201); returns its secret.
    pub async fn api_token(&self, scopes: &[&str]) -> String {
        let body = serde_json::json!({"name": format!("t-{}", scopes.join("+")), "scopes": scopes});
        let response = self.post_json("/api/v1/tokens", &body, &[]).await;
        assert_eq!(response.status(), 201, "token {scopes:?}: {:?}", response.text().await);
        let created: quire_openapi::TokenCreated = response.json().await.expect("token json");
        created.secret
    }

    /// The same server and user, authenticated by a new API token with `scopes`.
    pub async fn with_token(&self, scopes: &[&str]) -> Client {
        Client {
            token: self.api_token(scopes).await,
            ..self.clone()
        }
    }

    /// Creates a post from JSON and returns it (asserting 201).
    pub async fn create_post(&self, body: serde_json::Value) -> PostResponse {
        let response = self.post_json("/api/v1/posts", &body, &[]).await;
        assert_eq!(response.status(), 201, "create failed: {:?}", response.text().await);
        response.json().await.expect("post json")
    }
}

fn headers_of(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(
            reqwest::header::HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
    }
    map
}
