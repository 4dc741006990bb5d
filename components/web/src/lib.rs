//! The `web` component: serves the web UI, a React single-page app built from `web/` by Vite
//! and embedded in this `.wasm` at build time (see `build.rs`).
//!
//! `spin.toml` routes `/...` here; Spin's router prefers the longer `/api/...` prefix and the
//! exact `/health` and `/ready`, so the API keeps those. Every other path is either a built
//! file or a client-side route, which gets the app shell (`index.html`).
//!
//! # Layout
//!
//! - [`assets`]: the embedded files and their precompressed variants.
//! - [`encoding`]: choosing brotli, gzip or identity from `Accept-Encoding`.
//! - [`serve`]: the answer to a request: fallback, caching headers, ETags, 304s.

pub mod assets;
pub mod encoding;
pub mod serve;

use spin_sdk::http::{Request, Response};
#[cfg(target_arch = "wasm32")]
use spin_sdk::http_component;

/// The component's entry point, exported only for WebAssembly (natively the export's symbol
/// cannot be linked into a cdylib).
#[cfg_attr(target_arch = "wasm32", http_component)]
pub fn handle(req: Request) -> Response {
    let method = req.method().to_string();
    let header = |name: &str| req.header(name).and_then(|v| v.as_str());
    let reply = serve::respond(
        assets::ASSETS,
        serve::FileRequest {
            method: &method,
            path: req.path(),
            accept_encoding: header("accept-encoding"),
            if_none_match: header("if-none-match"),
        },
    );
    let mut response = Response::builder();
    response.status(reply.status);
    for (name, value) in &reply.headers {
        response.header(*name, value.as_str());
    }
    response.body(reply.body.to_vec()).build()
}
