//! `quire token create|list|revoke`: API tokens from the command line.

use anyhow::Context as _;
use quire_storage::{Actor, Scope};

use crate::cli::TokenCommand;
use crate::config::Config;

pub(crate) fn run(config: &Config, command: TokenCommand) -> anyhow::Result<()> {
    let store: std::sync::Arc<dyn quire_storage::SecretStore> = std::sync::Arc::new(crate::ops::open_log(config)?);
    let refresh_ttl = time::Duration::days(i64::try_from(config.auth.refresh_token_ttl_days).unwrap_or(30));
    let (tokens, accounts) = (
        quire_storage::Tokens::new(store.clone()),
        quire_storage::Accounts::new(store, refresh_ttl),
    );
    match command {
        TokenCommand::Create {
            user,
            scopes,
            name,
            expires_at,
        } => {
            let owner = accounts
                .user_by_name(&user)?
                .with_context(|| format!("no user {user:?}"))?;
            let scopes = scopes
                .iter()
                .map(|s| s.parse::<Scope>())
                .collect::<Result<Vec<_>, _>>()?;
            let expires_at = expires_at
                .map(|at| time::OffsetDateTime::parse(&at, &time::format_description::well_known::Rfc3339))
                .transpose()
                .context("--expires-at must be an RFC 3339 date-time like 2027-01-31T00:00:00Z")?;
            let actor = Actor::user(owner.id, owner.username.clone(), owner.role);
            let (token, secret) = tokens.create(&actor, &name, &scopes, expires_at)?;
            println!(
                "created token {} for {}\n{secret}\n(store the secret now: it is not shown again)",
                token.id, owner.username
            );
        }
        TokenCommand::List => {
            let admin = Actor::system("quire-cli");
            for token in tokens.list(&admin, true)? {
                let scopes: Vec<_> = token.scopes.iter().map(|s| s.as_str()).collect();
                let owner = accounts
                    .user(token.user)?
                    .map_or_else(|| token.user.to_string(), |u| u.username);
                println!("{}  {:<20} {:<12} {}", token.id, token.name, owner, scopes.join(","));
            }
        }
        TokenCommand::Revoke { id } => {
            let id = id.parse().context("not a token id")?;
            tokens.revoke(&Actor::system("quire-cli"), id)?;
            println!("revoked {id}");
        }
    }
    Ok(())
}
