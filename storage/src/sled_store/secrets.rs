//! [`SecretStore`] on sled: users, refresh tokens and settings, each write flushed before it
//! returns. These trees never enter the event log.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional as _;
use ulid::Ulid;

use super::{id_key, SledStore};
use crate::store::{SecretRecord, SecretStore};
use crate::tokens::ApiToken;
use crate::users::{RefreshToken, User};
use crate::{Error, Result};

/// Users by id as last read or written. Every authenticated request looks its user up; from
/// sled that lookup may wait (behind the log writer's transaction, itself behind a flush), so it
/// had to go to a blocking thread, one hop per request. A blog has a handful of users; past
/// [`UserCache::MAX`] the cache starts again empty.
#[derive(Debug, Default)]
pub(super) struct UserCache {
    /// A generation that every write moves, and the users.
    inner: Mutex<(u64, HashMap<Ulid, User>)>,
}

impl UserCache {
    const MAX: usize = 1024;

    fn lock(&self) -> MutexGuard<'_, (u64, HashMap<Ulid, User>)> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, id: Ulid) -> Option<User> {
        self.lock().1.get(&id).cloned()
    }

    /// The generation to hand [`UserCache::fill`] after reading a user from sled.
    fn generation(&self) -> u64 {
        self.lock().0
    }

    /// Keeps `user`, read from sled since `generation`, unless a write came in between (then
    /// what was read may be older than what the write left, and is not kept).
    fn fill(&self, generation: u64, user: &User) {
        let mut inner = self.lock();
        if inner.0 != generation {
            return;
        }
        if inner.1.len() >= Self::MAX {
            inner.1.clear();
        }
        inner.1.insert(user.id, user.clone());
    }

    /// After a write to sled: `Some` user as written, or `None` to forget every user.
    fn written(&self, user: Option<&User>) {
        let mut inner = self.lock();
        inner.0 += 1;
        match user {
            Some(user) => {
                if inner.1.len() >= Self::MAX {
                    inner.1.clear();
                }
                inner.1.insert(user.id, user.clone());
            }
            None => inner.1.clear(),
        }
    }
}

fn decode<T: serde::de::DeserializeOwned>(tree: &'static str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| Error::Corrupt { tree, source })
}

fn encode<T: serde::Serialize>(tree: &'static str, value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|source| Error::Corrupt { tree, source })
}

impl SecretStore for SledStore {
    fn user_count(&self) -> Result<usize> {
        Ok(self.trees.users.len())
    }

    fn user(&self, id: Ulid) -> Result<Option<User>> {
        if let Some(user) = self.users.get(id) {
            return Ok(Some(user));
        }
        let generation = self.users.generation();
        let user: Option<User> = self
            .trees
            .users
            .get(id_key(id))?
            .map(|b| decode("users", &b))
            .transpose()?;
        if let Some(user) = &user {
            self.users.fill(generation, user);
        }
        Ok(user)
    }

    fn cached_user(&self, id: Ulid) -> Option<User> {
        self.users.get(id)
    }

    fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        match self.trees.usernames.get(username)? {
            Some(id) => match <[u8; 16]>::try_from(id.as_ref()) {
                Ok(id) => self.user(Ulid(u128::from_be_bytes(id))),
                Err(_) => Ok(None),
            },
            None => Ok(None),
        }
    }

    fn insert_user(&self, user: &User) -> Result<()> {
        let json = encode("users", user)?;
        let result = (&self.trees.users, &self.trees.usernames).transaction(|(users, names)| {
            if names.get(user.username.as_str())?.is_some() {
                return Err(ConflictableTransactionError::Abort(()));
            }
            names.insert(user.username.as_str(), &id_key(user.id))?;
            users.insert(&id_key(user.id), json.as_slice())?;
            Ok(())
        });
        match result {
            Ok(()) => {}
            Err(TransactionError::Abort(())) => {
                return Err(Error::UserExists {
                    username: user.username.clone(),
                })
            }
            Err(TransactionError::Storage(e)) => return Err(e.into()),
        }
        self.users.written(Some(user));
        self.db.flush()?;
        Ok(())
    }

    fn users(&self) -> Result<Vec<User>> {
        self.trees.users.iter().map(|e| decode("users", &e?.1)).collect()
    }

    fn update_user(&self, user: &User) -> Result<()> {
        let json = encode("users", user)?;
        let written = self.trees.users.insert(id_key(user.id), json);
        // Also after a failed write: the tree may hold either record now.
        self.users.written(written.is_ok().then_some(user));
        written?;
        self.db.flush()?;
        Ok(())
    }

    fn revoke_user_refresh(&self, user: Ulid) -> Result<usize> {
        let mut removed = 0;
        for entry in self.trees.refresh.iter() {
            let (key, value) = entry?;
            let token: RefreshToken = decode("refresh", &value)?;
            if token.user == user {
                self.trees.refresh.remove(key)?;
                removed += 1;
            }
        }
        self.db.flush()?;
        Ok(removed)
    }

    fn put_api_token(&self, token: &ApiToken) -> Result<()> {
        let json = encode("api_tokens", token)?;
        (&self.trees.api_tokens, &self.trees.api_token_hashes)
            .transaction(|(tokens, hashes)| {
                tokens.insert(&id_key(token.id), json.as_slice())?;
                hashes.insert(token.hash.as_bytes(), &id_key(token.id))?;
                Ok::<_, ConflictableTransactionError<()>>(())
            })
            .map_err(|e| match e {
                TransactionError::Storage(e) => Error::Sled(e),
                TransactionError::Abort(()) => Error::Closed,
            })?;
        self.db.flush()?;
        Ok(())
    }

    fn touch_api_token(&self, token: &ApiToken) -> Result<()> {
        // Only if it still exists: a revoked token must not come back.
        let key = id_key(token.id);
        if let Some(old) = self.trees.api_tokens.get(key)? {
            let _ = self
                .trees
                .api_tokens
                .compare_and_swap(key, Some(old), Some(encode("api_tokens", token)?))?;
        }
        Ok(())
    }

    fn api_token(&self, id: Ulid) -> Result<Option<ApiToken>> {
        self.trees
            .api_tokens
            .get(id_key(id))?
            .map(|b| decode("api_tokens", &b))
            .transpose()
    }

    fn api_token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>> {
        match self.trees.api_token_hashes.get(hash.as_bytes())? {
            Some(id) => match <[u8; 16]>::try_from(id.as_ref()) {
                Ok(id) => self.api_token(Ulid(u128::from_be_bytes(id))),
                Err(_) => Ok(None),
            },
            None => Ok(None),
        }
    }

    fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        self.trees
            .api_tokens
            .iter()
            .map(|e| decode("api_tokens", &e?.1))
            .collect()
    }

    fn delete_api_token(&self, token: &ApiToken) -> Result<()> {
        self.trees.api_token_hashes.remove(token.hash.as_bytes())?;
        self.trees.api_tokens.remove(id_key(token.id))?;
        self.db.flush()?;
        Ok(())
    }

    fn refresh_token(&self, hash: &[u8]) -> Result<Option<RefreshToken>> {
        self.trees.refresh.get(hash)?.map(|b| decode("refresh", &b)).transpose()
    }

    fn put_refresh_token(&self, hash: &[u8], token: &RefreshToken) -> Result<()> {
        self.trees.refresh.insert(hash, encode("refresh", token)?)?;
        self.db.flush()?;
        Ok(())
    }

    fn swap_refresh_token(&self, hash: &[u8], old: &RefreshToken, new: &RefreshToken) -> Result<bool> {
        let swapped = self
            .trees
            .refresh
            .compare_and_swap(hash, Some(encode("refresh", old)?), Some(encode("refresh", new)?))?
            .is_ok();
        self.db.flush()?;
        Ok(swapped)
    }

    fn revoke_refresh_family(&self, family: Ulid) -> Result<usize> {
        let mut removed = 0;
        for entry in self.trees.refresh.iter() {
            let (key, value) = entry?;
            let token: RefreshToken = decode("refresh", &value)?;
            if token.family == family {
                self.trees.refresh.remove(key)?;
                removed += 1;
            }
        }
        self.db.flush()?;
        Ok(removed)
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.trees.settings.get(key)?.map(|v| v.to_vec()))
    }

    fn set_meta(&self, key: &str, value: Option<&[u8]>) -> Result<()> {
        match value {
            Some(v) => self.trees.settings.insert(key, v)?,
            None => self.trees.settings.remove(key)?,
        };
        self.db.flush()?;
        Ok(())
    }

    fn swap_meta(&self, key: &str, old: Option<&[u8]>, new: Option<&[u8]>) -> Result<bool> {
        let swapped = self.trees.settings.compare_and_swap(key, old, new)?.is_ok();
        self.db.flush()?;
        Ok(swapped)
    }

    fn backup_records(&self, head: u64) -> Result<Vec<SecretRecord>> {
        self.dump_records(head)
    }

    fn restore_records(&self, records: &mut dyn Iterator<Item = SecretRecord>) -> Result<usize> {
        let loaded = self.load_records(records);
        self.users.written(None);
        loaded
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store as _;
    use crate::Role;

    fn user(name: &str, disabled: bool) -> User {
        User {
            id: Ulid::new(),
            username: name.into(),
            role: Role::Author,
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            disabled,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_read_that_a_write_overtook_is_not_kept() {
        let cache = UserCache::default();
        let old = user("ada", false);
        let generation = cache.generation();
        // A write (disabling her) lands between the read from sled and the fill.
        let disabled = User {
            disabled: true,
            ..old.clone()
        };
        cache.written(Some(&disabled));
        cache.fill(generation, &old);
        assert_eq!(cache.get(old.id), Some(disabled), "the write's record stays");
        // Forgetting everything (a restore) also drops fills begun before it.
        let generation = cache.generation();
        cache.written(None);
        cache.fill(generation, &old);
        assert_eq!(cache.get(old.id), None);
        // An undisturbed fill is kept.
        let generation = cache.generation();
        cache.fill(generation, &old);
        assert_eq!(cache.get(old.id), Some(old));
    }

    #[test]
    fn the_cache_starts_again_when_full() {
        let cache = UserCache::default();
        let users: Vec<User> = (0..=UserCache::MAX).map(|i| user(&format!("u{i}"), false)).collect();
        for u in &users {
            cache.fill(cache.generation(), u);
        }
        assert_eq!(
            cache.lock().1.len(),
            1,
            "cleared at {} and refilled with the last",
            UserCache::MAX
        );
        assert_eq!(
            cache.get(users[UserCache::MAX].id).map(|u| u.id),
            Some(users[UserCache::MAX].id)
        );
        for u in &users {
            cache.written(Some(u));
        }
        let kept = cache.lock().1.len();
        assert!(kept <= UserCache::MAX, "writes are bounded the same way: {kept} kept");
        assert_eq!(
            cache.get(users[UserCache::MAX].id).map(|u| u.id),
            Some(users[UserCache::MAX].id)
        );
    }

    #[test]
    fn users_come_from_memory_once_read_and_writes_replace_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SledStore::open(dir.path(), &crate::SledOptions::default()).expect("open");
        let ada = user("ada", false);
        store.insert_user(&ada).expect("insert");
        assert_eq!(store.cached_user(ada.id), Some(ada.clone()), "inserted users are known");
        let disabled = User {
            disabled: true,
            ..ada.clone()
        };
        store.update_user(&disabled).expect("update");
        assert_eq!(
            store.cached_user(ada.id),
            Some(disabled.clone()),
            "an update is seen at once"
        );
        assert_eq!(store.user(ada.id).expect("user"), Some(disabled.clone()));
        assert_eq!(store.head(), 0, "users never enter the log");
        drop(store);

        // After a restart nothing is cached until read.
        let store = SledStore::open(dir.path(), &crate::SledOptions::default()).expect("reopen");
        assert_eq!(store.cached_user(ada.id), None);
        assert_eq!(store.user(ada.id).expect("user"), Some(disabled.clone()));
        assert_eq!(store.cached_user(ada.id), Some(disabled));
        assert_eq!(store.user(Ulid::new()).expect("user"), None);
    }
}
