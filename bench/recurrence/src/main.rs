//! Horizon generation for many recurring patterns, two ways:
//!
//! 1. **Expansion** (`domain::recurrence`, natively, no I/O): each pattern's first 30-day
//!    horizon pass (`RecurrenceRule::parse` of the stored rule + `plan_horizon`), as the tick
//!    does per pattern.
//! 2. **The tick** (`recurrence.wasm` through `spin-host`, a fresh database): N patterns are
//!    seeded with SQL, then one `POST /ticks/recurrence` generates every pattern's horizon:
//!    claiming batches with `FOR UPDATE SKIP LOCKED`, inserting each instance with its
//!    `recurring.instance.generated` outbox row, recording each pass. Timed from the request to
//!    its response; instance and outbox counts are checked afterwards.
//!
//! The patterns cycle through five rules (daily; Mon/Wed/Fri; the 15th monthly; the second
//! Tuesday monthly; every other Thursday) in five zones, starting today.
//!
//! `cargo run --release -p bench-recurrence -- [pattern counts...]` (default: 10000 100000);
//! `--expansion-only` skips the tick.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::{TimeDelta, Utc};
use domain::recurrence::{RecurrenceRule, Timezone};
use e2e::{TestApp, TestDb, pg};

const RULES: &[&str] = &[
    "FREQ=DAILY",
    "FREQ=WEEKLY;BYDAY=MO,WE,FR",
    "FREQ=MONTHLY;BYMONTHDAY=15",
    "FREQ=MONTHLY;BYDAY=2TU",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",
];
const ZONES: &[&str] = &[
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
];
const HORIZON_DAYS: u32 = 30;

fn expansion(patterns: usize) -> Result<(usize, Duration)> {
    let now = Utc::now();
    let start = (now + TimeDelta::hours(1)).naive_utc();
    let began = Instant::now();
    let mut instances = 0;
    for i in 0..patterns {
        let zone = Timezone::parse(ZONES[i % ZONES.len()])?;
        let rule = RecurrenceRule::parse(RULES[i % RULES.len()], start, zone, &[])?;
        instances += rule
            .plan_horizon(None, now, HORIZON_DAYS)?
            .occurrences
            .len();
    }
    Ok((instances, began.elapsed()))
}

async fn tick(patterns: usize) -> Result<(i64, i64, Duration)> {
    let db = TestDb::create().await?;
    let app = TestApp::new(&db.url());
    app.migrate().await?;
    let base = app.serve(&["recurrence"]).await?;
    let client = pg(&db.url()).await?;
    client
        .batch_execute(
            "INSERT INTO users (id, email, password_hash) VALUES \
             ('00000000-0000-4000-8000-000000000001', 'bench@example.com', 'x')",
        )
        .await?;
    let rules = serde_json::to_string(RULES)?;
    let zones = serde_json::to_string(ZONES)?;
    client
        .execute(
            "INSERT INTO recurrence_patterns (user_id, task_template, frequency, rrule, dtstart, \
             timezone) \
             SELECT '00000000-0000-4000-8000-000000000001', \
             '{\"title\": \"Bench\", \"description\": null, \"priority\": \"medium\", \
               \"reminder_minutes_before\": 10, \"tags\": []}'::jsonb, 'custom', \
             ($1::text::jsonb) ->> (i % 5), \
             date_trunc('hour', now() AT TIME ZONE 'UTC') + interval '1 hour', \
             ($2::text::jsonb) ->> (i % 5) \
             FROM generate_series(0, $3::int - 1) i",
            &[&rules, &zones, &(patterns as i32)],
        )
        .await?;
    let began = Instant::now();
    let response = reqwest::Client::new()
        .post(format!("{base}/ticks/recurrence"))
        .bearer_auth("test-tick-token")
        .timeout(Duration::from_secs(3600))
        .send()
        .await?;
    let elapsed = began.elapsed();
    anyhow::ensure!(
        response.status().is_success(),
        "tick: {}",
        response.status()
    );
    let body: serde_json::Value = response.json().await?;
    let count = |sql: &'static str| {
        let client = &client;
        async move {
            client
                .query_one(sql, &[])
                .await
                .map(|row| row.get::<_, i64>(0))
                .context(sql)
        }
    };
    let tasks = count("SELECT count(*) FROM tasks").await?;
    let events =
        count("SELECT count(*) FROM outbox WHERE topic = 'recurring.instance.generated'").await?;
    anyhow::ensure!(tasks == events, "{tasks} tasks but {events} events");
    anyhow::ensure!(
        body["patterns"] == serde_json::json!(patterns),
        "tick answered {body}"
    );
    Ok((tasks, body["instances"].as_i64().unwrap_or(-1), elapsed))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let expansion_only = args.iter().any(|a| a == "--expansion-only");
    let mut counts: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if counts.is_empty() {
        counts = vec![10_000, 100_000];
    }
    println!("| patterns | path | instances | total s | instances/s | patterns/s |");
    println!("|---|---|---|---|---|---|");
    for &n in &counts {
        let (instances, elapsed) = expansion(n)?;
        let secs = elapsed.as_secs_f64();
        println!(
            "| {n} | expansion (domain) | {instances} | {secs:.2} | {:.0} | {:.0} |",
            instances as f64 / secs,
            n as f64 / secs
        );
        if expansion_only {
            continue;
        }
        let (tasks, reported, elapsed) = tick(n).await?;
        let secs = elapsed.as_secs_f64();
        println!(
            "| {n} | tick (recurrence.wasm, PostgreSQL) | {tasks} (reported {reported}) | {secs:.2} | {:.0} | {:.0} |",
            tasks as f64 / secs,
            n as f64 / secs
        );
    }
    Ok(())
}
