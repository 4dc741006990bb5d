//! The transactional outbox: an event is written to `outbox` (migration 0002) in the same
//! transaction as the change it announces, and published after commit by the dispatcher. So a
//! change is never committed without its event, nor an event sent for a change that rolled back.

use domain::event::CloudEvent;
use spin_sdk::pg4::{Connection, ParameterValue};

use crate::db::DbError;

/// The insert, with the envelope as text cast to `jsonb` (`outbox_payload_*` constraints check
/// that its `id` and `type` match the row's).
const INSERT: &str = "INSERT INTO outbox (id, topic, subject, user_id, payload) \
     VALUES ($1, $2, $3, $4, $5::text::jsonb)";

/// Writes `event` to the outbox on `conn`. Call it inside the transaction
/// ([`crate::db::transaction`]) that makes the change the event announces.
pub fn enqueue(conn: &Connection, event: &CloudEvent) -> Result<(), DbError> {
    conn.execute(
        INSERT,
        &[
            event.id().as_uuid().into(),
            ParameterValue::Str(event.topic().as_str().to_owned()),
            ParameterValue::Str(event.subject().to_string()),
            event.user_id().as_uuid().into(),
            ParameterValue::Str(event.to_json().to_string()),
        ],
    )
    .map_err(|err| {
        DbError::postgres(
            format!("writing a {} event to the outbox", event.topic()),
            err,
        )
    })?;
    Ok(())
}

/// The same insert for many events in one statement (parallel text arrays, unnested), so a
/// writer announcing a batch (the reminders tick firing hundreds) pays one round trip, not one
/// per event.
const INSERT_MANY: &str = "INSERT INTO outbox (id, topic, subject, user_id, payload) \
     SELECT e.id::uuid, e.topic, e.subject, e.user_id::uuid, e.payload::jsonb \
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) \
     AS e(id, topic, subject, user_id, payload)";

/// Writes `events` to the outbox on `conn` in one statement; like [`enqueue`], inside the
/// transaction that makes the changes they announce.
pub fn enqueue_many(conn: &Connection, events: &[CloudEvent]) -> Result<(), DbError> {
    if events.is_empty() {
        return Ok(());
    }
    let column = |value: fn(&CloudEvent) -> String| {
        ParameterValue::ArrayStr(events.iter().map(|e| Some(value(e))).collect())
    };
    conn.execute(
        INSERT_MANY,
        &[
            column(|e| e.id().to_string()),
            column(|e| e.topic().as_str().to_owned()),
            column(|e| e.subject().to_string()),
            column(|e| e.user_id().to_string()),
            column(|e| e.to_json().to_string()),
        ],
    )
    .map_err(|err| {
        DbError::postgres(
            format!("writing {} events to the outbox", events.len()),
            err,
        )
    })?;
    Ok(())
}
