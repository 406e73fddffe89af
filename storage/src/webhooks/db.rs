//! The webhook trees in the sled database: `webhooks` (id → webhook with its secret),
//! `webhook_deliveries` (webhook ‖ seq → delivery), `webhook_pending` (webhook ‖ seq → nothing:
//! what is still to send, in seq order) and `webhook_meta` (the projection's checkpoint). None
//! of them is in the log. Queuing a page of deliveries and moving the checkpoint is one
//! transaction, flushed before the checkpoint is reported.

use std::convert::Infallible;

use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional as _;
use ulid::Ulid;

use super::{Delivery, DeliveryStatus, Webhook};
use crate::{Error, Result};

const CHECKPOINT: &[u8] = b"checkpoint";

/// The webhook trees.
#[derive(Debug, Clone)]
pub struct WebhookDb {
    db: sled::Db,
    hooks: sled::Tree,
    deliveries: sled::Tree,
    pending: sled::Tree,
    meta: sled::Tree,
}

fn key(webhook: Ulid, seq: u64) -> [u8; 24] {
    let mut key = [0u8; 24];
    key[..16].copy_from_slice(&webhook.0.to_be_bytes());
    key[16..].copy_from_slice(&seq.to_be_bytes());
    key
}

fn decode<T: serde::de::DeserializeOwned>(tree: &'static str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| Error::Corrupt { tree, source })
}

fn encode<T: serde::Serialize>(tree: &'static str, value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|source| Error::Corrupt { tree, source })
}

fn storage_error(e: TransactionError<Infallible>) -> Error {
    match e {
        TransactionError::Storage(e) => Error::Sled(e),
        TransactionError::Abort(never) => match never {},
    }
}

impl WebhookDb {
    /// Opens (or creates) the trees in `db`.
    pub fn open(db: &sled::Db) -> Result<Self> {
        Ok(Self {
            db: db.clone(),
            hooks: db.open_tree("webhooks")?,
            deliveries: db.open_tree("webhook_deliveries")?,
            pending: db.open_tree("webhook_pending")?,
            meta: db.open_tree("webhook_meta")?,
        })
    }

    /// Stores a webhook, durably.
    pub fn put(&self, hook: &Webhook) -> Result<()> {
        self.hooks.insert(hook.id.0.to_be_bytes(), encode("webhooks", hook)?)?;
        self.db.flush()?;
        Ok(())
    }

    /// A webhook by id.
    pub fn get(&self, id: Ulid) -> Result<Option<Webhook>> {
        self.hooks
            .get(id.0.to_be_bytes())?
            .map(|b| decode("webhooks", &b))
            .transpose()
    }

    /// Every webhook, oldest first.
    pub fn list(&self) -> Result<Vec<Webhook>> {
        self.hooks.iter().values().map(|v| decode("webhooks", &v?)).collect()
    }

    /// Deletes a webhook and its deliveries, durably.
    pub fn delete(&self, id: Ulid) -> Result<()> {
        self.hooks.remove(id.0.to_be_bytes())?;
        for tree in [&self.deliveries, &self.pending] {
            for k in tree.scan_prefix(id.0.to_be_bytes()).keys() {
                tree.remove(k?)?;
            }
        }
        self.db.flush()?;
        Ok(())
    }

    /// The seq of the last event turned into deliveries.
    pub fn checkpoint(&self) -> Result<u64> {
        Ok(crate::sled_store::read_u64(self.meta.get(CHECKPOINT)?))
    }

    /// Queues `deliveries` and moves the checkpoint to `checkpoint` in one transaction, then
    /// flushes: after a crash either both are there or neither. Deliveries of a webhook deleted
    /// meanwhile are left out (`delete` removes the webhook first, then its deliveries).
    pub fn enqueue(&self, deliveries: &[Delivery], checkpoint: u64) -> Result<()> {
        let encoded = deliveries
            .iter()
            .map(|d| Ok((key(d.webhook, d.seq), encode("webhook_deliveries", d)?)))
            .collect::<Result<Vec<_>>>()?;
        (&self.hooks, &self.deliveries, &self.pending, &self.meta)
            .transaction(|(hooks, deliveries, pending, meta)| {
                for (k, json) in &encoded {
                    if hooks.get(&k[..16])?.is_none() {
                        continue;
                    }
                    deliveries.insert(k, json.as_slice())?;
                    pending.insert(k, &[])?;
                }
                meta.insert(CHECKPOINT, &checkpoint.to_be_bytes())?;
                Ok::<_, ConflictableTransactionError<Infallible>>(())
            })
            .map_err(storage_error)?;
        self.db.flush()?;
        Ok(())
    }

    /// The oldest delivery of `webhook` still to send.
    pub fn next_pending(&self, webhook: Ulid) -> Result<Option<Delivery>> {
        let Some(first) = self.pending.scan_prefix(webhook.0.to_be_bytes()).keys().next() else {
            return Ok(None);
        };
        match self.deliveries.get(first?)? {
            Some(bytes) => decode("webhook_deliveries", &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Saves a delivery after an attempt (or a resend): pending ones stay queued, others leave
    /// the queue. Durable.
    pub fn save(&self, delivery: &Delivery) -> Result<()> {
        let k = key(delivery.webhook, delivery.seq);
        let json = encode("webhook_deliveries", delivery)?;
        let queued = delivery.status == DeliveryStatus::Pending;
        (&self.deliveries, &self.pending)
            .transaction(|(deliveries, pending)| {
                deliveries.insert(&k, json.as_slice())?;
                if queued {
                    pending.insert(&k, &[])?;
                } else {
                    pending.remove(&k)?;
                }
                Ok::<_, ConflictableTransactionError<Infallible>>(())
            })
            .map_err(storage_error)?;
        self.db.flush()?;
        Ok(())
    }

    /// Up to `limit` deliveries of `webhook`, newest first.
    pub fn deliveries(&self, webhook: Ulid, limit: usize) -> Result<Vec<Delivery>> {
        self.deliveries
            .scan_prefix(webhook.0.to_be_bytes())
            .values()
            .rev()
            .take(limit)
            .map(|v| decode("webhook_deliveries", &v?))
            .collect()
    }

    /// A delivery of `webhook` by its message id (`webhook-id`).
    pub fn delivery(&self, webhook: Ulid, message_id: &str) -> Result<Option<Delivery>> {
        for value in self.deliveries.scan_prefix(webhook.0.to_be_bytes()).values().rev() {
            let delivery: Delivery = decode("webhook_deliveries", &value?)?;
            if delivery.message_id() == message_id {
                return Ok(Some(delivery));
            }
        }
        Ok(None)
    }

    /// How many deliveries of `webhook` are still to send.
    pub fn pending_count(&self, webhook: Ulid) -> usize {
        self.pending.scan_prefix(webhook.0.to_be_bytes()).count()
    }

    /// Forgets finished deliveries of `webhook` beyond the newest `keep` ones.
    pub fn prune(&self, webhook: Ulid, keep: usize) -> Result<usize> {
        let mut removed = 0;
        let entries = self.deliveries.scan_prefix(webhook.0.to_be_bytes()).rev().skip(keep);
        for entry in entries {
            let (k, _) = entry?;
            if !self.pending.contains_key(&k)? {
                self.deliveries.remove(&k)?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}
