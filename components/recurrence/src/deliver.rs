//! Applying a delivered event exactly once ([`platform::consume::apply_once`]: the receipt and
//! the instances it makes are one transaction).
//!
//! - `recurring.pattern.created` / `.updated`: a pass for the pattern, which `api` has usually
//!   made already in the change's own transaction (then it makes nothing).
//! - `recurring.pattern.deleted`: nothing to generate; recorded so the dispatcher stops asking.
//! - `tasks.task.completed` of an instance of an after-completion pattern: its next instance.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use domain::event::{CloudEvent, Consumer, Source, TaskCompleted, Topic};
use domain::recurrence::PatternChanged;
use platform::consume::{self, DaprStatus};
use series::StoreError;
use series::generate::{self, Origin};
use series::store;
use spin_sdk::http::{Params, Request, Response};

use crate::tick::horizon_days;

const CONSUMER: Consumer = Consumer::Recurrence;

/// Why an event could not be applied.
#[derive(Debug)]
pub enum DeliveryError {
    /// Its payload is not what its topic carries: it can never be applied.
    Payload(String),
    /// The database or a stored value: a redelivery may succeed.
    Store(StoreError),
}

impl std::fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Payload(why) => write!(f, "unusable payload: {why}"),
            Self::Store(err) => err.fmt(f),
        }
    }
}

impl From<platform::db::DbError> for DeliveryError {
    fn from(err: platform::db::DbError) -> Self {
        Self::Store(StoreError::Db(err))
    }
}

impl From<StoreError> for DeliveryError {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

/// Applies `event` unless it already was; returns the instances made.
pub fn apply(event: &CloudEvent) -> Result<usize, DeliveryError> {
    let origin = Origin {
        source: Source::Recurrence,
        traceparent: event.traceparent().cloned(),
    };
    let now = DateTime::<Utc>::from(SystemTime::now());
    let mut made = 0;
    consume::apply_once(CONSUMER, event, |conn| {
        match event.topic() {
            Topic::PatternCreated | Topic::PatternUpdated => {
                let changed: PatternChanged = event
                    .data_as()
                    .map_err(|err| DeliveryError::Payload(err.to_string()))?;
                if let Some(pattern) = store::lock_any(conn, changed.pattern_id)? {
                    made = generate::pass(conn, &pattern, now, horizon_days(), &origin)?;
                }
            }
            Topic::TaskCompleted => {
                let completed: TaskCompleted = event
                    .data_as()
                    .map_err(|err| DeliveryError::Payload(err.to_string()))?;
                if let Some(id) = completed.recurrence_pattern_id
                    && let Some(pattern) = store::lock_any(conn, id)?
                {
                    let at = completed.completed_at.as_datetime();
                    made = usize::from(generate::after_completion(conn, &pattern, at, &origin)?);
                }
            }
            // Deleted patterns and topics this consumer does not act on: the receipt is all.
            _ => {}
        }
        Ok::<_, DeliveryError>(())
    })?;
    Ok(made)
}

fn log_outcome(event: &CloudEvent, result: &Result<usize, DeliveryError>) {
    let id = event.id().to_string();
    let ids = [("event_id", id.as_str()), ("topic", event.topic().as_str())];
    match result {
        Ok(made) => platform::log::info(
            "recurrence",
            &format!("applied: {made} instances made"),
            &ids,
        ),
        Err(err) => platform::log::error("recurrence", &format!("not applied: {err}"), &ids),
    }
}

/// A Redis message: one event or a batch, applied in order. What cannot be decoded is logged
/// and dropped; an event that fails is left to the dispatcher's redelivery and does not stop
/// the rest.
pub fn from_redis(payload: &[u8]) -> Result<(), String> {
    let mut outcome = Ok(());
    for decoded in consume::from_redis(payload) {
        match decoded {
            Ok(event) => {
                let result = apply(&event);
                log_outcome(&event, &result);
                if let Err(err) = result {
                    outcome = Err(err.to_string());
                }
            }
            Err(err) => platform::log::warn(
                "recurrence",
                &format!("undecodable message dropped: {err}"),
                &[],
            ),
        }
    }
    outcome
}

/// `POST /events/recurrence/{topic}`: a Dapr delivery. SUCCESS when applied (or already),
/// DROP when it can never be (not an event, another topic's route, an unusable payload),
/// RETRY when the database failed.
pub fn from_dapr(req: Request, params: Params) -> Response {
    let Ok(event) = consume::from_dapr(&req) else {
        return DaprStatus::Drop.into_response();
    };
    let route_topic = params.get("topic").and_then(|t| Topic::parse(t).ok());
    if route_topic != Some(event.topic()) || !CONSUMER.consumes(event.topic()) {
        return DaprStatus::Drop.into_response();
    }
    let result = apply(&event);
    log_outcome(&event, &result);
    match result {
        Ok(_) => DaprStatus::Success.into_response(),
        Err(DeliveryError::Payload(_)) => DaprStatus::Drop.into_response(),
        Err(DeliveryError::Store(_)) => DaprStatus::Retry.into_response(),
    }
}
