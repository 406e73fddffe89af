//! `/api/v1/webhooks`: Standard Webhooks registrations and their deliveries (admins only; the
//! rules are in `quire_storage::webhooks`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use quire_openapi::{
    CreateWebhookRequest, DeliveryList, DeliveryResponse, DeliveryStatusName, PatchWebhookRequest, WebhookCreated,
    WebhookList, WebhookResponse, WebhookStateName,
};
use quire_storage::webhooks::{Delivery, DeliveryStatus, NewWebhook, Webhook, WebhookPatch, WebhookState};
use quire_storage::{Actor, Scope};
use serde::Deserialize;
use ulid::Ulid;

use crate::auth::Auth;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

fn response(hook: &Webhook, pending: usize) -> WebhookResponse {
    WebhookResponse {
        id: hook.id.to_string(),
        url: hook.url.clone(),
        events: hook.events.clone(),
        description: hook.description.clone(),
        enabled: hook.enabled,
        state: match hook.state {
            WebhookState::Active => WebhookStateName::Active,
            WebhookState::Failing => WebhookStateName::Failing,
            WebhookState::Disabled => WebhookStateName::Disabled,
        },
        pending: pending as u64,
        created_at: hook.created_at,
    }
}

fn with_secret(hook: &Webhook, pending: usize) -> WebhookCreated {
    WebhookCreated {
        webhook: response(hook, pending),
        secret: hook.secret.clone(),
    }
}

fn delivery(d: &Delivery) -> DeliveryResponse {
    DeliveryResponse {
        id: d.message_id(),
        event_type: d.event_type.clone(),
        event_id: d.event_id.to_string(),
        seq: d.seq,
        status: match d.status {
            DeliveryStatus::Pending => DeliveryStatusName::Pending,
            DeliveryStatus::Delivered => DeliveryStatusName::Delivered,
            DeliveryStatus::Failed => DeliveryStatusName::Failed,
        },
        attempts: d.attempts,
        last_status_code: d.last_status_code,
        last_error: d.last_error.clone(),
        last_attempt_at: d.last_attempt_at,
        next_attempt_at: d.next_attempt_at,
    }
}

/// The webhook id in the path; the right is checked first, so a malformed id tells a caller
/// without it nothing either.
fn webhook_id(actor: &Actor, raw: &str) -> Result<Ulid, ApiError> {
    actor.require(Scope::Admin)?;
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("{raw:?} is not a webhook id")))
}

/// `POST /api/v1/webhooks` — register a webhook; its secret is shown once.
pub async fn create_webhook(auth: Auth, state: web::Data<AppState>, body: JsonBody<CreateWebhookRequest>) -> ApiResult {
    let input = body.value;
    let new = NewWebhook {
        url: input.url,
        events: input.events,
        description: input.description,
    };
    let (hooks, actor) = (state.webhooks.clone(), auth.actor());
    let hook = web::block(move || hooks.create(&actor, new)).await??;
    state.webhook_wake.notify_waiters();
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header(("Location", format!("/api/v1/webhooks/{}", hook.id)))
        .insert_header(("Cache-Control", "no-store"))
        .json(with_secret(&hook, 0)))
}

/// `GET /api/v1/webhooks` — every webhook.
pub async fn list_webhooks(auth: Auth, state: web::Data<AppState>) -> ApiResult {
    let (hooks, actor) = (state.webhooks.clone(), auth.actor());
    let list = web::block(move || hooks.list(&actor)).await??;
    Ok(HttpResponse::Ok().json(WebhookList {
        items: list.iter().map(|(h, pending)| response(h, *pending)).collect(),
    }))
}

/// `GET /api/v1/webhooks/{id}` — one webhook.
pub async fn get_webhook(auth: Auth, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult {
    let (hooks, actor) = (state.webhooks.clone(), auth.actor());
    let id = webhook_id(&actor, &path)?;
    let hook = web::block(move || hooks.get(&actor, id).map(|h| (h.clone(), hooks.db.pending_count(h.id)))).await??;
    Ok(HttpResponse::Ok().json(response(&hook.0, hook.1)))
}

/// `PATCH /api/v1/webhooks/{id}` — change a webhook.
pub async fn patch_webhook(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: JsonBody<PatchWebhookRequest>,
) -> ApiResult {
    let (hooks, actor) = (state.webhooks.clone(), auth.actor());
    let id = webhook_id(&actor, &path)?;
    let input = body.value;
    let patch = WebhookPatch {
        url: input.url,
        events: input.events,
        description: input.description,
        enabled: input.enabled,
    };
    let hook = web::block(move || {
        hooks
            .update(&actor, id, patch)
            .map(|h| (h.clone(), hooks.db.pending_count(h.id)))
    })
    .await??;
    state.webhook_wake.notify_waiters();
    Ok(HttpResponse::Ok().json(response(&hook.0, hook.1)))
}

/// `DELETE /api/v1/webhooks/{id}` — delete a webhook and its deliveries.
pub async fn delete_webhook(auth: Auth, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult {
    let (hooks, actor) = (state.webhooks.clone(), auth.actor());
    let id = webhook_id(&actor, &path)?;
    web::block(move || hooks.delete(&actor, id)).await??;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/v1/webhooks/{id}/rotate-secret` — a new secret, shown once.
pub async fn rotate_webhook_secret(auth: Auth, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult {
    let (hooks, actor) = (state.webhooks.clone(), auth.actor());
    let id = webhook_id(&actor, &path)?;
    let hook = web::block(move || {
        hooks
            .rotate_secret(&actor, id)
            .map(|h| (h.clone(), hooks.db.pending_count(h.id)))
    })
    .await??;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(with_secret(&hook.0, hook.1)))
}

/// Query of `GET /api/v1/webhooks/{id}/deliveries`.
#[derive(Debug, Deserialize)]
pub struct DeliveriesQuery {
    limit: Option<usize>,
}

/// `GET /api/v1/webhooks/{id}/deliveries` — recent deliveries, newest first.
pub async fn list_webhook_deliveries(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<DeliveriesQuery>,
) -> ApiResult {
    let (hooks, actor) = (state.webhooks.clone(), auth.actor());
    let id = webhook_id(&actor, &path)?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 200"));
    }
    let list = web::block(move || hooks.deliveries(&actor, id, limit)).await??;
    Ok(HttpResponse::Ok().json(DeliveryList {
        items: list.iter().map(delivery).collect(),
    }))
}

/// `POST /api/v1/webhooks/{id}/deliveries/{delivery}/resend` — send a delivery again.
pub async fn resend_webhook_delivery(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult {
    let (hooks, actor) = (state.webhooks.clone(), auth.actor());
    let (raw, message) = path.into_inner();
    let id = webhook_id(&actor, &raw)?;
    let queued = web::block(move || hooks.resend(&actor, id, &message)).await??;
    state.webhook_wake.notify_waiters();
    Ok(HttpResponse::Accepted().json(delivery(&queued)))
}
