//! Conflict copies: the side of a conflict that lost, kept in the post's history.
//!
//! When an author resolves a conflict by keeping the other side (of a field or a body hunk), the
//! losing change is not only a draft on their device: [`Posts::keep_conflict_copy`] appends a
//! `PostConflictCopy` event with the losing fields and the version they apply to. The post does
//! not change (only its version moves on); the copy shows in its history, travels to git in the
//! commit's `Event-Data` trailer (so `restore` from git keeps it), and
//! [`Posts::restore_conflict_copy`] brings it back as a change made from that version, merged
//! three-way with everything that happened after it.

use ulid::Ulid;

use super::{normalize_patch, PostPatch, Posts};
use crate::access::{Actor, Scope};
use crate::event::{EventPayload, KeptFields};
use crate::post::Post;
use crate::store::IdempotencyWrite;
use crate::{Error, Result};

impl Posts {
    /// Keeps `copy`, the losing side of a conflict, in the post's history. `base` is the version
    /// the copy applies to (the version the author saw when choosing the other side); restoring
    /// the copy is a change made from it.
    pub fn keep_conflict_copy(
        &self,
        actor: &Actor,
        id: Ulid,
        base: u64,
        copy: KeptFields,
        idem: Option<IdempotencyWrite>,
    ) -> Result<Post> {
        actor.require(Scope::PostsRead)?;
        let current = self.editable(actor, id)?;
        if copy.is_empty() {
            return Err(Error::invalid(
                "title",
                "a conflict copy keeps at least one field (title, slug, body, tags, status or publish_at)",
            ));
        }
        let copy = kept(normalize_patch(patch_of(copy))?);
        if base == 0 || base > current.version {
            return Err(Error::UnknownBase {
                id,
                base,
                latest: current.version,
            });
        }
        let now = (self.clock)();
        let event = EventPayload::PostConflictCopy {
            base_version: base,
            copy,
        };
        self.commit(id, current.version, actor, now, idem, vec![event])
    }

    /// Brings back the conflict copy kept at version `version` of the post: its fields, as a
    /// change made from the copy's base version, merged with what happened since (a
    /// `MergeConflict` where that overlaps).
    pub fn restore_conflict_copy(
        &self,
        actor: &Actor,
        id: Ulid,
        version: u64,
        idem: Option<IdempotencyWrite>,
    ) -> Result<Post> {
        actor.require(Scope::PostsRead)?;
        self.editable(actor, id)?;
        let events = self.store.stream_events(id)?;
        let found = events.iter().find(|e| e.version == version).map(|e| &e.payload);
        let Some(EventPayload::PostConflictCopy { base_version, copy }) = found else {
            return Err(Error::ConflictCopyNotFound { id, version });
        };
        self.update_from_base(actor, id, *base_version, patch_of(copy.clone()), idem)
    }
}

/// The copy's fields as a patch.
fn patch_of(copy: KeptFields) -> PostPatch {
    PostPatch {
        title: copy.title,
        body: copy.body,
        slug: copy.slug,
        tags: copy.tags,
        status: copy.status,
        publish_at: copy.publish_at,
        properties: None,
    }
}

/// A checked patch's fields as a copy.
fn kept(patch: PostPatch) -> KeptFields {
    KeptFields {
        title: patch.title,
        slug: patch.slug,
        body: patch.body,
        tags: patch.tags,
        status: patch.status,
        publish_at: patch.publish_at,
    }
}

#[cfg(test)]
#[path = "conflict_copy_tests.rs"]
mod tests;
