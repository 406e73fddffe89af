//! Media files (`static/media/`) in imported commits: an added image becomes `MediaUploaded`
//! (its bytes stored as they are, when fit: [`crate::media::verbatim`]), a deleted one
//! `MediaDeleted`. Checked as an API upload or delete is: `media:write`, and only one's own
//! media unless editor or admin. A changed file (same path, new bytes) is refused: posts link
//! media by their content hash, so a new image is a new file.
//!
//! The bytes are written to the content-addressed store by the caller before the events are
//! appended ([`MediaPlan::files`]), like an upload's: a refused or crashed import leaves at most
//! unreferenced files there, never an event naming missing bytes.

use std::path::Path;

use time::OffsetDateTime;
use ulid::Ulid;

use super::read::{FileChange, PushedCommit};
use crate::access::{Actor, Scope};
use crate::event::{EventPayload, Origin};
use crate::media::blobs::sha256_hex;
use crate::media::model::new_media_id;
use crate::media::verbatim::check_verbatim;
use crate::media::{ImageLimits, Media, MediaQuery};
use crate::store::{AppendBatch, Store};

/// Where media live in the repository.
pub const MEDIA_DIR: &str = "static/media/";

/// One media file a commit changed.
#[derive(Debug, Clone)]
pub struct MediaChange {
    pub commit: String,
    pub change: FileChange,
}

/// Takes the changes under [`MEDIA_DIR`] out of `commits` (the post planner refuses every path
/// it does not model), in order. A commit that had any is not adopted as pushed (its object is
/// dropped): the git projection names an image by its hash, so the log cannot rebuild the
/// pushed tree, and that commit and the ones after it get Quire's own commits.
pub fn take_media(commits: &mut [PushedCommit]) -> Vec<MediaChange> {
    let mut taken = Vec::new();
    for commit in commits {
        let (media, rest): (Vec<FileChange>, Vec<FileChange>) = std::mem::take(&mut commit.changes)
            .into_iter()
            .partition(|c| c.path.starts_with(MEDIA_DIR));
        commit.changes = rest;
        if !media.is_empty() {
            commit.object = None;
        }
        taken.extend(media.into_iter().map(|change| MediaChange {
            commit: commit.id.clone(),
            change,
        }));
    }
    taken
}

/// What the media changes of an import will append, and the files to store first.
#[derive(Debug, Clone, Default)]
pub struct MediaPlan {
    /// One batch per file, with its path (for messages).
    pub batches: Vec<(String, AppendBatch)>,
    /// `(bytes, extension)` to put into the media store before appending.
    pub files: Vec<(Vec<u8>, &'static str)>,
}

/// The plan for `changes` made by `actor`, or every problem, each starting with its path.
pub fn plan_media(
    store: &dyn Store,
    actor: &Actor,
    changes: &[MediaChange],
    now: OffsetDateTime,
    limits: &ImageLimits,
) -> crate::Result<Result<MediaPlan, Vec<String>>> {
    if changes.is_empty() {
        return Ok(Ok(MediaPlan::default()));
    }
    if let Err(e) = actor.require(Scope::MediaWrite) {
        return Ok(Err(vec![format!("{MEDIA_DIR}: {e}")]));
    }
    let (mut plan, mut problems, mut deleted) = (MediaPlan::default(), Vec::new(), Vec::<Ulid>::new());
    for MediaChange { commit, change } in changes {
        let path = change.path.as_str();
        let name = path.strip_prefix(MEDIA_DIR).unwrap_or(path);
        let batch = |stream, expected_version, event| AppendBatch {
            stream,
            expected_version,
            actor: actor.username.clone(),
            at: now,
            idempotency: None,
            events: vec![event],
            origin: Some(Origin::git_push(commit.clone())),
        };
        match (&change.before, &change.after) {
            _ if name.contains('/') => problems.push(format!(
                "{path}: media go directly in {MEDIA_DIR}, not in a folder below it"
            )),
            (None, Some(bytes)) => match check_verbatim(bytes, limits) {
                Ok(image) => {
                    let event = EventPayload::MediaUploaded {
                        hash: sha256_hex(bytes),
                        content_type: image.content_type.to_owned(),
                        bytes: bytes.len() as u64,
                        width: image.width,
                        height: image.height,
                        alt: String::new(),
                        original_name: Some(name.chars().take(crate::media::model::MAX_NAME_LEN).collect()),
                        uploader: actor.username.clone(),
                    };
                    plan.batches.push((path.to_owned(), batch(new_media_id(), 0, event)));
                    plan.files.push((bytes.clone(), image.extension));
                }
                Err(message) => problems.push(format!("{path}: {message}")),
            },
            (Some(before), None) => {
                let hash = hash_of(name).unwrap_or_else(|| sha256_hex(before));
                match find_live(store, actor, &hash, &deleted)? {
                    Some(media) => {
                        deleted.push(media.id);
                        let event = EventPayload::MediaDeleted {};
                        plan.batches
                            .push((path.to_owned(), batch(media.id, media.version, event)));
                    }
                    None => problems.push(format!(
                        "{path}: the deleted file is not a media file you can delete (delete it through the API)"
                    )),
                }
            }
            (Some(_), Some(_)) => problems.push(format!(
                "{path}: changing a media file in place is not imported: posts link media by content, \
                 so add the new image under a new name (and delete the old one)"
            )),
            (None, None) => {}
        }
    }
    Ok(if problems.is_empty() { Ok(plan) } else { Err(problems) })
}

/// The hash in a name Quire gives stored media, `<64 hex>.<ext>`.
fn hash_of(name: &str) -> Option<String> {
    let stem = Path::new(name).file_stem()?.to_str()?;
    (stem.len() == 64 && stem.bytes().all(|b| b.is_ascii_hexdigit())).then(|| stem.to_ascii_lowercase())
}

/// A live media file with `hash` that `actor` may delete (and not deleted by this import yet).
fn find_live(store: &dyn Store, actor: &Actor, hash: &str, deleted: &[Ulid]) -> crate::Result<Option<Media>> {
    let mut query = MediaQuery {
        after: None,
        limit: 500,
        uploader: (!actor.role.edits_everyones_posts()).then(|| actor.username.clone()),
    };
    loop {
        let page = store.list_media(&query)?;
        if let Some(found) = page
            .iter()
            .find(|m| m.hash == hash && m.is_live() && !deleted.contains(&m.id))
        {
            return Ok(Some(found.clone()));
        }
        match page.last() {
            Some(last) if page.len() == query.limit => query.after = Some(last.id),
            _ => return Ok(None),
        }
    }
}

/// Appends an import's post and media batches in one transaction ([`Store::append_import`]).
/// `Ok(Err(messages))` if the log refused one (a post or media changed meanwhile, a slug is
/// taken): then nothing was appended.
pub fn append_import(
    store: &dyn Store,
    batches: Vec<(String, AppendBatch)>,
) -> crate::Result<Result<Vec<crate::event::Envelope>, Vec<String>>> {
    if batches.is_empty() {
        return Ok(Ok(Vec::new()));
    }
    let (paths, batches): (Vec<String>, Vec<AppendBatch>) = batches.into_iter().unzip();
    Ok(match store.append_import(batches)? {
        Ok(events) => Ok(events),
        Err((n, crate::store::AppendOutcome::SlugTaken { slug, .. })) => Err(vec![format!(
            "{}: slug '{slug}' is taken by another post",
            paths.get(n).map_or("", String::as_str)
        )]),
        Err(_) => Err(vec![
            "a post or media file changed while the push was checked; pull and push again".into(),
        ]),
    })
}
