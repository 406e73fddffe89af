//! Response sets that many operations share, declared once: the declarations in this folder
//! name them (`responses((status = 200, …), Unauthenticated, JsonBody)`) instead of repeating the
//! same problem+json lines on every route.

use std::collections::BTreeMap;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::IntoResponses;

/// A problem+json response with `description`.
fn problem(description: &str) -> ResponseBuilder {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .build();
    ResponseBuilder::new()
        .description(description)
        .content("application/problem+json", content)
}

fn set(responses: impl IntoIterator<Item = (&'static str, ResponseBuilder)>) -> BTreeMap<String, RefOr<Response>> {
    responses
        .into_iter()
        .map(|(status, response)| (status.to_owned(), response.build().into()))
        .collect()
}

/// 401: the route needs a valid access token or API token.
pub(super) struct Unauthenticated;

impl IntoResponses for Unauthenticated {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set([("401", problem("No valid access token"))])
    }
}

/// 403: a right is missing; `missing` names it.
pub(super) struct MissingRight;

impl IntoResponses for MissingRight {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set([("403", problem("Missing right (`missing` names it)"))])
    }
}

/// 413 and 415: the limits of a JSON request body.
pub(super) struct JsonBody;

impl IntoResponses for JsonBody {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set([("413", problem("Body too large")), ("415", problem("Not JSON"))])
    }
}

/// 422 and 429: what a write can meet besides its own checks (a reused Idempotency-Key, the
/// write rate limit).
pub(super) struct WriteLimits;

impl IntoResponses for WriteLimits {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let seconds = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).build();
        let retry_after = HeaderBuilder::new()
            .schema(seconds)
            .description(Some("Seconds to wait"))
            .build();
        set([
            ("422", problem("Idempotency-Key reused with another request")),
            (
                "429",
                problem("Too many writes; see Retry-After").header("Retry-After", retry_after),
            ),
        ])
    }
}
