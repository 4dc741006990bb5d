//! `GET /api/openapi.json`: the OpenAPI 3.1 description of every route of this component.
//!
//! The document is a file beside the crate (`components/api/openapi.json`), embedded at build
//! time and served as it is. Two end-to-end tests keep it true (crates/e2e/tests/tasks_openapi.rs):
//! one compares its operations with the route table in `lib.rs`, the other runs schemathesis
//! against the live app and fails on any server error or any response the document does not allow.

use spin_sdk::http::{Params, Request, Response};

/// The document, as served.
pub const DOCUMENT: &str = include_str!("../openapi.json");

/// `GET /api/openapi.json`.
pub fn document(_: Request, _: Params) -> Response {
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(DOCUMENT)
        .build()
}
