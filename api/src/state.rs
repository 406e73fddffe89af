//! What handlers share, handed to them as `web::Data<AppState>`.

use std::sync::Arc;

use quire_storage::{Accounts, Idempotency, Posts, Store};

use crate::auth::JwtKeys;
use crate::config::Config;

/// Shared state of the running server.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub posts: Posts,
    pub accounts: Accounts,
    pub idempotency: Idempotency,
    pub jwt: Arc<JwtKeys>,
}
