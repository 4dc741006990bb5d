//! The foundation's promises, checked through the real `spin.toml` and `.wasm` files: the
//! migrations apply once and are recorded, `/health` answers without I/O, and `/ready` follows
//! the database and Redis, coming back when they do, without restarting anything.

use std::time::Duration;

use e2e::{Outage, TestApp, TestDb, pg};
use serde_json::Value;

async fn get(url: &str) -> (u16, String, Value) {
    let response = reqwest::get(url).await.expect("request failed");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, content_type, body)
}

#[tokio::test]
async fn migrations_apply_once_and_record_each_version() {
    let db = TestDb::create().await.unwrap();
    let app = TestApp::new(&db.url());
    app.migrate().await.unwrap();

    let client = pg(&db.url()).await.unwrap();
    let versions: Vec<i32> = client
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let files = std::fs::read_dir(e2e::workspace_root().join("migrations"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .count();
    assert_eq!(versions.len(), files, "one row per migration file");
    assert_eq!(versions, (1..=files as i32).collect::<Vec<_>>());
    for table in ["users", "tasks", "outbox", "consumer_receipts"] {
        let exists: bool = client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
            .await
            .unwrap()
            .get(0);
        assert!(exists, "table {table} should exist after migrating");
    }

    // A second run finds nothing to do and changes nothing.
    app.migrate().await.unwrap();
    let rows: i64 = client
        .query_one("SELECT count(*) FROM schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows as usize, files);
}

#[tokio::test]
async fn an_edited_migration_stops_the_run() {
    let db = TestDb::create().await.unwrap();
    let app = TestApp::new(&db.url());
    app.migrate().await.unwrap();
    let client = pg(&db.url()).await.unwrap();
    let checksum = "SELECT checksum FROM schema_migrations WHERE version = 1";
    let recorded: String = client.query_one(checksum, &[]).await.unwrap().get(0);
    client
        .execute(
            "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1",
            &[],
        )
        .await
        .unwrap();
    let err = app
        .migrate()
        .await
        .expect_err("a changed checksum must fail");
    assert!(format!("{err:#}").contains("migrate"), "{err:#}");

    // The mismatch, and nothing else, is what stopped it: the refused run left the record as it
    // was, and with the recorded checksum back the same run succeeds.
    let after: String = client.query_one(checksum, &[]).await.unwrap().get(0);
    assert_eq!(after, "edited", "a refused run must not rewrite the record");
    client
        .execute(
            "UPDATE schema_migrations SET checksum = $1 WHERE version = 1",
            &[&recorded],
        )
        .await
        .unwrap();
    app.migrate().await.unwrap();
}

#[tokio::test]
async fn health_answers_even_when_nothing_else_does() {
    // Nothing listens on this loopback address: health must not care.
    let app = TestApp::new("postgres://postgres@127.0.0.9:5432/nowhere?sslmode=disable")
        .var("redis_url", "redis://127.0.0.9:6379");
    let base = app.serve(&["api"]).await.unwrap();
    let (status, content_type, body) = get(&format!("{base}/health")).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("application/json"));
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn ready_names_what_is_down_as_problem_json() {
    let app = TestApp::new("postgres://postgres@127.0.0.9:5432/nowhere?sslmode=disable")
        .var("redis_url", "redis://127.0.0.9:6379");
    let base = app.serve(&["api"]).await.unwrap();
    let (status, content_type, body) = get(&format!("{base}/ready")).await;
    assert_eq!(status, 503);
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(body["status"], 503);
    let text = body.to_string();
    assert!(
        text.contains("postgres"),
        "should name the database: {text}"
    );
    assert!(text.contains("redis"), "should name Redis: {text}");
}

#[tokio::test]
async fn ready_ignores_redis_when_the_event_bus_is_dapr() {
    let db = TestDb::create().await.unwrap();
    let app = TestApp::new(&db.url())
        .var("redis_url", "redis://127.0.0.9:6379")
        .var("event_bus", "dapr");
    let base = app.serve(&["api"]).await.unwrap();
    let (status, _, body) = get(&format!("{base}/ready")).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn ready_follows_the_database_down_and_back_without_a_restart() {
    let db = TestDb::create().await.unwrap();
    // The app reaches PostgreSQL through a forwarder on another loopback address (port 5432,
    // which spin.toml's allowed_outbound_hosts permits) that the test can take down.
    let mut outage = Outage::start(
        "127.0.0.7:5432".parse().unwrap(),
        "127.0.0.1:5432".parse().unwrap(),
    )
    .await
    .unwrap();
    let app = TestApp::new(&db.url_via("127.0.0.7:5432"));
    let base = app.serve(&["api"]).await.unwrap();
    let ready = format!("{base}/ready");

    let (status, _, body) = get(&ready).await;
    assert_eq!(status, 200, "{body}");

    outage.down().await;
    let (status, content_type, body) = get(&ready).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(content_type, "application/problem+json");
    assert!(body.to_string().contains("postgres"), "{body}");

    outage.up().await.unwrap();
    // The pool replaces the broken clients on the next open; allow a few tries in case the
    // first request races the listener coming back.
    let mut last = (0, Value::Null);
    for _ in 0..20 {
        let (status, _, body) = get(&ready).await;
        last = (status, body);
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(last.0, 200, "ready should recover: {}", last.1);
}

#[tokio::test]
async fn unknown_api_routes_are_problem_json_404() {
    let db = TestDb::create().await.unwrap();
    let app = TestApp::new(&db.url());
    let base = app.serve(&["api"]).await.unwrap();
    let (status, content_type, body) = get(&format!("{base}/api/no-such-thing")).await;
    assert_eq!(status, 404);
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(body["status"], 404);
}
