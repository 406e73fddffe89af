//! Quire's API contract: the request and response types of `/api/v1`, the RFC 9457 problem
//! type, and the OpenAPI document built from them. Handlers and integration tests both use
//! these types, so the tests exercise exactly the documented shapes.

pub mod auth;
mod constraints;
pub mod datasets;
pub mod doc;
pub mod events;
pub mod hooks;
pub mod media;
pub mod micropub;
pub mod ops;
pub mod posts;
pub mod problem;
pub mod problem_types;
pub mod status;
pub mod users;
pub mod webhooks;

pub use auth::{LoginRequest, LogoutRequest, RefreshRequest, SetupRequest, SetupStatus, TokenResponse};
pub use datasets::{
    ChartSettings, ChartType, ColumnType, DatasetColumn, DatasetHistory, DatasetList, DatasetResponse,
    DatasetStatusName, PatchDatasetRequest,
};
pub use doc::ApiDoc;
pub use events::{EventList, EventOrigin, EventResponse, Health, Ready};
pub use hooks::ForgeHookAnswer;
pub use media::{MediaList, MediaResponse, PatchMediaRequest, UploadForm};
pub use micropub::MicropubErrorBody;
pub use ops::{BackupArchive, BackupManifest};
pub use posts::{
    ConflictCopyRequest, CreatePostRequest, MergeConflict, PatchPostRequest, PostHistory, PostList, PostResponse,
    PostStatus,
};
pub use problem::Problem;
pub use problem_types::{ProblemType, PROBLEM_PREFIX};
pub use status::{
    AuditReport, CommitResponse, DatasetFetchStatus, GitStatus, MirrorStatus, PostCommits, ProjectionState, PullStatus,
    StatusResponse, WebhooksStatus,
};
pub use users::{
    CreateTokenRequest, CreateUserRequest, PasswordRequest, PatchUserRequest, RoleName, TokenCreated, TokenInfo,
    TokenList, UserList, UserResponse,
};
pub use webhooks::{
    CreateWebhookRequest, DeliveryList, DeliveryResponse, DeliveryStatusName, PatchWebhookRequest, WebhookCreated,
    WebhookList, WebhookResponse, WebhookStateName,
};

/// The OpenAPI document as served at `/api/v1/openapi.json` and committed as
/// `openapi/openapi.json`: what utoipa generates plus the validation rules and links of
/// `constraints`.
pub fn document() -> String {
    use utoipa::OpenApi as _;
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    constraints::apply(&mut doc);
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}
