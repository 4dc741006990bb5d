//! The tick: fires every reminder that is due, in claimed batches.
//!
//! Each batch is one short transaction: claim up to [`BATCH`] due rows with
//! `FOR UPDATE SKIP LOCKED` and mark them fired (one statement), then write one
//! `reminders.reminder.fired` event per row to the outbox (one statement for the batch). Replicas running the same tick skip
//! each other's rows, so nothing fires twice and no leader is needed. A tick stops after
//! [`BUDGET`] so it never overlaps the next one by much; what is left is fired by the next.

use std::time::{Duration, Instant};

use domain::reminder::ReminderFired;
use domain::task::TaskTitle;
use platform::db;

use crate::error::Error;
use crate::event;
use crate::store;

/// Rows claimed per transaction.
pub const BATCH: i64 = 500;
/// How long one tick keeps claiming batches.
pub const BUDGET: Duration = Duration::from_millis(900);
/// Fired events a tick publishes itself right after commit (the latency fast path); beyond
/// these, a burst is left to the dispatcher, which publishes in batches.
pub const INLINE_PUBLISH: usize = 10;

/// What a tick did.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct TickReport {
    /// Reminders fired.
    pub fired: usize,
    /// The largest firing lag among them, in seconds.
    pub max_lag_seconds: f64,
}

/// Runs one tick (called by the cron trigger and by `POST /ticks/reminders`).
pub fn run() -> Result<TickReport, Error> {
    let conn = db::open()?;
    let started = Instant::now();
    let mut report = TickReport::default();
    loop {
        let fired = db::transaction(&conn, |conn| {
            let rows = store::claim_due(conn, BATCH)?;
            let mut events = Vec::with_capacity(rows.len());
            for row in &rows {
                let data = ReminderFired {
                    reminder_id: row.id,
                    task_id: row.task_id,
                    user_id: row.user_id,
                    task_title: TaskTitle::parse(&row.task_title)
                        .map_err(|err| Error::Internal(format!("task title: {err}")))?,
                    due_date: row.due_date,
                    notification_channels: serde_json::from_value(row.channels.clone())
                        .map_err(|err| Error::Internal(format!("stored channels: {err}")))?,
                    scheduled_time: row.scheduled_time,
                    fired_at: row.fired_at,
                };
                events.push((data.lag_seconds(), event(&data)));
            }
            let batch: Vec<_> = events.iter().map(|(_, event)| event.clone()).collect();
            platform::outbox::enqueue_many(conn, &batch)?;
            Ok::<_, Error>(events)
        })?;
        for (_, event) in fired
            .iter()
            .take(INLINE_PUBLISH.saturating_sub(report.fired))
        {
            platform::publish::after_commit(&conn, event);
        }
        report.fired += fired.len();
        report.max_lag_seconds = fired
            .iter()
            .map(|(lag, _)| *lag)
            .fold(report.max_lag_seconds, f64::max);
        if (fired.len() as i64) < BATCH || started.elapsed() >= BUDGET {
            break;
        }
    }
    if report.fired > 0 {
        platform::log::info(
            "reminders",
            &format!(
                "fired {} (max lag {:.3} s) in {} ms",
                report.fired,
                report.max_lag_seconds,
                started.elapsed().as_millis()
            ),
            &[],
        );
    }
    Ok(report)
}
