//! Probes for supervisors and load balancers.

use actix_web::{web, HttpResponse};
use quire_openapi::{Health, Ready};

use crate::error::{ApiError, ApiResult, ProblemType};
use crate::state::AppState;

/// `GET /healthz` — the process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok".into() })
}

/// `GET /readyz` — the log is open and takes a durable write, and git is at most
/// `git.max_lag` events behind (a fresh start on a big log is not ready until git caught up).
pub async fn readyz(state: web::Data<AppState>) -> ApiResult {
    let store = state.store.clone();
    match web::block(move || store.check_writable()).await? {
        Ok(()) => {
            let head = state.store.head();
            if let Some(lag) = state.git.too_far_behind(head) {
                return Err(ApiError::new(
                    ProblemType::NotReady,
                    format!(
                        "the git projection is {lag} events behind the log (more than git.max_lag = {}); \
                         it is catching up, see GET /api/v1/status",
                        state.config.git.max_lag
                    ),
                ));
            }
            Ok(HttpResponse::Ok().json(Ready {
                status: "ready".into(),
                head,
            }))
        }
        Err(e) => {
            tracing::error!(error = %e, "readiness check failed");
            Err(ApiError::new(
                ProblemType::NotReady,
                "the event log does not accept writes; see the server log",
            ))
        }
    }
}
