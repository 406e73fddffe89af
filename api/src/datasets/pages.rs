//! One dataset's HTML, built the same way for the static files the site projection writes
//! (`site/data/…`, see `crate::site::data`) and for the pages Quire answers under `/data/`
//! ([`super::public`]): the same input, the same `quire_render` templates, the same bytes.

use std::fs::File;
use std::io::BufReader;

use quire_render::{chart_svg, data_index, data_page, ChartInput, DataColumn, DataPageInput, DataPager, DataSummary};
use quire_render::{Markdown, SiteConfig};
use quire_storage::datasets::query::chart_points;
use quire_storage::datasets::ChartKind;
use quire_storage::{Dataset, MediaBlobs};

/// Rows per page of the HTML table.
pub(crate) const PAGE_ROWS: usize = 50;
/// Most points a chart draws; more rows are averaged in buckets.
const CHART_POINTS: usize = 400;

/// How many pages the table has in its own order (at least one, maybe empty).
pub(crate) fn page_count(set: &Dataset) -> u64 {
    set.rows.div_ceil(PAGE_ROWS as u64).max(1)
}

/// The stored CSV of `set`, buffered.
pub(crate) fn open(blobs: &MediaBlobs, set: &Dataset) -> Result<BufReader<File>, quire_storage::Error> {
    let file_name = set.file_name();
    let path = blobs
        .path_of(&file_name)
        .ok_or_else(|| quire_storage::Error::DatasetNotFound { name: set.name.clone() })?;
    let file = File::open(&path).map_err(|source| quire_storage::Error::Io {
        context: format!("opening {}", path.display()),
        source,
    })?;
    Ok(BufReader::with_capacity(64 * 1024, file))
}

/// The chart of `set` as SVG, if its settings name two of its columns (one scan of the file).
pub(crate) fn chart(blobs: &MediaBlobs, set: &Dataset) -> Result<Option<String>, quire_storage::Error> {
    let Some(chart) = &set.meta.chart else {
        return Ok(None);
    };
    let (Some((x, _)), Some((y, _))) = (set.column(&chart.x), set.column(&chart.y)) else {
        return Ok(None);
    };
    let points = chart_points(set, x, y, CHART_POINTS, open(blobs, set)?)?;
    Ok(Some(chart_svg(&ChartInput {
        title: &set.meta.title,
        x_label: &chart.x,
        y_label: &chart.y,
        bar: chart.kind == ChartKind::Bar,
        points: &points,
        rows: set.rows,
    })))
}

/// One page of the table of `set`: `rows` in the order `sort` (column, descending) or the
/// file's, linked to its neighbours as `pager` says; `chart` for the first page.
pub(crate) fn page_html(
    site: &SiteConfig,
    set: &Dataset,
    rows: &[(u64, Vec<String>)],
    sort: Option<(usize, bool)>,
    pager: DataPager,
    chart: Option<String>,
) -> String {
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
        rows,
        total_rows: set.rows,
        sort,
        pager,
        chart,
        updated: set.data_updated_at,
    };
    data_page(site, &input)
}

/// `/data/`: the published datasets, in the order given.
pub(crate) fn index_html<'a>(site: &SiteConfig, sets: impl IntoIterator<Item = &'a Dataset>) -> String {
    let summaries: Vec<DataSummary> = sets
        .into_iter()
        .map(|d| DataSummary {
            name: d.name.clone(),
            title: d.meta.title.clone(),
            rows: d.rows,
            updated: d.data_updated_at,
        })
        .collect();
    data_index(site, &summaries)
}
