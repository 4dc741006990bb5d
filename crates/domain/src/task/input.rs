//! The bodies of `POST /api/tasks`, `PUT` and `PATCH /api/tasks/{id}`, and what they parse
//! into.
//!
//! Every member of [`TaskInput`] is kept as raw JSON until it is parsed, so that a wrong type
//! (`"title": 5`) is one more field error beside the others rather than a deserialisation
//! failure that hides them. Members the API does not accept (including read-only ones such as
//! `id` or `version`) are rejected by serde as unknown fields.

use serde::Deserialize;
use serde_json::Value;

use super::{Description, Priority, Tags, Task, TaskTitle};
use crate::field::{FieldErrors, Invalid, Nullable, expect_bool, expect_string};
use crate::reminder::ReminderSpecs;
use crate::time::Timestamp;

/// A task body as the client sent it. Deserialise it from the request body, then parse it
/// with [`NewTask::parse`] (`POST`, `PUT`) or [`TaskPatch::parse`] (`PATCH`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskInput {
    /// `title`
    #[serde(default)]
    pub title: Nullable<Value>,
    /// `description`
    #[serde(default)]
    pub description: Nullable<Value>,
    /// `priority`
    #[serde(default)]
    pub priority: Nullable<Value>,
    /// `is_completed`
    #[serde(default)]
    pub is_completed: Nullable<Value>,
    /// `due_date`
    #[serde(default)]
    pub due_date: Nullable<Value>,
    /// `reminder_time`
    #[serde(default)]
    pub reminder_time: Nullable<Value>,
    /// `tags`
    #[serde(default)]
    pub tags: Nullable<Value>,
    /// `reminders`: the reminder list (`[{"at": ...}, {"offset_minutes": n}]`).
    #[serde(default)]
    pub reminders: Nullable<Value>,
}

/// Every writable field of a task, for creating one (`POST`) or replacing one (`PUT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    /// Required.
    pub title: TaskTitle,
    /// Absent, `null` and blank text all mean none.
    pub description: Option<Description>,
    /// [`Priority::Medium`] when absent; `null` is an error.
    pub priority: Priority,
    /// `false` when absent.
    pub is_completed: bool,
    /// Absent or `null` mean none.
    pub due_date: Option<Timestamp>,
    /// Absent or `null` mean none.
    pub reminder_time: Option<Timestamp>,
    /// None when absent.
    pub tags: Tags,
    /// None when absent or `null`.
    pub reminders: ReminderSpecs,
}

impl NewTask {
    /// Parses every field, reporting every problem at once.
    pub fn parse(input: TaskInput) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let title = errors.check("title", required(input.title).and_then(title));
        let description = errors.check(
            "description",
            optional(input.description, description).map(Option::flatten),
        );
        let priority = errors.check(
            "priority",
            // The one place a priority defaults: the member left out entirely.
            or_default(input.priority, Priority::Medium, priority),
        );
        let is_completed = errors.check(
            "is_completed",
            or_default(input.is_completed, false, expect_bool),
        );
        let due_date = errors.check("due_date", optional(input.due_date, timestamp));
        let reminder_time = errors.check("reminder_time", optional(input.reminder_time, timestamp));
        let tags = match input.tags {
            Nullable::Absent => Some(Tags::empty()),
            Nullable::Null => errors.check("tags", Err(Invalid::Null)),
            Nullable::Value(raw) => errors.check_nested("tags", Tags::parse_json(raw)),
        };
        let reminders = match input.reminders {
            Nullable::Absent | Nullable::Null => Some(ReminderSpecs::none()),
            Nullable::Value(raw) => errors.check_nested("reminders", ReminderSpecs::parse(&raw)),
        };
        match (
            title,
            description,
            priority,
            is_completed,
            due_date,
            reminder_time,
            tags,
            reminders,
        ) {
            (
                Some(title),
                Some(description),
                Some(priority),
                Some(is_completed),
                Some(due_date),
                Some(reminder_time),
                Some(tags),
                Some(reminders),
            ) if errors.is_empty() => Ok(Self {
                title,
                description,
                priority,
                is_completed,
                due_date,
                reminder_time,
                tags,
                reminders,
            }),
            _ => Err(errors),
        }
    }
}

/// The fields a `PATCH` changes; every other field is left as it is. Non-nullable fields are
/// `Option` (`None`: leave it); nullable ones are [`Nullable`] (`Absent`: leave it, `Null`:
/// clear it, `Value`: set it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskPatch {
    /// `null` is an error.
    pub title: Option<TaskTitle>,
    /// `null` or blank text clear it.
    pub description: Nullable<Description>,
    /// `null` is an error.
    pub priority: Option<Priority>,
    /// `null` is an error.
    pub is_completed: Option<bool>,
    /// `null` clears it.
    pub due_date: Nullable<Timestamp>,
    /// `null` clears it.
    pub reminder_time: Nullable<Timestamp>,
    /// `null` is an error; `[]` clears them.
    pub tags: Option<Tags>,
    /// `null` or `[]` clear them.
    pub reminders: Option<ReminderSpecs>,
}

impl TaskPatch {
    /// Parses every member that is present, reporting every problem at once.
    pub fn parse(input: TaskInput) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let title = errors.check("title", not_null(input.title, title));
        let description = errors.check(
            "description",
            nullable(input.description, description).map(|d| match d {
                // Blank text clears the description, as `null` does.
                Nullable::Value(None) => Nullable::Null,
                Nullable::Value(Some(d)) => Nullable::Value(d),
                Nullable::Null => Nullable::Null,
                Nullable::Absent => Nullable::Absent,
            }),
        );
        let priority = errors.check("priority", not_null(input.priority, priority));
        let is_completed = errors.check("is_completed", not_null(input.is_completed, expect_bool));
        let due_date = errors.check("due_date", nullable(input.due_date, timestamp));
        let reminder_time = errors.check("reminder_time", nullable(input.reminder_time, timestamp));
        let tags = match input.tags {
            Nullable::Absent => Some(None),
            Nullable::Null => errors.check("tags", Err(Invalid::Null)),
            Nullable::Value(raw) => errors.check_nested("tags", Tags::parse_json(raw).map(Some)),
        };
        let reminders = match input.reminders {
            Nullable::Absent => Some(None),
            Nullable::Null => Some(Some(ReminderSpecs::none())),
            Nullable::Value(raw) => {
                errors.check_nested("reminders", ReminderSpecs::parse(&raw).map(Some))
            }
        };
        match (
            title,
            description,
            priority,
            is_completed,
            due_date,
            reminder_time,
            tags,
            reminders,
        ) {
            (
                Some(title),
                Some(description),
                Some(priority),
                Some(is_completed),
                Some(due_date),
                Some(reminder_time),
                Some(tags),
                Some(reminders),
            ) if errors.is_empty() => Ok(Self {
                title,
                description,
                priority,
                is_completed,
                due_date,
                reminder_time,
                tags,
                reminders,
            }),
            _ => Err(errors),
        }
    }

    /// True when it changes nothing (`{}`).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `task` with this patch's fields set. Completing an open task stamps it completed at
    /// `now`; completing a completed one keeps its original time; reopening clears it.
    /// Bookkeeping (`updated_at`, `version`) is the store's to set.
    pub fn apply(&self, task: &Task, now: Timestamp) -> Task {
        let mut task = task.clone();
        if let Some(title) = &self.title {
            task.title = title.clone();
        }
        set_nullable(&mut task.description, &self.description);
        if let Some(priority) = self.priority {
            task.priority = priority;
        }
        match (self.is_completed, task.completed_at) {
            (Some(true), None) => task.completed_at = Some(now),
            (Some(false), Some(_)) => task.completed_at = None,
            _ => {}
        }
        set_nullable(&mut task.due_date, &self.due_date);
        set_nullable(&mut task.reminder_time, &self.reminder_time);
        if let Some(tags) = &self.tags {
            task.tags = tags.clone();
        }
        if let Some(reminders) = &self.reminders {
            task.reminders = reminders.clone();
        }
        task
    }
}

/// A `PUT` is a patch that sets every writable field: what the body leaves out takes the
/// same default as on create.
impl From<NewTask> for TaskPatch {
    fn from(new: NewTask) -> Self {
        fn all<T>(value: Option<T>) -> Nullable<T> {
            value.map_or(Nullable::Null, Nullable::Value)
        }
        Self {
            title: Some(new.title),
            description: all(new.description),
            priority: Some(new.priority),
            is_completed: Some(new.is_completed),
            due_date: all(new.due_date),
            reminder_time: all(new.reminder_time),
            tags: Some(new.tags),
            reminders: Some(new.reminders),
        }
    }
}

fn set_nullable<T: Clone>(field: &mut Option<T>, patch: &Nullable<T>) {
    match patch {
        Nullable::Absent => {}
        Nullable::Null => *field = None,
        Nullable::Value(value) => *field = Some(value.clone()),
    }
}

// Field parsers: raw JSON to a checked value.

fn title(raw: Value) -> Result<TaskTitle, Invalid> {
    TaskTitle::parse(&expect_string(raw)?)
}

/// `None` for blank text, which means "no description".
fn description(raw: Value) -> Result<Option<Description>, Invalid> {
    match Description::parse(&expect_string(raw)?) {
        Ok(description) => Ok(Some(description)),
        Err(Invalid::Blank) => Ok(None),
        Err(other) => Err(other),
    }
}

fn priority(raw: Value) -> Result<Priority, Invalid> {
    Priority::parse(&expect_string(raw)?)
}

fn timestamp(raw: Value) -> Result<Timestamp, Invalid> {
    Timestamp::parse(&expect_string(raw)?)
}

// Presence rules: what absent and null mean for a member.

/// Absent and null are both errors.
fn required(member: Nullable<Value>) -> Result<Value, Invalid> {
    match member {
        Nullable::Absent => Err(Invalid::Required),
        Nullable::Null => Err(Invalid::Null),
        Nullable::Value(raw) => Ok(raw),
    }
}

/// Absent and null both mean "none".
fn present(member: Nullable<Value>) -> Option<Value> {
    match member {
        Nullable::Value(raw) => Some(raw),
        Nullable::Absent | Nullable::Null => None,
    }
}

/// Absent and null both mean "none"; a value is parsed.
fn optional<T>(
    member: Nullable<Value>,
    parse: impl FnOnce(Value) -> Result<T, Invalid>,
) -> Result<Option<T>, Invalid> {
    present(member).map(parse).transpose()
}

/// Absent gives the default; null is an error.
fn or_default<T>(
    member: Nullable<Value>,
    default: T,
    parse: impl FnOnce(Value) -> Result<T, Invalid>,
) -> Result<T, Invalid> {
    Ok(not_null(member, parse)?.unwrap_or(default))
}

/// Absent is `None`; null is an error.
fn not_null<T>(
    member: Nullable<Value>,
    parse: impl FnOnce(Value) -> Result<T, Invalid>,
) -> Result<Option<T>, Invalid> {
    match member {
        Nullable::Absent => Ok(None),
        Nullable::Null => Err(Invalid::Null),
        Nullable::Value(raw) => parse(raw).map(Some),
    }
}

/// All three states kept; a value is parsed.
fn nullable<T>(
    member: Nullable<Value>,
    parse: impl FnOnce(Value) -> Result<T, Invalid>,
) -> Result<Nullable<T>, Invalid> {
    Ok(match member {
        Nullable::Absent => Nullable::Absent,
        Nullable::Null => Nullable::Null,
        Nullable::Value(raw) => Nullable::Value(parse(raw)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::test_support::{at, task};

    fn input(body: &str) -> TaskInput {
        serde_json::from_str(body).unwrap()
    }

    fn new_task(body: &str) -> Result<NewTask, FieldErrors> {
        NewTask::parse(input(body))
    }

    fn patch(body: &str) -> Result<TaskPatch, FieldErrors> {
        TaskPatch::parse(input(body))
    }

    fn fields(errors: &FieldErrors) -> Vec<(&str, &'static str)> {
        errors
            .iter()
            .map(|e| (e.field(), e.problem().code()))
            .collect()
    }

    #[test]
    fn a_body_with_only_a_title_gets_the_defaults() {
        let task = new_task(r#"{"title": " Buy milk "}"#).unwrap();
        assert_eq!(task.title.as_str(), "Buy milk");
        assert_eq!(task.priority, Priority::Medium);
        assert_eq!(task.description, None);
        assert!(!task.is_completed);
        assert_eq!(task.due_date, None);
        assert!(task.tags.is_empty());
    }

    #[test]
    fn a_full_body_is_parsed_field_by_field() {
        let task = new_task(
            r#"{"title": "Buy milk", "description": "Whole milk, 2 liters", "priority": "high",
                "is_completed": false, "due_date": "2026-01-10T20:00:00+02:00",
                "reminder_time": "2026-01-10T17:00:00Z", "tags": ["shop", "Shop", "home"]}"#,
        )
        .unwrap();
        assert_eq!(task.description.unwrap().as_str(), "Whole milk, 2 liters");
        assert_eq!(task.priority, Priority::High);
        assert_eq!(task.due_date, Some(at("2026-01-10T18:00:00Z")));
        assert_eq!(task.reminder_time, Some(at("2026-01-10T17:00:00Z")));
        assert_eq!(task.tags.to_strings(), ["shop", "home"]);
    }

    #[test]
    fn every_field_error_is_reported_at_once() {
        let errors = new_task(
            r#"{"title": "  ", "description": 7, "priority": "urgent", "is_completed": "yes",
                "due_date": "tomorrow", "reminder_time": "2026-01-10T17:00:00",
                "tags": ["ok", "", 3]}"#,
        )
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                ("title", "blank"),
                ("description", "wrong_type"),
                ("priority", "not_one_of"),
                ("is_completed", "wrong_type"),
                ("due_date", "format"),
                ("reminder_time", "format"),
                ("tags[1]", "blank"),
                ("tags[2]", "wrong_type"),
            ]
        );
    }

    #[test]
    fn a_missing_title_is_required_and_a_null_one_is_not_allowed() {
        assert_eq!(
            fields(&new_task("{}").unwrap_err()),
            [("title", "required")]
        );
        assert_eq!(
            fields(&new_task(r#"{"title": null}"#).unwrap_err()),
            [("title", "null")]
        );
    }

    #[test]
    fn priority_defaults_only_when_absent_never_when_null_or_unknown() {
        let errors = new_task(r#"{"title": "t", "priority": null}"#).unwrap_err();
        assert_eq!(fields(&errors), [("priority", "null")]);
        let errors = new_task(r#"{"title": "t", "priority": "MEDIUM"}"#).unwrap_err();
        assert_eq!(fields(&errors), [("priority", "not_one_of")]);
    }

    #[test]
    fn null_and_blank_descriptions_mean_no_description() {
        for body in [
            r#"{"title": "t", "description": null}"#,
            r#"{"title": "t", "description": "  "}"#,
        ] {
            assert_eq!(new_task(body).unwrap().description, None, "{body}");
        }
    }

    #[test]
    fn null_tags_are_an_error_but_an_empty_list_is_fine() {
        assert_eq!(
            fields(&new_task(r#"{"title": "t", "tags": null}"#).unwrap_err()),
            [("tags", "null")]
        );
        assert!(new_task(r#"{"title": "t", "tags": []}"#).is_ok());
    }

    #[test]
    fn unknown_and_read_only_members_are_rejected_when_deserialising() {
        for body in [
            r#"{"title": "t", "colour": "red"}"#,
            r#"{"title": "t", "version": 3}"#,
        ] {
            assert!(serde_json::from_str::<TaskInput>(body).is_err(), "{body}");
        }
    }

    #[test]
    fn an_empty_patch_changes_nothing() {
        let p = patch("{}").unwrap();
        assert!(p.is_empty());
        let t = task();
        assert_eq!(p.apply(&t, at("2026-02-01T00:00:00Z")), t);
    }

    #[test]
    fn a_patch_tells_leaving_clearing_and_setting_a_nullable_field_apart() {
        let mut t = task();
        t.due_date = Some(at("2026-01-10T18:00:00Z"));
        t.description = Some(Description::parse("d").unwrap());
        let now = at("2026-02-01T00:00:00Z");

        let left = patch(r#"{"title": "x"}"#).unwrap().apply(&t, now);
        assert_eq!(left.due_date, t.due_date);

        let cleared = patch(r#"{"due_date": null, "description": ""}"#)
            .unwrap()
            .apply(&t, now);
        assert_eq!(cleared.due_date, None);
        assert_eq!(cleared.description, None);

        let set = patch(r#"{"due_date": "2026-03-01T09:00:00Z"}"#)
            .unwrap()
            .apply(&t, now);
        assert_eq!(set.due_date, Some(at("2026-03-01T09:00:00Z")));
    }

    #[test]
    fn a_patch_rejects_null_for_fields_that_cannot_be_empty() {
        let errors =
            patch(r#"{"title": null, "priority": null, "is_completed": null, "tags": null}"#)
                .unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                ("title", "null"),
                ("priority", "null"),
                ("is_completed", "null"),
                ("tags", "null")
            ]
        );
    }

    #[test]
    fn completing_by_patch_stamps_the_time_once_and_reopening_clears_it() {
        let now = at("2026-02-01T00:00:00Z");
        let done = patch(r#"{"is_completed": true}"#)
            .unwrap()
            .apply(&task(), now);
        assert_eq!(done.completed_at, Some(now));
        let again = patch(r#"{"is_completed": true}"#)
            .unwrap()
            .apply(&done, at("2026-03-01T00:00:00Z"));
        assert_eq!(again.completed_at, Some(now), "keeps the first completion");
        let reopened = patch(r#"{"is_completed": false}"#)
            .unwrap()
            .apply(&done, now);
        assert_eq!(reopened.completed_at, None);
    }

    #[test]
    fn a_put_replaces_every_writable_field_with_the_bodys_values_or_defaults() {
        let mut t = task();
        t.priority = Priority::High;
        t.due_date = Some(at("2026-01-10T18:00:00Z"));
        t.tags = Tags::parse(["a"]).unwrap();
        let put = TaskPatch::from(new_task(r#"{"title": "Replaced"}"#).unwrap());
        let replaced = put.apply(&t, at("2026-02-01T00:00:00Z"));
        assert_eq!(replaced.title.as_str(), "Replaced");
        assert_eq!(replaced.priority, Priority::Medium);
        assert_eq!(replaced.due_date, None);
        assert!(replaced.tags.is_empty());
        assert_eq!(replaced.id, t.id, "identity and bookkeeping stay");
        assert_eq!(replaced.created_at, t.created_at);
    }

    #[test]
    fn a_reminder_list_is_parsed_with_its_errors_named_under_reminders() {
        let new = NewTask::parse(input(
            r#"{"title": "Call Bob", "reminders": [{"offset_minutes": 15}, {"at": "2026-01-10T17:00:00Z", "channels": ["email"]}]}"#,
        ))
        .unwrap();
        assert_eq!(new.reminders.iter().count(), 2);
        let err = NewTask::parse(input(
            r#"{"title": "Call Bob", "reminders": [{"offset_minutes": -1}]}"#,
        ))
        .unwrap_err();
        assert_eq!(
            err.iter().map(|e| e.field()).collect::<Vec<_>>(),
            ["reminders[0].offset_minutes"]
        );
        let cleared = TaskPatch::parse(input(r#"{"reminders": null}"#)).unwrap();
        assert_eq!(cleared.reminders, Some(ReminderSpecs::none()));
        assert!(TaskPatch::parse(input("{}")).unwrap().reminders.is_none());
    }
}
