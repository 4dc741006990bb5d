//! `POST /http/send`: one outbound HTTP request, to a URL from the body, reported as the status
//! and body received or the `wasi:http` error code the host gave
//! (spinframework/spin `crates/factor-outbound-http/src/wasi.rs`: a host not in
//! `allowed_outbound_hosts` is `ErrorCode::HttpRequestDenied`).

use serde_json::{Value, json};
use spin_sdk::http::{ErrorCode, Method, Request, Response, SendError};

use crate::reply;

pub async fn send(body: &[u8]) -> Response {
    let body = match reply::body(body) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let url = match reply::field(&body, "url") {
        Ok(url) => url,
        Err(response) => return response,
    };
    reply::json(200, json!({ "result": fetch(url, body.get("body")).await }))
}

/// Sends `GET url` (or `POST url` with `body`), as the project's components do.
async fn fetch(url: &str, body: Option<&Value>) -> Value {
    let request = match body.and_then(Value::as_str) {
        Some(body) => Request::builder()
            .method(Method::Post)
            .uri(url)
            .header("content-type", "text/plain")
            .header("x-probe", "outbound")
            .body(body.to_owned())
            .build(),
        None => Request::builder()
            .method(Method::Get)
            .uri(url)
            .header("x-probe", "outbound")
            .build(),
    };
    match spin_sdk::http::send::<_, Response>(request).await {
        Ok(response) => json!({
            "ok": {
                "status": response.status(),
                "body": String::from_utf8_lossy(response.body()),
            }
        }),
        Err(err) => json!({ "err": send_error(&err) }),
    }
}

fn send_error(err: &SendError) -> String {
    match err {
        SendError::Http(ErrorCode::HttpRequestDenied) => "HttpRequestDenied".to_owned(),
        SendError::Http(code) => format!("{code:?}"),
        other => format!("{other}"),
    }
}
