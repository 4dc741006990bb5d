//! The audit component's SQL, over `events` (migration 0005) and its `consumer_receipts`.
//! `user_id` is stored only while the account exists (the column's foreign key would otherwise
//! refuse the event of a deleted account).

use std::collections::HashSet;

use domain::event::CloudEvent;
use platform::db::DbError;
use spin_sdk::pg4::{Connection, DbValue, ParameterValue};

/// The receipts and the rows of a batch of events in one statement: the audit consumer's whole
/// effect, so it needs no `BEGIN`/`COMMIT` round trips (data-modifying CTEs run atomically in
/// the statement's own transaction). A row is inserted only from its receipt's `RETURNING`, so
/// a duplicate (an event already received, or twice in the batch) inserts neither.
/// `set_config(..., true)` is `SET LOCAL synchronous_commit TO off` for this statement's
/// transaction, for the reason given in `platform::consume::apply_once`. The events are seven
/// parallel arrays; returns the ids stored by this call.
const STORE_ONCE: &str = "WITH input AS ( \
       SELECT t.id::uuid AS id, t.event_type, t.aggregate_id::uuid AS aggregate_id, \
              t.user_id::uuid AS user_id, t.payload::jsonb AS payload, \
              t.created_at::timestamptz AS created_at, t.version::int4 AS version, t.n \
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) \
            WITH ORDINALITY AS t(id, event_type, aggregate_id, user_id, payload, created_at, version, n)), \
     receipt AS ( \
       INSERT INTO consumer_receipts (consumer, event_id) \
       SELECT $8, input.id FROM input, (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed \
       ORDER BY input.n \
       ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id), \
     stored AS ( \
       INSERT INTO events (id, event_type, aggregate_id, user_id, payload, metadata, created_at, version) \
       SELECT DISTINCT ON (input.id) input.id, input.event_type, input.aggregate_id, users.id, input.payload, \
              jsonb_build_object('transport', $9::text, 'received_at', now()), input.created_at, input.version \
       FROM receipt JOIN input ON input.id = receipt.event_id LEFT JOIN users ON users.id = input.user_id \
       ORDER BY input.id, input.n \
       ON CONFLICT (id) DO NOTHING RETURNING id) \
     SELECT event_id::text FROM receipt";

const COLUMNS: &str = "id::text, event_type, aggregate_id::text, user_id::text, payload::text, metadata::text, \
     to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), version";

/// Every filter is optional (`NULL` = no filter); `$1` is the owner for non-admins; `$6`/`$7`
/// the keyset cursor (the last item's time and id).
fn list_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM events \
         WHERE ($1::text IS NULL OR user_id = $1::text::uuid) \
           AND ($2::text IS NULL OR event_type = $2::text) \
           AND ($3::text IS NULL OR payload ->> 'subject' = $3::text) \
           AND ($4::text IS NULL OR created_at >= $4::text::timestamptz) \
           AND ($5::text IS NULL OR created_at < $5::text::timestamptz) \
           AND ($6::text IS NULL OR (created_at, id) < ($6::text::timestamptz, $7::text::uuid)) \
         ORDER BY events.created_at DESC, events.id DESC LIMIT $8"
    )
}

fn one_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM events WHERE id = $1::text::uuid \
         AND ($2::text IS NULL OR user_id = $2::text::uuid)"
    )
}

/// Receipts that can never matter again: older than `$1` days, for an event that no source
/// can deliver any more (gone from the audit log and the outbox) and no consumer is still owed
/// (no `event_deliveries` row, live or dead). Replay reads only the outbox and the audit log,
/// and redelivery only what `event_deliveries` lists, so such a receipt guards nothing.
const DELETE_SPENT_RECEIPTS: &str = "DELETE FROM consumer_receipts r \
     WHERE r.processed_at < now() - $1::int8 * interval '1 day' \
       AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = r.event_id) \
       AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = r.event_id) \
       AND NOT EXISTS (SELECT 1 FROM event_deliveries d WHERE d.event_id = r.event_id)";

const DELETE_OLD: &str =
    "DELETE FROM events WHERE created_at < now() - $1::int8 * interval '1 day'";

/// Records `consumer`'s receipt for each of `events` and stores those not received before, in
/// one statement; returns the ids of the events stored now (a duplicate is not among them).
pub fn store_once(
    conn: &Connection,
    consumer: &str,
    events: &[CloudEvent],
    transport: &str,
) -> Result<HashSet<String>, DbError> {
    let column = |value: &dyn Fn(&CloudEvent) -> String| {
        ParameterValue::ArrayStr(events.iter().map(|e| Some(value(e))).collect())
    };
    let rows = conn
        .query(
            STORE_ONCE,
            &[
                column(&|e| e.id().to_string()),
                column(&|e| e.topic().as_str().to_owned()),
                column(&|e| e.subject().id().hyphenated().to_string()),
                column(&|e| e.user_id().to_string()),
                column(&|e| e.to_json().to_string()),
                column(&|e| e.time().to_string()),
                column(&|e| version_of(e).to_string()),
                ParameterValue::Str(consumer.to_owned()),
                ParameterValue::Str(transport.to_owned()),
            ],
        )
        .map_err(|err| DbError::postgres("storing events", err))?;
    Ok(rows
        .rows
        .iter()
        .filter_map(|row| match row.first() {
            Some(DbValue::Str(id)) => Some(id.clone()),
            _ => None,
        })
        .collect())
}

fn version_of(event: &CloudEvent) -> i32 {
    event
        .data()
        .get("version")
        .and_then(|v| v.as_i64())
        .and_then(|v| i32::try_from(v).ok())
        .unwrap_or(1)
}

/// One stored event, as the API returns it.
#[derive(Debug, serde::Serialize)]
pub struct StoredEvent {
    /// The CloudEvent id.
    pub id: String,
    /// The topic.
    pub event_type: String,
    /// The id of what the event is about.
    pub aggregate_id: String,
    /// The owner (`null` once the account is gone).
    pub user_id: Option<String>,
    /// The whole CloudEvent.
    pub payload: serde_json::Value,
    /// How it arrived.
    pub metadata: serde_json::Value,
    /// The event's time.
    pub created_at: String,
    /// The payload's version.
    pub version: i32,
}

fn text(row: &[DbValue], i: usize) -> Option<String> {
    match row.get(i) {
        Some(DbValue::Str(s)) => Some(s.clone()),
        _ => None,
    }
}

fn json(row: &[DbValue], i: usize) -> serde_json::Value {
    text(row, i)
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null)
}

fn stored(row: &[DbValue]) -> StoredEvent {
    StoredEvent {
        id: text(row, 0).unwrap_or_default(),
        event_type: text(row, 1).unwrap_or_default(),
        aggregate_id: text(row, 2).unwrap_or_default(),
        user_id: text(row, 3),
        payload: json(row, 4),
        metadata: json(row, 5),
        created_at: text(row, 6).unwrap_or_default(),
        version: match row.get(7) {
            Some(DbValue::Int32(n)) => *n,
            _ => 1,
        },
    }
}

/// The filters of a list query, already validated.
#[derive(Debug, Default)]
pub struct Filters {
    /// Only this owner's events (every non-admin caller).
    pub owner: Option<String>,
    /// Topic.
    pub event_type: Option<String>,
    /// CloudEvent subject, `task/<uuid>`.
    pub subject: Option<String>,
    /// Inclusive lower bound (RFC 3339).
    pub start: Option<String>,
    /// Exclusive upper bound (RFC 3339).
    pub end: Option<String>,
    /// After this `(created_at, id)`.
    pub after: Option<(String, String)>,
}

fn opt(value: &Option<String>) -> ParameterValue {
    match value {
        Some(v) => ParameterValue::Str(v.clone()),
        None => ParameterValue::DbNull,
    }
}

/// Up to `limit` events, newest first.
pub fn list(conn: &Connection, filters: &Filters, limit: i64) -> Result<Vec<StoredEvent>, DbError> {
    let (after_time, after_id) = match &filters.after {
        Some((time, id)) => (Some(time.clone()), Some(id.clone())),
        None => (None, None),
    };
    let rows = conn
        .query(
            &list_sql(),
            &[
                opt(&filters.owner),
                opt(&filters.event_type),
                opt(&filters.subject),
                opt(&filters.start),
                opt(&filters.end),
                opt(&after_time),
                opt(&after_id),
                ParameterValue::Int64(limit),
            ],
        )
        .map_err(|err| DbError::postgres("listing events", err))?;
    Ok(rows.rows.iter().map(|row| stored(row)).collect())
}

/// One event, if it exists and (when `owner` is set) belongs to `owner`.
pub fn one(
    conn: &Connection,
    id: &str,
    owner: Option<String>,
) -> Result<Option<StoredEvent>, DbError> {
    let rows = conn
        .query(
            &one_sql(),
            &[ParameterValue::Str(id.to_owned()), opt(&owner)],
        )
        .map_err(|err| DbError::postgres("reading an event", err))?;
    Ok(rows.rows.first().map(|row| stored(row)))
}

/// Deletes events older than `days`; returns how many.
pub fn delete_older_than(conn: &Connection, days: i64) -> Result<u64, DbError> {
    conn.execute(DELETE_OLD, &[ParameterValue::Int64(days)])
        .map_err(|err| DbError::postgres("deleting expired events", err))
}

/// Deletes the receipts older than `days` whose event is gone everywhere (see
/// [`DELETE_SPENT_RECEIPTS`]); returns how many.
pub fn delete_spent_receipts(conn: &Connection, days: i64) -> Result<u64, DbError> {
    conn.execute(DELETE_SPENT_RECEIPTS, &[ParameterValue::Int64(days)])
        .map_err(|err| DbError::postgres("deleting spent receipts", err))
}
