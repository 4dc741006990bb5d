//! HTTP tick routes (`POST /ticks/<component>`), called by a Dapr cron binding or a Kubernetes
//! CronJob where there is no cron trigger. They run the same library function as the cron
//! export, so they must not be open to anyone: the caller sends
//! `Authorization: Bearer <tick_token>`.

use spin_sdk::http::Request;

use crate::config;
use crate::problem::Problem;

/// The variable holding the token.
pub const TICK_TOKEN: &str = "tick_token";

/// `Ok` when `req` carries the configured tick token; otherwise the 401 to answer with (or a
/// 500 when the token is not configured: better refuse every tick than accept any).
pub fn authorize(req: &Request) -> Result<(), Problem> {
    let expected = config::required(TICK_TOKEN).map_err(|err| {
        crate::log::error("tick", &err.to_string(), &[]);
        Problem::new(500)
    })?;
    let presented = req
        .header("authorization")
        .and_then(|value| value.as_str())
        .and_then(|value| value.strip_prefix("Bearer "));
    match presented {
        Some(token) if same(token.trim().as_bytes(), expected.as_bytes()) => Ok(()),
        _ => {
            Err(Problem::new(401).with_detail("a tick needs `Authorization: Bearer <tick_token>`"))
        }
    }
}

/// Compares in time that depends only on the lengths, so the token cannot be guessed byte by
/// byte from response times.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn tokens_match_only_when_equal() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
        assert!(!same(b"", b"a"));
    }
}
