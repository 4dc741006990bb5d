//! Storing a delivered event in the audit log, exactly once: the receipt and the `events` row
//! are written by one statement ([`store::store_once`], the single-statement form of
//! [`platform::consume::apply_once`], since this consumer's whole effect is one insert), and
//! `events.id` is the event's id, so neither a redelivery nor a replay can store it twice.

use domain::event::{CloudEvent, Consumer, Topic};
use platform::consume::{self, DaprStatus, Outcome};
use platform::db::DbError;
use spin_sdk::http::{Params, Request, Response};

use crate::store;

const CONSUMER: Consumer = Consumer::Audit;

/// Stores `event`, arriving by `transport`, unless it already is.
pub fn store_once(event: &CloudEvent, transport: &str) -> Result<Outcome, DbError> {
    let conn = platform::db::open()?;
    let outcome = if store::store_once(&conn, CONSUMER.as_str(), event, transport)? {
        Outcome::Applied
    } else {
        Outcome::Duplicate
    };
    let id = event.id().to_string();
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
    Ok(outcome)
}

/// A Redis message.
pub fn from_redis(payload: &[u8]) -> Result<(), String> {
    let event = consume::from_redis(payload).map_err(|err| {
        platform::log::warn("audit", &format!("undecodable message dropped: {err}"), &[]);
        err.to_string()
    })?;
    store_once(&event, "redis").map(|_| ()).map_err(|err| {
        platform::log::error(
            "audit",
            &format!("storing failed: {err}"),
            &[("event_id", &event.id().to_string())],
        );
        err.to_string()
    })
}

/// `POST /events/audit/{topic}`: a Dapr delivery. Replies per Dapr's contract: SUCCESS when
/// stored (or already stored), DROP when it can never be stored (not an event, or not the
/// route's topic), RETRY when the database failed.
pub fn from_dapr(req: Request, params: Params) -> Response {
    let event = match consume::from_dapr(&req) {
        Ok(event) => event,
        Err(err) => {
            platform::log::warn(
                "audit",
                &format!("undecodable delivery dropped: {err}"),
                &[],
            );
            return DaprStatus::Drop.into_response();
        }
    };
    let route_topic = params.get("topic").and_then(|t| Topic::parse(t).ok());
    if route_topic != Some(event.topic()) {
        platform::log::warn(
            "audit",
            "delivery on another topic's route dropped",
            &[("event_id", &event.id().to_string())],
        );
        return DaprStatus::Drop.into_response();
    }
    match store_once(&event, "dapr") {
        Ok(_) => DaprStatus::Success.into_response(),
        Err(err) => {
            platform::log::error(
                "audit",
                &format!("storing failed: {err}"),
                &[("event_id", &event.id().to_string())],
            );
            DaprStatus::Retry.into_response()
        }
    }
}
