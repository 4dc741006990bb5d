//! The SQL of the task API: every statement on `tasks` and `idempotency_keys`.
//!
//! Every statement is scoped by `user_id`, so a task of another user is simply not found.
//! Rows are read back into the domain's [`Task`] with each field parsed again, so a row that
//! breaks the domain's rules is an error (500, logged), not a response.

use chrono::NaiveDateTime;
use domain::account::UserId;
use domain::reminder::ReminderSpecs;
use domain::task::Description;
use domain::task::{
    NewTask, Priority, SortKey, SortOrder, StatusFilter, Tags, Task, TaskId, TaskListQuery,
    TaskSort, TaskTitle,
};
use domain::time::Timestamp;
use platform::db::{Connection, DbError};
use spin_sdk::pg4::{Decode, ParameterValue, Row};

use super::Error;

/// The columns of a task as [`task_from_row`] reads them, for `tasks` aliased `t`.
const TASK_COLUMNS: &str = "t.id, t.user_id, t.title, t.description, t.priority, \
     (t.completed_at AT TIME ZONE 'UTC') AS completed_at, \
     (t.due_date AT TIME ZONE 'UTC') AS due_date, \
     (t.reminder_time AT TIME ZONE 'UTC') AS reminder_time, \
     t.reminders::text AS reminders, t.tags, t.is_recurring, t.recurrence_pattern_id, \
     (t.created_at AT TIME ZONE 'UTC') AS created_at, \
     (t.updated_at AT TIME ZONE 'UTC') AS updated_at, t.version";

/// A priority's rank, as [`Priority::rank`] orders it; `tasks_user_priority_idx` (migration
/// 0004) indexes this very expression.
const PRIORITY_RANK: &str = "(CASE t.priority WHEN 'low' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END)";

fn get<T: Decode>(row: &Row<'_>, column: &str) -> Result<T, Error> {
    row.get(column)
        .ok_or_else(|| Error::Internal(format!("reading tasks.{column}")))
}

fn timestamp(row: &Row<'_>, column: &str) -> Result<Option<Timestamp>, Error> {
    Ok(get::<Option<NaiveDateTime>>(row, column)?.map(Timestamp::from_naive_utc))
}

fn corrupt(column: &str, problem: impl std::fmt::Display) -> Error {
    Error::Internal(format!(
        "tasks.{column} breaks the domain's rules: {problem}"
    ))
}

/// Reads a row selected with [`TASK_COLUMNS`].
fn task_from_row(row: &Row<'_>) -> Result<Task, Error> {
    let title: String = get(row, "title")?;
    let description: Option<String> = get(row, "description")?;
    let priority: String = get(row, "priority")?;
    let tags: Vec<Option<String>> = get(row, "tags")?;
    let version: i32 = get(row, "version")?;
    let reminders: String = get(row, "reminders")?;
    let reminders: serde_json::Value =
        serde_json::from_str(&reminders).map_err(|p| corrupt("reminders", p))?;
    Ok(Task {
        id: TaskId::from(get::<uuid::Uuid>(row, "id")?),
        user_id: UserId::from(get::<uuid::Uuid>(row, "user_id")?),
        title: TaskTitle::parse(&title).map_err(|p| corrupt("title", p))?,
        description: description
            .map(|d| Description::parse(&d))
            .transpose()
            .map_err(|p| corrupt("description", p))?,
        priority: Priority::parse(&priority).map_err(|p| corrupt("priority", p))?,
        completed_at: timestamp(row, "completed_at")?,
        due_date: timestamp(row, "due_date")?,
        reminder_time: timestamp(row, "reminder_time")?,
        reminders: ReminderSpecs::parse(&reminders).map_err(|p| corrupt("reminders", p))?,
        tags: Tags::parse(tags.into_iter().flatten()).map_err(|p| corrupt("tags", p))?,
        is_recurring: get(row, "is_recurring")?,
        recurrence_pattern_id: get(row, "recurrence_pattern_id")?,
        created_at: timestamp(row, "created_at")?.ok_or_else(|| corrupt("created_at", "null"))?,
        updated_at: timestamp(row, "updated_at")?.ok_or_else(|| corrupt("updated_at", "null"))?,
        version: u32::try_from(version).map_err(|p| corrupt("version", p))?,
    })
}

fn text(value: &str) -> ParameterValue {
    ParameterValue::Str(value.to_owned())
}

fn optional_text(value: Option<&str>) -> ParameterValue {
    value.map_or(ParameterValue::DbNull, text)
}

fn instant(value: Option<Timestamp>) -> ParameterValue {
    value.map_or(ParameterValue::DbNull, |t| t.naive_utc().into())
}

fn tags(value: &Tags) -> ParameterValue {
    ParameterValue::ArrayStr(value.to_strings().into_iter().map(Some).collect())
}

const INSERT: &str = "INSERT INTO tasks AS t \
     (user_id, title, description, priority, is_completed, completed_at, due_date, reminder_time, tags, \
     reminders) \
     VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 THEN now() END, \
     ($6::timestamp AT TIME ZONE 'UTC'), ($7::timestamp AT TIME ZONE 'UTC'), $8::text[], $9::text::jsonb) \
     RETURNING ";

/// Inserts a task for `user` and returns it as stored.
pub fn insert(conn: &Connection, user: UserId, new: &NewTask) -> Result<Task, Error> {
    let rows = conn
        .query(
            &format!("{INSERT}{TASK_COLUMNS}"),
            &[
                user.as_uuid().into(),
                text(new.title.as_str()),
                optional_text(new.description.as_ref().map(Description::as_str)),
                text(new.priority.as_str()),
                ParameterValue::Boolean(new.is_completed),
                instant(new.due_date),
                instant(new.reminder_time),
                tags(&new.tags),
                text(&new.reminders.to_json().to_string()),
            ],
        )
        .map_err(|err| DbError::postgres("inserting a task", err))?;
    let row = rows
        .rows()
        .next()
        .ok_or_else(|| Error::Internal("INSERT ... RETURNING gave no row".to_owned()))?;
    task_from_row(&row)
}

/// The user's task `id`, if it exists.
pub fn find(conn: &Connection, user: UserId, id: TaskId) -> Result<Option<Task>, Error> {
    let rows = conn
        .query(
            &format!("SELECT {TASK_COLUMNS} FROM tasks t WHERE t.id = $1 AND t.user_id = $2"),
            &[id.as_uuid().into(), user.as_uuid().into()],
        )
        .map_err(|err| DbError::postgres("reading a task", err))?;
    rows.rows()
        .next()
        .map(|row| task_from_row(&row))
        .transpose()
}

/// The user's task `id`, locked until the transaction ends, and the database's clock: the
/// `now` of the change about to be made.
pub fn lock(
    conn: &Connection,
    user: UserId,
    id: TaskId,
) -> Result<Option<(Task, Timestamp)>, Error> {
    let rows = conn
        .query(
            &format!(
                "SELECT {TASK_COLUMNS}, (now() AT TIME ZONE 'UTC') AS now \
                 FROM tasks t WHERE t.id = $1 AND t.user_id = $2 FOR UPDATE"
            ),
            &[id.as_uuid().into(), user.as_uuid().into()],
        )
        .map_err(|err| DbError::postgres("locking a task", err))?;
    let Some(row) = rows.rows().next() else {
        return Ok(None);
    };
    let now = timestamp(&row, "now")?.ok_or_else(|| corrupt("now()", "null"))?;
    Ok(Some((task_from_row(&row)?, now)))
}

const UPDATE: &str = "UPDATE tasks AS t SET title = $4, description = $5, priority = $6, \
     is_completed = $7, completed_at = ($8::timestamp AT TIME ZONE 'UTC'), \
     due_date = ($9::timestamp AT TIME ZONE 'UTC'), \
     reminder_time = ($10::timestamp AT TIME ZONE 'UTC'), tags = $11::text[], \
     reminders = $12::text::jsonb, \
     version = t.version + 1, updated_at = now() \
     WHERE t.id = $1 AND t.user_id = $2 AND t.version = $3 RETURNING ";

/// Writes `after`'s fields over the task it is a changed copy of, moving its version on, and
/// returns the task as stored. The caller holds the row's lock ([`lock`]), so the version
/// cannot have moved; a row not found means it did, and is an error.
pub fn update(conn: &Connection, after: &Task) -> Result<Task, Error> {
    let rows = conn
        .query(
            &format!("{UPDATE}{TASK_COLUMNS}"),
            &[
                after.id.as_uuid().into(),
                after.user_id.as_uuid().into(),
                ParameterValue::Int32(after.version as i32),
                text(after.title.as_str()),
                optional_text(after.description.as_ref().map(Description::as_str)),
                text(after.priority.as_str()),
                ParameterValue::Boolean(after.is_completed()),
                instant(after.completed_at),
                instant(after.due_date),
                instant(after.reminder_time),
                tags(&after.tags),
                text(&after.reminders.to_json().to_string()),
            ],
        )
        .map_err(|err| DbError::postgres("updating a task", err))?;
    let row = rows
        .rows()
        .next()
        .ok_or_else(|| Error::Internal("a locked task changed under its lock".to_owned()))?;
    task_from_row(&row)
}

/// Deletes the user's task `id` (locked by the caller).
pub fn delete(conn: &Connection, task: &Task) -> Result<(), Error> {
    conn.execute(
        "DELETE FROM tasks WHERE id = $1 AND user_id = $2",
        &[task.id.as_uuid().into(), task.user_id.as_uuid().into()],
    )
    .map_err(|err| DbError::postgres("deleting a task", err))?;
    Ok(())
}

/// The expression a list is sorted by, and how a cursor's key is bound to compare with it.
fn sort_expression(sort: TaskSort) -> &'static str {
    match sort {
        TaskSort::DueDate => "t.due_date",
        TaskSort::Priority => PRIORITY_RANK,
        TaskSort::CreatedAt => "t.created_at",
        TaskSort::Title => "t.title COLLATE \"C\"",
    }
}

/// A `SELECT` under construction: its conditions and their parameters, numbered as pushed.
struct Select {
    conditions: Vec<String>,
    params: Vec<ParameterValue>,
}

impl Select {
    /// Adds a parameter and returns its placeholder (`$n`).
    fn param(&mut self, value: ParameterValue) -> String {
        self.params.push(value);
        format!("${}", self.params.len())
    }

    fn condition(&mut self, condition: String) {
        self.conditions.push(condition);
    }
}

/// One page of the user's tasks as `query` asks, plus one task more when there is a next page.
/// The order is [`TaskListQuery::compare`]'s: the sort key in the requested direction (no due
/// date last either way), then the id in the same direction; the cursor condition is the
/// keyset form of the same order, so a page boundary stays put under concurrent inserts.
pub fn list(conn: &Connection, user: UserId, query: &TaskListQuery) -> Result<Vec<Task>, Error> {
    let mut select = Select {
        conditions: Vec::new(),
        params: Vec::new(),
    };
    let user = select.param(user.as_uuid().into());
    select.condition(format!("t.user_id = {user}"));
    match query.status() {
        StatusFilter::Open => select.condition("t.completed_at IS NULL".to_owned()),
        StatusFilter::Completed => select.condition("t.completed_at IS NOT NULL".to_owned()),
        StatusFilter::All => {}
    }
    if let Some(priority) = query.priority() {
        let p = select.param(text(priority.as_str()));
        select.condition(format!("t.priority = {p}"));
    }
    if !query.tags().is_empty() {
        // Tags match ignoring case: compare the lower-cased arrays. (`lower` of an array's text
        // form only changes letters, so the cast back gives the same elements, lower-cased.)
        let folded = query.tags().iter().map(|tag| Some(tag.folded())).collect();
        let p = select.param(ParameterValue::ArrayStr(folded));
        select.condition(format!("lower(t.tags::text)::text[] @> {p}::text[]"));
    }
    if let Some(pattern) = query.text_like_pattern() {
        let p = select.param(ParameterValue::Str(pattern));
        select.condition(format!("(t.title ILIKE {p} OR t.description ILIKE {p})"));
    }
    if let Some(before) = query.due_before() {
        let p = select.param(instant(Some(before)));
        select.condition(format!("t.due_date < ({p}::timestamp AT TIME ZONE 'UTC')"));
    }
    if let Some(after) = query.due_after() {
        let p = select.param(instant(Some(after)));
        select.condition(format!("t.due_date >= ({p}::timestamp AT TIME ZONE 'UTC')"));
    }
    if query.overdue() {
        select.condition("t.completed_at IS NULL AND t.due_date < now()".to_owned());
    }
    if let Some(recurring) = query.is_recurring() {
        let p = select.param(ParameterValue::Boolean(recurring));
        select.condition(format!("t.is_recurring = {p}"));
    }

    let key = sort_expression(query.sort());
    let (direction, after) = match query.order() {
        SortOrder::Asc => ("ASC", ">"),
        SortOrder::Desc => ("DESC", "<"),
    };
    if let Some(cursor) = query.cursor() {
        let id = select.param(cursor.id().as_uuid().into());
        let bound = match cursor.key() {
            SortKey::DueDate(None) => None,
            SortKey::DueDate(Some(due)) => Some(format!(
                "({}::timestamp AT TIME ZONE 'UTC')",
                select.param(instant(Some(*due)))
            )),
            SortKey::Priority(priority) => Some(format!(
                "{}::int4",
                select.param(ParameterValue::Int32(i32::from(priority.rank())))
            )),
            SortKey::CreatedAt(at) => Some(format!(
                "({}::timestamp AT TIME ZONE 'UTC')",
                select.param(instant(Some(*at)))
            )),
            SortKey::Title(title) => Some(format!(
                "({}::text COLLATE \"C\")",
                select.param(text(title.as_str()))
            )),
        };
        select.condition(match (query.sort(), bound) {
            // Tasks without a due date come after every dated one, in both directions.
            (TaskSort::DueDate, Some(bound)) => {
                format!("(({key}, t.id) {after} ({bound}, {id}) OR t.due_date IS NULL)")
            }
            (_, Some(bound)) => format!("({key}, t.id) {after} ({bound}, {id})"),
            (_, None) => format!("(t.due_date IS NULL AND t.id {after} {id})"),
        });
    }
    let nulls = if query.sort() == TaskSort::DueDate {
        " NULLS LAST"
    } else {
        ""
    };
    let limit = select.param(ParameterValue::Int64(i64::from(query.limit()) + 1));
    let sql = format!(
        "SELECT {TASK_COLUMNS} FROM tasks t WHERE {} \
         ORDER BY {key} {direction}{nulls}, t.id {direction} LIMIT {limit}",
        select.conditions.join(" AND ")
    );
    let rows = conn
        .query(&sql, &select.params)
        .map_err(|err| DbError::postgres("listing tasks", err))?;
    rows.rows().map(|row| task_from_row(&row)).collect()
}

/// What an `Idempotency-Key` names when a request arrives with it.
pub enum IdempotencyClaim {
    /// Nobody has used the key in the last 24 hours: this request now owns it, and must
    /// [`record_response`] in the same transaction.
    New,
    /// An earlier request used it: its fingerprint and response.
    Used {
        /// The SHA-256 of the earlier request.
        fingerprint: String,
        /// Its response status.
        status: u16,
        /// Its response body.
        body: serde_json::Value,
    },
}

/// Takes the key for this request, or finds who has it. A concurrent request with the same key
/// waits on the primary key until the first commits, then finds it used: so two retries racing
/// each other still create one task.
pub fn claim_idempotency_key(
    conn: &Connection,
    user: UserId,
    key: &str,
    fingerprint: &str,
) -> Result<IdempotencyClaim, Error> {
    let rows = conn
        .query(
            "INSERT INTO idempotency_keys AS k \
             (user_id, key, fingerprint, response_status, response_body) \
             VALUES ($1, $2, $3, 0, 'null'::jsonb) \
             ON CONFLICT (user_id, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, \
             response_status = 0, response_body = 'null'::jsonb, created_at = now() \
             WHERE k.created_at <= now() - interval '24 hours' RETURNING 1 AS claimed",
            &[user.as_uuid().into(), text(key), text(fingerprint)],
        )
        .map_err(|err| DbError::postgres("claiming an idempotency key", err))?;
    if rows.rows().next().is_some() {
        return Ok(IdempotencyClaim::New);
    }
    let rows = conn
        .query(
            "SELECT fingerprint, response_status, response_body::text AS body \
             FROM idempotency_keys WHERE user_id = $1 AND key = $2",
            &[user.as_uuid().into(), text(key)],
        )
        .map_err(|err| DbError::postgres("reading an idempotency key", err))?;
    let row = rows
        .rows()
        .next()
        .ok_or_else(|| Error::Internal("an idempotency key vanished".to_owned()))?;
    let status: i32 = get(&row, "response_status")?;
    let body: String = get(&row, "body")?;
    Ok(IdempotencyClaim::Used {
        fingerprint: get(&row, "fingerprint")?,
        status: u16::try_from(status).unwrap_or(500),
        body: serde_json::from_str(&body)
            .map_err(|err| Error::Internal(format!("a stored response is not JSON: {err}")))?,
    })
}

/// Stores the response to the request that owns `key`.
pub fn record_response(
    conn: &Connection,
    user: UserId,
    key: &str,
    status: u16,
    body: &serde_json::Value,
) -> Result<(), Error> {
    conn.execute(
        "UPDATE idempotency_keys SET response_status = $3, response_body = $4::text::jsonb \
         WHERE user_id = $1 AND key = $2",
        &[
            user.as_uuid().into(),
            text(key),
            ParameterValue::Int32(i32::from(status)),
            ParameterValue::Str(body.to_string()),
        ],
    )
    .map_err(|err| DbError::postgres("recording an idempotent response", err))?;
    Ok(())
}
