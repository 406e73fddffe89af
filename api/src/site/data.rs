//! Datasets on the static site: the files the site projection keeps in `site/data/` so that
//! nginx or an S3 bucket can serve the data pages without Quire.
//!
//! For each published dataset:
//! - `data/<name>/index.html` — title, description, chart, the table's first page (file order);
//! - `data/<name>/page/<n>/index.html` — the table's page `n` (from 2) in the file's order;
//! - `data/<name>.csv` — the published CSV, copied from the blob store;
//! - `data/<name>/chart.svg` — the chart alone, when the dataset has one, for posts to show
//!   with a plain Markdown image: `![Daily count](/data/<name>/chart.svg)`;
//!
//! and `data/index.html`, the list, while at least one dataset is published. The HTML comes
//! from [`crate::datasets::pages`], as the pages Quire answers itself do. Rows are read one
//! page at a time, so a dataset of 100,000 rows costs one page of memory (and 2,000 files).
//! Files of a dataset that is a draft, deleted or gone are removed.
//!
//! Sorted and filtered tables and the `.json` query API are not files: their links lead to
//! Quire (`?_sort=…`, `?_next=…`), which answers them from the same templates.

use std::collections::{BTreeSet, HashMap};

use quire_render::{data_page_file, DataPager, Site};
use quire_storage::datasets::query::for_each_page;
use quire_storage::{Dataset, Envelope, EventPayload, MediaBlobs};
use ulid::Ulid;

use super::error::Result;
use crate::datasets::pages::{self, page_count, PAGE_ROWS};

/// Every dataset folded from the log, and those changed since the last write.
#[derive(Debug, Default)]
pub struct DataModel {
    sets: HashMap<Ulid, Dataset>,
    /// Datasets whose files are to be brought in line.
    touched: BTreeSet<Ulid>,
}

/// What writing the data files did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DataReport {
    /// Files written because their bytes changed.
    pub written: usize,
    /// Files (or a dataset's folder) removed.
    pub removed: usize,
    /// Files already holding their bytes.
    pub unchanged: usize,
}

impl DataReport {
    fn count(&mut self, written: bool) {
        if written {
            self.written += 1;
        } else {
            self.unchanged += 1;
        }
    }
}

impl DataModel {
    /// Folds `event` in if it belongs to a dataset.
    pub fn apply(&mut self, event: &Envelope) {
        if !matches!(
            event.payload,
            EventPayload::DatasetPut { .. } | EventPayload::DatasetUpdated { .. } | EventPayload::DatasetDeleted {}
        ) {
            return;
        }
        let before = self.sets.remove(&event.stream);
        if let Some(after) = Dataset::apply(before, event) {
            self.sets.insert(event.stream, after);
        }
        self.touched.insert(event.stream);
    }

    /// Forgets which datasets changed: their files are known to be up to date.
    pub fn forget_changes(&mut self) {
        self.touched.clear();
    }

    /// Whether datasets changed since the last write.
    pub fn has_changes(&self) -> bool {
        !self.touched.is_empty()
    }

    fn public(&self) -> Vec<&Dataset> {
        let mut sets: Vec<&Dataset> = self.sets.values().filter(|s| s.is_public()).collect();
        sets.sort_by(|a, b| a.name.cmp(&b.name));
        sets
    }

    /// Brings the files of the datasets changed since the last call (and the list) in line.
    pub fn write_changed(&mut self, site: &Site, blobs: Option<&MediaBlobs>) -> Result<DataReport> {
        let mut report = DataReport::default();
        if self.touched.is_empty() {
            return Ok(report);
        }
        for id in std::mem::take(&mut self.touched) {
            if let Some(set) = self.sets.get(&id) {
                sync_dataset(site, blobs, set, &mut report)?;
            }
        }
        write_index(site, &self.public(), &mut report)?;
        Ok(report)
    }

    /// Writes every dataset's files and removes whatever else is in `data/`.
    pub fn write_all(&mut self, site: &Site, blobs: Option<&MediaBlobs>) -> Result<DataReport> {
        self.touched.clear();
        let mut report = DataReport::default();
        for set in self.sets.values() {
            sync_dataset(site, blobs, set, &mut report)?;
        }
        let public = self.public();
        write_index(site, &public, &mut report)?;
        sweep(site, &public, &mut report)?;
        Ok(report)
    }
}

/// Writes the files of `set` if it is published and its CSV is at hand, else removes them.
fn sync_dataset(site: &Site, blobs: Option<&MediaBlobs>, set: &Dataset, report: &mut DataReport) -> Result<()> {
    let source = blobs.and_then(|b| b.path_of(&set.file_name()).map(|path| (b, path)));
    match source {
        Some((blobs, csv)) if set.is_public() && csv.is_file() => write_dataset(site, blobs, set, &csv, report),
        _ => {
            if set.is_public() {
                tracing::warn!(dataset = %set.name, "the dataset's CSV is missing; its pages are left off the site");
            }
            remove_dataset(site, &set.name, report)
        }
    }
}

fn write_dataset(
    site: &Site,
    blobs: &MediaBlobs,
    set: &Dataset,
    csv: &std::path::Path,
    report: &mut DataReport,
) -> Result<()> {
    let config = site.config();
    let pages = page_count(set);
    let mut chart = pages::chart(blobs, set)?;
    let chart_file = format!("data/{}/chart.svg", set.name);
    match &chart {
        Some(svg) => report.count(site.write_file(&chart_file, svg.as_bytes())?),
        None => {
            if site.remove_file(&chart_file)? {
                report.removed += 1;
            }
        }
    }
    let mut n = 0u64;
    for_each_page(pages::open(blobs, set)?, PAGE_ROWS, |rows| {
        n += 1;
        let pager = DataPager::Numbered {
            page: n,
            pages: pages.max(n),
        };
        let html = pages::page_html(config, set, rows, None, pager, chart.take());
        report.count(site.write_file(&data_page_file(&set.name, n), html.as_bytes())?);
        Ok::<_, super::SiteError>(())
    })?;
    // Pages past the last one of an earlier, longer version.
    let folder = site.out_dir().join("data").join(&set.name).join("page");
    for entry in list(&folder)? {
        let beyond = entry.parse::<u64>().map_or(true, |p| p > n || p < 2);
        if beyond && site.remove_folder(&format!("data/{}/page/{entry}", set.name))? {
            report.removed += 1;
        }
    }
    report.count(site.copy_file(&format!("data/{}.csv", set.name), csv)?);
    Ok(())
}

fn remove_dataset(site: &Site, name: &str, report: &mut DataReport) -> Result<()> {
    if site.remove_folder(&format!("data/{name}"))? {
        report.removed += 1;
    }
    if site.remove_file(&format!("data/{name}.csv"))? {
        report.removed += 1;
    }
    Ok(())
}

fn write_index(site: &Site, public: &[&Dataset], report: &mut DataReport) -> Result<()> {
    if public.is_empty() {
        if site.remove_file("data/index.html")? {
            report.removed += 1;
        }
        return Ok(());
    }
    let html = pages::index_html(site.config(), public.iter().copied());
    report.count(site.write_file("data/index.html", html.as_bytes())?);
    Ok(())
}

/// Removes what `data/` holds besides the published datasets' files and the list: leftovers
/// of datasets the model no longer has (a log restored from a backup, a crash mid-removal).
fn sweep(site: &Site, public: &[&Dataset], report: &mut DataReport) -> Result<()> {
    let names: BTreeSet<&str> = public.iter().map(|s| s.name.as_str()).collect();
    for entry in list(&site.out_dir().join("data"))? {
        let name = entry.strip_suffix(".csv").unwrap_or(&entry);
        if entry == "index.html" || names.contains(name) {
            continue;
        }
        let rel = format!("data/{entry}");
        let removed = match site.out_dir().join(&rel).is_dir() {
            true => site.remove_folder(&rel)?,
            false => site.remove_file(&rel)?,
        };
        if removed {
            report.removed += 1;
        }
    }
    Ok(())
}

/// The names in `dir`; none if it does not exist.
fn list(dir: &std::path::Path) -> Result<Vec<String>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Ok(entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(quire_storage::Error::Io {
            context: format!("listing {}", dir.display()),
            source,
        }
        .into()),
    }
}
