//! Starting the server: open the data folder, bootstrap the first admin, serve HTTP.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::{web, App, HttpServer};
use anyhow::Context as _;
use quire_storage::{Accounts, Idempotency, Posts, Role, SledOptions, SledStore, Store, Tokens};

use crate::auth::JwtKeys;
use crate::config::Config;
use crate::limits::{LoginGuard, WriteLimiter};
use crate::state::AppState;
use crate::{body, routes};

/// A started server.
pub struct Running {
    /// Resolves when the server has stopped (after SIGTERM/SIGINT or `handle().stop`).
    pub server: actix_web::dev::Server,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Shared state (the store stays open while this or the server lives).
    pub state: AppState,
    /// The projections, mirrors and scheduler; dropping this (after `server` resolved) stops
    /// them cleanly.
    pub projections: crate::projections::Projections,
}

/// Opens the stores in the data folder.
pub fn open_state(config: &Config) -> anyhow::Result<AppState> {
    let data = &config.data_dir;
    std::fs::create_dir_all(data).with_context(|| format!("creating data folder {}", data.display()))?;
    let options = SledOptions {
        cache_bytes: config.storage.cache_mb * 1024 * 1024,
        ..SledOptions::default()
    };
    let log_dir = data.join("log");
    let store = Arc::new(SledStore::open(&log_dir, &options).with_context(|| {
        format!(
            "opening the event log in {} (is another quire running?)",
            log_dir.display()
        )
    })?);
    let refresh_ttl = time::Duration::days(i64::try_from(config.auth.refresh_token_ttl_days).unwrap_or(30));
    let clock = config.clock();
    let accounts = Accounts::new(store.clone(), refresh_ttl).with_clock(clock.clone());
    let store_secrets: Arc<dyn quire_storage::SecretStore> = store.clone();
    let jwt = Arc::new(JwtKeys::load_or_create(&data.join("keys"), &config.auth)?.with_clock(clock.clone()));
    let webhook_db = store.webhook_db().context("opening the webhook trees")?;
    let dyn_store: Arc<dyn Store> = store;
    // The log's lock is held, so no upload is running: what is in media/tmp is a crash's leftover.
    let media_blobs = quire_storage::MediaBlobs::new(data.join("media"));
    media_blobs
        .clear_temp()
        .context("clearing unfinished uploads in media/tmp")?;
    let webhooks = quire_storage::webhooks::Webhooks::new(
        webhook_db,
        dyn_store.clone(),
        clock.clone(),
        config.webhooks.allow_private_addresses,
    );
    let git = Arc::new(crate::git::GitStatus::new(&config.git));
    let webhook_queue = Arc::new(quire_storage::runner::ProjectionStatus::default());
    let publish = Arc::new(quire_storage::runner::ProjectionStatus::default());
    let dataset_fetches = Arc::new(crate::datasets::FetchStatus::persisted(&config.data_dir));
    let metrics = Arc::new(crate::metrics::Metrics::new(crate::metrics::LogCollector {
        store: dyn_store.clone(),
        git: git.clone(),
        site_dir: config.site.enabled.then(|| crate::site::site_dir(config)),
        webhooks: config.webhooks.enabled.then(|| webhook_queue.clone()),
        publish: (config.site.enabled && config.site.publish.enabled()).then(|| publish.clone()),
        dataset_fetches: dataset_fetches.clone(),
    }));
    let push_gate = Arc::<std::sync::Mutex<()>>::default();
    let media = quire_storage::MediaService::new(
        dyn_store.clone(),
        media_blobs.clone(),
        config.media.limits(),
        clock.clone(),
    );
    let forges = Arc::new(crate::git::forge::Forges::new(
        config,
        dyn_store.clone(),
        media.clone(),
        accounts.clone(),
        push_gate.clone(),
        git.clone(),
    )?);
    Ok(AppState {
        config: Arc::new(config.clone()),
        posts: Posts::new(dyn_store.clone(), clock.clone()),
        datasets: quire_storage::DatasetService::new(
            dyn_store.clone(),
            media_blobs.clone(),
            config.datasets.limits(),
            clock.clone(),
        ),
        dataset_fetches,
        media,
        media_permits: Arc::new(tokio::sync::Semaphore::new(config.media.concurrent_decodes)),
        indieauth_codes: Arc::default(),
        idempotency: Idempotency::new(dyn_store.clone()).with_clock(clock.clone()),
        store: dyn_store,
        tokens: Tokens::new(store_secrets.clone()).with_clock(clock.clone()),
        login_guard: Arc::new(LoginGuard::new(&config.auth, clock.clone())),
        write_limiter: Arc::new(WriteLimiter::new(&config.api)),
        git,
        site: Arc::default(),
        publish,
        site_cache: Arc::new(crate::site::cache::SiteCache::new(config.site.cache_mb * 1024 * 1024)),
        secrets: store_secrets,
        webhooks,
        webhook_queue,
        webhook_wake: Arc::default(),
        push_gate,
        forges,
        metrics,
        accounts,
        jwt,
    })
}

/// Creates the first admin from the configuration, or prints a one-time setup token.
fn bootstrap_admin(state: &AppState, addr: SocketAddr) -> anyhow::Result<()> {
    if state.accounts.has_users()? {
        return Ok(());
    }
    if let Some((user, password)) = &state.config.initial_admin {
        state
            .accounts
            .create_user(user, password, Role::Admin)
            .context("creating the admin from QUIRE_ADMIN_USER")?;
        tracing::info!(user = %user, "created the first admin from QUIRE_ADMIN_USER");
        return Ok(());
    }
    if let Some(token) = state.accounts.new_setup_token()? {
        println!(
            "\nQuire has no users yet. Create the first admin with this one-time setup token:\n\n  \
             {token}\n\nin the editor at http://{addr}/editor/, or with\n\n  \
             curl -X POST http://{addr}/api/v1/auth/setup -H 'Content-Type: application/json' \\\n    \
             -d '{{\"setup_token\": \"{token}\", \"username\": \"admin\", \"password\": \"…\"}}'\n\n\
             or stop Quire and run `quire user add NAME --role admin`.\n"
        );
    }
    Ok(())
}

/// Threads the HTTP workers may start for blocking work (sled, argon2, file reads), all workers
/// together. actix's default is 512 divided by the cores; every such thread keeps a stack and an
/// allocator cache, and with 64 concurrent writers the server grew to ~100 threads (65 with 16
/// per worker). A post write holds its thread until its append is applied, and waits for the
/// flush without one (`crate::write::run_write`); more threads would let more creates share
/// one flush (64 threads: ~20 a flush instead of ~7, README "Benchmarks") at 84 threads in
/// all, a stack each. Split between the workers (one per core by default), so a 4-core Pi has
/// as many as this 2-core machine.
const BLOCKING_THREADS: usize = 8;

/// Seconds an idle HTTP/1.1 connection stays open (actix's default, fixed here), announced in
/// every response as `Keep-Alive: timeout=5`. A client that reuses an idle connection just as
/// the server closes it sees the request fail (`ECONNRESET`) before the server read it; Node's
/// HTTP agent and undici, told the timeout, stop reusing a connection a second before it.
pub const KEEP_ALIVE_SECS: u64 = 5;

/// [`BLOCKING_THREADS`] shared by `workers` workers (at least 2 each).
fn blocking_threads_per_worker(workers: usize) -> usize {
    (BLOCKING_THREADS / workers.max(1)).max(2)
}

/// Opens the data folder and starts serving on `listener`. Must run inside an actix system.
pub async fn start(config: Config, listener: TcpListener) -> anyhow::Result<Running> {
    crate::tls::install_default_provider();
    config.validate()?;
    let addr = listener.local_addr()?;
    let state = open_state(&config)?;
    bootstrap_admin(&state, addr)?;
    let projections = crate::projections::Projections::start(&config, &state)?;
    let data = web::Data::new(state.clone());
    let limit = config.api.max_body_bytes;
    let workers = match config.api.workers {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    let server = HttpServer::new(move || {
        App::new()
            .wrap(
                actix_web::middleware::DefaultHeaders::new().add(("keep-alive", format!("timeout={KEEP_ALIVE_SECS}"))),
            )
            .wrap(actix_web::middleware::from_fn(crate::metrics::track))
            .app_data(data.clone())
            .app_data(body::payload_config(limit))
            .app_data(routes::query_config())
            .configure(routes::configure)
            .default_service(web::to(routes::fallback))
    })
    .keep_alive(std::time::Duration::from_secs(KEEP_ALIVE_SECS))
    .shutdown_timeout(30)
    .worker_max_blocking_threads(blocking_threads_per_worker(workers))
    .workers(workers)
    .listen(listener)
    .context("listening")?;
    tracing::info!(%addr, data = %config.data_dir.display(), head = state.store.head(), "quire is serving");
    Ok(Running {
        server: server.run(),
        addr,
        state,
        projections,
    })
}
