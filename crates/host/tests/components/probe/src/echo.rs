//! The fallback route: reports the request exactly as the component received it.

use serde_json::{Map, Value, json};
use spin_sdk::http::{Method, Request, Response};

use crate::reply;

pub fn echo(req: &Request) -> Response {
    let headers: Map<String, Value> = req
        .headers()
        .map(|(name, value)| {
            let value = value.as_str().unwrap_or("<not UTF-8>");
            (name.to_ascii_lowercase(), Value::from(value))
        })
        .collect();
    reply::json(
        200,
        json!({
            "who": spin_sdk::variables::get("who").ok(),
            "method": method_name(req.method()),
            "uri": req.uri(),
            "path": req.path(),
            "query": req.query(),
            "headers": headers,
            "body": String::from_utf8_lossy(req.body()),
        }),
    )
}

fn method_name(method: &Method) -> String {
    match method {
        Method::Get => "GET".into(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Connect => "CONNECT".into(),
        Method::Options => "OPTIONS".into(),
        Method::Trace => "TRACE".into(),
        Method::Patch => "PATCH".into(),
        Method::Other(other) => other.clone(),
    }
}
