//! Routes, one file per resource. Every resource answers undeclared methods with 405 and an
//! `Allow` header; unknown paths under `/api/` get a problem+json 404, `/media/…` the uploaded
//! files, others the site.

pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod backup;
pub(crate) mod conflict_copies;
pub(crate) mod datasets;
pub(crate) mod editor;
pub(crate) mod events;
pub(crate) mod health;
pub(crate) mod hooks;
pub(crate) mod indieauth;
pub(crate) mod media;
pub(crate) mod metrics;
pub(crate) mod micropub;
pub(crate) mod posts;
pub(crate) mod status;
pub(crate) mod tokens;
pub(crate) mod users;
pub(crate) mod webhooks;

use actix_web::{web, HttpRequest};

use crate::error::ApiError;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    editor::configure(cfg);
    crate::git::http::configure(cfg);
    cfg.service(web::resource("/api/docs").route(web::get().to(|| async {
        actix_web::HttpResponse::PermanentRedirect()
            .insert_header(("Location", "/api/docs/"))
            .finish()
    })))
    .service(
        utoipa_swagger_ui::SwaggerUi::new("/api/docs/{_:.*}")
            .config(utoipa_swagger_ui::Config::from("/api/v1/openapi.json")),
    );
    cfg.service(resource("/healthz").route(web::get().to(health::healthz)))
        .service(resource("/readyz").route(web::get().to(health::readyz)))
        .service(resource("/metrics").route(web::get().to(metrics::metrics)))
        .service(
            resource("/micropub")
                .route(web::get().to(micropub::micropub_get))
                .route(web::post().to(micropub::micropub_post)),
        )
        .service(resource("/micropub/media").route(web::post().to(micropub::micropub_media)))
        .service(resource("/.well-known/oauth-authorization-server").route(web::get().to(indieauth::metadata)))
        .service(
            resource("/indieauth/auth")
                .route(web::get().to(indieauth::authorize_page))
                .route(web::post().to(indieauth::authorize_submit)),
        )
        .service(resource("/indieauth/token").route(web::post().to(indieauth::token)))
        .service(resource("/indieauth/revoke").route(web::post().to(indieauth::revoke)))
        .service(resource("/indieauth/introspect").route(web::post().to(indieauth::introspect)))
        .service(
            web::scope("/api/v1")
                .service(api_resource("/openapi.json").route(web::get().to(openapi_json)))
                .service(api_resource("/auth/login").route(web::post().to(auth::login)))
                .service(api_resource("/auth/refresh").route(web::post().to(auth::refresh)))
                .service(api_resource("/auth/logout").route(web::post().to(auth::logout)))
                .service(
                    api_resource("/auth/setup")
                        .route(web::get().to(auth::setup_status))
                        .route(web::post().to(auth::setup)),
                )
                .service(
                    api_resource("/posts")
                        .route(web::get().to(posts::list_posts))
                        .route(web::post().to(posts::create_post)),
                )
                .service(
                    api_resource("/posts/{id}")
                        .route(web::get().to(posts::get_post))
                        .route(web::patch().to(posts::patch_post))
                        .route(web::delete().to(posts::delete_post)),
                )
                .service(api_resource("/posts/{id}/restore").route(web::post().to(posts::restore_post)))
                .service(api_resource("/posts/{id}/history").route(web::get().to(posts::post_history)))
                .service(api_resource("/posts/{id}/versions/{n}").route(web::get().to(posts::post_version)))
                .service(api_resource("/posts/{id}/commits").route(web::get().to(status::post_commits)))
                .service(
                    api_resource("/posts/{id}/conflict-copies")
                        .route(web::post().to(conflict_copies::keep_conflict_copy)),
                )
                .service(
                    api_resource("/posts/{id}/conflict-copies/{n}/restore")
                        .route(web::post().to(conflict_copies::restore_conflict_copy)),
                )
                .service(
                    api_resource("/media")
                        .route(web::get().to(media::list_media))
                        .route(web::post().to(media::upload_media)),
                )
                .service(
                    api_resource("/media/{id}")
                        .route(web::get().to(media::get_media))
                        .route(web::patch().to(media::patch_media))
                        .route(web::delete().to(media::delete_media)),
                )
                .service(
                    api_resource("/datasets/{name}")
                        .route(web::get().to(datasets::get_dataset))
                        .route(web::put().to(datasets::put_dataset))
                        .route(web::patch().to(datasets::patch_dataset))
                        .route(web::delete().to(datasets::delete_dataset)),
                )
                .service(api_resource("/datasets").route(web::get().to(datasets::list_datasets)))
                .service(api_resource("/datasets/{name}/history").route(web::get().to(datasets::dataset_history)))
                .service(api_resource("/datasets/{name}/versions/{n}").route(web::get().to(datasets::dataset_version)))
                .service(api_resource("/events").route(web::get().to(events::list_events)))
                .service(api_resource("/status").route(web::get().to(status::status)))
                .service(api_resource("/hooks/git/{remote}").route(web::post().to(hooks::forge_hook)))
                .service(api_resource("/audit").route(web::get().to(audit::audit)))
                .service(api_resource("/backup").route(web::get().to(backup::backup)))
                .service(api_resource("/users/me").route(web::get().to(users::me)))
                .service(
                    api_resource("/users")
                        .route(web::get().to(users::list_users))
                        .route(web::post().to(users::create_user)),
                )
                .service(api_resource("/users/{id}").route(web::patch().to(users::patch_user)))
                .service(api_resource("/users/{id}/password").route(web::post().to(users::set_password)))
                .service(
                    api_resource("/tokens")
                        .route(web::get().to(tokens::list_tokens))
                        .route(web::post().to(tokens::create_token)),
                )
                .service(api_resource("/tokens/{id}").route(web::delete().to(tokens::revoke_token)))
                .service(
                    api_resource("/webhooks")
                        .route(web::get().to(webhooks::list_webhooks))
                        .route(web::post().to(webhooks::create_webhook)),
                )
                .service(
                    api_resource("/webhooks/{id}")
                        .route(web::get().to(webhooks::get_webhook))
                        .route(web::patch().to(webhooks::patch_webhook))
                        .route(web::delete().to(webhooks::delete_webhook)),
                )
                .service(
                    api_resource("/webhooks/{id}/rotate-secret").route(web::post().to(webhooks::rotate_webhook_secret)),
                )
                .service(
                    api_resource("/webhooks/{id}/deliveries").route(web::get().to(webhooks::list_webhook_deliveries)),
                )
                .service(
                    api_resource("/webhooks/{id}/deliveries/{delivery}/resend")
                        .route(web::post().to(webhooks::resend_webhook_delivery)),
                ),
        );
}

/// Every resource the API serves: its full path and the methods it answers. Resources are
/// registered only through this table ([`resource`] looks a path up in it), so tests walk every
/// route from here: the OpenAPI test checks each is declared, and the authorization matrix
/// checks that none discloses anything without the right.
pub const ROUTES: &[(&str, &str)] = &[
    ("/healthz", "GET"),
    ("/readyz", "GET"),
    ("/metrics", "GET"),
    ("/micropub", "GET, POST"),
    ("/micropub/media", "POST"),
    ("/.well-known/oauth-authorization-server", "GET"),
    ("/indieauth/auth", "GET, POST"),
    ("/indieauth/token", "POST"),
    ("/indieauth/revoke", "POST"),
    ("/indieauth/introspect", "POST"),
    ("/api/v1/openapi.json", "GET"),
    ("/api/v1/auth/login", "POST"),
    ("/api/v1/auth/refresh", "POST"),
    ("/api/v1/auth/logout", "POST"),
    ("/api/v1/auth/setup", "GET, POST"),
    ("/api/v1/posts", "GET, POST"),
    ("/api/v1/posts/{id}", "GET, PATCH, DELETE"),
    ("/api/v1/posts/{id}/restore", "POST"),
    ("/api/v1/posts/{id}/history", "GET"),
    ("/api/v1/posts/{id}/versions/{n}", "GET"),
    ("/api/v1/posts/{id}/commits", "GET"),
    ("/api/v1/posts/{id}/conflict-copies", "POST"),
    ("/api/v1/posts/{id}/conflict-copies/{n}/restore", "POST"),
    ("/api/v1/media", "GET, POST"),
    ("/api/v1/media/{id}", "GET, PATCH, DELETE"),
    ("/api/v1/datasets", "GET"),
    ("/api/v1/datasets/{name}", "GET, PUT, PATCH, DELETE"),
    ("/api/v1/datasets/{name}/history", "GET"),
    ("/api/v1/datasets/{name}/versions/{n}", "GET"),
    ("/api/v1/events", "GET"),
    ("/api/v1/status", "GET"),
    ("/api/v1/hooks/git/{remote}", "POST"),
    ("/api/v1/audit", "GET"),
    ("/api/v1/backup", "GET"),
    ("/api/v1/users/me", "GET"),
    ("/api/v1/users", "GET, POST"),
    ("/api/v1/users/{id}", "PATCH"),
    ("/api/v1/users/{id}/password", "POST"),
    ("/api/v1/tokens", "GET, POST"),
    ("/api/v1/tokens/{id}", "DELETE"),
    ("/api/v1/webhooks", "GET, POST"),
    ("/api/v1/webhooks/{id}", "GET, PATCH, DELETE"),
    ("/api/v1/webhooks/{id}/rotate-secret", "POST"),
    ("/api/v1/webhooks/{id}/deliveries", "GET"),
    ("/api/v1/webhooks/{id}/deliveries/{delivery}/resend", "POST"),
];

/// The methods `path` answers, from [`ROUTES`].
fn allow_of(path: &str) -> &'static str {
    ROUTES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, allow)| *allow)
        .expect("every resource is listed in ROUTES")
}

/// The resource at `path` (a full path listed in [`ROUTES`]); its other methods get 405 with
/// `Allow`.
fn resource(path: &str) -> actix_web::Resource {
    let allow = allow_of(path);
    web::resource(path).default_service(web::to(move || async move {
        Err::<actix_web::HttpResponse, _>(ApiError::method_not_allowed(allow))
    }))
}

/// A resource inside the `/api/v1` scope, by its path there.
fn api_resource(path: &str) -> actix_web::Resource {
    let allow = allow_of(&format!("/api/v1{path}"));
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

/// Answer for paths that match no route: media files at `/media/<file>`, the rendered site (when
/// `site.serve` is on; it holds the images' smaller copies, `/media/w480/<file>`), except under
/// `/api/`, where an unknown path stays a problem+json 404.
pub async fn fallback(
    req: HttpRequest,
    state: web::Data<crate::state::AppState>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let path = req.path();
    if let Some(name) = path.strip_prefix("/media/").filter(|name| !name.contains('/')) {
        let name = name.to_owned();
        return crate::media::serve(req, state.media.blobs().clone(), name).await;
    }
    if let Some(rest) = path.strip_prefix("/data/") {
        let rest = rest.to_owned();
        return crate::datasets::public::serve(req, state, rest).await;
    }
    let api = path == "/api" || path.starts_with("/api/");
    if api || !state.config.site.serve {
        return not_found(req).await;
    }
    let home = path == "/";
    let mut response =
        crate::site::serve::serve(req, crate::site::site_dir(&state.config), state.site_cache.clone()).await?;
    if home {
        // Micropub discovery for clients that read headers instead of the page.
        response.headers_mut().insert(
            actix_web::http::header::LINK,
            actix_web::http::header::HeaderValue::from_static(
                "</micropub>; rel=\"micropub\", </.well-known/oauth-authorization-server>; rel=\"indieauth-metadata\", \
                 </indieauth/auth>; rel=\"authorization_endpoint\", </indieauth/token>; rel=\"token_endpoint\"",
            ),
        );
    }
    Ok(response)
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
