//! The dataset operations of the OpenAPI document. The public pages and the query API
//! (`/data/`, `/data/<name>/`, `/data/<name>.csv`, `/data/<name>.json`) belong to the site and
//! are described in the README.

use crate::datasets::{DatasetHistory, DatasetList, DatasetResponse, DatasetRow, PatchDatasetRequest};
use crate::problem::Problem;

/// `PUT /api/v1/datasets/{name}` — create or replace a dataset's data: CSV with a header row,
/// or a JSON array of objects (their keys are the columns). Column types are inferred
/// (integer, number, date, datetime, text). The same data again changes nothing (200, no new
/// version). Without `If-Match` whatever is there is replaced; with it, only that version.
#[utoipa::path(put, path = "/api/v1/datasets/{name}", tag = "datasets", security(("bearer" = [])),
    request_body(description = "The data", content((String = "text/csv"), (Vec<DatasetRow> = "application/json"))),
    params(
        ("name" = String, Path, description = "Dataset name: 1 to 64 of a-z, 0-9, '-' and '_'"),
        ("If-Match" = Option<String>, Header, description = "Replace only this version (`\"<version>\"`), or `*`: only if it exists"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
    ),
    responses(
        (status = 200, description = "Replaced (or unchanged)", body = DatasetResponse, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 201, description = "Created", body = DatasetResponse,
            headers(("Location" = String, description = "`/api/v1/datasets/{name}`"), ("ETag" = String, description = "\"<version>\""))),
        (status = 400, description = "Bad name or Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing right (`posts:write`; `posts:publish` for your published dataset)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name belongs to another user's dataset (`dataset-name-taken`; the same answer whether it is published, a draft or deleted, and nothing more is told), or the Idempotency-Key is in use", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than `datasets.max_bytes`, or more rows than `datasets.max_rows`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither text/csv nor application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed CSV or JSON (the detail names the line), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many writes; see Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub(super) fn put_dataset() {}

/// `GET /api/v1/datasets` — every dataset the caller may see (drafts: their own; editors and admins: all).
#[utoipa::path(get, path = "/api/v1/datasets", tag = "datasets", security(("bearer" = [])),
    responses(
        (status = 200, description = "The datasets, by name", body = DatasetList),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing right `posts:read`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) fn list_datasets() {}

/// `GET /api/v1/datasets/{name}` — one dataset (404 if the caller may not see it).
#[utoipa::path(get, path = "/api/v1/datasets/{name}", tag = "datasets", security(("bearer" = [])),
    params(("name" = String, Path, description = "Dataset name")),
    responses(
        (status = 200, description = "The dataset", body = DatasetResponse, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing right `posts:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such dataset (or deleted, or a draft the caller may not see)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) fn get_dataset() {}

/// `PATCH /api/v1/datasets/{name}` — change the metadata: title, description, status, chart,
/// source_url and refresh.
#[utoipa::path(patch, path = "/api/v1/datasets/{name}", tag = "datasets", security(("bearer" = [])),
    request_body = PatchDatasetRequest,
    params(
        ("name" = String, Path, description = "Dataset name"),
        ("If-Match" = String, Header, description = "The dataset's current `ETag`, or `*`"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
    ),
    responses(
        (status = 200, description = "Changed", body = DatasetResponse, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 400, description = "Malformed body or Idempotency-Key, or an invalid field (`field` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing right (`posts:write`, `posts:publish`, or another user's dataset)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such dataset", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The Idempotency-Key is in use", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Idempotency-Key reused with another request", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many writes; see Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub(super) fn patch_dataset() {}

/// `DELETE /api/v1/datasets/{name}` — delete a dataset: it leaves the site, listings and git;
/// its history stays, and a later `PUT` brings the name back.
#[utoipa::path(delete, path = "/api/v1/datasets/{name}", tag = "datasets", security(("bearer" = [])),
    params(
        ("name" = String, Path, description = "Dataset name"),
        ("If-Match" = String, Header, description = "The dataset's current `ETag`, or `*`"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
    ),
    responses(
        (status = 200, description = "Deleted", body = DatasetResponse, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 400, description = "Malformed Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing right", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such dataset", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The Idempotency-Key is in use", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Idempotency-Key reused with another request", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many writes; see Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub(super) fn delete_dataset() {}

/// `GET /api/v1/datasets/{name}/history` — the dataset's events, oldest first.
#[utoipa::path(get, path = "/api/v1/datasets/{name}/history", tag = "datasets", security(("bearer" = [])),
    params(("name" = String, Path, description = "Dataset name")),
    responses(
        (status = 200, description = "Its events", body = DatasetHistory),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing right `posts:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such dataset", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) fn dataset_history() {}

/// `GET /api/v1/datasets/{name}/versions/{n}` — the dataset as it was at version `n`.
#[utoipa::path(get, path = "/api/v1/datasets/{name}/versions/{n}", tag = "datasets", security(("bearer" = [])),
    params(
        ("name" = String, Path, description = "Dataset name"),
        ("n" = u64, Path, description = "Version, from 1"),
    ),
    responses(
        (status = 200, description = "The dataset at that version", body = DatasetResponse, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing right `posts:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such dataset or version", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) fn dataset_version() {}
