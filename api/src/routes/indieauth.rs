//! IndieAuth: the metadata at `/.well-known/oauth-authorization-server`, the authorization
//! endpoint with its consent page (the user logs in and approves or denies), and the token,
//! revocation and introspection endpoints. Errors of the JSON endpoints are OAuth's
//! `{"error", "error_description"}`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use quire_render::xml_escape as esc;
use serde_json::json;

use crate::indieauth::{pkce_matches, quire_scopes, AuthRequest, Grant, CODE_TTL};
use crate::micropub::{authenticate, parse_query, site_url, MicropubError, MicropubResult};
use crate::state::AppState;

fn issuer(state: &AppState) -> String {
    site_url(state, "/")
}

fn oauth(status: StatusCode, error: &'static str, description: impl Into<String>) -> MicropubError {
    MicropubError::oauth(status, error, description)
}

/// `GET /.well-known/oauth-authorization-server` — the authorization server's metadata.
pub async fn metadata(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "issuer": issuer(&state),
        "authorization_endpoint": site_url(&state, "/indieauth/auth"),
        "token_endpoint": site_url(&state, "/indieauth/token"),
        "revocation_endpoint": site_url(&state, "/indieauth/revoke"),
        "introspection_endpoint": site_url(&state, "/indieauth/introspect"),
        "code_challenge_methods_supported": ["S256"],
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "scopes_supported": ["create", "draft", "update", "delete", "media", "read"],
        "authorization_response_iss_parameter_supported": true,
    }))
}

fn pairs_of(text: &str) -> Option<Vec<(String, String)>> {
    parse_query(text).ok()
}

fn auth_request(pairs: &[(String, String)]) -> AuthRequest {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    AuthRequest {
        response_type: get("response_type"),
        client_id: get("client_id"),
        redirect_uri: get("redirect_uri"),
        state: get("state"),
        code_challenge: get("code_challenge"),
        code_challenge_method: get("code_challenge_method"),
        scope: get("scope"),
        me: Some(get("me")).filter(|m| !m.is_empty()),
    }
}

fn page(status: StatusCode, body: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Frame-Options", "DENY"))
        .body(format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
             content=\"width=device-width, initial-scale=1\"><title>Sign in – Quire</title></head><body><main>{body}</main></body></html>"
        ))
}

fn consent(request: &AuthRequest, error: Option<&str>) -> String {
    let hidden: String = [
        ("response_type", &request.response_type),
        ("client_id", &request.client_id),
        ("redirect_uri", &request.redirect_uri),
        ("state", &request.state),
        ("code_challenge", &request.code_challenge),
        ("code_challenge_method", &request.code_challenge_method),
        ("scope", &request.scope),
    ]
    .iter()
    .map(|(k, v)| format!("<input type=\"hidden\" name=\"{k}\" value=\"{}\">", esc(v)))
    .collect();
    let scopes: String = request
        .scopes()
        .iter()
        .map(|s| format!("<li>{}</li>", esc(s)))
        .collect();
    let error = error
        .map(|e| format!("<p role=\"alert\" id=\"error\">{}</p>", esc(e)))
        .unwrap_or_default();
    format!(
        "<h1>Sign in to {client}</h1>{error}<p>The application <strong id=\"client\">{client}</strong> wants to \
         publish for you and will be sent back to <code>{back}</code>.</p><p>It asks for:</p><ul id=\"scopes\">{scopes}</ul>\
         <form method=\"post\" action=\"/indieauth/auth\">{hidden}<label>Username <input name=\"username\" id=\"username\" \
         autocomplete=\"username\" required></label><label>Password <input type=\"password\" name=\"password\" \
         id=\"password\" autocomplete=\"current-password\" required></label><button name=\"decision\" value=\"approve\" \
         id=\"approve\">Approve</button></form><form method=\"post\" action=\"/indieauth/auth\">{hidden}<button \
         name=\"decision\" value=\"deny\" id=\"deny\">Deny</button></form>",
        client = esc(&request.client_id),
        back = esc(&request.redirect_uri),
    )
}

/// `GET /indieauth/auth` — the consent page: who asks, for what, and a login to approve.
pub async fn authorize_page(req: HttpRequest) -> HttpResponse {
    let Some(pairs) = pairs_of(req.query_string()) else {
        return page(StatusCode::BAD_REQUEST, "<p>The request is not valid form data.</p>");
    };
    let request = auth_request(&pairs);
    if let Err(why) = request.check() {
        return page(
            StatusCode::BAD_REQUEST,
            &format!("<h1>Invalid request</h1><p>{}</p>", esc(&why)),
        );
    }
    page(StatusCode::OK, &consent(&request, None))
}

fn redirect(request: &AuthRequest, state: &AppState, params: &[(&str, &str)]) -> HttpResponse {
    let mut url = request.redirect_uri.clone();
    const QUERY: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, QUERY).to_string();
    for (k, v) in params.iter().chain([("state", request.state.as_str())].iter()) {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&format!("{k}={}", enc(v)));
    }
    url.push_str(&format!("&iss={}", enc(&issuer(state))));
    HttpResponse::Found().insert_header(("Location", url)).finish()
}

/// `POST /indieauth/auth` — the consent form: deny, or log in and approve (a code for the
/// client, valid once for a minute).
pub async fn authorize_submit(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let Some(pairs) = std::str::from_utf8(&body).ok().and_then(pairs_of) else {
        return page(StatusCode::BAD_REQUEST, "<p>The form is not valid.</p>");
    };
    let request = auth_request(&pairs);
    if let Err(why) = request.check() {
        return page(
            StatusCode::BAD_REQUEST,
            &format!("<h1>Invalid request</h1><p>{}</p>", esc(&why)),
        );
    }
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if get("decision") != "approve" {
        return redirect(&request, &state, &[("error", "access_denied")]);
    }
    let (username, password) = (get("username"), get("password"));
    let addr = req.peer_addr().map(|a| a.ip());
    if state.login_guard.locked(&username, addr).is_some() {
        let body = consent(&request, Some("Too many failed logins; wait a while and try again."));
        return page(StatusCode::TOO_MANY_REQUESTS, &body);
    }
    let accounts = state.accounts.clone();
    let name = username.clone();
    let user = match web::block(move || accounts.authenticate(&name, &password)).await {
        Ok(Ok(user)) => user,
        Ok(Err(quire_storage::Error::InvalidCredentials)) => {
            state.login_guard.failed(&username, addr);
            return page(
                StatusCode::UNAUTHORIZED,
                &consent(&request, Some("Wrong username or password.")),
            );
        }
        _ => {
            return page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<p>The server failed; try again.</p>",
            )
        }
    };
    state.login_guard.succeeded(&username);
    let now = state.posts.now();
    let grant = Grant {
        user: user.id,
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        scope: request.scope.clone(),
        expires_at: now + CODE_TTL,
    };
    let code = state.indieauth_codes.issue(grant, now);
    redirect(&request, &state, &[("code", &code)])
}

/// `POST /indieauth/token` — exchange a code (with its PKCE verifier) for an access token.
pub async fn token(state: web::Data<AppState>, body: web::Bytes) -> MicropubResult {
    let text = std::str::from_utf8(&body).map_err(|_| MicropubError::invalid("the form is not UTF-8"))?;
    let pairs = parse_query(text)?;
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if get("grant_type") != "authorization_code" {
        return Err(oauth(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be authorization_code",
        ));
    }
    let invalid_grant = |why: &str| oauth(StatusCode::BAD_REQUEST, "invalid_grant", why);
    let grant = state
        .indieauth_codes
        .take(&get("code"), state.posts.now())
        .ok_or_else(|| invalid_grant("the code is unknown, used or expired"))?;
    if grant.client_id != get("client_id") || grant.redirect_uri != get("redirect_uri") {
        return Err(invalid_grant(
            "client_id and redirect_uri must be the ones the code was issued to",
        ));
    }
    if !pkce_matches(&get("code_verifier"), &grant.code_challenge) {
        return Err(invalid_grant("the code_verifier does not match the code_challenge"));
    }
    let (accounts, tokens) = (state.accounts.clone(), state.tokens.clone());
    let client = grant.client_id.clone();
    let scope = grant.scope.clone();
    let secret = web::block(move || {
        let user = accounts.user(grant.user)?.filter(|u| !u.disabled);
        let user = user.ok_or(quire_storage::Error::InvalidCredentials)?;
        let scopes = quire_scopes(&grant.scope, user.role);
        if scopes.is_empty() {
            return Err(quire_storage::Error::Forbidden {
                missing: "scope".into(),
                message: "none of the requested scopes is one this user has".into(),
            });
        }
        let actor = quire_storage::Actor::user(user.id, user.username, user.role);
        let name: String = format!("IndieAuth: {client}").chars().take(100).collect();
        tokens.create(&actor, &name, &scopes, None).map(|(_, secret)| secret)
    })
    .await?
    .map_err(|e| match e {
        quire_storage::Error::InvalidCredentials => invalid_grant("the user is gone or disabled"),
        quire_storage::Error::Forbidden { message, .. } => oauth(StatusCode::BAD_REQUEST, "invalid_scope", message),
        e => MicropubError::from(e),
    })?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({"access_token": secret, "token_type": "Bearer", "scope": scope, "me": issuer(&state)})))
}

/// `POST /indieauth/revoke` — revoke a token (RFC 7009: 200 whether or not it existed).
pub async fn revoke(state: web::Data<AppState>, body: web::Bytes) -> MicropubResult {
    let text = std::str::from_utf8(&body).map_err(|_| MicropubError::invalid("the form is not UTF-8"))?;
    let pairs = parse_query(text)?;
    let token = pairs.iter().find(|(k, _)| k == "token").map(|(_, v)| v.clone());
    let token = token.ok_or_else(|| MicropubError::invalid("send the token to revoke as token"))?;
    let tokens = state.tokens.clone();
    web::block(move || tokens.revoke_secret(&token)).await??;
    Ok(HttpResponse::Ok().finish())
}

/// `POST /indieauth/introspect` — whether a token is active, for whom and with what (the
/// caller authenticates with a token of its own).
pub async fn introspect(req: HttpRequest, body: web::Bytes) -> MicropubResult {
    let state = crate::micropub::state_of(&req)?;
    let (auth, _) = authenticate(&state, &req, None).await?;
    let text = std::str::from_utf8(&body).map_err(|_| MicropubError::invalid("the form is not UTF-8"))?;
    let pairs = parse_query(text)?;
    let token = pairs.iter().find(|(k, _)| k == "token").map(|(_, v)| v.clone());
    let token = token.ok_or_else(|| MicropubError::invalid("send the token to look at as token"))?;
    let (tokens, accounts) = (state.tokens.clone(), state.accounts.clone());
    let found = web::block(move || {
        let found = tokens.by_secret(&token)?;
        let actor = tokens.authenticate(&token, |id| accounts.user(id))?;
        Ok::<_, quire_storage::Error>(found.zip(actor))
    })
    .await??;
    // Only the token's owner (or an admin) learns about it.
    let visible =
        found.filter(|(t, _)| t.user == auth.user.id || auth.actor.scopes.contains(&quire_storage::Scope::Admin));
    let answer = match visible {
        Some((token, actor)) => json!({
            "active": true,
            "me": issuer(&state),
            "client_id": token.name.strip_prefix("IndieAuth: ").unwrap_or(&token.name),
            "scope": actor.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
            "exp": token.expires_at.map(time::OffsetDateTime::unix_timestamp),
            "iat": token.created_at.unix_timestamp(),
        }),
        None => json!({"active": false}),
    };
    Ok(HttpResponse::Ok().json(answer))
}
