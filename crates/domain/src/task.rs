//! Tasks: their fields, parsed at the boundary; the task itself; the requests that create and
//! change one; what changed between two versions; and the list query with its page cursor.
//!
//! # Layout
//!
//! - [`fields`]: [`TaskId`], [`TaskTitle`], [`Description`], [`Priority`], [`Tag`], [`Tags`].
//! - [`input`]: the JSON body of `POST`, `PUT` and `PATCH` ([`TaskInput`]) and what it parses
//!   into: [`NewTask`] (create or replace) and [`TaskPatch`] (change some fields).
//! - [`changes`]: [`TaskChanges`], the `changes` of a `tasks.task.updated` event.
//! - [`list`]: [`TaskListQuery`], the filters, sort and page of `GET /api/tasks`, and its
//!   opaque keyset [`TaskCursor`].

pub mod changes;
pub mod fields;
pub mod input;
pub mod list;

pub use changes::{Change, TaskChanges};
pub use fields::{Description, Priority, Tag, Tags, TaskId, TaskTitle};
pub use input::{NewTask, TaskInput, TaskPatch};
pub use list::{SortKey, SortOrder, StatusFilter, TaskCursor, TaskListQuery, TaskSort};

use uuid::Uuid;

use crate::account::UserId;
use crate::reminder::ReminderSpecs;
use crate::time::Timestamp;

/// A task as stored: the state a row holds, built by the store from a row (each field parsed
/// again with its type's `parse`) and the state an event describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Its id.
    pub id: TaskId,
    /// The user who owns it.
    pub user_id: UserId,
    /// Its title.
    pub title: TaskTitle,
    /// Its description, if it has one.
    pub description: Option<Description>,
    /// Its priority.
    pub priority: Priority,
    /// When it was completed, `None` while it is open. There is no separate `is_completed`
    /// field (see [`Task::is_completed`]), so the two can never disagree; the table's
    /// `tasks_completed_at_matches` constraint says the same.
    pub completed_at: Option<Timestamp>,
    /// When it is due, if ever.
    pub due_date: Option<Timestamp>,
    /// The single absolute reminder of the seed's task model.
    pub reminder_time: Option<Timestamp>,
    /// Its reminder list (absolute or before the due date), which the reminders component
    /// plans from.
    pub reminders: ReminderSpecs,
    /// Its labels.
    pub tags: Tags,
    /// Whether it is an instance of a recurring series.
    pub is_recurring: bool,
    /// The series it is an instance of.
    pub recurrence_pattern_id: Option<Uuid>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Its optimistic-concurrency version (the ETag), 1 when created, one more on every change.
    pub version: u32,
}

impl Task {
    /// Whether it is completed.
    pub fn is_completed(&self) -> bool {
        self.completed_at.is_some()
    }

    /// Whether it is open and its due date has passed at `now`.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        !self.is_completed() && self.due_date.is_some_and(|due| due < now)
    }

    /// The task with its completion flipped, as `PATCH /api/tasks/{id}/toggle` does: an open
    /// task becomes completed at `now`, a completed one open again.
    pub fn toggled(&self, now: Timestamp) -> Task {
        let mut task = self.clone();
        task.completed_at = match self.completed_at {
            Some(_) => None,
            None => Some(now),
        };
        task
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// A task with every optional field empty, for tests to change.
    pub(crate) fn task() -> Task {
        let at = Timestamp::parse("2026-01-08T12:34:56Z").unwrap();
        Task {
            id: TaskId::parse("0f8b5a52-8f0c-4e5e-9a39-3f9c2f5a1d01").unwrap(),
            user_id: UserId::parse("5d2b8f0e-1c7a-4c3e-8d4f-6a9b0c1d2e03").unwrap(),
            title: TaskTitle::parse("Buy milk").unwrap(),
            description: None,
            priority: Priority::Medium,
            completed_at: None,
            due_date: None,
            reminder_time: None,
            reminders: ReminderSpecs::none(),
            tags: Tags::empty(),
            is_recurring: false,
            recurrence_pattern_id: None,
            created_at: at,
            updated_at: at,
            version: 1,
        }
    }

    pub(crate) fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{at, task};

    #[test]
    fn toggling_an_open_task_completes_it_now_and_toggling_again_reopens_it() {
        let now = at("2026-01-09T08:00:00Z");
        let done = task().toggled(now);
        assert!(done.is_completed());
        assert_eq!(done.completed_at, Some(now));
        let reopened = done.toggled(at("2026-01-09T09:00:00Z"));
        assert!(!reopened.is_completed());
        assert_eq!(reopened.completed_at, None);
    }

    #[test]
    fn a_task_is_overdue_only_while_open_and_past_its_due_date() {
        let mut t = task();
        let now = at("2026-01-10T00:00:00Z");
        assert!(!t.is_overdue(now), "no due date");
        t.due_date = Some(at("2026-01-09T00:00:00Z"));
        assert!(t.is_overdue(now));
        assert!(!t.is_overdue(at("2026-01-09T00:00:00Z")), "due exactly now");
        assert!(!t.toggled(now).is_overdue(now), "completed");
    }
}
