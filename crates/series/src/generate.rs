//! Generation passes: the SQL side of `domain::recurrence`'s plans. Every instance is inserted
//! with `ON CONFLICT DO NOTHING` on the (pattern, occurrence) key and announced with
//! `recurring.instance.generated` only if it was new, so a pass can run any number of times,
//! from the API and the `recurrence` component at once, and make each instance once.

use chrono::{DateTime, TimeDelta, Utc};
use domain::event::{CloudEvent, EventHeader, Source, TaskCreated, Traceparent};
use domain::recurrence::{GenerationMode, InstanceGenerated};
use domain::task::TaskId;
use domain::time::Timestamp;
use platform::db::Connection;

use crate::store::{self, Pattern};
use crate::{StoreError as Error, event_id};

/// The rolling horizon when `recurrence_horizon_days` is not set.
pub const DEFAULT_HORIZON_DAYS: u32 = 30;

/// Who is generating, for the events' `source` and `traceparent`.
#[derive(Debug, Clone)]
pub struct Origin {
    /// `api` (a pattern change) or `recurrence` (the tick, a completion).
    pub source: Source,
    /// The trace of the request or event that caused the pass.
    pub traceparent: Option<Traceparent>,
}

/// The pass made when a pattern is created or changed, and by the daily tick: from where
/// generation stopped (from `now` for a new pattern) to the horizon, or the first instance of
/// an after-completion series. Returns how many instances were made.
pub fn pass(
    conn: &Connection,
    pattern: &Pattern,
    now: DateTime<Utc>,
    horizon_days: u32,
    origin: &Origin,
) -> Result<usize, Error> {
    let from = pattern.generated_until.unwrap_or(now);
    pass_from(conn, pattern, from, now, horizon_days, origin)
}

/// A pass making the occurrences from `from` on: up to `now + horizon_days` for a fixed
/// series, the first one for an after-completion series that has none yet.
pub fn pass_from(
    conn: &Connection,
    pattern: &Pattern,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
    horizon_days: u32,
    origin: &Origin,
) -> Result<usize, Error> {
    match pattern.mode {
        GenerationMode::Fixed => Ok(fixed_passes(
            conn,
            std::slice::from_ref(pattern),
            from,
            now,
            horizon_days,
            origin,
        )?
        .instances),
        GenerationMode::AfterCompletion => {
            // One open instance at a time; a series switched to this mode, or whose instance
            // was deleted, gets a new first one.
            if store::has_open_instance(conn, pattern.id)? {
                return Ok(0);
            }
            let first = pattern
                .rule
                .next_after(from - TimeDelta::seconds(1))
                .map_err(Error::Rule)?;
            let made = match first {
                Some(occurrence) => {
                    u32::from(make(conn, pattern, occurrence.with_timezone(&Utc), origin)?)
                }
                None => 0,
            };
            store::record_pass(conn, pattern.id, None, made)?;
            Ok(made as usize)
        }
    }
}

/// What a batch of fixed passes did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// Instances made.
    pub instances: usize,
    /// Patterns skipped because their rule could not be expanded within the work limit
    /// (recorded as generated to the horizon, and logged by the caller).
    pub skipped: usize,
}

/// Fixed passes for many patterns (the tick's claimed batch), each from where it stopped (or
/// `from_default` if never generated) to `now + horizon_days`, in a constant number of
/// statements: one insert of every instance, one outbox insert of their events, one update
/// of the patterns' generation state.
pub fn fixed_passes(
    conn: &Connection,
    patterns: &[Pattern],
    from_default: DateTime<Utc>,
    now: DateTime<Utc>,
    horizon_days: u32,
    origin: &Origin,
) -> Result<BatchReport, Error> {
    let mut report = BatchReport::default();
    let mut wanted = Vec::new();
    let mut passes = Vec::with_capacity(patterns.len());
    let single = patterns.len() == 1;
    for pattern in patterns {
        let from = pattern.generated_until.unwrap_or(from_default);
        match pattern.rule.plan_horizon(Some(from), now, horizon_days) {
            Ok(plan) => {
                wanted.extend(plan.occurrences.iter().map(|o| store::NewInstance {
                    pattern,
                    occurrence: o.with_timezone(&Utc),
                }));
                passes.push((pattern.id, plan.generated_until, 0));
            }
            // A single pattern's caller (a request) reports the rule's problem; in a batch,
            // one bad pattern must not hold up the others.
            Err(err) if single => return Err(Error::Rule(err)),
            Err(_) => {
                report.skipped += 1;
                passes.push((
                    pattern.id,
                    now + TimeDelta::days(i64::from(horizon_days)),
                    0,
                ));
            }
        }
    }
    let inserted = store::insert_instances(conn, &wanted)?;
    let mut events = Vec::with_capacity(inserted.len());
    for instance in &inserted {
        let Some(pattern) = patterns.iter().find(|p| p.id == instance.pattern) else {
            continue;
        };
        if let Some(pass) = passes.iter_mut().find(|p| p.0 == pattern.id) {
            pass.2 += 1;
        }
        events.push(instance_event(
            pattern,
            instance.id,
            instance.occurrence,
            instance.created_at,
            origin,
        )?);
    }
    platform::outbox::enqueue_many(conn, &events)?;
    store::record_passes(conn, &passes)?;
    report.instances = inserted.len();
    Ok(report)
}

/// The next instance of an after-completion series whose instance was completed at
/// `completed_at`, unless the series is over or already has an open instance (a task
/// completed, reopened and completed again makes one next instance, not two). Returns
/// whether one was made.
pub fn after_completion(
    conn: &Connection,
    pattern: &Pattern,
    completed_at: DateTime<Utc>,
    origin: &Origin,
) -> Result<bool, Error> {
    if pattern.mode != GenerationMode::AfterCompletion
        || store::has_open_instance(conn, pattern.id)?
    {
        return Ok(false);
    }
    let Some(next) = pattern
        .rule
        .next_after_completion(completed_at, pattern.instances_made)
    else {
        return Ok(false);
    };
    let made = make(conn, pattern, next.with_timezone(&Utc), origin)?;
    store::record_pass(conn, pattern.id, None, u32::from(made))?;
    Ok(made)
}

/// Inserts one instance and, if it is new, announces it.
fn make(
    conn: &Connection,
    pattern: &Pattern,
    occurrence: DateTime<Utc>,
    origin: &Origin,
) -> Result<bool, Error> {
    let Some(instance) = store::insert_instance(conn, pattern, occurrence)? else {
        return Ok(false);
    };
    let event = instance_event(
        pattern,
        instance.id,
        occurrence,
        instance.created_at,
        origin,
    )?;
    platform::outbox::enqueue(conn, &event)?;
    Ok(true)
}

/// The `recurring.instance.generated` event of a new instance.
fn instance_event(
    pattern: &Pattern,
    task_id: TaskId,
    occurrence: DateTime<Utc>,
    created_at: Timestamp,
    origin: &Origin,
) -> Result<CloudEvent, Error> {
    let template = &pattern.template;
    let due = Timestamp::from_datetime(occurrence);
    let data = InstanceGenerated {
        task: TaskCreated {
            task_id,
            user_id: pattern.user_id,
            title: template.title.clone(),
            description: template.description.clone(),
            priority: template.priority,
            is_completed: false,
            completed_at: None,
            due_date: Some(due),
            reminder_time: template
                .reminder_for(occurrence)
                .map(Timestamp::from_datetime),
            tags: template.tags.clone(),
            is_recurring: true,
            recurrence_pattern_id: Some(pattern.id),
            created_at,
            version: 1,
        },
        pattern_id: pattern.id,
        occurrence: due,
    };
    let header = EventHeader {
        id: event_id()?,
        time: created_at,
        source: origin.source,
        traceparent: origin.traceparent.clone(),
    };
    Ok(CloudEvent::from_data(&data, header))
}
