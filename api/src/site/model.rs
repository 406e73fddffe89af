//! The log folded into what the site shows: every post's current state, and the visible ones
//! as [`PostInput`]s, kept in one slice so the renderer can be handed them without copying.
//!
//! **What is visible**: a live post whose status is `published`. A `scheduled` post is not,
//! even once its time has passed: it appears when the scheduler's `PostPublished` event does,
//! so the site stays a pure function of the log (replaying it never depends on the clock).
//!
//! **No bodies**: bodies are most of a blog's size, and the log already keeps each of them in
//! the event that set it. The model keeps, per post, the start of the body's text (a
//! [`Lead`]: lists, summaries and descriptions show no more) and the `seq` of that event; the
//! renderer reads the whole body from the log ([`LogBodies`]) for the pages that show it: the
//! post's own page and the feeds. At 10,000 posts of 3 KB an idle server holds 15–22 MiB less
//! (README, "No bodies in the site's model").
//!
//! **One copy of each post**: a visible post lives in its [`PostInput`]; the model tracks only
//! the few fields the renderer has no use for (version, creation and scheduled times), and
//! puts the [`Post`] back together for the next event. A post that is not visible is tracked
//! whole (but for its body).
//!
//! **Old slugs**: when a visible post's slug changes, the old one is remembered and the
//! renderer writes a redirect page there. Slug changes while a post is not visible are not
//! remembered: that URL was never public, and a redirect would leak a draft's slug.

use std::collections::HashMap;

use quire_render::{Bodies, Lead, PostInput, PostOrder};
use quire_storage::{Envelope, EventPayload, Post, Status, Store};
use time::OffsetDateTime;
use ulid::Ulid;

/// A post as the projection tracks it.
#[derive(Debug, Clone)]
enum Tracked {
    /// Not on the site: the whole post, with the redirects it keeps for when it is again.
    Hidden(Box<HiddenPost>),
    /// On the site: its [`PostInput`] in the visible slice holds the rest.
    Visible(VisibleRest),
}

/// A post that is not visible.
#[derive(Debug, Clone)]
struct HiddenPost {
    /// Its body left empty: `body` says where it is.
    post: Post,
    old_slugs: Vec<String>,
    body: KeptBody,
}

/// What the model keeps of a post's body.
#[derive(Debug, Clone, Default)]
struct KeptBody {
    /// The start of its text.
    lead: Lead,
    /// The event that set it.
    seq: u64,
}

/// Whether `payload` sets the post's body.
fn sets_body(payload: &EventPayload) -> bool {
    matches!(
        payload,
        EventPayload::PostCreated { .. } | EventPayload::PostUpdated { body: Some(_), .. }
    )
}

/// The bodies of visible posts, read from the events that set them (the `body_key` of the
/// model's [`PostInput`]s is that event's `seq`).
pub struct LogBodies<'a>(pub &'a dyn Store);

impl Bodies for LogBodies<'_> {
    fn body(&self, seq: u64) -> std::result::Result<String, String> {
        let events = self
            .0
            .events_after(seq.saturating_sub(1), 1)
            .map_err(|e| e.to_string())?;
        match events.into_iter().next() {
            Some(Envelope {
                seq: found,
                payload: EventPayload::PostCreated { body, .. } | EventPayload::PostUpdated { body: Some(body), .. },
                ..
            }) if found == seq => Ok(body),
            Some(event) if event.seq == seq => Err(format!("event {seq} does not set a body")),
            _ => Err(format!("event {seq} is not in the log")),
        }
    }
}

/// What a visible post's [`PostInput`] does not hold of its [`Post`]. Its status is
/// `published` and it is not deleted, or it would not be visible.
#[derive(Debug, Clone, Copy)]
struct VisibleRest {
    version: u64,
    created_at: OffsetDateTime,
    publish_at: Option<OffsetDateTime>,
}

/// The folded log.
#[derive(Debug, Default)]
pub struct SiteModel {
    /// Hidden posts are boxed: a whole `Post` is several times the size of a visible post's
    /// entry, and a table grown to 65,536 slots for 30k posts holds half of them empty.
    posts: HashMap<Ulid, Tracked>,
    /// The visible posts, in no particular order.
    visible: Vec<PostInput>,
    /// The id of each post in `visible`, at the same position.
    visible_ids: Vec<Ulid>,
    /// Position of each visible post in `visible`.
    slots: HashMap<Ulid, usize>,
    /// The visible posts in the site's order, to find the pages a change touches.
    order: PostOrder,
}

/// What one event did to the visible posts.
#[derive(Debug)]
pub struct Applied {
    /// The post the event belongs to.
    pub id: Ulid,
    /// The post as it was visible before the event (`None`: it was not visible).
    pub before: Option<PostInput>,
}

/// Whether `post` belongs on the public site.
pub fn is_visible(post: &Post) -> bool {
    post.is_live() && post.status == Status::Published
}

/// The renderer's view of a visible post (whose body was taken out into `body`), and what
/// it leaves out.
fn into_input(post: Post, old_slugs: Vec<String>, body: KeptBody) -> (PostInput, VisibleRest) {
    let rest = VisibleRest {
        version: post.version,
        created_at: post.created_at,
        publish_at: post.publish_at,
    };
    let input = PostInput {
        id: post.id.to_string(),
        slug: post.slug,
        title: post.title,
        body_markdown: String::new(),
        body_key: Some(body.seq),
        lead: Some(body.lead),
        tags: post.tags,
        published_at: post.publish_at.unwrap_or(post.created_at),
        updated_at: post.updated_at,
        author: post.author,
        old_slugs,
        properties: post.properties,
    };
    (input, rest)
}

/// The [`Post`] (without its body), its old slugs and what is kept of its body, that
/// [`into_input`] made `input` and `rest` of.
fn post_of(id: Ulid, input: &PostInput, rest: VisibleRest) -> (Post, Vec<String>, KeptBody) {
    let post = Post {
        id,
        slug: input.slug.clone(),
        title: input.title.clone(),
        body: String::new(),
        tags: input.tags.clone(),
        status: Status::Published,
        publish_at: rest.publish_at,
        created_at: rest.created_at,
        updated_at: input.updated_at,
        version: rest.version,
        author: input.author.clone(),
        deleted_at: None,
        properties: input.properties.clone(),
    };
    let body = KeptBody {
        lead: input.lead.clone().unwrap_or_default(),
        seq: input.body_key.unwrap_or_default(),
    };
    (post, input.old_slugs.clone(), body)
}

impl SiteModel {
    /// The visible posts, in no particular order.
    pub fn visible(&self) -> &[PostInput] {
        &self.visible
    }

    /// The visible posts in the site's order.
    pub fn order(&self) -> &PostOrder {
        &self.order
    }

    /// The visible post `id`, if it is visible.
    pub fn visible_post(&self, id: Ulid) -> Option<&PostInput> {
        self.slots.get(&id).map(|&i| &self.visible[i])
    }

    /// How many posts (of any state) the model knows.
    #[cfg(test)]
    pub fn post_count(&self) -> usize {
        self.posts.len()
    }

    /// Folds one event in. `None` when the event cannot be applied: a stream that does not
    /// start with `PostCreated` is logged and left out rather than stopping the site. Media
    /// events are not the site's (their files are served from the media folder): `None`.
    pub fn apply(&mut self, event: &Envelope) -> Option<Applied> {
        if event.payload.is_media() || event.payload.is_dataset() {
            return None;
        }
        let id = event.stream;
        let (before_post, mut old_slugs, kept) = match self.posts.remove(&id) {
            None => (None, Vec::new(), None),
            Some(Tracked::Hidden(hidden)) => {
                let HiddenPost { post, old_slugs, body } = *hidden;
                (Some(post), old_slugs, Some(body))
            }
            Some(Tracked::Visible(rest)) => {
                let Some(input) = self.visible_post(id) else {
                    tracing::error!(seq = event.seq, stream = %id, "a visible post is missing; the site skips the event");
                    return None;
                };
                let (post, old_slugs, body) = post_of(id, input, rest);
                (Some(post), old_slugs, Some(body))
            }
        };
        let was_visible = before_post.as_ref().is_some_and(is_visible);
        let old_slug = before_post.as_ref().map(|p| p.slug.clone());
        let Some(mut post) = Post::apply(before_post, event) else {
            tracing::warn!(seq = event.seq, stream = %id, "event without a post; the site skips it");
            return None;
        };
        let body = match kept {
            Some(kept) if !sets_body(&event.payload) => kept,
            _ => KeptBody {
                lead: Lead::of(&post.body),
                seq: event.seq,
            },
        };
        // The log keeps it; `body` says where.
        post.body = String::new();
        if let (true, EventPayload::PostUpdated { slug: Some(_), .. }, Some(old)) =
            (was_visible, &event.payload, old_slug)
        {
            if old != post.slug && !old_slugs.contains(&old) {
                old_slugs.push(old);
            }
        }
        old_slugs.retain(|s| *s != post.slug);
        let after = if is_visible(&post) {
            let (input, rest) = into_input(post, old_slugs, body);
            self.posts.insert(id, Tracked::Visible(rest));
            Some(input)
        } else {
            let hidden = HiddenPost { post, old_slugs, body };
            self.posts.insert(id, Tracked::Hidden(Box::new(hidden)));
            None
        };
        let before = self.set_visible(id, after);
        Some(Applied { id, before })
    }

    /// Puts `input` in the visible slice for `id` (or removes it for `None`); returns what was
    /// there.
    fn set_visible(&mut self, id: Ulid, input: Option<PostInput>) -> Option<PostInput> {
        let before = match (self.slots.get(&id).copied(), input) {
            (Some(i), Some(input)) => Some(std::mem::replace(&mut self.visible[i], input)),
            (Some(i), None) => {
                self.slots.remove(&id);
                self.visible_ids.swap_remove(i);
                let before = self.visible.swap_remove(i);
                if let Some(&moved) = self.visible_ids.get(i) {
                    self.slots.insert(moved, i);
                }
                Some(before)
            }
            (None, Some(input)) => {
                self.slots.insert(id, self.visible.len());
                push_gently(&mut self.visible, input);
                push_gently(&mut self.visible_ids, id);
                None
            }
            (None, None) => None,
        };
        if let Some(before) = &before {
            self.order.remove(before);
        }
        if let Some(&i) = self.slots.get(&id) {
            self.order.insert(&self.visible[i]);
        }
        before
    }
}

/// Pushes `item`, growing a full `vec` by an eighth instead of doubling it. The visible posts
/// are ~260 bytes each and only ever grow one at a time: doubling left up to half of the
/// table empty (1.7 MB at 10,000 posts, 8 MB at 100,000), while a large buffer grows in
/// place (`mremap`) at little cost.
fn push_gently<T>(vec: &mut Vec<T>, item: T) {
    if vec.len() == vec.capacity() {
        vec.reserve_exact(vec.len() / 8 + 16);
    }
    vec.push(item);
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    struct Log {
        seq: u64,
        versions: HashMap<Ulid, u64>,
    }

    impl Log {
        fn new() -> Self {
            Log {
                seq: 0,
                versions: HashMap::new(),
            }
        }

        fn event(&mut self, stream: Ulid, payload: EventPayload) -> Envelope {
            self.seq += 1;
            let version = self.versions.entry(stream).or_default();
            *version += 1;
            Envelope {
                seq: self.seq,
                id: Ulid::new(),
                stream,
                version: *version,
                actor: "ada".into(),
                at: datetime!(2026-01-01 10:00 UTC),
                idempotency_key: None,
                origin: None,
                payload,
            }
        }
    }

    fn created(slug: &str, status: Status) -> EventPayload {
        let published = status == Status::Published;
        EventPayload::PostCreated {
            slug: slug.into(),
            title: slug.into(),
            body: "text".into(),
            tags: vec!["t".into()],
            status,
            publish_at: published.then_some(datetime!(2026-01-01 10:00 UTC)),
            author: "ada".into(),
            properties: Default::default(),
        }
    }

    fn rename(slug: &str) -> EventPayload {
        EventPayload::PostUpdated {
            slug: Some(slug.into()),
            title: None,
            body: None,
            tags: None,
            publish_at: None,
            properties: None,
            base_version: None,
            merged: false,
        }
    }

    fn slugs(model: &SiteModel) -> Vec<String> {
        let mut slugs: Vec<String> = model.visible().iter().map(|p| p.slug.clone()).collect();
        slugs.sort();
        slugs
    }

    #[test]
    fn only_live_published_posts_are_visible() {
        let (mut model, mut log) = (SiteModel::default(), Log::new());
        let [a, b, c, d] = [Ulid::new(), Ulid::new(), Ulid::new(), Ulid::new()];
        model.apply(&log.event(a, created("a", Status::Published)));
        model.apply(&log.event(b, created("b", Status::Draft)));
        let at = datetime!(2020-01-01 0:00 UTC);
        model.apply(&log.event(c, created("c", Status::Draft)));
        model.apply(&log.event(
            c,
            EventPayload::PostScheduled {
                publish_at: at,
                base_version: None,
                merged: false,
            },
        ));
        model.apply(&log.event(d, created("d", Status::Published)));
        assert_eq!(slugs(&model), ["a", "d"], "a past-due scheduled post waits");

        let applied = model
            .apply(&log.event(a, EventPayload::PostDeleted {}))
            .expect("applies");
        assert_eq!(applied.before.map(|p| p.slug).as_deref(), Some("a"));
        model.apply(&log.event(
            d,
            EventPayload::PostUnpublished {
                base_version: None,
                merged: false,
            },
        ));
        model.apply(&log.event(
            c,
            EventPayload::PostPublished {
                publish_at: at,
                base_version: None,
                merged: false,
            },
        ));
        assert_eq!(slugs(&model), ["c"]);
        assert_eq!(
            model.visible_post(c).map(|p| p.published_at),
            Some(at),
            "the scheduled time is the publication date"
        );
        model.apply(&log.event(a, EventPayload::PostRestored { slug: None }));
        assert_eq!(slugs(&model), ["a", "c"]);
        assert_eq!(model.post_count(), 4);
    }

    #[test]
    fn slug_changes_of_visible_posts_leave_redirects() {
        let (mut model, mut log) = (SiteModel::default(), Log::new());
        let (a, b) = (Ulid::new(), Ulid::new());
        model.apply(&log.event(a, created("first", Status::Published)));
        model.apply(&log.event(a, rename("second")));
        model.apply(&log.event(a, rename("third")));
        let post = model.visible_post(a).expect("visible");
        assert_eq!(post.old_slugs, ["first", "second"]);
        model.apply(&log.event(a, rename("first")));
        let post = model.visible_post(a).expect("visible");
        assert_eq!(post.slug, "first");
        assert_eq!(post.old_slugs, ["second", "third"], "a slug in use is no redirect");

        model.apply(&log.event(b, created("draft-name", Status::Draft)));
        model.apply(&log.event(b, rename("public-name")));
        model.apply(&log.event(
            b,
            EventPayload::PostPublished {
                publish_at: datetime!(2026-01-02 0:00 UTC),
                base_version: None,
                merged: false,
            },
        ));
        let post = model.visible_post(b).expect("visible");
        assert!(post.old_slugs.is_empty(), "a draft's slug never was public");
    }

    #[test]
    fn the_visible_table_grows_by_an_eighth_not_double() {
        let (mut model, mut log) = (SiteModel::default(), Log::new());
        for i in 0..3_000 {
            model.apply(&log.event(Ulid::new(), created(&format!("p{i}"), Status::Published)));
            let (len, capacity) = (model.visible.len(), model.visible.capacity());
            assert!(capacity <= len + len / 8 + 16, "{capacity} slots for {len} posts");
            assert!(model.visible_ids.capacity() <= len + len / 8 + 16);
        }
        assert_eq!(model.visible.len(), 3_000);
    }

    #[test]
    fn removing_from_the_middle_keeps_positions_right() {
        let (mut model, mut log) = (SiteModel::default(), Log::new());
        let ids: Vec<Ulid> = (0..5).map(|_| Ulid::new()).collect();
        for (i, id) in ids.iter().enumerate() {
            model.apply(&log.event(*id, created(&format!("p{i}"), Status::Published)));
        }
        model.apply(&log.event(ids[1], EventPayload::PostDeleted {}));
        model.apply(&log.event(ids[4], rename("p4-renamed")));
        assert_eq!(slugs(&model), ["p0", "p2", "p3", "p4-renamed"]);
        for id in [ids[0], ids[2], ids[3], ids[4]] {
            let post = model.visible_post(id).expect("visible");
            assert_eq!(post.id, id.to_string());
        }
        assert!(model.visible_post(ids[1]).is_none());
    }

    #[test]
    fn the_text_is_kept_once_and_survives_every_change() {
        let (mut model, mut log) = (SiteModel::default(), Log::new());
        let a = Ulid::new();
        let text = |model: &SiteModel| {
            let post = model.visible_post(a).expect("visible");
            assert!(post.body_markdown.is_empty(), "the log keeps the body, not the model");
            (
                post.title.clone(),
                post.lead().excerpt(280),
                post.body_key,
                post.tags.clone(),
            )
        };
        let expected = ("a".to_string(), "text".to_string(), Some(1), vec!["t".to_string()]);
        model.apply(&log.event(a, created("a", Status::Published)));
        assert_eq!(text(&model), expected);
        assert!(
            matches!(model.posts[&a], Tracked::Visible(_)),
            "no second copy of a visible post"
        );

        let applied = model.apply(&log.event(a, rename("b"))).expect("applied");
        assert_eq!(text(&model), expected, "an edit that leaves the body keeps it");
        let before = applied.before.expect("was visible");
        assert_eq!((before.slug.as_str(), before.body_key), ("a", Some(1)));
        assert!(matches!(model.posts[&a], Tracked::Visible(_)));

        let unpublished = EventPayload::PostUnpublished {
            base_version: None,
            merged: false,
        };
        model.apply(&log.event(a, unpublished));
        assert!(model.visible_post(a).is_none());
        let Tracked::Hidden(hidden) = &model.posts[&a] else {
            panic!("an unpublished post is tracked whole");
        };
        assert_eq!(hidden.post.body, "", "a hidden post does not hold its body either");
        assert_eq!((hidden.body.seq, hidden.body.lead.excerpt(280).as_str()), (1, "text"));
        model.apply(&log.event(
            a,
            EventPayload::PostPublished {
                publish_at: datetime!(2026-01-03 0:00 UTC),
                base_version: None,
                merged: false,
            },
        ));
        assert_eq!(text(&model), expected, "published again with its text");
        assert!(matches!(model.posts[&a], Tracked::Visible(_)));

        let mut edit = rename("b");
        if let EventPayload::PostUpdated { slug, body, .. } = &mut edit {
            *slug = None;
            *body = Some("A *new* body".into());
        }
        let edited = log.event(a, edit);
        model.apply(&edited);
        let expected = (
            "a".to_string(),
            "A new body".to_string(),
            Some(edited.seq),
            vec!["t".to_string()],
        );
        assert_eq!(text(&model), expected, "a new body: its event and its text");
    }

    /// The post the model would hand `Post::apply` for the next event.
    fn tracked_post(model: &SiteModel, id: Ulid) -> Post {
        match &model.posts[&id] {
            Tracked::Hidden(hidden) => hidden.post.clone(),
            Tracked::Visible(rest) => post_of(id, model.visible_post(id).expect("visible"), *rest).0,
        }
    }

    /// What the model keeps of the body of post `id`.
    fn kept_body(model: &SiteModel, id: Ulid) -> KeptBody {
        match &model.posts[&id] {
            Tracked::Hidden(hidden) => hidden.body.clone(),
            Tracked::Visible(rest) => post_of(id, model.visible_post(id).expect("visible"), *rest).2,
        }
    }

    #[test]
    fn a_visible_post_is_put_back_together_exactly() {
        let (mut model, mut log) = (SiteModel::default(), Log::new());
        let a = Ulid::new();
        let mut properties = quire_storage::Properties::new();
        properties.insert("in-reply-to".into(), serde_json::json!(["https://example.org/x"]));
        let edit = EventPayload::PostUpdated {
            slug: None,
            title: Some("Edited".into()),
            body: Some("New *body*".into()),
            tags: Some(vec!["x".into(), "y".into()]),
            publish_at: Some(datetime!(2025-06-01 8:00 UTC)),
            properties: Some(properties),
            base_version: Some(1),
            merged: false,
        };
        let unpublished = EventPayload::PostUnpublished {
            base_version: None,
            merged: false,
        };
        let published = EventPayload::PostPublished {
            publish_at: datetime!(2026-01-03 0:00 UTC),
            base_version: None,
            merged: false,
        };
        let events = [
            log.event(a, created("a", Status::Published)),
            log.event(a, edit),
            log.event(a, rename("b")),
            log.event(a, unpublished),
            log.event(a, published),
            log.event(a, EventPayload::PostDeleted {}),
            log.event(a, EventPayload::PostRestored { slug: None }),
        ];
        let mut folded: Option<Post> = None;
        let mut body_seq = 0;
        for event in &events {
            folded = Post::apply(folded, event);
            model.apply(event).expect("applies");
            let mut expected = folded.clone().expect("a post");
            assert_eq!(model.visible_post(a).is_some(), is_visible(&expected));
            if sets_body(&event.payload) {
                body_seq = event.seq;
            }
            let kept = kept_body(&model, a);
            assert_eq!(kept.seq, body_seq, "after {:?}", event.payload);
            assert_eq!(kept.lead, Lead::of(&expected.body), "after {:?}", event.payload);
            expected.body = String::new();
            assert_eq!(tracked_post(&model, a), expected, "after {:?}", event.payload);
        }
        assert_eq!(body_seq, 2, "the edit set the body last");
        assert_eq!(
            model.visible_post(a).map(|p| p.old_slugs.clone()),
            Some(vec!["a".to_string()])
        );
    }

    #[test]
    fn a_stream_without_creation_is_skipped() {
        let (mut model, mut log) = (SiteModel::default(), Log::new());
        let event = log.event(Ulid::new(), EventPayload::PostDeleted {});
        assert!(model.apply(&event).is_none());
        assert!(model.visible().is_empty());
    }
}
