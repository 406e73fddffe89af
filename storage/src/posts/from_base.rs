//! `Posts::update_from_base`: a change made from an older version (`Base-Version`), merged
//! three-way with what happened to the post since, instead of refused as stale.
//!
//! Rights come first: the actor must be allowed to change the post as it is now, and to read
//! posts (a merge reads the post's history, and its answer may show versions and content),
//! before any version is read or named. The merge rules themselves live in [`crate::merge`].

use ulid::Ulid;

use super::{normalize_patch, patch_events, IfMatch, PostPatch, Posts};
use crate::access::{Actor, Scope};
use crate::merge::{keeping_mine, three_way, Merge};
use crate::post::Post;
use crate::store::IdempotencyWrite;
use crate::{Error, Result};

/// How often a merge is redone when another write lands between reading and appending.
const MAX_RACES: usize = 5;

impl Posts {
    /// Applies `patch`, made from version `base`, merged with every change made after `base`.
    ///
    /// `base` equal to the current version is a plain update. Otherwise the result is the
    /// merged post (its `PostUpdated` event records `base_version` and `merged`), or
    /// `MergeConflict` listing the overlapping changes, `UnknownBase` for a version the post
    /// never had, or `InvalidState` when the post was deleted meanwhile.
    pub fn update_from_base(
        &self,
        actor: &Actor,
        id: Ulid,
        base: u64,
        patch: PostPatch,
        idem: Option<IdempotencyWrite>,
    ) -> Result<Post> {
        let mut tries = 0;
        loop {
            tries += 1;
            match self.merge_once(actor, id, base, patch.clone(), idem.clone()) {
                Err(Error::VersionConflict { .. }) if tries < MAX_RACES => continue,
                outcome => return outcome,
            }
        }
    }

    fn merge_once(
        &self,
        actor: &Actor,
        id: Ulid,
        base: u64,
        patch: PostPatch,
        idem: Option<IdempotencyWrite>,
    ) -> Result<Post> {
        actor.require(Scope::PostsWrite)?;
        actor.require(Scope::PostsRead)?;
        let patch = normalize_patch(patch)?;
        let current = self.editable(actor, id)?;
        if base == current.version {
            return self.update(actor, id, IfMatch::Versions(vec![base]), patch, idem);
        }
        if base == 0 || base > current.version {
            return Err(Error::UnknownBase {
                id,
                base,
                latest: current.version,
            });
        }
        if !current.is_live() {
            return Err(Error::InvalidState {
                id,
                message: format!(
                    "post {id} was deleted after version {base}, the version your change was made from; \
                     restore it (POST /api/v1/posts/{id}/restore) before editing, or save your change as a new post"
                ),
            });
        }
        let events = self.store.stream_events(id)?;
        let base_post =
            Post::fold(events.iter().take_while(|e| e.version <= base)).ok_or(Error::PostNotFound { id })?;
        let mine = patch.clone();
        match three_way(&base_post, &current, patch)? {
            Merge::Clean(merged) => self.commit_merged(actor, current, merged, base, idem),
            Merge::Conflicts(conflicts) => Err(Error::MergeConflict {
                id,
                base,
                keep_mine: Box::new(keeping_mine(&base_post, &current, &mine)?),
                current: Box::new(current),
                conflicts,
            }),
        }
    }

    /// Appends the merged patch against the current version, marking its update as merged.
    fn commit_merged(
        &self,
        actor: &Actor,
        current: Post,
        patch: PostPatch,
        base: u64,
        idem: Option<IdempotencyWrite>,
    ) -> Result<Post> {
        if let Some(status) = patch.status.filter(|s| *s != current.status) {
            actor.check_may_set_status(status)?;
        }
        let now = (self.clock)();
        let mut events = patch_events(&current, patch, now)?;
        if events.is_empty() {
            return Ok(current);
        }
        // Every event of the merged change records its base, status changes too.
        for event in &mut events {
            event.mark_merged(base);
        }
        self.commit(current.id, current.version, actor, now, idem, events)
    }
}

#[cfg(test)]
#[path = "from_base_tests.rs"]
mod tests;
