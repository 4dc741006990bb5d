//! `GET /vars/:name`: `spin_sdk::variables::get`, with each error kind mapped to its own status
//! so a test can tell them apart.

use serde_json::json;
use spin_sdk::http::Response;
use spin_sdk::variables::{self, Error};

use crate::reply;

pub fn get(name: &str) -> Response {
    match variables::get(name) {
        Ok(value) => reply::json(200, json!({ "value": value })),
        Err(Error::Undefined(message)) => {
            reply::json(404, json!({ "error": "undefined", "message": message }))
        }
        Err(Error::InvalidName(message)) => {
            reply::json(400, json!({ "error": "invalid_name", "message": message }))
        }
        Err(Error::Provider(message)) => {
            reply::json(502, json!({ "error": "provider", "message": message }))
        }
        Err(Error::Other(message)) => {
            reply::json(500, json!({ "error": "other", "message": message }))
        }
    }
}
