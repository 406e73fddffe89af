//! Serving `<data>/site` at `/`, for installs without nginx in front (`site.serve`).
//!
//! Paths are resolved here, not by a generic file server: each segment is percent-decoded and
//! checked on its own, so `..`, encoded separators (`%2e%2e`, `%2f`), NUL and hidden files
//! (the manifest, the renderer's temporary files) never reach the file system, and the resolved
//! file must lie inside the site folder after following links. A folder answers with its
//! `index.html` (never a listing), `/posts/x` redirects to `/posts/x/`, and anything else gets
//! the site's `404.html` with status 404. Files are sent by `actix-files`' `NamedFile`, which
//! handles `ETag`/`Last-Modified`, `If-None-Match`/`If-Modified-Since` (304) and ranges.
//! File-system work runs on the blocking pool.
//!
//! Small files (pages, feeds, the stylesheet) are read once into the [`SiteCache`] with a
//! strong `ETag` and a gzip variant; later requests for them are answered from memory on the
//! worker, honouring `If-None-Match` (304) and `Accept-Encoding: gzip`. A range request
//! goes to the disk.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_files::NamedFile;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{mime, web, HttpRequest, HttpResponse};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::cache::{CachedPage, SiteCache};
use crate::error::ApiError;

/// Characters left as they are in a redirect's path segments (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Pages change with every publish: caches keep them but ask again (a cheap 304).
const REVALIDATE: &str = "public, no-cache";
/// Assets such as the stylesheet change rarely.
const ASSET: &str = "public, max-age=3600";

/// What a request path leads to.
enum Resolved {
    Cached(Arc<CachedPage>),
    File(Box<NamedFile>),
    Redirect(String),
    Missing(Option<Vec<u8>>),
}

/// `GET /{path}` — a file of the rendered site, or its 404 page.
pub async fn serve(req: HttpRequest, root: PathBuf, pages: Arc<SiteCache>) -> Result<HttpResponse, ApiError> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return Err(ApiError::method_not_allowed("GET, HEAD"));
    }
    let ranged = req.headers().contains_key(header::RANGE);
    if let Some(page) = pages.get(req.path()).filter(|_| !ranged) {
        return Ok(from_memory(&req, &page));
    }
    let path = req.path().to_owned();
    let query = req.query_string().to_owned();
    let resolved = web::block(move || {
        let generation = pages.generation();
        let resolved = resolve(&root, &path, &query);
        if ranged {
            return resolved;
        }
        match resolved {
            Resolved::File(file) => match load(&file) {
                Some(page) => {
                    let page = Arc::new(page);
                    pages.insert(path, page.clone(), generation);
                    Resolved::Cached(page)
                }
                None => Resolved::File(file),
            },
            other => other,
        }
    })
    .await?;
    let (mut response, cache) = match resolved {
        Resolved::Cached(page) => return Ok(from_memory(&req, &page)),
        Resolved::File(file) => {
            let cache = cache_control(file.path());
            let file = match content_type(file.path()) {
                Some(mime) => file.set_content_type(mime),
                None => *file,
            };
            (file.disable_content_disposition().into_response(&req), cache)
        }
        Resolved::Redirect(location) => (
            HttpResponse::MovedPermanently()
                .insert_header((header::LOCATION, location))
                .finish(),
            ASSET,
        ),
        Resolved::Missing(page) => (not_found(page), REVALIDATE),
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(response)
}

/// Reads a small file into a cache entry (`None`: too large, or unreadable: serve from disk).
fn load(file: &NamedFile) -> Option<CachedPage> {
    let path = file.path();
    let kind = content_type(path).unwrap_or_else(|| file.content_type().clone());
    // As actix-files does for files it sends: text is UTF-8 unless it says otherwise.
    let kind = match kind.type_() == mime::TEXT && kind.get_param(mime::CHARSET).is_none() {
        true => format!("{kind}; charset=utf-8"),
        false => kind.to_string(),
    };
    let body = std::fs::read(path).ok()?;
    let mut page = CachedPage::new(path.to_owned(), body, kind, cache_control(path))?;
    page.last_modified = file
        .metadata()
        .modified()
        .ok()
        .map(|time| header::HttpDate::from(time).to_string());
    Some(page)
}

/// The answer for a page held in memory: 304 when the client has it, gzip when it takes it.
fn from_memory(req: &HttpRequest, page: &CachedPage) -> HttpResponse {
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == page.etag || t.trim() == "*"));
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, page.etag.as_str()))
        .insert_header((header::CACHE_CONTROL, page.cache_control))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if page.gzip.is_some() {
        response.insert_header((header::VARY, "Accept-Encoding"));
    }
    if let Some(date) = &page.last_modified {
        response.insert_header((header::LAST_MODIFIED, date.as_str()));
    }
    if fresh {
        return response.finish();
    }
    response.insert_header((header::CONTENT_TYPE, page.content_type.as_str()));
    match page.gzip.as_ref().filter(|_| accepts_gzip(req)) {
        Some(gzip) => response
            .insert_header((header::CONTENT_ENCODING, "gzip"))
            .body(gzip.clone()),
        None => response.body(page.body.clone()),
    }
}

/// Whether `Accept-Encoding` takes gzip (and does not refuse it with `q=0`).
fn accepts_gzip(req: &HttpRequest) -> bool {
    let Some(accept) = req.headers().get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    accept.split(',').any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let refused = parts.any(|p| p.replace(' ', "").eq_ignore_ascii_case("q=0"));
        (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
    })
}

fn not_found(page: Option<Vec<u8>>) -> HttpResponse {
    let mut response = HttpResponse::build(StatusCode::NOT_FOUND);
    match page {
        Some(bytes) => response.content_type(mime::TEXT_HTML_UTF_8).body(bytes),
        None => response.content_type(mime::TEXT_PLAIN_UTF_8).body("Not found\n"),
    }
}

/// Maps a request path to a file of the site in `root`. Blocks.
fn resolve(root: &Path, raw: &str, query: &str) -> Resolved {
    let missing = || Resolved::Missing(std::fs::read(root.join("404.html")).ok());
    let Some((segments, folder)) = segments(raw) else {
        return missing();
    };
    let mut path = root.to_path_buf();
    path.extend(&segments);
    let index = path.join("index.html");
    if folder {
        return open_inside(root, &index).map_or_else(missing, |f| Resolved::File(Box::new(f)));
    }
    if let Some(file) = open_inside(root, &path) {
        return Resolved::File(Box::new(file));
    }
    if open_inside(root, &index).is_some() {
        let mut location = String::new();
        for segment in &segments {
            location.push('/');
            location.extend(utf8_percent_encode(segment, SEGMENT));
        }
        location.push('/');
        if !query.is_empty() {
            location.push('?');
            location.push_str(query);
        }
        return Resolved::Redirect(location);
    }
    missing()
}

/// The percent-decoded segments of a request path and whether it names a folder (ends in
/// `/`); `None` for a path that must not reach the file system: a dot segment or hidden file,
/// an encoded separator, NUL or a backslash, invalid UTF-8.
fn segments(raw: &str) -> Option<(Vec<String>, bool)> {
    let mut out = Vec::new();
    for part in raw.split('/').filter(|p| !p.is_empty()) {
        let decoded = percent_decode_str(part).decode_utf8().ok()?;
        if decoded.starts_with('.') || decoded.contains(['/', '\\', '\0']) {
            return None;
        }
        out.push(decoded.into_owned());
    }
    let folder = out.is_empty() || raw.ends_with('/');
    Some((out, folder))
}

/// Opens `path` if it is a regular file inside `root`, links followed.
fn open_inside(root: &Path, path: &Path) -> Option<NamedFile> {
    let real = path.canonicalize().ok()?;
    let real_root = root.canonicalize().ok()?;
    if !real.starts_with(&real_root) || !real.is_file() {
        return None;
    }
    NamedFile::open(&real).ok()
}

/// Content types `mime_guess` gets less exactly than a site wants; others keep its guess
/// (`text/*` with `charset=utf-8`).
fn content_type(path: &Path) -> Option<mime::Mime> {
    let name = path.file_name()?.to_str()?;
    let ext = path.extension()?.to_str()?;
    let text = match (name, ext) {
        ("feed.xml", _) => "application/atom+xml; charset=utf-8",
        ("feed.json", _) => "application/feed+json; charset=utf-8",
        (_, "xml") => "application/xml; charset=utf-8",
        (_, "json") => "application/json",
        (_, "js" | "mjs") => "text/javascript; charset=utf-8",
        _ => return None,
    };
    text.parse().ok()
}

fn cache_control(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html" | "xml" | "json" | "txt") | None => REVALIDATE,
        Some(_) => ASSET,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_refuse_what_could_escape_or_reveal() {
        for bad in [
            "/../etc/passwd",
            "/posts/../../x",
            "/%2e%2e/x",
            "/%2E%2E/%2e%2e/x",
            "/posts/..%2f..%2fx",
            "/a%2fb",
            "/a%5cb",
            "/a%00b",
            "/.quire-manifest.json",
            "/posts/.hidden",
            "/%ff%fe",
        ] {
            assert_eq!(segments(bad), None, "{bad}");
        }
        assert_eq!(segments("/"), Some((vec![], true)));
        assert_eq!(
            segments("/tags/caf%C3%A9/"),
            Some((vec!["tags".into(), "café".into()], true))
        );
        assert_eq!(
            segments("//posts//hello"),
            Some((vec!["posts".into(), "hello".into()], false))
        );
    }

    #[test]
    fn resolves_files_folders_redirects_and_misses() {
        let site = tempfile::tempdir().expect("tempdir");
        let root = site.path().join("site");
        std::fs::create_dir_all(root.join("posts/hello")).expect("mkdir");
        std::fs::create_dir_all(root.join("empty")).expect("mkdir");
        std::fs::write(root.join("posts/hello/index.html"), "hello").expect("write");
        std::fs::write(root.join("404.html"), "gone").expect("write");
        std::fs::write(site.path().join("secret.txt"), "secret").expect("write");
        std::os::unix::fs::symlink(site.path().join("secret.txt"), root.join("link.txt")).expect("symlink");

        assert!(matches!(resolve(&root, "/posts/hello/", ""), Resolved::File(_)));
        match resolve(&root, "/posts/hello", "a=1") {
            Resolved::Redirect(to) => assert_eq!(to, "/posts/hello/?a=1"),
            _ => panic!("expected a redirect"),
        }
        for missing in ["/empty/", "/posts/", "/nope", "/link.txt", "/../secret.txt"] {
            match resolve(&root, missing, "") {
                Resolved::Missing(page) => assert_eq!(page.as_deref(), Some(&b"gone"[..])),
                _ => panic!("{missing} should be missing"),
            }
        }
    }

    #[test]
    fn feeds_get_their_own_types() {
        let ct = |p: &str| content_type(Path::new(p)).map(|m| m.to_string());
        assert_eq!(
            ct("/s/feed.xml").as_deref(),
            Some("application/atom+xml; charset=utf-8")
        );
        assert_eq!(ct("/s/sitemap.xml").as_deref(), Some("application/xml; charset=utf-8"));
        assert_eq!(
            ct("/s/feed.json").as_deref(),
            Some("application/feed+json; charset=utf-8")
        );
        assert_eq!(ct("/s/index.html"), None);
        assert_eq!(cache_control(Path::new("/s/style.css")), ASSET);
        assert_eq!(cache_control(Path::new("/s/index.html")), REVALIDATE);
    }
}
