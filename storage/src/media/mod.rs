//! Media: photos uploaded for posts.
//!
//! An upload is sniffed, decoded, turned upright, shrunk and re-encoded without metadata
//! ([`image`]), stored by content hash in `<data>/media/` ([`blobs`]) and only then recorded as
//! a `MediaUploaded` event in its own stream (the media id), through the same log writer as
//! posts. The read model keeps each media's state ([`model`]); [`service`] holds the rules.
//! Images that arrive in git are stored as they are, if fit ([`verbatim`]).

pub mod blobs;
pub mod image;
pub mod model;
pub mod service;
pub mod verbatim;

pub use blobs::MediaBlobs;
pub use image::{ImageLimits, Processed};
pub use model::{Media, MediaQuery};
pub use service::{MediaService, Upload};
