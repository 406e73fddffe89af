//! Data pages: the list of published datasets (`/data/`) and one dataset's page with its chart
//! ([`crate::chart`]) and table (`/data/<name>/`). No JavaScript: the table is sorted and paged
//! through links.
//!
//! The same functions render the static files the site projection writes and the pages Quire
//! answers itself, so the two cannot drift apart. The default order's pages have plain URLs —
//! `/data/<name>/` for the first, `/data/<name>/page/<n>/` for the others ([`data_page_file`]) —
//! and exist as files; a sorted or filtered table is paged with datasette's `_next` cursor in
//! the query string, which only Quire answers.

use std::fmt::Write as _;

use maud::{html, Markup, PreEscaped, DOCTYPE};
use time::OffsetDateTime;

use crate::model::SiteConfig;
use crate::templates::{date_text, trusted};

/// One column of a data table.
#[derive(Debug, Clone)]
pub struct DataColumn {
    pub name: String,
    /// Right-aligned, sorts as numbers.
    pub numeric: bool,
}

/// What the page of one dataset shows.
#[derive(Debug, Clone)]
pub struct DataPageInput<'a> {
    pub name: &'a str,
    pub title: &'a str,
    /// The description, already rendered and sanitized.
    pub description_html: String,
    pub columns: Vec<DataColumn>,
    /// This page's rows.
    pub rows: &'a [(u64, Vec<String>)],
    pub total_rows: u64,
    /// Column index and descending.
    pub sort: Option<(usize, bool)>,
    /// Where this page is and how its neighbours are linked.
    pub pager: DataPager,
    /// The chart, from [`crate::chart_svg`] (the first page shows it; later ones need not).
    pub chart: Option<String>,
    pub updated: OffsetDateTime,
}

/// How a table page links to its neighbours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataPager {
    /// Page `page` (from 1) of `pages` in the file's own order, linked by path
    /// ([`data_page_file`]): these pages are static files.
    Numbered { page: u64, pages: u64 },
    /// A sorted or filtered page, linked by the query string (`_next` cursor): Quire answers it.
    Cursor {
        /// The `_next` cursor of the following page.
        next: Option<String>,
        /// Whether this is a later page (shows a link to the first).
        later: bool,
    },
}

impl DataPager {
    /// Whether this is the table's first page.
    pub fn is_first(&self) -> bool {
        match self {
            DataPager::Numbered { page, .. } => *page <= 1,
            DataPager::Cursor { later, .. } => !later,
        }
    }
}

/// The file (relative to the site folder) holding page `page` (from 1) of dataset `name` in
/// its own order: `data/<name>/index.html`, then `data/<name>/page/<n>/index.html`.
pub fn data_page_file(name: &str, page: u64) -> String {
    if page <= 1 {
        format!("data/{name}/index.html")
    } else {
        format!("data/{name}/page/{page}/index.html")
    }
}

/// The URL path (without the base path) of page `page` of dataset `name` in its own order.
fn data_page_url(name: &str, page: u64) -> String {
    if page <= 1 {
        format!("/data/{name}/")
    } else {
        format!("/data/{name}/page/{page}/")
    }
}

/// One entry of `/data/`.
#[derive(Debug, Clone)]
pub struct DataSummary {
    pub name: String,
    pub title: String,
    pub rows: u64,
    pub updated: OffsetDateTime,
}

fn frame(config: &SiteConfig, title: &str, path: &str, content: Markup) -> String {
    let base = config.base_path();
    let markup = html! {
        (DOCTYPE)
        html lang=(config.language) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – " (config.title) }
                link rel="canonical" href={ (config.base()) (path) };
                link rel="stylesheet" href={ (base) "/style.css" };
                @if config.custom_css.is_some() {
                    link rel="stylesheet" href={ (base) "/custom.css" };
                }
                style { (PreEscaped(TABLE_CSS)) }
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.site-header {
                    a.site-title href={ (base) "/" } { (config.title) }
                    nav aria-label="Site" { ul { li { a href={ (base) "/data/" } { "Data" } } } }
                }
                main #main { (content) }
                footer.site-footer { p { "Published with Quire" } }
            }
        }
    };
    markup.into_string()
}

const TABLE_CSS: &str = "table.data{border-collapse:collapse;font-variant-numeric:tabular-nums}\
table.data th,table.data td{padding:.2em .6em;border-bottom:1px solid #ddd;text-align:left}\
table.data td.num{text-align:right}figure.chart svg{max-width:100%;height:auto}";

/// `/data/`: every published dataset.
pub fn data_index(config: &SiteConfig, sets: &[DataSummary]) -> String {
    let base = config.base_path();
    let content = html! {
        h1 { "Data" }
        @if sets.is_empty() {
            p { "No datasets are published yet." }
        } @else {
            ul.data-list {
                @for set in sets {
                    li {
                        a href={ (base) "/data/" (set.name) "/" } { (set.title) }
                        " — " (set.rows) " rows, updated " (date_text(set.updated))
                    }
                }
            }
        }
    };
    frame(config, "Data", "/data/", content)
}

/// `/data/<name>/` (and its later pages): title, description, chart, a page of the table, downloads.
pub fn data_page(config: &SiteConfig, page: &DataPageInput<'_>) -> String {
    let base = config.base_path();
    let here = format!("{base}/data/{}/", page.name);
    let sort_param = |s: Option<(usize, bool)>| match s {
        Some((i, desc)) => {
            let key = if desc { "_sort_desc" } else { "_sort" };
            format!("{key}={}", encode(&page.columns[i].name))
        }
        None => String::new(),
    };
    let current_sort = sort_param(page.sort);
    let content = html! {
        article.dataset {
            h1 { (page.title) }
            p.meta { (page.total_rows) " rows · updated " (date_text(page.updated)) }
            div.description { (trusted(page.description_html.clone())) }
            @if let Some(svg) = &page.chart {
                figure.chart { (PreEscaped(svg.as_str())) }
            }
            p.downloads {
                "Download: "
                a href={ (base) "/data/" (page.name) ".csv" } { "CSV" } " · "
                a href={ (base) "/data/" (page.name) ".json" } { "JSON" }
            }
            table.data {
                caption { (page.title) " (" (page.total_rows) " rows)" }
                thead { tr {
                    @for (i, col) in page.columns.iter().enumerate() {
                        @let (aria, next_sort) = match page.sort {
                            Some((c, false)) if c == i => ("ascending", Some((i, true))),
                            Some((c, true)) if c == i => ("descending", Some((i, false))),
                            _ => ("none", Some((i, false))),
                        };
                        th scope="col" aria-sort=(aria) {
                            a href={ (here) "?" (sort_param(next_sort)) } { (col.name) }
                            @if aria == "ascending" { " ▲" } @else if aria == "descending" { " ▼" }
                        }
                    }
                } }
                tbody {
                    @for (_, cells) in page.rows {
                        tr {
                            @for (i, cell) in cells.iter().enumerate() {
                                @if page.columns.get(i).is_some_and(|c| c.numeric) {
                                    td.num { (cell) }
                                } @else {
                                    td { (cell) }
                                }
                            }
                        }
                    }
                }
            }
            (pager(base, page, &here, &current_sort))
        }
    };
    let path = match page.pager {
        DataPager::Numbered { page: n, .. } => data_page_url(page.name, n),
        DataPager::Cursor { .. } => format!("/data/{}/", page.name),
    };
    frame(config, page.title, &path, content)
}

/// The links to the first, previous and next pages of the table.
fn pager(base: &str, page: &DataPageInput<'_>, here: &str, current_sort: &str) -> Markup {
    match &page.pager {
        DataPager::Numbered { page: n, pages } => {
            let link = |n: u64| format!("{base}{}", data_page_url(page.name, n));
            html! {
                nav.pagination aria-label="Table pages" {
                    @if *n > 1 {
                        a rel="first" href=(link(1)) { "First page" } " "
                        a rel="prev" href=(link(n - 1)) { "Previous page" } " "
                    }
                    span.page-number { "Page " (n) " of " (pages) }
                    @if n < pages {
                        " " a rel="next" href=(link(n + 1)) { "Next page" }
                    }
                }
            }
        }
        DataPager::Cursor { next, later } => html! {
            nav.pagination aria-label="Table pages" {
                @if *later {
                    a rel="first" href={ (here) "?" (current_sort) } { "First page" } " "
                }
                @if let Some(next) = next {
                    a rel="next" href={ (here) "?" (current_sort) "&_next=" (encode(next)) } { "Next page" }
                }
            }
        },
    }
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}
