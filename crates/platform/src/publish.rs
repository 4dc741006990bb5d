//! Publishing outbox events on the configured transport (the `event_bus` variable):
//!
//! - `redis`: Spin outbound Redis `PUBLISH` on the channel named after the topic, to the
//!   server in `redis_url`; consumers receive it on `[[trigger.redis]]`. The events of one
//!   topic claimed together travel as one message in the CloudEvents JSON Batch Format (a JSON
//!   array; a lone event is sent as itself), up to [`BATCH_EVENTS`] events or [`BATCH_BYTES`]
//!   bytes a message. Spin's Redis trigger handles one message at a time per subscription, so a
//!   consumer's rate is one over its per-message cost; a batch pays that cost once for many
//!   events when there is a queue, and costs nothing in latency when there is none (it is
//!   whatever one claim found, never waited for).
//! - `dapr`: `POST {dapr_http_url}/v1.0/publish/{dapr_pubsub}/{topic}` with the CloudEvent as
//!   `application/cloudevents+json` (Dapr then forwards it unchanged) and the user id as
//!   `metadata.partitionKey`, so a Kafka-backed pub/sub keeps one user's events in order.
//!
//! [`publish_due`] is the dispatcher's tick; [`after_commit`] is the inline fast path a writer
//! may call right after its commit. Both claim outbox rows with `FOR UPDATE SKIP LOCKED`, so
//! they never publish the same row at once, and both record, in the transaction that marks a
//! row delivered, one `event_deliveries` row per consumer that must answer with a receipt (the
//! dispatcher publishes again if one does not).

use domain::event::{CloudEvent, Consumer, RedeliveryPolicy, Topic};
use spin_sdk::pg4::{Connection, ParameterValue};

use crate::config::{self, ConfigError, EventBus};
use crate::db::{self, DbError};

/// The oldest due rows, by `outbox_pending_id_idx`. `outbox.id` is qualified on purpose: a bare
/// `id` in `ORDER BY` names the output column `id::text`, which no index serves, and the claim
/// then sorted every pending row (and every dead index entry of a delivered one) each poll.
const CLAIM_DUE: &str = "SELECT id::text, topic, coalesce(user_id::text, ''), payload::text FROM outbox \
     WHERE delivered_at IS NULL AND next_attempt_at <= now() \
     ORDER BY outbox.id LIMIT $1 FOR UPDATE SKIP LOCKED";

const CLAIM_ONE: &str = "SELECT id::text, topic, coalesce(user_id::text, ''), payload::text FROM outbox \
     WHERE id = $1 AND delivered_at IS NULL FOR UPDATE SKIP LOCKED";

const MARK_DELIVERED: &str = "UPDATE outbox SET delivered_at = now(), attempts = attempts + 1, \
     last_error = NULL WHERE id = ANY($1::text[]::uuid[])";

/// One row per (event, consumer) pair, from two parallel arrays.
const EXPECT_RECEIPTS: &str = "INSERT INTO event_deliveries (event_id, consumer, next_check_at) \
     SELECT e::uuid, c, now() + $3::int8 * interval '1 millisecond' \
     FROM unnest($1::text[], $2::text[]) AS t(e, c) \
     ON CONFLICT (event_id, consumer) DO NOTHING";

/// A failed publication waits 1 s, 2 s, 4 s, ... up to 30 s, and is never given up: a
/// transport outage must not lose events.
const MARK_FAILED: &str = "UPDATE outbox SET attempts = attempts + 1, last_error = $2, \
     next_attempt_at = now() + least(interval '1 second' * power(2, least(attempts, 10)), interval '30 seconds') \
     WHERE id = $1::text::uuid";

/// Most events in one Redis message.
pub const BATCH_EVENTS: usize = 100;

/// Most bytes of events in one Redis message (a batch stops before the event that would pass
/// it; a single larger event still travels alone).
pub const BATCH_BYTES: usize = 256 * 1024;

/// A publication that failed.
#[derive(Debug)]
pub enum PublishError {
    /// The transport's settings are missing or invalid.
    Config(ConfigError),
    /// Redis refused or could not be reached.
    Redis(String),
    /// The Dapr sidecar refused or could not be reached.
    Dapr(String),
}

impl std::fmt::Display for PublishError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Config(err) => err.fmt(f),
            Self::Redis(message) => write!(f, "Redis publish failed: {message}"),
            Self::Dapr(message) => write!(f, "Dapr publish failed: {message}"),
        }
    }
}

impl From<ConfigError> for PublishError {
    fn from(err: ConfigError) -> Self {
        Self::Config(err)
    }
}

/// The configured transport, with its connection opened on first use and kept for the rest of
/// the invocation.
pub enum Publisher {
    /// Spin outbound Redis.
    Redis {
        /// `redis_url`
        address: String,
        /// Opened on the first publish.
        connection: Option<spin_sdk::redis::Connection>,
    },
    /// A Dapr sidecar.
    Dapr {
        /// `dapr_http_url`, without a trailing slash.
        base_url: String,
        /// `dapr_pubsub`
        pubsub: String,
    },
}

impl Publisher {
    /// The transport named by `event_bus`, with its settings.
    pub fn from_config() -> Result<Self, ConfigError> {
        Ok(match EventBus::from_config()? {
            EventBus::Redis => Self::Redis {
                address: config::required("redis_url")?,
                connection: None,
            },
            EventBus::Dapr => Self::Dapr {
                base_url: config::required("dapr_http_url")?
                    .trim_end_matches('/')
                    .to_owned(),
                pubsub: config::required("dapr_pubsub")?,
            },
        })
    }

    /// Publishes one message (an event's JSON, or a batch's) on its topic.
    fn publish(&mut self, topic: &str, user_id: &str, payload: &str) -> Result<(), PublishError> {
        match self {
            Self::Redis {
                address,
                connection,
            } => {
                if connection.is_none() {
                    *connection = Some(
                        spin_sdk::redis::Connection::open(address)
                            .map_err(|err| PublishError::Redis(format!("{err:?}")))?,
                    );
                }
                let Some(conn) = connection.as_ref() else {
                    unreachable!("opened above")
                };
                conn.publish(topic, payload.as_bytes()).map_err(|err| {
                    // A broken connection is opened again on the next publish.
                    *connection = None;
                    PublishError::Redis(format!("{err:?}"))
                })
            }
            Self::Dapr { base_url, pubsub } => {
                let mut url = format!("{base_url}/v1.0/publish/{pubsub}/{topic}");
                if !user_id.is_empty() {
                    url.push_str(&format!("?metadata.partitionKey={user_id}"));
                }
                let request = spin_sdk::http::Request::post(url, payload.as_bytes().to_vec())
                    .header("content-type", "application/cloudevents+json")
                    .build();
                let response: spin_sdk::http::Response =
                    spin_sdk::http::run(spin_sdk::http::send(request))
                        .map_err(|err| PublishError::Dapr(err.to_string()))?;
                // Dapr answers 204 on success; 403 (not allowed), 404 (no such pub/sub) and
                // 500 are failures to retry.
                match *response.status() {
                    200..=299 => Ok(()),
                    status => Err(PublishError::Dapr(format!(
                        "the sidecar answered {status}: {}",
                        String::from_utf8_lossy(response.body())
                    ))),
                }
            }
        }
    }
}

/// An event to publish, as the outbox (or the audit log) holds it.
#[derive(Debug)]
pub struct OutboxEvent {
    /// The CloudEvent id.
    pub id: String,
    /// The topic.
    pub topic: String,
    /// The owner (the Dapr partition key), or empty.
    pub user_id: String,
    /// The CloudEvent JSON.
    pub payload: String,
}

impl Publisher {
    /// Publishes `events` as the transport carries them, topic by topic, in their order within
    /// each topic, calling `outcome` for each with whether it was published: on Redis, batches
    /// of up to [`BATCH_EVENTS`] events and [`BATCH_BYTES`] bytes; on Dapr, one event per
    /// publish (Dapr delivers each message to a subscriber on its own, and the partition key is
    /// per user).
    pub fn publish_all(
        &mut self,
        events: &[OutboxEvent],
        mut outcome: impl FnMut(&OutboxEvent, &Result<(), PublishError>),
    ) {
        let mut topics: Vec<&str> = Vec::new();
        for event in events {
            if !topics.contains(&event.topic.as_str()) {
                topics.push(&event.topic);
            }
        }
        for topic in topics {
            let of_topic: Vec<&OutboxEvent> = events.iter().filter(|e| e.topic == topic).collect();
            let mut rest = of_topic.as_slice();
            while !rest.is_empty() {
                let take = match self {
                    Self::Redis { .. } => batch_len(rest.iter().map(|e| e.payload.len())),
                    Self::Dapr { .. } => 1,
                };
                let (batch, after) = rest.split_at(take);
                let result = match batch {
                    [one] => self.publish(topic, &one.user_id, &one.payload),
                    _ => {
                        let payloads: Vec<&str> =
                            batch.iter().map(|e| e.payload.as_str()).collect();
                        self.publish(topic, "", &format!("[{}]", payloads.join(",")))
                    }
                };
                for event in batch {
                    outcome(event, &result);
                }
                rest = after;
            }
        }
    }
}

/// How many of the next events (given their sizes) go in one Redis message: at least one, at
/// most [`BATCH_EVENTS`], and no more than fit in [`BATCH_BYTES`].
fn batch_len(sizes: impl Iterator<Item = usize>) -> usize {
    let mut bytes = 0;
    let mut count = 0;
    for size in sizes.take(BATCH_EVENTS) {
        bytes += size + 1;
        if count > 0 && bytes > BATCH_BYTES {
            break;
        }
        count += 1;
    }
    count
}

/// What one round of publishing did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// Rows published and marked delivered.
    pub delivered: usize,
    /// Rows whose publication failed (scheduled again with backoff).
    pub failed: usize,
}

/// The dispatcher's tick: publishes up to `limit` due outbox rows.
pub fn publish_due(
    conn: &Connection,
    publisher: &mut Publisher,
    limit: i64,
) -> Result<Published, DbError> {
    db::transaction(conn, |conn| {
        let rows = conn
            .query(CLAIM_DUE, &[ParameterValue::Int64(limit)])
            .map_err(|err| DbError::postgres("claiming due outbox rows", err))?;
        publish_claimed(conn, publisher, &rows)
    })
}

/// The inline fast path: right after the writer's commit, publishes `event` if no dispatcher
/// has claimed it yet. Never fails the caller: the change is committed, and whatever goes wrong
/// here the dispatcher's next tick publishes the row. Problems are logged.
pub fn after_commit(conn: &Connection, event: &CloudEvent) {
    let mut publisher = match Publisher::from_config() {
        Ok(publisher) => publisher,
        Err(err) => {
            crate::log::warn("outbox", &format!("no inline publish: {err}"), &[]);
            return;
        }
    };
    let result = db::transaction(conn, |conn| {
        let rows = conn
            .query(CLAIM_ONE, &[event.id().as_uuid().into()])
            .map_err(|err| DbError::postgres("claiming the outbox row", err))?;
        publish_claimed(conn, &mut publisher, &rows)
    });
    if let Err(err) = result {
        let id = event.id().to_string();
        crate::log::warn(
            "outbox",
            &format!("inline publish failed, the dispatcher will retry: {err}"),
            &[("event_id", &id)],
        );
    }
}

fn publish_claimed(
    conn: &Connection,
    publisher: &mut Publisher,
    rows: &spin_sdk::pg4::RowSet,
) -> Result<Published, DbError> {
    let claimed: Vec<OutboxEvent> = rows
        .rows
        .iter()
        .map(|row| {
            let text = |i: usize| match row.get(i) {
                Some(spin_sdk::pg4::DbValue::Str(s)) => s.clone(),
                _ => String::new(),
            };
            OutboxEvent {
                id: text(0),
                topic: text(1),
                user_id: text(2),
                payload: text(3),
            }
        })
        .collect();
    let mut report = Published::default();
    let mut delivered = Vec::new();
    let (mut expect_events, mut expect_consumers) = (Vec::new(), Vec::new());
    let mut failed = Vec::new();
    publisher.publish_all(&claimed, |event, result| match result {
        Ok(()) => {
            report.delivered += 1;
            if let Ok(topic) = Topic::parse(&event.topic) {
                for consumer in Consumer::expecting(topic) {
                    expect_events.push(Some(event.id.clone()));
                    expect_consumers.push(Some(consumer.as_str().to_owned()));
                }
            }
            delivered.push(Some(event.id.clone()));
        }
        Err(err) => {
            report.failed += 1;
            crate::log::warn(
                "dispatcher",
                &err.to_string(),
                &[("event_id", &event.id), ("topic", &event.topic)],
            );
            failed.push((event.id.clone(), err.to_string()));
        }
    });
    for (id, err) in failed {
        conn.execute(
            MARK_FAILED,
            &[ParameterValue::Str(id), ParameterValue::Str(err)],
        )
        .map_err(|err| DbError::postgres("recording a failed publication", err))?;
    }
    if !delivered.is_empty() {
        conn.execute(MARK_DELIVERED, &[ParameterValue::ArrayStr(delivered)])
            .map_err(|err| DbError::postgres("marking outbox rows delivered", err))?;
    }
    if !expect_events.is_empty() {
        let wait = RedeliveryPolicy::STANDARD.wait_after(1) as i64;
        conn.execute(
            EXPECT_RECEIPTS,
            &[
                ParameterValue::ArrayStr(expect_events),
                ParameterValue::ArrayStr(expect_consumers),
                ParameterValue::Int64(wait),
            ],
        )
        .map_err(|err| DbError::postgres("recording the receipts to expect", err))?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_holds_at_most_the_event_limit() {
        assert_eq!(batch_len(std::iter::repeat_n(10, 1000)), BATCH_EVENTS);
        assert_eq!(batch_len(std::iter::repeat_n(10, 3)), 3);
    }

    #[test]
    fn a_batch_stops_before_the_event_that_would_pass_the_byte_limit() {
        let half = BATCH_BYTES / 2;
        assert_eq!(batch_len([half, half, half].into_iter()), 1);
        assert_eq!(batch_len([100, 100, BATCH_BYTES].into_iter()), 2);
    }

    #[test]
    fn an_event_larger_than_the_byte_limit_still_travels_alone() {
        assert_eq!(batch_len([BATCH_BYTES * 2, 10].into_iter()), 1);
    }
}
