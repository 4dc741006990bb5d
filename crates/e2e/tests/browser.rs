//! The web UI in real headless Chromium: the real `spin.toml` with every served component
//! (the `web` bundle, the API and every service: reminders fire, notifications arrive) through
//! `spin-host`, against a fresh database and a private Redis, driven by `web/tests/*.test.mjs`
//! (node's test runner, playwright-core, Debian's `/usr/bin/chromium`). Screenshots land in
//! `target/screenshots/`.
//!
//! Missing Chromium or `web/node_modules` is a failure, not a skip: `.ci/run` installs both.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::Command;

use e2e::{TestApp, TestDb, TestRedis, workspace_root};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Every component the manifest declares except the `migrate` command, so the browser sees
/// the app as `cargo xtask up` serves it.
fn served_components(manifest: &str) -> Vec<String> {
    manifest
        .lines()
        .filter_map(|line| {
            let id = line.trim().strip_prefix("[component.")?.strip_suffix(']')?;
            (!id.contains('.') && id != "migrate").then(|| id.to_owned())
        })
        .collect()
}

/// A port nobody listens on now, so `public_base_url` can name the address before serving
/// (the API accepts a browser's `Origin` only when it matches).
fn free_address() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    listener.local_addr().expect("a local address")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_web_ui_in_headless_chromium() {
    let root = workspace_root();
    let web = root.join("web");
    assert!(
        Path::new(CHROMIUM).is_file(),
        "{CHROMIUM} is missing: run `cargo xtask test`, which installs it as root (or `sudo apt-get install -y chromium`)"
    );
    assert!(
        web.join("node_modules/playwright-core").is_dir(),
        "web/node_modules is missing: run `cargo xtask test`, which installs it (or `npm ci` in web/)"
    );
    let manifest = std::fs::read_to_string(root.join("spin.toml")).unwrap();
    let components = served_components(&manifest);
    assert!(components.iter().any(|c| c == "web"), "{components:?}");
    let ids: Vec<&str> = components.iter().map(String::as_str).collect();

    let db = TestDb::create().await.unwrap();
    // Events travel over Redis pub/sub, which is global to a server: a private one keeps other
    // tests' events away from this app's consumers.
    let redis = TestRedis::start().await.unwrap();
    let listen = free_address();
    let base_url = format!("http://{listen}");
    let app = TestApp::new(&db.url())
        .var("redis_url", &redis.url())
        .var("public_base_url", &base_url);
    app.migrate().await.unwrap();
    let served = app.serve_on(listen, &ids).await.unwrap();
    assert_eq!(served, base_url);

    let screenshots = root.join("target/screenshots");
    // node's test runner blocks; run it off the async runtime that serves the app.
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(["--test", "--test-reporter=spec", "tests/"])
            .current_dir(&web)
            .env("BASE_URL", &base_url)
            .env("SCREENSHOT_DIR", &screenshots)
            .env("CHROMIUM", CHROMIUM)
            .output()
            .expect("starting node (is Node.js installed?)")
    })
    .await
    .unwrap();
    drop(redis);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "browser tests failed ({}); see the output above",
        output.status
    );
    assert!(
        stdout.contains("pass ") && !stdout.contains("pass 0\n"),
        "node ran no browser test:\n{stdout}"
    );
}

#[test]
fn the_manifests_served_components_include_web_and_leave_out_migrate() {
    let manifest = std::fs::read_to_string(workspace_root().join("spin.toml")).unwrap();
    let components = served_components(&manifest);
    assert!(components.contains(&"web".to_owned()));
    assert!(components.contains(&"api".to_owned()));
    assert!(!components.contains(&"migrate".to_owned()));
}
