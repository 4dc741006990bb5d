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
use platform::consume::{self, Failure};
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

/// [`apply`], logged, with its error sorted for the delivery.
fn apply_logged(event: &CloudEvent) -> Result<(), Failure> {
    match apply(event) {
        Ok(made) => {
            let id = event.id().to_string();
            let ids = [("event_id", id.as_str()), ("topic", event.topic().as_str())];
            platform::log::info(
                "recurrence",
                &format!("applied: {made} instances made"),
                &ids,
            );
            Ok(())
        }
        Err(DeliveryError::Payload(why)) => Err(Failure::Unusable(why)),
        Err(err @ DeliveryError::Store(_)) => Err(Failure::transient(err)),
    }
}

/// A Redis message: one event or a batch, applied in order ([`consume::redis_message`]).
pub fn from_redis(payload: &[u8]) -> Result<(), String> {
    consume::redis_message(CONSUMER, payload, apply_logged)
}

/// `POST /events/recurrence/{topic}`: a Dapr delivery ([`consume::dapr_route`]): SUCCESS when
/// applied (or already), DROP when it can never be, RETRY when the database failed.
pub fn from_dapr(req: Request, params: Params) -> Response {
    consume::dapr_route(CONSUMER, &req, &params, apply_logged)
}
