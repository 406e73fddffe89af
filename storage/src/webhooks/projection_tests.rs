//! The webhook projection and the retry rules over a real sled store.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use super::*;
use crate::posts::NewPost;
use crate::runner::Projection as _;
use crate::sled_store::{SledOptions, SledStore};
use crate::users::Role;
use crate::{Actor, Posts, Status};

fn admin() -> Actor {
    Actor::user(ulid::Ulid::new(), "ada", Role::Admin)
}

fn setup(dir: &std::path::Path) -> (Arc<SledStore>, Posts, Webhooks) {
    let store = Arc::new(SledStore::open(dir, &SledOptions::default()).expect("open"));
    let db = store.webhook_db().expect("webhook trees");
    let posts = Posts::new(store.clone(), crate::system_clock());
    let hooks = Webhooks::new(db, store.clone(), crate::system_clock(), true);
    (store, posts, hooks)
}

fn hook(hooks: &Webhooks, events: &[&str]) -> Webhook {
    let new = NewWebhook {
        url: "http://127.0.0.1:9/hook".into(),
        events: events.iter().map(|e| (*e).to_owned()).collect(),
        description: String::new(),
    };
    hooks.create(&admin(), new).expect("create")
}

fn publish(posts: &Posts, title: &str) {
    let input = NewPost {
        title: title.into(),
        body: "text".into(),
        status: Some(Status::Published),
        ..NewPost::default()
    };
    posts.create(&admin(), input, None).expect("create post");
}

#[test]
fn each_event_is_queued_once_per_matching_webhook_with_its_checkpoint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, posts, hooks) = setup(dir.path());
    publish(&posts, "Before the webhooks");
    let all = hook(&hooks, &["*"]);
    let created = hook(&hooks, &["post.created"]);
    let deleted = hook(&hooks, &["post.deleted"]);
    publish(&posts, "After");
    let mut projection = WebhookProjection::new(hooks.db.clone());
    projection.catch_up(store.as_ref(), &mut |_| {}).expect("catch up");
    let head = crate::Store::head(store.as_ref());
    assert_eq!(projection.checkpoint().expect("checkpoint"), head);
    let types = |id| -> Vec<String> {
        hooks
            .db
            .deliveries(id, 10)
            .expect("list")
            .into_iter()
            .map(|d| d.event_type)
            .collect()
    };
    assert_eq!(
        types(created.id),
        ["post.created"],
        "only the subscribed type, only after creation"
    );
    assert!(types(deleted.id).is_empty());
    assert_eq!(types(all.id).len() as u64, head - all.since_seq);

    // A second projection over the same trees (a restart) queues nothing twice.
    let mut again = WebhookProjection::new(hooks.db.clone());
    assert_eq!(again.catch_up(store.as_ref(), &mut |_| {}).expect("again"), 0);
    assert_eq!(types(created.id).len(), 1);
    let next = hooks.db.next_pending(created.id).expect("read").expect("pending");
    assert_eq!(next.message_id(), format!("msg_{}_{}", next.event_id, created.id));
    assert!(
        hooks
            .create(
                &Actor::user(ulid::Ulid::new(), "bo", Role::Editor),
                NewWebhook {
                    url: "http://127.0.0.1/".into(),
                    events: vec!["*".into()],
                    description: String::new(),
                }
            )
            .is_err(),
        "admins only"
    );
}

#[test]
fn failures_retry_on_schedule_then_fail_and_410_disables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, posts, hooks) = setup(dir.path());
    let target = hook(&hooks, &["post.created"]);
    publish(&posts, "One");
    WebhookProjection::new(hooks.db.clone())
        .catch_up(store.as_ref(), &mut |_| {})
        .expect("catch up");
    let retries = [Duration::from_secs(5), Duration::from_secs(300)];
    let at = OffsetDateTime::now_utc();
    let failed = |status| Attempt {
        at,
        status,
        error: Some("boom".into()),
    };
    let mut delivery = hooks.db.next_pending(target.id).expect("read").expect("pending");
    delivery = record_attempt(&hooks.db, delivery, failed(Some(500)), &retries).expect("record");
    assert_eq!(
        (delivery.status, delivery.next_attempt_at),
        (DeliveryStatus::Pending, Some(at + Duration::from_secs(5)))
    );
    delivery = record_attempt(&hooks.db, delivery, failed(None), &retries).expect("record");
    delivery = record_attempt(&hooks.db, delivery, failed(Some(502)), &retries).expect("record");
    assert_eq!(delivery.status, DeliveryStatus::Failed);
    assert!(hooks.db.next_pending(target.id).expect("read").is_none());
    assert_eq!(
        hooks.db.get(target.id).expect("read").expect("hook").state,
        WebhookState::Failing
    );

    let delivery = hooks
        .resend(&admin(), target.id, &delivery.message_id())
        .expect("resend");
    let delivery = record_attempt(&hooks.db, delivery, failed(Some(410)), &retries).expect("record");
    assert_eq!(delivery.status, DeliveryStatus::Failed);
    let hook = hooks.db.get(target.id).expect("read").expect("hook");
    assert_eq!((hook.enabled, hook.state), (false, WebhookState::Disabled));
}
