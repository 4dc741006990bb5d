//! Recurring patterns: `POST|GET /api/tasks/recurring`, `GET|PUT|DELETE
//! /api/tasks/recurring/{id}`, `POST /api/tasks/recurring/preview`,
//! `GET /api/tasks/recurring/{id}/instances`, and the this-and-following edit and delete at
//! `PUT|DELETE /api/tasks/recurring/{id}/instances/{task_id}`.
//!
//! A pattern is given as the seed's structured fields or a raw RRULE (`domain::recurrence`
//! checks and normalises both). Creating or changing one generates its first horizon of
//! instances in the same transaction as the change and its `recurring.pattern.*` event, so
//! the instances exist when the response is sent; the `recurrence` component's daily tick
//! extends the horizon later (generation is idempotent through the unique (pattern,
//! occurrence) key, so both may run the same pass).
//!
//! Editing scopes:
//! - one instance: `PUT|PATCH /api/tasks/{id}` as for any task; migration 0006's trigger makes
//!   the edited instance an exception that regeneration never replaces. Deleting one
//!   (`DELETE /api/tasks/{id}`) records its occurrence as an EXDATE of the pattern.
//! - this and following: `PUT /api/tasks/recurring/{id}/instances/{task_id}` with a pattern
//!   body splits the series at that instance's occurrence; `DELETE` on the same path ends the
//!   series before it.
//! - the whole series: `PUT /api/tasks/recurring/{id}`: future open instances that are not
//!   exceptions are replaced; completed ones are never touched.
//!
//! The SQL and the generation passes are the `series` crate's, shared with the `recurrence`
//! component.

use std::time::SystemTime;

use chrono::{DateTime, TimeDelta, Utc};
use domain::event::{CloudEvent, EventHeader, Source, TaskDeleted, Traceparent};
use domain::recurrence::{
    GenerationMode, PatternChanged, PatternFieldError, PatternInput, PatternSpec, RecurrenceRule,
    format_rfc3339,
};
use domain::task::TaskTitle;
use domain::time::Timestamp;
use platform::auth::{self, AuthError, Caller};
use platform::body::{self, BodyError};
use platform::db::{self, Connection, DbError};
use platform::outbox;
use platform::problem::Problem;
use platform::response;
use serde_json::{Value, json};
use spin_sdk::http::{Params, Request, Response};
use uuid::Uuid;

use crate::tasks::web::{Precondition, etag};
use series::store::{self, Pattern};
use series::{StoreError, generate};

/// The most occurrences a preview returns.
pub const MAX_PREVIEW: usize = 500;

/// Everything a pattern route can answer besides success.
#[derive(Debug)]
pub enum Error {
    /// Not authenticated (401) or failed the CSRF rule (403).
    Auth(AuthError),
    /// The body is not JSON of the right shape (400, 413, 415, 422).
    Body(BodyError),
    /// Fields failed validation (422).
    Invalid(Vec<PatternFieldError>),
    /// No such pattern or instance for this caller (404).
    NotFound,
    /// `If-Match` names another version (412).
    Stale {
        /// The pattern's current version.
        current: u32,
    },
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

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Rule(err) => Self::Invalid(vec![err.into()]),
            other => Self::Internal(other.to_string()),
        }
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
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect();
                Problem::typed(422, "validation", "The request has invalid fields")
                    .with_detail(format!("{}.", detail.join("; ")))
                    .with_extension("errors", &errors)
                    .into()
            }
            Error::NotFound => Problem::not_found()
                .with_detail("No such recurring pattern or instance.")
                .into(),
            Error::Stale { current } => {
                let mut response: Response =
                    Problem::typed(412, "stale-version", "The pattern has changed")
                        .with_detail(format!(
                            "If-Match does not name the pattern's current version, {}.",
                            etag(current)
                        ))
                        .into();
                response.set_header("etag", etag(current));
                response
            }
            Error::Internal(cause) => {
                platform::log::error("api", &format!("recurring: {cause}"), &[]);
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

/// The host's clock (read through `SystemTime`, which is `wasi:clocks` on wasm32-wasip2).
fn now() -> DateTime<Utc> {
    DateTime::<Utc>::from(SystemTime::now())
}

/// `recurring.pattern.created`, `.updated` or `.deleted`, by the payload type's wrapper.
fn enqueue_pattern_event(
    conn: &Connection,
    topic: domain::event::Topic,
    pattern: &Pattern,
    traceparent: &Traceparent,
) -> Result<(), Error> {
    let changed_at = Timestamp::from_datetime(now());
    let data = PatternChanged {
        pattern_id: pattern.id,
        user_id: pattern.user_id,
        rrule: pattern.rule.as_str().to_owned(),
        timezone: pattern.rule.timezone().name().to_owned(),
        mode: pattern.mode.as_str().to_owned(),
        version: pattern.version,
        changed_at,
    };
    let value = serde_json::to_value(&data).map_err(|err| Error::Internal(err.to_string()))?;
    let header = EventHeader {
        id: series::event_id()?,
        time: changed_at,
        source: Source::Api,
        traceparent: Some(traceparent.clone()),
    };
    let event = CloudEvent::new(
        topic,
        header,
        domain::event::Subject::pattern(pattern.id),
        value,
    )
    .map_err(|err| Error::Internal(format!("{err:?}")))?;
    outbox::enqueue(conn, &event)?;
    Ok(())
}

/// The `tasks.task.deleted` events of instances a series change removed.
fn enqueue_removed(
    conn: &Connection,
    pattern: &Pattern,
    removed: &[store::Removed],
    traceparent: &Traceparent,
) -> Result<(), Error> {
    let deleted_at = Timestamp::from_datetime(now());
    for instance in removed {
        let title = TaskTitle::parse(&instance.title)
            .map_err(|err| Error::Internal(format!("stored title: {err}")))?;
        let data = TaskDeleted {
            task_id: instance.id,
            user_id: pattern.user_id,
            title,
            deleted_at,
            version: instance.version,
        };
        series::enqueue(conn, &data, deleted_at, Source::Api, Some(traceparent))?;
    }
    Ok(())
}

/// The horizon in days (`recurrence_horizon_days`, default 30).
pub fn horizon_days() -> u32 {
    platform::config::optional("recurrence_horizon_days")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse().ok())
        .filter(|days| (1..=366).contains(days))
        .unwrap_or(generate::DEFAULT_HORIZON_DAYS)
}

fn origin(traceparent: &Traceparent) -> generate::Origin {
    generate::Origin {
        source: Source::Api,
        traceparent: Some(traceparent.clone()),
    }
}

fn traceparent(req: &Request) -> Result<Traceparent, Error> {
    crate::tasks::web::traceparent(req).map_err(Error::Internal)
}

fn pattern_id(params: &Params, name: &str) -> Result<Uuid, Error> {
    params
        .get(name)
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or(Error::NotFound)
}

/// The pattern's JSON.
pub fn pattern_json(pattern: &Pattern) -> Value {
    let rule = &pattern.rule;
    let structured = pattern.structured.as_ref();
    let local = |d: chrono::NaiveDateTime| d.format("%Y-%m-%dT%H:%M:%S").to_string();
    json!({
        "id": pattern.id,
        "task_template": pattern.template,
        "frequency": structured.map_or("custom", |s| s.frequency.as_str()),
        "interval": rule.interval(),
        "days_of_week": structured.and_then(|s| s.days_of_week.clone()),
        "day_of_month": structured.and_then(|s| s.day_of_month),
        "end_date": structured.and_then(|s| s.end_date).map(local),
        "max_occurrences": structured.and_then(|s| s.max_occurrences),
        "rrule": rule.as_str(),
        "start": local(rule.start()),
        "timezone": rule.timezone().name(),
        "exdates": rule.exdates().iter().copied().map(local).collect::<Vec<_>>(),
        "mode": pattern.mode.as_str(),
        "generated_until": pattern.generated_until.map(Timestamp::from_datetime),
        "version": pattern.version,
        "created_at": pattern.created_at,
        "updated_at": pattern.updated_at,
    })
}

fn pattern_response(status: u16, pattern: &Pattern, generated: usize) -> Response {
    let mut body = pattern_json(pattern);
    body["instances_generated"] = json!(generated);
    let mut response = response::json(status, &body);
    response.set_header("etag", etag(pattern.version));
    if status == 201 {
        response.set_header("location", format!("/api/tasks/recurring/{}", pattern.id));
    }
    response
}

fn parse_spec(
    input: PatternInput,
    caller: &Caller,
    needs_template: bool,
) -> Result<PatternSpec, Error> {
    input
        .parse(&caller.user.timezone, needs_template)
        .map_err(Error::Invalid)
}

/// `If-Match: "<version>"`, if sent, must name the current version.
fn check_if_match(req: &Request, current: u32) -> Result<(), Error> {
    // The same If-Match rules as a task's (strong comparison, lists, `*`).
    if Precondition::of(req).holds(current) {
        Ok(())
    } else {
        Err(Error::Stale { current })
    }
}

// --- Handlers ---------------------------------------------------------------------------------

/// `POST /api/tasks/recurring`
pub fn create(req: Request, _: Params) -> Response {
    respond(create_inner(&req))
}

fn create_inner(req: &Request) -> Result<Response, Error> {
    let conn = db::open()?;
    let caller = auth::authenticate(req, &conn)?;
    let input: PatternInput = body::json(req)?;
    let spec = parse_spec(input, &caller, true)?;
    let traceparent = traceparent(req)?;
    let template = spec
        .template
        .ok_or_else(|| Error::Internal("a parsed pattern without its template".into()))?;
    let (pattern, generated) = db::transaction(&conn, |conn| {
        let pattern = store::insert(
            conn,
            caller.user_id(),
            &template,
            &spec.rule,
            spec.structured.as_ref(),
            spec.mode,
        )?;
        enqueue_pattern_event(
            conn,
            domain::event::Topic::PatternCreated,
            &pattern,
            &traceparent,
        )?;
        let generated =
            generate::pass(conn, &pattern, now(), horizon_days(), &origin(&traceparent))?;
        let pattern = store::find(conn, caller.user_id(), pattern.id, false)?
            .ok_or_else(|| Error::Internal("the new pattern vanished".into()))?;
        Ok::<_, Error>((pattern, generated))
    })?;
    Ok(pattern_response(201, &pattern, generated))
}

/// `GET /api/tasks/recurring`
pub fn list(req: Request, _: Params) -> Response {
    respond((|| {
        let conn = db::open()?;
        let caller = auth::authenticate(&req, &conn)?;
        let patterns = store::list(&conn, caller.user_id())?;
        let items: Vec<Value> = patterns.iter().map(pattern_json).collect();
        Ok(response::json(200, &json!({ "patterns": items })))
    })())
}

/// `GET /api/tasks/recurring/{id}`
pub fn get(req: Request, params: Params) -> Response {
    respond((|| {
        let conn = db::open()?;
        let caller = auth::authenticate(&req, &conn)?;
        let id = pattern_id(&params, "id")?;
        let pattern = store::find(&conn, caller.user_id(), id, false)?.ok_or(Error::NotFound)?;
        let mut response = response::json(200, &pattern_json(&pattern));
        response.set_header("etag", etag(pattern.version));
        Ok(response)
    })())
}

/// `GET /api/tasks/recurring/{id}/instances`: the series' instances, by occurrence.
pub fn instances(req: Request, params: Params) -> Response {
    respond((|| {
        let conn = db::open()?;
        let caller = auth::authenticate(&req, &conn)?;
        let id = pattern_id(&params, "id")?;
        store::find(&conn, caller.user_id(), id, false)?.ok_or(Error::NotFound)?;
        let items = store::instances(&conn, id)?;
        Ok(response::json(200, &json!({ "instances": items })))
    })())
}

/// `PUT /api/tasks/recurring/{id}`: the whole series. Its future open instances that are not
/// exceptions are replaced by the new rule's; completed and edited ones stay.
pub fn replace(req: Request, params: Params) -> Response {
    respond(replace_inner(&req, &params))
}

fn replace_inner(req: &Request, params: &Params) -> Result<Response, Error> {
    let conn = db::open()?;
    let caller = auth::authenticate(req, &conn)?;
    let id = pattern_id(params, "id")?;
    let input: PatternInput = body::json(req)?;
    let spec = parse_spec(input, &caller, true)?;
    let traceparent = traceparent(req)?;
    let template = spec
        .template
        .ok_or_else(|| Error::Internal("a parsed pattern without its template".into()))?;
    let (pattern, generated) = db::transaction(&conn, |conn| {
        let current = store::find(conn, caller.user_id(), id, true)?.ok_or(Error::NotFound)?;
        check_if_match(req, current.version)?;
        store::mark_series_change(conn)?;
        let at = now();
        let removed = store::remove_open_instances(conn, id, at, false)?;
        enqueue_removed(conn, &current, &removed, &traceparent)?;
        // Instances the user deleted one by one stay deleted under the new rule.
        let rule = spec
            .rule
            .clone()
            .with_exdates(current.rule.exdates().iter().copied())
            .map_err(|err| Error::Invalid(vec![err.into()]))?;
        let pattern = store::replace(
            conn,
            id,
            &template,
            &rule,
            spec.structured.as_ref(),
            spec.mode,
            None,
        )?;
        enqueue_pattern_event(
            conn,
            domain::event::Topic::PatternUpdated,
            &pattern,
            &traceparent,
        )?;
        let generated = generate::pass(conn, &pattern, at, horizon_days(), &origin(&traceparent))?;
        let pattern = store::find(conn, caller.user_id(), id, false)?
            .ok_or_else(|| Error::Internal("the pattern vanished".into()))?;
        Ok::<_, Error>((pattern, generated))
    })?;
    Ok(pattern_response(200, &pattern, generated))
}

/// `DELETE /api/tasks/recurring/{id}`: the series ends. Its future open instances go;
/// completed ones, and the pattern row they name, stay as history.
pub fn delete(req: Request, params: Params) -> Response {
    respond((|| {
        let conn = db::open()?;
        let caller = auth::authenticate(&req, &conn)?;
        let id = pattern_id(&params, "id")?;
        let traceparent = traceparent(&req)?;
        db::transaction(&conn, |conn| {
            let pattern = store::find(conn, caller.user_id(), id, true)?.ok_or(Error::NotFound)?;
            check_if_match(&req, pattern.version)?;
            store::mark_series_change(conn)?;
            let removed = store::remove_open_instances(conn, id, now(), true)?;
            enqueue_removed(conn, &pattern, &removed, &traceparent)?;
            store::soft_delete(conn, id)?;
            let deleted = Pattern {
                version: pattern.version + 1,
                ..pattern
            };
            enqueue_pattern_event(
                conn,
                domain::event::Topic::PatternDeleted,
                &deleted,
                &traceparent,
            )?;
            Ok::<_, Error>(())
        })?;
        Ok(Response::builder().status(204).build())
    })())
}

/// `PUT /api/tasks/recurring/{id}/instances/{task_id}`: this instance and every later one.
///
/// The series is split at the instance's occurrence: the pattern keeps the occurrences before
/// it (or is deleted if there are none), and a new pattern, returned with 201, takes the rest.
/// The body is a pattern body; without `rrule` or `frequency` the new pattern keeps the old
/// rule from the occurrence on (with what is left of its COUNT), and without `start` it starts
/// at the occurrence.
pub fn replace_following(req: Request, params: Params) -> Response {
    respond(replace_following_inner(&req, &params))
}

fn replace_following_inner(req: &Request, params: &Params) -> Result<Response, Error> {
    let conn = db::open()?;
    let caller = auth::authenticate(req, &conn)?;
    let id = pattern_id(params, "id")?;
    let task = pattern_id(params, "task_id")?;
    let mut input: PatternInput = body::json(req)?;
    let traceparent = traceparent(req)?;
    let (pattern, generated) = db::transaction(&conn, |conn| {
        let old = store::find(conn, caller.user_id(), id, true)?.ok_or(Error::NotFound)?;
        check_if_match(req, old.version)?;
        let occurrence =
            store::instance_occurrence(conn, caller.user_id(), id, task)?.ok_or(Error::NotFound)?;
        let split = old
            .rule
            .split_at(occurrence)
            .map_err(|err| Error::Invalid(vec![err.into()]))?;
        let rule_given = input.rrule.is_some() || input.frequency.is_some();
        let (template, rule, structured, mode) = if rule_given {
            if input.start.is_none() {
                input.start = Some(
                    split
                        .following
                        .start()
                        .format("%Y-%m-%dT%H:%M:%S")
                        .to_string(),
                );
            }
            if input.timezone.is_none() {
                input.timezone = Some(old.rule.timezone().name().to_owned());
            }
            let spec = parse_spec(input, &caller, false)?;
            let template = spec.template.unwrap_or_else(|| old.template.clone());
            (template, spec.rule, spec.structured, spec.mode)
        } else {
            let template = match input.task_template.take() {
                Some(template) => template.parse().map_err(Error::Invalid)?,
                None => old.template.clone(),
            };
            let mode = match input.mode.as_deref() {
                Some(name) => {
                    GenerationMode::parse(name).map_err(|e| Error::Invalid(vec![e.into()]))?
                }
                None => old.mode,
            };
            (template, split.following.clone(), None, mode)
        };
        store::mark_series_change(conn)?;
        let removed = store::remove_open_instances(conn, id, occurrence, false)?;
        enqueue_removed(conn, &old, &removed, &traceparent)?;
        if split.before.is_none() {
            // The first occurrence: nothing stays with the old pattern.
            let removed = store::remove_open_instances(
                conn,
                id,
                occurrence - TimeDelta::days(36_600),
                false,
            )?;
            enqueue_removed(conn, &old, &removed, &traceparent)?;
        }
        end_series(conn, &old, split.before.as_ref(), &traceparent)?;
        let new = store::insert(
            conn,
            caller.user_id(),
            &template,
            &rule,
            structured.as_ref(),
            mode,
        )?;
        enqueue_pattern_event(
            conn,
            domain::event::Topic::PatternCreated,
            &new,
            &traceparent,
        )?;
        // The new series starts at the edited occurrence even if that is already past.
        let from = occurrence.min(now());
        let generated = generate::pass_from(
            conn,
            &new,
            from,
            now(),
            horizon_days(),
            &origin(&traceparent),
        )?;
        let new = store::find(conn, caller.user_id(), new.id, false)?
            .ok_or_else(|| Error::Internal("the new pattern vanished".into()))?;
        Ok::<_, Error>((new, generated))
    })?;
    Ok(pattern_response(201, &pattern, generated))
}

/// Ends `old` at a this-and-following split: it keeps the rule of the occurrences before the
/// split (`before`), or, when the split is at its first occurrence, it is deleted. Writes the
/// pattern's `updated` or `deleted` event.
fn end_series(
    conn: &Connection,
    old: &Pattern,
    before: Option<&RecurrenceRule>,
    traceparent: &Traceparent,
) -> Result<(), Error> {
    match before {
        Some(before) => {
            let kept = store::replace(
                conn,
                old.id,
                &old.template,
                before,
                None,
                old.mode,
                old.generated_until,
            )?;
            enqueue_pattern_event(
                conn,
                domain::event::Topic::PatternUpdated,
                &kept,
                traceparent,
            )
        }
        None => {
            store::soft_delete(conn, old.id)?;
            let deleted = Pattern {
                version: old.version + 1,
                ..old.clone()
            };
            enqueue_pattern_event(
                conn,
                domain::event::Topic::PatternDeleted,
                &deleted,
                traceparent,
            )
        }
    }
}

/// `DELETE /api/tasks/recurring/{id}/instances/{task_id}`: this instance and every later one.
/// The series ends just before the instance's occurrence (or is deleted, if that was its
/// first); completed instances stay.
pub fn delete_following(req: Request, params: Params) -> Response {
    respond((|| {
        let conn = db::open()?;
        let caller = auth::authenticate(&req, &conn)?;
        let id = pattern_id(&params, "id")?;
        let task = pattern_id(&params, "task_id")?;
        let traceparent = traceparent(&req)?;
        db::transaction(&conn, |conn| {
            let old = store::find(conn, caller.user_id(), id, true)?.ok_or(Error::NotFound)?;
            check_if_match(&req, old.version)?;
            let occurrence = store::instance_occurrence(conn, caller.user_id(), id, task)?
                .ok_or(Error::NotFound)?;
            let split = old
                .rule
                .split_at(occurrence)
                .map_err(|err| Error::Invalid(vec![err.into()]))?;
            store::mark_series_change(conn)?;
            let removed = store::remove_open_instances(conn, id, occurrence, true)?;
            enqueue_removed(conn, &old, &removed, &traceparent)?;
            end_series(conn, &old, split.before.as_ref(), &traceparent)?;
            Ok::<_, Error>(())
        })?;
        Ok(Response::builder().status(204).build())
    })())
}

/// `POST /api/tasks/recurring/preview`: the first `count` (default 10, at most 500)
/// occurrences of a rule from its start, past or future, as RFC 3339 with the zone's offset.
pub fn preview(req: Request, _: Params) -> Response {
    respond((|| {
        let conn = db::open()?;
        let caller = auth::authenticate(&req, &conn)?;
        let input: PatternInput = body::json(&req)?;
        let count = input.count.unwrap_or(10);
        if !(1..=MAX_PREVIEW as i64).contains(&count) {
            return Err(Error::Invalid(vec![PatternFieldError {
                field: "count".into(),
                code: "out_of_range",
                message: format!("must be between 1 and {MAX_PREVIEW}, not {count}"),
            }]));
        }
        let spec = parse_spec(input, &caller, false)?;
        let occurrences = preview_occurrences(&spec.rule, count as usize)?;
        Ok(response::json(
            200,
            &json!({ "rrule": spec.rule.as_str(), "timezone": spec.rule.timezone().name(), "occurrences": occurrences }),
        ))
    })())
}

fn preview_occurrences(rule: &RecurrenceRule, count: usize) -> Result<Vec<String>, Error> {
    let found = rule
        .first_n(count)
        .map_err(|err| Error::Invalid(vec![err.into()]))?;
    Ok(found.iter().map(format_rfc3339).collect())
}
