//! [`SecretStore`] on sled: users, refresh tokens and settings, each write flushed before it
//! returns. These trees never enter the event log.

use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional as _;
use ulid::Ulid;

use super::{id_key, SledStore};
use crate::store::{SecretRecord, SecretStore};
use crate::tokens::ApiToken;
use crate::users::{RefreshToken, User};
use crate::{Error, Result};

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
        self.trees
            .users
            .get(id_key(id))?
            .map(|b| decode("users", &b))
            .transpose()
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
        self.db.flush()?;
        Ok(())
    }

    fn users(&self) -> Result<Vec<User>> {
        self.trees.users.iter().map(|e| decode("users", &e?.1)).collect()
    }

    fn update_user(&self, user: &User) -> Result<()> {
        self.trees.users.insert(id_key(user.id), encode("users", user)?)?;
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
        self.load_records(records)
    }
}
