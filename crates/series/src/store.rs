//! The SQL of recurring patterns and their instances (migration 0006).
//!
//! Local date-times (`dtstart`, `end_date`, `exdates`) travel as `YYYY-MM-DDTHH:MM:SS` text, and
//! arrays as JSON text, so that only the value types Spin's pg4 interface carries everywhere
//! are used. Instants follow the `AT TIME ZONE 'UTC'` rule of `platform::db`.

use chrono::{DateTime, NaiveDateTime, Utc};
use domain::account::UserId;
use domain::recurrence::{
    GenerationMode, RecurrenceRule, StructuredFields, TaskTemplate, Timezone,
};
use domain::task::TaskId;
use domain::time::Timestamp;
use platform::db::{Connection, DbError};
use spin_sdk::pg4::{Decode, ParameterValue, Row};
use uuid::Uuid;

use crate::StoreError as Error;

const LOCAL_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

/// The columns [`pattern_from_row`] reads.
const COLUMNS: &str = "id, user_id, task_template::text AS task_template, frequency, interval, \
     array_to_json(days_of_week)::text AS days_of_week, day_of_month, \
     to_char(end_date, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS end_date, max_occurrences, timezone, \
     rrule, to_char(dtstart, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS dtstart, \
     array_to_json(exdates)::text AS exdates, mode, \
     (generated_until AT TIME ZONE 'UTC') AS generated_until, instances_made, version, \
     (created_at AT TIME ZONE 'UTC') AS created_at, (updated_at AT TIME ZONE 'UTC') AS updated_at";

/// A pattern as stored.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// Its id.
    pub id: Uuid,
    /// Its owner.
    pub user_id: UserId,
    /// What each instance gets.
    pub template: TaskTemplate,
    /// The structured fields, when it was given that way.
    pub structured: Option<StructuredFields>,
    /// The rule, rebuilt from the canonical text, start, zone and exception dates.
    pub rule: RecurrenceRule,
    /// How instances are made.
    pub mode: GenerationMode,
    /// Everything before this has been generated.
    pub generated_until: Option<DateTime<Utc>>,
    /// Instances made so far.
    pub instances_made: u32,
    /// Optimistic-concurrency version.
    pub version: u32,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

fn get<T: Decode>(row: &Row<'_>, column: &str) -> Result<T, Error> {
    row.get(column)
        .ok_or_else(|| Error::Corrupt(format!("reading column {column}")))
}

fn corrupt(column: &str, problem: impl std::fmt::Display) -> Error {
    Error::Corrupt(format!(
        "recurrence_patterns.{column} is corrupt: {problem}"
    ))
}

fn local(column: &str, text: &str) -> Result<NaiveDateTime, Error> {
    NaiveDateTime::parse_from_str(text, LOCAL_FORMAT).map_err(|err| corrupt(column, err))
}

fn pattern_from_row(row: &Row<'_>) -> Result<Pattern, Error> {
    let template: String = get(row, "task_template")?;
    let template: TaskTemplate =
        serde_json::from_str(&template).map_err(|err| corrupt("task_template", err))?;
    let zone: String = get(row, "timezone")?;
    let zone = Timezone::parse(&zone).map_err(|err| corrupt("timezone", err))?;
    let exdates: String = get(row, "exdates")?;
    let exdates: Vec<String> =
        serde_json::from_str(&exdates).map_err(|err| corrupt("exdates", err))?;
    let exdates = exdates
        .iter()
        .map(|text| local("exdates", text))
        .collect::<Result<Vec<_>, _>>()?;
    let start = local("dtstart", &get::<String>(row, "dtstart")?)?;
    let rrule: String = get(row, "rrule")?;
    let rule = RecurrenceRule::parse(&rrule, start, zone, &exdates)
        .map_err(|err| corrupt("rrule", err))?;
    let frequency: String = get(row, "frequency")?;
    let structured = if frequency == "custom" {
        None
    } else {
        let days: Option<String> = get(row, "days_of_week")?;
        let days_of_week = days
            .map(|text| serde_json::from_str::<Vec<i64>>(&text))
            .transpose()
            .map_err(|err| corrupt("days_of_week", err))?;
        let end_date: Option<String> = get(row, "end_date")?;
        Some(StructuredFields {
            frequency,
            interval: i64::from(get::<i32>(row, "interval")?),
            days_of_week,
            day_of_month: get::<Option<i32>>(row, "day_of_month")?.map(i64::from),
            end_date: end_date.map(|text| local("end_date", &text)).transpose()?,
            max_occurrences: get::<Option<i32>>(row, "max_occurrences")?.map(i64::from),
        })
    };
    let mode: String = get(row, "mode")?;
    let counter = |column: &str| -> Result<u32, Error> {
        u32::try_from(get::<i32>(row, column)?).map_err(|err| corrupt(column, err))
    };
    Ok(Pattern {
        id: get(row, "id")?,
        user_id: UserId::from(get::<Uuid>(row, "user_id")?),
        template,
        structured,
        rule,
        mode: GenerationMode::parse(&mode).map_err(|err| corrupt("mode", err))?,
        generated_until: get::<Option<NaiveDateTime>>(row, "generated_until")?
            .map(|naive| naive.and_utc()),
        instances_made: counter("instances_made")?,
        version: counter("version")?,
        created_at: Timestamp::from_naive_utc(get(row, "created_at")?),
        updated_at: Timestamp::from_naive_utc(get(row, "updated_at")?),
    })
}

fn text(value: impl Into<String>) -> ParameterValue {
    ParameterValue::Str(value.into())
}

fn optional_text(value: Option<String>) -> ParameterValue {
    value.map_or(ParameterValue::DbNull, ParameterValue::Str)
}

fn optional_int(value: Option<i64>) -> ParameterValue {
    value
        .and_then(|v| i32::try_from(v).ok())
        .map_or(ParameterValue::DbNull, ParameterValue::Int32)
}

fn instant(value: DateTime<Utc>) -> ParameterValue {
    value.naive_utc().into()
}

fn optional_instant(value: Option<DateTime<Utc>>) -> ParameterValue {
    value.map_or(ParameterValue::DbNull, instant)
}

fn db(step: &str) -> impl FnOnce(platform::db::PgError) -> Error + '_ {
    move |err| Error::from(DbError::postgres(step, err))
}

/// The pattern's columns as parameters $2.. of [`INSERT`] and [`REPLACE`], in that order:
/// template, frequency, interval, days_of_week, day_of_month, end_date, max_occurrences,
/// timezone, rrule, dtstart, exdates, mode.
fn rule_parameters(
    template: &TaskTemplate,
    rule: &RecurrenceRule,
    structured: Option<&StructuredFields>,
    mode: GenerationMode,
) -> Result<Vec<ParameterValue>, Error> {
    let template =
        serde_json::to_string(template).map_err(|err| Error::Corrupt(err.to_string()))?;
    let exdates: Vec<String> = rule
        .exdates()
        .iter()
        .map(|d| d.format(LOCAL_FORMAT).to_string())
        .collect();
    let exdates = serde_json::to_string(&exdates).map_err(|err| Error::Corrupt(err.to_string()))?;
    Ok(vec![
        text(template),
        text(structured.map_or("custom".to_owned(), |s| s.frequency.clone())),
        ParameterValue::Int32(i32::try_from(rule.interval()).unwrap_or(i32::MAX)),
        optional_text(
            structured
                .and_then(|s| s.days_of_week.as_ref())
                .map(|days| serde_json::to_string(days).unwrap_or_default()),
        ),
        optional_int(structured.and_then(|s| s.day_of_month)),
        optional_text(
            structured
                .and_then(|s| s.end_date)
                .map(|d| d.format(LOCAL_FORMAT).to_string()),
        ),
        optional_int(structured.and_then(|s| s.max_occurrences)),
        text(rule.timezone().name()),
        text(rule.as_str()),
        text(rule.start().format(LOCAL_FORMAT).to_string()),
        text(exdates),
        text(mode.as_str()),
    ])
}

const INSERT: &str = "INSERT INTO recurrence_patterns (user_id, task_template, frequency, \
     interval, days_of_week, day_of_month, end_date, max_occurrences, timezone, rrule, dtstart, \
     exdates, mode) VALUES ($1, $2::text::jsonb, $3, $4, \
     (SELECT array_agg(d::int) FROM jsonb_array_elements_text($5::text::jsonb) d), $6, \
     $7::text::timestamp, $8, $9, $10, $11::text::timestamp, \
     ARRAY(SELECT jsonb_array_elements_text($12::text::jsonb)), $13) RETURNING ";

/// Stores a new pattern.
pub fn insert(
    conn: &Connection,
    user: UserId,
    template: &TaskTemplate,
    rule: &RecurrenceRule,
    structured: Option<&StructuredFields>,
    mode: GenerationMode,
) -> Result<Pattern, Error> {
    let mut params = vec![ParameterValue::from(user.as_uuid())];
    params.extend(rule_parameters(template, rule, structured, mode)?);
    let rows = conn
        .query(&format!("{INSERT}{COLUMNS}"), &params)
        .map_err(db("inserting a recurrence pattern"))?;
    let row = rows
        .rows()
        .next()
        .ok_or_else(|| Error::Corrupt("INSERT returned no row".into()))?;
    pattern_from_row(&row)
}

const REPLACE: &str = "UPDATE recurrence_patterns SET task_template = $2::text::jsonb, \
     frequency = $3, interval = $4, \
     days_of_week = (SELECT array_agg(d::int) FROM jsonb_array_elements_text($5::text::jsonb) d), \
     day_of_month = $6, end_date = $7::text::timestamp, max_occurrences = $8, timezone = $9, \
     rrule = $10, dtstart = $11::text::timestamp, \
     exdates = ARRAY(SELECT jsonb_array_elements_text($12::text::jsonb)), mode = $13, \
     generated_until = ($14::timestamp AT TIME ZONE 'UTC'), version = version + 1, \
     updated_at = now() WHERE id = $1 RETURNING ";

/// Replaces a pattern's rule, template and mode, setting where generation resumes; the
/// version moves on.
#[allow(clippy::too_many_arguments)]
pub fn replace(
    conn: &Connection,
    id: Uuid,
    template: &TaskTemplate,
    rule: &RecurrenceRule,
    structured: Option<&StructuredFields>,
    mode: GenerationMode,
    generated_until: Option<DateTime<Utc>>,
) -> Result<Pattern, Error> {
    let mut params = vec![ParameterValue::from(id)];
    params.extend(rule_parameters(template, rule, structured, mode)?);
    params.push(optional_instant(generated_until));
    let rows = conn
        .query(&format!("{REPLACE}{COLUMNS}"), &params)
        .map_err(db("updating a recurrence pattern"))?;
    let row = rows
        .rows()
        .next()
        .ok_or_else(|| Error::Corrupt("UPDATE returned no row".into()))?;
    pattern_from_row(&row)
}

/// The caller's live pattern `id`, locked for the rest of the transaction when `lock`.
pub fn find(
    conn: &Connection,
    user: UserId,
    id: Uuid,
    lock: bool,
) -> Result<Option<Pattern>, Error> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    let rows = conn
        .query(
            &format!(
                "SELECT {COLUMNS} FROM recurrence_patterns \
                 WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL{lock}"
            ),
            &[id.into(), user.as_uuid().into()],
        )
        .map_err(db("reading a recurrence pattern"))?;
    rows.rows()
        .next()
        .map(|row| pattern_from_row(&row))
        .transpose()
}

/// The caller's live patterns, newest first.
pub fn list(conn: &Connection, user: UserId) -> Result<Vec<Pattern>, Error> {
    let rows = conn
        .query(
            &format!(
                "SELECT {COLUMNS} FROM recurrence_patterns WHERE user_id = $1 \
                 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 500"
            ),
            &[user.as_uuid().into()],
        )
        .map_err(db("listing recurrence patterns"))?;
    rows.rows().map(|row| pattern_from_row(&row)).collect()
}

/// Marks a pattern deleted (kept so completed instances still name it).
pub fn soft_delete(conn: &Connection, id: Uuid) -> Result<(), Error> {
    conn.execute(
        "UPDATE recurrence_patterns SET deleted_at = now(), version = version + 1, \
         updated_at = now() WHERE id = $1",
        &[id.into()],
    )
    .map_err(db("deleting a recurrence pattern"))?;
    Ok(())
}

/// Records a generation pass.
pub fn record_pass(
    conn: &Connection,
    id: Uuid,
    generated_until: Option<DateTime<Utc>>,
    made: u32,
) -> Result<(), Error> {
    conn.execute(
        "UPDATE recurrence_patterns SET \
         generated_until = coalesce(($2::timestamp AT TIME ZONE 'UTC'), generated_until), \
         instances_made = instances_made + $3, last_generated_at = now() WHERE id = $1",
        &[
            id.into(),
            optional_instant(generated_until),
            ParameterValue::Int32(i32::try_from(made).unwrap_or(i32::MAX)),
        ],
    )
    .map_err(db("recording a generation pass"))?;
    Ok(())
}

/// Says that this transaction changes a series on purpose, so the trigger that records an
/// EXDATE for a deleted instance stands aside (migration 0006).
pub fn mark_series_change(conn: &Connection) -> Result<(), Error> {
    conn.execute("SELECT set_config('todo.series_change', 'on', true)", &[])
        .map_err(db("marking a series change"))?;
    Ok(())
}

/// A generated instance, as inserted.
#[derive(Debug, Clone)]
pub struct Instance {
    /// The task's id.
    pub id: TaskId,
    /// When it was created.
    pub created_at: Timestamp,
}

const INSERT_INSTANCE: &str = "INSERT INTO tasks (user_id, title, description, priority, \
     due_date, reminder_time, tags, is_recurring, recurrence_pattern_id, recurrence_occurrence) \
     VALUES ($1, $2, $3, $4, ($5::timestamp AT TIME ZONE 'UTC'), \
     ($6::timestamp AT TIME ZONE 'UTC'), \
     ARRAY(SELECT jsonb_array_elements_text($7::text::jsonb)), true, $8, \
     ($5::timestamp AT TIME ZONE 'UTC')) \
     ON CONFLICT ON CONSTRAINT tasks_recurrence_occurrence_key DO NOTHING \
     RETURNING id, (created_at AT TIME ZONE 'UTC') AS created_at";

/// Inserts the instance of `pattern` at `occurrence`, unless it exists already (`None`).
pub fn insert_instance(
    conn: &Connection,
    pattern: &Pattern,
    occurrence: DateTime<Utc>,
) -> Result<Option<Instance>, Error> {
    let template = &pattern.template;
    let tags = template.tags.to_strings();
    let rows = conn
        .query(
            INSERT_INSTANCE,
            &[
                pattern.user_id.as_uuid().into(),
                text(template.title.to_string()),
                optional_text(template.description.as_ref().map(|d| d.to_string())),
                text(template.priority.to_string()),
                instant(occurrence),
                optional_instant(template.reminder_for(occurrence)),
                text(serde_json::to_string(&tags).unwrap_or_else(|_| "[]".into())),
                pattern.id.into(),
            ],
        )
        .map_err(db("inserting a recurring instance"))?;
    let Some(row) = rows.rows().next() else {
        return Ok(None);
    };
    let id: Uuid = get(&row, "id")?;
    Ok(Some(Instance {
        id: TaskId::from(id),
        created_at: Timestamp::from_naive_utc(get(&row, "created_at")?),
    }))
}

/// A removed instance, for its `tasks.task.deleted` event.
#[derive(Debug, Clone)]
pub struct Removed {
    /// The task's id.
    pub id: TaskId,
    /// Its title.
    pub title: String,
    /// Its last version.
    pub version: u32,
}

/// Deletes the pattern's open instances whose occurrence is at or after `from`; exceptions
/// (edited instances) too only when `with_exceptions`. Completed instances are never touched.
pub fn remove_open_instances(
    conn: &Connection,
    pattern: Uuid,
    from: DateTime<Utc>,
    with_exceptions: bool,
) -> Result<Vec<Removed>, Error> {
    let rows = conn
        .query(
            "DELETE FROM tasks WHERE recurrence_pattern_id = $1 AND NOT is_completed \
             AND recurrence_occurrence >= ($2::timestamp AT TIME ZONE 'UTC') \
             AND ($3 OR NOT is_exception) RETURNING id, title, version",
            &[
                pattern.into(),
                instant(from),
                ParameterValue::Boolean(with_exceptions),
            ],
        )
        .map_err(db("removing recurring instances"))?;
    rows.rows()
        .map(|row| {
            Ok(Removed {
                id: TaskId::from(get::<Uuid>(&row, "id")?),
                title: get(&row, "title")?,
                version: u32::try_from(get::<i32>(&row, "version")?).unwrap_or(1),
            })
        })
        .collect()
}

/// An instance's series and occurrence, if `task` is the caller's instance of `pattern`.
pub fn instance_occurrence(
    conn: &Connection,
    user: UserId,
    pattern: Uuid,
    task: Uuid,
) -> Result<Option<DateTime<Utc>>, Error> {
    let rows = conn
        .query(
            "SELECT (recurrence_occurrence AT TIME ZONE 'UTC') AS occurrence FROM tasks \
             WHERE id = $1 AND user_id = $2 AND recurrence_pattern_id = $3 \
             AND recurrence_occurrence IS NOT NULL",
            &[task.into(), user.as_uuid().into(), pattern.into()],
        )
        .map_err(db("reading a recurring instance"))?;
    rows.rows()
        .next()
        .map(|row| get::<NaiveDateTime>(&row, "occurrence").map(|n| n.and_utc()))
        .transpose()
}

/// The pattern's instances, by occurrence: `(task id, occurrence, due, completed, exception)`.
pub fn instances(conn: &Connection, pattern: Uuid) -> Result<Vec<serde_json::Value>, Error> {
    let rows = conn
        .query(
            "SELECT id, title, (recurrence_occurrence AT TIME ZONE 'UTC') AS occurrence, \
             (due_date AT TIME ZONE 'UTC') AS due_date, is_completed, is_exception, version \
             FROM tasks WHERE recurrence_pattern_id = $1 \
             ORDER BY recurrence_occurrence, id LIMIT 1000",
            &[pattern.into()],
        )
        .map_err(db("listing recurring instances"))?;
    rows.rows()
        .map(|row| {
            let occurrence: NaiveDateTime = get(&row, "occurrence")?;
            let due: Option<NaiveDateTime> = get(&row, "due_date")?;
            Ok(serde_json::json!({
                "task_id": get::<Uuid>(&row, "id")?,
                "title": get::<String>(&row, "title")?,
                "occurrence": Timestamp::from_naive_utc(occurrence),
                "due_date": due.map(Timestamp::from_naive_utc),
                "is_completed": get::<bool>(&row, "is_completed")?,
                "is_exception": get::<bool>(&row, "is_exception")?,
                "version": get::<i32>(&row, "version")?,
            }))
        })
        .collect()
}

/// A live pattern by id, whoever owns it (for consumers, which act for the event's user),
/// locked for the rest of the transaction.
pub fn lock_any(conn: &Connection, id: Uuid) -> Result<Option<Pattern>, Error> {
    let rows = conn
        .query(
            &format!(
                "SELECT {COLUMNS} FROM recurrence_patterns \
                 WHERE id = $1 AND deleted_at IS NULL FOR UPDATE"
            ),
            &[id.into()],
        )
        .map_err(db("reading a recurrence pattern"))?;
    rows.rows()
        .next()
        .map(|row| pattern_from_row(&row))
        .transpose()
}

/// Claims up to `limit` live fixed patterns whose horizon ends before `horizon_end`, skipping
/// those another replica holds (`FOR UPDATE SKIP LOCKED`): the daily tick's batch.
pub fn claim_behind(
    conn: &Connection,
    horizon_end: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Pattern>, Error> {
    let rows = conn
        .query(
            &format!(
                "SELECT {COLUMNS} FROM recurrence_patterns WHERE deleted_at IS NULL \
                 AND mode = 'fixed' AND (generated_until IS NULL \
                 OR generated_until < ($1::timestamp AT TIME ZONE 'UTC')) \
                 ORDER BY generated_until NULLS FIRST, id LIMIT $2 FOR UPDATE SKIP LOCKED"
            ),
            &[
                instant(horizon_end),
                ParameterValue::Int64(i64::from(limit)),
            ],
        )
        .map_err(db("claiming patterns behind their horizon"))?;
    rows.rows().map(|row| pattern_from_row(&row)).collect()
}

/// Whether the pattern has an open instance (an after-completion series has at most one).
pub fn has_open_instance(conn: &Connection, pattern: Uuid) -> Result<bool, Error> {
    let rows = conn
        .query(
            "SELECT 1 AS one FROM tasks WHERE recurrence_pattern_id = $1 AND NOT is_completed \
             LIMIT 1",
            &[pattern.into()],
        )
        .map_err(db("looking for an open instance"))?;
    Ok(rows.rows().next().is_some())
}

/// One instance to insert in a batch.
#[derive(Debug, Clone)]
pub struct NewInstance<'p> {
    /// Its series.
    pub pattern: &'p Pattern,
    /// The occurrence (its due date and key).
    pub occurrence: DateTime<Utc>,
}

/// An instance a batch inserted.
#[derive(Debug, Clone)]
pub struct Inserted {
    /// The task's id.
    pub id: TaskId,
    /// Its series.
    pub pattern: Uuid,
    /// Its occurrence.
    pub occurrence: DateTime<Utc>,
    /// When it was created.
    pub created_at: Timestamp,
}

/// [`INSERT_INSTANCE`] for many instances in one statement (parallel text arrays, unnested):
/// a tick pass over a batch of patterns is a handful of round trips, not two per instance.
const INSERT_INSTANCES: &str = "INSERT INTO tasks (user_id, title, description, priority, \
     due_date, reminder_time, tags, is_recurring, recurrence_pattern_id, recurrence_occurrence) \
     SELECT r.user_id::uuid, r.title, r.description, r.priority, \
     (r.due::timestamp AT TIME ZONE 'UTC'), (r.reminder::timestamp AT TIME ZONE 'UTC'), \
     ARRAY(SELECT jsonb_array_elements_text(r.tags::jsonb)), true, r.pattern::uuid, \
     (r.due::timestamp AT TIME ZONE 'UTC') \
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
     $7::text[], $8::text[]) AS r(user_id, title, description, priority, due, reminder, tags, \
     pattern) \
     ON CONFLICT ON CONSTRAINT tasks_recurrence_occurrence_key DO NOTHING \
     RETURNING id, recurrence_pattern_id, \
     (recurrence_occurrence AT TIME ZONE 'UTC') AS occurrence, \
     (created_at AT TIME ZONE 'UTC') AS created_at";

/// Inserts `instances`, skipping those that exist already; returns the ones inserted.
pub fn insert_instances(
    conn: &Connection,
    instances: &[NewInstance<'_>],
) -> Result<Vec<Inserted>, Error> {
    if instances.is_empty() {
        return Ok(Vec::new());
    }
    let local = |t: DateTime<Utc>| t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
    let column = |value: &dyn Fn(&NewInstance<'_>) -> Option<String>| {
        ParameterValue::ArrayStr(instances.iter().map(value).collect())
    };
    let rows = conn
        .query(
            INSERT_INSTANCES,
            &[
                column(&|i| Some(i.pattern.user_id.to_string())),
                column(&|i| Some(i.pattern.template.title.to_string())),
                column(&|i| {
                    i.pattern
                        .template
                        .description
                        .as_ref()
                        .map(|d| d.to_string())
                }),
                column(&|i| Some(i.pattern.template.priority.to_string())),
                column(&|i| Some(local(i.occurrence))),
                column(&|i| i.pattern.template.reminder_for(i.occurrence).map(local)),
                column(&|i| {
                    Some(
                        serde_json::to_string(&i.pattern.template.tags.to_strings())
                            .unwrap_or_else(|_| "[]".into()),
                    )
                }),
                column(&|i| Some(i.pattern.id.to_string())),
            ],
        )
        .map_err(db("inserting recurring instances"))?;
    rows.rows()
        .map(|row| {
            Ok(Inserted {
                id: TaskId::from(get::<Uuid>(&row, "id")?),
                pattern: get(&row, "recurrence_pattern_id")?,
                occurrence: get::<NaiveDateTime>(&row, "occurrence")?.and_utc(),
                created_at: Timestamp::from_naive_utc(get(&row, "created_at")?),
            })
        })
        .collect()
}

/// Records a generation pass for each pattern in one statement: `(pattern, generated_until,
/// instances made)`.
pub fn record_passes(
    conn: &Connection,
    passes: &[(Uuid, DateTime<Utc>, u32)],
) -> Result<(), Error> {
    if passes.is_empty() {
        return Ok(());
    }
    let local = |t: DateTime<Utc>| t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
    conn.execute(
        "UPDATE recurrence_patterns p SET \
         generated_until = (r.until::timestamp AT TIME ZONE 'UTC'), \
         instances_made = p.instances_made + r.made::int, last_generated_at = now() \
         FROM unnest($1::text[], $2::text[], $3::text[]) AS r(id, until, made) \
         WHERE p.id = r.id::uuid",
        &[
            ParameterValue::ArrayStr(passes.iter().map(|p| Some(p.0.to_string())).collect()),
            ParameterValue::ArrayStr(passes.iter().map(|p| Some(local(p.1))).collect()),
            ParameterValue::ArrayStr(passes.iter().map(|p| Some(p.2.to_string())).collect()),
        ],
    )
    .map_err(db("recording generation passes"))?;
    Ok(())
}
