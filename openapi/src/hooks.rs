//! Forge webhooks (`POST /api/v1/hooks/git/{remote}`): what Quire answers a forge's delivery.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The answer to a verified delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ForgeHookAnswer {
    /// `pong` (a ping), `ignored` (another branch or event) or `accepted` (a pull of the
    /// remote's branch is queued; its outcome is in `/api/v1/status`, `git.mirrors[].pull`).
    pub status: String,
    /// What Quire does about it, in words.
    pub detail: String,
}
