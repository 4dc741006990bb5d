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

use domain::event::Consumer;
use platform::consume::{self, Failure};
use platform::problem::Problem;
use spin_sdk::http::{Params, Request, Response};

/// The HTTP entry point (exported only for WebAssembly, as in `api`): the user routes of
/// [`routes`], Dapr's deliveries and the tick.
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
pub fn handle(req: Request) -> Response {
    let mut router = routes::router();
    router.post("/events/notifier/:topic", deliver_route);
    router.post("/ticks/notifier", tick_route);
    router.options("/ticks/notifier", |_: Request, _: Params| {
        platform::tick::binding_probe()
    });
    router.any("/*", |req: Request, _: Params| {
        Problem::not_found().with_detail(format!("No route for {}.", req.path()))
    });
    router.handle(req)
}

/// One fired event, taken in ([`intake::handle`]).
fn take_in(event: &domain::event::CloudEvent) -> Result<(), Failure> {
    spin_sdk::http::run(intake::handle(event)).map_err(Failure::transient)
}

/// A Dapr delivery of a fired event ([`consume::dapr_route`]: token, topic, Dapr's reply).
fn deliver_route(req: Request, params: Params) -> Response {
    consume::dapr_route(Consumer::Notifier, &req, &params, take_in)
}

/// `POST /ticks/notifier`: one retry tick ([`platform::tick::route`]).
fn tick_route(req: Request, _: Params) -> Response {
    platform::tick::route("notifier", &req, || spin_sdk::http::run(deliver::run(None)))
}

/// The Redis trigger: one message per fired reminder, or a batch of them, handled in order
/// ([`consume::redis_message`]).
#[cfg_attr(target_arch = "wasm32", spin_sdk::redis_component)]
pub fn on_message(message: Vec<u8>) -> Result<(), String> {
    consume::redis_message(Consumer::Notifier, &message, take_in)
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
