//! `/metrics`: Prometheus metrics (see [`crate::metrics`]).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::{ApiError, ApiResult};
use crate::metrics::{token_matches, CONTENT_TYPE};
use crate::state::AppState;

/// `GET /metrics` — request, log, projection and mirror metrics in the OpenMetrics text format.
pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> ApiResult {
    let config = &state.config.metrics;
    if !config.enabled {
        return Err(ApiError::not_found("metrics are turned off (metrics.enabled = false)"));
    }
    if let Some(token) = &config.token {
        let given = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        if !token_matches(given, token) {
            return Err(ApiError::unauthorized(
                "send the metrics.token as `Authorization: Bearer <token>`",
            ));
        }
    }
    let metrics = state.metrics.clone();
    let text = web::block(move || metrics.render())
        .await?
        .map_err(|_| ApiError::internal())?;
    Ok(HttpResponse::Ok().content_type(CONTENT_TYPE).body(text))
}
