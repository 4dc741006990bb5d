//! The Redis trigger's handler. Each message is appended (`RPUSH`) to the list named by the
//! component variable `sink`, on the server `redis_url`, so the tests can see every delivery.
//!
//! Some payloads ask for something else first:
//! - `fail`: return an error (Spin logs it and keeps the subscription; nothing is recorded);
//! - `panic`: trap (likewise);
//! - `chain`: try service chaining to `probe-private`, and record `chain:ok:<status>` or
//!   `chain:err:<error>` instead of the payload, since Spin offers chaining only to HTTP-triggered
//!   instances (DESIGN.md, platform facts).

use anyhow::{Context, bail};
use spin_sdk::redis::{Connection, RedisParameter};
use spin_sdk::variables;

pub async fn handle(payload: Vec<u8>) -> anyhow::Result<()> {
    let record = match payload.as_slice() {
        b"fail" => bail!("the probe was asked to fail"),
        b"panic" => panic!("the probe was asked to trap"),
        b"chain" => {
            let outcome =
                crate::outbound::fetch("http://probe-private.spin.internal/from-redis", None).await;
            match (outcome.get("ok"), outcome.get("err")) {
                (Some(ok), _) => format!("chain:ok:{}", ok["status"]).into_bytes(),
                (_, Some(err)) => format!("chain:err:{}", err.as_str().unwrap_or("?")).into_bytes(),
                _ => b"chain:?".to_vec(),
            }
        }
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
