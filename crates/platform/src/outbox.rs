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
