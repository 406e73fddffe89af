//! Datasets: tables published as data pages (issue 17).
//!
//! A `PUT` body (CSV with a header row, or a JSON array of objects) is read into canonical CSV
//! with inferred column types ([`table`]), stored by content hash beside the media files
//! (`<data>/media/ab/<hash>.csv`, fsynced first) and only then recorded as a `DatasetPut` event
//! carrying the hash, row count and columns. Metadata changes are `DatasetUpdated` events. The
//! read model keeps each dataset ([`model`]); [`service`] holds the rules, [`query`] answers
//! datasette-style queries by scanning the stored CSV.

pub mod model;
pub mod query;
pub mod refresh;
pub mod service;
pub mod table;

pub use model::{stream_of, valid_name, Chart, ChartKind, Dataset, DatasetMeta, DatasetStatus};
pub use query::{Page, Query};
pub use refresh::Refresh;
pub use service::{DatasetService, MetaPatch, NewData};
pub use table::{Column, Format, Kind, TableLimits};
