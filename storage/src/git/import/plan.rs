//! Pushed commits → event batches, checked as API writes are: rights (role ∩ scopes,
//! ownership, `posts:publish` for published content), front matter, slugs.

use std::collections::HashMap;
use std::path::Path;

use time::OffsetDateTime;
use ulid::Ulid;

use crate::access::{Actor, Scope};
use crate::event::{Envelope, EventPayload, Origin};
use crate::post::{new_post_id, normalize_tags, normalize_title, validate_slug, Post, Status};
use crate::posts::{normalize_patch, patch_events, PostPatch};
use crate::store::{AppendBatch, AppendOutcome, Store};

use super::front::{parse_post_file, FrontMatter};
use super::read::{FileChange, PushedCommit};

/// What a push will append: one batch per post and commit, in order, each with the path it
/// came from (for messages).
#[derive(Debug, Clone, Default)]
pub struct PushPlan {
    pub batches: Vec<(String, AppendBatch)>,
    /// How many of the pushed commits the git projection will adopt as they are (the first
    /// ones, in order; see [`super::adopt`]).
    pub adopted: usize,
}

impl PushPlan {
    /// Appends every batch in one transaction. `Ok(Err(messages))` if the log refused one (a
    /// post changed meanwhile, a slug is taken): then nothing was appended.
    pub fn append(self, store: &dyn Store) -> crate::Result<Result<Vec<Envelope>, Vec<String>>> {
        if self.batches.is_empty() {
            return Ok(Ok(Vec::new()));
        }
        let paths: Vec<String> = self.batches.iter().map(|(p, _)| p.clone()).collect();
        let outcomes = store.append_all(self.batches.into_iter().map(|(_, b)| b).collect())?;
        let mut events = Vec::new();
        for (n, outcome) in outcomes.into_iter().enumerate() {
            let path = paths.get(n).map_or("", String::as_str);
            match outcome {
                AppendOutcome::Appended { events: stored, .. } => events.extend(stored),
                AppendOutcome::VersionConflict { .. } => {
                    return Ok(Err(vec![
                        "a post changed while the push was checked; pull and push again".into(),
                    ]))
                }
                AppendOutcome::SlugTaken { slug, .. } => {
                    return Ok(Err(vec![format!("{path}: slug '{slug}' is taken by another post")]))
                }
            }
        }
        Ok(Ok(events))
    }
}

/// The plan for `commits` (oldest first) pushed by `actor`, or every problem found, each
/// starting with the path it is about.
pub fn plan_push(
    store: &dyn Store,
    actor: &Actor,
    commits: &[PushedCommit],
    now: OffsetDateTime,
) -> crate::Result<Result<PushPlan, Vec<String>>> {
    let mut planner = Planner {
        store,
        actor,
        now,
        posts: HashMap::new(),
        by_path: super::adopt::files_in_git(store)?,
        plan: PushPlan::default(),
        problems: Vec::new(),
    };
    if let Err(e) = actor.require(Scope::PostsWrite) {
        return Ok(Err(vec![e.to_string()]));
    }
    for commit in commits {
        planner.commit(commit)?;
    }
    Ok(if planner.problems.is_empty() {
        super::adopt::mark(&mut planner.plan, commits);
        Ok(planner.plan)
    } else {
        Err(planner.problems)
    })
}

struct Planner<'a> {
    store: &'a dyn Store,
    actor: &'a Actor,
    now: OffsetDateTime,
    /// Posts as they are after the batches planned so far (`None`: no such post).
    posts: HashMap<Ulid, Option<Post>>,
    /// Posts whose file has no `id`: those of adopted commits (from the log), then those this
    /// push creates.
    by_path: HashMap<String, Ulid>,
    plan: PushPlan,
    problems: Vec<String>,
}

/// Whether Quire models the file at `path`.
fn is_post_path(path: &str) -> bool {
    path.starts_with("content/posts/") && path.ends_with(".md")
}

impl Planner<'_> {
    fn commit(&mut self, commit: &PushedCommit) -> crate::Result<()> {
        let short = commit.id.get(..12).unwrap_or(&commit.id);
        if commit.parents > 1 {
            self.problems.push(format!(
                "commit {short} is a merge; rebase onto main instead of merging"
            ));
            return Ok(());
        }
        let mut upserts = Vec::new();
        for change in &commit.changes {
            if !is_post_path(&change.path) {
                self.problems.push(format!(
                    "{}: Quire does not import this file (only Markdown posts under content/posts/)",
                    change.path
                ));
            } else if let Some(after) = &change.after {
                match parse_post_file(after) {
                    Ok(front) => upserts.push((change, front)),
                    Err(message) => self.problems.push(format!("{}: {message}", change.path)),
                }
            }
        }
        let mut touched = Vec::new();
        for (change, front) in upserts {
            if let Some(id) = self.upsert(commit, change, front)? {
                touched.push(id);
            }
        }
        for change in commit
            .changes
            .iter()
            .filter(|c| c.after.is_none() && is_post_path(&c.path))
        {
            self.delete(commit, change, &touched)?;
        }
        Ok(())
    }

    /// The post `id` as planned so far.
    fn post(&mut self, id: Ulid) -> crate::Result<Option<Post>> {
        if let Some(post) = self.posts.get(&id) {
            return Ok(post.clone());
        }
        let post = self.store.post(id)?.filter(|p| self.actor.may_see(p));
        self.posts.insert(id, post.clone());
        Ok(post)
    }

    /// Plans a new or changed file; returns the post it is about.
    fn upsert(
        &mut self,
        commit: &PushedCommit,
        change: &FileChange,
        front: FrontMatter,
    ) -> crate::Result<Option<Ulid>> {
        let path = change.path.as_str();
        let id = front
            .id
            .or_else(|| self.by_path.get(path).copied())
            .or_else(|| change.before.as_deref().and_then(|b| parse_post_file(b).ok()?.id));
        let slug = front.slug.clone().unwrap_or_else(|| stem(path));
        let current = match id {
            Some(id) => self.post(id)?,
            None => None,
        };
        if let (Some(id), None) = (front.id, &current) {
            // Missing and hidden posts get the same answer, so a push cannot probe for drafts.
            self.problems.push(format!(
                "{path}: 'id' {id} is not a post you can edit; remove the id line to create a new post"
            ));
            return Ok(None);
        }
        let result = match &current {
            Some(current) => self.update_events(current, front, slug),
            None => self.create_events(front, slug),
        };
        let events = match result {
            Ok(events) => events,
            Err(e) => {
                self.problems.push(format!("{path}: {e}"));
                return Ok(None);
            }
        };
        let id = current.as_ref().map_or_else(new_post_id, |p| p.id);
        if front_has_no_id(change) {
            self.by_path.insert(path.to_owned(), id);
        }
        self.add_batch(commit, change, id, current, events);
        Ok(Some(id))
    }

    fn create_events(&self, front: FrontMatter, slug: String) -> crate::Result<Vec<EventPayload>> {
        let status = if front.draft { Status::Draft } else { Status::Published };
        self.actor.check_may_set_status(status)?;
        validate_slug(&slug)?;
        Ok(vec![EventPayload::PostCreated {
            slug,
            title: normalize_title(&front.title)?,
            body: front.body,
            tags: normalize_tags(&front.tags)?,
            status,
            publish_at: (status == Status::Published).then(|| front.date.unwrap_or(self.now)),
            author: self.actor.username.clone(),
            properties: Default::default(),
        }])
    }

    fn update_events(&self, current: &Post, front: FrontMatter, slug: String) -> crate::Result<Vec<EventPayload>> {
        self.actor.check_may_edit(current)?;
        if !current.is_live() {
            return Err(crate::Error::InvalidState {
                id: current.id,
                message: format!("post {} is deleted; restore it through the API first", current.id),
            });
        }
        let status = match (front.draft, current.status) {
            (true, Status::Scheduled) => Status::Scheduled,
            (true, _) => Status::Draft,
            (false, _) => Status::Published,
        };
        if status != current.status {
            self.actor.check_may_set_status(status)?;
        }
        let publish_at = (status == Status::Published && current.status == Status::Published)
            .then_some(front.date)
            .flatten();
        let patch = normalize_patch(PostPatch {
            title: Some(front.title),
            body: Some(front.body),
            slug: Some(slug),
            tags: Some(front.tags),
            status: Some(status),
            publish_at,
            properties: None,
        })?;
        patch_events(current, patch, self.now)
    }

    /// Plans a deleted file, unless its post was written elsewhere in the same commit (a rename).
    fn delete(&mut self, commit: &PushedCommit, change: &FileChange, touched: &[Ulid]) -> crate::Result<()> {
        let path = change.path.as_str();
        let id = change
            .before
            .as_deref()
            .and_then(|b| parse_post_file(b).ok()?.id)
            .or_else(|| self.by_path.get(path).copied());
        let Some(id) = id else {
            self.problems.push(format!(
                "{path}: the deleted file names no post (no 'id' in its front matter)"
            ));
            return Ok(());
        };
        if touched.contains(&id) {
            return Ok(());
        }
        let Some(current) = self.post(id)?.filter(Post::is_live) else {
            return Ok(());
        };
        if let Err(e) = self.actor.check_may_edit(&current) {
            self.problems.push(format!("{path}: {e}"));
            return Ok(());
        }
        self.add_batch(commit, change, id, Some(current), vec![EventPayload::PostDeleted {}]);
        Ok(())
    }

    /// Adds a batch and folds its events into the planned state.
    fn add_batch(
        &mut self,
        commit: &PushedCommit,
        change: &FileChange,
        id: Ulid,
        current: Option<Post>,
        events: Vec<EventPayload>,
    ) {
        let path = change.path.as_str();
        if events.is_empty() {
            return;
        }
        let expected_version = current.as_ref().map_or(0, |p| p.version);
        let mut post = current;
        for (n, payload) in (1..).zip(&events) {
            let envelope = Envelope {
                seq: 0,
                id: Ulid::nil(),
                stream: id,
                version: expected_version + n,
                actor: self.actor.username.clone(),
                at: self.now,
                idempotency_key: None,
                origin: None,
                payload: payload.clone(),
            };
            post = Post::apply(post, &envelope);
        }
        self.posts.insert(id, post);
        let batch = AppendBatch {
            stream: id,
            expected_version,
            actor: self.actor.username.clone(),
            at: self.now,
            idempotency: None,
            events,
            origin: Some(Origin {
                path: Some(path.to_owned()),
                // Post files are UTF-8: `parse_post_file` refused the push otherwise.
                file: (change.after.as_deref()).map(|a| String::from_utf8_lossy(a).into_owned()),
                ..Origin::git_push(commit.id.clone())
            }),
        };
        self.plan.batches.push((path.to_owned(), batch));
    }
}

/// Whether the file after the change has no `id` in its front matter.
fn front_has_no_id(change: &FileChange) -> bool {
    change
        .after
        .as_deref()
        .and_then(|a| parse_post_file(a).ok())
        .is_some_and(|f| f.id.is_none())
}

/// The file name without `.md`: the slug of a file whose front matter has none.
fn stem(path: &str) -> String {
    Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}
