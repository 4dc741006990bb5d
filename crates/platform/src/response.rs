//! Plain JSON responses.

use serde::Serialize;
use spin_sdk::http::Response;

/// The media type of every JSON body the components send.
pub const JSON: &str = "application/json";

/// A response with `status` and `body` serialised as JSON.
///
/// Serialising the types the components send (maps, strings, numbers) cannot fail; if a type
/// ever makes it fail, the client gets an opaque 500 and the cause is logged.
pub fn json(status: u16, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => Response::builder()
            .status(status)
            .header("content-type", JSON)
            .body(bytes)
            .build(),
        Err(err) => {
            eprintln!("response: could not serialise a JSON body: {err}");
            crate::problem::Problem::new(500).into()
        }
    }
}
