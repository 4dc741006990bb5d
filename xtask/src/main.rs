//! `cargo xtask`: the project's own commands, so that a fresh clone needs nothing but Rust.
//!
//! - `cargo xtask build`: every component for `wasm32-wasip2` (release) and the `spin-host` binary.
//! - `cargo xtask up [--listen ADDR]`: build, make sure PostgreSQL and Redis are up (starting
//!   local ones when installed), create the database, generate local secrets, migrate, and serve
//!   the app (default <http://127.0.0.1:3000>).
//! - `cargo xtask test [ARGS...]`: make sure the services are up, install the tools the tests
//!   need ([`tools`]), build the components (and the host's test components), then
//!   `cargo test --no-fail-fast --workspace ARGS...`, ending with a summary of every suite
//!   ([`summary`]).
//! - `cargo xtask secrets`: only generate `.spin-local/secrets.env` (for running under real Spin).
//!
//! # Layout
//!
//! - [`workspace`]: where things are, and the cargo invocations that build them.
//! - [`services`]: PostgreSQL and Redis: reachability, starting local servers, the database.
//! - [`secrets`]: the generated per-checkout secrets for local runs.
//! - [`tools`]: npm packages, Python tools, Chromium and CRD files for the tests.
//! - [`summary`]: runs `cargo test` and tells which suites failed.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

mod secrets;
mod services;
mod summary;
mod tools;
mod workspace;

use workspace::Workspace;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  build                 build every component for wasm32-wasip2 (release) and spin-host
  up [--listen ADDR]    build, start PostgreSQL/Redis if needed, migrate, serve (default 127.0.0.1:3000)
  test [ARGS...]        start PostgreSQL/Redis if needed, install test tools, build components,
                        cargo test --no-fail-fast --workspace ARGS..., then a summary
  secrets               write .spin-local/secrets.env (jwt_secret, tick_token) if missing

environment:
  SPIN_VARIABLE_DB_URL, SPIN_VARIABLE_REDIS_URL, SPIN_VARIABLE_EVENT_BUS and the other
  SPIN_VARIABLE_* are honoured as spin-host honours them.";

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let command = args.next();
    let rest: Vec<OsString> = args.collect();
    let result = match command.as_ref().and_then(|c| c.to_str()) {
        Some("build") => no_args("build", &rest).and_then(|()| build()),
        Some("up") => up(&rest),
        Some("test") => test(&rest),
        Some("secrets") => no_args("secrets", &rest).and_then(|()| write_secrets()),
        Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        Some(other) => Err(anyhow::anyhow!("unknown command `{other}`\n\n{USAGE}")),
        None => Err(anyhow::anyhow!("no command given\n\n{USAGE}")),
    };
    result.unwrap_or_else(|err| {
        eprintln!("xtask: error: {err:#}");
        ExitCode::FAILURE
    })
}

fn no_args(command: &str, rest: &[OsString]) -> anyhow::Result<()> {
    if let Some(arg) = rest.first() {
        bail!("`{command}` takes no arguments (got {arg:?})\n\n{USAGE}");
    }
    Ok(())
}

fn build() -> anyhow::Result<ExitCode> {
    let ws = Workspace::discover()?;
    ws.build_components()?;
    ws.build_host()?;
    Ok(ExitCode::SUCCESS)
}

fn write_secrets() -> anyhow::Result<ExitCode> {
    let ws = Workspace::discover()?;
    let path = secrets::ensure(&ws.root)?.path;
    println!("xtask: secrets for local runs are in {}", path.display());
    Ok(ExitCode::SUCCESS)
}

fn up(rest: &[OsString]) -> anyhow::Result<ExitCode> {
    let listen = parse_listen(rest)?;
    let ws = Workspace::discover()?;
    ws.build_components()?;
    let host = ws.build_host()?;

    let config = services::Config::from_env();
    services::ensure_running(&config)?;
    services::ensure_database(&config.db_url)?;
    let secrets = secrets::ensure(&ws.root)?;

    println!("xtask: running migrations");
    let mut migrate = ws.spin_host_up(&host, &secrets);
    migrate.args(["--component-id", "migrate"]);
    let status = migrate
        .status()
        .with_context(|| format!("running {}", host.display()))?;
    if !status.success() {
        bail!("migrations failed ({status}); see the messages above");
    }

    println!("xtask: serving the app at http://{listen} (Ctrl-C to stop)");
    let mut serve = ws.spin_host_up(&host, &secrets);
    serve.args(["--listen", &listen.to_string()]);
    exec(serve)
}

fn test(rest: &[OsString]) -> anyhow::Result<ExitCode> {
    let ws = Workspace::discover()?;
    let config = services::Config::from_env();
    services::ensure_running(&config)?;
    services::ensure_database(&config.db_url)?;
    services::drop_test_databases(&config.db_url, "e2e_")?;
    let tools = tools::prepare(&ws)?;
    ws.build_components()?;

    let mut cargo = ws.cargo();
    // Every test binary runs even when one fails, so one broken suite hides no other result.
    cargo.args(["test", "--no-fail-fast"]);
    // `--workspace` unless the caller picked packages themselves.
    let picks_packages = rest.iter().any(|arg| {
        let arg = arg.to_string_lossy();
        arg.starts_with("-p") || arg.starts_with("--package")
    });
    if !picks_packages {
        cargo.arg("--workspace");
    }
    cargo.args(rest);
    cargo.envs(tools.env);
    println!("xtask: {}", workspace::display(&cargo));
    let summary = summary::run(cargo).context("running cargo test")?;
    summary.print();
    Ok(if summary.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn parse_listen(rest: &[OsString]) -> anyhow::Result<SocketAddr> {
    let mut listen: SocketAddr = "127.0.0.1:3000".parse().expect("a valid address");
    let mut args = rest.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = args.next() {
        let value = if arg == "--listen" {
            args.next()
                .context("`--listen` needs an address, e.g. 127.0.0.1:3000")?
        } else if let Some(value) = arg.strip_prefix("--listen=") {
            value.to_owned()
        } else {
            bail!("`up` takes only `--listen ADDR` (got `{arg}`)");
        };
        listen = value
            .parse()
            .with_context(|| format!("`{value}` is not an address like 127.0.0.1:3000"))?;
    }
    Ok(listen)
}

/// Replaces this process with `command`, so that Ctrl-C and exit codes reach it directly.
#[cfg(unix)]
fn exec(mut command: Command) -> anyhow::Result<ExitCode> {
    use std::os::unix::process::CommandExt;
    let err = command.exec();
    Err(err).with_context(|| format!("starting {}", workspace::display(&command)))
}

#[cfg(not(unix))]
fn exec(mut command: Command) -> anyhow::Result<ExitCode> {
    let status = command
        .status()
        .with_context(|| format!("starting {}", workspace::display(&command)))?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
