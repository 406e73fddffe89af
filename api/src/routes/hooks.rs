//! `/api/v1/hooks/git/{remote}`: forge webhooks. The caller is the forge, proved by the
//! remote's secret (no token); the pull itself is [`crate::git::forge`]'s.

use actix_web::{web, HttpRequest, HttpResponse};
use quire_openapi::ForgeHookAnswer;

use crate::body::RawBody;
use crate::error::{ApiError, ApiResult};
use crate::git::forge::signature::{classify, Delivery};
use crate::state::AppState;

/// `POST /api/v1/hooks/git/{remote}` — a forge says its branch moved: verify the signature,
/// then queue a pull (202) or answer a ping or another branch (200). An unknown remote and a
/// bad signature get the same 401, and nothing is fetched.
pub async fn forge_hook(
    req: HttpRequest,
    state: web::Data<AppState>,
    remote: web::Path<String>,
    body: RawBody,
) -> ApiResult {
    let (remote, body) = (remote.into_inner(), body.0);
    if !state.forges.verify(&remote, req.headers(), &body) {
        return Err(ApiError::unauthorized(
            "no pulling remote by that name, or a missing or wrong signature: check the webhook's URL and secret",
        ));
    }
    let branch = state.forges.branch(&remote).unwrap_or("main");
    let answer = |status: &str, detail: String| ForgeHookAnswer {
        status: status.into(),
        detail,
    };
    Ok(match classify(req.headers(), &body, branch) {
        Delivery::Ping => HttpResponse::Ok().json(answer("pong", format!("Quire pulls {branch} on push events"))),
        Delivery::Ignored(why) => HttpResponse::Ok().json(answer("ignored", why)),
        Delivery::Pull => {
            state.forges.queue_pull(&remote);
            HttpResponse::Accepted().json(answer(
                "accepted",
                format!("pulling {branch}; the outcome is in /api/v1/status (git.mirrors[].pull)"),
            ))
        }
    })
}
