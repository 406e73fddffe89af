//! Reading a dataset's body: CSV with a header row, or JSON (an array of objects), into the
//! canonical CSV that is stored, with each column's inferred type. Limits on bytes and rows are
//! applied while reading; a malformed CSV is refused naming its line.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The type of a column, inferred from every non-empty value in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Whole numbers (`i64`).
    Integer,
    /// Any numbers.
    Number,
    /// `YYYY-MM-DD`.
    Date,
    /// `YYYY-MM-DDTHH:MM…` (or with a space).
    Datetime,
    /// Anything else.
    Text,
}

impl Kind {
    /// Whether values compare as numbers.
    pub fn is_numeric(self) -> bool {
        matches!(self, Kind::Integer | Kind::Number)
    }
}

/// One column: its header and type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Kind,
}

/// Limits on a dataset's size.
#[derive(Debug, Clone, Copy)]
pub struct TableLimits {
    /// Largest body (and stored CSV), in bytes.
    pub max_bytes: u64,
    /// Most data rows.
    pub max_rows: u64,
    /// Most columns.
    pub max_columns: usize,
}

impl Default for TableLimits {
    fn default() -> Self {
        Self {
            max_bytes: 16 * 1024 * 1024,
            max_rows: 200_000,
            max_columns: 100,
        }
    }
}

/// A body read into canonical CSV.
#[derive(Debug, Clone)]
pub struct Table {
    pub csv: Vec<u8>,
    pub rows: u64,
    pub columns: Vec<Column>,
}

/// The formats a body may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

fn malformed(line: Option<u64>, message: impl Into<String>) -> Error {
    Error::DatasetMalformed {
        line,
        message: message.into(),
    }
}

fn too_large(message: String) -> Error {
    Error::DatasetTooLarge { message }
}

/// Reads `body` in `format` within `limits`.
pub fn read(body: &[u8], format: Format, limits: &TableLimits) -> Result<Table> {
    if body.len() as u64 > limits.max_bytes {
        return Err(too_large(format!(
            "the data is larger than datasets.max_bytes ({} bytes)",
            limits.max_bytes
        )));
    }
    match format {
        Format::Csv => read_csv(body, limits),
        Format::Json => read_json(body, limits),
    }
}

/// Builds the table row by row: checks limits, infers types, writes canonical CSV.
struct Builder {
    writer: csv::Writer<Vec<u8>>,
    guess: Vec<Guess>,
    rows: u64,
    limits: TableLimits,
}

impl Builder {
    fn new(header: Vec<String>, limits: &TableLimits) -> Result<Self> {
        if header.is_empty() || header.iter().all(String::is_empty) {
            return Err(malformed(
                Some(1),
                "the header row is empty: the first line must name the columns",
            ));
        }
        if header.len() > limits.max_columns {
            return Err(malformed(
                Some(1),
                format!("{} columns; at most {} are allowed", header.len(), limits.max_columns),
            ));
        }
        for (i, name) in header.iter().enumerate() {
            if name.trim().is_empty() {
                return Err(malformed(Some(1), format!("column {} has no name", i + 1)));
            }
            if header[..i].contains(name) {
                return Err(malformed(Some(1), format!("the column name {name:?} appears twice")));
            }
        }
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer
            .write_record(&header)
            .map_err(|e| malformed(Some(1), e.to_string()))?;
        let guess = header.into_iter().map(Guess::new).collect();
        Ok(Self {
            writer,
            guess,
            rows: 0,
            limits: *limits,
        })
    }

    fn push<'a>(&mut self, line: u64, record: impl IntoIterator<Item = &'a str>) -> Result<()> {
        self.rows += 1;
        if self.rows > self.limits.max_rows {
            return Err(too_large(format!(
                "more than datasets.max_rows ({}) rows",
                self.limits.max_rows
            )));
        }
        let values: Vec<&str> = record.into_iter().collect();
        for (guess, value) in self.guess.iter_mut().zip(&values) {
            guess.see(value);
        }
        self.writer
            .write_record(&values)
            .map_err(|e| malformed(Some(line), e.to_string()))
    }

    fn finish(self) -> Result<Table> {
        let csv = self
            .writer
            .into_inner()
            .map_err(|e| malformed(None, format!("writing the CSV failed: {e}")))?;
        if csv.len() as u64 > self.limits.max_bytes {
            return Err(too_large(format!(
                "the data as CSV is larger than datasets.max_bytes ({} bytes)",
                self.limits.max_bytes
            )));
        }
        Ok(Table {
            csv,
            rows: self.rows,
            columns: self.guess.into_iter().map(Guess::column).collect(),
        })
    }
}

fn read_csv(body: &[u8], limits: &TableLimits) -> Result<Table> {
    let body = std::str::from_utf8(body).map_err(|e| {
        let line = body[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        malformed(Some(line), "the CSV is not UTF-8")
    })?;
    let body = body.strip_prefix('\u{feff}').unwrap_or(body);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(body.as_bytes());
    let header = reader.headers().map_err(csv_error)?;
    let mut table = Builder::new(header.iter().map(|h| h.trim().to_owned()).collect(), limits)?;
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, csv::Position::line);
                table.push(line, record.iter())?;
            }
            Err(e) => return Err(csv_error(e)),
        }
    }
    table.finish()
}

fn csv_error(e: csv::Error) -> Error {
    let line = e.position().map(csv::Position::line);
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("{len} fields where the header has {expected_len}")
        }
        _ => e.to_string(),
    };
    malformed(line, message)
}

fn read_json(body: &[u8], limits: &TableLimits) -> Result<Table> {
    let rows: Vec<OrderedRow> = serde_json::from_slice(body)
        .map_err(|e| malformed(Some(e.line() as u64), format!("expected a JSON array of objects: {e}")))?;
    if rows.len() as u64 > limits.max_rows {
        return Err(too_large(format!(
            "more than datasets.max_rows ({}) rows",
            limits.max_rows
        )));
    }
    let mut header: Vec<String> = Vec::new();
    for row in &rows {
        for (key, _) in &row.0 {
            if !header.contains(key) {
                header.push(key.clone());
            }
        }
    }
    if header.is_empty() {
        return Err(malformed(None, "the objects have no fields: there are no columns"));
    }
    let mut table = Builder::new(header.clone(), limits)?;
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<String> = header
            .iter()
            .map(|h| cell(row.0.iter().find(|(k, _)| k == h).map(|(_, v)| v)))
            .collect();
        table.push(i as u64 + 1, cells.iter().map(String::as_str))?;
    }
    table.finish()
}

/// A JSON object with its keys in the order written (serde_json's map sorts them), so the
/// columns come in the order of the first objects.
struct OrderedRow(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for OrderedRow {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = OrderedRow;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<OrderedRow, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    fields.push(entry);
                }
                Ok(OrderedRow(fields))
            }
        }
        d.deserialize_map(Visitor)
    }
}

fn cell(value: Option<&serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// What a column's values allow so far.
struct Guess {
    name: String,
    seen: bool,
    integer: bool,
    number: bool,
    date: bool,
    datetime: bool,
}

impl Guess {
    fn new(name: String) -> Self {
        Self {
            name,
            seen: false,
            integer: true,
            number: true,
            date: true,
            datetime: true,
        }
    }

    fn see(&mut self, value: &str) {
        let value = value.trim();
        if value.is_empty() {
            return;
        }
        self.seen = true;
        self.integer &= value.parse::<i64>().is_ok();
        self.number &= parse_number(value).is_some();
        self.date &= is_date(value);
        self.datetime &= is_datetime(value);
    }

    fn column(self) -> Column {
        let kind = match self {
            Guess { seen: false, .. } => Kind::Text,
            Guess { integer: true, .. } => Kind::Integer,
            Guess { number: true, .. } => Kind::Number,
            Guess { date: true, .. } => Kind::Date,
            Guess { datetime: true, .. } => Kind::Datetime,
            _ => Kind::Text,
        };
        Column { name: self.name, kind }
    }
}

/// A finite number written with digits (not `inf` or `NaN`).
pub fn parse_number(value: &str) -> Option<f64> {
    let value = value.trim();
    if !value.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// `YYYY-MM-DD`, a real calendar date.
pub fn is_date(value: &str) -> bool {
    let b = value.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| value.get(r).and_then(|s| s.parse::<u32>().ok());
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let Ok(month) = time::Month::try_from(m as u8) else {
        return false;
    };
    time::Date::from_calendar_date(y as i32, month, d as u8).is_ok()
}

/// A date followed by `T` or a space and `HH:MM`.
pub fn is_datetime(value: &str) -> bool {
    let b = value.as_bytes();
    b.len() >= 16
        && value.get(..10).is_some_and(is_date)
        && matches!(b[10], b'T' | b' ')
        && b[11..13].iter().all(u8::is_ascii_digit)
        && b[13] == b':'
        && b[14..16].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
