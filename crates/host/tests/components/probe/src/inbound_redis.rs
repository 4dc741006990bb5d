//! The Redis trigger's handler. Each message is appended (`RPUSH`) to the list named by the
//! component variable `sink`, on the server `redis_url`, so the tests can see every delivery.
//!
//! Two payloads ask for a failure instead, so the tests can check the subscription survives it:
//! `fail` returns an error and `panic` traps (Spin logs either; nothing is recorded).

use anyhow::{Context, bail};
use spin_sdk::redis::{Connection, RedisParameter};
use spin_sdk::variables;

pub fn handle(payload: Vec<u8>) -> anyhow::Result<()> {
    let record = match payload.as_slice() {
        b"fail" => bail!("the probe was asked to fail"),
        b"panic" => panic!("the probe was asked to trap"),
        _ => payload,
    };
    let address = variables::get("redis_url").context("reading variable redis_url")?;
    let sink = variables::get("sink").context("reading variable sink")?;
    let conn = Connection::open(&address).context("opening Redis")?;
    conn.execute(
        "RPUSH",
        &[
            RedisParameter::Binary(sink.into_bytes()),
            RedisParameter::Binary(record),
        ],
    )
    .context("RPUSH")?;
    Ok(())
}
