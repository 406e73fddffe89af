//! `/editor/`: the web editor's files, embedded in the binary by `quire-web-client`.
//!
//! Every file is answered with `Cache-Control: no-cache` and a strong `ETag`, so a browser
//! revalidates (a cheap 304) instead of guessing freshness. There is no build step and so no
//! content-hashed file names that could be cached for a year; offline use is the service
//! worker's job, and its cache is keyed by a hash of all assets that is written into `sw.js`,
//! so a new binary reaches every installed editor on its next start. Documents also get a
//! strict Content-Security-Policy: only this origin's scripts run, and the preview's HTML can
//! carry no script.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::{ApiError, ApiResult};

/// Where the editor lives.
pub const PREFIX: &str = "/editor";

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob: https:; connect-src 'self'; worker-src 'self'; \
    manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// Registers `/editor`, `/editor/` and `/editor/{path}`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(PREFIX)
            .route(web::get().to(redirect))
            .route(web::head().to(redirect)),
    )
    .service(
        web::resource(format!("{PREFIX}/{{path:.*}}"))
            .route(web::get().to(file))
            .route(web::head().to(file))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(ApiError::method_not_allowed("GET, HEAD"))
            })),
    );
}

/// `GET /editor` — redirect to `/editor/`, so relative asset paths resolve.
pub async fn redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, format!("{PREFIX}/")))
        .finish()
}

/// `GET /editor/{path}` — one file of the editor (`/editor/` is `index.html`).
pub async fn file(req: HttpRequest, path: web::Path<String>) -> ApiResult {
    let path = path.into_inner();
    let asset = quire_web_client::asset(&path)
        .ok_or_else(|| ApiError::not_found(format!("the editor has no file {path:?}")))?;
    let etag = format!("\"{}\"", asset.etag);
    let fresh = not_modified(&req, &etag);
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag.as_str()))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    if fresh {
        return Ok(response.finish());
    }
    response.insert_header((header::CONTENT_TYPE, asset.mime));
    if asset.mime.starts_with("text/html") {
        response.insert_header((header::CONTENT_SECURITY_POLICY, CSP));
    }
    Ok(response.body(asset.bytes.into_owned()))
}

/// Whether `If-None-Match` names `etag` (or `*`).
fn not_modified(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v: &HeaderValue| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().trim_start_matches("W/"))
        .any(|v| v == etag || v == "*")
}
