//! What changed between two versions of a task: the `changes` member of a
//! `tasks.task.updated` event, `{field: {old, new}}`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Description, Priority, Tags, Task, TaskTitle};
use crate::reminder::ReminderSpecs;
use crate::time::Timestamp;

/// One field's value before and after a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change<T> {
    /// The value before.
    pub old: T,
    /// The value after.
    pub new: T,
}

/// The fields that differ between two versions of a task, each with its old and new value; a
/// field that did not change is absent (`None`, and left out of the JSON).
///
/// Covers every field a client or a consumer can observe change; identity (`task_id`,
/// `user_id`, `created_at`) never changes, and bookkeeping that changes every time
/// (`updated_at`, `version`) travels beside `changes` in the event instead.
/// `is_completed` and `completed_at` are listed separately, as the API shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskChanges {
    /// `title`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Change<TaskTitle>>,
    /// `description`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Change<Option<Description>>>,
    /// `priority`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Change<Priority>>,
    /// `is_completed`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_completed: Option<Change<bool>>,
    /// `completed_at`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Change<Option<Timestamp>>>,
    /// `due_date`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<Change<Option<Timestamp>>>,
    /// `reminder_time`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder_time: Option<Change<Option<Timestamp>>>,
    /// `tags` (a different order is a change: the order is the user's)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Change<Tags>>,
    /// `reminders`, the reminder list
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminders: Option<Change<ReminderSpecs>>,
    /// `is_recurring`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_recurring: Option<Change<bool>>,
    /// `recurrence_pattern_id`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence_pattern_id: Option<Change<Option<Uuid>>>,
}

impl TaskChanges {
    /// The fields that differ from `before` to `after`.
    pub fn between(before: &Task, after: &Task) -> Self {
        fn diff<T: PartialEq + Clone>(old: &T, new: &T) -> Option<Change<T>> {
            (old != new).then(|| Change {
                old: old.clone(),
                new: new.clone(),
            })
        }
        Self {
            title: diff(&before.title, &after.title),
            description: diff(&before.description, &after.description),
            priority: diff(&before.priority, &after.priority),
            is_completed: diff(&before.is_completed(), &after.is_completed()),
            completed_at: diff(&before.completed_at, &after.completed_at),
            due_date: diff(&before.due_date, &after.due_date),
            reminder_time: diff(&before.reminder_time, &after.reminder_time),
            tags: diff(&before.tags, &after.tags),
            reminders: diff(&before.reminders, &after.reminders),
            is_recurring: diff(&before.is_recurring, &after.is_recurring),
            recurrence_pattern_id: diff(
                &before.recurrence_pattern_id,
                &after.recurrence_pattern_id,
            ),
        }
    }

    /// True when nothing changed: a request that sets fields to the values they already have.
    /// Such a request writes no `tasks.task.updated` event.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `Some(true)` when the change completed the task, `Some(false)` when it reopened it.
    /// Completing is what `tasks.task.completed` announces.
    pub fn completion(&self) -> Option<bool> {
        self.is_completed.as_ref().map(|change| change.new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::test_support::{at, task};
    use serde_json::json;

    #[test]
    fn identical_tasks_have_no_changes() {
        let changes = TaskChanges::between(&task(), &task());
        assert!(changes.is_empty());
        assert_eq!(serde_json::to_value(&changes).unwrap(), json!({}));
    }

    #[test]
    fn bookkeeping_alone_is_not_a_change() {
        let before = task();
        let mut after = task();
        after.version = 2;
        after.updated_at = at("2026-02-01T00:00:00Z");
        assert!(TaskChanges::between(&before, &after).is_empty());
    }

    #[test]
    fn changed_fields_serialise_as_old_and_new_like_the_seed_plan() {
        let before = task();
        let mut after = task();
        after.title = TaskTitle::parse("Buy almond milk").unwrap();
        after.priority = Priority::High;
        after.due_date = Some(at("2026-01-10T18:00:00Z"));
        assert_eq!(
            serde_json::to_value(TaskChanges::between(&before, &after)).unwrap(),
            json!({
                "title": {"old": "Buy milk", "new": "Buy almond milk"},
                "priority": {"old": "medium", "new": "high"},
                "due_date": {"old": null, "new": "2026-01-10T18:00:00Z"},
            })
        );
    }

    #[test]
    fn completing_shows_both_the_flag_and_the_time() {
        let before = task();
        let after = before.toggled(at("2026-01-09T08:00:00Z"));
        let changes = TaskChanges::between(&before, &after);
        assert_eq!(changes.completion(), Some(true));
        assert_eq!(
            serde_json::to_value(&changes).unwrap(),
            json!({
                "is_completed": {"old": false, "new": true},
                "completed_at": {"old": null, "new": "2026-01-09T08:00:00Z"},
            })
        );
    }

    #[test]
    fn a_consumer_reads_changes_back_into_typed_values() {
        let before = task();
        let mut after = task();
        after.reminder_time = Some(at("2026-01-10T17:00:00Z"));
        after.tags = Tags::parse(["x"]).unwrap();
        let changes = TaskChanges::between(&before, &after);
        let json = serde_json::to_string(&changes).unwrap();
        assert_eq!(serde_json::from_str::<TaskChanges>(&json).unwrap(), changes);
    }
}
