//! One dispatcher tick, the same work whether the cron trigger or `POST /ticks/dispatcher`
//! started it:
//!
//! 1. look at the `event_deliveries` rows that are due: those whose consumer has recorded its
//!    receipt are settled (their rows go, thousands to a statement); for the rest, the event
//!    is published again with the wait doubled ([`RedeliveryPolicy`]), or, out of attempts,
//!    becomes a dead letter;
//! 2. prune up to [`PRUNE_BATCH`] delivered outbox rows older than `outbox_retention_days`
//!    (default 7, the Kafka topics' retention) that no consumer still owes a receipt for;
//! 3. publish due outbox rows ([`platform::publish::publish_due`]), and keep doing so until
//!    the tick's time budget (900 ms) is spent, polling every [`POLL`] when the outbox is
//!    empty. Ticks come once a second, so a tick that only published what was there at its
//!    start would leave an event committed just after it waiting up to a second; polling
//!    within the tick bounds that wait by the poll interval whether or not the writer used
//!    the inline fast path. The poll is one claim on `outbox_pending_id_idx`.
//!
//! Every step claims its rows with `FOR UPDATE SKIP LOCKED` in a short transaction, so any
//! number of dispatchers (and the API's inline fast path) can run at once.

use std::time::{Duration, Instant};

use domain::event::RedeliveryPolicy;
use platform::db::{self, DbError};
use platform::publish::{self, Publisher};
use serde::Serialize;
use spin_sdk::http::{Params, Request, Response};

use crate::store;

/// Rows claimed per transaction.
const BATCH: i64 = 200;

/// A tick stops starting new batches after this long, so ticks a second apart do not pile up
/// (the cron trigger skips a tick while the previous one runs).
const BUDGET: Duration = Duration::from_millis(900);

/// How long a tick waits before looking at an empty outbox again.
pub const POLL: Duration = Duration::from_millis(20);

/// Due deliveries settled per statement (those whose receipt arrived: no event is read).
const SETTLE_BATCH: i64 = 5000;

/// Outbox rows pruned per tick at most: a second's worth at well above the measured peak
/// rate, so pruning keeps up with writing, in a statement short enough not to hold up the tick.
const PRUNE_BATCH: i64 = 5000;

/// The variable holding how many days a delivered outbox row is kept.
pub const OUTBOX_RETENTION_DAYS: &str = "outbox_retention_days";

/// What a tick did, for the tick route's reply and the log.
#[derive(Debug, Default, Serialize)]
pub struct TickReport {
    /// Outbox rows published.
    pub published: usize,
    /// Outbox rows whose publication failed (retried with backoff).
    pub publish_failures: usize,
    /// (event, consumer) pairs whose receipt arrived.
    pub settled: usize,
    /// (event, consumer) pairs published again.
    pub redelivered: usize,
    /// (event, consumer) pairs that became dead letters.
    pub dead_lettered: usize,
    /// Delivered outbox rows pruned.
    pub pruned: u64,
}

/// A tick's failure.
#[derive(Debug)]
pub enum TickError {
    /// The database.
    Db(DbError),
    /// The transport's settings.
    Config(platform::config::ConfigError),
}

impl std::fmt::Display for TickError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Db(err) => err.fmt(f),
            Self::Config(err) => err.fmt(f),
        }
    }
}

impl From<DbError> for TickError {
    fn from(err: DbError) -> Self {
        Self::Db(err)
    }
}

/// Runs one tick.
pub fn run() -> Result<TickReport, TickError> {
    let started = Instant::now();
    let conn = db::open()?;
    let mut publisher = Publisher::from_config().map_err(TickError::Config)?;
    let mut report = TickReport::default();
    loop {
        let settled = store::settle_received(&conn, SETTLE_BATCH)?;
        report.settled += settled as usize;
        if settled < SETTLE_BATCH as u64 || started.elapsed() > BUDGET {
            break;
        }
    }
    loop {
        let round = store::redeliver_due(&conn, &mut publisher, BATCH, RedeliveryPolicy::STANDARD)?;
        report.settled += round.settled;
        report.redelivered += round.redelivered;
        report.dead_lettered += round.dead_lettered;
        if round.claimed < BATCH as usize || started.elapsed() > BUDGET {
            break;
        }
    }
    let retention = platform::config::days(OUTBOX_RETENTION_DAYS, 7).map_err(TickError::Config)?;
    report.pruned = store::prune_outbox(&conn, retention, PRUNE_BATCH)?;
    while started.elapsed() < BUDGET {
        let round = publish::publish_due(&conn, &mut publisher, BATCH)?;
        report.published += round.delivered;
        report.publish_failures += round.failed;
        // A failing transport is retried by the outbox row's own backoff, not by polling.
        if round.failed > 0 {
            break;
        }
        if round.delivered < BATCH as usize {
            std::thread::sleep(POLL);
        }
    }
    if report.publish_failures + report.redelivered + report.dead_lettered > 0 || report.pruned > 0
    {
        platform::log::info(
            "dispatcher",
            &format!(
                "tick: published {}, failed {}, settled {}, redelivered {}, dead-lettered {}, pruned {}",
                report.published,
                report.publish_failures,
                report.settled,
                report.redelivered,
                report.dead_lettered,
                report.pruned
            ),
            &[],
        );
    }
    Ok(report)
}

/// `POST /ticks/dispatcher` (the `tick_token`, [`platform::tick::route`]).
pub fn route(req: Request, _: Params) -> Response {
    platform::tick::route("dispatcher", &req, run)
}
