//! Operations in the OpenAPI document: projection status, audit, backups and metrics.

#![allow(dead_code)]

use super::responses::{MissingRight, Unauthenticated};
use crate::ops::BackupArchive;
use crate::problem::Problem;
use crate::status::{AuditReport, PostCommits, StatusResponse};

/// `GET /api/v1/status` — how far the projections have come: the log's head, git's position and
/// lag, and the state of each mirror (any logged-in user).
#[utoipa::path(get, path = "/api/v1/status", tag = "status", security(("bearer" = [])),
    responses(
        (status = 200, description = "The status", body = StatusResponse),
        Unauthenticated,
    ))]
fn status() {}

/// `GET /api/v1/audit` — rebuild the expected git history from the event log and compare it with
/// `main`, commit by commit and path by path (admins). A mismatch is 200 with `ok: false`.
#[utoipa::path(get, path = "/api/v1/audit", tag = "status", security(("bearer" = [])),
    responses(
        (status = 200, description = "The report; `ok` says whether git matches the log", body = AuditReport),
        Unauthenticated,
        (status = 403, description = "Not an admin (`missing` is `admin`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The git projection is off (`git.enabled = false`)", body = Problem, content_type = "application/problem+json"),
    ))]
fn audit() {}

/// `GET /api/v1/posts/{id}/commits` — the git commits of a post, newest first, to link to them.
#[utoipa::path(get, path = "/api/v1/posts/{id}/commits", tag = "posts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Post id (ULID)")),
    responses(
        (status = 200, description = "The post's commits (events not in git yet are not listed)", body = PostCommits),
        Unauthenticated,
        MissingRight,
        (status = 404, description = "No such post", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The git projection is off (`git.enabled = false`)", body = Problem, content_type = "application/problem+json"),
    ))]
fn post_commits() {}

/// `GET /api/v1/backup` — a consistent snapshot of the data folder as a tar archive (admins):
/// the event log up to the head at the moment of the request (a prefix of the log, whatever is
/// written meanwhile), users and token hashes, idempotency records, signing keys and the
/// configuration. `quire backup FILE --url URL --token qk_…` saves it; `quire restore
/// --from-backup FILE` restores it.
#[utoipa::path(get, path = "/api/v1/backup", tag = "operations", security(("bearer" = [])),
    responses(
        (status = 200, description = "The archive; its first entry `quire-backup/manifest.json` is a BackupManifest", body = BackupArchive, content_type = "application/x-tar",
            headers(
                ("Content-Length" = u64, description = "The archive's exact size"),
                ("X-Quire-Head" = u64, description = "The last seq in the archive"),
                ("Content-Disposition" = String, description = "`attachment; filename=\"quire-backup-<head>.tar\"`"),
            )),
        Unauthenticated,
        (status = 403, description = "Not an admin (`missing` is `admin`)", body = Problem, content_type = "application/problem+json"),
    ))]
fn backup() {}

/// `GET /metrics` — Prometheus metrics in the OpenMetrics text format: requests by route and
/// status, events appended, the log's head, each projection's seq and lag, mirror pushes,
/// idempotent replays and 412 conflicts. Open unless `metrics.token` is set.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "The metrics", body = String, content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8"),
        (status = 401, description = "`metrics.token` is set and the request did not send it as a bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Metrics are turned off (`metrics.enabled = false`)", body = Problem, content_type = "application/problem+json"),
    ))]
fn metrics() {}
