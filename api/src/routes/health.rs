//! Probes for supervisors and load balancers.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use quire_openapi::{Health, Ready};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// `GET /healthz` — the process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok".into() })
}

/// `GET /readyz` — the log is open and takes a durable write.
pub async fn readyz(state: web::Data<AppState>) -> ApiResult {
    let store = state.store.clone();
    match web::block(move || store.check_writable()).await? {
        Ok(()) => Ok(HttpResponse::Ok().json(Ready {
            status: "ready".into(),
            head: state.store.head(),
        })),
        Err(e) => {
            tracing::error!(error = %e, "readiness check failed");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not-ready",
                "Not ready",
                "the event log does not accept writes; see the server log",
            ))
        }
    }
}
