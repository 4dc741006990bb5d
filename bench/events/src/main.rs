//! The event backbone under load, through the real `spin.toml` and `.wasm` files (`spin-host`
//! in-process, a fresh database, a private Redis), as the end-to-end tests run them.
//!
//! Writers commit events to the outbox, one transaction per event, at a fixed rate (as the
//! API's handlers do); `dispatcher-cron` publishes them on Redis and `audit-redis` stores them.
//! Latency is commit to audit: `events.metadata.received_at` (the audit transaction's start)
//! minus `outbox.created_at`, both from PostgreSQL's clock.
//!
//! `cargo run --release -p bench-events -- [latency_rate] [latency_secs] [ramp rates...]`
//! (defaults: 200 events/s for 20 s, then 500 1000 1500 2000 events/s for 10 s each).
//! Events are on `reminders.reminder.scheduled`, a topic only `audit` consumes, so what is
//! measured is the backbone alone.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use domain::account::UserId;
use domain::event::{CloudEvent, EventHeader, EventId, Source, Subject, Topic};
use domain::time::Timestamp;
use e2e::{TestApp, TestDb, TestRedis, pg};
use serde_json::json;

const WRITERS: usize = 4;

fn event() -> CloudEvent {
    let header = EventHeader {
        id: EventId::new(uuid::Uuid::now_v7()).expect("now_v7 is a v7 UUID"),
        time: Timestamp::from_datetime(chrono::Utc::now()),
        source: Source::Reminders,
        traceparent: None,
    };
    let reminder = uuid::Uuid::new_v4();
    let user = UserId::from(uuid::Uuid::new_v4());
    CloudEvent::new(
        Topic::ReminderScheduled,
        header,
        Subject::reminder(reminder),
        json!({"reminder_id": reminder.to_string(), "user_id": user.to_string()}),
    )
    .expect("a valid event")
}

/// Commits `rate` events per second for `seconds`, spread over [`WRITERS`] connections.
/// Returns how many were written.
async fn write(db_url: &str, rate: u64, seconds: u64) -> Result<u64> {
    let mut writers = Vec::new();
    let per_writer = rate * seconds / WRITERS as u64;
    let gap = Duration::from_secs_f64(WRITERS as f64 / rate as f64);
    let start = Instant::now();
    for _ in 0..WRITERS {
        let client = pg(db_url).await?;
        writers.push(tokio::spawn(async move {
            let insert = client
                .prepare(
                    "INSERT INTO outbox (id, topic, subject, user_id, payload) \
                     VALUES ($1::text::uuid, $2, $3, $4::text::uuid, $5::text::jsonb)",
                )
                .await?;
            for i in 0..per_writer {
                tokio::time::sleep_until((start + gap * i as u32).into()).await;
                let event = event();
                client
                    .execute(
                        &insert,
                        &[
                            &event.id().to_string(),
                            &event.topic().as_str(),
                            &event.subject().to_string(),
                            &event.user_id().to_string(),
                            &event.to_json().to_string(),
                        ],
                    )
                    .await?;
            }
            anyhow::Ok(per_writer)
        }));
    }
    let mut written = 0;
    for writer in writers {
        written += writer.await??;
    }
    Ok(written)
}

async fn count(db: &tokio_postgres::Client, sql: &str) -> Result<i64> {
    Ok(db.query_one(sql, &[]).await?.get(0))
}

/// Waits until every written event is stored; returns how long that took (None: not in 60 s).
async fn drain(db: &tokio_postgres::Client, total: i64) -> Result<Option<Duration>> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if count(db, "SELECT count(*) FROM events").await? >= total {
            return Ok(Some(start.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(None)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().context("arguments are whole numbers"))
        .collect::<Result<_>>()?;
    let latency_rate = args.first().copied().unwrap_or(200);
    let latency_secs = args.get(1).copied().unwrap_or(20);
    let ramp: Vec<u64> = if args.len() > 2 {
        args[2..].to_vec()
    } else {
        vec![500, 1000, 1500, 2000]
    };

    let redis = TestRedis::start().await?;
    let db = TestDb::create().await?;
    let app = TestApp::new(&db.url()).var("redis_url", &redis.url());
    app.migrate().await?;
    app.serve(&["dispatcher-cron", "audit-redis"]).await?;
    let sql = pg(&db.url()).await?;

    println!("## Latency at {latency_rate} events/s for {latency_secs} s");
    let written = write(&db.url(), latency_rate, latency_secs).await?;
    let drained = drain(&sql, written as i64).await?;
    let row = sql
        .query_one(
            "SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY ms)::float8[], max(ms)::float8 \
             FROM (SELECT extract(epoch FROM ((e.metadata ->> 'received_at')::timestamptz - o.created_at)) * 1000 AS ms \
                   FROM events e JOIN outbox o ON o.id = e.id) t",
            &[],
        )
        .await?;
    let p: Vec<f64> = row.get(0);
    let max: f64 = row.get(1);
    println!("| rate | events | p50 ms | p95 ms | p99 ms | max ms | drained after writing |");
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {latency_rate} | {written} | {:.0} | {:.0} | {:.0} | {max:.0} | {:?} |",
        p[0], p[1], p[2], drained
    );

    println!("\n## Throughput, 10 s at each rate");
    println!(
        "| offered events/s | written | written/s | stored/s while writing | backlog at end (outbox) | not yet stored at end | drained after |"
    );
    println!("|---|---|---|---|---|---|---|");
    for rate in ramp {
        let stored_before = count(&sql, "SELECT count(*) FROM events").await?;
        let started = Instant::now();
        let written = write(&db.url(), rate, 10).await?;
        let elapsed = started.elapsed().as_secs_f64();
        let stored_now = count(&sql, "SELECT count(*) FROM events").await?;
        let backlog = count(
            &sql,
            "SELECT count(*) FROM outbox WHERE delivered_at IS NULL",
        )
        .await?;
        let total = count(&sql, "SELECT count(*) FROM outbox").await?;
        let drained = drain(&sql, total).await?;
        println!(
            "| {rate} | {written} | {:.0} | {:.0} | {backlog} | {} | {:?} |",
            written as f64 / elapsed,
            (stored_now - stored_before) as f64 / elapsed,
            total - stored_now,
            drained
        );
        if drained.is_none() {
            break;
        }
    }
    Ok(())
}
