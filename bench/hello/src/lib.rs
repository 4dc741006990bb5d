//! The trivial component of the host benchmark: no I/O, a fixed body.

use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn hello(_req: Request) -> anyhow::Result<impl IntoResponse> {
    Ok(Response::builder().status(200).body("hello").build())
}
