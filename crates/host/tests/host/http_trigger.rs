//! The HTTP trigger: routing, the `spin-*` request headers, well-known paths, 404 and 500.
//!
//! References (spinframework/spin): `crates/http/src/routes.rs` (route syntax and precedence,
//! duplicates, synthetic matches), `crates/trigger-http/src/headers.rs` (the headers a component
//! sees), `crates/trigger-http/src/server.rs` (`handle`, `set_req_uri`, `not_found`,
//! `internal_error`) and `crates/trigger-http/src/wasi.rs` (a guest that fails before
//! responding).

use serde_json::Value;

use crate::support::{Manifest, start};

/// The `spin-*` header `name` as the component saw it (the probe echoes its request).
fn header<'a>(echo: &'a Value, name: &str) -> &'a str {
    echo["headers"][name]
        .as_str()
        .unwrap_or_else(|| panic!("the component did not receive header {name}: {echo}"))
}

#[tokio::test]
async fn routes_match_exact_then_longest_wildcard_prefix() {
    let app = start(&Manifest::from_app("routes.toml").write()).await;

    // routes.rs `Router::route`: "components with matching exact routes take precedence followed
    // by matching wildcard patterns with the longest matching prefix".
    let cases = [
        ("/", "root"),
        ("/exact", "exact"),
        ("/items/42", "param"),
        ("/users/7/posts/9/comments/3", "params-wild"),
        ("/wild", "wild"),
        ("/wild/", "wild"),
        ("/wild/a/b", "wild"),
        ("/wild/deeper", "deeper"),
        ("/wild/deeper/x/y", "deeper"),
        ("/wild/exact", "wild-exact"),
        ("/wild/exact/x", "wild"),
    ];
    for (path, expected) in cases {
        let echo = app.get(path).await.ok_json();
        assert_eq!(
            echo["who"], expected,
            "GET {path} went to the wrong component: {echo}"
        );
    }

    // An exact or `:param` route matches only its own segments; nothing else matches these, so
    // the router answers with an empty 404 (server.rs `not_found`).
    for path in [
        "/exact/more",
        "/items/42/more",
        "/items",
        "/nowhere",
        "/wilder",
    ] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, 404, "GET {path}: {reply:?}");
        assert_eq!(
            reply.body, "",
            "GET {path}: a 404 from the router has no body"
        );
    }
}

#[tokio::test]
async fn components_see_spin_headers_and_an_absolute_uri() {
    let app = start(&Manifest::from_app("routes.toml").write()).await;
    let host = app.addr.to_string();

    // headers.rs `compute_default_headers` for a trailing wildcard route `/wild/...`.
    let echo = app.get("/wild/a/b?q=1&r=two").await.ok_json();
    assert_eq!(
        header(&echo, "spin-full-url"),
        format!("http://{host}/wild/a/b?q=1&r=two")
    );
    assert_eq!(header(&echo, "spin-path-info"), "/a/b");
    assert_eq!(header(&echo, "spin-matched-route"), "/wild/...");
    assert_eq!(header(&echo, "spin-raw-component-route"), "/wild/...");
    assert_eq!(header(&echo, "spin-component-route"), "/wild");
    assert_eq!(header(&echo, "spin-base-path"), "/");
    let client_addr = header(&echo, "spin-client-addr");
    assert!(
        client_addr.starts_with("127.0.0.1:") && client_addr.len() > "127.0.0.1:".len(),
        "spin-client-addr is the peer's socket address, got {client_addr:?}"
    );
    // The WASI executor passes only the SPIN_* names (wasi.rs `prepare_request` uses keys[0]),
    // lower-cased with `-` (headers.rs `prepare_header_key`), never the Wagi X_* ones.
    assert!(
        echo["headers"].get("x-full-url").is_none(),
        "Spin does not send the Wagi header names to a WASI component: {echo}"
    );
    // server.rs `set_req_uri`: the URI is made absolute from the server scheme and `Host`.
    assert_eq!(echo["uri"], format!("http://{host}/wild/a/b?q=1&r=two"));
    assert_eq!(echo["path"], "/wild/a/b");
    assert_eq!(echo["query"], "q=1&r=two");

    // routes.rs `trailing_wildcard`: `/wild/...` on `/wild` gives "" and on `/wild/` gives "/".
    assert_eq!(
        header(&app.get("/wild").await.ok_json(), "spin-path-info"),
        ""
    );
    assert_eq!(
        header(&app.get("/wild/").await.ok_json(), "spin-path-info"),
        "/"
    );

    // An exact route: no path info, the route itself as component route.
    let echo = app.get("/exact").await.ok_json();
    assert_eq!(header(&echo, "spin-path-info"), "");
    assert_eq!(header(&echo, "spin-matched-route"), "/exact");
    assert_eq!(header(&echo, "spin-component-route"), "/exact");

    // Named segments become SPIN_PATH_MATCH_<NAME> (headers.rs, `named_wildcards`).
    let echo = app.get("/items/42").await.ok_json();
    assert_eq!(header(&echo, "spin-path-match-id"), "42");
    assert_eq!(header(&echo, "spin-matched-route"), "/items/:id");
    assert_eq!(header(&echo, "spin-component-route"), "/items/:id");
    assert_eq!(header(&echo, "spin-path-info"), "");

    // headers.rs `test_default_headers_with_named_wildcards`: both at once.
    let echo = app.get("/users/7/posts/9/comments/3").await.ok_json();
    assert_eq!(header(&echo, "spin-path-match-user"), "7");
    assert_eq!(header(&echo, "spin-path-match-post"), "9");
    assert_eq!(header(&echo, "spin-path-info"), "/comments/3");
    assert_eq!(
        header(&echo, "spin-matched-route"),
        "/users/:user/posts/:post/..."
    );
    assert_eq!(
        header(&echo, "spin-component-route"),
        "/users/:user/posts/:post"
    );
}

#[tokio::test]
async fn request_method_headers_and_body_reach_the_component() {
    let app = start(&Manifest::from_app("routes.toml").write()).await;
    let response = reqwest::Client::new()
        .put(app.url("/wild/upload"))
        .header("x-custom", "kept")
        .body("the body")
        .send()
        .await
        .expect("PUT");
    assert_eq!(response.status(), 200);
    let echo: Value = response.json().await.expect("JSON echo");
    assert_eq!(echo["method"], "PUT");
    assert_eq!(echo["body"], "the body");
    assert_eq!(echo["headers"]["x-custom"], "kept");
    // `host` is one of the headers wasmtime-wasi-http keeps from guests, incoming requests
    // included (`DEFAULT_FORBIDDEN_HEADERS`, stripped by `FieldMap::new_immutable`); the
    // authority reaches the component in the URI instead.
    assert!(echo["headers"].get("host").is_none(), "{echo}");
    assert_eq!(echo["uri"], app.url("/wild/upload"));
}

#[tokio::test]
async fn well_known_health_answers_ok_without_a_component() {
    // server.rs `handle`: `/.well-known/spin/health` → 200 "OK", other well-known paths → 404,
    // even when a catch-all route exists.
    let app = start(&Manifest::from_app("probe.toml").write()).await;
    let reply = app.get("/.well-known/spin/health").await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "OK"));
    let reply = app.get("/.well-known/spin/nothing-here").await;
    assert_eq!(reply.status, 404, "{reply:?}");
    assert_eq!(reply.body, "");
}

#[tokio::test]
async fn a_guest_that_traps_before_responding_gives_an_empty_500() {
    // server.rs `respond_wasm_component` → `internal_error(None, ..)`: status 500, empty body.
    let app = start(&Manifest::from_app("probe.toml").write()).await;
    let reply = app.get("/panic").await;
    assert_eq!(reply.status, 500, "{reply:?}");
    assert_eq!(reply.body, "", "Spin's 500 for a failed guest has no body");
    // The next request gets a fresh instance and works.
    assert_eq!(app.get("/after-panic").await.ok_json()["who"], "probe");
}

#[tokio::test]
async fn a_duplicate_route_goes_to_the_later_component_and_private_routes_are_not_public() {
    // routes.rs `Router::build`: routes are keyed by route in an IndexMap, so a later duplicate
    // replaces the earlier one (server.rs logs it and carries on).
    let manifest = Manifest::from_toml(
        r#"
        spin_manifest_version = 2
        [application]
        name = "duplicates"
        [[trigger.http]]
        route = "/dup"
        component = "first"
        [[trigger.http]]
        route = "/dup"
        component = "second"
        [[trigger.http]]
        route = { private = true }
        component = "hidden"
        [component.first]
        source = "probe.wasm"
        variables = { who = "first" }
        [component.second]
        source = "probe.wasm"
        variables = { who = "second" }
        [component.hidden]
        source = "probe.wasm"
        variables = { who = "hidden" }
        "#,
    )
    .write();
    let app = start(&manifest).await;
    assert_eq!(app.get("/dup").await.ok_json()["who"], "second");
    // A private component has no route (routes.rs filters `private = true` out of the router).
    for path in ["/hidden", "/", "/...", "/private"] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, 404, "GET {path}: {reply:?}");
    }
}

#[tokio::test]
async fn private_false_is_rejected_at_load() {
    // routes.rs `Router::build`: "route must be a string pattern or '{ private = true }':
    // component '<id>' has { private = false }".
    let manifest = Manifest::from_toml(
        r#"
        spin_manifest_version = 2
        [application]
        name = "not-private"
        [[trigger.http]]
        route = { private = false }
        component = "open"
        [component.open]
        source = "probe.wasm"
        "#,
    )
    .write();
    let err = match crate::support::start_with(&manifest, None).await {
        Ok(_) => panic!("an app with `route = {{ private = false }}` must not start"),
        Err(err) => format!("{err:#}"),
    };
    assert!(
        err.contains("private = true") && err.contains("open"),
        "the error should say a route must be a pattern or `{{ private = true }}` and name the component: {err}"
    );
}
