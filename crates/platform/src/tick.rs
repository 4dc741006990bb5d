//! HTTP tick routes (`POST /ticks/<component>`), called by a Dapr cron binding or a Kubernetes
//! CronJob where there is no cron trigger. They run the same library function as the cron
//! export, so they must not be open to anyone: the caller sends
//! `Authorization: Bearer <tick_token>` (a CronJob, an operator) or `dapr-api-token: <tick_token>`.
//!
//! The second form is the only way a Dapr sidecar authenticates its calls to the app: with the
//! `dapr.io/app-token-secret` annotation it adds the secret's token to every request it makes,
//! input-binding calls included, and it cannot be told to send an `Authorization` header. The
//! manifests make that secret the same value as `tick_token`
//! (<https://docs.dapr.io/operations/security/app-api-token/>).

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
    let header = |name: &str| req.header(name).and_then(|value| value.as_str());
    let bearer = header("authorization").and_then(|value| value.strip_prefix("Bearer "));
    if presented_token_matches(bearer, header(DAPR_API_TOKEN), &expected) {
        Ok(())
    } else {
        Err(Problem::new(401).with_detail(
            "a tick needs `Authorization: Bearer <tick_token>` or `dapr-api-token: <tick_token>`",
        ))
    }
}

/// The header a Dapr sidecar sends its app token in.
pub const DAPR_API_TOKEN: &str = "dapr-api-token";

/// Whether either presented token is the expected one (never when none is configured).
fn presented_token_matches(bearer: Option<&str>, dapr: Option<&str>, expected: &str) -> bool {
    !expected.is_empty()
        && [bearer, dapr]
            .into_iter()
            .flatten()
            .any(|token| same(token.trim().as_bytes(), expected.as_bytes()))
}

/// `OPTIONS /ticks/<component>`: Dapr asks this of every input binding's route when the sidecar
/// starts, and only delivers the binding's events to an app that answers something other than
/// 404. It reveals nothing, so it needs no token.
pub fn binding_probe() -> spin_sdk::http::Response {
    spin_sdk::http::Response::builder()
        .status(204)
        .header("allow", "POST, OPTIONS")
        .build()
}

/// Exports a component's tick to the cron trigger (`fermyon:spin-cron`, bound from the
/// workspace's `wit/spin-cron` with `wit-bindgen`, which the component must depend on):
/// `platform::cron_tick!(crate::tick::run());` runs the expression on every tick, and an `Err`
/// (anything `Display`) fails that tick. Only on WebAssembly: natively there is no export.
///
/// The same function serves the authenticated HTTP tick route ([`authorize`]), so the cron
/// trigger (`spin up`, the test host) and Dapr's cron binding (clusters) run one code path.
#[macro_export]
macro_rules! cron_tick {
    ($run:expr) => {
        #[cfg(target_arch = "wasm32")]
        mod cron {
            //! The cron trigger's export, from `platform::cron_tick!`.
            wit_bindgen::generate!({ world: "spin-cron", path: "../../wit/spin-cron" });

            struct Tick;

            impl Guest for Tick {
                fn handle_cron_event(_: Metadata) -> Result<(), Error> {
                    $run.map(|_| ()).map_err(|err| Error::Other(err.to_string()))
                }
            }

            export!(Tick);
        }
    };
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
