//! Recurring series as stored: the SQL of `recurrence_patterns` and their instances
//! (migration 0006), and the generation passes that turn `domain::recurrence` plans into
//! tasks. Shared by `api`, which owns the patterns and generates the first horizon when one is
//! created or changed, and `recurrence`, whose daily tick extends every horizon and which makes
//! the next instance of an after-completion series when one is completed.
//!
//! # Layout
//!
//! - [`store`]: the SQL.
//! - [`generate`]: generation passes (fixed horizon, after completion) and their events.

pub mod generate;
pub mod store;

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use domain::event::{CloudEvent, EventData, EventHeader, EventId, Source, Traceparent};
use domain::recurrence::RecurrenceError;
use domain::time::Timestamp;
use platform::db::{Connection, DbError};
use platform::outbox;

/// Why a store or generation step failed.
#[derive(Debug)]
pub enum StoreError {
    /// The database.
    Db(DbError),
    /// A stored value that does not parse (a bug or a hand-edited row).
    Corrupt(String),
    /// The rule refused the work (its expansion limit): the caller's input, where it has one.
    Rule(RecurrenceError),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Db(err) => err.fmt(f),
            Self::Corrupt(what) => f.write_str(what),
            Self::Rule(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<DbError> for StoreError {
    fn from(err: DbError) -> Self {
        Self::Db(err)
    }
}

/// A fresh UUIDv7 event id: the host clock's milliseconds and 74 random bits.
pub fn event_id() -> Result<EventId, StoreError> {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let mut random = [0u8; 10];
    getrandom::fill(&mut random).map_err(|err| StoreError::Corrupt(format!("event id: {err}")))?;
    let id = uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid();
    EventId::new(id).map_err(|err| StoreError::Corrupt(format!("event id: {err}")))
}

/// Writes the event announcing `data` to the outbox, in the caller's transaction.
pub fn enqueue<D: EventData>(
    conn: &Connection,
    data: &D,
    time: Timestamp,
    source: Source,
    traceparent: Option<&Traceparent>,
) -> Result<(), StoreError> {
    let header = EventHeader {
        id: event_id()?,
        time,
        source,
        traceparent: traceparent.cloned(),
    };
    outbox::enqueue(conn, &CloudEvent::from_data(data, header))?;
    Ok(())
}
