//! `/api/v1/tokens`: API tokens for scripts.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use quire_openapi::{CreateTokenRequest, TokenCreated, TokenInfo, TokenList};
use quire_storage::{ApiToken, Scope};
use serde::Deserialize;

use crate::auth::Auth;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The API shape of a token.
pub fn token_info(token: &ApiToken) -> TokenInfo {
    TokenInfo {
        id: token.id.to_string(),
        name: token.name.clone(),
        user: token.user.to_string(),
        scopes: token.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
        created_at: token.created_at,
        expires_at: token.expires_at,
        last_used_at: token.last_used_at,
    }
}

/// `POST /api/v1/tokens` — a new API token; its secret is shown once.
pub async fn create_token(auth: Auth, state: web::Data<AppState>, body: JsonBody<CreateTokenRequest>) -> ApiResult {
    let input = body.value;
    let scopes = input
        .scopes
        .iter()
        .map(|s| s.parse::<Scope>())
        .collect::<Result<Vec<_>, _>>()?;
    let (tokens, actor) = (state.tokens.clone(), auth.actor());
    let (token, secret) = web::block(move || tokens.create(&actor, &input.name, &scopes, input.expires_at)).await??;
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header(("Cache-Control", "no-store"))
        .json(TokenCreated {
            token: token_info(&token),
            secret,
        }))
}

/// Query of `GET /api/v1/tokens`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    all: Option<bool>,
}

/// `GET /api/v1/tokens` — your tokens (`all=true`: everyone's, admins).
pub async fn list_tokens(auth: Auth, state: web::Data<AppState>, query: web::Query<ListQuery>) -> ApiResult {
    let (tokens, actor, all) = (state.tokens.clone(), auth.actor(), query.all.unwrap_or(false));
    let list = web::block(move || tokens.list(&actor, all)).await??;
    Ok(HttpResponse::Ok().json(TokenList {
        items: list.iter().map(token_info).collect(),
    }))
}

/// `DELETE /api/v1/tokens/{id}` — revoke a token at once.
pub async fn revoke_token(auth: Auth, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult {
    let id = path
        .parse()
        .map_err(|_| ApiError::not_found(format!("{:?} is not a token id", path.as_str())))?;
    let (tokens, actor) = (state.tokens.clone(), auth.actor());
    web::block(move || tokens.revoke(&actor, id)).await??;
    Ok(HttpResponse::NoContent().finish())
}
