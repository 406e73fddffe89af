//! `/api/v1/auth`: login, refresh, logout and first-start setup.

use actix_web::http::StatusCode;
use std::net::{IpAddr, SocketAddr};

use actix_web::{web, HttpRequest, HttpResponse};
use quire_openapi::{LoginRequest, LogoutRequest, RefreshRequest, SetupRequest, TokenResponse};
use quire_storage::User;

use crate::auth::Auth;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

fn tokens(state: &AppState, status: StatusCode, user: &User, refresh_token: String) -> ApiResult {
    Ok(HttpResponse::build(status)
        .insert_header(("Cache-Control", "no-store"))
        .json(TokenResponse {
            access_token: state.jwt.issue(user)?,
            refresh_token,
            token_type: "Bearer".into(),
            expires_in: state.jwt.ttl_secs(),
        }))
}

fn bad_login(e: quire_storage::Error) -> ApiError {
    match e {
        quire_storage::Error::InvalidCredentials => ApiError::unauthorized("wrong username or password"),
        e => e.into(),
    }
}

/// `POST /api/v1/auth/login` — username and password for tokens.
pub async fn login(state: web::Data<AppState>, req: HttpRequest, body: JsonBody<LoginRequest>) -> ApiResult {
    let LoginRequest { username, password } = body.value;
    let addr = client_ip(&req, &state);
    if let Some(wait) = state.login_guard.locked(&username, addr) {
        return Err(ApiError::too_many_requests(
            wait,
            "too many failed logins for this user or from this address; wait for Retry-After seconds",
        ));
    }
    let (accounts, name) = (state.accounts.clone(), username.clone());
    let result = web::block(move || {
        let user = accounts.authenticate(&name, &password)?;
        let refresh = accounts.issue_refresh(&user)?;
        Ok::<_, quire_storage::Error>((user, refresh))
    })
    .await?;
    match result {
        Ok((user, refresh)) => {
            state.login_guard.succeeded(&username);
            tokens(&state, StatusCode::OK, &user, refresh)
        }
        Err(e) => {
            if matches!(e, quire_storage::Error::InvalidCredentials) {
                state.login_guard.failed(&username, addr);
            }
            Err(bad_login(e))
        }
    }
}

/// The client's address: the peer, or the proxy's `X-Forwarded-For` when configured to trust it.
fn client_ip(req: &HttpRequest, state: &AppState) -> Option<IpAddr> {
    if state.config.api.trust_proxy_headers {
        let info = req.connection_info();
        if let Some(ip) = info
            .realip_remote_addr()
            .and_then(|a| a.parse::<SocketAddr>().map(|s| s.ip()).or_else(|_| a.parse()).ok())
        {
            return Some(ip);
        }
    }
    req.peer_addr().map(|a| a.ip())
}

/// `POST /api/v1/auth/refresh` — a refresh token for new tokens.
pub async fn refresh(state: web::Data<AppState>, body: JsonBody<RefreshRequest>) -> ApiResult {
    let accounts = state.accounts.clone();
    let token = body.value.refresh_token;
    let (user, refresh) = web::block(move || accounts.rotate_refresh(&token))
        .await?
        .map_err(|e| match e {
            quire_storage::Error::InvalidCredentials => {
                ApiError::unauthorized("the refresh token is unknown, expired or already used; log in again")
            }
            e => e.into(),
        })?;
    tokens(&state, StatusCode::OK, &user, refresh)
}

/// `POST /api/v1/auth/logout` — revoke a refresh token's session.
pub async fn logout(
    _auth: Auth,
    state: web::Data<AppState>,
    body: web::Bytes,
    req: actix_web::HttpRequest,
) -> ApiResult {
    let request: LogoutRequest = if body.is_empty() {
        LogoutRequest::default()
    } else {
        let mut payload = actix_web::dev::Payload::from(body);
        <JsonBody<LogoutRequest> as actix_web::FromRequest>::from_request(&req, &mut payload)
            .await?
            .value
    };
    if let Some(token) = request.refresh_token {
        let accounts = state.accounts.clone();
        web::block(move || accounts.revoke_refresh(&token)).await??;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/v1/auth/setup` — whether the first admin is still to be created.
pub async fn setup_status(state: web::Data<AppState>) -> ApiResult {
    let accounts = state.accounts.clone();
    let has_users = web::block(move || accounts.has_users()).await??;
    Ok(HttpResponse::Ok().json(quire_openapi::SetupStatus { pending: !has_users }))
}

/// `POST /api/v1/auth/setup` — the first admin, with the one-time setup token.
pub async fn setup(state: web::Data<AppState>, body: JsonBody<SetupRequest>) -> ApiResult {
    let accounts = state.accounts.clone();
    let SetupRequest {
        setup_token,
        username,
        password,
    } = body.value;
    let (user, refresh) = web::block(move || {
        let user = accounts.complete_setup(&setup_token, &username, &password)?;
        let refresh = accounts.issue_refresh(&user)?;
        Ok::<_, quire_storage::Error>((user, refresh))
    })
    .await?
    .map_err(|e| match e {
        quire_storage::Error::InvalidCredentials => {
            ApiError::unauthorized("the setup token is wrong or was already used; see the server's first-start output")
        }
        e => e.into(),
    })?;
    tokens(&state, StatusCode::CREATED, &user, refresh)
}
