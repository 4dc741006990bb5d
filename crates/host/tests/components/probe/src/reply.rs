//! JSON replies and request bodies.

use serde_json::Value;
use spin_sdk::http::Response;

/// A JSON response with `status`.
pub fn json(status: u16, value: Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(value.to_string())
        .build()
}

/// The request body as a JSON object, or a `400` saying why it is not one.
pub fn body(bytes: &[u8]) -> Result<Value, Response> {
    serde_json::from_slice(bytes).map_err(|err| {
        json(
            400,
            serde_json::json!({ "error": "bad_request", "message": err.to_string() }),
        )
    })
}

/// A string field of a JSON body, or a `400` naming it.
pub fn field<'a>(body: &'a Value, name: &str) -> Result<&'a str, Response> {
    body.get(name).and_then(Value::as_str).ok_or_else(|| {
        json(
            400,
            serde_json::json!({ "error": "bad_request", "message": format!("missing string field `{name}`") }),
        )
    })
}
