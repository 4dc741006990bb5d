//! Retention: events older than `audit_retention_days` (default 90) are deleted by a daily
//! tick, run by the cron trigger (`audit-cron`) or `POST /ticks/audit` (bearer `tick_token`).
//!
//! The same tick deletes every consumer's receipts (`consumer_receipts`) older than the
//! retention whose event is gone from the audit log and the outbox and owed to no one: the audit
//! log is the furthest back replay can reach, so past it a receipt protects nothing, and
//! without this the table would grow by a row per event per consumer forever.

use platform::config;
use platform::db::{self, DbError};
use spin_sdk::http::{Params, Request, Response};

use crate::store;

/// The variable holding the retention period in days.
pub const RETENTION_DAYS: &str = "audit_retention_days";

/// A retention tick's failure.
#[derive(Debug)]
pub enum RetentionError {
    /// The variable is not a positive whole number of days.
    Config(config::ConfigError),
    /// The database.
    Db(DbError),
}

impl std::fmt::Display for RetentionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Config(err) => err.fmt(f),
            Self::Db(err) => err.fmt(f),
        }
    }
}

/// The retention period in days.
pub fn retention_days() -> Result<i64, config::ConfigError> {
    config::days(RETENTION_DAYS, 90)
}

/// What a retention tick deleted.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Report {
    /// Events past the retention.
    pub deleted: u64,
    /// Receipts whose event is gone everywhere.
    pub receipts_deleted: u64,
}

/// Deletes expired events, then the receipts they leave spent.
pub fn run() -> Result<Report, RetentionError> {
    let days = retention_days().map_err(RetentionError::Config)?;
    let conn = db::open().map_err(RetentionError::Db)?;
    let deleted = store::delete_older_than(&conn, days).map_err(RetentionError::Db)?;
    let receipts_deleted = store::delete_spent_receipts(&conn, days).map_err(RetentionError::Db)?;
    platform::log::info(
        "audit",
        &format!(
            "retention: deleted {deleted} events and {receipts_deleted} spent receipts older than {days} days"
        ),
        &[],
    );
    Ok(Report {
        deleted,
        receipts_deleted,
    })
}

/// `POST /ticks/audit` (the `tick_token`, [`platform::tick::route`]).
pub fn route(req: Request, _: Params) -> Response {
    platform::tick::route("audit", &req, run)
}
