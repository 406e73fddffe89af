//! Forge webhooks in the OpenAPI document.

#![allow(dead_code)]

use crate::hooks::ForgeHookAnswer;
use crate::problem::Problem;

/// `POST /api/v1/hooks/git/{remote}` — a forge (GitHub, Gitea, Forgejo, GitLab) tells Quire its
/// branch moved. Authenticated by the remote's webhook secret, not a token: `X-Hub-Signature-256:
/// sha256=<hex HMAC-SHA256 of the body>` (GitHub, Gitea, Forgejo), `X-Gitea-Signature: <hex>`
/// (Gitea) or `X-Gitlab-Token: <secret>` (GitLab). A push to the remote's branch queues a pull:
/// Quire fetches the branch and imports its new commits as a `git push` would (same checks,
/// all or nothing, origin `forge-hook` with the commit); the outcome, and a divergence, are in
/// `/api/v1/status` (`git.mirrors[].pull`).
#[utoipa::path(post, path = "/api/v1/hooks/git/{remote}", tag = "status",
    params(
        ("remote" = String, Path, description = "`name` of the `[[git.remotes]]` entry"),
        ("X-Hub-Signature-256" = Option<String>, Header, description = "`sha256=` and the hex HMAC-SHA256 of the body, keyed with the secret"),
        ("X-Gitea-Signature" = Option<String>, Header, description = "The hex HMAC-SHA256 of the body (Gitea)"),
        ("X-Gitlab-Token" = Option<String>, Header, description = "The secret itself (GitLab)"),
    ),
    request_body(content = serde_json::Value, content_type = "application/json", description = "The forge's event, as it sends it (`ref` names the branch pushed to)"),
    responses(
        (status = 200, description = "A ping (`pong`), or an event that is not a push to the remote's branch (`ignored`)", body = ForgeHookAnswer),
        (status = 202, description = "A pull is queued (`accepted`)", body = ForgeHookAnswer),
        (status = 400, description = "The body could not be read", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No such pulling remote, or a missing or wrong signature (answered alike; nothing fetched)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    ))]
fn forge_hook() {}
