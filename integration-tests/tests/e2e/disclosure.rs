//! Authorization before disclosure: every route × every role × every scope set.
//!
//! The routes come from the server's own route table (`quire_api::routes::ROUTES`), so a new
//! route is walked automatically. An author keeps a draft and a deleted post whose title and
//! body carry marker strings. Every principal (anonymous, each role with its full rights, and
//! each role through API tokens with every non-empty set of the role's scopes) calls every
//! method of every route, aimed at the secret post and at an id that does not exist, with a
//! stale `If-Match`. Then:
//! - a marker appears in a body or header only for principals that may read everyone's drafts;
//! - `ETag` and `Location` never come back on a refusal;
//! - a principal that may not know the post gets exactly the answer it gets for a missing id,
//!   so the status does not reveal that the post exists;
//! - nothing answers 500, and a refused write leaves the log where it was.

use quire_integration_tests::{Client, TestServer};
use quire_openapi::{EventList, PostResponse, Problem};
use reqwest::Method;
use serde_json::json;

const DRAFT_MARK: &str = "SECRET-DRAFT-MARK";
const DELETED_MARK: &str = "SECRET-DELETED-MARK";
/// An id no post has.
const MISSING: &str = "01ARZ3NDEKTSV4RRFFQ69G5FAV";

/// One caller: a name for messages, its token (none: anonymous), role and rights.
struct Principal {
    name: String,
    token: Option<String>,
    role: &'static str,
    scopes: Vec<&'static str>,
}

impl Principal {
    /// May read everyone's drafts (editors and admins with `posts:read`), or holds `admin`,
    /// which reads backups of everything.
    fn reads_drafts(&self) -> bool {
        let editor = matches!(self.role, "admin" | "editor");
        (editor && self.scopes.contains(&"posts:read")) || self.scopes.contains(&"admin")
    }

    /// May learn that another user's draft exists: editors and admins with a post right.
    fn knows_drafts(&self) -> bool {
        let editor = matches!(self.role, "admin" | "editor");
        let post_right = ["posts:read", "posts:write"].iter().any(|s| self.scopes.contains(s));
        (editor && post_right) || self.scopes.contains(&"admin")
    }
}

fn role_scopes(role: &str) -> Vec<&'static str> {
    match role {
        "admin" => vec!["posts:read", "posts:write", "posts:publish", "media:write", "admin"],
        "editor" | "author" => vec!["posts:read", "posts:write", "posts:publish", "media:write"],
        _ => vec!["posts:read", "posts:write"],
    }
}

async fn create_user(admin: &Client, name: &str, role: &str) -> Client {
    let body = json!({"username": name, "password": "user-password-1", "role": role});
    let created = admin.post_json("/api/v1/users", &body, &[]).await;
    assert_eq!(created.status(), 201, "create {name}");
    Client::login(&admin.base, name, "user-password-1").await
}

/// Every non-empty subset of `scopes`.
fn scope_sets(scopes: &[&'static str]) -> Vec<Vec<&'static str>> {
    (1..1u32 << scopes.len())
        .map(|mask| {
            let set = scopes.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0);
            set.map(|(_, s)| *s).collect()
        })
        .collect()
}

/// Every principal: anonymous, then per role its full rights, then a token for every set of
/// the role's scopes (a token never exceeds its owner).
async fn principals(admin: &Client) -> Vec<Principal> {
    let mut all = vec![Principal {
        name: "anonymous".into(),
        token: None,
        role: "none",
        scopes: vec![],
    }];
    for role in ["admin", "editor", "author", "contributor"] {
        let client = create_user(admin, &format!("reader-{role}"), role).await;
        all.push(Principal {
            name: format!("{role} (full rights)"),
            token: Some(client.token.clone()),
            role,
            scopes: role_scopes(role),
        });
        for scopes in scope_sets(&role_scopes(role)) {
            all.push(Principal {
                name: format!("{role} token {scopes:?}"),
                token: Some(client.api_token(&scopes).await),
                role,
                scopes,
            });
        }
    }
    all
}

/// The answer to one request, flattened for checks.
struct Answer {
    status: u16,
    headers: String,
    body: String,
}

async fn call(client: &Client, token: Option<&str>, method: &Method, path: &str) -> Answer {
    let mut request = client
        .http
        .request(method.clone(), client.url(path))
        .header("if-match", "\"0\"");
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if matches!(*method, Method::POST | Method::PATCH) {
        request = request.json(&json!({}));
    }
    let response = request.send().await.expect("send");
    let status = response.status().as_u16();
    let headers = format!("{:?}", response.headers());
    let body = String::from_utf8_lossy(&response.bytes().await.unwrap_or_default()).into_owned();
    Answer { status, headers, body }
}

/// `path` with its parameters filled in: posts get `post`, other ids `other`; a dataset name is
/// the owner's draft dataset when aimed at a secret post, else a name no dataset has.
fn concrete(path: &str, post: &str, other: &str) -> String {
    let id = if path.starts_with("/api/v1/posts/") {
        post
    } else {
        other
    };
    let dataset = if post == MISSING {
        "no-such-dataset"
    } else {
        SECRET_DATASET
    };
    path.replace("{id}", id).replace("{n}", "1").replace("{name}", dataset)
}

/// A draft dataset of the owner, with the draft marker in its data.
const SECRET_DATASET: &str = "secret-draft-data";

async fn head(admin: &Client) -> u64 {
    let list: EventList = admin.get("/api/v1/events?limit=1").await.json().await.expect("events");
    list.head
}

#[tokio::test]
async fn no_route_discloses_a_post_without_the_right() {
    let server = TestServer::start_with(|c| c.api.write_rate_per_minute = 0).await;
    let admin = server.admin().await;
    let owner = create_user(&admin, "owner", "author").await;
    let draft = owner
        .create_post(json!({"title": DRAFT_MARK, "body": format!("{DRAFT_MARK} body")}))
        .await;
    let deleted = owner
        .create_post(json!({"title": DELETED_MARK, "body": format!("{DELETED_MARK} body")}))
        .await;
    let gone = owner
        .request(Method::DELETE, &format!("/api/v1/posts/{}", deleted.id))
        .header("if-match", "\"1\"")
        .send()
        .await
        .expect("delete");
    assert_eq!(gone.status(), 200);
    let dataset = owner
        .request(Method::PUT, &format!("/api/v1/datasets/{SECRET_DATASET}"))
        .header("content-type", "text/csv")
        .body(format!("note\n{DRAFT_MARK}\n"))
        .send()
        .await
        .expect("put dataset");
    assert_eq!(dataset.status(), 201);
    let titled = owner
        .patch_json(
            &format!("/api/v1/datasets/{SECRET_DATASET}"),
            &json!({"title": DRAFT_MARK}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(titled.status(), 200);
    let principals = principals(&admin).await;
    let before = head(&admin).await;

    let mut checked = 0;
    for &(route, allow) in quire_api::routes::ROUTES {
        for method in allow.split(", ") {
            let method = Method::from_bytes(method.as_bytes()).expect("method");
            for secret in [&draft, &deleted] {
                for who in &principals {
                    check(&admin, who, &method, route, secret).await;
                    checked += 1;
                }
            }
        }
    }
    assert!(principals.len() > 60, "every scope set of every role");
    assert!(checked > 5000, "walked {checked} requests");
    // Every write carried a stale If-Match or an empty body: nothing may have been appended
    // except by the principals that create (an empty body creates nothing either).
    assert_eq!(head(&admin).await, before, "no refused request reached the log");
    server.stop().await;
}

async fn check(admin: &Client, who: &Principal, method: &Method, route: &str, secret: &PostResponse) {
    let token = who.token.as_deref();
    let aimed = call(admin, token, method, &concrete(route, &secret.id, MISSING)).await;
    let what = format!("{method} {route} as {} (post {})", who.name, secret.title);
    assert_ne!(aimed.status, 500, "{what}: {}", aimed.body);
    let everything = format!("{}{}", aimed.headers, aimed.body);
    if !who.reads_drafts() {
        for mark in [DRAFT_MARK, DELETED_MARK] {
            assert!(!everything.contains(mark), "{what} disclosed {mark}: {everything}");
        }
    }
    if aimed.status >= 400 {
        for header in ["\"etag\"", "\"location\""] {
            assert!(!aimed.headers.contains(header), "{what}: {header} on a refusal");
        }
        let problem: Result<Problem, _> = serde_json::from_str(&aimed.body);
        if let Ok(problem) = problem {
            assert!(
                problem.current.is_none() || who.reads_drafts(),
                "{what}: current leaked"
            );
        }
    }
    let known_by_path = route.starts_with("/api/v1/posts/") || route.starts_with("/api/v1/datasets/");
    if (route.contains("{id}") || route.contains("{name}")) && known_by_path && !who.knows_drafts() {
        let missing = call(admin, token, method, &concrete(route, MISSING, MISSING)).await;
        assert_eq!(
            aimed.status, missing.status,
            "{what}: the status tells an existing post from a missing one"
        );
    }
}

/// The regression the review found: a token with only `media:write` got the whole draft in a
/// 412's `current` by sending a stale `If-Match` to PATCH, DELETE or restore.
#[tokio::test]
async fn a_media_only_token_learns_nothing_from_a_stale_if_match() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let post = admin
        .create_post(json!({"title": DRAFT_MARK, "body": "private draft"}))
        .await;
    let media = Client {
        token: admin.api_token(&["media:write"]).await,
        ..admin.clone()
    };
    let path = format!("/api/v1/posts/{}", post.id);
    for (method, path) in [
        (Method::PATCH, path.clone()),
        (Method::DELETE, path.clone()),
        (Method::POST, format!("{path}/restore")),
    ] {
        let answer = call(&media, Some(&media.token), &method, &path).await;
        assert_eq!(answer.status, 403, "{method} {path}: {}", answer.body);
        let problem: Problem = serde_json::from_str(&answer.body).expect("problem+json");
        assert_eq!(problem.missing.as_deref(), Some("posts:write"));
        assert!(problem.current.is_none());
        assert!(!answer.body.contains(DRAFT_MARK) && !answer.headers.contains("etag"));
    }
    server.stop().await;
}

/// Contributors and authors read published posts and their own drafts, not other people's.
#[tokio::test]
async fn contributors_do_not_read_other_peoples_drafts() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let alice = create_user(&admin, "alice", "author").await;
    let carol = create_user(&admin, "carol", "contributor").await;
    let draft = alice.create_post(json!({"title": "Alice's draft"})).await;
    let public = alice
        .create_post(json!({"title": "Alice's post", "status": "published"}))
        .await;
    let own = carol.create_post(json!({"title": "Carol's draft"})).await;
    let get = |id: &str| format!("/api/v1/posts/{id}");
    assert_eq!(carol.get(&get(&draft.id)).await.status(), 404);
    assert_eq!(carol.get(&format!("{}/history", get(&draft.id))).await.status(), 404);
    assert_eq!(carol.get(&get(&public.id)).await.status(), 200);
    assert_eq!(carol.get(&get(&own.id)).await.status(), 200);
    let list: quire_openapi::PostList = carol.get("/api/v1/posts").await.json().await.expect("list");
    let titles: Vec<_> = list.items.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(titles, ["Carol's draft", "Alice's post"]);
    let events = carol.get("/api/v1/events").await;
    assert_eq!(events.status(), 403, "the log holds everyone's drafts");
    let editor = create_user(&admin, "ed", "editor").await;
    assert_eq!(editor.get(&get(&draft.id)).await.status(), 200);
    server.stop().await;
}

/// A deleted post is 410 Gone, naming the restore route; its tombstone is there on request.
#[tokio::test]
async fn a_deleted_post_is_gone_and_its_tombstone_readable_on_request() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let post = admin.create_post(json!({"title": "Short-lived"})).await;
    let path = format!("/api/v1/posts/{}", post.id);
    let deleted = admin
        .request(Method::DELETE, &path)
        .header("if-match", "\"1\"")
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), 200);
    let gone = admin.get(&path).await;
    assert_eq!(gone.status(), 410);
    assert!(gone.headers().get("etag").is_none());
    let problem: Problem = gone.json().await.expect("problem+json");
    assert_eq!(problem.problem_type, "urn:quire:problem:post-deleted");
    assert!(
        problem.detail.contains(&format!("{path}/restore")),
        "{}",
        problem.detail
    );
    let tombstone = admin.get(&format!("{path}?deleted=true")).await;
    assert_eq!(tombstone.status(), 200);
    let tombstone: PostResponse = tombstone.json().await.expect("post");
    assert!(tombstone.deleted_at.is_some());
    server.stop().await;
}

/// A restore that lost a race (or names a stale version) reports the real versions and id.
#[tokio::test]
async fn a_stale_restore_reports_the_real_versions() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let post = admin.create_post(json!({"title": "Back again"})).await;
    let path = format!("/api/v1/posts/{}", post.id);
    let deleted = admin
        .request(Method::DELETE, &path)
        .header("if-match", "\"1\"")
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), 200);
    let stale = admin
        .request(Method::POST, &format!("{path}/restore"))
        .header("if-match", "\"1\"")
        .send()
        .await
        .expect("restore");
    assert_eq!(stale.status(), 412);
    let problem: Problem = stale.json().await.expect("problem+json");
    assert!(problem.detail.contains(&post.id), "{}", problem.detail);
    assert!(
        problem.detail.contains("version 1, it is now at 2"),
        "{}",
        problem.detail
    );
    assert_eq!(problem.current.map(|c| c.version), Some(2));
    server.stop().await;
}

/// A malformed change is told what is wrong before its `If-Match` is looked at.
#[tokio::test]
async fn a_malformed_patch_is_a_400_even_with_a_stale_if_match() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let post = admin.create_post(json!({"title": "Valid"})).await;
    let path = format!("/api/v1/posts/{}", post.id);
    let long_tag = "t".repeat(500);
    let response = admin
        .patch_json(&path, &json!({"tags": [long_tag]}), &[("if-match", "\"7\"")])
        .await;
    assert_eq!(response.status(), 400);
    let problem: Problem = response.json().await.expect("problem+json");
    assert_eq!(problem.field.as_deref(), Some("tags"));
    server.stop().await;
}
