//! Quire's server: configuration, command line, HTTP API (actix-web) and the wiring of storage
//! and projections. `main` and the integration tests both start the server through [`start`].

pub(crate) mod auth;
pub(crate) mod body;
pub mod cli;
mod cli_tokens;
pub mod config;
pub(crate) mod datasets;
pub(crate) mod error;
pub mod git;
pub(crate) mod indieauth;
pub(crate) mod limits;
pub(crate) mod media;
pub(crate) mod memory;
pub(crate) mod merge;
pub(crate) mod metrics;
pub(crate) mod micropub;
pub(crate) mod ops;
pub mod projections;
pub mod publish;
pub mod routes;
pub(crate) mod scheduler;
pub(crate) mod server;
pub mod site;
pub(crate) mod state;
pub mod tls;
pub mod webhooks;
pub(crate) mod write;

pub use config::Config;
pub use server::{start, Running};
