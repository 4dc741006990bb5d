//! Generation passes: the SQL side of `domain::recurrence`'s plans. Every instance is inserted
//! with `ON CONFLICT DO NOTHING` on the (pattern, occurrence) key and announced with
//! `recurring.instance.generated` only if it was new, so a pass can run any number of times,
//! from the API and the `recurrence` component at once, and make each instance once.

use chrono::{DateTime, TimeDelta, Utc};
use domain::event::{Source, TaskCreated, Traceparent};
use domain::recurrence::{GenerationMode, InstanceGenerated};
use domain::time::Timestamp;
use platform::db::Connection;

use crate::store::{self, Pattern};
use crate::{StoreError as Error, enqueue};

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
        GenerationMode::Fixed => {
            let plan = pattern
                .rule
                .plan_horizon(Some(from), now, horizon_days)
                .map_err(Error::Rule)?;
            let mut made = 0;
            for occurrence in &plan.occurrences {
                if make(conn, pattern, occurrence.with_timezone(&Utc), origin)? {
                    made += 1;
                }
            }
            store::record_pass(conn, pattern.id, Some(plan.generated_until), made)?;
            Ok(made as usize)
        }
        GenerationMode::AfterCompletion => {
            if pattern.instances_made > 0 || store::has_open_instance(conn, pattern.id)? {
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
    let template = &pattern.template;
    let due = Timestamp::from_datetime(occurrence);
    let data = InstanceGenerated {
        task: TaskCreated {
            task_id: instance.id,
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
            created_at: instance.created_at,
            version: 1,
        },
        pattern_id: pattern.id,
        occurrence: due,
    };
    enqueue(
        conn,
        &data,
        instance.created_at,
        origin.source,
        origin.traceparent.as_ref(),
    )?;
    Ok(true)
}
