//! Dataset streams in the sled backend: the `datasets` tree (stream id → dataset JSON) and the
//! transaction the writer runs for a dataset append, on the same trees and writer as media.

use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use ulid::Ulid;

use super::media::{append_events, record_idempotency};
use super::writer::{abort_err, Abort};
use super::{id_key, SledStore, Trees};
use crate::datasets::Dataset;
use crate::event::Envelope;
use crate::store::{AppendBatch, DatasetOutcome};
use crate::{Error, Result};

type TxResult<T> = Result<T, ConflictableTransactionError<Abort>>;

fn decode(bytes: &[u8]) -> Result<Dataset> {
    serde_json::from_slice(bytes).map_err(|source| Error::Corrupt {
        tree: "datasets",
        source,
    })
}

fn encode(set: &Dataset) -> TxResult<Vec<u8>> {
    serde_json::to_vec(set).map_err(|source| {
        abort_err(Error::Corrupt {
            tree: "datasets",
            source,
        })
    })
}

/// Appends a dataset batch in one multi-tree transaction (no flush: the writer flushes).
pub(super) fn transact_dataset(trees: &Trees, batch: &AppendBatch) -> Result<DatasetOutcome> {
    if batch.events.is_empty() || !batch.events.iter().all(|e| e.is_dataset()) {
        return Err(Error::invalid("events", "a dataset append needs dataset events only"));
    }
    let ids: Vec<Ulid> = batch.events.iter().map(|_| Ulid::new()).collect();
    let all = (
        &trees.events,
        &trees.stream_idx,
        &trees.meta,
        &trees.datasets,
        &trees.idempotency,
    );
    let result = sled::Transactional::transaction(&all, |(events, stream_idx, meta, datasets, idem)| {
        let key = id_key(batch.stream);
        let before = datasets.get(key)?.map(|b| decode(&b)).transpose().map_err(abort_err)?;
        let actual = before.as_ref().map_or(0, |d| d.version);
        if actual != batch.expected_version {
            let outcome = DatasetOutcome::VersionConflict { actual };
            return Err(ConflictableTransactionError::Abort(Abort::Dataset(Box::new(outcome))));
        }
        let stored = append_events(batch, &ids, actual, (events, stream_idx, meta))?;
        let after = stored.iter().fold(before, Dataset::apply).ok_or_else(|| {
            abort_err(Error::InvalidState {
                id: batch.stream,
                message: "a dataset stream's first event must be DatasetPut".into(),
            })
        })?;
        datasets.insert(&key, encode(&after)?)?;
        record_idempotency(idem, batch, after.version)?;
        Ok(DatasetOutcome::Appended {
            dataset: Box::new(after),
            events: stored,
        })
    });
    match result {
        Ok(outcome) => Ok(outcome),
        Err(TransactionError::Abort(Abort::Dataset(outcome))) => Ok(*outcome),
        Err(TransactionError::Abort(Abort::Error(e))) => Err(e),
        Err(TransactionError::Abort(_)) => Err(Error::invalid("events", "unexpected outcome")),
        Err(TransactionError::Storage(e)) => Err(Error::Sled(e)),
    }
}

/// Folds an imported dataset event into the `datasets` tree; `Err(message)` if it does not
/// continue its stream.
pub(super) fn import_dataset(datasets: &TransactionalTree, event: &Envelope) -> TxResult<Result<(), String>> {
    let key = id_key(event.stream);
    let before = datasets.get(key)?.map(|b| decode(&b)).transpose().map_err(abort_err)?;
    let version = before.as_ref().map_or(0, |d| d.version);
    if event.version != version + 1 {
        return Ok(Err(format!(
            "dataset {} is at version {version}, the event says {}",
            event.stream, event.version
        )));
    }
    let Some(after) = Dataset::apply(before, event) else {
        return Ok(Err(format!(
            "dataset {}'s first event must be DatasetPut",
            event.stream
        )));
    };
    datasets.insert(&key, encode(&after)?)?;
    Ok(Ok(()))
}

impl SledStore {
    pub(super) fn get_dataset(&self, id: Ulid) -> Result<Option<Dataset>> {
        self.trees.datasets.get(id_key(id))?.map(|b| decode(&b)).transpose()
    }

    pub(super) fn all_datasets(&self) -> Result<Vec<Dataset>> {
        self.trees.datasets.iter().map(|e| decode(&e?.1)).collect()
    }
}
