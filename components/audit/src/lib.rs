//! The `audit` component: every event, stored once in `events`, readable through
//! `/api/audit/events`, deleted after `audit_retention_days`.
//!
//! This file is the route and trigger table. `spin.toml` binds the same `.wasm` three times
//! (the event conventions in docs/architecture.md): `audit` (HTTP: the log API, Dapr deliveries
//! at `POST /events/audit/<topic>`, the retention tick at `POST /ticks/audit`), `audit-redis`
//! (one Redis trigger per topic) and `audit-cron` (the daily retention tick).
//!
//! # Layout
//!
//! - [`record`]: storing a delivered event, exactly once (receipt and row in one transaction).
//! - [`log`]: `GET /api/audit/events` (filters, keyset cursor) and `GET /api/audit/events/{id}`.
//! - [`retention`]: the daily tick deleting events older than the retention period.
//! - [`store`]: the SQL.

use platform::problem::Problem;
use spin_sdk::http::{Params, Request, Response, Router};
#[cfg(target_arch = "wasm32")]
use spin_sdk::{http_component, redis_component};

pub mod log;
pub mod record;
pub mod retention;
pub mod store;

/// The HTTP entry point (exported only for WebAssembly, as in `api`).
#[cfg_attr(target_arch = "wasm32", http_component)]
pub fn handle(req: Request) -> Response {
    let mut router = Router::new();
    router.get("/api/audit/events", log::list);
    router.get("/api/audit/events/:id", log::one);
    router.post("/events/audit/:topic", record::from_dapr);
    router.post("/ticks/audit", retention::route);
    router.options("/ticks/audit", |_: Request, _: Params| {
        platform::tick::binding_probe()
    });
    router.any("/*", |req: Request, _: Params| {
        Problem::not_found().with_detail(format!("No route for {} {}.", req.method(), req.path()))
    });
    router.handle(req)
}

/// The Redis entry point: one message is one CloudEvent or a batch of them. An error makes the
/// host log it and drop the message; the dispatcher redelivers what has no receipt.
#[cfg_attr(target_arch = "wasm32", redis_component)]
pub fn on_message(payload: Vec<u8>) -> anyhow::Result<()> {
    record::from_redis(&payload).map_err(|err| anyhow::anyhow!(err))
}

// The cron trigger (`audit-cron` in spin.toml) runs the same tick as `POST /ticks/audit`.
platform::cron_tick!(crate::retention::run());
