//! Publishing outbox events on the configured transport (the `event_bus` variable):
//!
//! - `redis`: Spin outbound Redis `PUBLISH` on the channel named after the topic, to the
//!   server in `redis_url`; consumers receive it on `[[trigger.redis]]`.
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

const CLAIM_DUE: &str = "SELECT id::text, topic, coalesce(user_id::text, ''), payload::text FROM outbox \
     WHERE delivered_at IS NULL AND next_attempt_at <= now() \
     ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED";

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

    /// Publishes one event's JSON on its topic.
    pub fn publish(
        &mut self,
        topic: &str,
        user_id: &str,
        payload: &str,
    ) -> Result<(), PublishError> {
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
    let mut report = Published::default();
    let mut delivered = Vec::new();
    let (mut expect_events, mut expect_consumers) = (Vec::new(), Vec::new());
    for row in &rows.rows {
        let text = |i: usize| match row.get(i) {
            Some(spin_sdk::pg4::DbValue::Str(s)) => s.clone(),
            _ => String::new(),
        };
        let (id, topic, user_id, payload) = (text(0), text(1), text(2), text(3));
        match publisher.publish(&topic, &user_id, &payload) {
            Ok(()) => {
                report.delivered += 1;
                if let Ok(topic) = Topic::parse(&topic) {
                    for consumer in Consumer::expecting(topic) {
                        expect_events.push(Some(id.clone()));
                        expect_consumers.push(Some(consumer.as_str().to_owned()));
                    }
                }
                delivered.push(Some(id));
            }
            Err(err) => {
                report.failed += 1;
                crate::log::warn(
                    "dispatcher",
                    &err.to_string(),
                    &[("event_id", &id), ("topic", &topic)],
                );
                conn.execute(
                    MARK_FAILED,
                    &[
                        ParameterValue::Str(id),
                        ParameterValue::Str(err.to_string()),
                    ],
                )
                .map_err(|err| DbError::postgres("recording a failed publication", err))?;
            }
        }
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
