//! Accounts: users with argon2id password hashes, rotating refresh tokens with reuse
//! detection, and the one-time setup token that creates the first admin.
//!
//! Refresh tokens are opaque random strings; only their SHA-256 is stored. Every refresh marks
//! the presented token used and issues a new one in the same family; presenting a used token
//! again means it leaked, so the whole family is revoked.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use ulid::Ulid;

use crate::access::{Actor, Scope};
use crate::passwords::{dummy_hash, hash_password, verify_password};
use crate::store::SecretStore;
use crate::tokens::Tokens;
use crate::{Error, Result};

/// Shortest accepted password.
pub const MIN_PASSWORD_LEN: usize = 8;
const MAX_PASSWORD_LEN: usize = 1024;
const SETUP_KEY: &str = "setup_token_sha256";

/// What a user may do. Enforcement beyond "logged in" grows with the access-control work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Editor,
    Author,
    Contributor,
}

impl std::str::FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "admin" => Ok(Self::Admin),
            "editor" => Ok(Self::Editor),
            "author" => Ok(Self::Author),
            "contributor" => Ok(Self::Contributor),
            _ => Err(Error::invalid(
                "role",
                format!("{s:?} is not a role; use admin, editor, author or contributor"),
            )),
        }
    }
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: Ulid,
    pub username: String,
    pub role: Role,
    /// PHC string of the argon2id hash.
    pub password_hash: String,
    pub disabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A stored refresh token (keyed by the token's SHA-256).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefreshToken {
    pub user: Ulid,
    /// All tokens descending from one login share a family.
    pub family: Ulid,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Set once the token has been exchanged for a new one.
    pub used: bool,
}

/// Account operations on top of a [`SecretStore`].
#[derive(Clone)]
pub struct Accounts {
    store: Arc<dyn SecretStore>,
    refresh_ttl: Duration,
    clock: crate::Clock,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts").finish_non_exhaustive()
    }
}

impl Accounts {
    /// Accounts whose refresh tokens live `refresh_ttl`.
    pub fn new(store: Arc<dyn SecretStore>, refresh_ttl: Duration) -> Self {
        // Made now, so the first login of an unknown user is not slower than the others.
        dummy_hash();
        Self {
            store,
            refresh_ttl,
            clock: crate::system_clock(),
        }
    }

    /// The same accounts reading time from `clock` (refresh-token expiry, creation times).
    pub fn with_clock(self, clock: crate::Clock) -> Self {
        Self { clock, ..self }
    }

    /// Whether any user exists.
    pub fn has_users(&self) -> Result<bool> {
        Ok(self.store.user_count()? > 0)
    }

    /// A user by id.
    pub fn user(&self, id: Ulid) -> Result<Option<User>> {
        self.store.user(id)
    }

    /// A user by id if known without waiting for storage (see [`SecretStore::cached_user`]).
    pub fn cached_user(&self, id: Ulid) -> Option<User> {
        self.store.cached_user(id)
    }

    /// A user by name.
    pub fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        self.store.user_by_name(username)
    }

    /// Creates a user after checking the name and password. Blocking (argon2).
    pub fn create_user(&self, username: &str, password: &str, role: Role) -> Result<User> {
        validate_username(username)?;
        validate_password(password)?;
        let user = User {
            id: Ulid::new(),
            username: username.to_owned(),
            role,
            password_hash: hash_password(password)?,
            disabled: false,
            created_at: (self.clock)(),
        };
        self.store.insert_user(&user)?;
        Ok(user)
    }

    /// Checks a username and password. Takes the same time whether or not the user exists.
    /// Blocking (argon2); [`Error::Busy`] when too many passwords are being checked already.
    pub fn authenticate(&self, username: &str, password: &str) -> Result<User> {
        let user = self.store.user_by_name(username)?;
        let hash = match &user {
            Some(user) => user.password_hash.as_str(),
            None => dummy_hash(),
        };
        let ok = verify_password(password, hash)?;
        match user {
            Some(user) if ok && !user.disabled => Ok(user),
            _ => Err(Error::InvalidCredentials),
        }
    }

    /// Starts a new refresh-token family for `user`; returns the secret token.
    pub fn issue_refresh(&self, user: &User) -> Result<String> {
        self.issue_in_family(user.id, Ulid::new())
    }

    fn issue_in_family(&self, user: Ulid, family: Ulid) -> Result<String> {
        let token = random_token("qr_");
        let record = RefreshToken {
            user,
            family,
            expires_at: (self.clock)() + self.refresh_ttl,
            used: false,
        };
        self.store.put_refresh_token(&sha256(&token), &record)?;
        Ok(token)
    }

    /// Exchanges a refresh token for a new one. A token presented twice revokes its family.
    pub fn rotate_refresh(&self, token: &str) -> Result<(User, String)> {
        let hash = sha256(token);
        let record = self.store.refresh_token(&hash)?.ok_or(Error::InvalidCredentials)?;
        if record.used {
            let revoked = self.store.revoke_refresh_family(record.family)?;
            tracing::warn!(user = %record.user, family = %record.family, revoked, "refresh token reused: family revoked");
            return Err(Error::InvalidCredentials);
        }
        if record.expires_at <= (self.clock)() {
            return Err(Error::InvalidCredentials);
        }
        let used = RefreshToken {
            used: true,
            ..record.clone()
        };
        if !self.store.swap_refresh_token(&hash, &record, &used)? {
            // Someone exchanged it at the same moment: treat as reuse.
            self.store.revoke_refresh_family(record.family)?;
            return Err(Error::InvalidCredentials);
        }
        let user = self
            .store
            .user(record.user)?
            .filter(|u| !u.disabled)
            .ok_or(Error::InvalidCredentials)?;
        let next = self.issue_in_family(user.id, record.family)?;
        Ok((user, next))
    }

    /// Revokes the family of a refresh token (logout). Unknown tokens are ignored.
    pub fn revoke_refresh(&self, token: &str) -> Result<()> {
        if let Some(record) = self.store.refresh_token(&sha256(token))? {
            self.store.revoke_refresh_family(record.family)?;
        }
        Ok(())
    }

    /// With no users yet, makes a new one-time setup token (replacing any earlier one).
    pub fn new_setup_token(&self) -> Result<Option<String>> {
        if self.has_users()? {
            return Ok(None);
        }
        let token = random_token("qs_");
        self.store.set_meta(SETUP_KEY, Some(&sha256(&token)))?;
        Ok(Some(token))
    }

    /// Creates the first admin with the setup token; the token works once.
    pub fn complete_setup(&self, token: &str, username: &str, password: &str) -> Result<User> {
        validate_username(username)?;
        validate_password(password)?;
        let stored = self.store.meta(SETUP_KEY)?.ok_or(Error::InvalidCredentials)?;
        if !constant_time_eq(&stored, &sha256(token)) || self.has_users()? {
            return Err(Error::InvalidCredentials);
        }
        if !self.store.swap_meta(SETUP_KEY, Some(&stored), None)? {
            return Err(Error::InvalidCredentials);
        }
        self.create_user(username, password, Role::Admin)
    }
}

/// Changes an admin makes to a user.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
}

impl Accounts {
    /// Every user (admins only).
    pub fn list_users(&self, actor: &Actor) -> Result<Vec<User>> {
        actor.require(Scope::Admin)?;
        self.store.users()
    }

    /// Adds a user (admins only). Blocking (argon2).
    pub fn add_user(&self, actor: &Actor, username: &str, password: &str, role: Role) -> Result<User> {
        actor.require(Scope::Admin)?;
        self.create_user(username, password, role)
    }

    /// Changes a user's role or disables them (admins only). Disabling revokes the user's
    /// refresh tokens and API tokens at once; their access tokens stop working on the next request.
    pub fn update_user(&self, actor: &Actor, id: Ulid, update: UserUpdate) -> Result<User> {
        actor.require(Scope::Admin)?;
        let mut user = self.store.user(id)?.ok_or(Error::UserNotFound { id })?;
        if id == actor.user_id && (update.disabled == Some(true) || update.role.is_some_and(|r| r != Role::Admin)) {
            return Err(Error::InvalidState {
                id,
                message: "you cannot disable or demote yourself; ask another admin".into(),
            });
        }
        if let Some(role) = update.role {
            user.role = role;
        }
        if let Some(disabled) = update.disabled {
            user.disabled = disabled;
        }
        self.store.update_user(&user)?;
        if user.disabled {
            self.revoke_sessions(id)?;
        }
        Ok(user)
    }

    /// Sets a password: your own with the old one, anyone's as an admin. Ends the user's sessions.
    pub fn set_password(&self, actor: &Actor, id: Ulid, new: &str, old: Option<&str>) -> Result<()> {
        let mut user = self.store.user(id)?.ok_or(Error::UserNotFound { id })?;
        if id != actor.user_id {
            actor.require(Scope::Admin)?;
        } else if !old.map_or(Ok(false), |old| verify_password(old, &user.password_hash))? {
            return Err(Error::Forbidden {
                missing: "old-password".into(),
                message: "changing your own password needs the current one in old_password".into(),
            });
        }
        validate_password(new)?;
        user.password_hash = hash_password(new)?;
        self.store.update_user(&user)?;
        self.store.revoke_user_refresh(id)?;
        Ok(())
    }

    fn revoke_sessions(&self, id: Ulid) -> Result<()> {
        let refresh = self.store.revoke_user_refresh(id)?;
        let tokens = Tokens::new(self.store.clone()).revoke_all_of(id)?;
        tracing::info!(user = %id, refresh, tokens, "revoked the sessions and tokens of a user");
        Ok(())
    }
}

fn validate_username(name: &str) -> Result<()> {
    let ok = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "username",
            "use 1 to 64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit",
        ))
    }
}

fn validate_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if (MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&n) {
        Ok(())
    } else {
        Err(Error::invalid(
            "password",
            format!("use {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters"),
        ))
    }
}

/// `prefix` followed by 32 random bytes, base64url.
pub fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// SHA-256 of a string.
pub fn sha256(value: &str) -> Vec<u8> {
    Sha256::digest(value.as_bytes()).to_vec()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
