//! The single writer thread: applies appends in sled transactions and group-commits them.
//!
//! Callers queue a [`Job`] and block on its reply. The writer takes every job that is waiting,
//! applies them in multi-tree transactions (events, stream index, head, read model, idempotency
//! record): the single-post appends among them together in one, each other job in its own. Then
//! it flushes once for all of them and only then replies. A lone writer pays one flush per
//! append; many concurrent writers share flushes and transactions. A job marked
//! [`Job::deferred`] is answered before the flush, once applied: its caller waits for the
//! writer's round to be durable itself, without a thread ([`crate::durability`]), and the
//! thread goes on to its next command while the flush runs. (The flush cannot overlap the next
//! round's transaction: sled's flush holds its concurrency-control read lock until the data is
//! on disk, and a transaction needs that lock exclusively.) Being the only writer also makes the
//! gap-free `seq` counter trivial: it lives in the `meta` tree and moves inside the same
//! transaction as the events.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use tokio::sync::watch;
use ulid::Ulid;

use super::media::{plan_events, record_idempotency, write_events};
use super::{id_key, index_keys, read_u64, Trees, HEAD_KEY};
use crate::durability::Rounds;
use crate::event::Envelope;
use crate::post::Post;
use crate::store::{AppendBatch, AppendOutcome, DatasetOutcome, MediaOutcome};
use crate::{Error, Result};

pub(crate) struct Job {
    /// One batch, or for [`Reply::Posts`] the batches appended all or none.
    pub(crate) batches: Vec<AppendBatch>,
    pub(crate) reply: Reply,
    /// Answer as soon as the append is applied, before it is durable: the caller waits for the
    /// writer's round to be durable itself ([`crate::durability::settled`]). Only single post
    /// appends (`Store::append`) defer.
    pub(crate) deferred: bool,
}

/// Where a job's answer goes: posts and media streams are folded into different read models.
pub(crate) enum Reply {
    Post(mpsc::SyncSender<Result<AppendOutcome>>),
    Media(mpsc::SyncSender<Result<MediaOutcome>>),
    Posts(mpsc::SyncSender<Result<Vec<AppendOutcome>>>),
    Dataset(mpsc::SyncSender<Result<DatasetOutcome>>),
    /// An import's post and media batches, all or none.
    Import(mpsc::SyncSender<Result<ImportResult>>),
}

/// A single post append waiting in a group: where its answer goes, its batch, and whether it
/// is answered before the flush.
type PostAppend = (mpsc::SyncSender<Result<AppendOutcome>>, AppendBatch, bool);

/// What an import append came to: every envelope, or the batch refused and why.
pub(crate) type ImportResult = std::result::Result<Vec<Envelope>, (usize, AppendOutcome)>;

/// An applied job waiting for the flush.
enum Done {
    /// Boxed: a post outcome carries the whole post, far larger than a media one. The flag:
    /// answered before the flush ([`Job::deferred`]).
    Post(
        mpsc::SyncSender<Result<AppendOutcome>>,
        Box<Result<AppendOutcome>>,
        bool,
    ),
    Media(mpsc::SyncSender<Result<MediaOutcome>>, Result<MediaOutcome>),
    Posts(mpsc::SyncSender<Result<Vec<AppendOutcome>>>, Result<Vec<AppendOutcome>>),
    Dataset(mpsc::SyncSender<Result<DatasetOutcome>>, Result<DatasetOutcome>),
    /// Boxed: a refusal carries a post outcome.
    Import(mpsc::SyncSender<Result<ImportResult>>, Box<Result<ImportResult>>),
}

impl Done {
    /// Answers the caller: the result if the flush succeeded, its error otherwise.
    fn send(self, flushed: &sled::Result<usize>) {
        let failed = |e: &sled::Error| Error::Sled(e.clone());
        // A caller that gave up waiting is not an error here.
        match self {
            Done::Post(reply, result, _) => {
                let _ = reply.send(flushed.as_ref().map_err(failed).and(*result));
            }
            Done::Media(reply, result) => {
                let _ = reply.send(flushed.as_ref().map_err(failed).and(result));
            }
            Done::Posts(reply, result) => {
                let _ = reply.send(flushed.as_ref().map_err(failed).and(result));
            }
            Done::Dataset(reply, result) => {
                let _ = reply.send(flushed.as_ref().map_err(failed).and(result));
            }
            Done::Import(reply, result) => {
                let _ = reply.send(flushed.as_ref().map_err(failed).and(*result));
            }
        }
    }
}

pub(crate) struct Writer {
    pub(crate) db: sled::Db,
    pub(crate) trees: Trees,
    pub(crate) rx: mpsc::Receiver<Job>,
    pub(crate) head_tx: watch::Sender<u64>,
    pub(crate) durable_head: Arc<AtomicU64>,
    pub(crate) flushes: Arc<AtomicU64>,
    /// Which of the writer's rounds were applied, made durable, failed ([`crate::durability`]).
    pub(crate) rounds: Arc<Rounds>,
    pub(crate) max_batch: usize,
}

pub(crate) fn spawn(writer: Writer) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("quire-log-writer".into())
        .spawn(move || writer.run())
}

impl Writer {
    fn run(&self) {
        while let Ok(first) = self.rx.recv() {
            // Begun before anything is applied: whoever sees this round's writes sees its number.
            let round = self.rounds.begin();
            let mut jobs = vec![first];
            let mut done = Vec::new();
            // Take whatever queued up meanwhile, including jobs sent while the last ones applied.
            loop {
                while done.len() + jobs.len() < self.max_batch {
                    match self.rx.try_recv() {
                        Ok(job) => jobs.push(job),
                        Err(_) => break,
                    }
                }
                if jobs.is_empty() {
                    break;
                }
                self.apply_all(std::mem::take(&mut jobs), &mut done);
            }
            // Deferred appends are answered before the flush: their callers wait for the round
            // without a thread, and their threads go on to the next commands meanwhile.
            let (now, later): (Vec<Done>, Vec<Done>) =
                done.into_iter().partition(|d| matches!(d, Done::Post(_, _, true)));
            for job in now {
                job.send(&Ok(0));
            }
            let flushed = self.db.flush();
            self.flushes.fetch_add(1, Ordering::Relaxed);
            // The head moves before the round is marked durable: a caller whose round is
            // durable reads its own appends at once (reads stop at the durable head).
            if flushed.is_ok() {
                let head = read_u64(self.trees.meta.get(HEAD_KEY).ok().flatten());
                self.durable_head.store(head, Ordering::Release);
            }
            self.rounds.flushed(round, flushed.is_ok());
            // Always sent, also when the head did not move: it wakes the callers waiting for
            // their round ([`crate::durability::settled`]), who see it durable or failed.
            self.head_tx.send_replace(self.durable_head.load(Ordering::Acquire));
            for job in later {
                job.send(&flushed);
            }
        }
    }

    /// Applies `jobs` in order. Runs of single post appends share one transaction (the write
    /// path's commonest job; a transaction per append cost more than the appends themselves);
    /// every other job has its own.
    fn apply_all(&self, jobs: Vec<Job>, done: &mut Vec<Done>) {
        let mut group = Vec::new();
        for job in jobs {
            match job {
                Job {
                    reply: Reply::Post(reply),
                    batches,
                    deferred,
                } if batches.len() == 1 && batches.iter().all(|b| !b.events.is_empty()) => {
                    if let Some(batch) = batches.into_iter().next() {
                        group.push((reply, batch, deferred));
                    }
                }
                job => {
                    self.apply_group(std::mem::take(&mut group), done);
                    done.push(self.apply(job));
                }
            }
        }
        self.apply_group(group, done);
    }

    /// Single post appends in one transaction, each with its own outcome: a refused one (a stale
    /// version, a taken slug) writes nothing and the others go on. If the transaction fails as a
    /// whole (a corrupt record, a storage error), each is applied alone, so only the failing one
    /// fails.
    fn apply_group(&self, group: Vec<PostAppend>, done: &mut Vec<Done>) {
        let alone = |(reply, batch, deferred): PostAppend| Job {
            batches: vec![batch],
            reply: Reply::Post(reply),
            deferred,
        };
        if group.len() < 2 {
            done.extend(group.into_iter().map(|append| self.apply(alone(append))));
            return;
        }
        let batches: Vec<&AppendBatch> = group.iter().map(|(_, batch, _)| batch).collect();
        match self.transact_posts(&batches, Refused::Alone) {
            Ok(outcomes) => {
                for ((reply, _, deferred), outcome) in group.into_iter().zip(outcomes) {
                    done.push(Done::Post(reply, Box::new(Ok(outcome)), deferred));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, appends = group.len(), "a grouped append failed; applying them one by one");
                done.extend(group.into_iter().map(|append| self.apply(alone(append))));
            }
        }
    }

    fn apply(&self, job: Job) -> Done {
        let stream = job.batches.first().map(|b| b.stream).unwrap_or_default();
        match job.reply {
            Reply::Post(reply) => {
                let result = self.transact(&job.batches).and_then(|mut outcomes| {
                    outcomes
                        .pop()
                        .ok_or_else(|| Error::invalid("events", "an append needs one batch"))
                });
                Done::Post(reply, Box::new(logged(stream, result)), job.deferred)
            }
            Reply::Media(reply) => {
                let result = match job.batches.first() {
                    Some(batch) => super::media::transact_media(&self.trees, batch),
                    None => Err(Error::invalid("events", "an append needs one batch")),
                };
                Done::Media(reply, logged(stream, result))
            }
            Reply::Posts(reply) => Done::Posts(reply, logged(stream, self.transact(&job.batches))),
            Reply::Dataset(reply) => {
                let result = match job.batches.first() {
                    Some(batch) => super::datasets::transact_dataset(&self.trees, batch),
                    None => Err(Error::invalid("events", "an append needs one batch")),
                };
                Done::Dataset(reply, logged(stream, result))
            }
            Reply::Import(reply) => Done::Import(reply, Box::new(logged(stream, self.transact_import(&job.batches)))),
        }
    }

    /// Applies an import's batches, posts' and media's, in one transaction: all, or none and
    /// the first refused batch with its outcome.
    fn transact_import(&self, batches: &[AppendBatch]) -> Result<ImportResult> {
        if batches.iter().any(|b| b.events.is_empty()) {
            return Err(Error::invalid("events", "an append needs at least one event"));
        }
        if batches.is_empty() {
            return Ok(Ok(Vec::new()));
        }
        let ids: Vec<Vec<Ulid>> = batches
            .iter()
            .map(|b| b.events.iter().map(|_| Ulid::new()).collect())
            .collect();
        let t = &self.trees;
        let trees = (
            &t.events,
            &t.stream_idx,
            &t.meta,
            &t.posts,
            &t.slugs,
            &t.post_idx,
            &t.idempotency,
            &t.media,
        );
        // Which batch aborted (set by the closure's last run before it aborts).
        let refused = std::cell::Cell::new(0);
        let result = sled::Transactional::transaction(
            &trees,
            |(events, stream_idx, meta, posts, slugs, post_idx, idem, media)| {
                let mut stored = Vec::new();
                for (n, (batch, ids)) in batches.iter().zip(&ids).enumerate() {
                    if batch.events.iter().all(crate::event::EventPayload::is_media) {
                        let tx = (events, stream_idx, meta, media, idem);
                        match super::media::append_media_in(tx, batch, ids)? {
                            MediaOutcome::Appended { events, .. } => stored.extend(events),
                            MediaOutcome::VersionConflict { actual } => {
                                refused.set(n);
                                return abort(AppendOutcome::VersionConflict { actual, current: None });
                            }
                        }
                    } else {
                        let tx = (
                            events.clone(),
                            stream_idx.clone(),
                            meta.clone(),
                            posts.clone(),
                            slugs.clone(),
                            post_idx.clone(),
                            idem.clone(),
                        );
                        match append_post(&tx, batch, ids)? {
                            AppendOutcome::Appended { events, .. } => stored.extend(events),
                            outcome => {
                                refused.set(n);
                                return abort(outcome);
                            }
                        }
                    }
                }
                Ok(stored)
            },
        );
        match result {
            Ok(stored) => Ok(Ok(stored)),
            Err(TransactionError::Abort(Abort::Outcome(outcome))) => Ok(Err((refused.get(), *outcome))),
            Err(TransactionError::Abort(Abort::Error(e))) => Err(e),
            Err(TransactionError::Abort(Abort::Media(_) | Abort::Dataset(_))) => {
                Err(Error::invalid("events", "unexpected outcome in an import"))
            }
            Err(TransactionError::Storage(e)) => Err(Error::Sled(e)),
        }
    }

    /// Applies `batches` in one multi-tree transaction (events, stream index, head, read model,
    /// idempotency records): every batch is appended, or, at the first that is not, nothing is
    /// and that outcome alone is returned.
    fn transact(&self, batches: &[AppendBatch]) -> Result<Vec<AppendOutcome>> {
        if batches.is_empty() || batches.iter().any(|b| b.events.is_empty()) {
            return Err(Error::invalid("events", "an append needs at least one event"));
        }
        let batches: Vec<&AppendBatch> = batches.iter().collect();
        self.transact_posts(&batches, Refused::AbortsAll)
    }

    /// Applies post `batches` in one transaction, one outcome each; what a refused batch does is
    /// `refused`'s choice.
    fn transact_posts(&self, batches: &[&AppendBatch], refused: Refused) -> Result<Vec<AppendOutcome>> {
        // Ids are made outside the closure: sled may run it more than once.
        let ids: Vec<Vec<Ulid>> = batches
            .iter()
            .map(|b| b.events.iter().map(|_| Ulid::new()).collect())
            .collect();
        let t = &self.trees;
        let trees = (
            &t.events,
            &t.stream_idx,
            &t.meta,
            &t.posts,
            &t.slugs,
            &t.post_idx,
            &t.idempotency,
        );
        let result = sled::Transactional::transaction(&trees, |trees| {
            let mut outcomes = Vec::with_capacity(batches.len());
            for (batch, ids) in batches.iter().zip(&ids) {
                match append_post(trees, batch, ids)? {
                    outcome @ AppendOutcome::Appended { .. } => outcomes.push(outcome),
                    outcome if refused == Refused::AbortsAll => return abort(outcome),
                    outcome => outcomes.push(outcome),
                }
            }
            Ok(outcomes)
        });
        match result {
            Ok(outcomes) => Ok(outcomes),
            Err(TransactionError::Abort(Abort::Outcome(outcome))) => Ok(vec![*outcome]),
            Err(TransactionError::Abort(Abort::Error(e))) => Err(e),
            Err(TransactionError::Abort(Abort::Media(_) | Abort::Dataset(_))) => {
                Err(Error::invalid("events", "unexpected media or dataset outcome"))
            }
            Err(TransactionError::Storage(e)) => Err(Error::Sled(e)),
        }
    }
}

/// What a refused batch (a stale version, a taken slug) does to the others in its transaction.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Refused {
    /// Nothing is written and its outcome is the only one (the batches of one request).
    AbortsAll,
    /// It alone writes nothing ([`append_post`] checks before it writes); the others go on (the
    /// independent appends of a group).
    Alone,
}

/// The trees a post append writes: events, stream index, meta, posts, slugs, post index,
/// idempotency.
type PostTrees = (
    TransactionalTree,
    TransactionalTree,
    TransactionalTree,
    TransactionalTree,
    TransactionalTree,
    TransactionalTree,
    TransactionalTree,
);

/// `result`, with a failure logged.
fn logged<T>(stream: Ulid, result: Result<T>) -> Result<T> {
    if let Err(e) = &result {
        tracing::error!(%stream, error = %e, "append failed");
    }
    result
}

/// One post batch inside the writer's transaction; a conflict is an outcome, not an abort.
/// Everything that can refuse the batch is checked before anything is written, so a refused
/// batch leaves the transaction as it found it (the writer's group transaction relies on it).
fn append_post(
    (events, stream_idx, meta, posts, slugs, post_idx, idem): &PostTrees,
    batch: &AppendBatch,
    ids: &[Ulid],
) -> Result<AppendOutcome, ConflictableTransactionError<Abort>> {
    let key = id_key(batch.stream);
    let before = posts
        .get(key)?
        .map(|b| decode_post(&b))
        .transpose()
        .map_err(abort_err)?;
    let actual = before.as_ref().map_or(0, |p| p.version);
    if actual != batch.expected_version {
        return Ok(AppendOutcome::VersionConflict {
            actual,
            current: before,
        });
    }
    let head = read_u64(meta.get(HEAD_KEY)?);
    let stored = plan_events(batch, ids, actual, head);
    let after = stored.iter().fold(before.clone(), Post::apply).ok_or_else(|| {
        abort_err(Error::InvalidState {
            id: batch.stream,
            message: "a post's first event must be PostCreated".into(),
        })
    })?;
    if let Some(outcome) = slug_taken(slugs, before.as_ref(), &after)? {
        return Ok(outcome);
    }
    write_events(&stored, (events, stream_idx, meta))?;
    move_slug(slugs, before.as_ref(), &after)?;
    for k in before.iter().flat_map(index_keys) {
        post_idx.remove(k)?;
    }
    for k in index_keys(&after) {
        post_idx.insert(k, &[])?;
    }
    let json = serde_json::to_vec(&after).map_err(|source| abort_err(Error::Corrupt { tree: "posts", source }))?;
    posts.insert(&key, json)?;
    record_idempotency(idem, batch, after.version)?;
    Ok(AppendOutcome::Appended {
        post: after,
        events: stored,
    })
}

/// Moves the slug claim from `before` to `after`; `Some(SlugTaken)` when another post has it
/// (and nothing is moved).
pub(super) fn update_slugs(
    slugs: &TransactionalTree,
    before: Option<&Post>,
    after: &Post,
) -> Result<Option<AppendOutcome>, ConflictableTransactionError<Abort>> {
    if let Some(taken) = slug_taken(slugs, before, after)? {
        return Ok(Some(taken));
    }
    move_slug(slugs, before, after)?;
    Ok(None)
}

/// The slugs a change moves: the live post's slug before and after (`None` when not live).
fn claims<'a>(before: Option<&'a Post>, after: &'a Post) -> (Option<&'a str>, Option<&'a str>) {
    let old = before.filter(|p| p.is_live()).map(|p| p.slug.as_str());
    let new = after.is_live().then_some(after.slug.as_str());
    (old, new)
}

/// `Some(SlugTaken)` when `after` claims a slug another post holds.
fn slug_taken(
    slugs: &TransactionalTree,
    before: Option<&Post>,
    after: &Post,
) -> Result<Option<AppendOutcome>, ConflictableTransactionError<Abort>> {
    let (old, new) = claims(before, after);
    if old == new {
        return Ok(None);
    }
    if let Some(slug) = new {
        if let Some(owner) = slugs.get(slug)? {
            let owner = super::ulid_suffix(&owner).unwrap_or_default();
            if owner != after.id {
                return Ok(Some(AppendOutcome::SlugTaken {
                    slug: slug.to_owned(),
                    owner,
                }));
            }
        }
    }
    Ok(None)
}

/// Moves the claim (after [`slug_taken`] said the new slug is free).
fn move_slug(
    slugs: &TransactionalTree,
    before: Option<&Post>,
    after: &Post,
) -> Result<(), ConflictableTransactionError<Abort>> {
    let (old, new) = claims(before, after);
    if old == new {
        return Ok(());
    }
    if let Some(slug) = old {
        slugs.remove(slug)?;
    }
    if let Some(slug) = new {
        slugs.insert(slug, &id_key(after.id))?;
    }
    Ok(())
}

pub(super) enum Abort {
    Outcome(Box<AppendOutcome>),
    Media(Box<MediaOutcome>),
    Dataset(Box<DatasetOutcome>),
    Error(Error),
}

fn abort<T>(outcome: AppendOutcome) -> Result<T, ConflictableTransactionError<Abort>> {
    Err(ConflictableTransactionError::Abort(Abort::Outcome(Box::new(outcome))))
}

pub(super) fn abort_err(e: Error) -> ConflictableTransactionError<Abort> {
    ConflictableTransactionError::Abort(Abort::Error(e))
}

pub(super) fn decode_post(bytes: &[u8]) -> Result<Post> {
    serde_json::from_slice(bytes).map_err(|source| Error::Corrupt { tree: "posts", source })
}
