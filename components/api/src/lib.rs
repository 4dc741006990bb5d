//! The `api` component: the HTTP API that the web UI and other clients use.
//!
//! This file is the route table; each handler lives in the module named after what it serves.
//! `spin.toml` sends `/api/...`, `/health` and `/ready` here, so every other path under `/api`
//! that no route claims gets a problem+json 404 rather than the router's plain-text one.
//!
//! # Layout
//!
//! - [`health`]: liveness (`GET /health`, no I/O) and readiness (`GET /ready`, checks
//!   PostgreSQL and, when the event bus is Redis, Redis).

use platform::problem::Problem;
use spin_sdk::http::{Params, Request, Response, Router};
#[cfg(target_arch = "wasm32")]
use spin_sdk::http_component;

pub mod health;

/// The component's entry point. It is exported only when built for WebAssembly: natively (for
/// `cargo test`) the export's `wasi:http/...#handle` symbol name cannot be linked into a cdylib.
#[cfg_attr(target_arch = "wasm32", http_component)]
pub fn handle(req: Request) -> Response {
    let mut router = Router::new();
    router.get("/health", health::liveness);
    router.get("/ready", health::readiness);
    router.any("/health", |_: Request, _: Params| {
        Problem::method_not_allowed("GET, HEAD")
    });
    router.any("/ready", |_: Request, _: Params| {
        Problem::method_not_allowed("GET, HEAD")
    });
    router.any("/api", not_found);
    router.any("/api/*", not_found);
    router.handle(req)
}

fn not_found(req: Request, _: Params) -> Problem {
    Problem::not_found().with_detail(format!("No route for {}.", req.path()))
}
