//! Scheduled publishing: a post with status `scheduled` becomes `published` once its
//! `publish_at` has passed, through a `PostPublished` event like any other change.
//!
//! Nothing here reads a clock: the caller passes `now` (the server's scheduler asks
//! [`Posts::now`], which tests can move). Each post is published with the version it was read
//! at, so an edit that lands at the same moment wins cleanly: the scheduler's append is then a
//! conflict, skipped, and the post is looked at again on the next round.

use time::OffsetDateTime;

use crate::access::Actor;
use crate::post::{Post, Status};
use crate::posts::{PostPatch, Posts};
use crate::store::{PostQuery, Store};
use crate::{Error, Result};

/// The actor of the events the scheduler appends.
pub const SCHEDULER_ACTOR: &str = "quire-scheduler";

/// Posts read per page while looking for due ones.
const PAGE: usize = 200;

/// The live scheduled posts whose `publish_at` is at or before `now`, newest first.
pub fn due_posts(store: &dyn Store, now: OffsetDateTime) -> Result<Vec<Post>> {
    let mut due = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_posts(&PostQuery {
            status: Some(Status::Scheduled),
            after,
            limit: PAGE,
            ..PostQuery::default()
        })?;
        let full = page.len() == PAGE;
        after = page.last().map(|p| p.id);
        due.extend(page.into_iter().filter(|p| is_due(p, now)));
        if !full {
            return Ok(due);
        }
    }
}

/// Publishes every due scheduled post (see [`due_posts`]) at its own `publish_at`, as
/// [`SCHEDULER_ACTOR`] through [`Posts::update`] (so the domain's rules apply as for any
/// writer); returns the posts as published. A post changed meanwhile is left for the next call.
pub fn publish_due(posts: &Posts, now: OffsetDateTime) -> Result<Vec<Post>> {
    let actor = Actor::system(SCHEDULER_ACTOR);
    let mut published = Vec::new();
    for post in due_posts(posts.store().as_ref(), now)? {
        let patch = PostPatch {
            status: Some(Status::Published),
            publish_at: post.publish_at,
            ..PostPatch::default()
        };
        match posts.update(&actor, post.id, Some(post.version), patch, None) {
            Ok(post) => published.push(post),
            Err(Error::VersionConflict { actual, .. }) => tracing::debug!(
                id = %post.id, expected = post.version, actual,
                "scheduled post changed meanwhile; looking again next round"
            ),
            Err(Error::InvalidState { .. } | Error::PostNotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(published)
}

fn is_due(post: &Post, now: OffsetDateTime) -> bool {
    post.is_live() && post.status == Status::Scheduled && post.publish_at.is_some_and(|at| at <= now)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use time::macros::datetime;
    use time::Duration;

    use super::*;
    use crate::posts::{Clock, NewPost};
    use crate::sled_store::{SledOptions, SledStore};
    use crate::users::Role;

    fn setup(dir: &std::path::Path) -> (Posts, Arc<Mutex<OffsetDateTime>>) {
        let store = Arc::new(SledStore::open(dir, &SledOptions::default()).expect("open"));
        let now = Arc::new(Mutex::new(datetime!(2026-03-01 12:00 UTC)));
        let shared = now.clone();
        let clock: Clock = Arc::new(move || *shared.lock().expect("clock"));
        (Posts::new(store, clock), now)
    }

    fn actor() -> Actor {
        Actor::user(ulid::Ulid::new(), "ada", Role::Author)
    }

    fn get(posts: &Posts, id: ulid::Ulid) -> Post {
        posts.store().post(id).expect("read").expect("exists")
    }

    fn scheduled(posts: &Posts, title: &str, at: OffsetDateTime) -> Post {
        let input = NewPost {
            title: title.into(),
            body: "soon".into(),
            status: Some(Status::Scheduled),
            publish_at: Some(at),
            ..NewPost::default()
        };
        posts.create(&actor(), input, None).expect("create")
    }

    #[test]
    fn publishes_only_what_is_due_at_its_own_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (posts, now) = setup(dir.path());
        let start = *now.lock().expect("clock");
        let soon = scheduled(&posts, "Soon", start + Duration::hours(1));
        let later = scheduled(&posts, "Later", start + Duration::days(1));
        assert!(publish_due(&posts, posts.now()).expect("run").is_empty());

        *now.lock().expect("clock") = start + Duration::hours(2);
        let done = publish_due(&posts, posts.now()).expect("run");
        assert_eq!(done.len(), 1);
        let post = get(&posts, soon.id);
        assert_eq!(post.status, Status::Published);
        assert_eq!(post.publish_at, soon.publish_at, "keeps the chosen time");
        let history = posts.store().stream_events(soon.id).expect("history");
        let last = history.last().expect("event");
        assert_eq!(last.actor, SCHEDULER_ACTOR);
        assert_eq!(last.payload.type_name(), "PostPublished");
        assert_eq!(get(&posts, later.id).status, Status::Scheduled);
        assert!(publish_due(&posts, posts.now()).expect("again").is_empty());
    }

    #[test]
    fn deleted_and_unscheduled_posts_are_left_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (posts, now) = setup(dir.path());
        let start = *now.lock().expect("clock");
        let gone = scheduled(&posts, "Gone", start + Duration::minutes(5));
        posts.delete(&actor(), gone.id, None, None).expect("delete");
        let back = scheduled(&posts, "Back to draft", start + Duration::minutes(5));
        let patch = PostPatch {
            status: Some(Status::Draft),
            ..PostPatch::default()
        };
        posts.update(&actor(), back.id, None, patch, None).expect("unschedule");
        *now.lock().expect("clock") = start + Duration::hours(1);
        assert!(publish_due(&posts, posts.now()).expect("run").is_empty());
        assert!(!get(&posts, gone.id).is_live());
        assert_eq!(get(&posts, back.id).status, Status::Draft);
    }

    #[test]
    fn many_due_posts_across_pages_are_all_published() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (posts, now) = setup(dir.path());
        let start = *now.lock().expect("clock");
        for i in 0..(PAGE + 5) {
            scheduled(&posts, &format!("Post {i}"), start + Duration::seconds(1));
        }
        *now.lock().expect("clock") = start + Duration::seconds(1);
        assert_eq!(publish_due(&posts, posts.now()).expect("run").len(), PAGE + 5);
    }
}
