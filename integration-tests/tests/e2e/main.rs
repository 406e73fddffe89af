//! End-to-end tests of Quire, one module per area, linked into one test binary (one link instead
//! of one per file). Each module starts servers of its own: the in-process `TestServer` or the
//! real `quire` binary (`BinaryServer`), with temporary data folders.

mod auth;
mod cli;
mod conflict_copies;
mod connections;
mod crash;
mod datasets;
mod datasets_fetch;
mod datasets_site;
mod disclosure;
mod editor;
mod forge;
mod git;
mod gitpush;
mod hugo;
mod indieauth;
mod media;
mod memory;
mod merge;
mod metrics;
mod micropub;
mod openapi;
mod posts;
mod publish;
mod recovery;
mod security;
mod site;
mod site_cache;
mod site_common;
mod site_restart;
mod webhook_receiver;
mod webhooks;
mod webhooks_https;
