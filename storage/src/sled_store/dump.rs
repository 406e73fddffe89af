//! The records a full backup needs besides the events: the secret trees (users with their
//! password hashes, refresh and API token hashes, settings), which never enter the log, and the
//! idempotency records, so that a client retrying across a restore still gets its replay.
//!
//! Records are copied raw (key and value bytes), so a backup holds exactly what the trees held
//! and a new secret tree only needs adding to [`SECRET_TREES`].

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::{id_key, read_u64, SledStore};
use crate::store::{IdempotencyRecord, SecretRecord};
use crate::{Error, Result};

/// The trees copied whole.
const SECRET_TREES: [&str; 7] = [
    "users",
    "usernames",
    "refresh",
    "api_tokens",
    "api_token_hashes",
    "settings",
    // Webhooks with their secrets; not their queued deliveries: a restored webhook gets the
    // events after its `since_seq` again, from the restored log.
    "webhooks",
];
/// The idempotency tree, copied for the events a backup holds.
const IDEMPOTENCY: &str = "idempotency";

impl SledStore {
    fn tree_named(&self, name: &str) -> Option<sled::Tree> {
        let t = &self.trees;
        Some(
            match name {
                "webhooks" => return self.db.open_tree("webhooks").ok(),
                "users" => &t.users,
                "usernames" => &t.usernames,
                "refresh" => &t.refresh,
                "api_tokens" => &t.api_tokens,
                "api_token_hashes" => &t.api_token_hashes,
                "settings" => &t.settings,
                "idempotency" => &t.idempotency,
                _ => return None,
            }
            .clone(),
        )
    }

    /// Whether the event with `stream`/`version` is at or before `head`.
    fn event_within(&self, record: &IdempotencyRecord, head: u64) -> Result<bool> {
        let mut key = id_key(record.stream).to_vec();
        key.extend_from_slice(&record.version.to_be_bytes());
        let seq = read_u64(self.trees.stream_idx.get(key)?);
        Ok(seq != 0 && seq <= head)
    }

    pub(super) fn dump_records(&self, head: u64) -> Result<Vec<SecretRecord>> {
        let mut out = Vec::new();
        for name in SECRET_TREES.into_iter().chain([IDEMPOTENCY]) {
            let Some(tree) = self.tree_named(name) else {
                continue;
            };
            for entry in tree.iter() {
                let (key, value) = entry?;
                if name == IDEMPOTENCY {
                    // A record of a write after `head` would replay an event the backup lacks.
                    let keep = serde_json::from_slice::<IdempotencyRecord>(&value)
                        .map(|record| self.event_within(&record, head))
                        .unwrap_or(Ok(false))?;
                    if !keep {
                        continue;
                    }
                }
                out.push(SecretRecord {
                    tree: name.to_owned(),
                    key: STANDARD.encode(&key),
                    value: STANDARD.encode(&value),
                });
            }
        }
        Ok(out)
    }

    pub(super) fn load_records(&self, records: &mut dyn Iterator<Item = SecretRecord>) -> Result<usize> {
        let occupied = SECRET_TREES
            .into_iter()
            .chain([IDEMPOTENCY])
            .filter_map(|name| self.tree_named(name).map(|t| (name, t)))
            .find(|(name, tree)| !tree.is_empty() && *name != "settings");
        if let Some((name, _)) = occupied {
            return Err(Error::Invalid {
                field: "secrets",
                message: format!("the {name} tree is not empty: restore a backup only into an empty data folder"),
            });
        }
        let mut loaded = 0;
        for record in records {
            let bad = |what: &str| Error::Invalid {
                field: "secrets",
                message: format!("a record of tree {:?} has {what}", record.tree),
            };
            let tree = self
                .tree_named(&record.tree)
                .ok_or_else(|| bad("an unknown tree name"))?;
            let key = STANDARD
                .decode(&record.key)
                .map_err(|_| bad("a key that is not base64"))?;
            let value = STANDARD
                .decode(&record.value)
                .map_err(|_| bad("a value that is not base64"))?;
            tree.insert(key, value)?;
            loaded += 1;
        }
        self.db.flush()?;
        Ok(loaded)
    }
}
