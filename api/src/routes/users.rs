//! `/api/v1/users`: user management for admins, and your own account.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use quire_openapi::{CreateUserRequest, PasswordRequest, PatchUserRequest, RoleName, UserList, UserResponse};
use quire_storage::{Role, User, UserUpdate};

use crate::auth::Auth;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The API name of a role.
pub fn role_name(role: Role) -> RoleName {
    match role {
        Role::Admin => RoleName::Admin,
        Role::Editor => RoleName::Editor,
        Role::Author => RoleName::Author,
        Role::Contributor => RoleName::Contributor,
    }
}

fn role(name: RoleName) -> Role {
    match name {
        RoleName::Admin => Role::Admin,
        RoleName::Editor => Role::Editor,
        RoleName::Author => Role::Author,
        RoleName::Contributor => Role::Contributor,
    }
}

/// The API shape of a user.
pub fn user_response(user: &User) -> UserResponse {
    UserResponse {
        id: user.id.to_string(),
        username: user.username.clone(),
        role: role_name(user.role),
        disabled: user.disabled,
        created_at: user.created_at,
    }
}

fn user_id(raw: &str) -> Result<ulid::Ulid, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("{raw:?} is not a user id")))
}

/// `GET /api/v1/users/me` — the logged-in user.
pub async fn me(auth: Auth) -> HttpResponse {
    HttpResponse::Ok().json(user_response(&auth.user))
}

/// `GET /api/v1/users` — every user (admins).
pub async fn list_users(auth: Auth, state: web::Data<AppState>) -> ApiResult {
    let (accounts, actor) = (state.accounts.clone(), auth.actor());
    let users = web::block(move || accounts.list_users(&actor)).await??;
    Ok(HttpResponse::Ok().json(UserList {
        items: users.iter().map(user_response).collect(),
    }))
}

/// `POST /api/v1/users` — add a user (admins).
pub async fn create_user(auth: Auth, state: web::Data<AppState>, body: JsonBody<CreateUserRequest>) -> ApiResult {
    let (accounts, actor, input) = (state.accounts.clone(), auth.actor(), body.value);
    let user =
        web::block(move || accounts.add_user(&actor, &input.username, &input.password, role(input.role))).await??;
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header(("Location", format!("/api/v1/users/{}", user.id)))
        .json(user_response(&user)))
}

/// `PATCH /api/v1/users/{id}` — change a user's role or disable them (admins).
pub async fn patch_user(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: JsonBody<PatchUserRequest>,
) -> ApiResult {
    let id = user_id(&path)?;
    let update = UserUpdate {
        role: body.value.role.map(role),
        disabled: body.value.disabled,
    };
    let (accounts, actor) = (state.accounts.clone(), auth.actor());
    let user = web::block(move || accounts.update_user(&actor, id, update)).await??;
    Ok(HttpResponse::Ok().json(user_response(&user)))
}

/// `POST /api/v1/users/{id}/password` — set a password (yours with the old one, anyone's as admin).
pub async fn set_password(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: JsonBody<PasswordRequest>,
) -> ApiResult {
    let id = user_id(&path)?;
    let (accounts, actor, input) = (state.accounts.clone(), auth.actor(), body.value);
    web::block(move || accounts.set_password(&actor, id, &input.new_password, input.old_password.as_deref())).await??;
    Ok(HttpResponse::NoContent().finish())
}
