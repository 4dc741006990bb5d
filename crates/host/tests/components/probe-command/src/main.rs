//! `probe-command`: a test component for `spin-host`'s command trigger (a WASI command, as
//! SpinKube's shim and the `spin-trigger-command` plugin run them). It records that it ran by
//! `SET`ting the Redis key named by the variable `marker_key` to `ran`, prints a line to stdout,
//! then exits with the status named by the variable `exit_code`.

use spin_sdk::redis::Connection;
use spin_sdk::variables;

fn main() -> anyhow::Result<()> {
    let address = variables::get("redis_url")?;
    let marker = variables::get("marker_key")?;
    let exit_code: i32 = variables::get("exit_code")?.parse()?;
    Connection::open(&address)?.set(&marker, b"ran")?;
    println!("probe-command ran; exiting with {exit_code}");
    if exit_code != 0 {
        std::process::exit(exit_code);
    }
    Ok(())
}
