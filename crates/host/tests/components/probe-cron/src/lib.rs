//! `probe-cron`: a test component for `spin-host`'s cron trigger. It exports
//! `handle-cron-event` from the `fermyon:spin-cron@2.0.0` world (bound here with `wit-bindgen`
//! from the project's `wit/spin-cron`, since the plugin's guest SDK is not on crates.io). Each
//! tick `INCR`s the Redis key named by the component variable `tick_key` and stores the tick's
//! `metadata.timestamp` under `<tick_key>:timestamp`, so the tests can count ticks and check the
//! timestamp the host passed.

use spin_sdk::redis::Connection;
use spin_sdk::variables;

wit_bindgen::generate!({
    world: "spin-cron",
    path: "../../../../../wit/spin-cron",
});

// The world `use`s `metadata` and `error`, so the generated bindings name them at this level.
struct Probe;

impl Guest for Probe {
    fn handle_cron_event(metadata: Metadata) -> Result<(), Error> {
        record(metadata.timestamp).map_err(|err| Error::Other(format!("{err:#}")))
    }
}

fn record(timestamp: u64) -> anyhow::Result<()> {
    let address = variables::get("redis_url")?;
    let key = variables::get("tick_key")?;
    let conn = Connection::open(&address)?;
    conn.incr(&key)?;
    conn.set(
        &format!("{key}:timestamp"),
        &timestamp.to_string().into_bytes(),
    )?;
    Ok(())
}

export!(Probe);
