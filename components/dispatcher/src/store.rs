//! The dispatcher's SQL: redelivery, dead letters and replay over `event_deliveries`
//! (migration 0005), and pruning the outbox. Outbox publishing itself is shared with the API's fast path and lives in
//! `platform::publish`.

use std::collections::HashSet;

use domain::event::{Consumer, RedeliveryPolicy, Topic};
use platform::db::{self, DbError};
use platform::publish::{OutboxEvent, Publisher};
use spin_sdk::pg4::{Connection, DbValue, ParameterValue};

/// Due, live delivery rows, with whether the receipt is there, whether the consumer looks
/// behind rather than having missed the event, and the event to publish again (from the
/// outbox, or from the audit log when the outbox no longer has it).
///
/// "Behind": the consumer's newest receipt (by event id, and ids are UUIDv7, so by creation
/// time) is for an older event and was recorded within the last `$2` ms. It is working through
/// a queue in order and will reach this event; publishing it again would only add to the queue
/// (under load, every overdue event would be doubled). A consumer that has recorded a newer
/// event missed this one; one that has recorded nothing lately is down or idle; either way the
/// event is published again.
const CLAIM_DUE: &str = "SELECT d.event_id::text, d.consumer, d.attempts, \
       EXISTS (SELECT 1 FROM consumer_receipts r WHERE r.consumer = d.consumer AND r.event_id = d.event_id), \
       coalesce(o.topic, e.event_type, ''), coalesce(o.user_id::text, e.user_id::text, ''), \
       coalesce(o.payload, e.payload)::text, \
       coalesce((SELECT n.event_id < d.event_id AND n.processed_at > now() - $2::int8 * interval '1 millisecond' \
                 FROM consumer_receipts n WHERE n.consumer = d.consumer ORDER BY n.event_id DESC LIMIT 1), false) \
     FROM event_deliveries d \
     LEFT JOIN outbox o ON o.id = d.event_id \
     LEFT JOIN events e ON e.id = d.event_id \
     WHERE d.dead_at IS NULL AND d.next_check_at <= now() \
     ORDER BY d.next_check_at LIMIT $1 FOR UPDATE OF d SKIP LOCKED";

/// Removes up to `$1` due rows whose receipt has arrived, in one statement without reading the
/// events: the common case (every consumer answers), which at a thousand events a second is
/// thousands of rows a second that must not cost a round trip each.
const SETTLE_RECEIVED: &str = "DELETE FROM event_deliveries d USING ( \
       SELECT s.event_id, s.consumer FROM event_deliveries s \
       WHERE s.dead_at IS NULL AND s.next_check_at <= now() \
         AND EXISTS (SELECT 1 FROM consumer_receipts r WHERE r.consumer = s.consumer AND r.event_id = s.event_id) \
       ORDER BY s.next_check_at LIMIT $1 FOR UPDATE SKIP LOCKED) AS t \
     WHERE d.event_id = t.event_id AND d.consumer = t.consumer";

/// Removes the rows of pairs whose receipt arrived (parallel arrays of ids and consumers).
const SETTLE: &str = "DELETE FROM event_deliveries d USING unnest($1::text[], $2::text[]) AS t(e, c) \
     WHERE d.event_id = t.e::uuid AND d.consumer = t.c";

const DEAD: &str = "UPDATE event_deliveries d SET dead_at = now() \
     FROM unnest($1::text[], $2::text[]) AS t(e, c) WHERE d.event_id = t.e::uuid AND d.consumer = t.c";

/// Counts a publication and sets the next check, `$3` milliseconds away (per pair).
const REPUBLISHED: &str = "UPDATE event_deliveries d SET attempts = d.attempts + 1, \
       next_check_at = now() + t.w * interval '1 millisecond' \
     FROM unnest($1::text[], $2::text[], $3::int8[]) AS t(e, c, w) \
     WHERE d.event_id = t.e::uuid AND d.consumer = t.c";

/// The transport failed: look again later without counting an attempt, so an outage does not
/// turn events into dead letters.
const POSTPONE: &str = "UPDATE event_deliveries d SET next_check_at = now() + $3::int8 * interval '1 millisecond' \
     FROM unnest($1::text[], $2::text[]) AS t(e, c) WHERE d.event_id = t.e::uuid AND d.consumer = t.c";

const LIST_DEAD: &str = "SELECT d.event_id::text, d.consumer, d.attempts, \
       to_char(d.dead_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), \
       coalesce(o.topic, e.event_type), coalesce(o.payload, e.payload)::text \
     FROM event_deliveries d \
     LEFT JOIN outbox o ON o.id = d.event_id \
     LEFT JOIN events e ON e.id = d.event_id \
     WHERE d.dead_at IS NOT NULL ORDER BY d.dead_at, d.event_id, d.consumer LIMIT 500";

/// A retried dead letter is due at once with its attempts reset.
const RETRY_DEAD: &str = "UPDATE event_deliveries SET dead_at = NULL, attempts = 0, next_check_at = now() \
     WHERE event_id = $1::text::uuid AND dead_at IS NOT NULL RETURNING consumer";

/// Schedules every stored event in the window for its expected consumers (parallel arrays of
/// topics and consumers): the redelivery step then settles those with a receipt and publishes
/// to the others.
const REPLAY: &str = "INSERT INTO event_deliveries (event_id, consumer, attempts, next_check_at) \
     SELECT s.id, ct.c, 0, now() FROM ( \
       SELECT id, topic FROM outbox WHERE created_at >= $1::text::timestamptz AND created_at < $2::text::timestamptz \
       UNION \
       SELECT id, event_type FROM events WHERE created_at >= $1::text::timestamptz AND created_at < $2::text::timestamptz \
     ) s JOIN unnest($3::text[], $4::text[]) AS ct(t, c) ON ct.t = s.topic \
     ON CONFLICT (event_id, consumer) DO UPDATE SET attempts = 0, next_check_at = now(), dead_at = NULL";

/// Deletes up to `$2` delivered outbox rows older than `$1` days, oldest first, that no consumer
/// still owes a receipt for (a live or dead `event_deliveries` row keeps its event here, where
/// redelivery reads it). Replay reads older events from the audit log. `event_totals`
/// (migration 0009) keeps `events_published_total` counting what was pruned.
const PRUNE: &str = "DELETE FROM outbox WHERE id IN ( \
       SELECT o.id FROM outbox o \
       WHERE o.created_at < now() - $1::int8 * interval '1 day' AND o.delivered_at IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM event_deliveries d WHERE d.event_id = o.id) \
       ORDER BY o.created_at LIMIT $2 FOR UPDATE SKIP LOCKED)";

fn text(row: &[DbValue], i: usize) -> String {
    match row.get(i) {
        Some(DbValue::Str(s)) => s.clone(),
        _ => String::new(),
    }
}

fn int(row: &[DbValue], i: usize) -> i64 {
    match row.get(i) {
        Some(DbValue::Int32(n)) => i64::from(*n),
        Some(DbValue::Int64(n)) => *n,
        _ => 0,
    }
}

fn pairs(list: &[(String, String)]) -> [ParameterValue; 2] {
    [
        ParameterValue::ArrayStr(list.iter().map(|(e, _)| Some(e.clone())).collect()),
        ParameterValue::ArrayStr(list.iter().map(|(_, c)| Some(c.clone())).collect()),
    ]
}

/// Settles up to `limit` due deliveries whose receipt has arrived; returns how many.
pub fn settle_received(conn: &Connection, limit: i64) -> Result<u64, DbError> {
    conn.execute(SETTLE_RECEIVED, &[ParameterValue::Int64(limit)])
        .map_err(|err| DbError::postgres("settling received deliveries", err))
}

/// What one redelivery round did.
#[derive(Debug, Default)]
pub struct Redelivery {
    /// Rows claimed.
    pub claimed: usize,
    /// Pairs whose receipt had arrived.
    pub settled: usize,
    /// Pairs published again.
    pub redelivered: usize,
    /// Pairs that became dead letters.
    pub dead_lettered: usize,
}

/// One redelivery round over up to `limit` due rows.
pub fn redeliver_due(
    conn: &Connection,
    publisher: &mut Publisher,
    limit: i64,
    policy: RedeliveryPolicy,
) -> Result<Redelivery, DbError> {
    db::transaction(conn, |conn| {
        let rows = conn
            .query(
                CLAIM_DUE,
                &[
                    ParameterValue::Int64(limit),
                    ParameterValue::Int64(policy.wait_after(1) as i64),
                ],
            )
            .map_err(|err| DbError::postgres("claiming due deliveries", err))?;
        let mut round = Redelivery {
            claimed: rows.rows.len(),
            ..Redelivery::default()
        };
        let (mut settled, mut dead, mut postponed) = (Vec::new(), Vec::new(), Vec::new());
        // Pairs still owed a receipt, and their events, each once however many consumers owe it.
        let (mut owed, mut events, mut seen) = (Vec::new(), Vec::new(), HashSet::new());
        for row in &rows.rows {
            let pair = (text(row, 0), text(row, 1));
            let attempts = u32::try_from(int(row, 2)).unwrap_or(0);
            let received = matches!(row.get(3), Some(DbValue::Boolean(true)));
            if received {
                settled.push(pair);
            } else if matches!(row.get(7), Some(DbValue::Boolean(true))) {
                postponed.push(pair);
            } else if policy.exhausted(attempts) {
                platform::log::warn(
                    "dispatcher",
                    "no receipt after the last attempt: dead letter",
                    &[("event_id", &pair.0), ("consumer", &pair.1)],
                );
                dead.push(pair);
            } else {
                if seen.insert(pair.0.clone()) {
                    events.push(OutboxEvent {
                        id: pair.0.clone(),
                        topic: text(row, 4),
                        user_id: text(row, 5),
                        payload: text(row, 6),
                    });
                }
                owed.push((pair, attempts));
            }
        }
        // Published again the way the first publication went: batched per topic on Redis.
        let mut failed = HashSet::new();
        publisher.publish_all(&events, |event, result| {
            if let Err(err) = result {
                platform::log::warn(
                    "dispatcher",
                    &format!("redelivery failed: {err}"),
                    &[("event_id", &event.id)],
                );
                failed.insert(event.id.clone());
            }
        });
        let (mut republished, mut waits) = (Vec::new(), Vec::new());
        for (pair, attempts) in owed {
            if failed.contains(&pair.0) {
                postponed.push(pair);
            } else {
                waits.push(Some(policy.wait_after(attempts + 1) as i64));
                republished.push(pair);
            }
        }
        round.settled = settled.len();
        round.dead_lettered = dead.len();
        round.redelivered = republished.len();
        if !settled.is_empty() {
            conn.execute(SETTLE, &pairs(&settled))
                .map_err(|err| DbError::postgres("settling deliveries", err))?;
        }
        if !dead.is_empty() {
            conn.execute(DEAD, &pairs(&dead))
                .map_err(|err| DbError::postgres("recording dead letters", err))?;
        }
        if !republished.is_empty() {
            let [events, consumers] = pairs(&republished);
            conn.execute(
                REPUBLISHED,
                &[events, consumers, ParameterValue::ArrayInt64(waits)],
            )
            .map_err(|err| DbError::postgres("recording redeliveries", err))?;
        }
        if !postponed.is_empty() {
            let [events, consumers] = pairs(&postponed);
            let wait = ParameterValue::Int64(policy.wait_after(1) as i64);
            conn.execute(POSTPONE, &[events, consumers, wait])
                .map_err(|err| DbError::postgres("postponing deliveries", err))?;
        }
        Ok(round)
    })
}

/// Prunes up to `limit` delivered outbox rows older than `days`; returns how many went.
pub fn prune_outbox(conn: &Connection, days: i64, limit: i64) -> Result<u64, DbError> {
    conn.execute(
        PRUNE,
        &[ParameterValue::Int64(days), ParameterValue::Int64(limit)],
    )
    .map_err(|err| DbError::postgres("pruning the outbox", err))
}

/// A dead letter: an event a consumer never acknowledged.
#[derive(Debug, serde::Serialize)]
pub struct DeadLetter {
    /// The event's id.
    pub event_id: String,
    /// The consumer that did not record a receipt.
    pub consumer: String,
    /// Publications made.
    pub attempts: i64,
    /// When it was given up on.
    pub dead_at: String,
    /// Its topic.
    pub topic: String,
    /// The CloudEvent.
    pub event: serde_json::Value,
}

/// The dead letters, oldest first (at most 500).
pub fn dead_letters(conn: &Connection) -> Result<Vec<DeadLetter>, DbError> {
    let rows = conn
        .query(LIST_DEAD, &[])
        .map_err(|err| DbError::postgres("listing dead letters", err))?;
    Ok(rows
        .rows
        .iter()
        .map(|row| DeadLetter {
            event_id: text(row, 0),
            consumer: text(row, 1),
            attempts: int(row, 2),
            dead_at: text(row, 3),
            topic: text(row, 4),
            event: serde_json::from_str(&text(row, 5)).unwrap_or(serde_json::Value::Null),
        })
        .collect())
}

/// Makes the dead letters of `event_id` due again; returns the consumers concerned (none: no
/// such dead letter).
pub fn retry_dead(conn: &Connection, event_id: &str) -> Result<Vec<String>, DbError> {
    let rows = conn
        .query(RETRY_DEAD, &[ParameterValue::Str(event_id.to_owned())])
        .map_err(|err| DbError::postgres("retrying a dead letter", err))?;
    Ok(rows.rows.iter().map(|row| text(row, 0)).collect())
}

/// Schedules the stored events with `from <= time < to` (RFC 3339) on `topics` for
/// `consumers`; returns the number of (event, consumer) pairs scheduled.
pub fn replay(
    conn: &Connection,
    from: &str,
    to: &str,
    topics: &[Topic],
    consumers: &[Consumer],
) -> Result<u64, DbError> {
    let (mut topic_list, mut consumer_list) = (Vec::new(), Vec::new());
    for consumer in consumers {
        for topic in consumer.topics().iter().filter(|t| topics.contains(t)) {
            topic_list.push(Some(topic.as_str().to_owned()));
            consumer_list.push(Some(consumer.as_str().to_owned()));
        }
    }
    conn.execute(
        REPLAY,
        &[
            ParameterValue::Str(from.to_owned()),
            ParameterValue::Str(to.to_owned()),
            ParameterValue::ArrayStr(topic_list),
            ParameterValue::ArrayStr(consumer_list),
        ],
    )
    .map_err(|err| DbError::postgres("scheduling a replay", err))
}
