//! Data pages: the list of published datasets (`/data/`), one dataset's page with its chart
//! and table (`/data/<name>/`), and the chart itself as accessible SVG (a `<title>`, a
//! `<desc>`, labelled axes with ticks). No JavaScript: the table is sorted and paged through
//! links.

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
    /// The `_next` cursor of the following page.
    pub next: Option<String>,
    /// Whether this is a later page (shows a link to the first).
    pub later_page: bool,
    /// The chart, from [`chart_svg`].
    pub chart: Option<String>,
    pub updated: OffsetDateTime,
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

/// `/data/<name>/`: title, description, chart, a page of the table, downloads.
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
            nav.pagination aria-label="Table pages" {
                @if page.later_page {
                    a rel="first" href={ (here) "?" (current_sort) } { "First page" } " "
                }
                @if let Some(next) = &page.next {
                    a rel="next" href={ (here) "?" (current_sort) "&_next=" (encode(next)) } { "Next page" }
                }
            }
        }
    };
    frame(config, page.title, &format!("/data/{}/", page.name), content)
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

/// What a chart shows: points in order along x (already downsampled).
#[derive(Debug, Clone)]
pub struct ChartInput<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub bar: bool,
    /// `(x label, y)`.
    pub points: &'a [(String, f64)],
    /// How many rows the points stand for (more than `points.len()` when downsampled).
    pub rows: u64,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 360.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 32.0;
const BOTTOM: f64 = 56.0;

/// The chart as an SVG element with `role="img"`, a title, a description and labelled axes.
pub fn chart_svg(chart: &ChartInput<'_>) -> String {
    let points = chart.points;
    let (lo, hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, y)| {
            (lo.min(*y), hi.max(*y))
        });
    let (lo, hi) = if points.is_empty() { (0.0, 1.0) } else { (lo, hi) };
    let (lo, hi) = if chart.bar {
        (lo.min(0.0), hi.max(0.0))
    } else {
        (lo, hi)
    };
    let ticks = nice_ticks(lo, hi, 5);
    let (y0, y1) = (ticks[0], ticks[ticks.len() - 1]);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let n = points.len().max(1) as f64;
    let x_at = |i: usize| LEFT + plot_w * (i as f64 + 0.5) / n;
    let y_at = |y: f64| TOP + plot_h * (1.0 - (y - y0) / (y1 - y0));
    let summary = match (points.first(), points.last()) {
        (Some(first), Some(last)) => format!(
            "{} against {}: {} rows{}, from {} ({}) to {} ({}); lowest {}, highest {}.",
            chart.y_label,
            chart.x_label,
            chart.rows,
            if chart.rows > points.len() as u64 {
                format!(", shown as {} averaged points", points.len())
            } else {
                String::new()
            },
            first.0,
            num(first.1),
            last.0,
            num(last.1),
            num(lo),
            num(hi)
        ),
        _ => "No data.".to_owned(),
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title chart-desc"><title id="chart-title">{}</title><desc id="chart-desc">{}</desc>"#,
        esc(chart.title),
        esc(&summary)
    );
    svg.push_str(r##"<g class="y-axis" font-size="11" fill="#333">"##);
    for t in &ticks {
        let y = y_at(*t);
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            esc(&num(*t))
        );
    }
    svg.push_str("</g>");
    let _ = write!(
        svg,
        r##"<text class="y-label" transform="rotate(-90)" x="{:.1}" y="14" text-anchor="middle" font-size="12">{}</text>"##,
        -(TOP + plot_h / 2.0),
        esc(chart.y_label)
    );
    svg.push_str(r##"<g class="x-axis" font-size="11" fill="#333">"##);
    let x_ticks = 6.min(points.len());
    for k in 0..x_ticks {
        let i = if x_ticks == 1 {
            0
        } else {
            k * (points.len() - 1) / (x_ticks - 1)
        };
        let x = x_at(i);
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{}" y2="{}" stroke="#333"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"##,
            TOP + plot_h,
            TOP + plot_h + 4.0,
            TOP + plot_h + 18.0,
            esc(&points[i].0)
        );
    }
    svg.push_str("</g>");
    let _ = write!(
        svg,
        r##"<text class="x-label" x="{:.1}" y="{}" text-anchor="middle" font-size="12">{}</text>"##,
        LEFT + plot_w / 2.0,
        HEIGHT - 10.0,
        esc(chart.x_label)
    );
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" x2="{}" y1="{:.1}" y2="{:.1}" stroke="#333"/>"##,
        WIDTH - RIGHT,
        TOP + plot_h,
        TOP + plot_h
    );
    if chart.bar {
        let w = (plot_w / n * 0.8).max(0.5);
        let base = y_at(0.0_f64.clamp(y0, y1));
        svg.push_str(r##"<g class="bars" fill="#3b6ea8">"##);
        for (i, (_, y)) in points.iter().enumerate() {
            let top = y_at(*y);
            let _ = write!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{w:.1}" height="{:.1}"/>"#,
                x_at(i) - w / 2.0,
                top.min(base),
                (top - base).abs()
            );
        }
        svg.push_str("</g>");
    } else if !points.is_empty() {
        svg.push_str(r##"<polyline class="line" fill="none" stroke="#3b6ea8" stroke-width="1.5" points=""##);
        for (i, (_, y)) in points.iter().enumerate() {
            let _ = write!(svg, "{:.1},{:.1} ", x_at(i), y_at(*y));
        }
        svg.push_str(r#""/>"#);
    }
    svg.push_str("</svg>");
    svg
}

/// About `count` round tick values covering `lo..=hi`.
fn nice_ticks(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    let (lo, hi) = if (hi - lo).abs() < f64::EPSILON {
        (lo - 1.0, hi + 1.0)
    } else {
        (lo, hi)
    };
    let raw = (hi - lo) / count as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let start = (lo / step).floor() * step;
    let mut ticks = Vec::new();
    let mut t = start;
    while t < hi + step * 0.999 && ticks.len() < 50 {
        ticks.push(t);
        t += step;
    }
    if ticks.len() < 2 {
        ticks.push(start + step);
    }
    ticks
}

fn num(v: f64) -> String {
    if v.fract().abs() < 1e-9 && v.abs() < 1e15 {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_is_labelled_and_has_ticks() {
        let points: Vec<(String, f64)> = (0..10)
            .map(|i| (format!("2026-01-{:02}", i + 1), i as f64 * 3.0))
            .collect();
        let svg = chart_svg(&ChartInput {
            title: "Daily <count>",
            x_label: "day",
            y_label: "count",
            bar: false,
            points: &points,
            rows: 1000,
        });
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains("<title id=\"chart-title\">Daily &lt;count&gt;</title>"));
        assert!(svg.contains("shown as 10 averaged points"));
        assert!(svg.contains(">2026-01-01</text>") && svg.contains(">2026-01-10</text>"));
        assert!(svg.contains(">30</text>"), "{svg}");
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert_eq!(nice_ticks(0.0, 27.0, 5), [0.0, 10.0, 20.0, 30.0]);
    }
}
