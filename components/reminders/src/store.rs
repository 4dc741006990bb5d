//! Every SQL statement of the reminders component, and the rows they read.
//!
//! Instants go in as `($n::timestamp AT TIME ZONE 'UTC')` and come out as
//! `(col AT TIME ZONE 'UTC')`, the only forms Spin's pg4 interface carries for `timestamptz`.

use chrono::NaiveDateTime;
use domain::account::UserId;
use domain::reminder::{Channels, PlannedReminder, ReminderSpecs};
use domain::task::{TaskId, TaskTitle};
use domain::time::Timestamp;
use platform::db::DbError;
use serde::Serialize;
use serde_json::Value;
use spin_sdk::pg4::{Connection, Decode, ParameterValue, Row, RowSet};
use uuid::Uuid;

use crate::error::Error;

fn pg(step: &str) -> impl FnOnce(spin_sdk::pg4::PgError) -> Error + '_ {
    move |err| Error::Db(DbError::postgres(step, err))
}

fn ts(value: Timestamp) -> ParameterValue {
    value.naive_utc().into()
}

fn text(value: impl Into<String>) -> ParameterValue {
    ParameterValue::Str(value.into())
}

fn get<T: Decode>(row: &Row<'_>, column: &str) -> Result<T, Error> {
    row.get::<T>(column)
        .ok_or_else(|| Error::Internal(format!("reading column {column}")))
}

fn instant(row: &Row<'_>, column: &str) -> Result<Timestamp, Error> {
    get::<NaiveDateTime>(row, column).map(Timestamp::from_naive_utc)
}

fn optional_instant(row: &Row<'_>, column: &str) -> Result<Option<Timestamp>, Error> {
    get::<Option<NaiveDateTime>>(row, column).map(|v| v.map(Timestamp::from_naive_utc))
}

fn json(row: &Row<'_>, column: &str) -> Result<Value, Error> {
    let raw: String = get(row, column)?;
    serde_json::from_str(&raw).map_err(|err| Error::Internal(format!("column {column}: {err}")))
}

/// What planning needs from a task, read as it is now (so a late or reordered event plans from
/// the current state, never from the state it announced).
#[derive(Debug, Clone)]
pub struct TaskState {
    /// The owner.
    pub user_id: UserId,
    /// The title, for the fired event.
    pub title: TaskTitle,
    /// When it is due.
    pub due_date: Option<Timestamp>,
    /// The seed's single absolute reminder.
    pub reminder_time: Option<Timestamp>,
    /// The reminder list.
    pub specs: ReminderSpecs,
    /// Whether it is completed.
    pub is_completed: bool,
    /// Its version.
    pub version: i32,
}

/// The task, if it exists (and, with `owner`, belongs to that user). `FOR SHARE` keeps it from
/// changing under a plan being written.
pub fn task(
    conn: &Connection,
    task_id: TaskId,
    owner: Option<UserId>,
) -> Result<Option<TaskState>, Error> {
    let owner = owner.map(|id| id.as_uuid());
    let rows = conn
        .query(
            "SELECT user_id, title, (due_date AT TIME ZONE 'UTC') AS due_date, \
             (reminder_time AT TIME ZONE 'UTC') AS reminder_time, reminders::text AS reminders, \
             is_completed, version FROM tasks \
             WHERE id = $1 AND ($2::uuid IS NULL OR user_id = $2) FOR SHARE",
            &[task_id.as_uuid().into(), owner.into()],
        )
        .map_err(pg("reading the task"))?;
    let Some(row) = rows.rows().next() else {
        return Ok(None);
    };
    let title: String = get(&row, "title")?;
    Ok(Some(TaskState {
        user_id: UserId::from(get::<Uuid>(&row, "user_id")?),
        title: TaskTitle::parse(&title)
            .map_err(|err| Error::Internal(format!("task title: {err}")))?,
        due_date: optional_instant(&row, "due_date")?,
        reminder_time: optional_instant(&row, "reminder_time")?,
        // A list the API stored is valid; one that no longer parses (rules tightened since)
        // plans nothing rather than failing every event for the task.
        specs: ReminderSpecs::parse(&json(&row, "reminders")?).unwrap_or_default(),
        is_completed: get(&row, "is_completed")?,
        version: get(&row, "version")?,
    }))
}

/// The user's default channels (notifier's `notification_preferences`), in-app if unset.
pub fn default_channels(conn: &Connection, user_id: UserId) -> Result<Channels, Error> {
    let rows = conn
        .query(
            "SELECT default_channels::text AS channels FROM notification_preferences \
             WHERE user_id = $1",
            &[user_id.as_uuid().into()],
        )
        .map_err(pg("reading the default channels"))?;
    let Some(row) = rows.rows().next() else {
        return Ok(Channels::in_app());
    };
    let value = json(&row, "channels")?;
    Ok(Channels::parse(&value).unwrap_or_else(|_| Channels::in_app()))
}

/// The highest task version this task's planned rows were written for, if any.
pub fn planned_version(conn: &Connection, task_id: TaskId) -> Result<Option<i32>, Error> {
    let rows = conn
        .query(
            "SELECT max(task_version) AS version FROM reminders WHERE task_id = $1 AND origin = 'task'",
            &[task_id.as_uuid().into()],
        )
        .map_err(pg("reading the planned version"))?;
    match rows.rows().next() {
        Some(row) => get(&row, "version"),
        None => Ok(None),
    }
}

/// A reminder row as the routes show it.
#[derive(Debug, Clone, Serialize)]
pub struct Reminder {
    /// Its id.
    pub id: Uuid,
    /// Its task.
    pub task_id: Uuid,
    /// Its owner.
    #[serde(skip)]
    pub user_id: Uuid,
    /// When it fires.
    pub scheduled_time: Timestamp,
    /// When its plan said it fires: `scheduled_time`, or the time before it was snoozed. What a
    /// re-plan compares with.
    #[serde(skip)]
    pub planned_time: Timestamp,
    /// pending, fired, cancelled or skipped.
    pub status: String,
    /// Where it goes.
    pub notification_channels: Value,
    /// `task` (from the task's reminder list) or `api` (added with POST).
    pub origin: String,
    /// The spec it was planned from, `null` for `reminder_time`.
    pub spec: Option<Value>,
    /// When it fired.
    pub fired_at: Option<Timestamp>,
    /// When it was planned.
    pub created_at: Timestamp,
}

const REMINDER_COLUMNS: &str = "id, task_id, user_id, (scheduled_time AT TIME ZONE 'UTC') AS scheduled_time, \
     (coalesce(snoozed_from, scheduled_time) AT TIME ZONE 'UTC') AS planned_time, \
     status, notification_channels::text AS channels, origin, spec::text AS spec, \
     (fired_at AT TIME ZONE 'UTC') AS fired_at, (created_at AT TIME ZONE 'UTC') AS created_at";

fn reminder(row: &Row<'_>) -> Result<Reminder, Error> {
    let spec: Option<String> = get(row, "spec")?;
    Ok(Reminder {
        id: get(row, "id")?,
        task_id: get(row, "task_id")?,
        user_id: get(row, "user_id")?,
        scheduled_time: instant(row, "scheduled_time")?,
        planned_time: instant(row, "planned_time")?,
        status: get(row, "status")?,
        notification_channels: json(row, "channels")?,
        origin: get(row, "origin")?,
        spec: spec.and_then(|s| serde_json::from_str(&s).ok()),
        fired_at: optional_instant(row, "fired_at")?,
        created_at: instant(row, "created_at")?,
    })
}

fn reminders(rows: RowSet) -> Result<Vec<Reminder>, Error> {
    rows.rows().map(|row| reminder(&row)).collect()
}

/// The task-planned rows that are still live (pending, or already fired/skipped at their
/// time), which a new plan is compared with.
pub fn planned_rows(conn: &Connection, task_id: TaskId) -> Result<Vec<Reminder>, Error> {
    let rows = conn
        .query(
            &format!(
                "SELECT {REMINDER_COLUMNS} FROM reminders WHERE task_id = $1 AND origin = 'task' \
                 AND status <> 'cancelled' FOR UPDATE"
            ),
            &[task_id.as_uuid().into()],
        )
        .map_err(pg("reading the planned reminders"))?;
    reminders(rows)
}

/// Writes one planned row; returns its id.
pub fn insert(
    conn: &Connection,
    task_id: TaskId,
    user_id: UserId,
    planned: &PlannedReminder,
    origin: &str,
    task_version: i32,
) -> Result<Reminder, Error> {
    let channels = serde_json::to_string(&planned.channels).expect("channels are JSON");
    let spec = planned.spec.as_ref().map(Value::to_string);
    let rows = conn
        .query(
            &format!(
                "INSERT INTO reminders (id, task_id, user_id, scheduled_time, status, \
                 notification_channels, origin, spec, task_version) \
                 VALUES ($1, $2, $3, ($4::timestamp AT TIME ZONE 'UTC'), $5, $6::text::jsonb, $7, \
                 $8::text::jsonb, $9) RETURNING {REMINDER_COLUMNS}"
            ),
            &[
                Uuid::new_v4().into(),
                task_id.as_uuid().into(),
                user_id.as_uuid().into(),
                ts(planned.scheduled_time),
                text(planned.state.as_str()),
                text(channels),
                text(origin),
                spec.into(),
                task_version.into(),
            ],
        )
        .map_err(pg("writing a reminder"))?;
    reminders(rows)?
        .pop()
        .ok_or_else(|| Error::Internal("INSERT returned no row".into()))
}

/// Marks the task's planned rows as written for `version`.
pub fn mark_planned(conn: &Connection, task_id: TaskId, version: i32) -> Result<(), Error> {
    conn.execute(
        "UPDATE reminders SET task_version = $2 WHERE task_id = $1 AND origin = 'task'",
        &[task_id.as_uuid().into(), version.into()],
    )
    .map_err(pg("marking the plan's version"))?;
    Ok(())
}

/// Cancels pending rows: one by id, or all of a task's (optionally only those it planned).
pub fn cancel(
    conn: &Connection,
    task_id: TaskId,
    only: Option<Uuid>,
    task_origin_only: bool,
) -> Result<Vec<Reminder>, Error> {
    let rows = conn
        .query(
            &format!(
                "UPDATE reminders SET status = 'cancelled', cancelled_at = now(), updated_at = now() \
                 WHERE task_id = $1 AND status = 'pending' AND ($2::uuid IS NULL OR id = $2) \
                 AND (NOT $3 OR origin = 'task') RETURNING {REMINDER_COLUMNS}"
            ),
            &[task_id.as_uuid().into(), only.into(), task_origin_only.into()],
        )
        .map_err(pg("cancelling reminders"))?;
    reminders(rows)
}

/// Re-times the pending relative reminders added through the API when the due date moves;
/// without a due date they are cancelled. A new time already past makes them skipped.
pub fn retime_added(
    conn: &Connection,
    task_id: TaskId,
    due_date: Option<Timestamp>,
) -> Result<(), Error> {
    let Some(due) = due_date else {
        conn.execute(
            "UPDATE reminders SET status = 'cancelled', cancelled_at = now(), updated_at = now() \
             WHERE task_id = $1 AND origin = 'api' AND status = 'pending' AND spec ? 'offset_minutes'",
            &[task_id.as_uuid().into()],
        )
        .map_err(pg("cancelling relative reminders"))?;
        return Ok(());
    };
    conn.execute(
        "UPDATE reminders SET scheduled_time = t.at, snoozed_from = NULL, updated_at = now(), \
         status = CASE WHEN t.at <= now() THEN 'skipped' ELSE 'pending' END \
         FROM (SELECT id, ($2::timestamp AT TIME ZONE 'UTC') \
               - make_interval(mins => (spec ->> 'offset_minutes')::int) AS at \
               FROM reminders WHERE task_id = $1 AND origin = 'api' AND status = 'pending' \
               AND spec ? 'offset_minutes') AS t \
         WHERE reminders.id = t.id AND coalesce(reminders.snoozed_from, reminders.scheduled_time) <> t.at",
        &[task_id.as_uuid().into(), ts(due)],
    )
    .map_err(pg("re-timing relative reminders"))?;
    Ok(())
}

/// A user's reminders of one task, in time order.
pub fn list(conn: &Connection, task_id: TaskId, user_id: UserId) -> Result<Vec<Reminder>, Error> {
    let rows = conn
        .query(
            &format!(
                "SELECT {REMINDER_COLUMNS} FROM reminders WHERE task_id = $1 AND user_id = $2 \
                 ORDER BY scheduled_time, id"
            ),
            &[task_id.as_uuid().into(), user_id.as_uuid().into()],
        )
        .map_err(pg("listing reminders"))?;
    reminders(rows)
}

/// One of the user's reminders, locked for a change.
pub fn find(conn: &Connection, id: Uuid, user_id: UserId) -> Result<Option<Reminder>, Error> {
    let rows = conn
        .query(
            &format!(
                "SELECT {REMINDER_COLUMNS} FROM reminders WHERE id = $1 AND user_id = $2 FOR UPDATE"
            ),
            &[id.into(), user_id.as_uuid().into()],
        )
        .map_err(pg("reading a reminder"))?;
    Ok(reminders(rows)?.pop())
}

/// Moves a reminder to `at` and makes it pending again (a fired or skipped one too),
/// remembering the time its plan gave it (`snoozed_from`).
pub fn reschedule(conn: &Connection, id: Uuid, at: Timestamp) -> Result<Reminder, Error> {
    let rows = conn
        .query(
            &format!(
                "UPDATE reminders SET snoozed_from = coalesce(snoozed_from, scheduled_time), \
                 scheduled_time = ($2::timestamp AT TIME ZONE 'UTC'), status = 'pending', fired_at = NULL, cancelled_at = NULL, updated_at = now() \
                 WHERE id = $1 RETURNING {REMINDER_COLUMNS}"
            ),
            &[id.into(), ts(at)],
        )
        .map_err(pg("snoozing a reminder"))?;
    reminders(rows)?
        .pop()
        .ok_or_else(|| Error::Internal("UPDATE returned no row".into()))
}

/// A reminder the tick fired, with what its event needs.
#[derive(Debug, Clone)]
pub struct FiredRow {
    /// The reminder.
    pub id: Uuid,
    /// Its task.
    pub task_id: TaskId,
    /// Its owner.
    pub user_id: UserId,
    /// The task's title now.
    pub task_title: String,
    /// The task's due date now.
    pub due_date: Option<Timestamp>,
    /// Where it goes.
    pub channels: Value,
    /// When it was due.
    pub scheduled_time: Timestamp,
    /// When it fired.
    pub fired_at: Timestamp,
}

/// Claims up to `batch` due reminders (oldest first, skipping rows another replica holds) and
/// marks them fired, in one statement. Reminders of tasks that no longer exist are left for
/// the `tasks.task.deleted` consumer to cancel. "Due" is compared with `now()` (the
/// transaction's start, a stable value the planner can use as an index bound; the volatile
/// `clock_timestamp()` there made PostgreSQL filter every pending row, 0.7 s per tick with a
/// million pending). `fired_at` is the wall clock at the claim (`clock_timestamp()`), so the
/// recorded lag is true.
pub fn claim_due(conn: &Connection, batch: i64) -> Result<Vec<FiredRow>, Error> {
    let rows = conn
        .query(
            "WITH due AS ( \
                 SELECT r.id, t.title, t.due_date FROM reminders r JOIN tasks t ON t.id = r.task_id \
                 WHERE r.status = 'pending' AND r.scheduled_time <= now() \
                 ORDER BY r.scheduled_time LIMIT $1 FOR UPDATE OF r SKIP LOCKED) \
             UPDATE reminders r SET status = 'fired', fired_at = clock_timestamp(), updated_at = now() \
             FROM due WHERE r.id = due.id \
             RETURNING r.id, r.task_id, r.user_id, due.title, (due.due_date AT TIME ZONE 'UTC') AS due_date, \
             r.notification_channels::text AS channels, \
             (r.scheduled_time AT TIME ZONE 'UTC') AS scheduled_time, \
             (r.fired_at AT TIME ZONE 'UTC') AS fired_at",
            &[batch.into()],
        )
        .map_err(pg("claiming due reminders"))?;
    rows.rows()
        .map(|row| {
            Ok(FiredRow {
                id: get(&row, "id")?,
                task_id: TaskId::from(get::<Uuid>(&row, "task_id")?),
                user_id: UserId::from(get::<Uuid>(&row, "user_id")?),
                task_title: get(&row, "title")?,
                due_date: optional_instant(&row, "due_date")?,
                channels: json(&row, "channels")?,
                scheduled_time: instant(&row, "scheduled_time")?,
                fired_at: instant(&row, "fired_at")?,
            })
        })
        .collect()
}
