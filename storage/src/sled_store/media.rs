//! Media streams in the sled backend: the `media` tree (id → media JSON) and the transaction
//! the writer runs for a media append. Events, stream index, head and idempotency records are
//! the same trees posts use, so media appends share the writer, its group commit and backups.

use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use ulid::Ulid;

use super::writer::{abort_err, Abort};
use super::{id_key, newest_first, read_u64, SledStore, Trees, HEAD_KEY};
use crate::event::Envelope;
use crate::media::{Media, MediaQuery};
use crate::store::{AppendBatch, MediaOutcome};
use crate::{Error, Result};

type TxResult<T> = Result<T, ConflictableTransactionError<Abort>>;

pub(super) fn decode_media(bytes: &[u8]) -> Result<Media> {
    serde_json::from_slice(bytes).map_err(|source| Error::Corrupt { tree: "media", source })
}

fn corrupt(tree: &'static str) -> impl Fn(serde_json::Error) -> ConflictableTransactionError<Abort> {
    move |source| abort_err(Error::Corrupt { tree, source })
}

/// Appends a media batch in one multi-tree transaction (no flush: the writer flushes).
pub(super) fn transact_media(trees: &Trees, batch: &AppendBatch) -> Result<MediaOutcome> {
    if batch.events.is_empty() || !batch.events.iter().all(|e| e.is_media()) {
        return Err(Error::invalid("events", "a media append needs media events only"));
    }
    let ids: Vec<Ulid> = batch.events.iter().map(|_| Ulid::new()).collect();
    let all = (
        &trees.events,
        &trees.stream_idx,
        &trees.meta,
        &trees.media,
        &trees.idempotency,
    );
    let result =
        sled::Transactional::transaction(&all, |(events, stream_idx, meta, media, idem)| {
            match append_media_in((events, stream_idx, meta, media, idem), batch, &ids)? {
                outcome @ MediaOutcome::Appended { .. } => Ok(outcome),
                outcome => Err(ConflictableTransactionError::Abort(Abort::Media(Box::new(outcome)))),
            }
        });
    match result {
        Ok(outcome) => Ok(outcome),
        Err(TransactionError::Abort(Abort::Media(outcome))) => Ok(*outcome),
        Err(TransactionError::Abort(Abort::Error(e))) => Err(e),
        Err(TransactionError::Abort(Abort::Outcome(_) | Abort::Dataset(_))) => {
            Err(Error::invalid("events", "unexpected post or dataset outcome"))
        }
        Err(TransactionError::Storage(e)) => Err(Error::Sled(e)),
    }
}

/// One media batch inside a transaction (the writer's for media appends, or an import's); a
/// version conflict is an outcome for the caller to abort with.
pub(super) fn append_media_in(
    (events, stream_idx, meta, media, idem): (
        &TransactionalTree,
        &TransactionalTree,
        &TransactionalTree,
        &TransactionalTree,
        &TransactionalTree,
    ),
    batch: &AppendBatch,
    ids: &[Ulid],
) -> TxResult<MediaOutcome> {
    let key = id_key(batch.stream);
    let before = media
        .get(key)?
        .map(|b| decode_media(&b))
        .transpose()
        .map_err(abort_err)?;
    let actual = before.as_ref().map_or(0, |m| m.version);
    if actual != batch.expected_version {
        return Ok(MediaOutcome::VersionConflict { actual });
    }
    let stored = append_events(batch, ids, actual, (events, stream_idx, meta))?;
    let after = stored.iter().fold(before, Media::apply).ok_or_else(|| {
        abort_err(Error::InvalidState {
            id: batch.stream,
            message: "a media stream's first event must be MediaUploaded".into(),
        })
    })?;
    media.insert(&key, serde_json::to_vec(&after).map_err(corrupt("media"))?)?;
    record_idempotency(idem, batch, after.version)?;
    Ok(MediaOutcome::Appended {
        media: Box::new(after),
        events: stored,
    })
}

/// Writes `batch`'s events after the log's head as versions `actual + 1…` of its stream (each
/// with its index entry) and moves the head: the part of an append that every stream kind
/// shares. Returns the envelopes.
pub(super) fn append_events(
    batch: &AppendBatch,
    ids: &[Ulid],
    actual: u64,
    (events, stream_idx, meta): (&TransactionalTree, &TransactionalTree, &TransactionalTree),
) -> TxResult<Vec<Envelope>> {
    let head = read_u64(meta.get(HEAD_KEY)?);
    let stored = plan_events(batch, ids, actual, head);
    write_events(&stored, (events, stream_idx, meta))?;
    Ok(stored)
}

/// The envelopes `batch`'s events get after the log's `head`, as versions `actual + 1…` of
/// its stream; nothing is written.
pub(super) fn plan_events(batch: &AppendBatch, ids: &[Ulid], actual: u64, head: u64) -> Vec<Envelope> {
    (1..)
        .zip(batch.events.iter().zip(ids))
        .map(|(n, (payload, id))| Envelope {
            seq: head + n,
            id: *id,
            stream: batch.stream,
            version: actual + n,
            actor: batch.actor.clone(),
            at: batch.at,
            idempotency_key: batch.idempotency.as_ref().map(|i| i.key.clone()),
            origin: batch.origin.clone(),
            payload: payload.clone(),
        })
        .collect()
}

/// Writes envelopes [`plan_events`] made (each with its index entry) and moves the head to the
/// last one's seq.
pub(super) fn write_events(
    stored: &[Envelope],
    (events, stream_idx, meta): (&TransactionalTree, &TransactionalTree, &TransactionalTree),
) -> TxResult<()> {
    for env in stored {
        insert_event(events, stream_idx, env)?;
    }
    if let Some(last) = stored.last() {
        meta.insert(HEAD_KEY, &last.seq.to_be_bytes())?;
    }
    Ok(())
}

/// Stores the request's idempotency record (if it carried a key) naming the stream's new
/// `version`, in the same transaction as the events.
pub(super) fn record_idempotency(idem: &TransactionalTree, batch: &AppendBatch, version: u64) -> TxResult<()> {
    if let Some(write) = &batch.idempotency {
        let mut record = write.record.clone();
        record.stream = batch.stream;
        record.version = version;
        idem.insert(
            write.scope.as_slice(),
            serde_json::to_vec(&record).map_err(corrupt("idempotency"))?,
        )?;
    }
    Ok(())
}

/// Stores an envelope and its stream index entry.
pub(super) fn insert_event(events: &TransactionalTree, stream_idx: &TransactionalTree, env: &Envelope) -> TxResult<()> {
    events.insert(
        &env.seq.to_be_bytes(),
        serde_json::to_vec(env).map_err(corrupt("events"))?,
    )?;
    let mut idx = id_key(env.stream).to_vec();
    idx.extend_from_slice(&env.version.to_be_bytes());
    stream_idx.insert(idx, &env.seq.to_be_bytes())?;
    Ok(())
}

/// Folds an imported media event into the `media` tree; `Err(message)` if it does not continue
/// its stream.
pub(super) fn import_media(media: &TransactionalTree, event: &Envelope) -> TxResult<Result<(), String>> {
    let key = id_key(event.stream);
    let before = media
        .get(key)?
        .map(|b| decode_media(&b))
        .transpose()
        .map_err(abort_err)?;
    let version = before.as_ref().map_or(0, |m| m.version);
    if event.version != version + 1 {
        return Ok(Err(format!(
            "media {} is at version {version}, the event says {}",
            event.stream, event.version
        )));
    }
    let Some(after) = Media::apply(before, event) else {
        return Ok(Err(format!(
            "media {}'s first event must be MediaUploaded",
            event.stream
        )));
    };
    media.insert(&key, serde_json::to_vec(&after).map_err(corrupt("media"))?)?;
    Ok(Ok(()))
}

impl SledStore {
    pub(super) fn get_media(&self, id: Ulid) -> Result<Option<Media>> {
        self.trees.media.get(id_key(id))?.map(|b| decode_media(&b)).transpose()
    }

    pub(super) fn media_page(&self, query: &MediaQuery) -> Result<Vec<Media>> {
        let mut out = Vec::new();
        for entry in newest_first(&self.trees.media, &[], query.after) {
            let media = decode_media(&entry?.1)?;
            let hidden = query.uploader.as_ref().is_some_and(|u| *u != media.uploader);
            if !media.is_live() || hidden {
                continue;
            }
            out.push(media);
            if out.len() >= query.limit {
                break;
            }
        }
        Ok(out)
    }
}
