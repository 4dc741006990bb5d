//! The daily tick: every live fixed pattern whose generated horizon ends before
//! `now + recurrence_horizon_days` gets a pass up to it. Patterns are claimed in batches, each
//! in its own short transaction with `FOR UPDATE SKIP LOCKED`, so replicas share the work and a
//! failure loses at most one batch (the next tick takes it again).

use std::time::SystemTime;

use chrono::{DateTime, TimeDelta, Utc};
use domain::event::Source;
use platform::config;
use platform::db;
use series::StoreError;
use series::generate::{self, DEFAULT_HORIZON_DAYS, Origin};
use series::store;
use spin_sdk::http::{Params, Request, Response};

/// The variable holding the horizon in days.
pub const HORIZON_DAYS: &str = "recurrence_horizon_days";

/// Patterns per transaction.
pub const BATCH: u32 = 200;

/// What a tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Patterns whose horizon was extended.
    pub patterns: usize,
    /// Instances made.
    pub instances: usize,
}

/// The horizon in days (1 to 366; 30 when unset or not a number).
pub fn horizon_days() -> u32 {
    config::optional(HORIZON_DAYS)
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse().ok())
        .filter(|days| (1..=366).contains(days))
        .unwrap_or(DEFAULT_HORIZON_DAYS)
}

/// Runs the tick at the host's time.
pub fn run() -> Result<TickReport, StoreError> {
    run_at(DateTime::<Utc>::from(SystemTime::now()), horizon_days())
}

/// Runs the tick as of `now`.
pub fn run_at(now: DateTime<Utc>, horizon_days: u32) -> Result<TickReport, StoreError> {
    let conn = db::open()?;
    let origin = Origin {
        source: Source::Recurrence,
        traceparent: None,
    };
    // A pattern is behind when its horizon ends a day or more before where it should: a daily
    // tick then tops each pattern up once a day rather than every pattern on every run.
    let behind = now + TimeDelta::days(i64::from(horizon_days) - 1);
    let mut report = TickReport::default();
    loop {
        let batch = db::transaction(&conn, |conn| {
            let patterns = store::claim_behind(conn, behind, BATCH)?;
            let mut made = 0;
            for pattern in &patterns {
                made += match generate::pass(conn, pattern, now, horizon_days, &origin) {
                    Ok(made) => made,
                    // One pattern whose rule cannot be expanded (its work limit) must not stop
                    // the others: it is recorded as generated to the horizon and logged.
                    Err(StoreError::Rule(err)) => {
                        platform::log::warn(
                            "recurrence",
                            &format!("pattern skipped: {err}"),
                            &[("pattern_id", &pattern.id.to_string())],
                        );
                        store::record_pass(
                            conn,
                            pattern.id,
                            Some(now + TimeDelta::days(i64::from(horizon_days))),
                            0,
                        )?;
                        0
                    }
                    Err(err) => return Err(err),
                };
            }
            Ok::<_, StoreError>((patterns.len(), made))
        })?;
        report.patterns += batch.0;
        report.instances += batch.1;
        if batch.0 < BATCH as usize {
            break;
        }
    }
    platform::log::info(
        "recurrence",
        &format!(
            "tick: {} patterns extended, {} instances made",
            report.patterns, report.instances
        ),
        &[],
    );
    Ok(report)
}

/// `POST /ticks/recurrence` (bearer `tick_token`).
pub fn route(req: Request, _: Params) -> Response {
    if let Err(problem) = platform::tick::authorize(&req) {
        return problem.into();
    }
    match run() {
        Ok(report) => platform::response::json(
            200,
            &serde_json::json!({ "patterns": report.patterns, "instances": report.instances }),
        ),
        Err(err) => {
            platform::log::error("recurrence", &format!("tick failed: {err}"), &[]);
            platform::problem::Problem::new(500).into()
        }
    }
}
