//! The site projection: keeps `<data>/site` in step with the event log.
//!
//! Each event is folded into a [`SiteModel`]; the pages it touches ([`affected_pages_ordered`]) are
//! rendered and written atomically, then the [`Manifest`] moves to the event's `seq`. Events
//! are taken a page at a time and their pages written together, so a burst of writes costs one
//! render of each touched page, not one per event.
//!
//! **Catching up.** On the first catch-up after opening, the model is rebuilt by folding the
//! log up to the manifest's `seq` (reading only, no writes), leftovers of an interrupted write
//! are swept, and the events after it are applied as usual. Without a usable manifest (first
//! start, other settings or Quire version, a deleted folder), or when far behind, the whole site
//! is rendered instead; that too rewrites only files whose bytes changed.
//!
//! **Crashes.** Pages are written before the manifest, so a crash can only leave the manifest
//! behind the pages; re-applying those events rewrites the same pages to the same bytes.
//!
//! **Images.** For each upload (`MediaUploaded`) the smaller copies of the image that posts
//! offer in `srcset` are written to `media/w<width>/` before any page that shows them, and only
//! then does the renderer know the image (without its copies, a post shows the image plainly).
//! Copies are derived files: missing ones are made again on the next start or rebuild.
//!
//! **Datasets.** Dataset events are folded into a [`DataModel`]; after each page of events the
//! files of the datasets they touched (`data/…`, see [`super::data`]) are written or removed,
//! also before the manifest moves.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use quire_render::{
    affected_pages_ordered, image_variant_path, image_variant_widths, PostInput, RenderReport, Site, SiteConfig,
};
use quire_storage::{Envelope, EventPayload, ImageLimits, MediaBlobs, Store};
use tokio::sync::watch;

use super::cache::SiteCache;
use super::data::{DataModel, DataReport};
use super::error::Result;
use super::manifest::{fingerprint, Manifest};
use super::model::{LogBodies, SiteModel};
use super::writer::{self, Progress};

/// Events read from the log at a time; the manifest moves once per page.
const PAGE: usize = 512;
/// Further behind than this many events — and than the site has posts — a full render is
/// cheaper than event by event. (Tied to the site's size so that a burst of writes to a big
/// site never turns each catch-up into a full render.)
const FULL_RENDER_AFTER: u64 = 2_000;

/// What one catch-up did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatchUp {
    /// Whether the whole site was rendered.
    pub full: bool,
    /// Events applied to the pages (for a full render: folded into it).
    pub events: usize,
    /// Pages written because their bytes changed.
    pub written: usize,
    /// Pages removed.
    pub removed: usize,
    /// Pages rendered to the bytes already on disk.
    pub unchanged: usize,
    /// The `seq` the site now reflects.
    pub seq: u64,
}

impl CatchUp {
    fn add(&mut self, report: &RenderReport) {
        self.written += report.written.len();
        self.removed += report.removed.len();
        self.unchanged += report.unchanged;
    }

    fn add_data(&mut self, report: DataReport) {
        self.written += report.written;
        self.removed += report.removed;
        self.unchanged += report.unchanged;
    }
}

/// The projection over one site folder. One per folder: it is the folder's only writer.
#[derive(Debug)]
pub struct SiteProjection {
    site: Site,
    model: SiteModel,
    /// The datasets, for the data pages.
    data: DataModel,
    /// The `seq` of the last event folded into `model`.
    folded: u64,
    /// Where the files stand; `None` until the site has been rendered with these settings.
    written: Option<u64>,
    fingerprint: String,
    /// Whether leftovers of an earlier run were swept since opening.
    swept: bool,
    /// Becomes `true` when the server shuts down: long renders stop early.
    stop: Option<watch::Receiver<bool>>,
    /// The server's in-memory copy of hot pages, told about every file written or removed.
    cache: Option<Arc<SiteCache>>,
    /// Where uploaded images are read from to make their smaller copies; `None`: posts show
    /// images plainly.
    media: Option<MediaBlobs>,
    /// Uploaded images (file name, width, height) folded in but not yet given their copies.
    pending_images: Vec<(String, u32, u32)>,
}

impl SiteProjection {
    /// The projection of the site in `dir` with `config`. Reads the manifest; writes nothing.
    pub fn open(config: SiteConfig, dir: impl Into<PathBuf>) -> Result<Self> {
        let fingerprint = fingerprint(&config);
        let site = Site::new(config, dir)?;
        let written = Manifest::load(site.out_dir())?
            .filter(|m| m.fingerprint == fingerprint)
            .map(|m| m.seq);
        Ok(Self {
            site,
            model: SiteModel::default(),
            data: DataModel::default(),
            folded: 0,
            written,
            fingerprint,
            swept: false,
            stop: None,
            cache: None,
            media: None,
            pending_images: Vec::new(),
        })
    }

    /// Gives posts' uploaded images (read from `blobs`) sizes, lazy loading and `srcset`.
    pub fn images_from(&mut self, blobs: MediaBlobs) {
        self.media = Some(blobs);
    }

    /// Folds one event into the model (uploads are noted for [`Self::write_image_copies`]).
    fn fold(&mut self, event: &Envelope) -> Option<super::model::Applied> {
        if let EventPayload::MediaUploaded {
            hash,
            content_type,
            width,
            height,
            ..
        } = &event.payload
        {
            if self.media.is_some() {
                let file = quire_storage::media::model::file_name(hash, content_type);
                self.pending_images.push((file, *width, *height));
            }
        }
        self.data.apply(event);
        self.model.apply(event)
    }

    /// Writes the missing smaller copies of the images folded in since the last call, then
    /// lets the renderer use them. An image whose copies cannot be made (its file is missing or
    /// unreadable) is logged and shown plainly; it does not stop the site.
    fn write_image_copies(&mut self) -> Result<usize> {
        let Some(blobs) = &self.media else {
            return Ok(0);
        };
        let mut written = 0;
        let limits = ImageLimits::default();
        for (file, width, height) in std::mem::take(&mut self.pending_images) {
            let Some(original) = blobs.path_of(&file) else {
                continue;
            };
            let mut made = true;
            for w in image_variant_widths(width) {
                let rel = image_variant_path(w, &file);
                if self.site.out_dir().join(&rel).exists() {
                    continue;
                }
                match quire_storage::media::image::variant(&original, w, &limits) {
                    Ok(bytes) => {
                        self.site.write_file(&rel, &bytes)?;
                        written += 1;
                    }
                    Err(error) => {
                        tracing::warn!(%file, width = w, %error, "no smaller copy of an image; posts show it plainly");
                        made = false;
                        break;
                    }
                }
            }
            if made {
                self.site.add_image(&file, width, height);
            }
        }
        Ok(written)
    }

    /// Makes long catch-ups give up (between steps, with everything on disk consistent) once
    /// `stop` holds `true`.
    pub fn stop_on(&mut self, stop: watch::Receiver<bool>) {
        self.stop = Some(stop);
    }

    /// Tells `cache` about every file written or removed from now on.
    pub fn cache_into(&mut self, cache: Arc<SiteCache>) {
        self.cache = Some(cache);
    }

    /// Adds a render's report to `done` and drops the files it changed from the cache.
    fn note(&self, done: &mut CatchUp, report: &RenderReport) {
        done.add(report);
        if let Some(cache) = &self.cache {
            let files = report.written.iter().chain(&report.removed).map(|p| p.file_path());
            cache.invalidate(self.site.out_dir(), files);
        }
    }

    fn stopping(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| *s.borrow())
    }

    /// The site being written.
    pub fn site(&self) -> &Site {
        &self.site
    }

    /// The `seq` the files reflect, if they were rendered with the current settings.
    pub fn seq(&self) -> Option<u64> {
        self.written
    }

    /// The posts the site shows.
    pub fn visible(&self) -> &[PostInput] {
        self.model.visible()
    }

    /// Brings the site up to the log's head: event by event, or in full when there is no usable
    /// manifest or it is far behind. On failure the in-memory model is dropped and rebuilt
    /// from the log next time, so no event is ever skipped.
    pub fn catch_up(&mut self, store: &dyn Store) -> Result<CatchUp> {
        let head = store.head();
        let result = match self.written {
            Some(seq) if seq <= head && head - seq <= FULL_RENDER_AFTER.max(self.visible().len() as u64) => {
                self.incremental(store, seq)
            }
            _ => self.full(store, None),
        };
        if result.is_err() {
            self.reset();
        }
        result
    }

    /// Renders the whole site from the log, reporting progress; `quire rebuild site`.
    pub fn rebuild(&mut self, store: &dyn Store, progress: Progress<'_>) -> Result<CatchUp> {
        let result = self.full(store, Some(progress));
        if result.is_err() {
            self.reset();
        }
        result
    }

    fn reset(&mut self) {
        self.model = SiteModel::default();
        self.data = DataModel::default();
        self.folded = 0;
    }

    fn incremental(&mut self, store: &dyn Store, written: u64) -> Result<CatchUp> {
        if self.folded > written {
            self.reset();
        }
        self.fold_to(store, written)?;
        self.write_image_copies()?;
        // The files already reflect the events up to `written`.
        self.data.forget_changes();
        let mut done = CatchUp {
            seq: written,
            ..CatchUp::default()
        };
        if !self.swept {
            let report = self.site.remove_stale(self.model.visible())?;
            self.note(&mut done, &report);
            self.swept = true;
        }
        loop {
            if self.stopping() {
                return Ok(done);
            }
            let events = store.events_after(self.folded, PAGE)?;
            let Some(last) = events.last().map(|e| e.seq) else {
                return Ok(done);
            };
            let mut pages = BTreeSet::new();
            for event in &events {
                if let Some(applied) = self.fold(event) {
                    let after = self.model.visible_post(applied.id);
                    let config = self.site.config();
                    let order = self.model.order();
                    pages.extend(affected_pages_ordered(config, applied.before.as_ref(), after, order));
                }
            }
            // Before the pages: they may show the new images with their copies.
            self.write_image_copies()?;
            self.folded = last;
            let report = self
                .site
                .write_pages_with(&pages, self.model.visible(), &LogBodies(store))?;
            self.note(&mut done, &report);
            if self.data.has_changes() {
                done.add_data(self.data.write_changed(&self.site, self.media.as_ref())?);
            }
            self.save(last)?;
            done.events += events.len();
            done.seq = last;
        }
    }

    fn full(&mut self, store: &dyn Store, progress: Option<Progress<'_>>) -> Result<CatchUp> {
        let started = Instant::now();
        let before = self.folded;
        self.fold_to(store, u64::MAX)?;
        self.write_image_copies()?;
        let seq = self.folded;
        let visible = self.model.visible();
        let mut done = CatchUp {
            full: true,
            events: usize::try_from(seq - before).unwrap_or(usize::MAX),
            seq,
            ..CatchUp::default()
        };
        let mut quiet = |_: usize, _: usize| {};
        let stopping = || self.stopping();
        let bodies = LogBodies(store);
        let report = writer::render_all(&self.site, visible, &bodies, progress.unwrap_or(&mut quiet), &stopping)?;
        done.add(&report);
        done.add_data(self.data.write_all(&self.site, self.media.as_ref())?);
        if let Some(cache) = &self.cache {
            cache.clear();
        }
        let posts = visible.len();
        self.swept = true;
        self.save(seq)?;
        tracing::info!(
            seq,
            posts,
            written = done.written,
            removed = done.removed,
            ms = started.elapsed().as_millis(),
            "rendered the whole site"
        );
        Ok(done)
    }

    /// Folds events after `folded` up to `until` (inclusive) into the model, rendering nothing.
    fn fold_to(&mut self, store: &dyn Store, until: u64) -> Result<()> {
        while self.folded < until {
            let events = store.events_after(self.folded, PAGE)?;
            if events.is_empty() {
                break;
            }
            for event in events.iter().take_while(|e| e.seq <= until) {
                self.fold(event);
                self.folded = event.seq;
            }
        }
        Ok(())
    }

    fn save(&mut self, seq: u64) -> Result<()> {
        let manifest = Manifest {
            seq,
            fingerprint: self.fingerprint.clone(),
        };
        manifest.save(self.site.out_dir())?;
        self.written = Some(seq);
        Ok(())
    }
}
