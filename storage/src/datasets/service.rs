//! Dataset commands and queries: the rules on top of the [`Store`] and the content-addressed
//! store of the media work ([`MediaBlobs`], files `<hash>.csv`).
//!
//! Rights come first, as for posts: changing needs `posts:write`, and publishing (or changing a
//! published dataset) `posts:publish`; authors and contributors change their own datasets only,
//! editors and admins everyone's. Reading needs `posts:read`; a draft is seen by its owner,
//! editors and admins only, and is reported missing to everyone else.

use std::sync::Arc;

use ulid::Ulid;

use super::model::{stream_of, valid_name, Chart, Dataset, DatasetMeta, DatasetStatus};
use super::refresh::Refresh;
use super::table::{self, Format, TableLimits};
use crate::access::{Actor, Scope};
use crate::event::{Envelope, EventPayload};
use crate::media::MediaBlobs;
use crate::posts::{Clock, IfMatch};
use crate::store::{AppendBatch, DatasetOutcome, IdempotencyWrite, Store};
use crate::{Error, Result};

/// Longest title, in characters.
pub const MAX_TITLE_LEN: usize = 200;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_LEN: usize = 100_000;

/// A change of metadata; `None` leaves a field as it is (`Some(None)` clears it).
#[derive(Debug, Clone, Default)]
pub struct MetaPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub status: Option<DatasetStatus>,
    pub chart: Option<Option<Chart>>,
    pub source_url: Option<Option<String>>,
    pub refresh: Option<Option<String>>,
}

/// New data for a dataset.
#[derive(Debug, Clone, Copy)]
pub struct NewData<'a> {
    pub body: &'a [u8],
    pub format: Format,
    /// `If-Match`, when the request had one (a put without it replaces whatever is there).
    pub expected: Option<&'a IfMatch>,
    /// Set by the scheduled fetch.
    pub fetched_from: Option<&'a str>,
}

/// The dataset service.
#[derive(Clone)]
pub struct DatasetService {
    store: Arc<dyn Store>,
    blobs: MediaBlobs,
    limits: TableLimits,
    clock: Clock,
}

impl std::fmt::Debug for DatasetService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatasetService").finish_non_exhaustive()
    }
}

fn not_found(name: &str) -> Error {
    Error::DatasetNotFound { name: name.to_owned() }
}

impl DatasetService {
    /// Datasets over `store`, with CSV files in `blobs`.
    pub fn new(store: Arc<dyn Store>, blobs: MediaBlobs, limits: TableLimits, clock: Clock) -> Self {
        Self {
            store,
            blobs,
            limits,
            clock,
        }
    }

    /// The bytes store.
    pub fn blobs(&self) -> &MediaBlobs {
        &self.blobs
    }

    /// The size limits.
    pub fn limits(&self) -> &TableLimits {
        &self.limits
    }

    /// Fails unless `actor` may change datasets at all; checked before a body is read.
    pub fn check_may_write(&self, actor: &Actor) -> Result<()> {
        actor.require(Scope::PostsWrite)
    }

    /// Creates or replaces the data of `name`; returns the dataset and whether it was created
    /// (or brought back after a delete). The same data again appends nothing.
    pub fn put(
        &self,
        actor: &Actor,
        name: &str,
        data: NewData<'_>,
        idem: Option<IdempotencyWrite>,
    ) -> Result<(Dataset, bool)> {
        self.check_may_write(actor)?;
        if !valid_name(name) {
            return Err(Error::invalid(
                "name",
                "a dataset name is 1 to 64 of a-z, 0-9, '-' and '_', starting with a letter or digit",
            ));
        }
        let current = self.store.dataset(stream_of(name))?;
        if let Some(set) = &current {
            // Rights first: another user's name is only "taken" — a draft or deleted dataset
            // answers exactly as a published one, so nothing hidden is disclosed.
            if !owns_or_edits(actor, set) {
                return Err(Error::DatasetNameTaken { name: name.to_owned() });
            }
            check_may_change(actor, set)?;
        }
        // Bad data is told before a stale `If-Match`, as for posts.
        let table = table::read(data.body, data.format, &self.limits)?;
        check_version(name, current.as_ref(), data.expected)?;
        let hash = self.blobs.put(&table.csv, "csv")?;
        let live = current.as_ref().filter(|d| d.is_live());
        if let Some(set) = live.filter(|d| d.hash == hash) {
            return Ok((set.clone(), false));
        }
        let event = EventPayload::DatasetPut {
            name: name.to_owned(),
            hash,
            bytes: table.csv.len() as u64,
            rows: table.rows,
            columns: table.columns,
            fetched_from: data.fetched_from.map(str::to_owned),
        };
        let created = live.is_none();
        let version = current.as_ref().map_or(0, |d| d.version);
        Ok((self.commit(name, version, actor, idem, event)?, created))
    }

    /// Changes the metadata.
    pub fn patch(
        &self,
        actor: &Actor,
        name: &str,
        expected: &IfMatch,
        patch: MetaPatch,
        idem: Option<IdempotencyWrite>,
    ) -> Result<Dataset> {
        let current = self.editable(actor, name, expected)?;
        let meta = self.patched(actor, &current, patch)?;
        if meta == current.meta {
            return Ok(current);
        }
        self.commit(
            name,
            current.version,
            actor,
            idem,
            EventPayload::DatasetUpdated { meta },
        )
    }

    /// Deletes the dataset: it leaves listings, the site and git; its history stays.
    pub fn delete(
        &self,
        actor: &Actor,
        name: &str,
        expected: &IfMatch,
        idem: Option<IdempotencyWrite>,
    ) -> Result<Dataset> {
        let current = self.editable(actor, name, expected)?;
        self.commit(name, current.version, actor, idem, EventPayload::DatasetDeleted {})
    }

    /// One dataset, if the actor may see it.
    pub fn get(&self, actor: &Actor, name: &str) -> Result<Dataset> {
        actor.require(Scope::PostsRead)?;
        self.visible(actor, name)
    }

    /// Every live dataset the actor may see, by name.
    pub fn list(&self, actor: &Actor) -> Result<Vec<Dataset>> {
        actor.require(Scope::PostsRead)?;
        let mut all = self.store.list_datasets()?;
        all.retain(|d| d.is_live() && may_see(actor, d));
        all.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(all)
    }

    /// The dataset's events, oldest first.
    pub fn history(&self, actor: &Actor, name: &str) -> Result<Vec<Envelope>> {
        let set = self.get(actor, name)?;
        self.store.stream_events(set.id)
    }

    /// The dataset as it was at version `n`.
    pub fn version(&self, actor: &Actor, name: &str, n: u64) -> Result<Dataset> {
        let set = self.get(actor, name)?;
        if n == 0 || n > set.version {
            return Err(not_found(name));
        }
        self.replayed(set.id, n)
    }

    /// The dataset at version `n`, for answering a replayed request as it was first answered.
    pub fn replayed(&self, id: Ulid, n: u64) -> Result<Dataset> {
        let events = self.store.stream_events(id)?;
        Dataset::fold(events.iter().take_while(|e| e.version <= n))
            .ok_or(Error::DatasetNotFound { name: id.to_string() })
    }

    /// A published, live dataset (for the site and the public query API); no rights needed.
    pub fn public(&self, name: &str) -> Result<Option<Dataset>> {
        if !valid_name(name) {
            return Ok(None);
        }
        Ok(self.store.dataset(stream_of(name))?.filter(Dataset::is_public))
    }

    /// Every published, live dataset, by name.
    pub fn public_list(&self) -> Result<Vec<Dataset>> {
        let mut all = self.store.list_datasets()?;
        all.retain(Dataset::is_public);
        all.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(all)
    }

    /// Every live dataset with a `source_url` and `refresh` (for the scheduler).
    pub fn scheduled(&self) -> Result<Vec<Dataset>> {
        let mut all = self.store.list_datasets()?;
        all.retain(|d| d.is_live() && d.meta.source_url.is_some() && d.meta.refresh.is_some());
        Ok(all)
    }

    fn visible(&self, actor: &Actor, name: &str) -> Result<Dataset> {
        if !valid_name(name) {
            return Err(not_found(name));
        }
        match self.store.dataset(stream_of(name))? {
            Some(d) if d.is_live() && may_see(actor, &d) => Ok(d),
            _ => Err(not_found(name)),
        }
    }

    /// Rights, then visibility and ownership, then the version.
    fn editable(&self, actor: &Actor, name: &str, expected: &IfMatch) -> Result<Dataset> {
        self.check_may_write(actor)?;
        let set = self.visible(actor, name)?;
        check_may_change(actor, &set)?;
        check_version(name, Some(&set), Some(expected))?;
        Ok(set)
    }

    fn patched(&self, actor: &Actor, current: &Dataset, patch: MetaPatch) -> Result<DatasetMeta> {
        let mut meta = current.meta.clone();
        if let Some(title) = patch.title {
            let title = title.trim().to_owned();
            if title.is_empty() || title.chars().count() > MAX_TITLE_LEN || title.chars().any(char::is_control) {
                return Err(Error::invalid(
                    "title",
                    format!("1 to {MAX_TITLE_LEN} printable characters"),
                ));
            }
            meta.title = title;
        }
        if let Some(description) = patch.description {
            if description.chars().count() > MAX_DESCRIPTION_LEN {
                return Err(Error::invalid(
                    "description",
                    format!("at most {MAX_DESCRIPTION_LEN} characters"),
                ));
            }
            meta.description = description;
        }
        if let Some(status) = patch.status {
            if status == DatasetStatus::Published {
                actor.require(Scope::PostsPublish)?;
            }
            meta.status = status;
        }
        if let Some(chart) = patch.chart {
            if let Some(chart) = &chart {
                check_chart(current, chart)?;
            }
            meta.chart = chart;
        }
        if let Some(url) = patch.source_url {
            if let Some(url) = &url {
                check_source_url(url)?;
            }
            meta.source_url = url;
        }
        if let Some(refresh) = patch.refresh {
            if let Some(refresh) = &refresh {
                refresh.parse::<Refresh>()?;
            }
            meta.refresh = refresh;
        }
        Ok(meta)
    }

    fn commit(
        &self,
        name: &str,
        expected_version: u64,
        actor: &Actor,
        idempotency: Option<IdempotencyWrite>,
        event: EventPayload,
    ) -> Result<Dataset> {
        let outcome = self.store.append_dataset(AppendBatch {
            stream: stream_of(name),
            expected_version,
            actor: actor.username.clone(),
            origin: actor.origin.clone(),
            at: (self.clock)(),
            idempotency,
            events: vec![event],
        })?;
        match outcome {
            DatasetOutcome::Appended { dataset, .. } => Ok(*dataset),
            DatasetOutcome::VersionConflict { actual } => Err(Error::DatasetVersionConflict {
                name: name.to_owned(),
                expected: expected_version,
                actual,
            }),
        }
    }
}

/// Owners, editors and admins see drafts; everyone sees published datasets.
pub fn may_see(actor: &Actor, set: &Dataset) -> bool {
    actor.role.edits_everyones_posts() || set.owner == actor.username || set.is_public()
}

/// The owner, editors and admins may change a dataset (published ones with `posts:publish`).
fn owns_or_edits(actor: &Actor, set: &Dataset) -> bool {
    set.owner == actor.username || actor.role.edits_everyones_posts()
}

fn check_may_change(actor: &Actor, set: &Dataset) -> Result<()> {
    if !owns_or_edits(actor, set) {
        return Err(Error::Forbidden {
            missing: "edit-others-datasets".into(),
            message: "this dataset belongs to another user; only editors and admins change others' datasets".into(),
        });
    }
    if set.is_public() && !actor.scopes.contains(&Scope::PostsPublish) {
        return Err(Error::Forbidden {
            missing: Scope::PostsPublish.as_str().into(),
            message: "a published dataset can be changed only with the posts:publish right".into(),
        });
    }
    Ok(())
}

fn check_version(name: &str, current: Option<&Dataset>, expected: Option<&IfMatch>) -> Result<()> {
    let actual = current.map_or(0, |d| d.version);
    let ok = match expected {
        None => true,
        Some(IfMatch::Any) => current.is_some(),
        Some(IfMatch::Versions(versions)) => versions.contains(&actual),
    };
    if ok {
        return Ok(());
    }
    let expected = match expected {
        Some(IfMatch::Versions(v)) => v.first().copied().unwrap_or(0),
        _ => 0,
    };
    Err(Error::DatasetVersionConflict {
        name: name.to_owned(),
        expected,
        actual,
    })
}

fn check_chart(set: &Dataset, chart: &Chart) -> Result<()> {
    if set.column(&chart.x).is_none() {
        return Err(Error::invalid(
            "chart",
            format!("there is no column {:?} for x", chart.x),
        ));
    }
    match set.column(&chart.y) {
        Some((_, c)) if c.kind.is_numeric() => Ok(()),
        Some(_) => Err(Error::invalid("chart", format!("column {:?} is not numeric", chart.y))),
        None => Err(Error::invalid(
            "chart",
            format!("there is no column {:?} for y", chart.y),
        )),
    }
}

/// `http://` or `https://` URLs (TLS: the built-in roots and `datasets.ca_file`), without credentials.
pub fn check_source_url(raw: &str) -> Result<url::Url> {
    let url = url::Url::parse(raw).map_err(|e| Error::invalid("source_url", format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::invalid(
            "source_url",
            "use an http:// or https:// URL with a host",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid("source_url", "credentials in the URL are not kept"));
    }
    Ok(url)
}
