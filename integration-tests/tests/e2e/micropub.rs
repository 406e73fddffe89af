//! Micropub, case by case after the micropub.rocks server tests (each test's name carries the
//! case's number), plus the retry without `Idempotency-Key` that must publish once, discovery,
//! notes on the site with microformats2, and the event's recorded source.

use std::time::Duration;

use quire_integration_tests::{Client, TestClock, TestServer};
use quire_openapi::{EventList, PostList, PostResponse};
use reqwest::Method;
use serde_json::{json, Value};

/// 64×32 JPEG with EXIF (orientation and a GPS latitude).
const JPEG: &[u8] = include_bytes!("../../fixtures/exif-orientation-6-gps.jpg");
/// 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0A, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];
/// 1×1 GIF.
const GIF: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
    0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02,
    0x02, 0x44, 0x01, 0x00, 0x3B,
];
const BOUNDARY: &str = "quire-micropub-boundary";

async fn server() -> TestServer {
    TestServer::start_with(|c| c.api.write_rate_per_minute = 0).await
}

async fn form(client: &Client, body: &str) -> reqwest::Response {
    client
        .request(Method::POST, "/micropub")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .expect("POST /micropub")
}

async fn post_json(client: &Client, body: &Value) -> reqwest::Response {
    client.post_json("/micropub", body, &[]).await
}

enum Part<'a> {
    Text(&'a str, &'a str),
    File(&'a str, &'a str, &'a [u8]),
}

fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        match part {
            Part::Text(name, value) => body.extend_from_slice(
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            ),
            Part::File(name, file, bytes) => {
                body.extend_from_slice(
                    format!(
                        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\n\
                         Content-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
                body.extend_from_slice(b"\r\n");
            }
        }
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn send_multipart(client: &Client, path: &str, parts: &[Part<'_>]) -> reqwest::Response {
    client
        .request(Method::POST, path)
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(multipart(parts))
        .send()
        .await
        .expect("multipart POST")
}

/// The `Location` of a 201, checked.
fn location(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), 201, "a create answers 201");
    let location = response.headers()["location"].to_str().expect("ascii").to_owned();
    assert!(location.contains("/posts/"), "{location}");
    location
}

async fn create_form(client: &Client, body: &str) -> String {
    let response = form(client, body).await;
    let status = response.status();
    if status != 201 {
        panic!("{status}: {:?}", response.text().await);
    }
    location(&response)
}

async fn create_json(client: &Client, body: Value) -> String {
    let response = post_json(client, &body).await;
    let status = response.status();
    if status != 201 {
        panic!("{status}: {:?}", response.text().await);
    }
    location(&response)
}

/// `q=source` of the post at `url`: its properties.
async fn source(client: &Client, url: &str) -> Value {
    let path = format!("/micropub?q=source&url={}", enc(url));
    let response = client.get(&path).await;
    assert_eq!(response.status(), 200, "q=source");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["type"], json!(["h-entry"]));
    body["properties"].clone()
}

fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The post at `url` through the REST API.
async fn post_at(client: &Client, url: &str) -> PostResponse {
    let slug = url.trim_end_matches('/').rsplit('/').next().expect("slug");
    let list: PostList = client.get("/api/v1/posts?limit=200").await.json().await.expect("list");
    list.items
        .into_iter()
        .find(|p| p.slug == slug)
        .unwrap_or_else(|| panic!("no post with slug {slug}"))
}

fn error_of(body: &Value) -> &str {
    body["error"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn case_100_101_107_form_creates_with_categories() {
    let server = server().await;
    let admin = server.admin().await;
    let url = create_form(&admin, "h=entry&content=Hello+Micropub+world%21").await;
    let post = post_at(&admin, &url).await;
    assert_eq!((post.title.as_str(), post.body.as_str()), ("", "Hello Micropub world!"));
    assert_eq!(
        post.slug, "hello-micropub-world",
        "a note's slug comes from its first words"
    );
    assert_eq!(post.status, quire_openapi::PostStatus::Published);
    let many = create_form(
        &admin,
        "h=entry&content=Two+tags&category[]=indieweb&category[]=micropub",
    )
    .await;
    assert_eq!(
        source(&admin, &many).await["category"],
        json!(["indieweb", "micropub"]),
        "101"
    );
    let one = create_form(&admin, "h=entry&content=One+tag&category=solo").await;
    assert_eq!(post_at(&admin, &one).await.tags, ["solo"], "107");
    server.stop().await;
}

#[tokio::test]
async fn case_104_a_form_photo_by_url_is_kept() {
    let server = server().await;
    let admin = server.admin().await;
    let url = create_form(
        &admin,
        "h=entry&content=Nice+sunset&photo=https%3A%2F%2Fmicropub.rocks%2Fmedia%2Fsunset.jpg",
    )
    .await;
    let props = source(&admin, &url).await;
    assert_eq!(props["photo"], json!(["https://micropub.rocks/media/sunset.jpg"]));
    assert_eq!(props["content"], json!(["Nice sunset"]));
    server.stop().await;
}

#[tokio::test]
async fn case_200_201_json_creates_with_name_and_categories() {
    let server = server().await;
    let admin = server.admin().await;
    let url = create_json(
        &admin,
        json!({"type": ["h-entry"], "properties": {"content": ["JSON note"], "category": ["a", "b"]}}),
    )
    .await;
    let props = source(&admin, &url).await;
    assert_eq!(props["content"], json!(["JSON note"]));
    assert_eq!(props["category"], json!(["a", "b"]));
    assert!(props.get("name").is_none(), "a note has no name");
    let titled = create_json(
        &admin,
        json!({"type": ["h-entry"], "properties": {"name": ["An article"], "content": ["Long text"], "mp-slug": ["my-article"]}}),
    )
    .await;
    assert!(titled.ends_with("/posts/my-article/"), "{titled}");
    let post = post_at(&admin, &titled).await;
    assert_eq!(post.title, "An article");
    assert!(
        post.properties.is_empty(),
        "mp-slug is a command, not a property: {:?}",
        post.properties
    );
    server.stop().await;
}

#[tokio::test]
async fn case_202_html_content_is_sanitized_on_the_site_and_kept_in_source() {
    let server = server().await;
    let admin = server.admin().await;
    let html = "<p>This post has <b>bold</b> and <i>italic</i> text.<script>alert(1)</script></p>";
    let url = create_json(
        &admin,
        json!({"type": ["h-entry"], "properties": {"content": [{"html": html}]}}),
    )
    .await;
    assert_eq!(source(&admin, &url).await["content"], json!([{"html": html}]));
    let page = site_page(&admin, &url).await;
    assert!(page.contains("<b>bold</b>"), "{page}");
    assert!(!page.contains("<script>alert(1)"), "the HTML is sanitized");
    server.stop().await;
}

#[tokio::test]
async fn case_203_205_206_photos_by_url_with_alt_text() {
    let server = server().await;
    let admin = server.admin().await;
    let one = json!(["https://micropub.rocks/media/sunset.jpg"]);
    let url = create_json(
        &admin,
        json!({"type": ["h-entry"], "properties": {"content": ["203"], "photo": one}}),
    )
    .await;
    assert_eq!(source(&admin, &url).await["photo"], one);
    let alt = json!([{"value": "https://micropub.rocks/media/sunset.jpg", "alt": "Photo of a sunset"}]);
    let url = create_json(
        &admin,
        json!({"type": ["h-entry"], "properties": {"content": ["205"], "photo": alt}}),
    )
    .await;
    assert_eq!(source(&admin, &url).await["photo"], alt);
    let page = site_page(&admin, &url).await;
    assert!(
        page.contains(r#"class="u-photo" src="https://micropub.rocks/media/sunset.jpg" alt="Photo of a sunset""#),
        "{page}"
    );
    let two = json!([
        "https://micropub.rocks/media/sunset.jpg",
        "https://micropub.rocks/media/city-at-night.jpg"
    ]);
    let url = create_json(
        &admin,
        json!({"type": ["h-entry"], "properties": {"content": ["206"], "photo": two}}),
    )
    .await;
    assert_eq!(source(&admin, &url).await["photo"], two);
    server.stop().await;
}

#[tokio::test]
async fn case_204_nested_objects_and_replies_are_kept_and_marked_up() {
    let server = server().await;
    let admin = server.admin().await;
    let location = json!([{"type": ["h-card"], "properties": {"name": ["Portland"], "latitude": ["45.5"]}}]);
    let url = create_json(
        &admin,
        json!({"type": ["h-entry"], "properties": {
            "content": ["Replying from Portland"],
            "in-reply-to": ["https://example.org/original"],
            "location": location,
            "syndication": ["https://social.example/1"],
        }}),
    )
    .await;
    let props = source(&admin, &url).await;
    assert_eq!(props["location"], location);
    assert_eq!(props["in-reply-to"], json!(["https://example.org/original"]));
    assert_eq!(props["syndication"], json!(["https://social.example/1"]));
    let page = site_page(&admin, &url).await;
    assert!(
        page.contains(r#"class="u-in-reply-to" href="https://example.org/original""#),
        "{page}"
    );
    assert!(page.contains("h-entry") && page.contains("e-content") && page.contains("dt-published"));
    assert!(
        !page.contains(r#"<h1 class="p-name">"#),
        "a note has no p-name heading: {page}"
    );
    let mut item = None;
    for _ in 0..200 {
        let feed: Value = admin.get("/feed.json").await.json().await.expect("json feed");
        item = feed["items"]
            .as_array()
            .and_then(|items| items.iter().find(|i| i["url"] == json!(url)).cloned());
        if item.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let item = item.expect("the note is in the JSON feed");
    assert!(item.get("title").is_none(), "a note's feed item has no title: {item}");
    let atom = admin.get("/feed.xml").await.text().await.expect("atom");
    assert!(atom.contains("<title>Replying from Portland</title>"), "{atom}");
    server.stop().await;
}

/// The rendered page of the post at `url` (waits for the site projection).
async fn site_page(client: &Client, url: &str) -> String {
    let path = &url[url.find("/posts/").expect("a post url")..];
    for _ in 0..200 {
        let response = client.get(path).await;
        if response.status() == 200 {
            return response.text().await.expect("page");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{path} was never rendered");
}

#[tokio::test]
async fn case_300_301_multipart_photos_go_through_the_media_service() {
    let server = server().await;
    let admin = server.admin().await;
    let response = send_multipart(
        &admin,
        "/micropub",
        &[
            Part::Text("h", "entry"),
            Part::Text("content", "One photo"),
            Part::File("photo", "a.jpg", JPEG),
        ],
    )
    .await;
    let url = location(&response);
    let photos = source(&admin, &url).await["photo"].clone();
    let photos = photos.as_array().expect("photo");
    assert_eq!(photos.len(), 1);
    let photo = photos[0].as_str().expect("a URL");
    let path = &photo[photo.find("/media/").expect("a media URL")..];
    let served = admin.get(path).await;
    assert_eq!(served.status(), 200);
    let bytes = served.bytes().await.expect("bytes");
    assert!(
        !bytes.windows(6).any(|w| w == b"Exif\0\0"),
        "EXIF stripped by the media service"
    );
    let response = send_multipart(
        &admin,
        "/micropub",
        &[
            Part::Text("h", "entry"),
            Part::Text("content", "Two photos"),
            Part::File("photo[]", "a.png", PNG),
            Part::File("photo[]", "b.gif", GIF),
        ],
    )
    .await;
    let url = location(&response);
    assert_eq!(source(&admin, &url).await["photo"].as_array().map(Vec::len), Some(2));
    server.stop().await;
}

#[tokio::test]
async fn case_400_to_405_updates() {
    let server = server().await;
    let admin = server.admin().await;
    let url = create_json(
        &admin,
        json!({"type": ["h-entry"], "properties": {"content": ["Original"], "category": ["foo", "bar"], "syndication": ["https://a.example/1"]}}),
    )
    .await;
    let update = |body: Value| {
        let admin = admin.clone();
        let url = url.clone();
        async move {
            let mut body = body;
            body["action"] = json!("update");
            body["url"] = json!(url);
            post_json(&admin, &body).await
        }
    };
    assert_eq!(
        update(json!({"replace": {"content": ["Replaced"]}})).await.status(),
        204,
        "400"
    );
    assert_eq!(post_at(&admin, &url).await.body, "Replaced");
    assert_eq!(update(json!({"add": {"category": ["baz"]}})).await.status(), 204, "401");
    assert_eq!(source(&admin, &url).await["category"], json!(["foo", "bar", "baz"]));
    assert_eq!(
        update(json!({"add": {"like-of": ["https://b.example/2"]}}))
            .await
            .status(),
        204,
        "402"
    );
    assert_eq!(source(&admin, &url).await["like-of"], json!(["https://b.example/2"]));
    assert_eq!(
        update(json!({"delete": {"category": ["foo"]}})).await.status(),
        204,
        "403"
    );
    assert_eq!(source(&admin, &url).await["category"], json!(["bar", "baz"]));
    assert_eq!(update(json!({"delete": ["syndication"]})).await.status(), 204, "404");
    assert!(source(&admin, &url).await.get("syndication").is_none());
    let before = post_at(&admin, &url).await.version;
    let bad = update(json!({"replace": {"content": "not an array"}})).await;
    assert_eq!(bad.status(), 400, "405");
    assert_eq!(error_of(&bad.json().await.expect("json")), "invalid_request");
    assert_eq!(
        post_at(&admin, &url).await.version,
        before,
        "a refused update changes nothing"
    );
    server.stop().await;
}

#[tokio::test]
async fn case_500_to_503_delete_and_undelete_form_and_json() {
    let server = server().await;
    let admin = server.admin().await;
    let url = create_form(&admin, "h=entry&content=Short+lived").await;
    let page = &url[url.find("/posts/").expect("post url")..];
    site_page(&admin, &url).await;
    let deleted = form(&admin, &format!("action=delete&url={}", enc(&url))).await;
    assert_eq!(deleted.status(), 204, "500");
    assert_eq!(
        admin
            .get(&format!("/micropub?q=source&url={}", enc(&url)))
            .await
            .status(),
        400
    );
    let restored = form(&admin, &format!("action=undelete&url={}", enc(&url))).await;
    assert_eq!(restored.status(), 204, "502");
    assert_eq!(source(&admin, &url).await["content"], json!(["Short lived"]));
    assert_eq!(
        post_json(&admin, &json!({"action": "delete", "url": url}))
            .await
            .status(),
        204,
        "501"
    );
    let mut gone = false;
    for _ in 0..200 {
        if admin.get(page).await.status() == 404 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(gone, "a deleted post leaves the site");
    assert_eq!(
        post_json(&admin, &json!({"action": "undelete", "url": url}))
            .await
            .status(),
        204,
        "503"
    );
    assert_eq!(post_at(&admin, &url).await.body, "Short lived");
    server.stop().await;
}

#[tokio::test]
async fn case_600_to_603_queries() {
    let server = server().await;
    let admin = server.admin().await;
    let config: Value = admin.get("/micropub?q=config").await.json().await.expect("config");
    let media = config["media-endpoint"].as_str().expect("600: media-endpoint");
    assert!(media.ends_with("/micropub/media"));
    assert!(config["post-types"].as_array().is_some_and(|t| !t.is_empty()));
    assert_eq!(config["syndicate-to"], json!([]));
    let syndicate: Value = admin.get("/micropub?q=syndicate-to").await.json().await.expect("601");
    assert_eq!(syndicate, json!({"syndicate-to": []}));
    let url = create_json(
        &admin,
        json!({"type": ["h-entry"], "properties": {"name": ["Queried"], "content": ["Body"], "category": ["q1", "q2"]}}),
    )
    .await;
    let all = source(&admin, &url).await;
    assert_eq!(
        (all["name"].clone(), all["content"].clone()),
        (json!(["Queried"]), json!(["Body"])),
        "602"
    );
    let path = format!(
        "/micropub?q=source&properties[]=content&properties[]=category&url={}",
        enc(&url)
    );
    let some: Value = admin.get(&path).await.json().await.expect("603");
    assert_eq!(
        some,
        json!({"properties": {"content": ["Body"], "category": ["q1", "q2"]}})
    );
    let categories: Value = admin
        .get("/micropub?q=category&filter=q")
        .await
        .json()
        .await
        .expect("category");
    assert_eq!(categories, json!({"categories": ["q1", "q2"]}));
    let unknown = admin.get("/micropub?q=nothing").await;
    assert_eq!(unknown.status(), 400);
    server.stop().await;
}

#[tokio::test]
async fn case_700_701_702_media_endpoint_takes_jpg_png_and_gif() {
    let server = server().await;
    let admin = server.admin().await;
    for (case, name, bytes) in [("700", "a.jpg", JPEG), ("701", "b.png", PNG), ("702", "c.gif", GIF)] {
        let response = send_multipart(&admin, "/micropub/media", &[Part::File("file", name, bytes)]).await;
        assert_eq!(response.status(), 201, "{case}");
        let url = response.headers()["location"].to_str().expect("ascii").to_owned();
        let path = &url[url.find("/media/").expect("a media URL")..];
        assert_eq!(admin.get(path).await.status(), 200, "{case}: the file is served");
    }
    let media = admin.with_token(&["posts:read"]).await;
    let refused = send_multipart(&media, "/micropub/media", &[Part::File("file", "a.jpg", JPEG)]).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(error_of(&refused.json().await.expect("json")), "insufficient_scope");
    server.stop().await;
}

#[tokio::test]
async fn case_800_to_805_authentication() {
    let server = server().await;
    let admin = server.admin().await;
    let script = admin
        .with_token(&["posts:read", "posts:write", "posts:publish", "media:write"])
        .await;
    create_form(&script, "h=entry&content=Header+token").await;
    let anonymous = Client {
        token: String::new(),
        ..admin.clone()
    };
    let in_body = format!("h=entry&content=Body+token&access_token={}", script.token);
    let response = anonymous
        .http
        .post(anonymous.url("/micropub"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(in_body)
        .send()
        .await
        .expect("801");
    let url = location(&response);
    let props = source(&admin, &url).await;
    assert!(
        props.get("access_token").is_none(),
        "802: the token is not a property: {props}"
    );
    let post = post_at(&admin, &url).await;
    assert!(!format!("{post:?}").contains(&script.token), "802");
    let events: EventList = admin
        .get("/api/v1/events?limit=1000")
        .await
        .json()
        .await
        .expect("events");
    assert!(
        !serde_json::to_string(&events.events)
            .expect("json")
            .contains(&script.token),
        "802: not in the log"
    );
    let none = anonymous
        .http
        .post(anonymous.url("/micropub"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("h=entry&content=No+token")
        .send()
        .await
        .expect("803");
    assert_eq!(none.status(), 401, "803");
    assert_eq!(error_of(&none.json().await.expect("json")), "unauthorized");
    let read_only = admin.with_token(&["posts:read"]).await;
    let narrow = form(&read_only, "h=entry&content=Not+allowed").await;
    assert_eq!(narrow.status(), 403, "804");
    assert_eq!(error_of(&narrow.json().await.expect("json")), "insufficient_scope");
    let drafts_only = admin.with_token(&["posts:write"]).await;
    assert_eq!(
        form(&drafts_only, "h=entry&content=Needs+publish").await.status(),
        403,
        "804: publishing needs posts:publish"
    );
    let draft = create_form(&drafts_only, "h=entry&content=A+draft&post-status=draft").await;
    assert_eq!(post_at(&admin, &draft).await.status, quire_openapi::PostStatus::Draft);
    let both = form(&script, &format!("h=entry&content=Both&access_token={}", script.token)).await;
    assert_eq!(both.status(), 400, "805");
    assert_eq!(error_of(&both.json().await.expect("json")), "invalid_request");
    let list: PostList = admin.get("/api/v1/posts?limit=200").await.json().await.expect("list");
    assert!(!list
        .items
        .iter()
        .any(|p| p.body == "Both" || p.body == "Not allowed" || p.body == "No token"));
    server.stop().await;
}

#[tokio::test]
async fn a_create_retried_without_idempotency_key_publishes_once_within_the_window() {
    let clock = TestClock::new();
    let server = TestServer::start_with(|c| {
        c.api.write_rate_per_minute = 0;
        clock.install(c);
    })
    .await;
    let admin = server.admin().await;
    let phone = admin
        .with_token(&["posts:read", "posts:write", "posts:publish", "media:write"])
        .await;
    let body = "h=entry&content=Posted+from+a+bad+connection&category=retry";
    // The first answer is lost (the client gives up at once), then the phone retries twice.
    let lost = phone
        .http
        .post(phone.url("/micropub"))
        .bearer_auth(&phone.token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .timeout(Duration::from_millis(1))
        .send()
        .await;
    drop(lost);
    let (a, b) = tokio::join!(form(&phone, body), form(&phone, body));
    let (a, b) = (location(&a), location(&b));
    let third = location(&form(&phone, body).await);
    assert_eq!(a, b);
    assert_eq!(a, third);
    let list: PostList = admin.get("/api/v1/posts?limit=200").await.json().await.expect("list");
    let copies = list
        .items
        .iter()
        .filter(|p| p.body == "Posted from a bad connection")
        .count();
    assert_eq!(copies, 1, "one post for three sends");
    // Another token (another client) with the same words is a new post; so is the same
    // client after the window (10 minutes by default).
    let other = admin.with_token(&["posts:write", "posts:publish"]).await;
    let second = location(&form(&other, body).await);
    assert_ne!(second, a);
    clock.advance(time::Duration::minutes(11));
    let later = location(&form(&phone, body).await);
    assert_ne!(later, a);
    let list: PostList = admin.get("/api/v1/posts?limit=200").await.json().await.expect("list");
    assert_eq!(
        list.items
            .iter()
            .filter(|p| p.body == "Posted from a bad connection")
            .count(),
        3
    );
    server.stop().await;
}

#[tokio::test]
async fn discovery_and_the_events_source() {
    let server = server().await;
    let admin = server.admin().await;
    let url = admin
        .request(Method::POST, "/micropub")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("user-agent", "Quill/1.0 (+https://quill.p3k.io)")
        .body("h=entry&content=From+Quill")
        .send()
        .await
        .expect("create");
    let url = location(&url);
    site_page(&admin, &url).await;
    let home = admin.get("/").await;
    assert_eq!(home.status(), 200);
    let link = home
        .headers()
        .get("link")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(link.contains("</micropub>; rel=\"micropub\""), "{link}");
    let page = home.text().await.expect("home");
    assert!(page.contains(r#"<link rel="micropub" href="/micropub">"#), "{page}");
    let post = post_at(&admin, &url).await;
    let history: quire_openapi::PostHistory = admin
        .get(&format!("/api/v1/posts/{}/history", post.id))
        .await
        .json()
        .await
        .expect("history");
    let created = &history.events[0];
    let origin = created.origin.as_ref().expect("a Micropub event names its origin");
    assert_eq!(origin.source, "micropub");
    assert_eq!(origin.client.as_deref(), Some("Quill"));
    server.stop().await;
}

/// A Micropub post's extra properties, source and client live in git (front matter and
/// trailers) exactly enough that `quire verify` agrees and a restore from git alone brings them
/// back.
#[tokio::test]
async fn micropub_events_verify_and_come_back_from_git_with_their_source() {
    use quire_integration_tests::git::{quire, wait_for_git};
    let keep = tempfile::tempdir().expect("tempdir");
    let data = keep.path().join("data");
    let server = quire_integration_tests::BinaryServer::start(&data).await;
    let admin = Client::login(
        &server.base,
        quire_integration_tests::ADMIN.0,
        quire_integration_tests::ADMIN.1,
    )
    .await;
    let url = admin
        .request(Method::POST, "/micropub")
        .header("content-type", "application/json")
        .header("user-agent", "Indigenous/2.0")
        .json(&json!({"type": ["h-entry"], "properties": {
            "content": ["Restored from git"], "like-of": ["https://example.org/liked"]}}))
        .send()
        .await
        .expect("create");
    let url = location(&url);
    wait_for_git(&admin).await;
    let repo = data.join("content.git");
    let mirror = keep.path().join("mirror.git");
    quire_integration_tests::git::git(
        None,
        &[
            "clone",
            "--quiet",
            "--bare",
            &repo.to_string_lossy(),
            &mirror.to_string_lossy(),
        ],
    );
    assert!(server.signal(libc::SIGTERM).success());
    let verify = quire(&data, &["verify"]);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(verify.status.success(), "{said}");
    let fresh = keep.path().join("fresh");
    let restored = quire(&fresh, &["restore", "--from-git", &mirror.to_string_lossy()]);
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let exported = quire(&fresh, &["export", "-"]);
    let log = String::from_utf8_lossy(&exported.stdout);
    let created = log
        .lines()
        .find(|l| l.contains("Restored from git"))
        .expect("the post's event came back");
    let event: Value = serde_json::from_str(created).expect("json");
    assert_eq!(event["origin"]["source"], "micropub");
    assert_eq!(event["origin"]["client"], "Indigenous");
    assert_eq!(
        event["data"]["properties"]["like-of"],
        json!(["https://example.org/liked"])
    );
    assert!(url.contains("/posts/restored-from-git/"), "{url}");
}

/// `micropub.dedupe_window_secs = 0` turns the dedupe off: the same words twice are two posts.
#[tokio::test]
async fn a_zero_dedupe_window_publishes_every_create() {
    let server = TestServer::start_with(|c| {
        c.api.write_rate_per_minute = 0;
        c.micropub.dedupe_window_secs = 0;
    })
    .await;
    let admin = server.admin().await;
    let first = create_form(&admin, "h=entry&content=Twice+on+purpose").await;
    let second = create_form(&admin, "h=entry&content=Twice+on+purpose").await;
    assert_ne!(first, second);
    server.stop().await;
}

/// Another user's draft is, through Micropub, exactly like a post that does not exist: `q=source`,
/// update, delete and undelete by its URL get the same answer as for an unknown slug — status,
/// error and description (which once named the hidden draft's id).
#[tokio::test]
async fn another_users_draft_answers_as_no_post() {
    let server = server().await;
    let admin = server.admin().await;
    admin
        .create_post(json!({"title": "Secret plan", "slug": "secret-plan", "body": "draft", "status": "draft"}))
        .await;
    let body = json!({"username": "mallory", "password": "user-password-1", "role": "author"});
    assert_eq!(admin.post_json("/api/v1/users", &body, &[]).await.status(), 201);
    let author = Client::login(&admin.base, "mallory", "user-password-1")
        .await
        .with_token(&["posts:read", "posts:write", "posts:publish"])
        .await;
    let answer = |response: reqwest::Response, slug: &'static str| async move {
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("json");
        let description = body["error_description"]
            .as_str()
            .unwrap_or_default()
            .replace(slug, "<slug>");
        (status, body["error"].clone(), description)
    };
    let url = |slug: &str| format!("{}/posts/{slug}/", admin.base);
    let mut answers = Vec::new();
    for slug in ["secret-plan", "no-such-post"] {
        let source = author.get(&format!("/micropub?q=source&url={}", enc(&url(slug)))).await;
        let update = post_json(
            &author,
            &json!({"action": "update", "url": url(slug), "replace": {"content": ["x"]}}),
        )
        .await;
        let delete = form(&author, &format!("action=delete&url={}", enc(&url(slug)))).await;
        let undelete = form(&author, &format!("action=undelete&url={}", enc(&url(slug)))).await;
        for (what, response) in [
            ("source", source),
            ("update", update),
            ("delete", delete),
            ("undelete", undelete),
        ] {
            let (status, error, description) = answer(response, slug).await;
            assert_eq!((status, &error), (400, &json!("invalid_request")), "{what} of {slug}");
            answers.push((what, description));
        }
    }
    let (draft, unknown) = answers.split_at(4);
    assert_eq!(draft, unknown, "a hidden draft and no post are answered alike");
    let draft: PostList = admin
        .get("/api/v1/posts?status=draft")
        .await
        .json()
        .await
        .expect("list");
    assert_eq!(draft.items.len(), 1);
    assert_eq!(
        (draft.items[0].body.as_str(), draft.items[0].version),
        ("draft", 1),
        "unchanged"
    );
    server.stop().await;
}
