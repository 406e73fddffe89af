//! `/api/v1/datasets`: put data, change metadata, read, list, delete, history. The public
//! pages and query API under `/data/` are in `crate::datasets::public`.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use quire_openapi::{
    ChartSettings, ChartType, ColumnType, DatasetColumn, DatasetHistory, DatasetList, DatasetResponse,
    DatasetStatusName, PatchDatasetRequest,
};
use quire_storage::datasets::{Chart, ChartKind, DatasetStatus, Kind, MetaPatch, NewData};
use quire_storage::{Dataset, Error as DomainError, IdempotencyRecord, IdempotencyWrite, InFlight};

use crate::auth::Auth;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::routes::events::event_response;
use crate::state::AppState;
use crate::write::{begin_write, if_match, Started};

/// The API shape of a dataset.
pub fn dataset_response(set: &Dataset) -> DatasetResponse {
    DatasetResponse {
        name: set.name.clone(),
        title: set.meta.title.clone(),
        description: set.meta.description.clone(),
        status: match set.meta.status {
            DatasetStatus::Draft => DatasetStatusName::Draft,
            DatasetStatus::Published => DatasetStatusName::Published,
        },
        chart: set.meta.chart.as_ref().map(|c| ChartSettings {
            chart_type: match c.kind {
                ChartKind::Line => ChartType::Line,
                ChartKind::Bar => ChartType::Bar,
            },
            x: c.x.clone(),
            y: c.y.clone(),
        }),
        source_url: set.meta.source_url.clone(),
        refresh: set.meta.refresh.clone(),
        columns: set
            .columns
            .iter()
            .map(|c| DatasetColumn {
                name: c.name.clone(),
                column_type: match c.kind {
                    Kind::Integer => ColumnType::Integer,
                    Kind::Number => ColumnType::Number,
                    Kind::Date => ColumnType::Date,
                    Kind::Datetime => ColumnType::Datetime,
                    Kind::Text => ColumnType::Text,
                },
            })
            .collect(),
        rows: set.rows,
        bytes: set.bytes,
        hash: set.hash.clone(),
        owner: set.owner.clone(),
        created_at: set.created_at,
        updated_at: set.updated_at,
        data_updated_at: set.data_updated_at,
        version: set.version,
    }
}

fn dataset_http(status: StatusCode, set: &Dataset) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::ETAG, format!("\"{}\"", set.version)));
    if status == StatusCode::CREATED {
        response.insert_header((header::LOCATION, format!("/api/v1/datasets/{}", set.name)));
    }
    response.json(dataset_response(set))
}

/// Runs a dataset command once per `Idempotency-Key`; the command says whether it created.
async fn run_dataset_write<F>(
    state: &web::Data<AppState>,
    auth: &Auth,
    req: &HttpRequest,
    body: &[u8],
    command: F,
) -> ApiResult
where
    F: FnOnce(Option<IdempotencyWrite>) -> Result<(Dataset, bool), DomainError> + Send + 'static,
{
    // The fingerprint's status is that of a change; a create is recorded as 201 below.
    let held = match begin_write(state, auth, req, body, StatusCode::OK).await? {
        Started::Fresh(held) => held,
        Started::Replay(record) => return replay(state, record).await,
    };
    let write = held.as_ref().map(InFlight::write);
    let result = web::block(move || command(write)).await?;
    drop(held);
    let (set, created) = result.map_err(|e| {
        if matches!(e, DomainError::DatasetVersionConflict { .. }) {
            state.metrics.conflict();
        }
        ApiError::from(e)
    })?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(dataset_http(status, &set))
}

async fn replay(state: &web::Data<AppState>, record: IdempotencyRecord) -> ApiResult {
    let datasets = state.datasets.clone();
    let found = web::block(move || datasets.replayed(record.stream, record.version)).await??;
    let status = if found.version == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(dataset_http(status, &found))
}

/// `PUT /api/v1/datasets/{name}` — create or replace the data (CSV or JSON).
pub async fn put_dataset(
    auth: Auth,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> ApiResult {
    let actor = auth.actor();
    state.datasets.check_may_write(&actor)?;
    let format = crate::datasets::format_of(&req)?;
    let body = crate::datasets::read_body(&req, payload, state.config.datasets.max_bytes).await?;
    let expected = match req
        .headers()
        .get(header::IF_MATCH)
        .filter(|v| !v.as_bytes().iter().all(u8::is_ascii_whitespace))
    {
        Some(_) => Some(if_match(&req)?),
        None => None,
    };
    let (datasets, name) = (state.datasets.clone(), path.into_inner());
    // The idempotency fingerprint takes the body's digest, not a second copy of the body.
    let digest = quire_storage::media::blobs::sha256_hex(&body);
    run_dataset_write(&state, &auth, &req, digest.as_bytes(), move |idem| {
        let data = NewData {
            body: &body,
            format,
            expected: expected.as_ref(),
            fetched_from: None,
        };
        datasets.put(&actor, &name, data, idem)
    })
    .await
}

/// `PATCH /api/v1/datasets/{name}` — change the metadata.
pub async fn patch_dataset(
    auth: Auth,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: JsonBody<PatchDatasetRequest>,
) -> ApiResult {
    let expected = if_match(&req)?;
    let value = body.value;
    let patch = MetaPatch {
        title: value.title,
        description: value.description,
        status: value.status.map(|s| match s {
            DatasetStatusName::Draft => DatasetStatus::Draft,
            DatasetStatusName::Published => DatasetStatus::Published,
        }),
        chart: value.chart.map(|c| {
            c.map(|c| Chart {
                kind: match c.chart_type {
                    ChartType::Line => ChartKind::Line,
                    ChartType::Bar => ChartKind::Bar,
                },
                x: c.x,
                y: c.y,
            })
        }),
        source_url: value.source_url,
        refresh: value.refresh,
    };
    let (datasets, actor, name) = (state.datasets.clone(), auth.actor(), path.into_inner());
    run_dataset_write(&state, &auth, &req, &body.raw, move |idem| {
        datasets
            .patch(&actor, &name, &expected, patch, idem)
            .map(|d| (d, false))
    })
    .await
}

/// `DELETE /api/v1/datasets/{name}` — delete a dataset.
pub async fn delete_dataset(
    auth: Auth,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult {
    let expected = if_match(&req)?;
    let (datasets, actor, name) = (state.datasets.clone(), auth.actor(), path.into_inner());
    run_dataset_write(&state, &auth, &req, b"", move |idem| {
        datasets.delete(&actor, &name, &expected, idem).map(|d| (d, false))
    })
    .await
}

/// `GET /api/v1/datasets/{name}` — one dataset.
pub async fn get_dataset(auth: Auth, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult {
    let (datasets, actor, name) = (state.datasets.clone(), auth.actor(), path.into_inner());
    let found = web::block(move || datasets.get(&actor, &name)).await??;
    Ok(dataset_http(StatusCode::OK, &found))
}

/// `GET /api/v1/datasets` — every dataset the caller may see.
pub async fn list_datasets(auth: Auth, state: web::Data<AppState>) -> ApiResult {
    let (datasets, actor) = (state.datasets.clone(), auth.actor());
    let all = web::block(move || datasets.list(&actor)).await??;
    Ok(HttpResponse::Ok().json(DatasetList {
        items: all.iter().map(dataset_response).collect(),
    }))
}

/// `GET /api/v1/datasets/{name}/history` — the dataset's events.
pub async fn dataset_history(auth: Auth, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult {
    let (datasets, actor, name) = (state.datasets.clone(), auth.actor(), path.into_inner());
    let events = web::block(move || datasets.history(&actor, &name)).await??;
    Ok(HttpResponse::Ok().json(DatasetHistory {
        events: events.iter().map(event_response).collect(),
    }))
}

/// `GET /api/v1/datasets/{name}/versions/{n}` — the dataset at version `n`.
pub async fn dataset_version(auth: Auth, state: web::Data<AppState>, path: web::Path<(String, String)>) -> ApiResult {
    let (name, raw_n) = path.into_inner();
    let n: u64 = raw_n
        .parse()
        .map_err(|_| ApiError::not_found(format!("{raw_n:?} is not a version number")))?;
    let (datasets, actor) = (state.datasets.clone(), auth.actor());
    let found = web::block(move || datasets.version(&actor, &name, n)).await??;
    Ok(dataset_http(StatusCode::OK, &found))
}
