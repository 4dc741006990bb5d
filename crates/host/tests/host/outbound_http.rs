//! Outbound HTTP (`wasi:http/outgoing-handler`): `allowed_outbound_hosts`, service chaining to
//! `http://<component>.spin.internal` (including private components), and self requests.
//!
//! References (spinframework/spin): `crates/factor-outbound-http/src/wasi.rs`
//! (`prepare_request`: a URL not allowed is `ErrorCode::HttpRequestDenied`; a relative URL is a
//! self request, allowed by `http://self`), `crates/outbound-networking-config/src/
//! allowed_hosts.rs` (scheme, host and port must all match an entry; templates allowed),
//! `crates/trigger-http/src/outbound_http.rs` (chained requests are handled in-process with
//! `RouteMatch::synthetic` and client address `0.0.0.0:0`), `crates/http/src/routes.rs`
//! (`synthetic`: matched route `/...`, the whole path as path info).

use serde_json::{Value, json};

use crate::support::{Manifest, ProbeIds, Recorder, RunningApp, start};

/// Asks the probe to send a request; returns `{"ok": {"status", "body"}}` or `{"err": code}`.
async fn send(app: &RunningApp, request: Value) -> Value {
    let reply = app.post("/http/send", request).await.ok_json();
    reply["result"].clone()
}

#[tokio::test]
async fn only_allowed_hosts_are_reached() {
    let allowed = Recorder::start().await;
    let other = Recorder::start().await;
    let manifest = Manifest::from_app("probe.toml")
        .isolated_probe(&ProbeIds::new("http"))
        .default("echo_port", &allowed.port.to_string())
        .write();
    let app = start(&manifest).await;

    // `http://127.0.0.1:{{ echo_port }}` (a template) allows this origin.
    let result = send(
        &app,
        json!({ "url": format!("http://127.0.0.1:{}/path?q=1", allowed.port) }),
    )
    .await;
    assert_eq!(
        result,
        json!({ "ok": { "status": 201, "body": "recorded GET /path?q=1" } })
    );
    let result = send(
        &app,
        json!({ "url": format!("http://127.0.0.1:{}/submit", allowed.port), "body": "payload" }),
    )
    .await;
    assert_eq!(
        result,
        json!({ "ok": { "status": 201, "body": "recorded POST /submit" } })
    );
    let received = allowed.requests();
    assert_eq!(received.len(), 2, "{received:?}");
    assert_eq!(received[1].body, "payload");
    assert_eq!(received[0].headers.get("x-probe").unwrap(), "outbound");

    // Another port, another scheme, or another name for the same address: each is a different
    // origin, not in the list → `HttpRequestDenied`, and nothing is sent.
    for url in [
        format!("http://127.0.0.1:{}/denied", other.port),
        format!("https://127.0.0.1:{}/denied", allowed.port),
        format!("http://localhost:{}/denied", allowed.port),
    ] {
        let result = send(&app, json!({ "url": url })).await;
        assert_eq!(result, json!({ "err": "HttpRequestDenied" }), "GET {url}");
    }
    assert!(
        other.requests().is_empty(),
        "a denied request was sent: {:?}",
        other.requests()
    );
    assert_eq!(
        allowed.requests().len(),
        2,
        "a denied request was sent: {:?}",
        allowed.requests()
    );
}

#[tokio::test]
async fn service_chaining_reaches_a_private_component_in_process() {
    let app = start(
        &Manifest::from_app("probe.toml")
            .isolated_probe(&ProbeIds::new("chain"))
            .write(),
    )
    .await;

    let result = send(
        &app,
        json!({ "url": "http://probe-private.spin.internal/chained/path?x=1" }),
    )
    .await;
    assert_eq!(result["ok"]["status"], 200, "{result}");
    let echo: Value = serde_json::from_str(result["ok"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(echo["who"], "probe-private", "{echo}");
    assert_eq!(echo["path"], "/chained/path");
    assert_eq!(echo["query"], "x=1");
    // RouteMatch::synthetic: the whole path is the path info, under a `/...` route.
    let headers = &echo["headers"];
    assert_eq!(headers["spin-path-info"], "/chained/path", "{headers}");
    assert_eq!(headers["spin-matched-route"], "/...");
    assert_eq!(headers["spin-raw-component-route"], "/...");
    assert_eq!(headers["spin-component-route"], "");
    assert_eq!(headers["spin-client-addr"], "0.0.0.0:0");
    assert_eq!(
        headers["x-probe"], "outbound",
        "the caller's headers are passed on"
    );

    // The chained instance is the private component, with its own variables ...
    let result = send(
        &app,
        json!({ "url": "http://probe-private.spin.internal/vars/greeting" }),
    )
    .await;
    assert_eq!(
        result["ok"]["status"], 404,
        "probe-private declares no `greeting`: {result}"
    );
    // ... and its own (empty) allowed_outbound_hosts: it cannot chain back.
    let inner = json!({ "url": "http://probe.spin.internal/anything" }).to_string();
    let result = send(
        &app,
        json!({ "url": "http://probe-private.spin.internal/http/send", "body": inner }),
    )
    .await;
    assert_eq!(result["ok"]["status"], 200, "{result}");
    let inner: Value = serde_json::from_str(result["ok"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(inner["result"], json!({ "err": "HttpRequestDenied" }));
}

#[tokio::test]
async fn chaining_to_a_component_not_in_allowed_outbound_hosts_is_denied() {
    let app = start(
        &Manifest::from_app("probe.toml")
            .isolated_probe(&ProbeIds::new("chain"))
            .write(),
    )
    .await;
    // The probe allows only `http://probe-private.spin.internal`.
    let result = send(&app, json!({ "url": "http://probe-redis.spin.internal/" })).await;
    assert_eq!(result, json!({ "err": "HttpRequestDenied" }));
}

#[tokio::test]
async fn a_relative_url_is_a_request_to_the_app_itself() {
    let app = start(
        &Manifest::from_app("probe.toml")
            .isolated_probe(&ProbeIds::new("self"))
            .write(),
    )
    .await;
    // `http://self` allows relative URLs; they are routed like any inbound request.
    let result = send(&app, json!({ "url": "/self/path?y=2" })).await;
    assert_eq!(result["ok"]["status"], 200, "{result}");
    let echo: Value = serde_json::from_str(result["ok"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(echo["who"], "probe");
    assert_eq!(echo["path"], "/self/path");
    assert_eq!(echo["query"], "y=2");

    // probe-private has no `http://self`: the same request from it is denied.
    let inner = json!({ "url": "/self/path" }).to_string();
    let result = send(
        &app,
        json!({ "url": "http://probe-private.spin.internal/http/send", "body": inner }),
    )
    .await;
    let inner: Value = serde_json::from_str(result["ok"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(inner["result"], json!({ "err": "HttpRequestDenied" }));
}
