//! `probe`: a test component for `spin-host`. It exposes, over HTTP, what the host does for each
//! Spin interface a component can import, so the host's integration tests can check every
//! behaviour against Spin's. The same `.wasm` also exports a Redis handler, so one manifest can
//! bind it both to HTTP routes and to a Redis channel (as the project's real components do).
//!
//! This file is the route table. Every probe answers `200` with a JSON report of what happened
//! (including errors, described by kind and message) unless noted, so the tests can tell "the
//! probe ran and the host said X" from "the host failed the request".
//!
//! # Layout
//!
//! - [`echo`]: any path no probe claims; reports the request as the component saw it (the
//!   `spin-*` headers, the URL, the component's `who` variable).
//! - [`vars`]: `GET /vars/:name` reads a component variable.
//! - [`pg`]: `POST /pg/:probe` exercises `spin:postgres/postgres@4.0.0`.
//! - [`redis_ops`]: `POST /redis/:probe` exercises `fermyon:spin/redis@2.0.0`.
//! - [`outbound`]: `POST /http/send` makes an outbound HTTP request.
//! - [`inbound_redis`]: the Redis trigger's handler.
//! - `GET /panic` traps before responding.

use spin_sdk::http::{Request, Response};
use spin_sdk::{http_component, redis_component};

mod echo;
mod inbound_redis;
mod outbound;
mod pg;
mod redis_ops;
mod reply;
mod vars;

#[http_component]
async fn handle(req: Request) -> Response {
    let path = req.path().to_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["vars", name] => vars::get(name),
        ["pg", probe] => pg::probe(probe, req.body()),
        ["redis", probe] => redis_ops::probe(probe, req.body()),
        ["http", "send"] => outbound::send(req.body()).await,
        ["panic"] => panic!("the probe was asked to trap before responding"),
        _ => echo::echo(&req),
    }
}

#[redis_component]
fn on_message(payload: Vec<u8>) -> anyhow::Result<()> {
    inbound_redis::handle(payload)
}
