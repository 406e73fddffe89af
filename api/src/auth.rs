//! Access tokens (JWT, HS256 pinned) and the [`Auth`] extractor that every protected handler
//! takes, so a handler that forgets authentication does not compile into an open endpoint.
//!
//! Signing keys live in `<data>/keys/signing.json` (mode 0600), created on first start. Each key
//! has an id (`kid` in the token header), so keys can be rotated while older tokens stay valid.

use std::collections::BTreeMap;
use std::fs;
use std::future::Future;
use std::io::Write as _;
use std::path::Path;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};
use anyhow::Context as _;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use ulid::Ulid;

use quire_storage::tokens::TOKEN_PREFIX;
use quire_storage::{Actor, Role, User};

use crate::config::AuthConfig;
use crate::error::ApiError;
use crate::state::AppState;

/// The one algorithm accepted.
const ALGORITHM: Algorithm = Algorithm::HS256;
/// Clock skew tolerated on `exp` and `nbf`, in seconds.
const JWT_LEEWAY_SECS: i64 = 5;

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Username.
    pub name: String,
    pub role: Role,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct KeyFile {
    current: String,
    keys: BTreeMap<String, String>,
}

/// The signing keys and the token rules.
pub struct JwtKeys {
    clock: quire_storage::Clock,
    current: String,
    keys: BTreeMap<String, Vec<u8>>,
    issuer: String,
    audience: String,
    ttl_secs: u64,
}

impl JwtKeys {
    /// Loads `<keys_dir>/signing.json`, creating it (mode 0600) with a fresh key if missing.
    pub fn load_or_create(keys_dir: &Path, config: &AuthConfig) -> anyhow::Result<Self> {
        let path = keys_dir.join("signing.json");
        if !path.exists() {
            create_private_dir(keys_dir)?;
            let kid = Ulid::new().to_string();
            let mut secret = [0u8; 32];
            rand::rng().fill_bytes(&mut secret);
            let file = KeyFile {
                current: kid.clone(),
                keys: BTreeMap::from([(kid, STANDARD.encode(secret))]),
            };
            write_private(&path, &serde_json::to_vec_pretty(&file)?)?;
        }
        let file: KeyFile =
            serde_json::from_slice(&fs::read(&path).with_context(|| format!("reading {}", path.display()))?)
                .with_context(|| format!("{} is not a key file", path.display()))?;
        let keys = file
            .keys
            .iter()
            .map(|(kid, secret)| Ok((kid.clone(), STANDARD.decode(secret)?)))
            .collect::<anyhow::Result<BTreeMap<_, _>>>()
            .with_context(|| format!("{} holds a malformed key", path.display()))?;
        anyhow::ensure!(
            keys.contains_key(&file.current),
            "{}: current key missing",
            path.display()
        );
        Ok(Self {
            clock: quire_storage::system_clock(),
            current: file.current,
            keys,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            ttl_secs: config.access_token_ttl_secs,
        })
    }

    /// Adds a new signing key and makes it current; older keys keep verifying the tokens they
    /// signed until those expire. Returns the new key id. Takes effect at the next start.
    pub fn rotate(keys_dir: &Path) -> anyhow::Result<String> {
        let path = keys_dir.join("signing.json");
        let mut file: KeyFile =
            serde_json::from_slice(&fs::read(&path).with_context(|| format!("reading {}", path.display()))?)
                .with_context(|| format!("{} is not a key file", path.display()))?;
        let kid = Ulid::new().to_string();
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        file.keys.insert(kid.clone(), STANDARD.encode(secret));
        file.current = kid.clone();
        let tmp = keys_dir.join(format!("signing.json.{kid}.tmp"));
        write_private(&tmp, &serde_json::to_vec_pretty(&file)?)?;
        fs::rename(&tmp, &path).with_context(|| format!("replacing {}", path.display()))?;
        fs::File::open(keys_dir)?.sync_all()?;
        Ok(kid)
    }

    /// Seconds an access token lives.
    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    /// A new access token for `user`.
    pub fn issue(&self, user: &User) -> Result<String, ApiError> {
        let now = (self.clock)().unix_timestamp();
        let claims = Claims {
            sub: user.id.to_string(),
            name: user.username.clone(),
            role: user.role,
            iat: now,
            nbf: now,
            exp: now + i64::try_from(self.ttl_secs).unwrap_or(900),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        let mut header = Header::new(ALGORITHM);
        header.kid = Some(self.current.clone());
        let secret = self.keys.get(&self.current).ok_or_else(ApiError::internal)?;
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret)).map_err(|e| {
            tracing::error!(error = %e, "signing a token failed");
            ApiError::internal()
        })
    }

    /// Checks signature, algorithm, `kid`, `exp`, `nbf`, `iss` and `aud`.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let invalid = || ApiError::unauthorized("the access token is invalid or expired; log in or refresh");
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        if header.alg != ALGORITHM {
            return Err(invalid());
        }
        let secret = header
            .kid
            .as_ref()
            .and_then(|kid| self.keys.get(kid))
            .ok_or_else(invalid)?;
        let mut validation = Validation::new(ALGORITHM);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        // Times are checked below against Quire's clock, not the library's.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret), &validation)
            .map(|data| data.claims)
            .map_err(|_| invalid())?;
        let now = (self.clock)().unix_timestamp();
        if claims.exp + JWT_LEEWAY_SECS <= now || claims.nbf - JWT_LEEWAY_SECS > now {
            return Err(invalid());
        }
        Ok(claims)
    }

    /// The same keys reading time from `clock` (issue and expiry).
    pub fn with_clock(self, clock: quire_storage::Clock) -> Self {
        Self { clock, ..self }
    }
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// An authenticated request: a valid access token or API token of an enabled user.
#[derive(Debug, Clone)]
pub struct Auth {
    pub user: User,
    /// The user with the rights of this request (an API token's scopes narrow the role's).
    pub actor: Actor,
}

impl Auth {
    /// Who acts, with which rights.
    pub fn actor(&self) -> Actor {
        self.actor.clone()
    }
}

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let state = state.ok_or_else(ApiError::internal)?;
            let token = token
                .ok_or_else(|| ApiError::unauthorized("send an access token as `Authorization: Bearer <token>`"))?;
            authenticate(&state, token).await
        })
    }
}

/// The caller holding `token`: an access token (JWT) or an API token (`qk_…`) of an enabled
/// user. The Micropub routes call it with a token from the header or the form.
pub(crate) async fn authenticate(state: &AppState, token: String) -> Result<Auth, ApiError> {
    if token.starts_with(TOKEN_PREFIX) {
        return api_token(state, token).await;
    }
    let claims = state.jwt.verify(&token)?;
    let id: Ulid = claims
        .sub
        .parse()
        .map_err(|_| ApiError::unauthorized("the access token is invalid"))?;
    // Known users are answered from memory, without a hop to a blocking thread.
    let user = match state.accounts.cached_user(id) {
        Some(user) => Some(user),
        None => {
            let accounts = state.accounts.clone();
            web::block(move || accounts.user(id)).await??
        }
    };
    match user {
        Some(user) if !user.disabled => Ok(Auth {
            actor: Actor::user(user.id, user.username.clone(), user.role),
            user,
        }),
        _ => Err(ApiError::unauthorized(
            "the user of this token no longer exists or is disabled",
        )),
    }
}

async fn api_token(state: &AppState, secret: String) -> Result<Auth, ApiError> {
    let (tokens, accounts) = (state.tokens.clone(), state.accounts.clone());
    let found = web::block(move || {
        let actor = tokens.authenticate(&secret, |id| accounts.user(id))?;
        actor
            .map(|a| accounts.user(a.user_id).map(|u| u.map(|u| (u, a))))
            .transpose()
    })
    .await??;
    match found.flatten() {
        Some((user, actor)) => Ok(Auth { user, actor }),
        None => Err(ApiError::unauthorized("the API token is unknown, revoked or expired")),
    }
}

pub(crate) fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}
