//! The cron trigger (spin-trigger-cron): a `*/1 * * * * *` schedule runs the component's
//! `handle-cron-event` every second, each time in a fresh instance, with the tick's Unix time.
//!
//! Reference: fermyon/spin-trigger-cron `src/lib.rs` (`[[trigger.cron]] component`,
//! `cron_expression`; seconds-first expressions; `metadata.timestamp` is
//! `SystemTime::now()` since the epoch in seconds, taken when the job fires).

use std::time::{SystemTime, UNIX_EPOCH};

use redis::AsyncCommands;

use crate::support::{Manifest, redis, start, unique, wait_for};

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn an_every_second_schedule_ticks_with_the_current_time() {
    let key = format!("spin-host-test:{}", unique("cron"));
    let manifest = Manifest::from_app("cron.toml")
        .default("tick_key", &key)
        .write();
    let started = now_secs();
    let app = start(&manifest).await;

    let conn = redis().await;
    let ticks = wait_for(|| {
        let mut conn = conn.clone();
        let key = key.clone();
        async move {
            let ticks: Option<i64> = conn.get(&key).await.ok()?;
            ticks.filter(|&n| n >= 3)
        }
    })
    .await;
    let mut conn = conn;
    let timestamp: Option<String> = conn.get(format!("{key}:timestamp")).await.unwrap();
    let finished = now_secs();
    drop(app);
    let _: () = conn
        .del(&[key.clone(), format!("{key}:timestamp")])
        .await
        .unwrap();

    // Each tick is one `INCR`: three ticks means three separate runs of the handler.
    assert!(
        ticks.is_some(),
        "the cron trigger did not tick three times within the wait"
    );
    let timestamp: u64 = timestamp
        .expect("the handler stored the tick's metadata.timestamp")
        .parse()
        .expect("a number of seconds");
    assert!(
        (started..=finished).contains(&timestamp),
        "metadata.timestamp is the Unix time of the tick in seconds: {timestamp} not in {started}..={finished}"
    );
}
