//! Quire's API contract: the request and response types of `/api/v1`, the RFC 9457 problem
//! type, and the OpenAPI document built from them. Handlers and integration tests both use
//! these types, so the tests exercise exactly the documented shapes.

pub mod auth;
pub mod doc;
pub mod events;
pub mod posts;
pub mod problem;
pub mod users;

pub use auth::{LoginRequest, LogoutRequest, RefreshRequest, SetupRequest, TokenResponse};
pub use doc::ApiDoc;
pub use events::{EventList, EventResponse, Health, Ready};
pub use posts::{CreatePostRequest, PatchPostRequest, PostHistory, PostList, PostResponse, PostStatus};
pub use problem::Problem;
pub use users::{
    CreateTokenRequest, CreateUserRequest, PasswordRequest, PatchUserRequest, RoleName, TokenCreated, TokenInfo,
    TokenList, UserList, UserResponse,
};
