//! API tokens for scripts: long-lived bearer secrets (`qk_…`, greppable when leaked) with
//! scopes, an optional expiry, and a last-used time. Only the SHA-256 of a secret is stored.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ulid::Ulid;

use crate::access::{Actor, Scope};
use crate::store::SecretStore;
use crate::users::{random_token, sha256, User};
use crate::{Error, Result};

/// Prefix of every API token secret.
pub const TOKEN_PREFIX: &str = "qk_";
/// How stale `last_used_at` may get before a use writes it again.
const TOUCH_EVERY: time::Duration = time::Duration::minutes(1);

/// A stored API token (without its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: Ulid,
    pub user: Ulid,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// Hex SHA-256 of the secret.
    pub hash: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
}

/// Token operations.
#[derive(Clone)]
pub struct Tokens {
    store: Arc<dyn SecretStore>,
    clock: crate::Clock,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").finish_non_exhaustive()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Tokens {
    /// Tokens over `store`.
    pub fn new(store: Arc<dyn SecretStore>) -> Self {
        Self {
            store,
            clock: crate::system_clock(),
        }
    }

    /// The same tokens reading time from `clock` (expiry, last use).
    pub fn with_clock(self, clock: crate::Clock) -> Self {
        Self { clock, ..self }
    }

    /// Makes a token for `actor` with at most `actor`'s rights; returns it and its secret.
    /// An expiry in the past makes a token that is already expired.
    pub fn create(
        &self,
        actor: &Actor,
        name: &str,
        scopes: &[Scope],
        expires_at: Option<OffsetDateTime>,
    ) -> Result<(ApiToken, String)> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid("name", "give the token a name of 1 to 100 characters"));
        }
        if scopes.is_empty() {
            return Err(Error::invalid("scopes", "give the token at least one scope"));
        }
        for scope in scopes {
            actor.require(*scope)?;
        }
        let secret = random_token(TOKEN_PREFIX);
        let mut scopes = scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        let token = ApiToken {
            id: Ulid::new(),
            user: actor.user_id,
            name: name.to_owned(),
            scopes,
            hash: hex(&sha256(&secret)),
            created_at: (self.clock)(),
            expires_at,
            last_used_at: None,
        };
        self.store.put_api_token(&token)?;
        Ok((token, secret))
    }

    /// The actor's tokens, or everyone's for an admin asking for `all`.
    pub fn list(&self, actor: &Actor, all: bool) -> Result<Vec<ApiToken>> {
        if all {
            actor.require(Scope::Admin)?;
        }
        let mut tokens = self.store.api_tokens()?;
        tokens.retain(|t| all || t.user == actor.user_id);
        Ok(tokens)
    }

    /// Revokes a token of the actor (or anyone's, for an admin), at once.
    pub fn revoke(&self, actor: &Actor, id: Ulid) -> Result<()> {
        let token = self.store.api_token(id)?.ok_or(Error::TokenNotFound { id })?;
        // Someone else's token looks like no token at all, unless you are an admin.
        if token.user != actor.user_id && actor.require(Scope::Admin).is_err() {
            return Err(Error::TokenNotFound { id });
        }
        self.store.delete_api_token(&token)?;
        Ok(())
    }

    /// The token a secret stands for, if any (expired ones too).
    pub fn by_secret(&self, secret: &str) -> Result<Option<ApiToken>> {
        self.store.api_token_by_hash(&hex(&sha256(secret)))
    }

    /// Revokes the token a secret stands for (whoever holds a token may end it, RFC 7009);
    /// whether there was one.
    pub fn revoke_secret(&self, secret: &str) -> Result<bool> {
        match self.by_secret(secret)? {
            Some(token) => {
                self.store.delete_api_token(&token)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Revokes every token of `user`; returns how many.
    pub fn revoke_all_of(&self, user: Ulid) -> Result<usize> {
        let tokens: Vec<_> = self
            .store
            .api_tokens()?
            .into_iter()
            .filter(|t| t.user == user)
            .collect();
        for token in &tokens {
            self.store.delete_api_token(token)?;
        }
        Ok(tokens.len())
    }

    /// The actor a secret stands for: its user's role narrowed to the token's scopes.
    /// `None` for unknown, expired, or disabled users' tokens.
    pub fn authenticate(&self, secret: &str, user_of: impl Fn(Ulid) -> Result<Option<User>>) -> Result<Option<Actor>> {
        let Some(mut token) = self.store.api_token_by_hash(&hex(&sha256(secret)))? else {
            return Ok(None);
        };
        let now = (self.clock)();
        if token.expires_at.is_some_and(|at| at <= now) {
            return Ok(None);
        }
        let Some(user) = user_of(token.user)?.filter(|u| !u.disabled) else {
            return Ok(None);
        };
        if token.last_used_at.is_none_or(|at| now - at > TOUCH_EVERY) {
            token.last_used_at = Some(now);
            self.store.touch_api_token(&token)?;
        }
        let mut actor = Actor::user(user.id, user.username, user.role);
        actor.scopes.retain(|s| token.scopes.contains(s));
        Ok(Some(actor))
    }
}
