//! Media commands and queries: the rules on top of the [`Store`] and the [`MediaBlobs`].
//!
//! Rights come first: uploading and changing need `media:write`, reading metadata
//! `posts:read`. Authors and contributors see and change their own uploads only; editors and
//! admins everyone's. A media file the caller may not see is reported missing, like one that
//! does not exist.

use std::path::Path;
use std::sync::Arc;

use ulid::Ulid;

use super::blobs::MediaBlobs;
use super::image::{process, ImageLimits};
use super::model::{new_media_id, Media, MediaQuery, MAX_ALT_LEN, MAX_NAME_LEN};
use crate::access::{Actor, Scope};
use crate::event::EventPayload;
use crate::posts::{Clock, IfMatch};
use crate::store::{AppendBatch, IdempotencyWrite, MediaOutcome, Store};
use crate::{Error, Result};

/// An upload waiting in a temporary file.
#[derive(Debug, Clone)]
pub struct Upload<'a> {
    /// The received bytes, as the client sent them.
    pub path: &'a Path,
    pub alt: String,
    pub original_name: Option<String>,
}

/// The media service.
#[derive(Clone)]
pub struct MediaService {
    store: Arc<dyn Store>,
    blobs: MediaBlobs,
    limits: ImageLimits,
    clock: Clock,
}

impl std::fmt::Debug for MediaService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaService")
            .field("dir", &self.blobs.dir())
            .finish_non_exhaustive()
    }
}

impl MediaService {
    /// Media over `store`, with bytes in `blobs`.
    pub fn new(store: Arc<dyn Store>, blobs: MediaBlobs, limits: ImageLimits, clock: Clock) -> Self {
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

    /// The upload limits.
    pub fn limits(&self) -> &ImageLimits {
        &self.limits
    }

    /// Fails unless `actor` may upload; checked before the body is read.
    pub fn check_may_upload(&self, actor: &Actor) -> Result<()> {
        actor.require(Scope::MediaWrite)
    }

    /// Decodes, cleans and stores the upload, then appends `MediaUploaded`. Blocks (CPU-heavy):
    /// run it off the HTTP workers.
    pub fn upload(&self, actor: &Actor, upload: Upload<'_>, idem: Option<IdempotencyWrite>) -> Result<Media> {
        self.check_may_upload(actor)?;
        let alt = normalize_alt(&upload.alt)?;
        let original_name = upload.original_name.map(|n| clean_name(&n)).filter(|n| !n.is_empty());
        let image = process(upload.path, &self.limits)?;
        // Durable before the event that names it.
        let hash = self.blobs.put(&image.bytes, image.extension)?;
        let event = EventPayload::MediaUploaded {
            hash,
            content_type: image.content_type.to_owned(),
            bytes: image.bytes.len() as u64,
            width: image.width,
            height: image.height,
            alt,
            original_name,
            uploader: actor.username.clone(),
        };
        self.commit(new_media_id(), 0, actor, idem, event)
    }

    /// One media file's metadata (a deleted one is missing).
    pub fn get(&self, actor: &Actor, id: Ulid) -> Result<Media> {
        actor.require(Scope::PostsRead)?;
        self.load_visible(actor, id)
    }

    /// One page of media, newest first: everyone's for editors and admins, else one's own.
    pub fn list(&self, actor: &Actor, query: &MediaQuery) -> Result<Vec<Media>> {
        actor.require(Scope::PostsRead)?;
        let mut query = query.clone();
        if !actor.role.edits_everyones_posts() {
            query.uploader = Some(actor.username.clone());
        }
        self.store.list_media(&query)
    }

    /// Changes the alt text.
    pub fn update_alt(
        &self,
        actor: &Actor,
        id: Ulid,
        expected: IfMatch,
        alt: String,
        idem: Option<IdempotencyWrite>,
    ) -> Result<Media> {
        let alt = normalize_alt(&alt)?;
        let current = self.editable(actor, id, expected)?;
        if current.alt == alt {
            return Ok(current);
        }
        self.commit(id, current.version, actor, idem, EventPayload::MediaUpdated { alt })
    }

    /// Deletes a media file: it leaves listings and git; its bytes stay on disk.
    pub fn delete(&self, actor: &Actor, id: Ulid, expected: IfMatch, idem: Option<IdempotencyWrite>) -> Result<Media> {
        let current = self.editable(actor, id, expected)?;
        self.commit(id, current.version, actor, idem, EventPayload::MediaDeleted {})
    }

    /// The media at version `n`, for answering a replayed request with what it first answered.
    pub fn replayed(&self, id: Ulid, n: u64) -> Result<Media> {
        let events = self.store.stream_events(id)?;
        Media::fold(events.iter().take_while(|e| e.version <= n)).ok_or(Error::MediaNotFound { id })
    }

    /// Rights, then visibility and ownership, then the version: a 412 tells a caller without
    /// rights nothing.
    fn editable(&self, actor: &Actor, id: Ulid, expected: IfMatch) -> Result<Media> {
        actor.require(Scope::MediaWrite)?;
        let media = self.load_visible(actor, id)?;
        if let IfMatch::Versions(versions) = expected {
            if !versions.contains(&media.version) {
                return Err(Error::MediaVersionConflict {
                    id,
                    expected: versions.first().copied().unwrap_or(0),
                    actual: media.version,
                });
            }
        }
        Ok(media)
    }

    fn load_visible(&self, actor: &Actor, id: Ulid) -> Result<Media> {
        match self.store.media(id)? {
            Some(m) if m.is_live() && (actor.role.edits_everyones_posts() || m.uploader == actor.username) => Ok(m),
            _ => Err(Error::MediaNotFound { id }),
        }
    }

    fn commit(
        &self,
        id: Ulid,
        expected_version: u64,
        actor: &Actor,
        idempotency: Option<IdempotencyWrite>,
        event: EventPayload,
    ) -> Result<Media> {
        let outcome = self.store.append_media(AppendBatch {
            stream: id,
            expected_version,
            actor: actor.username.clone(),
            origin: actor.origin.clone(),
            at: (self.clock)(),
            idempotency,
            events: vec![event],
        })?;
        match outcome {
            MediaOutcome::Appended { media, .. } => Ok(*media),
            MediaOutcome::VersionConflict { actual } => Err(Error::MediaVersionConflict {
                id,
                expected: expected_version,
                actual,
            }),
        }
    }
}

fn normalize_alt(alt: &str) -> Result<String> {
    let alt = alt.trim();
    if alt.chars().count() > MAX_ALT_LEN || alt.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Error::invalid(
            "alt",
            format!("the alt text must be at most {MAX_ALT_LEN} printable characters"),
        ));
    }
    Ok(alt.to_owned())
}

/// The file name without folders or control characters, cut to [`MAX_NAME_LEN`].
fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    base.chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_LEN)
        .collect::<String>()
        .trim()
        .to_owned()
}
