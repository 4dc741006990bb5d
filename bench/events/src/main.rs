//! The event backbone under load, through the real `spin.toml` and `.wasm` files (`spin-host`
//! in-process, a fresh database, a private Redis), as the end-to-end tests run them.
//!
//! Writers commit events to the outbox, one transaction per event, at a fixed rate (as the
//! API's handlers do); `dispatcher-cron` publishes them on Redis and `audit-redis` stores them.
//! Latency is reported two ways, both ending at `events.metadata.received_at` (the audit
//! statement's start, PostgreSQL's clock): from the writer's commit (the moment its `INSERT`
//! returned, read from the same machine's clock: the "commit to consumer"), and from
//! `outbox.created_at` (the writer's transaction start, so it adds the writer's own commit
//! wait, including any WAL flush stall). Two part rows split the first at the dispatcher's
//! claim (`outbox.delivered_at`, the claiming transaction's start).
//!
//! `cargo run --release -p bench-events -- [--window secs] [latency_rate] [latency_secs]
//! [ramp rates...]` (defaults: 200 events/s for 20 s, then 500 1000 1500 2000 events/s for a
//! 10 s window each).
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
/// Returns each written event's id with when its commit returned (Unix milliseconds).
async fn write(db_url: &str, rate: u64, seconds: u64) -> Result<Vec<(String, f64)>> {
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
            let mut committed = Vec::new();
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
                let at = chrono::Utc::now().timestamp_micros() as f64 / 1000.0;
                committed.push((event.id().to_string(), at));
            }
            anyhow::Ok(committed)
        }));
    }
    let mut written = Vec::new();
    for writer in writers {
        written.extend(writer.await??);
    }
    Ok(written)
}

/// The `q` quantile (0..=1) of sorted `values`, nearest rank.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(label: &str, mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    format!(
        "| {label} | {} | {:.0} | {:.0} | {:.0} | {:.0} |",
        ms.len(),
        quantile(&ms, 0.5),
        quantile(&ms, 0.95),
        quantile(&ms, 0.99),
        ms.last().copied().unwrap_or(f64::NAN)
    )
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
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut window = 10;
    if let Some(at) = args.iter().position(|a| a == "--window") {
        window = args
            .get(at + 1)
            .context("--window takes a number of seconds")?
            .parse()?;
        args.drain(at..at + 2);
    }
    let args: Vec<u64> = args
        .iter()
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

    // Steady state: the first cron tick comes at the next whole second after start-up, so
    // events written before it would wait for it. One event through first.
    write(&db.url(), WRITERS as u64, 1).await?;
    drain(&sql, WRITERS as i64)
        .await?
        .context("the warm-up events were never stored")?;
    sql.batch_execute("DELETE FROM events; DELETE FROM outbox")
        .await?;

    println!("## Latency at {latency_rate} events/s for {latency_secs} s");
    let written = write(&db.url(), latency_rate, latency_secs).await?;
    let drained = drain(&sql, written.len() as i64).await?;
    let committed: std::collections::HashMap<String, f64> = written.into_iter().collect();
    let rows = sql
        .query(
            "SELECT e.id::text, \
                    (extract(epoch FROM (e.metadata ->> 'received_at')::timestamptz) * 1000)::float8, \
                    (extract(epoch FROM o.created_at) * 1000)::float8, \
                    (extract(epoch FROM o.delivered_at) * 1000)::float8 \
             FROM events e JOIN outbox o ON o.id = e.id",
            &[],
        )
        .await?;
    let (mut from_commit, mut from_start) = (Vec::new(), Vec::new());
    let (mut to_claim, mut from_claim) = (Vec::new(), Vec::new());
    for row in rows {
        let (id, received, started, claimed): (String, f64, f64, f64) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        if let Some(commit) = committed.get(&id) {
            from_commit.push(received - commit);
            to_claim.push(claimed - commit);
        }
        from_start.push(received - started);
        from_claim.push(received - claimed);
    }
    println!("| from | events | p50 ms | p95 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|---|");
    println!("{}", summary("writer's commit", from_commit));
    println!("{}", summary("writer's transaction start", from_start));
    println!(
        "{}",
        summary("(part) commit to the dispatcher's claim", to_claim)
    );
    println!("{}", summary("(part) the claim to audit", from_claim));
    println!("\ndrained {drained:?} after writing stopped");

    println!("\n## Throughput, {window} s at each rate");
    println!(
        "| offered events/s | written | written/s | stored/s while writing | backlog at end (outbox) | not yet stored at end | drained after |"
    );
    println!("|---|---|---|---|---|---|---|");
    for rate in ramp {
        let stored_before = count(&sql, "SELECT count(*) FROM events").await?;
        let started = Instant::now();
        let written = write(&db.url(), rate, window).await?.len();
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
