//! The `dispatcher` component: it publishes what writers put in the outbox, makes sure every
//! expected consumer answers with a receipt, and serves the operator routes around that.
//!
//! This file is the route and trigger table. `spin.toml` binds it twice: as `dispatcher` (HTTP:
//! the tick route, the admin routes, `/metrics`) and as `dispatcher-cron` (the cron trigger,
//! every second, for `spin up` and the test host; on SpinKube a Dapr cron binding calls
//! `POST /ticks/dispatcher` instead).
//!
//! # Layout
//!
//! - [`tick`]: one tick: publish due outbox rows, then redeliver to consumers whose receipt is
//!   overdue, turning those out of attempts into dead letters.
//! - [`admin`]: `GET /api/admin/dead-letters`, `POST /api/admin/dead-letters/{id}/retry`,
//!   `POST /api/admin/replay` (admin role only).
//! - [`metrics`]: `GET /metrics`, Prometheus text format, every value read from the database.
//! - [`store`]: the SQL.

use platform::problem::Problem;
use spin_sdk::http::{Params, Request, Response, Router};
#[cfg(target_arch = "wasm32")]
use spin_sdk::http_component;

pub mod admin;
pub mod metrics;
pub mod store;
pub mod tick;

/// The HTTP entry point (exported only for WebAssembly, as in `api`).
#[cfg_attr(target_arch = "wasm32", http_component)]
pub fn handle(req: Request) -> Response {
    let mut router = Router::new();
    router.post("/ticks/dispatcher", tick::route);
    router.options("/ticks/dispatcher", |_: Request, _: Params| {
        platform::tick::binding_probe()
    });
    router.get("/api/admin/dead-letters", admin::dead_letters);
    router.post("/api/admin/dead-letters/:id/retry", admin::retry);
    router.post("/api/admin/replay", admin::replay);
    router.get("/metrics", metrics::route);
    router.any("/*", |req: Request, _: Params| {
        Problem::not_found().with_detail(format!("No route for {} {}.", req.method(), req.path()))
    });
    router.handle(req)
}

// The cron trigger (`dispatcher-cron` in spin.toml) runs the same tick as `POST /ticks/dispatcher`.
platform::cron_tick!(crate::tick::run());
