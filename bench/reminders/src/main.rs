//! Reminders benchmark (bench/RESULTS.md, "Reminders"). Runs the real `spin.toml` through
//! spin-host against a fresh database and a private Redis:
//!
//! 1. 100,000 pending reminders, 10,000 of them due within the same minute (one every 6 ms),
//!    fired by `reminders-cron` (the tick every second): the firing lag (fired_at -
//!    scheduled_time) p50/p95/p99/max, and the time from the minute's first reminder to the last
//!    one fired.
//! 2. Then 10,000 due at the same instant: the same figures.
//! 3. 1,000,000 pending reminders (none due): the cost of a tick through `POST /ticks/reminders`
//!    (instance, connection, claim query), then of a tick that fires 500.
//!
//! `cargo run --release -p bench-reminders` (builds nothing else: build the components first).

use std::time::{Duration, Instant};

use anyhow::Result;
use e2e::{TestApp, TestDb, TestRedis, pg};

const USER: &str = "00000000-0000-4000-8000-000000000001";

async fn seed(db: &tokio_postgres::Client, tasks: i32) -> Result<()> {
    db.batch_execute(&format!(
        "INSERT INTO users (id, email, password_hash) VALUES ('{USER}', 'bench@example.com', 'x');
         INSERT INTO tasks (id, user_id, title, due_date)
           SELECT gen_random_uuid(), '{USER}', 'Task ' || g, now() + interval '2 days'
           FROM generate_series(1, {tasks}) g;"
    ))
    .await?;
    Ok(())
}

/// Inserts `count` pending reminders spread over the tasks, the n-th at `first + n * step`.
async fn reminders(db: &tokio_postgres::Client, count: i64, first: &str, step: &str) -> Result<()> {
    db.batch_execute(&format!(
        "WITH t AS (SELECT array_agg(id) AS ids, count(*) AS n FROM tasks)
         INSERT INTO reminders (id, task_id, user_id, scheduled_time, status, notification_channels)
         SELECT gen_random_uuid(), t.ids[1 + (g % t.n)], '{USER}', {first} + g * interval '{step}',
                'pending', '[\"in_app\"]'
         FROM generate_series(0, {count} - 1) g, t;"
    ))
    .await?;
    Ok(())
}

async fn count(db: &tokio_postgres::Client, sql: &str) -> Result<i64> {
    Ok(db.query_one(sql, &[]).await?.get(0))
}

/// Waits until `target` reminders of this scenario have fired, then prints their lag figures.
async fn report(
    db: &tokio_postgres::Client,
    label: &str,
    target: i64,
    within: Duration,
) -> Result<()> {
    let deadline = Instant::now() + within;
    loop {
        let fired = count(
            db,
            "SELECT count(*) FROM reminders WHERE status = 'fired' AND bench_batch IS NULL",
        )
        .await?;
        if fired >= target || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let row = db
        .query_one(
            "SELECT count(*)::int8,
                    percentile_cont(0.5) WITHIN GROUP (ORDER BY lag),
                    percentile_cont(0.95) WITHIN GROUP (ORDER BY lag),
                    percentile_cont(0.99) WITHIN GROUP (ORDER BY lag),
                    max(lag),
                    extract(epoch FROM max(fired_at) - min(scheduled_time))::float8,
                    extract(epoch FROM max(fired_at) - max(scheduled_time))::float8
             FROM (SELECT fired_at, scheduled_time,
                          extract(epoch FROM fired_at - scheduled_time)::float8 AS lag
                   FROM reminders WHERE status = 'fired' AND bench_batch IS NULL) f",
            &[],
        )
        .await?;
    let (n, p50, p95, p99, max, span, tail): (i64, f64, f64, f64, f64, f64, f64) = (
        row.get(0),
        row.get(1),
        row.get(2),
        row.get(3),
        row.get(4),
        row.get(5),
        row.get(6),
    );
    println!(
        "| {label} | {n} | {p50:.3} | {p95:.3} | {p99:.3} | {max:.3} | {span:.1} | {tail:.3} |"
    );
    // Mark them, so the next scenario's figures are its own.
    db.batch_execute(
        "UPDATE reminders SET bench_batch = 1 WHERE status = 'fired' AND bench_batch IS NULL",
    )
    .await?;
    Ok(())
}

async fn tick(client: &reqwest::Client, base: &str) -> Result<f64> {
    let started = Instant::now();
    let response = client
        .post(format!("{base}/ticks/reminders"))
        .bearer_auth("test-tick-token")
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "tick: {}",
        response.status()
    );
    response.bytes().await?;
    Ok(started.elapsed().as_secs_f64() * 1000.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() -> Result<()> {
    // 1 and 2: the burst among 100,000 pending.
    let db = TestDb::create().await?;
    let redis = TestRedis::start().await?;
    let app = TestApp::new(&db.url()).var("redis_url", &redis.url());
    app.migrate().await?;
    let sql = pg(&db.url()).await?;
    // A bench-only column to tell the scenarios' rows apart (the database is thrown away).
    sql.batch_execute("ALTER TABLE reminders ADD COLUMN bench_batch int")
        .await?;
    seed(&sql, 1000).await?;
    reminders(&sql, 90_000, "now() + interval '1 day'", "1 second").await?;
    reminders(
        &sql,
        10_000,
        "now() + interval '20 seconds'",
        "6 milliseconds",
    )
    .await?;
    sql.batch_execute("ANALYZE reminders").await?;
    println!(
        "| scenario | fired | p50 s | p95 s | p99 s | max s | first due → last fired s | last due → last fired s |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let _served = app.serve(&["reminders-cron"]).await?;
    report(
        &sql,
        "10,000 due within one minute, 100,000 pending",
        10_000,
        Duration::from_secs(150),
    )
    .await?;
    reminders(
        &sql,
        10_000,
        "date_trunc('second', now()) + interval '10.5 seconds'",
        "0 seconds",
    )
    .await?;
    report(
        &sql,
        "10,000 due at the same instant, 90,000 pending",
        10_000,
        Duration::from_secs(90),
    )
    .await?;
    drop(sql);

    // 3: the tick's cost with 1,000,000 pending.
    let db = TestDb::create().await?;
    let app = TestApp::new(&db.url()).var("redis_url", &redis.url());
    app.migrate().await?;
    let sql = pg(&db.url()).await?;
    seed(&sql, 1000).await?;
    reminders(
        &sql,
        1_000_000,
        "now() + interval '1 day'",
        "50 milliseconds",
    )
    .await?;
    sql.batch_execute("ANALYZE reminders").await?;
    let base = app.serve(&["reminders"]).await?;
    let client = reqwest::Client::new();
    for _ in 0..5 {
        tick(&client, &base).await?;
    }
    let mut idle = Vec::new();
    for _ in 0..50 {
        idle.push(tick(&client, &base).await?);
    }
    idle.sort_by(f64::total_cmp);
    let mut busy = Vec::new();
    for _ in 0..10 {
        reminders(&sql, 500, "now() - interval '1 second'", "0 seconds").await?;
        busy.push(tick(&client, &base).await?);
    }
    busy.sort_by(f64::total_cmp);
    let plan: Vec<String> = sql
        .query(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) SELECT r.id FROM reminders r JOIN tasks t ON t.id = r.task_id \
             WHERE r.status = 'pending' AND r.scheduled_time <= now() \
             ORDER BY r.scheduled_time LIMIT 500 FOR UPDATE OF r SKIP LOCKED",
            &[],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let pending = count(
        &sql,
        "SELECT count(*) FROM reminders WHERE status = 'pending'",
    )
    .await?;
    println!();
    println!("| tick with {pending} pending | runs | p50 ms | p95 ms | max ms |");
    println!("|---|---|---|---|---|");
    println!(
        "| nothing due | {} | {:.2} | {:.2} | {:.2} |",
        idle.len(),
        percentile(&idle, 0.5),
        percentile(&idle, 0.95),
        idle[idle.len() - 1]
    );
    println!(
        "| 500 due | {} | {:.2} | {:.2} | {:.2} |",
        busy.len(),
        percentile(&busy, 0.5),
        percentile(&busy, 0.95),
        busy[busy.len() - 1]
    );
    println!();
    println!("Claim query plan with nothing due:");
    for line in plan {
        println!("    {line}");
    }
    Ok(())
}
