//! The consumer side of every event: decoding a delivery (a Redis message or a Dapr HTTP
//! delivery) into a [`CloudEvent`], and applying it exactly once.
//!
//! Delivery is at least once (the dispatcher redelivers until it sees a receipt), so effects
//! must be idempotent. [`apply_once`] makes them so: it records `(consumer, event_id)` in
//! `consumer_receipts` in the same transaction as the consumer's own writes; a second delivery
//! finds the receipt and changes nothing.
//!
//! Dapr's subscriber contract (docs.dapr.io, "Publish and subscribe" API reference): the
//! sidecar `POST`s the CloudEvent (`application/cloudevents+json`) to the subscription's route
//! and reads a 2xx reply's `{"status": "SUCCESS" | "RETRY" | "DROP"}` (an empty 2xx is
//! SUCCESS, 404 is DROP, any other status is RETRY). [`DaprStatus`] is that reply.

use domain::event::{CloudEvent, Consumer, Topic};
use domain::field::FieldErrors;
use spin_sdk::http::{Params, Request, Response};
use spin_sdk::pg4::{Connection, ParameterValue};

use crate::db::{self, DbError};

/// Records the receipt; returns a row only the first time.
const RECORD_RECEIPT: &str = "INSERT INTO consumer_receipts (consumer, event_id) VALUES ($1, $2) \
     ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id";

/// A delivery that is not an event this system understands.
#[derive(Debug)]
pub enum DecodeError {
    /// Not JSON.
    NotJson(serde_json::Error),
    /// JSON, but not a valid envelope (every bad attribute named).
    Envelope(FieldErrors),
    /// A Dapr delivery with a media type other than CloudEvents JSON or JSON.
    MediaType(String),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotJson(err) => write!(f, "the delivery is not JSON: {err}"),
            Self::Envelope(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field()).collect();
                write!(f, "invalid CloudEvent attributes: {}", fields.join(", "))
            }
            Self::MediaType(media) => write!(f, "unexpected media type {media:?}"),
        }
    }
}

/// Decodes a Redis message: one CloudEvent in structured JSON, or several in the CloudEvents
/// JSON Batch Format (a JSON array of them, `application/cloudevents-batch+json`), which is how
/// the dispatcher publishes the events of one topic it claimed together
/// ([`crate::publish`]). Each element of a batch is decoded on its own, so one bad event does
/// not take its neighbours down; a message that is not JSON is one error.
pub fn from_redis(payload: &[u8]) -> Vec<Result<CloudEvent, DecodeError>> {
    match serde_json::from_slice(payload) {
        Ok(serde_json::Value::Array(events)) => events.into_iter().map(event).collect(),
        Ok(value) => vec![event(value)],
        Err(err) => vec![Err(DecodeError::NotJson(err))],
    }
}

fn event(value: serde_json::Value) -> Result<CloudEvent, DecodeError> {
    CloudEvent::parse(value).map_err(DecodeError::Envelope)
}

/// Decodes a Dapr delivery: a structured CloudEvent, `application/cloudevents+json` (or
/// `application/json`, which Dapr uses for raw payloads). The attributes Dapr adds (`topic`,
/// `pubsubname`, `traceid`, ...) are ignored.
pub fn from_dapr(req: &Request) -> Result<CloudEvent, DecodeError> {
    let media = req
        .header("content-type")
        .and_then(|value| value.as_str())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media != "application/cloudevents+json" && media != "application/json" {
        return Err(DecodeError::MediaType(media));
    }
    event(serde_json::from_slice(req.body()).map_err(DecodeError::NotJson)?)
}

/// What became of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// First delivery: the effects were applied and the receipt recorded.
    Applied,
    /// A receipt was already there: nothing was changed.
    Duplicate,
}

/// Runs `effects` for `event` exactly once per `consumer`: inside one transaction, records the
/// receipt and, only if it is new, applies the effects. If the effects fail, the receipt is
/// rolled back with them, so the redelivery will try again.
pub fn apply_once<E>(
    consumer: Consumer,
    event: &CloudEvent,
    effects: impl FnOnce(&Connection) -> Result<(), E>,
) -> Result<Outcome, E>
where
    E: From<DbError>,
{
    let conn = db::open()?;
    db::transaction(&conn, |conn| {
        // A consumer handles one delivery at a time (Spin's Redis trigger runs messages in
        // order), so waiting for each commit's WAL flush would cap it at a few hundred events
        // a second. Not waiting is safe here: the receipt and the effects commit or vanish
        // together, and the dispatcher only forgets a delivery in a transaction of its own,
        // with the default synchronous commit, whose flush also flushes the earlier WAL that
        // holds the receipt it saw. A crash can only lose a receipt that no one has relied on
        // yet, and the dispatcher then delivers the event again.
        conn.execute("SET LOCAL synchronous_commit TO off", &[])
            .map_err(|err| DbError::postgres("SET LOCAL synchronous_commit", err))?;
        let fresh = conn
            .query(
                RECORD_RECEIPT,
                &[
                    ParameterValue::Str(consumer.as_str().to_owned()),
                    event.id().as_uuid().into(),
                ],
            )
            .map_err(|err| DbError::postgres("recording the receipt", err))?;
        if fresh.rows.is_empty() {
            return Ok(Outcome::Duplicate);
        }
        effects(conn)?;
        Ok(Outcome::Applied)
    })
}

/// Why one event was not applied, which decides what becomes of its delivery.
#[derive(Debug)]
pub enum Failure {
    /// It can never be applied (its payload is not what its topic carries): drop it.
    Unusable(String),
    /// It failed for now (the database): deliver it again.
    Transient(String),
}

impl Failure {
    /// A failure a redelivery may cure.
    pub fn transient(err: impl std::fmt::Display) -> Self {
        Self::Transient(err.to_string())
    }
}

/// `POST /events/<component>/<topic>`: a Dapr delivery to `consumer`, the one entry point of
/// every consumer component.
///
/// - The caller must present the `tick_token` as Dapr's app token ([`crate::internal`]):
///   otherwise 401 problem+json, and nothing is decoded or stored.
/// - A body that is not an event, an event on another topic's route, or a topic `consumer`
///   does not consume is answered `DROP` (retrying cannot help) and logged.
/// - Otherwise `handle` applies it: `SUCCESS`, or `DROP`/`RETRY` after its [`Failure`].
pub fn dapr_route(
    consumer: Consumer,
    req: &Request,
    params: &Params,
    handle: impl FnOnce(&CloudEvent) -> Result<(), Failure>,
) -> Response {
    if let Err(problem) = crate::internal::authorize(req) {
        return problem.into();
    }
    let component = consumer.as_str();
    let event = match from_dapr(req) {
        Ok(event) => event,
        Err(err) => {
            crate::log::warn(
                component,
                &format!("undecodable delivery dropped: {err}"),
                &[],
            );
            return DaprStatus::Drop.into_response();
        }
    };
    let id = event.id().to_string();
    let ids = [("event_id", id.as_str()), ("topic", event.topic().as_str())];
    let route_topic = params.get("topic").and_then(|t| Topic::parse(t).ok());
    if route_topic != Some(event.topic()) || !consumer.consumes(event.topic()) {
        crate::log::warn(
            component,
            "delivery on another topic's route, or of a topic not consumed here, dropped",
            &ids,
        );
        return DaprStatus::Drop.into_response();
    }
    let status = match handle(&event) {
        Ok(()) => DaprStatus::Success,
        Err(Failure::Unusable(why)) => {
            crate::log::warn(component, &format!("unusable event dropped: {why}"), &ids);
            DaprStatus::Drop
        }
        Err(Failure::Transient(why)) => {
            crate::log::error(
                component,
                &format!("not applied, Dapr will retry: {why}"),
                &ids,
            );
            DaprStatus::Retry
        }
    };
    status.into_response()
}

/// A Redis message to `consumer`: one event or a batch, each handed to `handle` in order. What
/// cannot be decoded, what `consumer` does not consume and what is unusable is logged and
/// dropped; an event that fails for now is left to the dispatcher's redelivery and does not
/// stop the rest, but makes the message an `Err` (which the host logs).
pub fn redis_message(
    consumer: Consumer,
    payload: &[u8],
    mut handle: impl FnMut(&CloudEvent) -> Result<(), Failure>,
) -> Result<(), String> {
    let component = consumer.as_str();
    let mut outcome = Ok(());
    for decoded in from_redis(payload) {
        let event = match decoded {
            Ok(event) => event,
            Err(err) => {
                crate::log::warn(component, &format!("undecodable event dropped: {err}"), &[]);
                continue;
            }
        };
        let id = event.id().to_string();
        let ids = [("event_id", id.as_str()), ("topic", event.topic().as_str())];
        if !consumer.consumes(event.topic()) {
            crate::log::warn(
                component,
                "event of a topic not consumed here dropped",
                &ids,
            );
            continue;
        }
        match handle(&event) {
            Ok(()) => {}
            Err(Failure::Unusable(why)) => {
                crate::log::warn(component, &format!("unusable event dropped: {why}"), &ids);
            }
            Err(Failure::Transient(why)) => {
                crate::log::error(component, &format!("not applied: {why}"), &ids);
                outcome = Err(why);
            }
        }
    }
    outcome
}

/// A subscriber's reply to a Dapr delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaprStatus {
    /// Handled (or already handled): Dapr forgets the message.
    Success,
    /// Failed for now: Dapr delivers it again, per the component's resiliency policy.
    Retry,
    /// Cannot ever be handled (malformed): Dapr drops it (to its dead-letter topic, if any).
    Drop,
}

impl DaprStatus {
    /// The `status` member Dapr reads.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Retry => "RETRY",
            Self::Drop => "DROP",
        }
    }

    /// The reply: 200 with `{"status": ...}`.
    pub fn into_response(self) -> Response {
        crate::response::json(200, &serde_json::json!({ "status": self.as_str() }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(id: &str) -> serde_json::Value {
        use domain::event::{EventHeader, EventId, Source, Subject, Topic};
        let header = EventHeader {
            id: EventId::parse(id).expect("a v7 id"),
            time: domain::time::Timestamp::parse("2026-11-29T10:00:00Z").expect("a time"),
            source: Source::Reminders,
            traceparent: None,
        };
        let data = serde_json::json!({"user_id": "0190a4c4-0000-7000-8000-000000000002"});
        let subject = Subject::reminder(uuid::Uuid::nil());
        CloudEvent::new(Topic::ReminderScheduled, header, subject, data)
            .expect("a valid event")
            .to_json()
    }

    #[test]
    fn a_redis_message_that_is_not_an_event_is_refused_with_the_reason() {
        let decoded = from_redis(b"nope");
        assert!(matches!(decoded.as_slice(), [Err(DecodeError::NotJson(_))]));
        let decoded = from_redis(br#"{"specversion":"1.0"}"#);
        let [Err(err)] = decoded.as_slice() else {
            panic!("one error expected: {decoded:?}")
        };
        assert!(err.to_string().contains("id"), "{err}");
    }

    #[test]
    fn a_single_event_and_a_batch_decode_to_their_events_in_order() {
        let one = sample("0190a4c4-0000-7000-8000-00000000000a");
        assert_eq!(from_redis(one.to_string().as_bytes()).len(), 1);

        let ids = [
            "0190a4c4-0000-7000-8000-00000000000a",
            "0190a4c4-0000-7000-8000-00000000000b",
        ];
        let batch = serde_json::Value::Array(ids.iter().map(|id| sample(id)).collect());
        let decoded: Vec<String> = from_redis(batch.to_string().as_bytes())
            .into_iter()
            .map(|event| event.expect("valid").id().to_string())
            .collect();
        assert_eq!(decoded, ids);
    }

    #[test]
    fn a_bad_element_of_a_batch_does_not_take_its_neighbours_down() {
        let good = sample("0190a4c4-0000-7000-8000-00000000000a");
        let batch = serde_json::json!([good, {"specversion": "1.0"}]);
        let decoded = from_redis(batch.to_string().as_bytes());
        assert_eq!(decoded.len(), 2);
        assert!(decoded[0].is_ok());
        assert!(matches!(decoded[1], Err(DecodeError::Envelope(_))));
    }

    #[test]
    fn dapr_statuses_are_dapr_s_words() {
        assert_eq!(DaprStatus::Success.as_str(), "SUCCESS");
        assert_eq!(DaprStatus::Retry.as_str(), "RETRY");
        assert_eq!(DaprStatus::Drop.as_str(), "DROP");
    }
}
