//! The public side of datasets, served by Quire under `/data/` (published datasets only; a
//! draft or deleted one is missing, exactly like a name never used):
//! - `/data/` — the list; `/data/<name>/` — the page with chart and table in the file's order,
//!   its later pages at `/data/<name>/page/<n>/` (the same pages the site projection writes as
//!   files, from the same code in [`super::pages`]); sorted or filtered tables through the query
//!   string (`?_sort=col`, `?_sort_desc=col`, `?_next=…`), which only Quire answers;
//! - `/data/<name>.csv` — the stored CSV; `/data/<name>/chart.svg` — the chart alone (a post
//!   shows it with `![title](/data/<name>/chart.svg)`);
//! - `/data/<name>.json` — the query API, after datasette: `col=value`, `col__gt`, `__gte`,
//!   `__lt`, `__lte`, `__contains`, `__not`, `_sort`, `_sort_desc`, `_size`, `_next`,
//!   `_shape=objects|arrays`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use quire_render::DataPager;
use quire_storage::datasets::query::json_value;
use quire_storage::datasets::Query;
use quire_storage::{Dataset, DatasetService};

use super::pages::{self, open, page_count, PAGE_ROWS};
use crate::error::ApiError;
use crate::state::AppState;

enum Target<'a> {
    Index,
    Page(&'a str),
    /// `/data/<name>/page/<n>/`: page `n` (from 2) in the file's order.
    Numbered(&'a str, u64),
    /// `/data/<name>/chart.svg`: the chart alone, for posts to embed as an image.
    Chart(&'a str),
    Csv(&'a str),
    Json(&'a str),
    Slashless(&'a str),
}

fn target(rest: &str) -> Option<Target<'_>> {
    if rest.is_empty() {
        return Some(Target::Index);
    }
    if let Some(name) = rest.strip_suffix('/') {
        if let Some((name, n)) = name.split_once("/page/") {
            let n = n.parse().ok().filter(|n| *n >= 2 && !name.contains('/'))?;
            return Some(Target::Numbered(name, n));
        }
        return (!name.contains('/')).then_some(Target::Page(name));
    }
    if let Some(name) = rest.strip_suffix("/chart.svg") {
        return (!name.contains('/')).then_some(Target::Chart(name));
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
            Ok(html(pages::index_html(&site, &sets)))
        }
        Target::Slashless(name) => {
            let location = format!("/data/{name}/");
            Ok(HttpResponse::PermanentRedirect()
                .insert_header((header::LOCATION, location))
                .finish())
        }
        Target::Page(name) => {
            let name = name.to_owned();
            let page = web::block(move || render_page(&service, &site, &name, &pairs, None)).await??;
            page.map(html).ok_or_else(missing)
        }
        Target::Numbered(name, n) => {
            let name = name.to_owned();
            let page = web::block(move || render_page(&service, &site, &name, &[], Some(n))).await??;
            page.map(html).ok_or_else(missing)
        }
        Target::Chart(name) => {
            let name = name.to_owned();
            let svg = web::block(move || match service.public(&name)? {
                Some(set) => pages::chart(service.blobs(), &set),
                None => Ok(None),
            })
            .await??;
            Ok(HttpResponse::Ok()
                .content_type("image/svg+xml")
                .insert_header((header::CACHE_CONTROL, "no-cache"))
                .body(svg.ok_or_else(missing)?))
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
    let page = query.run(open(service.blobs(), &set)?)?;
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

/// The HTML page of the published dataset `name`: for the query `pairs`, or (`numbered`) page
/// `n` in the file's order, as the site's files have it.
fn render_page(
    service: &DatasetService,
    site: &quire_render::SiteConfig,
    name: &str,
    pairs: &[(String, String)],
    numbered: Option<u64>,
) -> Result<Option<String>, quire_storage::Error> {
    let Some(set) = service.public(name)? else {
        return Ok(None);
    };
    let pages = page_count(&set);
    let mut pairs: Vec<(String, String)> = match numbered {
        Some(n) if n > pages => return Ok(None),
        Some(n) => vec![("_next".into(), ((n - 1) * PAGE_ROWS as u64).to_string())],
        None => pairs
            .iter()
            .filter(|(k, _)| k != "_size" && k != "_shape")
            .cloned()
            .collect(),
    };
    pairs.push(("_size".into(), PAGE_ROWS.to_string()));
    let query = Query::parse(&set, &pairs)?;
    let page = query.run(open(service.blobs(), &set)?)?;
    let pager = pager_of(&query, &pairs, pages, page.next.clone());
    let chart = match pager.is_first() {
        true => pages::chart(service.blobs(), &set)?,
        false => None,
    };
    Ok(Some(pages::page_html(
        site,
        &set,
        &page.rows,
        query.sorted_by(),
        pager,
        chart,
    )))
}

/// A page in the file's order, unfiltered, starting at a page boundary is one of the numbered
/// (static) pages and links like them; anything else pages with the `_next` cursor.
fn pager_of(query: &Query, pairs: &[(String, String)], pages: u64, next: Option<String>) -> DataPager {
    let filtered = pairs.iter().any(|(k, _)| !k.starts_with('_'));
    let cursor = pairs.iter().find(|(k, _)| k == "_next").map(|(_, v)| v.as_str());
    let start = match cursor {
        None | Some("") => Some(0),
        Some(raw) => raw.parse::<u64>().ok(),
    };
    let rows = PAGE_ROWS as u64;
    match start {
        Some(start) if query.sorted_by().is_none() && !filtered && start % rows == 0 => DataPager::Numbered {
            page: start / rows + 1,
            pages,
        },
        _ => DataPager::Cursor {
            next,
            later: cursor.is_some_and(|v| !v.is_empty()),
        },
    }
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
