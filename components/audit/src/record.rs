//! Storing delivered events in the audit log, exactly once: the receipts and the `events` rows
//! are written by one statement ([`store::store_once`], the single-statement form of
//! [`platform::consume::apply_once`], since this consumer's whole effect is one insert), and
//! `events.id` is the event's id, so neither a redelivery nor a replay can store one twice. A
//! Redis message may carry a batch of events (`platform::publish`); the whole batch is one
//! statement.

use domain::event::{CloudEvent, Consumer};
use platform::consume::{self, Outcome};
use platform::db::DbError;
use spin_sdk::http::{Params, Request, Response};

use crate::store;

const CONSUMER: Consumer = Consumer::Audit;

/// Stores `events`, arriving by `transport`, except those already stored; returns what became
/// of each, in order.
pub fn store_once(events: &[CloudEvent], transport: &str) -> Result<Vec<Outcome>, DbError> {
    let conn = platform::db::open()?;
    let fresh = store::store_once(&conn, CONSUMER.as_str(), events, transport)?;
    let mut seen = std::collections::HashSet::new();
    Ok(events
        .iter()
        .map(|event| {
            let id = event.id().to_string();
            // Twice in one batch: the first is the one stored.
            let outcome = if fresh.contains(&id) && seen.insert(id.clone()) {
                Outcome::Applied
            } else {
                Outcome::Duplicate
            };
            platform::log::emit(
                platform::log::Level::Info,
                "audit",
                event.traceparent().map(|t| t.trace_id()),
                match outcome {
                    Outcome::Applied => "event stored",
                    Outcome::Duplicate => "duplicate delivery ignored",
                },
                &[
                    ("event_id", &id),
                    ("topic", event.topic().as_str()),
                    ("transport", transport),
                ],
            );
            outcome
        })
        .collect())
}

/// A Redis message: one event or a batch. What cannot be decoded is logged and dropped
/// (failing would not make it an event); the rest is stored in one statement. If that fails,
/// each event is tried on its own, so one that cannot be stored does not hold up the others;
/// whatever still fails is left to the dispatcher's redelivery (no receipt was recorded).
pub fn from_redis(payload: &[u8]) -> Result<(), String> {
    let mut events = Vec::new();
    for decoded in consume::from_redis(payload) {
        match decoded {
            Ok(event) => events.push(event),
            Err(err) => {
                platform::log::warn("audit", &format!("undecodable event dropped: {err}"), &[])
            }
        }
    }
    if events.is_empty() || store_once(&events, "redis").is_ok() {
        return Ok(());
    }
    let mut failure = Ok(());
    for event in &events {
        if let Err(err) = store_once(std::slice::from_ref(event), "redis") {
            platform::log::error(
                "audit",
                &format!("storing failed: {err}"),
                &[("event_id", &event.id().to_string())],
            );
            failure = Err(err.to_string());
        }
    }
    failure
}

/// `POST /events/audit/{topic}`: a Dapr delivery ([`consume::dapr_route`]: token, topic,
/// Dapr's reply): SUCCESS when stored (or already stored), RETRY when the database failed.
pub fn from_dapr(req: Request, params: Params) -> Response {
    consume::dapr_route(CONSUMER, &req, &params, |event| {
        store_once(std::slice::from_ref(event), "dapr")
            .map(|_| ())
            .map_err(consume::Failure::transient)
    })
}
