//! The `notifier` component: delivers fired reminders in-app, by email (a SendGrid v3
//! compatible API) and by signed webhook (Standard Webhooks), retries failed deliveries from a
//! tick, and serves the notification settings and lists.
//!
//! This file is its trigger table. `spin.toml` binds the one `.wasm` as `notifier` (HTTP: the
//! user routes, Dapr deliveries at `/events/notifier/<topic>`, the tick at `/ticks/notifier`),
//! `notifier-redis` (the `reminders.reminder.fired` channel) and `notifier-cron` (the retry
//! tick every second).
//!
//! # Layout
//!
//! - [`intake`]: fired events in, one notification row per channel out, exactly once.
//! - [`deliver`]: claims due email and webhook deliveries, sends them, records the outcome.
//! - [`routes`]: settings, webhook secret, in-app list, unread count, read marks, history.
//! - [`store`]: every SQL statement.
//! - [`error`]: the handler error type, shared with the other consumers (`platform::error`).

pub mod deliver;
pub use platform::error;
pub mod intake;
pub mod routes;
pub mod store;

use platform::consume::{self, DaprStatus};
use spin_sdk::http::{Method, Request, Response};

/// The HTTP entry point (exported only for WebAssembly, as in `api`).
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
pub async fn handle(req: Request) -> Response {
    let path = req.path().to_owned();
    if path.starts_with("/events/notifier/") && *req.method() == Method::Post {
        return deliver_route(req).await;
    }
    if path == "/ticks/notifier" && *req.method() == Method::Post {
        return tick_route(req).await;
    }
    if path == "/ticks/notifier" && *req.method() == Method::Options {
        // Dapr's start-up probe of its cron binding's route (platform::tick::binding_probe).
        return platform::tick::binding_probe();
    }
    routes::router().handle(req)
}

/// A Dapr delivery of a fired event: `SUCCESS`, `DROP` (not an event) or `RETRY`.
async fn deliver_route(req: Request) -> Response {
    let status = match consume::from_dapr(&req) {
        Err(problem) => {
            platform::log::warn("notifier", &format!("dropping a delivery: {problem}"), &[]);
            DaprStatus::Drop
        }
        Ok(event) => match intake::handle(&event).await {
            Ok(()) => DaprStatus::Success,
            Err(err) => {
                platform::log::error(
                    "notifier",
                    &format!("delivery failed, Dapr will retry: {err}"),
                    &[],
                );
                DaprStatus::Retry
            }
        },
    };
    status.into_response()
}

/// `POST /ticks/notifier` with `Authorization: Bearer <tick_token>`.
async fn tick_route(req: Request) -> Response {
    if let Err(problem) = platform::tick::authorize(&req) {
        return problem.into();
    }
    match deliver::run(None).await {
        Ok(report) => platform::response::json(200, &report),
        Err(err) => err.into(),
    }
}

/// The Redis trigger: one message per fired reminder, or a batch of them, handled in order. An
/// event whose handling fails is left to the dispatcher's redelivery and does not stop the rest.
#[cfg_attr(target_arch = "wasm32", spin_sdk::redis_component)]
pub async fn on_message(message: Vec<u8>) -> Result<(), String> {
    let mut outcome = Ok(());
    for decoded in consume::from_redis(&message) {
        match decoded {
            Ok(event) => {
                if let Err(err) = intake::handle(&event).await {
                    outcome = Err(err.to_string());
                }
            }
            Err(problem) => platform::log::warn(
                "notifier",
                &format!("ignoring a Redis message: {problem}"),
                &[],
            ),
        }
    }
    outcome
}

// The cron trigger (`notifier-cron` in spin.toml) runs the same tick as `POST /ticks/notifier`.
platform::cron_tick!(spin_sdk::http::run(crate::deliver::run(None)));

/// The wall clock.
pub mod clock {
    use domain::time::Timestamp;

    /// Now.
    pub fn now() -> Timestamp {
        Timestamp::from_datetime(std::time::SystemTime::now().into())
    }
}

/// The notifier's Spin variables.
pub mod config {
    /// The mail API, when configured.
    pub struct EmailApi {
        /// `email_api_url`, e.g. `https://api.sendgrid.com`.
        pub api_url: String,
        /// `email_api_key`.
        pub api_key: String,
        /// `email_from`.
        pub from: String,
    }

    fn var(name: &str) -> String {
        platform::config::optional(name)
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// The mail API, or `None` when `email_api_url` is empty (the email channel is off).
    pub fn email() -> Option<EmailApi> {
        let api_url = var("email_api_url");
        (!api_url.trim().is_empty()).then(|| EmailApi {
            api_url,
            api_key: var("email_api_key"),
            from: var("email_from"),
        })
    }

    /// `public_base_url`, for links in emails.
    pub fn base_url() -> String {
        var("public_base_url")
    }

    /// `webhook_allow_private`: whether webhooks may target loopback and private addresses.
    pub fn webhook_allow_private() -> bool {
        platform::config::flag("webhook_allow_private", false).unwrap_or(false)
    }
}
