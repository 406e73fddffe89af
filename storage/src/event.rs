//! Event types: the envelope every event is stored in and the payloads of post events.
//!
//! An event, once appended, is never changed. Schema changes add new payload variants or
//! optional fields (`#[serde(default)]`), so old logs always decode.
//!
//! Encoding: each envelope is one JSON object, for example
//! `{"seq":1,"id":"01J…","stream":"01J…","version":1,"type":"PostCreated","actor":"ada",
//! "at":"2026-11-26T13:00:00Z","idempotency_key":null,"data":{…}}`.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ulid::Ulid;

use crate::post::{Properties, Status};

/// One event as stored in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Global position in the log: gap-free, from 1.
    pub seq: u64,
    /// Unique id of this event.
    pub id: Ulid,
    /// The stream (post id, or media id) the event belongs to.
    pub stream: Ulid,
    /// Version of the stream after this event: 1, 2, 3… per stream.
    pub version: u64,
    /// Username of the user who caused the event.
    pub actor: String,
    /// When the event was recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The `Idempotency-Key` of the request that caused it, if any.
    pub idempotency_key: Option<String>,
    /// Where the event came from when not from the REST API (`micropub`, `git-push`); absent
    /// in events written before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// What happened.
    #[serde(flatten)]
    pub payload: EventPayload,
}

/// Where an event came from, for events not made through the REST API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// `git-push` for events read from a pushed commit, `micropub` for Micropub requests.
    pub source: String,
    /// The client application that sent it, as it named itself (a Micropub client's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The id of the pushed commit the event was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The file of the pushed commit the event was read from (`content/posts/…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// That file's text exactly as pushed (absent for a deleted file): what the git projection
    /// writes at `path` when it adopts the pushed commit, instead of its own rendering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The pushed commit object (`git cat-file commit`), on every event of a commit Quire adopts:
    /// the git projection writes it as is once all of the commit's events are in, so `main`
    /// gets the pusher's commit with its id (see `git::adopt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_object: Option<String>,
    /// How many events the pushed commit made (with `commit_object`): the projection gathers
    /// that many consecutive events into the one adopted commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_events: Option<u64>,
}

impl Origin {
    /// For an event of a pushed commit Quire adopts: the file it was read from and the file's
    /// text as pushed (`None` for a deleted file).
    pub fn adopted_file(&self) -> Option<(&str, Option<&str>)> {
        self.commit_object.as_ref()?;
        Some((self.path.as_deref()?, self.file.as_deref()))
    }

    /// The origin of an event read from pushed commit `commit`.
    pub fn git_push(commit: impl Into<String>) -> Self {
        Self {
            source: "git-push".into(),
            client: None,
            commit: Some(commit.into()),
            path: None,
            file: None,
            commit_object: None,
            commit_events: None,
        }
    }

    /// The origin of an event a client application (`client`, if it named itself) sent through
    /// `source` (e.g. `micropub`).
    pub fn client(source: impl Into<String>, client: Option<String>) -> Self {
        Self {
            source: source.into(),
            client,
            commit: None,
            path: None,
            file: None,
            commit_object: None,
            commit_events: None,
        }
    }
}

/// The fields of a change that lost a conflict (only those it set).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeptFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub publish_at: Option<OffsetDateTime>,
}

impl KeptFields {
    /// Whether the copy holds no field at all.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// What happened to a post or a media file. The variant name is the event `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum EventPayload {
    /// A post was written for the first time.
    PostCreated {
        slug: String,
        title: String,
        body: String,
        tags: Vec<String>,
        status: Status,
        #[serde(with = "time::serde::rfc3339::option")]
        publish_at: Option<OffsetDateTime>,
        author: String,
        /// Extra properties without a Quire field (Micropub's `in-reply-to`, `location`…).
        #[serde(default, skip_serializing_if = "Properties::is_empty")]
        properties: Properties,
    },
    /// Content fields changed; only the changed fields are present.
    PostUpdated {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        slug: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tags: Option<Vec<String>>,
        /// A draft's planned publication date.
        #[serde(
            default,
            with = "time::serde::rfc3339::option",
            skip_serializing_if = "Option::is_none"
        )]
        publish_at: Option<OffsetDateTime>,
        /// The post's extra properties, all of them, when they changed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        properties: Option<Properties>,
        /// For a change sent with `Base-Version`: the version it was made from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base_version: Option<u64>,
        /// Set when the change was merged three-way with what happened after `base_version`.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        merged: bool,
    },
    /// The post became public at `publish_at`.
    PostPublished {
        #[serde(with = "time::serde::rfc3339")]
        publish_at: OffsetDateTime,
        /// For a change sent with `Base-Version`: the version it was made from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base_version: Option<u64>,
        /// Set when the change was merged three-way with what happened after `base_version`.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        merged: bool,
    },
    /// The post will become public at `publish_at`.
    PostScheduled {
        #[serde(with = "time::serde::rfc3339")]
        publish_at: OffsetDateTime,
        /// As for `PostPublished`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base_version: Option<u64>,
        /// As for `PostPublished`.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        merged: bool,
    },
    /// The post went back to draft.
    PostUnpublished {
        /// As for `PostPublished`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base_version: Option<u64>,
        /// As for `PostPublished`.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        merged: bool,
    },
    /// The losing side of a conflict, kept so that it can be brought back: the values a change
    /// made from `base_version` gave the fields it changed, which the author chose not to keep.
    /// The post itself does not change (only its version moves on).
    PostConflictCopy {
        /// The version the losing change was made from.
        base_version: u64,
        /// The losing change's fields (nested, so that git's `Event-Data` never takes its
        /// `body` for the post file's).
        copy: KeptFields,
    },
    /// The post was deleted (soft: its history stays).
    PostDeleted {},
    /// A deleted post came back; `slug` is set when its old slug had been taken meanwhile.
    PostRestored {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        slug: Option<String>,
    },
    /// An image was stored in the media folder (its bytes are fsynced before this event).
    MediaUploaded {
        /// SHA-256 (hex) of the stored bytes, which name the file.
        hash: String,
        /// `image/jpeg` or `image/png`: what the stored (re-encoded) bytes are.
        content_type: String,
        /// Size of the stored file.
        bytes: u64,
        width: u32,
        height: u32,
        alt: String,
        /// The uploaded file's name, if the client gave one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        original_name: Option<String>,
        /// Username of the uploader (the owner of the media).
        uploader: String,
    },
    /// The alt text of a media file changed.
    MediaUpdated { alt: String },
    /// The media file was deleted: it leaves listings and git; its bytes stay (no sweep yet).
    MediaDeleted {},
    /// A dataset's data was created or replaced (its CSV bytes are fsynced before this event).
    /// The stream id is derived from the name (`crate::datasets::stream_of`).
    DatasetPut {
        name: String,
        /// SHA-256 (hex) of the stored CSV, which names the file.
        hash: String,
        bytes: u64,
        rows: u64,
        columns: Vec<crate::datasets::Column>,
        /// Set when Quire fetched the data itself from `source_url`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fetched_from: Option<String>,
    },
    /// A dataset's metadata changed: the whole metadata after the change.
    DatasetUpdated { meta: crate::datasets::DatasetMeta },
    /// The dataset was deleted (its history stays; a later put brings it back).
    DatasetDeleted {},
}

impl EventPayload {
    /// The event type name, as stored in `type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::PostCreated { .. } => "PostCreated",
            Self::PostUpdated { .. } => "PostUpdated",
            Self::PostPublished { .. } => "PostPublished",
            Self::PostScheduled { .. } => "PostScheduled",
            Self::PostUnpublished { .. } => "PostUnpublished",
            Self::PostConflictCopy { .. } => "PostConflictCopy",
            Self::PostDeleted {} => "PostDeleted",
            Self::PostRestored { .. } => "PostRestored",
            Self::MediaUploaded { .. } => "MediaUploaded",
            Self::MediaUpdated { .. } => "MediaUpdated",
            Self::MediaDeleted {} => "MediaDeleted",
            Self::DatasetPut { .. } => "DatasetPut",
            Self::DatasetUpdated { .. } => "DatasetUpdated",
            Self::DatasetDeleted {} => "DatasetDeleted",
        }
    }

    /// Marks the event of a change made from version `base` and merged three-way with what
    /// happened after it (content and status events alike; others carry no mark).
    pub fn mark_merged(&mut self, base: u64) {
        match self {
            Self::PostUpdated {
                base_version, merged, ..
            }
            | Self::PostPublished {
                base_version, merged, ..
            }
            | Self::PostScheduled {
                base_version, merged, ..
            }
            | Self::PostUnpublished { base_version, merged } => {
                *base_version = Some(base);
                *merged = true;
            }
            _ => {}
        }
    }

    /// Whether the event belongs to a media stream (not a post's).
    pub fn is_media(&self) -> bool {
        matches!(
            self,
            Self::MediaUploaded { .. } | Self::MediaUpdated { .. } | Self::MediaDeleted {}
        )
    }

    /// Whether the event belongs to a dataset stream.
    pub fn is_dataset(&self) -> bool {
        matches!(
            self,
            Self::DatasetPut { .. } | Self::DatasetUpdated { .. } | Self::DatasetDeleted {}
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_round_trips_with_type_and_data() {
        let env = Envelope {
            seq: 7,
            id: Ulid::new(),
            stream: Ulid::new(),
            version: 2,
            actor: "ada".into(),
            at: time::macros::datetime!(2026-11-26 13:00 UTC),
            idempotency_key: Some("k1".into()),
            origin: None,
            payload: EventPayload::PostUpdated {
                slug: None,
                title: Some("New".into()),
                body: None,
                tags: None,
                publish_at: None,
                properties: None,
                base_version: None,
                merged: false,
            },
        };
        let json = serde_json::to_value(&env).expect("serializes");
        assert_eq!(json["type"], "PostUpdated");
        assert_eq!(json["data"], serde_json::json!({"title": "New"}));
        assert_eq!(json["at"], "2026-11-26T13:00:00Z");
        let back: Envelope = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, env);
    }

    #[test]
    fn a_merged_update_records_its_base_and_old_updates_still_read() {
        let merged = EventPayload::PostUpdated {
            slug: None,
            title: Some("New".into()),
            body: None,
            tags: None,
            publish_at: None,
            properties: None,
            base_version: Some(3),
            merged: true,
        };
        let json = serde_json::to_value(&merged).expect("serializes");
        assert_eq!(
            json["data"],
            serde_json::json!({"title": "New", "base_version": 3, "merged": true})
        );
        let old: EventPayload =
            serde_json::from_value(serde_json::json!({"type": "PostUpdated", "data": {"title": "Old"}}))
                .expect("an event written before merges existed");
        assert!(matches!(
            old,
            EventPayload::PostUpdated {
                base_version: None,
                merged: false,
                ..
            }
        ));
    }
}
