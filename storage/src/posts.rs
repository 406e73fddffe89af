//! Post commands and queries: the domain rules on top of the [`Store`].
//!
//! Commands validate their input, turn it into events and append them with the version they
//! were built against, so a concurrent change is a conflict, never a silent overwrite.

use std::sync::Arc;

use time::OffsetDateTime;
use ulid::Ulid;

use crate::access::{Actor, Scope};
use crate::event::{Envelope, EventPayload};
use crate::post::{
    new_post_id, normalize_tags, normalize_title, slug_base, slug_candidate, validate_properties, validate_slug, Post,
    Properties, Status,
};
use crate::store::{AppendBatch, AppendOutcome, IdempotencyWrite, PostQuery, Store};
use crate::{Error, Result};

mod conflict_copy;
mod from_base;

/// How many numbered candidates a derived slug tries before giving up.
const MAX_SLUG_TRIES: u32 = 1000;

/// Input of `create`.
#[derive(Debug, Clone, Default)]
pub struct NewPost {
    pub title: String,
    pub body: String,
    pub slug: Option<String>,
    pub tags: Vec<String>,
    pub status: Option<Status>,
    pub publish_at: Option<OffsetDateTime>,
    /// Extra properties without a Quire field, kept as sent.
    pub properties: Properties,
}

/// Input of `update`: absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct PostPatch {
    pub title: Option<String>,
    pub body: Option<String>,
    pub slug: Option<String>,
    pub tags: Option<Vec<String>>,
    pub status: Option<Status>,
    pub publish_at: Option<OffsetDateTime>,
    /// The new set of extra properties (all of them).
    pub properties: Option<Properties>,
}

/// The versions a change may apply to, from `If-Match`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: whatever version is current.
    Any,
    /// One of these versions (an empty list matches nothing).
    Versions(Vec<u64>),
}

impl From<Option<u64>> for IfMatch {
    fn from(version: Option<u64>) -> Self {
        version.map_or(Self::Any, |v| Self::Versions(vec![v]))
    }
}

/// The clock commands use for event times (injectable for tests).
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// The post service.
#[derive(Clone)]
pub struct Posts {
    store: Arc<dyn Store>,
    clock: Clock,
}

impl std::fmt::Debug for Posts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Posts").finish_non_exhaustive()
    }
}

/// The system clock, to the millisecond.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        let now = OffsetDateTime::now_utc();
        now.replace_millisecond(now.millisecond()).unwrap_or(now)
    })
}

impl Posts {
    /// Posts over `store` with `clock`.
    pub fn new(store: Arc<dyn Store>, clock: Clock) -> Self {
        Self { store, clock }
    }

    /// The underlying store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The clock this service reads, to hand to the parts of Quire that run beside it.
    pub fn clock(&self) -> Clock {
        self.clock.clone()
    }

    /// The time by this service's clock; the scheduler asks it so that tests can move time.
    pub fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }

    /// Creates a post. A derived slug that is taken gets a numeric suffix; an explicit one is a conflict.
    pub fn create(&self, actor: &Actor, input: NewPost, idem: Option<IdempotencyWrite>) -> Result<Post> {
        actor.require(Scope::PostsWrite)?;
        let status = input.status.unwrap_or(Status::Draft);
        actor.check_may_set_status(status)?;
        let title = normalize_title(&input.title)?;
        let tags = normalize_tags(&input.tags)?;
        validate_properties(&input.properties)?;
        if title.is_empty() && input.body.trim().is_empty() && input.properties.is_empty() {
            return Err(Error::invalid(
                "title",
                "a post needs a title, or text in its body to be a note",
            ));
        }
        let now = (self.clock)();
        let publish_at = publish_time(status, input.publish_at, None, now)?;
        let id = new_post_id();
        let make = |slug: String| EventPayload::PostCreated {
            slug,
            title: title.clone(),
            body: input.body.clone(),
            tags: tags.clone(),
            status,
            publish_at,
            author: actor.username.clone(),
            properties: input.properties.clone(),
        };
        match input.slug {
            Some(slug) => {
                validate_slug(&slug)?;
                self.commit(id, 0, actor, now, idem, vec![make(slug)])
            }
            None => self.with_free_slug(id, 0, &slug_base(&title, &input.body), |slug| {
                self.append(id, 0, actor, now, idem.clone(), vec![make(slug)])
            }),
        }
    }

    /// Applies a patch to the post at version `expected` (`None`: whatever is current).
    pub fn update(
        &self,
        actor: &Actor,
        id: Ulid,
        expected: impl Into<IfMatch>,
        patch: PostPatch,
        idem: Option<IdempotencyWrite>,
    ) -> Result<Post> {
        actor.require(Scope::PostsWrite)?;
        let patch = normalize_patch(patch)?;
        let current = self.editable(actor, id)?;
        if let Some(status) = patch.status.filter(|s| *s != current.status) {
            actor.check_may_set_status(status)?;
        }
        check_version(&current, expected)?;
        if !current.is_live() {
            return Err(Error::InvalidState {
                id,
                message: "the post is deleted; restore it before editing".into(),
            });
        }
        let now = (self.clock)();
        let events = patch_events(&current, patch, now)?;
        if events.is_empty() {
            return Ok(current);
        }
        self.commit(id, current.version, actor, now, idem, events)
    }

    /// Deletes a post (soft: the history stays, the slug is freed).
    pub fn delete(
        &self,
        actor: &Actor,
        id: Ulid,
        expected: impl Into<IfMatch>,
        idem: Option<IdempotencyWrite>,
    ) -> Result<Post> {
        let current = self.editable(actor, id)?;
        check_version(&current, expected)?;
        if !current.is_live() {
            return Err(Error::InvalidState {
                id,
                message: "the post is already deleted".into(),
            });
        }
        let now = (self.clock)();
        self.commit(
            id,
            current.version,
            actor,
            now,
            idem,
            vec![EventPayload::PostDeleted {}],
        )
    }

    /// Brings a deleted post back; if its slug was taken meanwhile it gets a numbered one.
    pub fn restore(
        &self,
        actor: &Actor,
        id: Ulid,
        expected: impl Into<IfMatch>,
        idem: Option<IdempotencyWrite>,
    ) -> Result<Post> {
        let current = self.editable(actor, id)?;
        check_version(&current, expected)?;
        if current.is_live() {
            return Err(Error::InvalidState {
                id,
                message: "the post is not deleted".into(),
            });
        }
        let now = (self.clock)();
        self.with_free_slug(id, current.version, &current.slug, |slug| {
            let slug = (slug != current.slug).then_some(slug);
            let events = vec![EventPayload::PostRestored { slug }];
            self.append(id, current.version, actor, now, idem.clone(), events)
        })
    }

    /// The current post. A deleted post is `PostDeleted` (410): its tombstone is read with
    /// [`Posts::get_with_deleted`].
    pub fn get(&self, actor: &Actor, id: Ulid) -> Result<Post> {
        let post = self.get_with_deleted(actor, id)?;
        if !post.is_live() {
            return Err(Error::PostDeleted { id });
        }
        Ok(post)
    }

    /// The current post, also when deleted (its author and editors see the tombstone).
    pub fn get_with_deleted(&self, actor: &Actor, id: Ulid) -> Result<Post> {
        actor.require(Scope::PostsRead)?;
        self.load_visible(actor, id)
    }

    /// Whether `actor` may read the post's content (for a 412's `current`). Never an error:
    /// a post that is gone or hidden is simply not readable.
    pub fn readable(&self, actor: &Actor, id: Ulid) -> Option<Post> {
        self.store.post(id).ok().flatten().filter(|post| actor.may_read(post))
    }

    /// Loads post `id` as `actor` may know it: a post the actor may not see is reported as
    /// missing, exactly like one that does not exist, so its existence is not disclosed.
    fn load_visible(&self, actor: &Actor, id: Ulid) -> Result<Post> {
        match self.store.post(id)? {
            Some(post) if actor.may_see(&post) => Ok(post),
            _ => Err(Error::PostNotFound { id }),
        }
    }

    /// The post `actor` may change (rights first, as for every command), for commands built
    /// outside this service (Micropub updates).
    pub fn for_edit(&self, actor: &Actor, id: Ulid) -> Result<Post> {
        self.editable(actor, id)
    }

    /// The post a command may change. Rights come first (write right, visibility,
    /// ownership); the caller compares versions only after this, so a 412 tells a caller
    /// without rights nothing.
    fn editable(&self, actor: &Actor, id: Ulid) -> Result<Post> {
        actor.require(Scope::PostsWrite)?;
        let post = self.load_visible(actor, id)?;
        actor.check_may_edit(&post)?;
        Ok(post)
    }

    /// One page of posts, newest first. Authors and contributors see published posts and
    /// their own; editors and admins every post.
    pub fn list(&self, actor: &Actor, query: &PostQuery) -> Result<Vec<Post>> {
        actor.require(Scope::PostsRead)?;
        if actor.role.edits_everyones_posts() {
            return self.store.list_posts(query);
        }
        let query = PostQuery {
            visible_to: Some(actor.username.clone()),
            ..query.clone()
        };
        self.store.list_posts(&query)
    }

    /// Up to `limit` events of the log after `after` (editors and admins: the log holds
    /// everyone's drafts).
    pub fn events(&self, actor: &Actor, after: u64, limit: usize) -> Result<Vec<Envelope>> {
        actor.require_read_all()?;
        self.store.events_after(after, limit)
    }

    /// The events of one post.
    pub fn history(&self, actor: &Actor, id: Ulid) -> Result<Vec<Envelope>> {
        actor.require(Scope::PostsRead)?;
        self.load_visible(actor, id)?;
        self.stream_events(id)
    }

    fn stream_events(&self, id: Ulid) -> Result<Vec<Envelope>> {
        let events = self.store.stream_events(id)?;
        if events.is_empty() {
            return Err(Error::PostNotFound { id });
        }
        Ok(events)
    }

    /// The post as it was at version `n`.
    pub fn version(&self, actor: &Actor, id: Ulid, n: u64) -> Result<Post> {
        let events = self.history(actor, id)?;
        fold_to(id, &events, n)
    }

    /// The post at version `n` for answering a replayed request: the idempotency record is
    /// the requester's own, and it names the version their first request was answered with.
    pub fn replayed(&self, id: Ulid, n: u64) -> Result<Post> {
        fold_to(id, &self.stream_events(id)?, n)
    }

    /// Tries `base`, `base-2`, `base-3`… until `attempt` does not hit a taken slug.
    fn with_free_slug(
        &self,
        stream: Ulid,
        expected: u64,
        base: &str,
        attempt: impl Fn(String) -> Result<AppendOutcome>,
    ) -> Result<Post> {
        for n in 1..=MAX_SLUG_TRIES {
            let slug = slug_candidate(base, n);
            if self.store.slug_owner(&slug)?.is_some() {
                continue;
            }
            match attempt(slug)? {
                AppendOutcome::SlugTaken { .. } => continue,
                outcome => return outcome_to_post(stream, expected, outcome),
            }
        }
        Err(Error::invalid(
            "slug",
            format!("no free slug found for {base:?}; give one explicitly"),
        ))
    }

    fn append(
        &self,
        stream: Ulid,
        expected_version: u64,
        actor: &Actor,
        at: OffsetDateTime,
        idempotency: Option<IdempotencyWrite>,
        events: Vec<EventPayload>,
    ) -> Result<AppendOutcome> {
        self.store.append(AppendBatch {
            stream,
            expected_version,
            actor: actor.username.clone(),
            origin: actor.origin.clone(),
            at,
            idempotency,
            events,
        })
    }

    fn commit(
        &self,
        stream: Ulid,
        expected: u64,
        actor: &Actor,
        at: OffsetDateTime,
        idem: Option<IdempotencyWrite>,
        events: Vec<EventPayload>,
    ) -> Result<Post> {
        outcome_to_post(
            stream,
            expected,
            self.append(stream, expected, actor, at, idem, events)?,
        )
    }
}

/// The post from an append's outcome; a lost race is a conflict naming the post and the
/// versions (the one the command was built on and the one the log is at).
fn outcome_to_post(stream: Ulid, expected: u64, outcome: AppendOutcome) -> Result<Post> {
    match outcome {
        AppendOutcome::Appended { post, .. } => Ok(post),
        AppendOutcome::VersionConflict { actual, .. } => Err(Error::VersionConflict {
            id: stream,
            expected,
            actual,
        }),
        AppendOutcome::SlugTaken { slug, owner } => Err(Error::SlugTaken { slug, owner }),
    }
}

/// Fails with a conflict unless `expected` accepts the post's version.
fn check_version(post: &Post, expected: impl Into<IfMatch>) -> Result<()> {
    match expected.into() {
        IfMatch::Versions(v) if !v.contains(&post.version) => Err(Error::VersionConflict {
            id: post.id,
            expected: v.first().copied().unwrap_or(0),
            actual: post.version,
        }),
        _ => Ok(()),
    }
}

/// The post folded from `events` up to version `n`.
fn fold_to(id: Ulid, events: &[Envelope], n: u64) -> Result<Post> {
    let latest = events.last().map_or(0, |e| e.version);
    if n == 0 || n > latest {
        return Err(Error::VersionNotFound { id, version: n, latest });
    }
    Post::fold(events.iter().take_while(|e| e.version <= n)).ok_or(Error::PostNotFound { id })
}

/// A patch with its fields checked and normalized, before anything is loaded: a malformed
/// request is told what is wrong whatever its `If-Match` says.
pub(crate) fn normalize_patch(mut patch: PostPatch) -> Result<PostPatch> {
    patch.title = patch.title.map(|t| normalize_title(&t)).transpose()?;
    patch.tags = patch.tags.map(|t| normalize_tags(&t)).transpose()?;
    if let Some(slug) = &patch.slug {
        validate_slug(slug)?;
    }
    if let Some(properties) = &patch.properties {
        validate_properties(properties)?;
    }
    Ok(patch)
}

/// The `publish_at` a post with `status` gets: for a draft its planned date (optional), for a
/// published post when it went public (now unless given), for a scheduled one when it will.
fn publish_time(
    status: Status,
    given: Option<OffsetDateTime>,
    current: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<Option<OffsetDateTime>> {
    match status {
        Status::Draft => Ok(given.or(current)),
        Status::Published => Ok(Some(given.or(current).unwrap_or(now))),
        Status::Scheduled => given
            .or(current)
            .map(Some)
            .ok_or_else(|| Error::invalid("publish_at", "a scheduled post needs publish_at (RFC 3339 date-time)")),
    }
}

/// The events that turn `current` into what `patch` asks for (none if nothing changes).
pub(crate) fn patch_events(current: &Post, patch: PostPatch, now: OffsetDateTime) -> Result<Vec<EventPayload>> {
    let title = patch
        .title
        .map(|t| normalize_title(&t))
        .transpose()?
        .filter(|t| *t != current.title);
    let tags = patch
        .tags
        .map(|t| normalize_tags(&t))
        .transpose()?
        .filter(|t| *t != current.tags);
    let body = patch.body.filter(|b| *b != current.body);
    let properties = patch.properties.filter(|p| *p != current.properties);
    if let Some(slug) = &patch.slug {
        validate_slug(slug)?;
    }
    let slug = patch.slug.filter(|s| *s != current.slug);
    let status = patch.status.unwrap_or(current.status);
    let keep = (status == current.status).then_some(current.publish_at).flatten();
    let publish_at = publish_time(status, patch.publish_at, keep, now).map_err(|_| Error::InvalidState {
        id: current.id,
        message: "the post has no publish_at: send one to schedule it".into(),
    })?;
    let status_event = (status != current.status || (status != Status::Draft && publish_at != current.publish_at))
        .then_some(match (status, publish_at) {
            (Status::Published, Some(at)) => EventPayload::PostPublished {
                publish_at: at,
                base_version: None,
                merged: false,
            },
            (Status::Scheduled, Some(at)) => EventPayload::PostScheduled {
                publish_at: at,
                base_version: None,
                merged: false,
            },
            _ => EventPayload::PostUnpublished {
                base_version: None,
                merged: false,
            },
        });
    // A draft's planned date: PostUnpublished clears `publish_at`, so it is set after that.
    let planned_before = if status_event.is_some() {
        None
    } else {
        current.publish_at
    };
    let planned = (status == Status::Draft && publish_at.is_some() && publish_at != planned_before)
        .then_some(publish_at)
        .flatten();
    let changed = title.is_some() || tags.is_some() || body.is_some() || slug.is_some() || properties.is_some();
    let update = (changed || planned.is_some()).then_some(EventPayload::PostUpdated {
        slug,
        title,
        body,
        tags,
        publish_at: planned,
        properties,
        base_version: None,
        merged: false,
    });
    Ok(if status == Status::Draft {
        status_event.into_iter().chain(update).collect()
    } else {
        update.into_iter().chain(status_event).collect()
    })
}
