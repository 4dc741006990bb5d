//! Internal routes: the HTTP tick routes (`/ticks/<component>`), Dapr's event deliveries
//! (`/events/<component>/<topic>`) and `/metrics`. They sit on the same listener as the public
//! API (under `spin up` every route does), so each one demands the `tick_token`: the caller
//! sends `Authorization: Bearer <tick_token>` (a CronJob, Prometheus, an operator) or
//! `dapr-api-token: <tick_token>`.
//!
//! The second form is the only way a Dapr sidecar authenticates its calls to the app: with the
//! `dapr.io/app-token-secret` annotation it adds the secret's token to every request it makes,
//! input-binding calls and pub/sub deliveries included, and it cannot be told to send an
//! `Authorization` header. The manifests make that secret the same value as `tick_token`
//! (<https://docs.dapr.io/operations/security/app-api-token/>).

use spin_sdk::http::Request;

use crate::config;
use crate::problem::Problem;

/// The variable holding the token.
pub const TICK_TOKEN: &str = "tick_token";

/// The header a Dapr sidecar sends its app token in.
pub const DAPR_API_TOKEN: &str = "dapr-api-token";

/// `Ok` when `req` carries the configured token; otherwise the 401 to answer with (or a 500 when
/// the token is not configured: better refuse every internal call than accept any).
pub fn authorize(req: &Request) -> Result<(), Problem> {
    let expected = config::required(TICK_TOKEN).map_err(|err| {
        crate::log::error("internal", &err.to_string(), &[]);
        Problem::new(500)
    })?;
    let header = |name: &str| req.header(name).and_then(|value| value.as_str());
    let bearer = header("authorization").and_then(|value| value.strip_prefix("Bearer "));
    if presented_token_matches(bearer, header(DAPR_API_TOKEN), &expected) {
        Ok(())
    } else {
        Err(Problem::new(401).with_detail(
            "an internal route needs `Authorization: Bearer <tick_token>` or \
             `dapr-api-token: <tick_token>`",
        ))
    }
}

/// Whether either presented token is the expected one (never when none is configured).
fn presented_token_matches(bearer: Option<&str>, dapr: Option<&str>, expected: &str) -> bool {
    !expected.is_empty()
        && [bearer, dapr]
            .into_iter()
            .flatten()
            .any(|token| same(token.trim().as_bytes(), expected.as_bytes()))
}

/// Compares in time that depends only on the lengths, so the token cannot be guessed byte by
/// byte from response times.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::{presented_token_matches, same};

    #[test]
    fn tokens_match_only_when_equal() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
        assert!(!same(b"", b"a"));
    }

    #[test]
    fn either_the_bearer_or_the_dapr_app_token_authorizes() {
        assert!(presented_token_matches(Some("t0k"), None, "t0k"));
        assert!(presented_token_matches(None, Some("t0k"), "t0k"));
        assert!(presented_token_matches(Some("wrong"), Some("t0k"), "t0k"));
        assert!(!presented_token_matches(Some("wrong"), Some("nope"), "t0k"));
        assert!(!presented_token_matches(None, None, "t0k"));
        assert!(
            !presented_token_matches(Some(""), None, ""),
            "an empty token never matches"
        );
    }
}
