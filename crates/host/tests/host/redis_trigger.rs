//! The Redis trigger: subscriptions from templated addresses and channels, one handler run per
//! message, failures that do not end the subscription, and no service chaining.
//!
//! References (spinframework/spin): `crates/trigger-redis/src/lib.rs` (`[application.trigger.redis]
//! address` as the default, a trigger's own `address` overriding it, both and `channel` resolved
//! as templates over application variables; a handler error is logged and the next message is
//! handled), `crates/trigger/src/cli.rs` (host requirements), DESIGN.md "Platform facts" (one
//! `.wasm` can be both an HTTP and a Redis component; outbound `publish` from the HTTP handler
//! reaches the Redis-triggered handler; Redis-triggered components cannot use service chaining).

use redis::AsyncCommands;
use serde_json::json;

use crate::support::{Manifest, ProbeIds, RunningApp, redis, start, start_with, wait_for};

async fn probe_app(ids: &ProbeIds) -> RunningApp {
    start(&Manifest::from_app("probe.toml").isolated_probe(ids).write()).await
}

/// Waits until the sink list holds `expected` entries, then returns it.
async fn sink_after(ids: &ProbeIds, expected: usize) -> Vec<String> {
    let mut conn = redis().await;
    let sink = ids.sink.clone();
    let seen = wait_for(|| {
        let mut conn = conn.clone();
        let sink = sink.clone();
        async move {
            let list: Vec<String> = conn.lrange(&sink, 0, -1).await.ok()?;
            (list.len() >= expected).then_some(list)
        }
    })
    .await;
    let list: Vec<String> = match seen {
        Some(list) => list,
        None => conn.lrange(&ids.sink, 0, -1).await.unwrap(),
    };
    let _: () = conn.del(&ids.sink).await.unwrap();
    list
}

#[tokio::test]
async fn each_message_on_a_subscribed_channel_runs_the_component_once() {
    let ids = ProbeIds::new("trigger");
    let app = probe_app(&ids).await;
    let mut conn = redis().await;

    // The first trigger uses `[application.trigger.redis] address = "{{ redis_url }}"`, the
    // second its own address; both channels are templates over `redis_channel`.
    let _: () = conn.publish(&ids.channel, "direct").await.unwrap();
    let _: () = conn
        .publish(format!("{}-second", ids.channel), "second channel")
        .await
        .unwrap();
    // Outbound `publish` from the HTTP handler reaches the Redis-triggered handler.
    let report = app
        .post(
            "/redis/publish",
            json!({ "channel": ids.channel, "payload": "via http" }),
        )
        .await
        .ok_json();
    crate::support::ok(&report["publish"], "publish");

    let mut received = sink_after(&ids, 3).await;
    received.sort();
    assert_eq!(received, ["direct", "second channel", "via http"]);
}

#[tokio::test]
async fn a_failing_or_trapping_handler_does_not_end_the_subscription() {
    let ids = ProbeIds::new("trigger");
    let _app = probe_app(&ids).await;
    let mut conn = redis().await;
    // Messages on one channel are handled in order, so once "after" is recorded the two
    // before it have been handled (and, failing, recorded nothing).
    for payload in ["before", "fail", "panic", "after"] {
        let _: () = conn.publish(&ids.channel, payload).await.unwrap();
    }
    let received = sink_after(&ids, 2).await;
    assert_eq!(received, ["before", "after"]);
}

#[tokio::test]
async fn an_app_whose_redis_component_lists_a_spin_internal_host_does_not_start() {
    // Service chaining is a host requirement (`local_service_chaining`) that only the HTTP
    // trigger supports; every other trigger refuses to start such an app
    // (spinframework/spin `crates/trigger/src/cli.rs`: "This application requires the following
    // features that are not available in this version of the '<type>' trigger: <unmet>").
    let ids = ProbeIds::new("trigger");
    let manifest = Manifest::from_app("probe.toml")
        .isolated_probe(&ids)
        .write();
    let text = std::fs::read_to_string(&manifest).unwrap();
    let mut doc: toml::Table = toml::from_str(&text).unwrap();
    doc["component"]["probe-redis"]["allowed_outbound_hosts"] = toml::Value::Array(vec![
        "redis://127.0.0.1:6379".into(),
        "http://probe-private.spin.internal".into(),
    ]);
    std::fs::write(&manifest, toml::to_string(&doc).unwrap()).unwrap();

    let err = match start_with(&manifest, None).await {
        Ok(_) => panic!("Spin's Redis trigger does not start an app needing service chaining"),
        Err(err) => format!("{err:#}"),
    };
    assert!(
        err.contains("'redis' trigger") && err.contains("local_service_chaining"),
        "{err}"
    );
}
