//! Is a webhook delivery from the forge? Each forge proves it with the remote's secret:
//!
//! - `X-Hub-Signature-256: sha256=<hex>` — HMAC-SHA256 of the raw body (GitHub, Gitea, Forgejo);
//! - `X-Gitea-Signature: <hex>` — the same HMAC without the prefix (Gitea, Forgejo);
//! - `X-Gitlab-Token: <secret>` — the secret itself (GitLab).
//!
//! The first of these headers present decides; every comparison takes constant time (the HMAC
//! through `hmac`'s `verify_slice`, GitLab's token as equal-length SHA-256 digests).

use actix_web::http::header::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::{Digest as _, Sha256};

/// Whether the delivery (`headers`, raw `body`) is signed with `secret`.
pub(crate) fn verify(secret: &[u8], headers: &HeaderMap, body: &[u8]) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(signature) = header("x-hub-signature-256") {
        return signature
            .strip_prefix("sha256=")
            .is_some_and(|hex| verify_hmac(secret, body, hex));
    }
    if let Some(hex) = header("x-gitea-signature") {
        return verify_hmac(secret, body, hex);
    }
    if let Some(token) = header("x-gitlab-token") {
        let (a, b) = (Sha256::digest(token.as_bytes()), Sha256::digest(secret));
        return a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
    }
    false
}

fn verify_hmac(secret: &[u8], body: &[u8], hex: &str) -> bool {
    let Some(tag) = decode_hex(hex) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&tag).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 {
        return None;
    }
    let digit = |b: u8| (b as char).to_digit(16);
    hex.as_bytes()
        .chunks(2)
        .map(|pair| u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok())
        .collect()
}

/// What a verified delivery asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// The forge checks the hook (GitHub's and Gitea's `ping`).
    Ping,
    /// A push to `branch` (or an event without a `ref`: pulled all the same, a pull is harmless).
    Pull,
    /// Another branch, a tag or another kind of event.
    Ignored(String),
}

/// Reads the event header (`X-GitHub-Event`, `X-Gitea-Event`, `X-Forgejo-Event`,
/// `X-Gitlab-Event`) and the body's `ref`.
pub(crate) fn classify(headers: &HeaderMap, body: &[u8], branch: &str) -> Delivery {
    let event = ["x-github-event", "x-gitea-event", "x-forgejo-event", "x-gitlab-event"]
        .iter()
        .find_map(|name| headers.get(*name).and_then(|v| v.to_str().ok()))
        .map(|e| e.trim().to_ascii_lowercase());
    match event.as_deref() {
        Some("ping") => return Delivery::Ping,
        Some("push" | "push hook") | None => {}
        Some(other) => return Delivery::Ignored(format!("'{other}' events are not pulled")),
    }
    let pushed_ref = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("ref")?.as_str().map(str::to_owned));
    match pushed_ref {
        Some(name) if name != format!("refs/heads/{branch}") => {
            Delivery::Ignored(format!("{name} is not refs/heads/{branch}, the branch Quire pulls"))
        }
        _ => Delivery::Pull,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(
                HeaderName::from_bytes(k.as_bytes()).expect("name"),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        map
    }

    fn sign(secret: &[u8], body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
        mac.update(body);
        mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn each_forge_style_is_verified_and_a_wrong_one_refused() {
        let (secret, body) = (
            b"a-long-enough-secret".as_slice(),
            br#"{"ref":"refs/heads/main"}"#.as_slice(),
        );
        let hex = sign(secret, body);
        let github = headers(&[("x-hub-signature-256", &format!("sha256={hex}"))]);
        assert!(verify(secret, &github, body));
        assert!(!verify(secret, &github, b"{}"), "another body");
        assert!(!verify(b"another-secret-entirely", &github, body));
        assert!(verify(secret, &headers(&[("x-gitea-signature", &hex)]), body));
        assert!(
            !verify(secret, &headers(&[("x-hub-signature-256", &hex)]), body),
            "no prefix"
        );
        assert!(!verify(secret, &headers(&[("x-gitea-signature", "zz")]), body));
        assert!(verify(
            secret,
            &headers(&[("x-gitlab-token", "a-long-enough-secret")]),
            body
        ));
        assert!(!verify(
            secret,
            &headers(&[("x-gitlab-token", "a-long-enough-secreT")]),
            body
        ));
        assert!(!verify(secret, &HeaderMap::new(), body), "unsigned");
    }

    #[test]
    fn pings_other_branches_and_other_events_are_told_apart() {
        let main = br#"{"ref":"refs/heads/main"}"#;
        assert_eq!(
            classify(&headers(&[("x-github-event", "ping")]), b"{}", "main"),
            Delivery::Ping
        );
        assert_eq!(
            classify(&headers(&[("x-github-event", "push")]), main, "main"),
            Delivery::Pull
        );
        assert_eq!(
            classify(&headers(&[("x-gitlab-event", "Push Hook")]), main, "main"),
            Delivery::Pull
        );
        assert_eq!(classify(&HeaderMap::new(), b"not json", "main"), Delivery::Pull);
        assert!(matches!(
            classify(
                &headers(&[("x-gitea-event", "push")]),
                br#"{"ref":"refs/heads/dev"}"#,
                "main"
            ),
            Delivery::Ignored(_)
        ));
        assert!(matches!(
            classify(&headers(&[("x-github-event", "issues")]), main, "main"),
            Delivery::Ignored(_)
        ));
    }
}
