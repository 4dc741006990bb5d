//! The command trigger (SpinKube's shim, spin-trigger-command): a WASI command component runs
//! once, to completion, before the long-running triggers start; its exit status is the result.
//!
//! Reference: spinframework/spin-trigger-command `src/lib.rs` (`[[trigger.command]]
//! component`; runs `wasi:cli/run`; an `exit(n)` with n != 0 is a failure), and its issue #7
//! (a command beside an HTTP trigger runs first, then the HTTP trigger serves).

use redis::AsyncCommands;

use crate::support::{Manifest, load, redis, unique};

fn command_manifest(marker: &str, exit_code: &str) -> std::path::PathBuf {
    Manifest::from_app("command.toml")
        .default("marker_key", marker)
        .default("exit_code", exit_code)
        .write()
}

#[tokio::test]
async fn a_command_runs_to_completion_before_the_http_trigger_serves() {
    let marker = format!("spin-host-test:{}", unique("command"));
    let app = load(&command_manifest(&marker, "0"), None)
        .await
        .expect("load");
    let ran = app.run_commands().await.expect("the command succeeds");
    assert_eq!(ran, 1, "one command trigger");

    let mut conn = redis().await;
    let value: Option<String> = conn.get(&marker).await.unwrap();
    assert_eq!(
        value.as_deref(),
        Some("ran"),
        "the command ran before run_commands returned"
    );
    let _: () = conn.del(&marker).await.unwrap();

    let (addr, run) = app
        .start("127.0.0.1:0".parse().unwrap())
        .await
        .expect("start");
    let task = tokio::spawn(run);
    let body = reqwest::get(format!("http://{addr}/after-command"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let echo: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(echo["who"], "probe");
    task.abort();
}

#[tokio::test]
async fn a_command_that_exits_non_zero_is_an_error() {
    let marker = format!("spin-host-test:{}", unique("command"));
    let app = load(&command_manifest(&marker, "3"), None)
        .await
        .expect("load");
    let err = match app.run_commands().await {
        Ok(n) => panic!("a command exiting with 3 must fail run_commands (ran {n})"),
        Err(err) => format!("{err:#}"),
    };
    // WASI 0.2's `wasi:cli/exit` carries only success or failure, so the guest's
    // `exit(3)` reaches any host as a failure, not as the number 3.
    assert!(
        err.contains("probe-command"),
        "the error should name the component: {err}"
    );

    // It did run: the failure is its exit status.
    let mut conn = redis().await;
    let value: Option<String> = conn.get(&marker).await.unwrap();
    assert_eq!(value.as_deref(), Some("ran"));
    let _: () = conn.del(&marker).await.unwrap();
}
