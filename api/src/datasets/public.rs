//! The public side of datasets, served by Quire under `/data/` (published datasets only; a
//! draft or deleted one is missing, exactly like a name never used):
//! - `/data/` — the list; `/data/<name>/` — the page with chart and table, sorted and paged
//!   through links (`?_sort=col`, `?_sort_desc=col`, `?_next=…`);
//! - `/data/<name>.csv` — the stored CSV;
//! - `/data/<name>.json` — the query API, after datasette: `col=value`, `col__gt`, `__gte`,
//!   `__lt`, `__lte`, `__contains`, `__not`, `_sort`, `_sort_desc`, `_size`, `_next`,
//!   `_shape=objects|arrays`.

use std::fs::File;
use std::io::BufReader;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use quire_render::{chart_svg, data_index, data_page, ChartInput, DataColumn, DataPageInput, DataSummary, Markdown};
use quire_storage::datasets::query::{chart_points, json_value};
use quire_storage::datasets::{ChartKind, Query};
use quire_storage::{Dataset, DatasetService};

use crate::error::ApiError;
use crate::state::AppState;

/// Rows per page of the HTML table.
const PAGE_ROWS: usize = 50;
/// Most points a chart draws; more rows are averaged in buckets.
const CHART_POINTS: usize = 400;

enum Target<'a> {
    Index,
    Page(&'a str),
    Csv(&'a str),
    Json(&'a str),
    Slashless(&'a str),
}

fn target(rest: &str) -> Option<Target<'_>> {
    if rest.is_empty() {
        return Some(Target::Index);
    }
    if let Some(name) = rest.strip_suffix('/') {
        return (!name.contains('/')).then_some(Target::Page(name));
    }
    if rest.contains('/') {
        return None;
    }
    if let Some(name) = rest.strip_suffix(".csv") {
        return Some(Target::Csv(name));
    }
    if let Some(name) = rest.strip_suffix(".json") {
        return Some(Target::Json(name));
    }
    Some(Target::Slashless(rest))
}

/// Answers a request under `/data/` (`rest` is the path after it).
pub(crate) async fn serve(
    req: HttpRequest,
    state: web::Data<AppState>,
    rest: String,
) -> Result<HttpResponse, ApiError> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return Err(ApiError::method_not_allowed("GET, HEAD"));
    }
    let missing = || ApiError::not_found("no published dataset has this name; the list is at /data/");
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let service = state.datasets.clone();
    let site = state.config.site.settings.clone();
    match target(&rest).ok_or_else(missing)? {
        Target::Index => {
            let sets = web::block(move || service.public_list()).await??;
            let summaries: Vec<DataSummary> = sets
                .iter()
                .map(|d| DataSummary {
                    name: d.name.clone(),
                    title: d.meta.title.clone(),
                    rows: d.rows,
                    updated: d.data_updated_at,
                })
                .collect();
            Ok(html(data_index(&site, &summaries)))
        }
        Target::Slashless(name) => {
            let location = format!("/data/{name}/");
            Ok(HttpResponse::PermanentRedirect()
                .insert_header((header::LOCATION, location))
                .finish())
        }
        Target::Page(name) => {
            let name = name.to_owned();
            let page = web::block(move || render_page(&service, &site, &name, &pairs)).await??;
            page.map(html).ok_or_else(missing)
        }
        Target::Json(name) => {
            let name = name.to_owned();
            let path = req.path().to_owned();
            let body = web::block(move || query_json(&service, &name, &pairs, &path)).await??;
            let body = body.ok_or_else(missing)?;
            Ok(HttpResponse::Ok()
                .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
                .json(body))
        }
        Target::Csv(name) => {
            let name = name.to_owned();
            let found = web::block(move || service.public(&name)).await??.ok_or_else(missing)?;
            csv_file(&req, &state.datasets, &found).await
        }
    }
}

fn html(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

fn open(service: &DatasetService, set: &Dataset) -> Result<BufReader<File>, quire_storage::Error> {
    let file_name = set.file_name();
    let path = service
        .blobs()
        .path_of(&file_name)
        .ok_or_else(|| quire_storage::Error::DatasetNotFound { name: set.name.clone() })?;
    let file = File::open(&path).map_err(|source| quire_storage::Error::Io {
        context: format!("opening {}", path.display()),
        source,
    })?;
    Ok(BufReader::with_capacity(64 * 1024, file))
}

fn query_json(
    service: &DatasetService,
    name: &str,
    pairs: &[(String, String)],
    path: &str,
) -> Result<Option<serde_json::Value>, quire_storage::Error> {
    let Some(set) = service.public(name)? else {
        return Ok(None);
    };
    let query = Query::parse(&set, pairs)?;
    let page = query.run(open(service, &set)?)?;
    let rows: Vec<serde_json::Value> = page
        .rows
        .iter()
        .map(|(_, cells)| {
            let values = set.columns.iter().zip(cells).map(|(c, v)| (c, json_value(c.kind, v)));
            if query.objects {
                serde_json::Value::Object(values.map(|(c, v)| (c.name.clone(), v)).collect())
            } else {
                serde_json::Value::Array(values.map(|(_, v)| v).collect())
            }
        })
        .collect();
    let next_url = page.next.as_ref().map(|next| {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs.iter().filter(|(k, _)| k != "_next") {
            url.append_pair(k, v);
        }
        url.append_pair("_next", next);
        format!("{path}?{}", url.finish())
    });
    Ok(Some(serde_json::json!({
        "ok": true,
        "dataset": set.name,
        "columns": set.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
        "rows": rows,
        "next": page.next,
        "next_url": next_url,
    })))
}

fn render_page(
    service: &DatasetService,
    site: &quire_render::SiteConfig,
    name: &str,
    pairs: &[(String, String)],
) -> Result<Option<String>, quire_storage::Error> {
    let Some(set) = service.public(name)? else {
        return Ok(None);
    };
    let mut pairs: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k != "_size" && k != "_shape")
        .cloned()
        .collect();
    pairs.push(("_size".into(), PAGE_ROWS.to_string()));
    let query = Query::parse(&set, &pairs)?;
    let page = query.run(open(service, &set)?)?;
    let chart = match &set.meta.chart {
        Some(chart) => match (set.column(&chart.x), set.column(&chart.y)) {
            (Some((x, _)), Some((y, _))) => {
                let points = chart_points(&set, x, y, CHART_POINTS, open(service, &set)?)?;
                Some(chart_svg(&ChartInput {
                    title: &set.meta.title,
                    x_label: &chart.x,
                    y_label: &chart.y,
                    bar: chart.kind == ChartKind::Bar,
                    points: &points,
                    rows: set.rows,
                }))
            }
            _ => None,
        },
        None => None,
    };
    let input = DataPageInput {
        name: &set.name,
        title: &set.meta.title,
        description_html: Markdown::new().to_html(&set.meta.description),
        columns: set
            .columns
            .iter()
            .map(|c| DataColumn {
                name: c.name.clone(),
                numeric: c.kind.is_numeric(),
            })
            .collect(),
        rows: &page.rows,
        total_rows: set.rows,
        sort: query.sorted_by(),
        next: page.next.clone(),
        later_page: pairs.iter().any(|(k, v)| k == "_next" && !v.is_empty()),
        chart,
        updated: set.data_updated_at,
    };
    Ok(Some(data_page(site, &input)))
}

async fn csv_file(req: &HttpRequest, service: &DatasetService, set: &Dataset) -> Result<HttpResponse, ApiError> {
    let path = service
        .blobs()
        .path_of(&set.file_name())
        .ok_or_else(ApiError::internal)?;
    let file = web::block(move || actix_files::NamedFile::open(path))
        .await?
        .map_err(|_| ApiError::not_found("the dataset's file is missing"))?;
    let mime = "text/csv; charset=utf-8".parse().map_err(|_| ApiError::internal())?;
    let mut response = file
        .use_etag(false)
        .use_last_modified(false)
        .set_content_type(mime)
        .disable_content_disposition()
        .into_response(req);
    let etag = HeaderValue::from_str(&format!("\"{}\"", set.hash)).map_err(|_| ApiError::internal())?;
    response.headers_mut().insert(header::ETAG, etag);
    response
        .headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    Ok(response)
}
