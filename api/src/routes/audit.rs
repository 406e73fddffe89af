//! `/api/v1/audit`: the git repository checked against the event log (admins).
//!
//! A mismatch is a finding, not a failed request: 200 with `ok: false` and the problems, so
//! monitoring can read the report the same way either way.

use actix_web::{web, HttpResponse};
use quire_openapi::AuditReport;
use quire_storage::Scope;

use super::status::git_disabled;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// `GET /api/v1/audit` — rebuild the expected history from the log and compare it with `main`.
pub async fn audit(auth: Auth, state: web::Data<AppState>) -> ApiResult {
    auth.actor().require(Scope::Admin)?;
    if !state.git.enabled() {
        return Err(git_disabled());
    }
    let (store, config) = (state.store.clone(), state.config.clone());
    let report = web::block(move || {
        let path = crate::git::repo_dir(&config);
        quire_storage::git::verify(&path, &crate::git::settings(&config), store.as_ref())
    })
    .await?
    .map_err(|e| {
        tracing::error!(error = %e, "the git audit failed");
        ApiError::internal()
    })?;
    Ok(HttpResponse::Ok().json(AuditReport {
        ok: report.is_ok(),
        position: report.position,
        head: report.head,
        commits: report.commits,
        problems: report.problems.iter().map(ToString::to_string).collect(),
        truncated: report.truncated,
    }))
}
