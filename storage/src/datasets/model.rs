//! The dataset aggregate, folded from its stream's events like a post. A dataset's stream id is
//! derived from its name ([`stream_of`]), so a name always names the same stream, also after a
//! delete and a new put.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use ulid::Ulid;

use super::table::Column;
use crate::event::{Envelope, EventPayload};

/// Draft (only its owner, editors and admins see it) or published (public).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasetStatus {
    #[default]
    Draft,
    Published,
}

/// A line or bar chart of one column against another.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChartKind {
    #[default]
    Line,
    Bar,
}

/// Chart settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chart {
    #[serde(rename = "type")]
    pub kind: ChartKind,
    /// Column on the horizontal axis.
    pub x: String,
    /// Column on the vertical axis (numeric).
    pub y: String,
}

/// A dataset's metadata; `DatasetUpdated` carries all of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetMeta {
    pub title: String,
    /// Markdown.
    pub description: String,
    pub status: DatasetStatus,
    pub chart: Option<Chart>,
    /// Where the scheduled fetch reads the data from.
    pub source_url: Option<String>,
    /// How often: `30m`, `6h` or `daily 06:00` (UTC).
    pub refresh: Option<String>,
}

/// A dataset as the read model keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    pub id: Ulid,
    pub name: String,
    /// Username of the user who created it.
    pub owner: String,
    /// SHA-256 (hex) of the stored CSV.
    pub hash: String,
    pub bytes: u64,
    pub rows: u64,
    pub columns: Vec<Column>,
    pub meta: DatasetMeta,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// When the data (not the metadata) last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub data_updated_at: OffsetDateTime,
    pub version: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub deleted_at: Option<OffsetDateTime>,
}

/// The stream id of the dataset `name`.
pub fn stream_of(name: &str) -> Ulid {
    let digest = Sha256::digest(format!("dataset\0{name}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Ulid::from_bytes(bytes)
}

/// The stored file's name: `<hash>.csv`.
pub fn csv_file(hash: &str) -> String {
    format!("{hash}.csv")
}

/// Longest name.
pub const MAX_NAME_LEN: usize = 64;

/// Whether `name` is a dataset name: `a-z`, `0-9`, `-` and `_`, starting with a letter or
/// digit, at most [`MAX_NAME_LEN`] characters.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl Dataset {
    /// The dataset after `event`; `None` when the stream does not start with `DatasetPut`.
    pub fn apply(before: Option<Dataset>, event: &Envelope) -> Option<Dataset> {
        let mut set = match (before, &event.payload) {
            (None, EventPayload::DatasetPut { name, .. }) => Dataset {
                id: event.stream,
                name: name.clone(),
                owner: event.actor.clone(),
                hash: String::new(),
                bytes: 0,
                rows: 0,
                columns: Vec::new(),
                meta: DatasetMeta {
                    title: name.clone(),
                    ..DatasetMeta::default()
                },
                created_at: event.at,
                updated_at: event.at,
                data_updated_at: event.at,
                version: 0,
                deleted_at: None,
            },
            (None, _) => return None,
            (Some(set), _) => set,
        };
        match &event.payload {
            EventPayload::DatasetPut {
                hash,
                bytes,
                rows,
                columns,
                ..
            } => {
                set.hash.clone_from(hash);
                set.bytes = *bytes;
                set.rows = *rows;
                set.columns.clone_from(columns);
                set.data_updated_at = event.at;
                set.deleted_at = None;
            }
            EventPayload::DatasetUpdated { meta } => set.meta = meta.clone(),
            EventPayload::DatasetDeleted {} => set.deleted_at = Some(event.at),
            _ => return None,
        }
        set.version = event.version;
        set.updated_at = event.at;
        Some(set)
    }

    /// Folds a stream's events (in version order).
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a Envelope>) -> Option<Dataset> {
        events.into_iter().fold(None, Dataset::apply)
    }

    pub fn is_live(&self) -> bool {
        self.deleted_at.is_none()
    }

    /// Live and published: on the site and the public query API.
    pub fn is_public(&self) -> bool {
        self.is_live() && self.meta.status == DatasetStatus::Published
    }

    /// The stored CSV's file name.
    pub fn file_name(&self) -> String {
        csv_file(&self.hash)
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<(usize, &Column)> {
        self.columns.iter().enumerate().find(|(_, c)| c.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_streams_are_stable() {
        assert!(valid_name("daily-count_2"));
        assert!(!valid_name("Daily"));
        assert!(!valid_name("-x"));
        assert!(!valid_name("a/b"));
        assert!(!valid_name(""));
        assert_eq!(stream_of("a"), stream_of("a"));
        assert_ne!(stream_of("a"), stream_of("b"));
    }
}
