//! Routes, one file per resource. Every resource answers undeclared methods with 405 and an
//! `Allow` header; unknown paths under `/api/` get a problem+json 404, others the site.

pub mod audit;
pub mod auth;
pub mod backup;
pub mod editor;
pub mod events;
pub mod health;
pub mod metrics;
pub mod posts;
pub mod status;
pub mod tokens;
pub mod users;

use actix_web::{web, HttpRequest};

use crate::error::ApiError;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    editor::configure(cfg);
    cfg.service(web::resource("/api/docs").route(web::get().to(|| async {
        actix_web::HttpResponse::PermanentRedirect()
            .insert_header(("Location", "/api/docs/"))
            .finish()
    })))
    .service(
        utoipa_swagger_ui::SwaggerUi::new("/api/docs/{_:.*}")
            .config(utoipa_swagger_ui::Config::from("/api/v1/openapi.json")),
    );
    cfg.service(resource("/healthz", "GET").route(web::get().to(health::healthz)))
        .service(resource("/readyz", "GET").route(web::get().to(health::readyz)))
        .service(resource("/metrics", "GET").route(web::get().to(metrics::metrics)))
        .service(
            web::scope("/api/v1")
                .service(resource("/openapi.json", "GET").route(web::get().to(openapi_json)))
                .service(resource("/auth/login", "POST").route(web::post().to(auth::login)))
                .service(resource("/auth/refresh", "POST").route(web::post().to(auth::refresh)))
                .service(resource("/auth/logout", "POST").route(web::post().to(auth::logout)))
                .service(resource("/auth/setup", "POST").route(web::post().to(auth::setup)))
                .service(
                    resource("/posts", "GET, POST")
                        .route(web::get().to(posts::list_posts))
                        .route(web::post().to(posts::create_post)),
                )
                .service(
                    resource("/posts/{id}", "GET, PATCH, DELETE")
                        .route(web::get().to(posts::get_post))
                        .route(web::patch().to(posts::patch_post))
                        .route(web::delete().to(posts::delete_post)),
                )
                .service(resource("/posts/{id}/restore", "POST").route(web::post().to(posts::restore_post)))
                .service(resource("/posts/{id}/history", "GET").route(web::get().to(posts::post_history)))
                .service(resource("/posts/{id}/versions/{n}", "GET").route(web::get().to(posts::post_version)))
                .service(resource("/posts/{id}/commits", "GET").route(web::get().to(status::post_commits)))
                .service(resource("/events", "GET").route(web::get().to(events::list_events)))
                .service(resource("/status", "GET").route(web::get().to(status::status)))
                .service(resource("/audit", "GET").route(web::get().to(audit::audit)))
                .service(resource("/backup", "GET").route(web::get().to(backup::backup)))
                .service(resource("/users/me", "GET").route(web::get().to(users::me)))
                .service(
                    resource("/users", "GET, POST")
                        .route(web::get().to(users::list_users))
                        .route(web::post().to(users::create_user)),
                )
                .service(resource("/users/{id}", "PATCH").route(web::patch().to(users::patch_user)))
                .service(resource("/users/{id}/password", "POST").route(web::post().to(users::set_password)))
                .service(
                    resource("/tokens", "GET, POST")
                        .route(web::get().to(tokens::list_tokens))
                        .route(web::post().to(tokens::create_token)),
                )
                .service(resource("/tokens/{id}", "DELETE").route(web::delete().to(tokens::revoke_token))),
        );
}

/// A resource whose other methods get 405 with `Allow: allow`.
fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move || async move {
        Err::<actix_web::HttpResponse, _>(ApiError::method_not_allowed(allow))
    }))
}

/// Answer for paths that match no route.
pub async fn not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::not_found(format!(
        "nothing at {}; the API lives under /api/v1",
        req.path()
    )))
}

/// Answer for paths that match no route: the rendered site (when `site.serve` is on), except
/// under `/api/`, where an unknown path stays a problem+json 404.
pub async fn fallback(
    req: HttpRequest,
    state: web::Data<crate::state::AppState>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let path = req.path();
    let api = path == "/api" || path.starts_with("/api/");
    if api || !state.config.site.serve {
        return not_found(req).await;
    }
    crate::site::serve::serve(req, crate::site::site_dir(&state.config)).await
}

/// Query-string errors as problem+json.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _| ApiError::bad_request(format!("bad query string: {err}")).into())
}

/// `GET /api/v1/openapi.json` — the OpenAPI 3.1 document (public).
pub async fn openapi_json() -> actix_web::HttpResponse {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    actix_web::HttpResponse::Ok()
        .content_type("application/json")
        .body(DOCUMENT.get_or_init(quire_openapi::document).as_str())
}
