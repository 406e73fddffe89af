//! Operations on the whole data folder: the backup archive that `GET /api/v1/backup` streams
//! and `quire backup` saves.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// `quire-backup/manifest.json`, the first entry of a backup archive.
///
/// The archive is an uncompressed tar: `manifest.json`, then `events.jsonl` (the event log,
/// seq 1 to `head`, one event per line as `GET /api/v1/events` shows them), `secrets.jsonl`
/// (users with password hashes, refresh and API token hashes, settings, idempotency records),
/// `keys/signing.json` (the JWT signing keys) and `config.json` (the configuration in force,
/// without credentials), all under `quire-backup/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BackupManifest {
    /// Archive format version (1).
    pub format: u32,
    /// Version of the Quire that wrote it.
    pub quire_version: String,
    /// When the snapshot was taken.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The log's head when the snapshot was taken: `events.jsonl` holds seq 1 to this, whatever
    /// was written meanwhile.
    pub head: u64,
}

/// A backup archive (tar); its first entry is a [`BackupManifest`].
#[derive(Debug, Clone, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct BackupArchive(pub Vec<u8>);
