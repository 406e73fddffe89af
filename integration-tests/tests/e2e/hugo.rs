//! Interop: a `git clone` of Quire's repository builds with a real Hugo, using the minimal layout
//! in `fixtures/hugo-layout/`. Every published post gets a page; drafts, scheduled, unpublished
//! and deleted posts get none; an uploaded image in a post is on Hugo's page and in its output.
//! `scripts/test` installs Hugo; without it this test fails.

use std::path::Path;
use std::process::Command;

use quire_integration_tests::git::{git, wait_for_git};
use quire_integration_tests::{Client, TestServer};
use quire_openapi::{MediaResponse, PostResponse};
use serde_json::json;

async fn change(client: &Client, post: &PostResponse, method: reqwest::Method, path: &str, body: serde_json::Value) {
    let response = client
        .request(method, &format!("/api/v1/posts/{}{path}", post.id))
        .header("If-Match", format!("\"{}\"", post.version))
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read fixtures") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn page(public: &Path, slug: &str) -> Option<String> {
    std::fs::read_to_string(public.join("posts").join(slug).join("index.html")).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clone_builds_with_hugo_with_a_page_per_published_post() {
    let server = TestServer::start().await;
    let client = server.admin().await;
    let post = |title: &str, status: &str| json!({"title": title, "body": format!("# {title}\n\nSome *Markdown*."), "status": status, "tags": ["quire", "hugo"]});
    let photo: MediaResponse = client
        .request(reqwest::Method::POST, "/api/v1/media?alt=A%20flag")
        .header("content-type", "image/jpeg")
        .body(include_bytes!("../../fixtures/exif-orientation-6-gps.jpg").to_vec())
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("media");
    let mut hello = post("Hello Hugo", "published");
    hello["body"] = json!(format!(
        "# Hello Hugo\n\nSome *Markdown*.\n\n![A flag]({})\n",
        photo.url
    ));
    let hello = client.create_post(hello).await;
    let second = client.create_post(post("Second post", "published")).await;
    client.create_post(post("Still a draft", "draft")).await;
    let gone = client.create_post(post("Gone soon", "published")).await;
    change(&client, &gone, reqwest::Method::DELETE, "", json!(null)).await;
    let hidden = client.create_post(post("Taken back", "published")).await;
    change(&client, &hidden, reqwest::Method::PATCH, "", json!({"status": "draft"})).await;
    let later = json!({"title": "Not yet", "status": "scheduled", "publish_at": "2999-01-01T00:00:00Z"});
    client.create_post(later).await;
    change(
        &client,
        &second,
        reqwest::Method::PATCH,
        "",
        json!({"slug": "second-renamed"}),
    )
    .await;
    // A note (no title) with Micropub's extra properties, nested objects too, in its front matter.
    let note = json!({"body": "Just a *note* from the phone.", "status": "published",
        "properties": {"in-reply-to": ["https://example.org/a"], "location": [{"type": ["h-card"], "properties": {"name": ["Köln: \"Dom\""]}}]}});
    let note = client.create_post(note).await;
    wait_for_git(&client).await;

    let work = tempfile::tempdir().expect("tempdir");
    let site = work.path().join("site");
    let repo = server.dir.path().join("content.git");
    git(
        None,
        &["clone", "--quiet", &repo.to_string_lossy(), &site.to_string_lossy()],
    );
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hugo-layout/layouts");
    copy_dir(&fixtures, &site.join("layouts"));
    let public = work.path().join("public");
    let hugo = Command::new("hugo")
        .arg("--source")
        .arg(&site)
        .arg("--destination")
        .arg(&public)
        .output()
        .unwrap_or_else(|e| panic!("running hugo failed ({e}); scripts/test installs it: apt-get install -y hugo"));
    assert!(
        hugo.status.success(),
        "hugo failed: {}{}",
        String::from_utf8_lossy(&hugo.stdout),
        String::from_utf8_lossy(&hugo.stderr)
    );

    let page_of_hello = page(&public, &hello.slug).expect("a page for a published post");
    assert!(page_of_hello.contains("<h1>Hello Hugo</h1>"), "{page_of_hello}");
    assert!(
        page_of_hello.contains("<em>Markdown</em>"),
        "the body is rendered: {page_of_hello}"
    );
    assert!(page_of_hello.contains("quire, hugo"), "tags: {page_of_hello}");
    assert!(
        page_of_hello.contains(&format!("src=\"{}\"", photo.url)),
        "the image: {page_of_hello}"
    );
    let copied = std::fs::metadata(public.join(photo.url.trim_start_matches('/'))).expect("the image in Hugo's output");
    assert_eq!(copied.len(), photo.bytes, "Hugo copies static/media as it is");
    assert!(page(&public, "second-renamed")
        .expect("renamed post")
        .contains("Second post"));
    let alias = page(&public, &second.slug).expect("the old slug redirects");
    assert!(alias.contains("/posts/second-renamed/"), "{alias}");
    for slug in ["still-a-draft", "gone-soon", "taken-back", "not-yet"] {
        assert!(page(&public, slug).is_none(), "{slug} must have no page");
    }
    let note_page = page(&public, &note.slug).expect("a page for a note");
    assert!(note_page.contains("<em>note</em>"), "{note_page}");
    let file = git(
        Some(&repo),
        &[
            "show",
            &format!(
                "main:content/posts/{}/{}.md",
                note.publish_at.expect("published").year(),
                note.slug
            ),
        ],
    );
    assert!(
        file.contains("title: \"\"") && file.contains("properties: {\"in-reply-to\""),
        "{file}"
    );
    let index = std::fs::read_to_string(public.join("index.html")).expect("home page");
    assert!(
        index.contains("Hello Hugo") && !index.contains("Still a draft"),
        "{index}"
    );
    server.stop().await;
}
