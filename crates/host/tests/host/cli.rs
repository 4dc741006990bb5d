//! The `spin-host` binary end to end, as `spin up` is used: `up -f <manifest> --listen <addr>`,
//! `SPIN_VARIABLE_<NAME>` overrides, and clear errors with a non-zero exit for a bad manifest, a
//! missing required variable and a failing command.
//!
//! References (spinframework/spin): `crates/variables-env/src/lib.rs` (`SPIN_VARIABLE_` +
//! upper-cased name; the default provider is always consulted), `crates/expressions/src/lib.rs`
//! ("no provider resolved required variable"), `crates/manifest` (`deny_unknown_fields`).

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use crate::support::{Manifest, ProbeIds, WAIT, temp_dir, unique, wait_for};

/// A child process that is killed (by its own pid) if the test ends while it runs.
struct Host(Child);

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spin_host_up(manifest: &Path, port: u16) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_spin-host"));
    command
        .arg("up")
        .arg("-f")
        .arg(manifest)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        // Run from a fresh directory, so no stray `.env` supplies variables.
        .current_dir(temp_dir("cwd"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `up` expecting it to exit by itself; returns (success, stderr).
async fn run_to_exit(mut command: Command) -> (bool, String) {
    let mut host = Host(command.spawn().expect("start spin-host"));
    let status = wait_for(|| {
        let status = host.0.try_wait().expect("poll spin-host");
        async move { status }
    })
    .await
    .unwrap_or_else(|| panic!("spin-host up did not exit within {WAIT:?}"));
    let mut stderr = String::new();
    use std::io::Read;
    host.0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.success(), stderr)
}

#[tokio::test]
async fn a_bad_manifest_exits_non_zero_with_a_clear_error() {
    let dir = temp_dir("bad-manifest");

    let not_toml = dir.join("not-toml.toml");
    std::fs::write(
        &not_toml,
        "spin_manifest_version = 2\n[application\nname = \"x\"\n",
    )
    .unwrap();
    let (success, stderr) = run_to_exit(spin_host_up(&not_toml, free_port())).await;
    assert!(
        !success,
        "a manifest that is not TOML must fail; stderr: {stderr}"
    );
    assert!(
        stderr.contains("not-toml.toml"),
        "the error should name the manifest file: {stderr}"
    );

    // Spin's manifest tables are `deny_unknown_fields`.
    let typo = dir.join("typo.toml");
    std::fs::write(
        &typo,
        "spin_manifest_version = 2\n[application]\nname = \"x\"\n[[trigger.http]]\nroute = \"/\"\n\
         component = \"c\"\n[component.c]\nsorce = \"c.wasm\"\n",
    )
    .unwrap();
    let (success, stderr) = run_to_exit(spin_host_up(&typo, free_port())).await;
    assert!(
        !success,
        "an unknown manifest field must fail; stderr: {stderr}"
    );
    assert!(
        stderr.contains("sorce"),
        "the error should name the unknown field: {stderr}"
    );

    let missing = dir.join("does-not-exist.toml");
    let (success, stderr) = run_to_exit(spin_host_up(&missing, free_port())).await;
    assert!(!success);
    assert!(stderr.contains("does-not-exist.toml"), "{stderr}");
}

#[tokio::test]
async fn a_required_variable_without_a_value_exits_non_zero_naming_it() {
    let manifest = Manifest::from_app("probe.toml")
        .isolated_probe(&ProbeIds::new("cli"))
        .required("addressee")
        .write();
    let (success, stderr) = run_to_exit(spin_host_up(&manifest, free_port())).await;
    assert!(!success, "stderr: {stderr}");
    assert!(
        stderr.contains("addressee"),
        "the error should name the required variable: {stderr}"
    );
}

#[tokio::test]
async fn spin_variable_environment_overrides_a_default_and_satisfies_required() {
    let manifest = Manifest::from_app("probe.toml")
        .isolated_probe(&ProbeIds::new("cli"))
        .required("addressee")
        .write();
    let port = free_port();
    let salutation = unique("howdy");
    let mut command = spin_host_up(&manifest, port);
    command
        .env("SPIN_VARIABLE_SALUTATION", &salutation)
        .env("SPIN_VARIABLE_ADDRESSEE", "env");
    let mut host = Host(command.spawn().expect("start spin-host"));

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let health = format!("http://127.0.0.1:{port}/.well-known/spin/health");
    let up = wait_for(|| {
        let client = client.clone();
        let health = health.clone();
        async move {
            let response = client.get(&health).send().await.ok()?;
            (response.status() == 200).then_some(())
        }
    })
    .await;
    if up.is_none() {
        let exited = host.0.try_wait().unwrap();
        panic!("spin-host up did not serve on {port} (exit status: {exited:?})");
    }

    let body = client
        .get(format!("http://127.0.0.1:{port}/vars/greeting"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(value["value"], format!("{salutation}, env!"));
}

#[tokio::test]
async fn a_failing_command_makes_up_exit_non_zero() {
    let marker = format!("spin-host-test:{}", unique("cli-command"));
    let manifest = Manifest::from_app("command.toml")
        .default("marker_key", &marker)
        .default("exit_code", "3")
        .write();
    let port = free_port();
    let (success, stderr) = run_to_exit(spin_host_up(&manifest, port)).await;
    assert!(!success, "stderr: {stderr}");
    assert!(
        stderr.contains("probe-command"),
        "the error should name the command: {stderr}"
    );
    // The HTTP trigger never started.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    let mut conn = crate::support::redis().await;
    let _: () = redis::AsyncCommands::del(&mut conn, &marker).await.unwrap();
}
