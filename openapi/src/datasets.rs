//! Datasets: tables published as data pages with a chart, a table and a query API.

use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::events::EventResponse;

/// The type inferred for a column from all its non-empty values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    Integer,
    Number,
    /// `YYYY-MM-DD`.
    Date,
    /// `YYYY-MM-DDTHH:MM…`.
    Datetime,
    Text,
}

/// One column of a dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DatasetColumn {
    pub name: String,
    #[serde(rename = "type")]
    pub column_type: ColumnType,
}

/// `draft` (seen by its owner, editors and admins) or `published` (on the site).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DatasetStatusName {
    Draft,
    Published,
}

/// `line` or `bar`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChartType {
    Line,
    Bar,
}

/// The chart on the dataset's page: `y` (a numeric column) against `x`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChartSettings {
    #[serde(rename = "type")]
    pub chart_type: ChartType,
    pub x: String,
    pub y: String,
}

/// A dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DatasetResponse {
    /// `a-z`, `0-9`, `-`, `_`; its pages are `/data/<name>/`.
    #[schema(example = "daily-count")]
    pub name: String,
    pub title: String,
    /// Markdown.
    pub description: String,
    pub status: DatasetStatusName,
    pub chart: Option<ChartSettings>,
    /// Fetched on the `refresh` schedule when set.
    pub source_url: Option<String>,
    /// `30m`, `6h` or `daily HH:MM` (UTC).
    pub refresh: Option<String>,
    pub columns: Vec<DatasetColumn>,
    pub rows: u64,
    /// Size of the stored CSV.
    pub bytes: u64,
    /// SHA-256 (hex) of the stored CSV.
    pub hash: String,
    /// Username of its creator.
    pub owner: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// When the data (not the metadata) last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub data_updated_at: OffsetDateTime,
    /// Increases with every change; the `ETag` is `"<version>"`.
    pub version: u64,
}

/// Every dataset the caller may see, by name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DatasetList {
    pub items: Vec<DatasetResponse>,
}

/// One row of a JSON `PUT` body: column name → value (numbers, text, booleans or null).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DatasetRow {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// The events of one dataset, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DatasetHistory {
    pub events: Vec<EventResponse>,
}

/// `PATCH /api/v1/datasets/{name}`: only the fields sent change; `null` clears `chart`,
/// `source_url` and `refresh`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchDatasetRequest {
    #[schema(max_length = 200, min_length = 1)]
    pub title: Option<String>,
    /// Markdown.
    pub description: Option<String>,
    /// Publishing needs `posts:publish`.
    pub status: Option<DatasetStatusName>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ChartSettings>)]
    pub chart: Option<Option<ChartSettings>>,
    /// An `http://` or `https://` URL to fetch the data from (CSV or a JSON array of objects).
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub source_url: Option<Option<String>>,
    /// `30m`, `6h` (1 minute to 7 days) or `daily HH:MM` (UTC).
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub refresh: Option<Option<String>>,
}

/// A present field (also `null`) is `Some`; an absent one stays `None` through `default`.
fn some<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}
