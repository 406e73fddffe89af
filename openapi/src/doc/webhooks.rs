//! Webhooks in the OpenAPI document. Every route needs the `admin` right (403 before anything
//! is read), and an unknown id is 404.

#![allow(dead_code)]

use super::responses::{JsonBody, MissingRight, Unauthenticated};
use crate::problem::Problem;
use crate::webhooks::{
    CreateWebhookRequest, DeliveryList, DeliveryResponse, PatchWebhookRequest, WebhookCreated, WebhookList,
    WebhookResponse,
};

/// `POST /api/v1/webhooks` — register a webhook. Events appended from now on that it subscribes
/// to are posted to its URL as Standard Webhooks (`webhook-id`, `webhook-timestamp`,
/// `webhook-signature: v1,…`), body `{"type", "timestamp", "data"}`, at least once, in order,
/// retried for about a day. The `secret` is in this answer only.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = CreateWebhookRequest, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; store `secret` now", body = WebhookCreated,
            headers(("Location" = String, description = "URL of the webhook"))),
        (status = 400, description = "Malformed body, unknown event type, description too long", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
        MissingRight,
        JsonBody,
        (status = 422, description = "The URL is refused (`webhook-url-refused`): not http (https is not supported yet), unresolvable, or a private, loopback or link-local address", body = Problem, content_type = "application/problem+json"),
    ))]
fn create_webhook() {}

/// `GET /api/v1/webhooks` — every webhook (no secrets), with its state and pending deliveries.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses(
        (status = 200, description = "The webhooks", body = WebhookList),
        Unauthenticated,
        MissingRight,
    ))]
fn list_webhooks() {}

/// `GET /api/v1/webhooks/{id}` — one webhook (no secret).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Webhook id (ULID)")),
    responses(
        (status = 200, description = "The webhook", body = WebhookResponse),
        Unauthenticated,
        MissingRight,
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
    ))]
fn get_webhook() {}

/// `PATCH /api/v1/webhooks/{id}` — change its URL, events, description, or turn it off and on.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks", request_body = PatchWebhookRequest, security(("bearer" = [])),
    params(("id" = String, Path, description = "Webhook id (ULID)")),
    responses(
        (status = 200, description = "Changed", body = WebhookResponse),
        (status = 400, description = "Malformed body or unknown event type", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
        MissingRight,
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
        JsonBody,
        (status = 422, description = "The URL is refused", body = Problem, content_type = "application/problem+json"),
    ))]
fn patch_webhook() {}

/// `DELETE /api/v1/webhooks/{id}` — delete a webhook and its deliveries.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Webhook id (ULID)")),
    responses(
        (status = 204, description = "Deleted"),
        Unauthenticated,
        MissingRight,
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
    ))]
fn delete_webhook() {}

/// `POST /api/v1/webhooks/{id}/rotate-secret` — a new secret; the old one stops at once.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate-secret", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Webhook id (ULID)")),
    responses(
        (status = 200, description = "The webhook with its new secret", body = WebhookCreated),
        Unauthenticated,
        MissingRight,
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
    ))]
fn rotate_webhook_secret() {}

/// `GET /api/v1/webhooks/{id}/deliveries` — its recent deliveries, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Webhook id (ULID)"),
        ("limit" = Option<u32>, Query, description = "1 to 200 (default 50)"),
    ),
    responses(
        (status = 200, description = "Deliveries", body = DeliveryList),
        (status = 400, description = "Bad query parameter", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
        MissingRight,
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
    ))]
fn list_webhook_deliveries() {}

/// `POST /api/v1/webhooks/{id}/deliveries/{delivery}/resend` — send a delivery again (same
/// `webhook-id`), with a fresh retry schedule.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery}/resend", tag = "webhooks", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Webhook id (ULID)"),
        ("delivery" = String, Path, description = "Delivery id (its `webhook-id`)"),
    ),
    responses(
        (status = 202, description = "Queued again", body = DeliveryResponse),
        Unauthenticated,
        MissingRight,
        (status = 404, description = "No such webhook or delivery", body = Problem, content_type = "application/problem+json"),
    ))]
fn resend_webhook_delivery() {}
