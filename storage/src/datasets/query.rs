//! Queries over a stored CSV, following datasette's conventions: `column=value`,
//! `column__gt` / `__gte` / `__lt` / `__lte` / `__contains` / `__not` filters, `_sort` /
//! `_sort_desc`, `_size`, `_next` (a cursor), `_shape=objects|arrays`.
//!
//! The file is scanned once per query, one record at a time: without `_sort` the scan stops as
//! soon as a page is full; with `_sort` only the best `_size + 1` rows after the cursor are kept
//! (a bounded heap), so memory follows the page size, not the dataset's.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::io::Read;

use super::model::Dataset;
use super::table::{parse_number, Kind};
use crate::{Error, Result};

/// Default page size.
pub const DEFAULT_SIZE: usize = 100;
/// Largest page size (`_size=max`).
pub const MAX_SIZE: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Exact,
    Not,
    Gt,
    Gte,
    Lt,
    Lte,
    Contains,
}

#[derive(Debug, Clone)]
struct Filter {
    column: usize,
    numeric: bool,
    op: Op,
    value: String,
    number: Option<f64>,
}

/// A parsed query.
#[derive(Debug, Clone)]
pub struct Query {
    filters: Vec<Filter>,
    /// Column index, numeric, descending.
    sort: Option<(usize, bool, bool)>,
    /// Rows per page.
    pub size: usize,
    next: Option<(u64, String)>,
    /// Rows as objects (default) or arrays.
    pub objects: bool,
}

/// One page of rows: `(rowid, cells)` with rowid the 1-based data row number.
#[derive(Debug, Clone)]
pub struct Page {
    pub rows: Vec<(u64, Vec<String>)>,
    /// The `_next` of the following page, if there is one.
    pub next: Option<String>,
}

fn bad(field: &'static str, message: impl Into<String>) -> Error {
    Error::invalid(field, message)
}

impl Query {
    /// Reads the query string's pairs against the dataset's columns.
    pub fn parse(set: &Dataset, pairs: &[(String, String)]) -> Result<Query> {
        let mut q = Query {
            filters: Vec::new(),
            sort: None,
            size: DEFAULT_SIZE,
            next: None,
            objects: true,
        };
        for (key, value) in pairs {
            match key.as_str() {
                "_sort" | "_sort_desc" => {
                    let (i, c) = set
                        .column(value)
                        .ok_or_else(|| bad("_sort", format!("there is no column {value:?}")))?;
                    q.sort = Some((i, c.kind.is_numeric(), key == "_sort_desc"));
                }
                "_size" => {
                    q.size = match value.as_str() {
                        "max" => MAX_SIZE,
                        n => n
                            .parse::<usize>()
                            .ok()
                            .filter(|n| (1..=MAX_SIZE).contains(n))
                            .ok_or_else(|| bad("_size", format!("a number from 1 to {MAX_SIZE}, or max")))?,
                    };
                }
                "_next" if !value.is_empty() => q.next = Some(parse_cursor(value)?),
                "_shape" => {
                    q.objects = match value.as_str() {
                        "objects" => true,
                        "arrays" => false,
                        _ => return Err(bad("_shape", "objects or arrays")),
                    }
                }
                k if k.starts_with('_') => {}
                k => q.filters.push(filter(set, k, value)?),
            }
        }
        Ok(q)
    }

    /// Runs the query over the CSV in `file` (with its header row).
    pub fn run(&self, file: impl Read) -> Result<Page> {
        let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(file);
        let mut record = csv::StringRecord::new();
        let mut rowid = 0u64;
        let mut heap = BinaryHeap::new();
        let mut plain = Vec::new();
        let after = self.next.as_ref().map(|(id, value)| self.key(*id, value));
        while reader.read_record(&mut record).map_err(read_failed)? {
            rowid += 1;
            if !self.filters.iter().all(|f| f.matches(&record)) {
                continue;
            }
            let Some((column, _, _)) = self.sort else {
                if after.as_ref().is_some_and(|a| rowid <= a.rowid) {
                    continue;
                }
                plain.push((rowid, record.iter().map(str::to_owned).collect()));
                if plain.len() > self.size {
                    break;
                }
                continue;
            };
            let key = self.key(rowid, record.get(column).unwrap_or_default());
            if after.as_ref().is_some_and(|a| key <= *a) {
                continue;
            }
            if heap.len() > self.size && heap.peek().is_some_and(|worst: &Ranked| key >= worst.key) {
                continue;
            }
            heap.push(Ranked {
                key,
                cells: record.iter().map(str::to_owned).collect(),
            });
            if heap.len() > self.size + 1 {
                heap.pop();
            }
        }
        let mut rows: Vec<(u64, Vec<String>)> = match self.sort {
            Some(_) => heap
                .into_sorted_vec()
                .into_iter()
                .map(|r| (r.key.rowid, r.cells))
                .collect(),
            None => plain,
        };
        let more = rows.len() > self.size;
        rows.truncate(self.size);
        let next = more
            .then(|| rows.last().map(|(id, cells)| self.cursor(*id, cells)))
            .flatten();
        Ok(Page { rows, next })
    }

    fn key(&self, rowid: u64, value: &str) -> SortKey {
        let (numeric, desc) = self.sort.map_or((false, false), |(_, n, d)| (n, d));
        let value = match (numeric, value.trim()) {
            (_, "") => Value::Missing,
            (true, v) => parse_number(v).map_or_else(|| Value::Text(v.to_owned()), Value::Num),
            (false, v) => Value::Text(v.to_owned()),
        };
        SortKey { value, desc, rowid }
    }

    fn cursor(&self, rowid: u64, cells: &[String]) -> String {
        match self.sort {
            Some((column, _, _)) => format!("{rowid},{}", cells.get(column).map_or("", String::as_str)),
            None => rowid.to_string(),
        }
    }

    /// Whether the query sorts, and by which column, descending.
    pub fn sorted_by(&self) -> Option<(usize, bool)> {
        self.sort.map(|(c, _, d)| (c, d))
    }
}

/// Reads the CSV in `file` (with its header row) in its own order, handing `page` one page of
/// `size` rows at a time (`(rowid, cells)`, rowid from 1) — at least one page, empty for a
/// dataset without rows. One buffer serves every page, so memory follows `size`, not the file.
/// `page`'s error stops the reading and is returned.
pub fn for_each_page<E: From<Error>>(
    file: impl Read,
    size: usize,
    mut page: impl FnMut(&[(u64, Vec<String>)]) -> Result<(), E>,
) -> Result<(), E> {
    let size = size.max(1);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(file);
    let mut record = csv::StringRecord::new();
    let mut rows: Vec<(u64, Vec<String>)> = Vec::with_capacity(size);
    let mut rowid = 0u64;
    let mut pages = 0u64;
    while reader.read_record(&mut record).map_err(read_failed)? {
        rowid += 1;
        rows.push((rowid, record.iter().map(str::to_owned).collect()));
        if rows.len() == size {
            page(&rows)?;
            pages += 1;
            rows.clear();
        }
    }
    if !rows.is_empty() || pages == 0 {
        page(&rows)?;
    }
    Ok(())
}

fn read_failed(e: csv::Error) -> Error {
    Error::Io {
        context: "reading a stored dataset".into(),
        source: std::io::Error::other(e.to_string()),
    }
}

fn parse_cursor(raw: &str) -> Result<(u64, String)> {
    let (id, value) = raw.split_once(',').unwrap_or((raw, ""));
    let id = id
        .parse()
        .map_err(|_| bad("_next", "use the `next` value of the previous page"))?;
    Ok((id, value.to_owned()))
}

fn filter(set: &Dataset, key: &str, value: &str) -> Result<Filter> {
    let (name, op) = match key.rsplit_once("__") {
        Some((name, "exact")) => (name, Op::Exact),
        Some((name, "not")) => (name, Op::Not),
        Some((name, "gt")) => (name, Op::Gt),
        Some((name, "gte")) => (name, Op::Gte),
        Some((name, "lt")) => (name, Op::Lt),
        Some((name, "lte")) => (name, Op::Lte),
        Some((name, "contains")) => (name, Op::Contains),
        _ => (key, Op::Exact),
    };
    let (column, c) = set.column(name).ok_or_else(|| {
        bad(
            "filter",
            format!(
                "there is no column {name:?}; filters are column=value or column__gt/__gte/__lt/__lte/__contains/__not"
            ),
        )
    })?;
    let numeric = c.kind.is_numeric();
    let number = parse_number(value);
    if numeric && matches!(op, Op::Gt | Op::Gte | Op::Lt | Op::Lte) && number.is_none() {
        return Err(bad(
            "filter",
            format!("{key}: column {name:?} is numeric; {value:?} is not a number"),
        ));
    }
    Ok(Filter {
        column,
        numeric,
        op,
        value: value.to_owned(),
        number,
    })
}

impl Filter {
    fn matches(&self, record: &csv::StringRecord) -> bool {
        let cell = record.get(self.column).unwrap_or_default();
        let order = match (self.numeric, self.number, parse_number(cell)) {
            (true, Some(want), Some(have)) => have.partial_cmp(&want),
            (true, _, _) if matches!(self.op, Op::Gt | Op::Gte | Op::Lt | Op::Lte) => None,
            _ => Some(cell.cmp(self.value.as_str())),
        };
        match self.op {
            Op::Exact => order == Some(Ordering::Equal),
            Op::Not => order != Some(Ordering::Equal),
            Op::Gt => order == Some(Ordering::Greater),
            Op::Gte => matches!(order, Some(Ordering::Greater | Ordering::Equal)),
            Op::Lt => order == Some(Ordering::Less),
            Op::Lte => matches!(order, Some(Ordering::Less | Ordering::Equal)),
            Op::Contains => cell.contains(self.value.as_str()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Missing,
    Num(f64),
    Text(String),
}

impl Value {
    fn cmp(&self, other: &Value) -> Ordering {
        match (self, other) {
            (Value::Missing, Value::Missing) => Ordering::Equal,
            (Value::Missing, _) => Ordering::Less,
            (_, Value::Missing) => Ordering::Greater,
            (Value::Num(a), Value::Num(b)) => a.total_cmp(b),
            (Value::Num(_), Value::Text(_)) => Ordering::Less,
            (Value::Text(_), Value::Num(_)) => Ordering::Greater,
            (Value::Text(a), Value::Text(b)) => a.cmp(b),
        }
    }
}

/// Position in the sort order: the value (reversed when descending), then the row id.
#[derive(Debug, Clone, PartialEq)]
struct SortKey {
    value: Value,
    desc: bool,
    rowid: u64,
}

impl Eq for SortKey {}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        let by_value = self.value.cmp(&other.value);
        let by_value = if self.desc { by_value.reverse() } else { by_value };
        by_value.then(self.rowid.cmp(&other.rowid))
    }
}

/// A kept row; the heap's top is the worst kept one.
struct Ranked {
    key: SortKey,
    cells: Vec<String>,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

/// The chart's points: `(x, y)` in file order, averaged over buckets of consecutive rows so
/// that at most `max_points` remain (the dataset's row count fixes the bucket size up front, so
/// only the points are held). Rows whose y is not a number are skipped.
pub fn chart_points(
    set: &Dataset,
    x: usize,
    y: usize,
    max_points: usize,
    file: impl Read,
) -> Result<Vec<(String, f64)>> {
    let bucket = set.rows.div_ceil(max_points.max(1) as u64).max(1);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(file);
    let mut record = csv::StringRecord::new();
    let mut out = Vec::with_capacity(max_points.min(set.rows as usize));
    let (mut label, mut sum, mut count, mut seen) = (String::new(), 0.0, 0u64, 0u64);
    while reader.read_record(&mut record).map_err(read_failed)? {
        if seen == 0 {
            label = record.get(x).unwrap_or_default().to_owned();
        }
        seen += 1;
        if let Some(v) = record.get(y).and_then(parse_number) {
            sum += v;
            count += 1;
        }
        if seen == bucket {
            if count > 0 {
                out.push((std::mem::take(&mut label), sum / count as f64));
            }
            (sum, count, seen) = (0.0, 0, 0);
        }
    }
    if count > 0 {
        out.push((label, sum / count as f64));
    }
    Ok(out)
}

/// A cell as JSON: numbers for numeric columns, `null` for empty cells, text otherwise.
pub fn json_value(kind: Kind, cell: &str) -> serde_json::Value {
    if cell.is_empty() {
        return serde_json::Value::Null;
    }
    match kind {
        Kind::Integer => cell.trim().parse::<i64>().map_or_else(|_| cell.into(), Into::into),
        Kind::Number => parse_number(cell)
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| cell.into(), serde_json::Value::Number),
        Kind::Date | Kind::Datetime | Kind::Text => cell.into(),
    }
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
