//! Tasks: `POST|GET /api/tasks`, `GET|PUT|PATCH|DELETE /api/tasks/{id}` and
//! `PATCH /api/tasks/{id}/toggle`.
//!
//! Each handler authenticates the caller (`platform::auth`), decodes and parses with the domain
//! (`domain::task`), does its database work in one transaction, and encodes. A change writes
//! its events to the outbox (`platform::outbox`) in the same transaction as the change:
//! `tasks.task.created`; `tasks.task.updated` with `{field: {old, new}}` for every change that
//! changes something, plus `tasks.task.completed` when that change completes the task;
//! `tasks.task.deleted`. Events carry the request's `traceparent` (or a fresh one).
//!
//! Another user's task is answered exactly like a task that does not exist (404), so nobody
//! learns whether an id is taken. The `ETag` of a task is its version; `PUT`, `PATCH`, toggle
//! and `DELETE` honour `If-Match` (412 on a stale version, checked under the row's lock).
//! `POST` honours `Idempotency-Key` (see `store::claim_idempotency_key`).
//!
//! # Layout
//!
//! - [`store`]: the SQL.
//! - [`web`]: the task's JSON, ETags and `If-Match`, idempotency keys, query strings,
//!   `traceparent`.

pub mod store;
pub mod web;

use domain::account::UserId;
use domain::event::{
    CloudEvent, EventData, EventHeader, EventId, Source, TaskCompleted, TaskCreated, TaskDeleted,
    TaskUpdated, Traceparent,
};
use domain::field::FieldErrors;
use domain::task::{NewTask, Task, TaskId, TaskInput, TaskListQuery, TaskPatch};
use domain::time::Timestamp;
use platform::auth::{self, AuthError};
use platform::body::{self, BodyError};
use platform::db::{self, Connection, DbError};
use platform::outbox;
use platform::problem::Problem;
use platform::response;
use serde_json::{Value, json};
use spin_sdk::http::{Params, Request, Response};

use self::store::IdempotencyClaim;
use self::web::Precondition;

/// Everything a task route can answer besides success.
#[derive(Debug)]
pub enum Error {
    /// Not authenticated (401) or failed the CSRF rule (403).
    Auth(AuthError),
    /// The body is not JSON of the right shape (400, 413, 415, 422).
    Body(BodyError),
    /// Fields or query parameters failed validation (422).
    Invalid(FieldErrors),
    /// No such task for this caller (404).
    NotFound,
    /// `If-Match` names another version (412).
    Stale {
        /// The task's current version.
        current: u32,
    },
    /// The `Idempotency-Key` is malformed, or was used with another request (422).
    IdempotencyKey(&'static str),
    /// Anything else (500); the text is logged only.
    Internal(String),
}

impl From<AuthError> for Error {
    fn from(err: AuthError) -> Self {
        Self::Auth(err)
    }
}

impl From<BodyError> for Error {
    fn from(err: BodyError) -> Self {
        Self::Body(err)
    }
}

impl From<DbError> for Error {
    fn from(err: DbError) -> Self {
        Self::Internal(err.to_string())
    }
}

impl From<Error> for Response {
    fn from(err: Error) -> Self {
        match err {
            Error::Auth(err) => err.into_response(),
            Error::Body(err) => err.into(),
            Error::Invalid(errors) => {
                let detail: Vec<String> = errors
                    .iter()
                    .map(|e| format!("{} {}", e.field(), e.problem()))
                    .collect();
                Problem::typed(422, "validation", "The request has invalid fields")
                    .with_detail(format!("{}.", detail.join("; ")))
                    .with_extension("errors", &errors)
                    .into()
            }
            Error::NotFound => Problem::not_found()
                .with_detail("No such task.")
                .into(),
            Error::Stale { current } => {
                let mut response: Response =
                    Problem::typed(412, "stale-version", "The task has changed")
                        .with_detail(format!(
                            "If-Match does not name the task's current version, {}; \
                             fetch it again and retry.",
                            web::etag(current)
                        ))
                        .into();
                response.set_header("etag", web::etag(current));
                response
            }
            Error::IdempotencyKey(message) => Problem::typed(
                422,
                "idempotency-key",
                "The Idempotency-Key cannot be used",
            )
            .with_detail(format!("Idempotency-Key {message}."))
            .with_extension(
                "errors",
                json!([{"field": "Idempotency-Key", "code": "idempotency_key", "message": message}]),
            )
            .into(),
            Error::Internal(cause) => {
                platform::log::error("api", &format!("tasks: {cause}"), &[]);
                Problem::new(500).into()
            }
        }
    }
}

fn respond(result: Result<Response, Error>) -> Response {
    let mut response = result.unwrap_or_else(Response::from);
    response.set_header("cache-control", "no-store");
    response
}

/// A 200/201 response with a task, its `ETag` and, on create, its `Location`.
fn task_response(status: u16, body: &Value) -> Response {
    let mut response = response::json(status, body);
    if let Some(version) = body["version"].as_u64() {
        response.set_header("etag", web::etag(version as u32));
    }
    if status == 201
        && let Some(id) = body["id"].as_str()
    {
        response.set_header("location", format!("/api/tasks/{id}"));
    }
    response
}

/// A task id from the path. One that is not a UUID names no task: 404, like any other.
fn task_id(params: &Params) -> Result<TaskId, Error> {
    params
        .get("id")
        .and_then(|id| TaskId::parse(id).ok())
        .ok_or(Error::NotFound)
}

/// The UUIDv7 ids of one request's events. The ids share a monotonic context, so each is
/// greater than the one before even within the same millisecond: the events of one change sort
/// in the order they were written (`updated` before `completed`), as the outbox is read by id.
struct EventIds(uuid::ContextV7);

impl EventIds {
    fn new() -> Self {
        Self(uuid::ContextV7::new())
    }

    fn next(&self) -> Result<EventId, Error> {
        let id = uuid::Uuid::new_v7(uuid::Timestamp::now(&self.0));
        EventId::new(id).map_err(|err| Error::Internal(format!("event id: {err}")))
    }
}

/// Writes the event announcing `data` to the outbox, in the caller's transaction.
fn enqueue<D: EventData>(
    conn: &Connection,
    ids: &EventIds,
    data: &D,
    time: Timestamp,
    traceparent: &Traceparent,
) -> Result<(), Error> {
    let header = EventHeader {
        id: ids.next()?,
        time,
        source: Source::Api,
        traceparent: Some(traceparent.clone()),
    };
    outbox::enqueue(conn, &CloudEvent::from_data(data, header))?;
    Ok(())
}

/// The events of a change from `before` to `after` (as stored): `updated` when anything
/// changed, and `completed` when the change completed the task.
fn enqueue_change(
    conn: &Connection,
    before: &Task,
    after: &Task,
    traceparent: &Traceparent,
) -> Result<(), Error> {
    let ids = EventIds::new();
    let updated = TaskUpdated::between(before, after);
    enqueue(conn, &ids, &updated, after.updated_at, traceparent)?;
    if updated.changes.completion() == Some(true)
        && let Some(completed) = TaskCompleted::of(after)
    {
        enqueue(conn, &ids, &completed, after.updated_at, traceparent)?;
    }
    Ok(())
}

/// `POST /api/tasks`: 201 with the task, `ETag` and `Location`.
pub fn create(req: Request, _: Params) -> Response {
    respond(create_inner(&req))
}

fn create_inner(req: &Request) -> Result<Response, Error> {
    let conn = db::open()?;
    let caller = auth::authenticate(req, &conn)?;
    let user = caller.user_id();
    let key = web::idempotency_key(req).map_err(Error::IdempotencyKey)?;
    let input: TaskInput = body::json(req)?;
    let new = NewTask::parse(input).map_err(Error::Invalid)?;
    let traceparent = web::traceparent(req).map_err(Error::Internal)?;
    let (status, body) = db::transaction(&conn, |conn| {
        if let Some(key) = &key {
            let fingerprint = web::fingerprint(req);
            if let IdempotencyClaim::Used {
                fingerprint: used,
                status,
                body,
            } = store::claim_idempotency_key(conn, user, key, &fingerprint)?
            {
                return if used == fingerprint {
                    Ok((status, body))
                } else {
                    Err(Error::IdempotencyKey(
                        "was already used with another request body",
                    ))
                };
            }
        }
        let task = store::insert(conn, user, &new)?;
        let ids = EventIds::new();
        enqueue(
            conn,
            &ids,
            &TaskCreated::from(&task),
            task.created_at,
            &traceparent,
        )?;
        if task.is_completed()
            && let Some(completed) = TaskCompleted::of(&task)
        {
            enqueue(conn, &ids, &completed, task.created_at, &traceparent)?;
        }
        let body = web::task_json(&task);
        if let Some(key) = &key {
            store::record_response(conn, user, key, 201, &body)?;
        }
        Ok::<_, Error>((201, body))
    })?;
    Ok(task_response(status, &body))
}

/// `GET /api/tasks`: `{items, next_cursor}`.
pub fn list(req: Request, _: Params) -> Response {
    respond(list_inner(&req))
}

fn list_inner(req: &Request) -> Result<Response, Error> {
    let conn = db::open()?;
    let caller = auth::authenticate(req, &conn)?;
    let query = TaskListQuery::parse(web::query_pairs(req)).map_err(Error::Invalid)?;
    let mut tasks = store::list(&conn, caller.user_id(), &query)?;
    let next_cursor = if tasks.len() > query.limit() as usize {
        tasks.truncate(query.limit() as usize);
        tasks.last().map(|last| query.next_cursor(last).encode())
    } else {
        None
    };
    let items: Vec<Value> = tasks.iter().map(web::task_json).collect();
    Ok(response::json(
        200,
        &json!({ "items": items, "next_cursor": next_cursor }),
    ))
}

/// `GET /api/tasks/{id}`: the task with its `ETag`.
pub fn get(req: Request, params: Params) -> Response {
    respond((|| {
        let conn = db::open()?;
        let caller = auth::authenticate(&req, &conn)?;
        let id = task_id(&params)?;
        let task = store::find(&conn, caller.user_id(), id)?.ok_or(Error::NotFound)?;
        Ok(task_response(200, &web::task_json(&task)))
    })())
}

/// Locks the caller's task, checks `If-Match`, applies `change` and stores the result with its
/// events: the shape shared by `PUT`, `PATCH` and toggle.
fn change_task(
    req: &Request,
    conn: &Connection,
    user: UserId,
    id: TaskId,
    change: impl FnOnce(&Task, Timestamp) -> Task,
) -> Result<Response, Error> {
    let precondition = Precondition::of(req);
    let traceparent = web::traceparent(req).map_err(Error::Internal)?;
    let task = db::transaction(conn, |conn| {
        let (before, now) = store::lock(conn, user, id)?.ok_or(Error::NotFound)?;
        if !precondition.holds(before.version) {
            return Err(Error::Stale {
                current: before.version,
            });
        }
        let after = change(&before, now);
        // Setting fields to the values they have changes nothing: no new version, no event.
        if domain::task::TaskChanges::between(&before, &after).is_empty() {
            return Ok(before);
        }
        let stored = store::update(conn, &after)?;
        enqueue_change(conn, &before, &stored, &traceparent)?;
        Ok::<_, Error>(stored)
    })?;
    Ok(task_response(200, &web::task_json(&task)))
}

/// `PUT /api/tasks/{id}`: replaces every writable field; what the body leaves out takes its
/// default, as on create.
pub fn replace(req: Request, params: Params) -> Response {
    respond((|| {
        let conn = db::open()?;
        let caller = auth::authenticate(&req, &conn)?;
        let id = task_id(&params)?;
        let input: TaskInput = body::json(&req)?;
        let patch = TaskPatch::from(NewTask::parse(input).map_err(Error::Invalid)?);
        change_task(&req, &conn, caller.user_id(), id, |task, now| {
            patch.apply(task, now)
        })
    })())
}

/// `PATCH /api/tasks/{id}`: changes the fields the body names.
pub fn patch(req: Request, params: Params) -> Response {
    respond((|| {
        let conn = db::open()?;
        let caller = auth::authenticate(&req, &conn)?;
        let id = task_id(&params)?;
        let input: TaskInput = body::json(&req)?;
        let patch = TaskPatch::parse(input).map_err(Error::Invalid)?;
        change_task(&req, &conn, caller.user_id(), id, |task, now| {
            patch.apply(task, now)
        })
    })())
}

/// `PATCH /api/tasks/{id}/toggle`: completes an open task, reopens a completed one. No body.
pub fn toggle(req: Request, params: Params) -> Response {
    respond((|| {
        let conn = db::open()?;
        let caller = auth::authenticate(&req, &conn)?;
        let id = task_id(&params)?;
        change_task(&req, &conn, caller.user_id(), id, |task, now| {
            task.toggled(now)
        })
    })())
}

/// `DELETE /api/tasks/{id}`: 204.
pub fn delete(req: Request, params: Params) -> Response {
    respond((|| {
        let conn = db::open()?;
        let caller = auth::authenticate(&req, &conn)?;
        let id = task_id(&params)?;
        let precondition = Precondition::of(&req);
        let traceparent = web::traceparent(&req).map_err(Error::Internal)?;
        db::transaction(&conn, |conn| {
            let (task, now) = store::lock(conn, caller.user_id(), id)?.ok_or(Error::NotFound)?;
            if !precondition.holds(task.version) {
                return Err(Error::Stale {
                    current: task.version,
                });
            }
            store::delete(conn, &task)?;
            let ids = EventIds::new();
            enqueue(conn, &ids, &TaskDeleted::of(&task, now), now, &traceparent)?;
            Ok::<_, Error>(())
        })?;
        Ok(Response::builder().status(204).build())
    })())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_event_ids_of_one_request_increase_even_within_a_millisecond() {
        let ids = super::EventIds::new();
        let all: Vec<_> = (0..1000).map(|_| ids.next().unwrap().as_uuid()).collect();
        assert!(all.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(all.iter().all(|id| id.get_version_num() == 7));
    }
}
