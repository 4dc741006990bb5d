//! The daily tick: every live fixed pattern whose generated horizon ends before
//! `now + recurrence_horizon_days` gets a pass up to it. Patterns are claimed in batches, each
//! in its own short transaction with `FOR UPDATE SKIP LOCKED`, so replicas share the work and a
//! failure loses at most one batch (the next tick takes it again). A batch is a constant
//! number of statements (`series::generate::fixed_passes`), whatever its instance count.

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
            let done = generate::fixed_passes(conn, &patterns, now, now, horizon_days, &origin)?;
            if done.skipped > 0 {
                platform::log::warn(
                    "recurrence",
                    &format!(
                        "{} patterns skipped: their rules need too much work to expand",
                        done.skipped
                    ),
                    &[],
                );
            }
            Ok::<_, StoreError>((patterns.len(), done.instances))
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

/// `POST /ticks/recurrence` (the `tick_token`, [`platform::tick::route`]).
pub fn route(req: Request, _: Params) -> Response {
    platform::tick::route("recurrence", &req, || {
        run().map(|report| {
            serde_json::json!({ "patterns": report.patterns, "instances": report.instances })
        })
    })
}
