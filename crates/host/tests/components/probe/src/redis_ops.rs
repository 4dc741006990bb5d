//! `POST /redis/:probe`: exercises `fermyon:spin/redis@2.0.0` through `spin_sdk::redis`,
//! reporting each call's result so the tests can compare it with Spin's
//! (spinframework/spin `crates/factor-outbound-redis/src/host.rs`).

use serde_json::{Value, json};
use spin_sdk::http::Response;
use spin_sdk::redis::{Connection, Error, RedisParameter, RedisResult};

use crate::reply;

pub fn probe(name: &str, body: &[u8]) -> Response {
    let body = match reply::body(body) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let report = match name {
        "ops" => reply::field(&body, "prefix").map(|prefix| with_redis(|conn| ops(conn, prefix))),
        "publish" => reply::field(&body, "channel").and_then(|channel| {
            let payload = reply::field(&body, "payload")?;
            Ok(with_redis(|conn| {
                json!({ "publish": outcome(conn.publish(channel, payload.as_bytes()).map(|()| Value::Null)) })
            }))
        }),
        "open" => reply::field(&body, "address").map(|address| match Connection::open(address) {
            Ok(_) => json!({ "open": { "ok": true } }),
            Err(err) => json!({ "open": { "err": error_json(&err) } }),
        }),
        _ => return reply::json(404, json!({ "error": "no such redis probe" })),
    };
    match report {
        Ok(report) => reply::json(200, report),
        Err(response) => response,
    }
}

fn with_redis(run: impl FnOnce(&Connection) -> Value) -> Value {
    let address = match spin_sdk::variables::get("redis_url") {
        Ok(address) => address,
        Err(err) => {
            return json!({ "open": { "err": { "kind": "variable", "message": err.to_string() } } });
        }
    };
    match Connection::open(&address) {
        Ok(conn) => run(&conn),
        Err(err) => json!({ "open": { "err": error_json(&err) } }),
    }
}

/// Every connection method once, on keys under `prefix`.
fn ops(conn: &Connection, prefix: &str) -> Value {
    let key = |name: &str| format!("{prefix}:{name}");
    let bin = |s: &str| RedisParameter::Binary(s.as_bytes().to_vec());
    json!({
        "set": outcome(conn.set(&key("k"), b"v1".as_ref()).map(|()| Value::Null)),
        "get": outcome(conn.get(&key("k")).map(|v| json!(v.map(|v| String::from_utf8_lossy(&v).into_owned())))),
        "get_missing": outcome(conn.get(&key("missing")).map(|v| json!(v.map(|v| String::from_utf8_lossy(&v).into_owned())))),
        "incr_1": outcome(conn.incr(&key("n")).map(|n| json!(n))),
        "incr_2": outcome(conn.incr(&key("n")).map(|n| json!(n))),
        "del": outcome(conn.del(&[key("k"), key("n"), key("missing")]).map(|n| json!(n))),
        "sadd": outcome(conn.sadd(&key("s"), &["a".into(), "b".into(), "a".into()]).map(|n| json!(n))),
        "smembers": outcome(conn.smembers(&key("s")).map(|mut members| { members.sort(); json!(members) })),
        "srem": outcome(conn.srem(&key("s"), &["a".into(), "z".into()]).map(|n| json!(n))),
        "smembers_after": outcome(conn.smembers(&key("s")).map(|members| json!(members))),
        "execute_set": outcome(conn.execute("SET", &[bin(&key("e")), bin("x")]).map(results_json)),
        "execute_get": outcome(conn.execute("GET", &[bin(&key("e"))]).map(results_json)),
        "execute_get_missing": outcome(conn.execute("GET", &[bin(&key("missing"))]).map(results_json)),
        "execute_incrby": outcome(conn.execute("INCRBY", &[bin(&key("c")), RedisParameter::Int64(5)]).map(results_json)),
        "execute_rpush": outcome(conn.execute("RPUSH", &[bin(&key("l")), bin("a"), bin("b")]).map(results_json)),
        "execute_lrange": outcome(conn.execute("LRANGE", &[bin(&key("l")), bin("0"), bin("-1")]).map(results_json)),
        "execute_ping": outcome(conn.execute("PING", &[]).map(results_json)),
        "execute_error": outcome(conn.execute("NOSUCHCOMMAND", &[]).map(results_json)),
    })
}

fn results_json(results: Vec<RedisResult>) -> Value {
    results
        .into_iter()
        .map(|result| match result {
            RedisResult::Nil => json!({ "nil": null }),
            RedisResult::Status(s) => json!({ "status": s }),
            RedisResult::Int64(n) => json!({ "int64": n }),
            RedisResult::Binary(b) => json!({ "binary": String::from_utf8_lossy(&b) }),
        })
        .collect()
}

fn outcome(result: Result<Value, Error>) -> Value {
    match result {
        Ok(value) => json!({ "ok": value }),
        Err(err) => json!({ "err": error_json(&err) }),
    }
}

fn error_json(err: &Error) -> Value {
    match err {
        Error::InvalidAddress => json!({ "kind": "invalid_address" }),
        Error::TooManyConnections => json!({ "kind": "too_many_connections" }),
        Error::TypeError => json!({ "kind": "type_error" }),
        Error::Other(message) => json!({ "kind": "other", "message": message }),
    }
}
