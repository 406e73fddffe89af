//! The command line: `quire [serve]`, `quire user add`, tokens, keys, projections, and the
//! backup, export, import and restore commands of [`crate::ops`].

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use quire_storage::Role;

use crate::config::Config;

/// Quire: a self-hosted publishing server.
#[derive(Debug, Parser)]
#[command(name = "quire", version, about)]
struct Cli {
    /// A quire.toml with settings.
    #[arg(long, global = true, env = "QUIRE_CONFIG")]
    config: Option<PathBuf>,
    /// The data folder (overrides QUIRE_DATA_DIR and the file).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API, editor and site (the default).
    Serve {
        /// Address to listen on (overrides QUIRE_LISTEN and the file).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Manage users (while the server is stopped).
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens for scripts (while the server is stopped).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage the JWT signing keys (while the server is stopped).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Rebuild a projection from the event log (while the server is stopped).
    #[command(subcommand)]
    Rebuild(RebuildCommand),
    /// Check the git repository against the event log (while the server is stopped); exit
    /// code 1 on a mismatch.
    Verify,
    /// Write a consistent snapshot of the data folder (log, users, tokens, keys, config) into
    /// a tar file, with a progress bar: from the running server with --url, else directly.
    Backup {
        /// The archive to write (`<file>.partial` until complete).
        file: PathBuf,
        /// A running server to take the backup from, e.g. http://127.0.0.1:8080 (plain HTTP).
        #[arg(long, env = "QUIRE_URL")]
        url: Option<String>,
        /// An admin's API token (qk_…) for --url.
        #[arg(long, env = "QUIRE_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// Write the event log as JSON Lines (while the server is stopped).
    Export {
        /// The file to write; standard output when absent or `-`.
        file: Option<PathBuf>,
    },
    /// Read an export into an empty data folder, then render git and the site from it.
    Import {
        /// The JSON Lines file; `-` for standard input.
        file: PathBuf,
        /// Where to copy the media files the events name from (images, datasets' CSV): the
        /// `media/` folder of the data folder that was exported. Each is checked against its
        /// hash. Without it they must already be in this data folder's `media/`.
        #[arg(long)]
        media: Option<PathBuf>,
    },
    /// Upload the rendered site to the bucket of [site.publish] (while the server is stopped),
    /// with a progress bar; the running server publishes each change by itself.
    Publish {
        /// Upload every file and delete every object the site lacks, whatever was published
        /// before.
        #[arg(long)]
        full: bool,
    },
    /// Rebuild an empty data folder from the mirrored git repository or from a backup.
    #[command(group = clap::ArgGroup::new("source").required(true))]
    Restore {
        /// A git URL or path (the mirror): the log is read back from its commits, then git and
        /// the site are rendered again. Users and tokens are not in git.
        #[arg(long, group = "source")]
        from_git: Option<String>,
        /// A `quire backup` archive: log, users, tokens and keys.
        #[arg(long, group = "source")]
        from_backup: Option<PathBuf>,
    },
    /// The `pre-receive` hook of a push over HTTP (run by git, not by hand).
    #[command(hide = true)]
    GitPreReceive {
        /// The server's socket for this push.
        socket: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum RebuildCommand {
    /// Re-render the whole site into <data>/site, with a progress bar.
    Site,
    /// Recreate <data>/content.git from the event log, with a progress bar (same events, same
    /// commit ids).
    Git,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token for a user; prints the secret once.
    Create {
        /// The user the token acts as.
        #[arg(long)]
        user: String,
        /// A scope (repeat for more): posts:read, posts:write, posts:publish, media:write, admin.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// A name that says where the token is used.
        #[arg(long)]
        name: String,
        /// Expiry as an RFC 3339 date-time.
        #[arg(long)]
        expires_at: Option<String>,
    },
    /// List tokens (no secrets).
    List,
    /// Revoke a token by id.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Add a new signing key for new tokens; tokens signed before stay valid until they expire.
    Rotate,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from a prompt, or from stdin when it is not a terminal.
    Add {
        name: String,
        #[arg(long, default_value = "author")]
        role: String,
    },
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    init_tracing();
    crate::tls::install_default_provider();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quire: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr, filtered by `QUIRE_LOG`; one JSON object per line with `QUIRE_LOG_FORMAT=json`.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("QUIRE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match std::env::var("QUIRE_LOG_FORMAT").as_deref() {
        Ok("json") => logs.json().with_current_span(false).init(),
        _ => logs.init(),
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::GitPreReceive { socket }) = &cli.command {
        // Git runs the hook with the push's environment, not the server's settings.
        std::process::exit(if crate::git::push::hook_main(socket) { 0 } else { 1 });
    }
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(dir) = cli.data_dir {
        config.data_dir = dir;
    }
    match cli.command.unwrap_or(Command::Serve { listen: None }) {
        Command::Serve { listen } => {
            if let Some(listen) = listen {
                config.listen = listen;
            }
            serve(config)
        }
        Command::User(UserCommand::Add { name, role }) => add_user(&config, &name, &role),
        Command::Token(command) => crate::cli_tokens::run(&config, command),
        Command::Rebuild(RebuildCommand::Site) => crate::site::rebuild::rebuild_site(&config),
        Command::Rebuild(RebuildCommand::Git) => crate::git::cli::rebuild(&config),
        Command::Verify => crate::git::cli::verify(&config),
        Command::Backup { file, url, token } => {
            crate::ops::backup::run(&config, &file, url.as_deref(), token.as_deref())
        }
        Command::Publish { full } => crate::publish::cli::publish(&config, full),
        Command::Export { file } => crate::ops::export::export(&config, file.as_deref()),
        Command::Import { file, media } => crate::ops::export::import(&config, &file, media.as_deref()),
        Command::Restore { from_git, from_backup } => match (from_git, from_backup) {
            (Some(source), _) => crate::ops::restore::from_git(&config, &source),
            (None, Some(file)) => crate::ops::restore::from_backup(&config, &file),
            (None, None) => anyhow::bail!("say where to restore from: --from-git or --from-backup"),
        },
        Command::GitPreReceive { .. } => Ok(()),
        Command::Keys(KeysCommand::Rotate) => {
            let kid = crate::auth::JwtKeys::rotate(&config.data_dir.join("keys"))?;
            println!("new signing key {kid}; restart quire to use it");
            Ok(())
        }
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    config.validate()?;
    let addr = config.listen_addr()?;
    let listener = TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?;
    let log_dir = config.data_dir.join("log");
    actix_web::rt::System::new().block_on(async move {
        let running = crate::start(config, listener).await?;
        running.server.await.context("server failed")?;
        Ok::<_, anyhow::Error>(())
    })?;
    // Everything holding the log is gone: let sled write its snapshot now, so that the next start
    // does not read back the whole run first.
    let started = std::time::Instant::now();
    match quire_storage::SledStore::write_snapshot(&log_dir, std::time::Duration::from_secs(2)) {
        Ok(()) => tracing::info!(
            ms = started.elapsed().as_millis(),
            "stopped; the log's snapshot is written"
        ),
        Err(e) => tracing::info!(error = %e, "stopped; the log's snapshot is left to the next start"),
    }
    Ok(())
}

fn add_user(config: &Config, name: &str, role: &str) -> anyhow::Result<()> {
    let role: Role = role.parse()?;
    let password = read_password()?;
    let store = std::sync::Arc::new(crate::ops::open_log(config)?);
    let refresh_ttl = time::Duration::days(i64::try_from(config.auth.refresh_token_ttl_days).unwrap_or(30));
    let accounts = quire_storage::Accounts::new(store, refresh_ttl);
    let user = accounts.create_user(name, &password, role)?;
    println!("created user {} ({:?}, id {})", user.username, user.role, user.id);
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Repeat: ")?;
        anyhow::ensure!(first == second, "the passwords differ");
        return Ok(first);
    }
    print!("");
    std::io::stdout().flush()?;
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
