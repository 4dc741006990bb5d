//! Task events in, reminder rows out: the consumer side of the component.
//!
//! Every task event is a cue to re-plan that task from its current row (so a late, repeated or
//! reordered event plans from what the task is now, never from what it was). A plan is compared
//! with the rows already planned: rows that still match are kept (so an unrelated edit such as
//! a new title moves nothing and announces nothing), pending rows that no longer match are
//! cancelled, and new ones are written. Each scheduled or cancelled row is announced through the
//! outbox in the same transaction, together with the consumer receipt.

use domain::event::{CloudEvent, Consumer, SubjectKind, Topic};
use domain::reminder::{PlannedState, ReminderCancelled, ReminderScheduled, ReminderSubject, plan};
use domain::task::TaskId;
use domain::time::Timestamp;
use platform::consume;
use spin_sdk::pg4::Connection;

use crate::error::Error;
use crate::store::{self, Reminder};
use crate::{clock, publish};

/// Handles one delivered event (Redis message or Dapr delivery) exactly once: the consumer
/// receipt is recorded in the same transaction as the rows and events it causes.
pub fn handle(event: &CloudEvent) -> Result<(), Error> {
    consume::apply_once(Consumer::Reminders, event, |conn| {
        let subject = event.subject();
        if subject.kind() != SubjectKind::Task {
            return Ok(());
        }
        let task_id = TaskId::from(subject.id());
        match event.topic() {
            Topic::TaskCreated
            | Topic::TaskUpdated
            | Topic::TaskCompleted
            | Topic::InstanceGenerated => replan(conn, task_id, clock::now()),
            Topic::TaskDeleted => {
                for row in store::cancel(conn, task_id, None, false)? {
                    announce_cancelled(conn, &row, "task_deleted")?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    })?;
    Ok(())
}

/// Re-plans the task's reminders from its current row.
pub fn replan(conn: &Connection, task_id: TaskId, now: Timestamp) -> Result<(), Error> {
    let Some(task) = store::task(conn, task_id, None)? else {
        // Deleted since: its `tasks.task.deleted` event cancels what is left.
        return Ok(());
    };
    if store::planned_version(conn, task_id)?.is_some_and(|planned| planned >= task.version) {
        return Ok(());
    }
    let defaults = store::default_channels(conn, task.user_id)?;
    let subject = ReminderSubject {
        due_date: task.due_date,
        reminder_time: task.reminder_time,
        specs: task.specs.clone(),
        is_completed: task.is_completed,
    };
    let mut wanted = plan(&subject, &defaults, now);
    let reason = if task.is_completed {
        "task_completed"
    } else {
        "replanned"
    };
    for row in store::planned_rows(conn, task_id)? {
        let channels = serde_json::to_value(&row.notification_channels).ok();
        let same = wanted.iter().position(|p| {
            // The plan's time, not a snoozed one: snoozing is the user's, a re-plan keeps it.
            p.scheduled_time == row.planned_time
                && serde_json::to_value(&p.channels).ok() == channels
                && p.spec == row.spec
        });
        match same {
            Some(index) => {
                wanted.remove(index);
            }
            None if row.status == "pending" => {
                for cancelled in store::cancel(conn, task_id, Some(row.id), true)? {
                    announce_cancelled(conn, &cancelled, reason)?;
                }
            }
            None => {}
        }
    }
    for planned in &wanted {
        let row = store::insert(conn, task_id, task.user_id, planned, "task", task.version)?;
        if planned.state == PlannedState::Pending {
            announce_scheduled(conn, &row)?;
        }
    }
    if task.is_completed {
        for row in store::cancel(conn, task_id, None, false)? {
            announce_cancelled(conn, &row, reason)?;
        }
    } else {
        store::retime_added(conn, task_id, task.due_date)?;
    }
    store::mark_planned(conn, task_id, task.version)
}

/// Writes `reminders.reminder.scheduled` for a pending row to the outbox.
pub fn announce_scheduled(conn: &Connection, row: &Reminder) -> Result<(), Error> {
    let data = ReminderScheduled {
        reminder_id: row.id,
        task_id: TaskId::from(row.task_id),
        user_id: row.user_id.into(),
        scheduled_time: row.scheduled_time,
        notification_channels: serde_json::from_value(row.notification_channels.clone())
            .map_err(|err| Error::Internal(format!("stored channels: {err}")))?,
    };
    publish(conn, &data).map(drop)
}

/// Writes `reminders.reminder.cancelled` for a row to the outbox.
pub fn announce_cancelled(conn: &Connection, row: &Reminder, reason: &str) -> Result<(), Error> {
    let data = ReminderCancelled {
        reminder_id: row.id,
        task_id: TaskId::from(row.task_id),
        user_id: row.user_id.into(),
        scheduled_time: row.scheduled_time,
        reason: reason.to_owned(),
    };
    publish(conn, &data).map(drop)
}
