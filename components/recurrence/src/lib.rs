//! The `recurrence` component: generation of recurring task instances.
//!
//! `api` generates a pattern's first horizon in the same transaction as the change, so
//! instances exist when the user's request returns. This component keeps them coming:
//! - its daily tick ([`tick`]) extends every fixed pattern's rolling horizon
//!   (`recurrence_horizon_days`, default 30), claiming patterns with `FOR UPDATE SKIP LOCKED`
//!   so any number of replicas can run it;
//! - on `recurring.pattern.created`/`updated` it runs the same pass (a no-op when `api` has
//!   already made the instances: the unique (pattern, occurrence) key);
//! - on `tasks.task.completed` of an after-completion instance it makes the next instance.
//!
//! This file is the route and trigger table. `spin.toml` binds the same `.wasm` three times
//! (the event conventions in docs/architecture.md): `recurrence` (HTTP: Dapr deliveries at
//! `POST /events/recurrence/<topic>`, the tick at `POST /ticks/recurrence`),
//! `recurrence-redis` (one Redis trigger per consumed topic) and `recurrence-cron` (the tick).
//!
//! # Layout
//!
//! - [`deliver`]: applying a delivered event exactly once (receipt and effects in one
//!   transaction).
//! - [`tick`]: the daily horizon pass.

use platform::problem::Problem;
use spin_sdk::http::{Params, Request, Response, Router};
#[cfg(target_arch = "wasm32")]
use spin_sdk::{http_component, redis_component};

pub mod deliver;
pub mod tick;

/// The HTTP entry point (exported only for WebAssembly, as in `api`).
#[cfg_attr(target_arch = "wasm32", http_component)]
pub fn handle(req: Request) -> Response {
    let mut router = Router::new();
    router.post("/events/recurrence/:topic", deliver::from_dapr);
    router.post("/ticks/recurrence", tick::route);
    router.options("/ticks/recurrence", |_: Request, _: Params| {
        platform::tick::binding_probe()
    });
    router.any("/*", |req: Request, _: Params| {
        Problem::not_found().with_detail(format!("No route for {} {}.", req.method(), req.path()))
    });
    router.handle(req)
}

/// The Redis entry point: one message is one CloudEvent. An error makes the host log it and
/// drop the message; the dispatcher redelivers it, since no receipt was recorded.
#[cfg_attr(target_arch = "wasm32", redis_component)]
pub fn on_message(payload: Vec<u8>) -> anyhow::Result<()> {
    deliver::from_redis(&payload).map_err(|err| anyhow::anyhow!(err))
}

// The cron trigger (`recurrence-cron` in spin.toml) runs the same tick as `POST /ticks/recurrence`.
platform::cron_tick!(crate::tick::run());
