//! The reminder routes: list and add a task's reminders, delete one, snooze one.
//!
//! Each handler authenticates the caller, decodes, calls the domain, writes in one transaction
//! (with the `reminders.reminder.*` event in the outbox), and encodes.

use domain::field::{FieldErrors, Invalid};
use domain::reminder::{PlannedState, ReminderSpec, ReminderSpecs, ReminderSubject, Snooze, plan};
use domain::task::TaskId;
use platform::{auth, body, db, response};
use serde_json::{Value, json};
use spin_sdk::http::{Params, Request, Response};
use uuid::Uuid;

use crate::clock;
use crate::error::Error;
use crate::planning::{announce_cancelled, announce_scheduled};
use crate::store;

fn respond(result: Result<Response, Error>) -> Response {
    result.unwrap_or_else(Response::from)
}

fn task_id(params: &Params) -> Result<TaskId, Error> {
    params
        .get("id")
        .and_then(|id| TaskId::parse(id).ok())
        .ok_or(Error::NotFound("task"))
}

fn reminder_id(params: &Params) -> Result<Uuid, Error> {
    params
        .get("id")
        .and_then(|id| Uuid::try_parse(id).ok())
        .ok_or(Error::NotFound("reminder"))
}

/// `GET /api/tasks/{id}/reminders`: the task's reminders in time order, every status.
pub fn list(req: Request, params: Params) -> Response {
    respond((|| {
        let conn = db::open()?;
        let caller = auth::authenticate(&req, &conn)?;
        let task_id = task_id(&params)?;
        store::task(&conn, task_id, Some(caller.user_id()))?.ok_or(Error::NotFound("task"))?;
        let items = store::list(&conn, task_id, caller.user_id())?;
        Ok(response::json(200, &json!({ "items": items })))
    })())
}

/// `POST /api/tasks/{id}/reminders`: adds one reminder (`{"at": ...}` or
/// `{"offset_minutes": n}`, optional `channels`). One whose time has passed is recorded as
/// skipped (201, `status: "skipped"`), as planning does.
pub fn add(req: Request, params: Params) -> Response {
    respond((|| {
        let conn = db::open()?;
        let caller = auth::authenticate(&req, &conn)?;
        let task_id = task_id(&params)?;
        let spec: Value = body::json(&req)?;
        let spec = ReminderSpec::parse(&spec)?;
        let reminder = db::transaction(&conn, |conn| {
            let task = store::task(conn, task_id, Some(caller.user_id()))?
                .ok_or(Error::NotFound("task"))?;
            if spec.scheduled_time(task.due_date).is_none() {
                return Err(Error::Invalid(FieldErrors::single(
                    "offset_minutes",
                    Invalid::Format {
                        expected: "an absolute `at`: the task has no due date",
                    },
                )));
            }
            let defaults = store::default_channels(conn, caller.user_id())?;
            let single = ReminderSubject {
                due_date: task.due_date,
                reminder_time: None,
                specs: ReminderSpecs::parse(&json!([spec.to_json()]))?,
                is_completed: false,
            };
            let planned = plan(&single, &defaults, clock::now())
                .pop()
                .ok_or_else(|| Error::Internal("a timed spec planned nothing".into()))?;
            let row = store::insert(
                conn,
                task_id,
                caller.user_id(),
                &planned,
                "api",
                task.version,
            )?;
            if planned.state == PlannedState::Pending {
                announce_scheduled(conn, &row)?;
            }
            Ok(row)
        })?;
        Ok(response::json(201, &reminder))
    })())
}

/// `DELETE /api/reminders/{id}`: cancels it (kept, with status `cancelled`). 204, also when it
/// had already fired or been cancelled.
pub fn delete(req: Request, params: Params) -> Response {
    respond((|| {
        let conn = db::open()?;
        let caller = auth::authenticate(&req, &conn)?;
        let id = reminder_id(&params)?;
        db::transaction(&conn, |conn| {
            let row =
                store::find(conn, id, caller.user_id())?.ok_or(Error::NotFound("reminder"))?;
            for cancelled in store::cancel(conn, TaskId::from(row.task_id), Some(id), false)? {
                announce_cancelled(conn, &cancelled, "deleted")?;
            }
            Ok::<_, Error>(())
        })?;
        Ok(Response::builder().status(204).build())
    })())
}

/// `POST /api/reminders/{id}/snooze`: `{"minutes": n}` or `{"until": ...}`. Moves the reminder
/// and makes it pending again, also when it has already fired.
pub fn snooze(req: Request, params: Params) -> Response {
    respond((|| {
        let conn = db::open()?;
        let caller = auth::authenticate(&req, &conn)?;
        let id = reminder_id(&params)?;
        let snooze: Value = body::json(&req)?;
        let snooze = Snooze::parse(&snooze)?;
        let at = snooze.new_time(clock::now())?;
        let row = db::transaction(&conn, |conn| {
            let row =
                store::find(conn, id, caller.user_id())?.ok_or(Error::NotFound("reminder"))?;
            if row.status == "cancelled" {
                return Err(Error::Invalid(FieldErrors::single(
                    "",
                    Invalid::Format {
                        expected: "a reminder that is not cancelled",
                    },
                )));
            }
            let row = store::reschedule(conn, id, at)?;
            announce_scheduled(conn, &row)?;
            Ok(row)
        })?;
        Ok(response::json(200, &row))
    })())
}
