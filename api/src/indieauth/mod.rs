//! IndieAuth authorization server: what the routes in `routes/indieauth.rs` share — the
//! authorization request and its checks (PKCE S256 required, `redirect_uri` on the
//! `client_id`'s host), the single-use, short-lived codes (in memory: a code lost in a restart
//! is simply asked for again), and the mapping of IndieAuth scopes onto Quire's.
//!
//! Issued access tokens are Quire API tokens (`qk_…`) named after the client, so they are
//! listed and revoked with the user's other tokens and never exceed the user's role.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use quire_storage::{Role, Scope};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use ulid::Ulid;

/// How long an authorization code can be exchanged.
pub const CODE_TTL: time::Duration = time::Duration::seconds(60);
/// Most codes waiting at once (old ones are dropped first).
const MAX_CODES: usize = 1000;

/// An authorization request, as the client sent it to the authorization endpoint.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct AuthRequest {
    #[serde(default)]
    pub response_type: String,
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub redirect_uri: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub code_challenge: String,
    #[serde(default)]
    pub code_challenge_method: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub me: Option<String>,
}

/// `scheme://host[:port]` of an http(s) URL, if it is one.
fn origin(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    (!host.is_empty() && !host.contains('@')).then(|| &url[..url.len() - rest.len() + end])
}

impl AuthRequest {
    /// What is wrong with the request, if anything. Without a valid `redirect_uri` the error
    /// cannot be sent back to the client, so this is checked before anything else.
    pub fn check(&self) -> Result<(), String> {
        let client = origin(&self.client_id).ok_or("client_id must be an http(s) URL")?;
        let back = origin(&self.redirect_uri).ok_or("redirect_uri must be an http(s) URL")?;
        if client != back {
            return Err("redirect_uri must be on the client_id's scheme, host and port".into());
        }
        if self.response_type != "code" {
            return Err("response_type must be code".into());
        }
        if self.code_challenge_method != "S256" || self.code_challenge.len() < 43 || self.code_challenge.len() > 128 {
            return Err("PKCE is required: send code_challenge with code_challenge_method=S256".into());
        }
        if self.state.is_empty() {
            return Err("state is required".into());
        }
        Ok(())
    }

    /// The scopes asked for, as IndieAuth names them.
    pub fn scopes(&self) -> Vec<&str> {
        self.scope.split_whitespace().collect()
    }
}

/// Quire's scopes for IndieAuth's, limited to what `role` grants.
pub fn quire_scopes(indieauth: &str, role: Role) -> Vec<Scope> {
    let mut scopes = Vec::new();
    for name in indieauth.split_whitespace() {
        scopes.extend_from_slice(match name {
            "create" => &[Scope::PostsWrite, Scope::PostsPublish][..],
            "draft" => &[Scope::PostsWrite][..],
            "update" => &[Scope::PostsRead, Scope::PostsWrite, Scope::PostsPublish][..],
            "delete" => &[Scope::PostsWrite, Scope::PostsPublish][..],
            "media" => &[Scope::MediaWrite][..],
            "read" => &[Scope::PostsRead][..],
            _ => &[][..],
        });
    }
    let allowed = role.scopes();
    scopes.retain(|s| allowed.contains(s));
    scopes.sort();
    scopes.dedup();
    scopes
}

/// A code waiting to be exchanged.
#[derive(Debug, Clone)]
pub struct Grant {
    pub user: Ulid,
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub scope: String,
    pub expires_at: OffsetDateTime,
}

/// The codes handed out and not yet exchanged.
#[derive(Debug, Default)]
pub struct Codes(Mutex<HashMap<String, Grant>>);

impl Codes {
    /// Keeps `grant` under a new random code and returns the code.
    pub fn issue(&self, grant: Grant, now: OffsetDateTime) -> String {
        let code = quire_storage::users::random_token("qc_");
        let mut codes = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        codes.retain(|_, g| g.expires_at > now);
        if codes.len() >= MAX_CODES {
            if let Some(oldest) = codes.iter().min_by_key(|(_, g)| g.expires_at).map(|(c, _)| c.clone()) {
                codes.remove(&oldest);
            }
        }
        codes.insert(code.clone(), grant);
        code
    }

    /// Takes the code (it works once), if it is known and not expired.
    pub fn take(&self, code: &str, now: OffsetDateTime) -> Option<Grant> {
        let mut codes = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        codes.remove(code).filter(|g| g.expires_at > now)
    }
}

/// Whether `verifier` is the PKCE verifier of `challenge` (S256).
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let ok_len = (43..=128).contains(&verifier.len());
    ok_len && URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> AuthRequest {
        AuthRequest {
            response_type: "code".into(),
            client_id: "https://app.example/".into(),
            redirect_uri: "https://app.example/callback".into(),
            state: "s".into(),
            code_challenge: URL_SAFE_NO_PAD.encode(Sha256::digest(b"v".repeat(43))),
            code_challenge_method: "S256".into(),
            scope: "create media".into(),
            me: None,
        }
    }

    #[test]
    fn requests_need_pkce_and_a_redirect_on_the_clients_host() {
        assert!(request().check().is_ok());
        let elsewhere = AuthRequest {
            redirect_uri: "https://evil.example/callback".into(),
            ..request()
        };
        assert!(elsewhere.check().is_err());
        let plain = AuthRequest {
            code_challenge_method: "plain".into(),
            ..request()
        };
        assert!(plain.check().is_err());
        assert!(pkce_matches(&"v".repeat(43), &request().code_challenge));
        assert!(!pkce_matches(&"w".repeat(43), &request().code_challenge));
    }

    #[test]
    fn scopes_never_exceed_the_role() {
        assert_eq!(quire_scopes("create media", Role::Contributor), vec![Scope::PostsWrite]);
        assert_eq!(
            quire_scopes("create media", Role::Author),
            vec![Scope::PostsWrite, Scope::PostsPublish, Scope::MediaWrite]
        );
    }
}
