//! `fermyon:spin/redis@2.0.0`: every connection method, `execute`'s result mapping, and a denied
//! address.
//!
//! Reference: spinframework/spin `crates/factor-outbound-redis/src/host.rs` (`operations`,
//! `RedisResults::from_redis_value`: `OK` is `Status("OK")`, arrays are flattened, bulk strings
//! are `Binary`; a server error is `Error::Other`; an address not in `allowed_outbound_hosts` is
//! `Error::InvalidAddress`).

use redis::AsyncCommands;
use serde_json::json;

use crate::support::{Manifest, ProbeIds, err, ok, redis, start, unique};

#[tokio::test]
async fn every_redis_operation_behaves_as_in_spin() {
    let app = start(
        &Manifest::from_app("probe.toml")
            .isolated_probe(&ProbeIds::new("redis"))
            .write(),
    )
    .await;
    let prefix = format!("spin-host-test:{}", unique("ops"));
    let report = app
        .post("/redis/ops", json!({ "prefix": prefix }))
        .await
        .ok_json();

    let expected = [
        ("set", json!(null)),
        ("get", json!("v1")),
        ("get_missing", json!(null)),
        ("incr_1", json!(1)),
        ("incr_2", json!(2)),
        // DEL counts the keys that existed.
        ("del", json!(2)),
        // SADD counts new members only.
        ("sadd", json!(2)),
        ("smembers", json!(["a", "b"])),
        // SREM counts the members that were there.
        ("srem", json!(1)),
        ("smembers_after", json!(["b"])),
        ("execute_set", json!([{ "status": "OK" }])),
        ("execute_get", json!([{ "binary": "x" }])),
        ("execute_get_missing", json!([{ "nil": null }])),
        ("execute_incrby", json!([{ "int64": 5 }])),
        ("execute_rpush", json!([{ "int64": 2 }])),
        // An array reply is flattened into the result list.
        (
            "execute_lrange",
            json!([{ "binary": "a" }, { "binary": "b" }]),
        ),
        ("execute_ping", json!([{ "status": "PONG" }])),
    ];
    for (step, value) in expected {
        assert_eq!(ok(&report[step], step), &value, "{step}: {}", report[step]);
    }
    let error = err(&report["execute_error"], "an unknown command");
    assert_eq!(
        error["kind"], "other",
        "a server error is Error::Other: {error}"
    );

    // The effects are in Redis.
    let mut conn = redis().await;
    let e: Option<String> = conn.get(format!("{prefix}:e")).await.unwrap();
    assert_eq!(e.as_deref(), Some("x"));
    let k: Option<String> = conn.get(format!("{prefix}:k")).await.unwrap();
    assert_eq!(k, None, "DEL removed it");
    let list: Vec<String> = conn.lrange(format!("{prefix}:l"), 0, -1).await.unwrap();
    assert_eq!(list, ["a", "b"]);
    let _: () = conn
        .del(&[
            format!("{prefix}:e"),
            format!("{prefix}:c"),
            format!("{prefix}:l"),
            format!("{prefix}:s"),
        ])
        .await
        .unwrap();
}

#[tokio::test]
async fn publish_reaches_a_subscriber() {
    let app = start(
        &Manifest::from_app("probe.toml")
            .isolated_probe(&ProbeIds::new("redis"))
            .write(),
    )
    .await;
    let channel = format!("spin-host-test:{}", unique("publish"));
    let mut pubsub = redis::Client::open(crate::support::REDIS_URL)
        .unwrap()
        .get_async_pubsub()
        .await
        .unwrap();
    pubsub.subscribe(&channel).await.unwrap();

    let report = app
        .post(
            "/redis/publish",
            json!({ "channel": channel, "payload": "hello subscriber" }),
        )
        .await
        .ok_json();
    ok(&report["publish"], "publish");

    use futures::StreamExt;
    let message = tokio::time::timeout(crate::support::WAIT, pubsub.on_message().next())
        .await
        .expect("a message within the wait")
        .expect("a message");
    assert_eq!(message.get_channel_name(), channel);
    assert_eq!(message.get_payload_bytes(), b"hello subscriber");
}

#[tokio::test]
async fn an_address_not_in_allowed_outbound_hosts_is_invalid_address() {
    let app = start(
        &Manifest::from_app("probe.toml")
            .isolated_probe(&ProbeIds::new("redis"))
            .write(),
    )
    .await;
    // host.rs `open`: the allow-list check comes first and fails as `InvalidAddress`.
    // Loopback addresses only: a host that wrongly connects sends nothing off this machine.
    for address in ["redis://127.0.0.3:6379", "redis://127.0.0.1:6380"] {
        let report = app
            .post("/redis/open", json!({ "address": address }))
            .await
            .ok_json();
        assert_eq!(
            report["open"],
            json!({ "err": { "kind": "invalid_address" } }),
            "opening {address}"
        );
    }
    let report = app
        .post(
            "/redis/open",
            json!({ "address": crate::support::REDIS_URL }),
        )
        .await
        .ok_json();
    assert_eq!(report["open"], json!({ "ok": true }));
}
