//! Importing events that were made elsewhere: an export, a backup, or the events read back from
//! git. Unlike `append`, nothing is decided here: seq, id, stream, version, actor, time and
//! idempotency key stay the original ones, and the read model is folded from them with
//! [`Post::apply`], as the writer does.
//!
//! Only an empty log takes an import, and each event must continue it (seq `head + 1`, its
//! stream's next version, a first event that creates the post or uploads the media, a slug no
//! other live post holds), so the result is a log that appends could have written. Events go in batches, each
//! one multi-tree transaction (events, stream index, read model, head) flushed before the next;
//! an import that stops half-way leaves a prefix of the log, never a torn event.

use std::sync::atomic::Ordering;

use sled::transaction::TransactionError;
use sled::Transactional as _;

use super::writer::{abort_err, decode_post, update_slugs, Abort};
use super::{id_key, index_keys, read_u64, SledStore, HEAD_KEY};
use crate::event::Envelope;
use crate::post::Post;
use crate::store::{AppendOutcome, Store as _};
use crate::{Error, Result};

/// Events per transaction and flush.
const BATCH: usize = 256;

impl SledStore {
    /// Appends `events` (in seq order, from seq 1) with their original envelopes to this empty
    /// log; calls `progress(imported)` after each durable batch and returns how many were imported.
    pub fn import(&self, events: impl IntoIterator<Item = Envelope>, progress: &mut dyn FnMut(u64)) -> Result<u64> {
        let head = self.head();
        if head != 0 || !self.trees.events.is_empty() {
            return Err(Error::Import {
                seq: head + 1,
                message: format!("the event log already holds {head} events; import only into an empty data folder"),
            });
        }
        let mut batch = Vec::with_capacity(BATCH);
        let mut imported = 0;
        for event in events {
            batch.push(event);
            if batch.len() == BATCH {
                imported = self.import_batch(&batch)?;
                batch.clear();
                progress(imported);
            }
        }
        if !batch.is_empty() {
            imported = self.import_batch(&batch)?;
            progress(imported);
        }
        Ok(imported)
    }

    /// Writes one batch in one transaction, flushes, and moves the durable head; returns it.
    fn import_batch(&self, batch: &[Envelope]) -> Result<u64> {
        let t = &self.trees;
        let trees = (
            &t.events,
            &t.stream_idx,
            &t.meta,
            &t.posts,
            &t.slugs,
            &t.post_idx,
            &t.media,
            &t.datasets,
        );
        let result = trees.transaction(|(events, stream_idx, meta, posts, slugs, post_idx, media, datasets)| {
            let mut head = read_u64(meta.get(HEAD_KEY)?);
            for event in batch {
                let refuse = |message: String| {
                    abort_err(Error::Import {
                        seq: event.seq,
                        message,
                    })
                };
                if event.seq != head + 1 {
                    return Err(refuse(format!(
                        "expected seq {}: the events are not a gap-free log",
                        head + 1
                    )));
                }
                if event.payload.is_dataset() {
                    if let Err(message) = super::datasets::import_dataset(datasets, event)? {
                        return Err(refuse(message));
                    }
                    super::media::insert_event(events, stream_idx, event)?;
                    head = event.seq;
                    continue;
                }
                if event.payload.is_media() {
                    if let Err(message) = super::media::import_media(media, event)? {
                        return Err(refuse(message));
                    }
                    super::media::insert_event(events, stream_idx, event)?;
                    head = event.seq;
                    continue;
                }
                let key = id_key(event.stream);
                let before = posts
                    .get(key)?
                    .map(|b| decode_post(&b))
                    .transpose()
                    .map_err(abort_err)?;
                let version = before.as_ref().map_or(0, |p| p.version);
                if event.version != version + 1 {
                    return Err(refuse(format!(
                        "post {} is at version {version}, the event says {}",
                        event.stream, event.version
                    )));
                }
                let after = Post::apply(before.clone(), event)
                    .ok_or_else(|| refuse(format!("post {}'s first event must be PostCreated", event.stream)))?;
                if let Some(AppendOutcome::SlugTaken { slug, owner }) = update_slugs(slugs, before.as_ref(), &after)? {
                    return Err(refuse(format!("slug {slug:?} is held by live post {owner}")));
                }
                for k in before.iter().flat_map(index_keys) {
                    post_idx.remove(k)?;
                }
                for k in index_keys(&after) {
                    post_idx.insert(k, &[])?;
                }
                let corrupt = |tree| move |source| abort_err(Error::Corrupt { tree, source });
                posts.insert(&key, serde_json::to_vec(&after).map_err(corrupt("posts"))?)?;
                let json = serde_json::to_vec(event).map_err(corrupt("events"))?;
                events.insert(&event.seq.to_be_bytes(), json)?;
                let mut idx = key.to_vec();
                idx.extend_from_slice(&event.version.to_be_bytes());
                stream_idx.insert(idx, &event.seq.to_be_bytes())?;
                head = event.seq;
            }
            meta.insert(HEAD_KEY, &head.to_be_bytes())?;
            Ok(head)
        });
        let head = match result {
            Ok(head) => head,
            Err(TransactionError::Abort(Abort::Error(e))) => return Err(e),
            Err(TransactionError::Abort(Abort::Outcome(_) | Abort::Media(_) | Abort::Dataset(_))) => {
                return Err(Error::Import {
                    seq: batch.first().map_or(0, |e| e.seq),
                    message: "unexpected append outcome".into(),
                })
            }
            Err(TransactionError::Storage(e)) => return Err(Error::Sled(e)),
        };
        self.db.flush()?;
        self.durable_head.store(head, Ordering::Release);
        self.head_tx.send_replace(head);
        Ok(head)
    }
}
