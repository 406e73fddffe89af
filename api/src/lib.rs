//! Quire's server: configuration, command line, HTTP API (actix-web) and the wiring of storage
//! and projections. `main` and the integration tests both start the server through [`start`].

pub mod auth;
pub mod body;
pub mod cli;
mod cli_tokens;
pub mod config;
pub mod error;
pub mod git;
pub mod limits;
pub mod media;
pub mod metrics;
pub mod ops;
pub mod routes;
pub mod server;
pub mod site;
pub mod state;
pub mod write;

pub use config::Config;
pub use server::{start, Running};
