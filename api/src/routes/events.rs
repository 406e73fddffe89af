//! The event log, for projections and clients that follow it.

use actix_web::{web, HttpResponse};
use quire_openapi::{EventList, EventResponse};
use quire_storage::Envelope;
use serde::Deserialize;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    after: Option<i64>,
    limit: Option<u32>,
}

/// The API shape of an event.
pub fn event_response(env: &Envelope) -> EventResponse {
    let data = serde_json::to_value(&env.payload)
        .ok()
        .and_then(|mut v| v.get_mut("data").map(serde_json::Value::take))
        .unwrap_or(serde_json::Value::Null);
    EventResponse {
        seq: env.seq,
        id: env.id.to_string(),
        stream: env.stream.to_string(),
        version: env.version,
        event_type: env.payload.type_name().into(),
        actor: env.actor.clone(),
        at: env.at,
        idempotency_key: env.idempotency_key.clone(),
        data,
        origin: env.origin.as_ref().map(|o| quire_openapi::EventOrigin {
            source: o.source.clone(),
            client: o.client.clone(),
            commit: o.commit.clone(),
        }),
    }
}

/// `GET /api/v1/events` — events after a seq, in order.
pub async fn list_events(auth: Auth, state: web::Data<AppState>, query: web::Query<EventsQuery>) -> ApiResult {
    let after =
        u64::try_from(query.after.unwrap_or(0)).map_err(|_| ApiError::bad_request("after must not be negative"))?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 1000"));
    }
    let (posts, actor) = (state.posts.clone(), auth.actor());
    let events = web::block(move || posts.events(&actor, after, limit as usize)).await??;
    Ok(HttpResponse::Ok().json(EventList {
        next_after: events.last().map_or(after, |e| e.seq),
        events: events.iter().map(event_response).collect(),
        head: state.store.head(),
    }))
}
