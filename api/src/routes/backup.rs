//! `/api/v1/backup`: a consistent snapshot of the running server's data folder (admins), what
//! `quire backup --url` saves.

use actix_web::{web, HttpResponse};
use quire_storage::Scope;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::ops::backup;
use crate::state::AppState;

/// `GET /api/v1/backup` — a tar archive of the log up to the current head, users and token
/// hashes, signing keys and the configuration, streamed with its exact `Content-Length`.
pub async fn backup(auth: Auth, state: web::Data<AppState>) -> ApiResult {
    auth.actor().require(Scope::Admin)?;
    let (store, secrets, config) = (state.store.clone(), state.secrets.clone(), state.config.clone());
    let snapshot = web::block(move || backup::take(store, secrets, &config))
        .await?
        .map_err(|e| {
            tracing::error!(error = %format!("{e:#}"), "taking a backup failed");
            ApiError::internal()
        })?;
    let (size, head) = (snapshot.size(), snapshot.manifest.head);
    Ok(HttpResponse::Ok()
        .content_type("application/x-tar")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"quire-backup-{head}.tar\""),
        ))
        .insert_header(("X-Quire-Head", head.to_string()))
        .no_chunking(size)
        .streaming(backup::stream(snapshot)))
}
