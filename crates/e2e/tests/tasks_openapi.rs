//! The OpenAPI document (`components/api/openapi.json`, served at `GET /api/openapi.json`) is
//! kept true two ways: its operations are exactly the routes `components/api/src/lib.rs`
//! registers, and schemathesis, run against the live app, finds no server error and no response
//! the document does not allow.
//!
//! schemathesis is a Python tool: `cargo xtask test` installs it into `target/py-tools` (a venv);
//! set `SCHEMATHESIS` to use another `st`. Without it the second test fails, on purpose: a
//! contract test that silently skips proves nothing.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use e2e::{TestApp, TestDb, workspace_root};
use reqwest::Client;
use serde_json::{Value, json};

const HTTP_METHODS: &[&str] = &["get", "head", "post", "put", "patch", "delete"];

/// `(METHOD, /path/{param})` for every `router.<method>("<path>", ...)` in the api's route
/// table. `any` routes are the 404/405 fallbacks, not operations.
fn routes() -> BTreeSet<(String, String)> {
    let source = std::fs::read_to_string(workspace_root().join("components/api/src/lib.rs"))
        .expect("components/api/src/lib.rs");
    // Only the table itself, not the tests below it, which build routers of their own.
    let table = source.split("#[cfg(test)]").next().unwrap();
    let mut routes = BTreeSet::new();
    for (i, _) in table.match_indices("router.") {
        let rest = &table[i + "router.".len()..];
        let Some(open) = rest.find('(') else { continue };
        let method = &rest[..open];
        if !HTTP_METHODS.contains(&method) {
            continue;
        }
        let args = rest[open + 1..].trim_start();
        let Some(args) = args.strip_prefix('"') else {
            continue;
        };
        let path = &args[..args.find('"').unwrap()];
        let path: Vec<String> = path
            .split('/')
            .map(|segment| match segment.strip_prefix(':') {
                Some(name) => format!("{{{name}}}"),
                None => segment.to_owned(),
            })
            .collect();
        routes.insert((method.to_uppercase(), path.join("/")));
    }
    routes
}

fn document() -> Value {
    let text = std::fs::read_to_string(workspace_root().join("components/api/openapi.json"))
        .expect("components/api/openapi.json");
    serde_json::from_str(&text).expect("openapi.json is JSON")
}

fn operations(document: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in HTTP_METHODS {
            if item.get(*method).is_some() {
                operations.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    operations
}

#[test]
fn the_document_describes_exactly_the_routes_of_the_route_table() {
    let document = document();
    assert_eq!(document["openapi"], "3.1.0");
    let routes = routes();
    assert!(routes.contains(&("PATCH".to_owned(), "/api/tasks/{id}/toggle".to_owned())));
    let operations = operations(&document);
    let undocumented: Vec<_> = routes.difference(&operations).collect();
    let unrouted: Vec<_> = operations.difference(&routes).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routes missing from components/api/openapi.json: {undocumented:?}; \
         operations with no route: {unrouted:?}"
    );
}

fn schemathesis() -> PathBuf {
    match std::env::var_os("SCHEMATHESIS") {
        Some(path) => PathBuf::from(path),
        None => workspace_root().join("target/py-tools/bin/st"),
    }
}

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_response_outside_the_document() {
    let st = schemathesis();
    assert!(
        st.is_file(),
        "schemathesis is not installed at {} (`cargo xtask test` installs it; or set SCHEMATHESIS)",
        st.display()
    );
    let db = TestDb::create().await.unwrap();
    let app = TestApp::new(&db.url());
    app.migrate().await.unwrap();
    let base = app.serve(&["api"]).await.unwrap();
    let client = Client::new();

    // The served document is the file.
    let served: Value = client
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(served, document());

    // A user with a few tasks, so that reads and changes reach real rows too.
    let credentials = json!({"email": "fuzz@example.com", "password": "correct horse battery"});
    client
        .post(format!("{base}/api/auth/register"))
        .json(&credentials)
        .send()
        .await
        .unwrap();
    let login: Value = client
        .post(format!("{base}/api/auth/login"))
        .json(&credentials)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    for title in ["one", "two", "three"] {
        client
            .post(format!("{base}/api/tasks"))
            .bearer_auth(&token)
            .json(&json!({"title": title, "tags": ["fuzz"], "due_date": "2030-01-01T00:00:00Z"}))
            .send()
            .await
            .unwrap();
    }

    let schema_url = format!("{base}/api/openapi.json");
    let report = std::env::temp_dir().join(e2e::unique("schemathesis"));
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&st)
            .args(["run", &schema_url, "--url", &base])
            .args([
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,\
                 response_schema_conformance",
            ])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            // Logging out would revoke the session every other request uses.
            .args(["--exclude-path", "/api/auth/logout"])
            .args(["--max-examples", "25", "--seed", "1", "--workers", "2"])
            .args(["--generation-database", "none", "--no-color"])
            .arg("--report-dir")
            .arg(&report)
            .env("SCHEMATHESIS_HOOKS", "")
            .output()
            .expect("running schemathesis")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}");
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{stdout}\n{stderr}"
    );
}
