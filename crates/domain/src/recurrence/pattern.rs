//! A recurring pattern as a request writes it (the seed's structured fields or a raw RRULE,
//! with the task template every instance gets), checked into a [`PatternSpec`], and the
//! `recurring.*` event payloads.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{GenerationMode, RecurrenceError, RecurrenceRule, StructuredRecurrence, Timezone};
use crate::account::UserId;
use crate::event::{EventData, Subject, TaskCreated, Topic};
use crate::field::FieldErrors;
use crate::task::{Description, Priority, Tags, TaskTitle};
use crate::time::Timestamp;

/// The longest reminder lead a template may ask for: 30 days.
pub const MAX_REMINDER_MINUTES: i64 = 30 * 24 * 60;

/// The body of `POST /api/tasks/recurring`, `PUT /api/tasks/recurring/{id}` and the preview:
/// either `rrule` or the structured fields, with `start` in both.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternInput {
    /// What each instance gets (not needed by the preview).
    #[serde(default)]
    pub task_template: Option<TemplateInput>,
    /// A raw RFC 5545 RRULE value; excludes the structured fields.
    #[serde(default)]
    pub rrule: Option<String>,
    /// `daily`, `weekly`, `monthly` or `yearly`.
    #[serde(default)]
    pub frequency: Option<String>,
    /// Every how many units.
    #[serde(default)]
    pub interval: Option<i64>,
    /// 0 = Monday .. 6 = Sunday.
    #[serde(default)]
    pub days_of_week: Option<Vec<i64>>,
    /// 1..=31 or -1.
    #[serde(default)]
    pub day_of_month: Option<i64>,
    /// The last local date (or date-time) an occurrence may fall on.
    #[serde(default)]
    pub end_date: Option<String>,
    /// How many occurrences.
    #[serde(default)]
    pub max_occurrences: Option<i64>,
    /// IANA zone; the caller's own zone when absent.
    #[serde(default)]
    pub timezone: Option<String>,
    /// The first occurrence's local date-time (`2026-03-02T09:00:00`, no offset).
    #[serde(default)]
    pub start: Option<String>,
    /// Local date-times to leave out.
    #[serde(default)]
    pub exdates: Vec<String>,
    /// `fixed` (default) or `after_completion`.
    #[serde(default)]
    pub mode: Option<String>,
    /// How many occurrences a preview returns (preview only).
    #[serde(default)]
    pub count: Option<i64>,
}

/// The template as a request writes it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    /// Each instance's title.
    pub title: String,
    /// Its description.
    #[serde(default)]
    pub description: Option<String>,
    /// `low`, `medium` (default) or `high`.
    #[serde(default)]
    pub priority: Option<String>,
    /// A reminder this many minutes before each instance is due.
    #[serde(default)]
    pub reminder_minutes_before: Option<i64>,
    /// Its tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// What each instance of a pattern gets: the `task_template` column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskTemplate {
    /// The title.
    pub title: TaskTitle,
    /// The description, if any.
    pub description: Option<Description>,
    /// The priority.
    pub priority: Priority,
    /// Minutes before the due time to remind, if at all.
    pub reminder_minutes_before: Option<u32>,
    /// The tags.
    pub tags: Tags,
}

impl TaskTemplate {
    /// The reminder time of an instance due at `due`.
    pub fn reminder_for(&self, due: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.reminder_minutes_before
            .map(|minutes| due - TimeDelta::minutes(i64::from(minutes)))
    }
}

/// The structured fields as given, kept to be returned as they were written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructuredFields {
    /// `daily`, `weekly`, `monthly`, `yearly`.
    pub frequency: String,
    /// The interval.
    pub interval: i64,
    /// The weekdays, if given.
    pub days_of_week: Option<Vec<i64>>,
    /// The day of the month, if given.
    pub day_of_month: Option<i64>,
    /// The end, local.
    pub end_date: Option<NaiveDateTime>,
    /// The count.
    pub max_occurrences: Option<i64>,
}

/// A checked pattern, ready to store.
#[derive(Debug, Clone)]
pub struct PatternSpec {
    /// What each instance gets (`None` only for a preview).
    pub template: Option<TaskTemplate>,
    /// The rule, normalised.
    pub rule: RecurrenceRule,
    /// The structured fields, if the pattern was given that way.
    pub structured: Option<StructuredFields>,
    /// How instances are made.
    pub mode: GenerationMode,
}

/// One refused field, `{field, code, message}` as problem+json's `errors` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PatternFieldError {
    /// The field, e.g. `rrule`, `timezone` or `task_template.title`.
    pub field: String,
    /// A stable code.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
}

impl From<RecurrenceError> for PatternFieldError {
    fn from(err: RecurrenceError) -> Self {
        Self {
            field: err.field().to_owned(),
            code: err.code(),
            message: err.reason(),
        }
    }
}

fn error(field: &str, code: &'static str, message: impl Into<String>) -> PatternFieldError {
    PatternFieldError {
        field: field.to_owned(),
        code,
        message: message.into(),
    }
}

/// Parses a local date-time (`2026-03-02T09:00:00`, seconds optional; a date alone means the
/// start of that day, or its end when `end_of_day`).
pub fn parse_local(text: &str, end_of_day: bool) -> Option<NaiveDateTime> {
    let text = text.trim();
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(value) = NaiveDateTime::parse_from_str(text, format) {
            return Some(value);
        }
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    if end_of_day {
        date.and_hms_opt(23, 59, 59)
    } else {
        date.and_hms_opt(0, 0, 0)
    }
}

const LOCAL_EXPECTED: &str = "must be a local date-time such as 2026-03-02T09:00:00 (no offset: \
                              the pattern's timezone says where it is)";

impl PatternInput {
    /// Checks the input. `default_zone` is the caller's own zone, used when `timezone` is
    /// absent; `needs_template` is false for the preview.
    ///
    /// # Errors
    ///
    /// Every field found wrong, each named (the rule's own check runs once the fields it
    /// needs are readable, and reports its first problem).
    pub fn parse(
        self,
        default_zone: &str,
        needs_template: bool,
    ) -> Result<PatternSpec, Vec<PatternFieldError>> {
        let mut errors = Vec::new();
        let template = match (self.task_template, needs_template) {
            (Some(template), _) => template.parse().map_err(|e| errors.extend(e)).ok(),
            (None, true) => {
                errors.push(error("task_template", "required", "is required"));
                None
            }
            (None, false) => None,
        };
        let mode = match self.mode.as_deref() {
            None => Some(GenerationMode::Fixed),
            Some(name) => GenerationMode::parse(name)
                .map_err(|e| errors.push(e.into()))
                .ok(),
        };
        let zone = Timezone::parse(self.timezone.as_deref().unwrap_or(default_zone))
            .map_err(|e| errors.push(e.into()))
            .ok();
        let start = match self.start.as_deref() {
            None => {
                errors.push(error("start", "required", "is required"));
                None
            }
            Some(text) => {
                let value = parse_local(text, false);
                if value.is_none() {
                    errors.push(error("start", "format", LOCAL_EXPECTED));
                }
                value
            }
        };
        let structured_given = self.frequency.is_some()
            || self.interval.is_some()
            || self.days_of_week.is_some()
            || self.day_of_month.is_some()
            || self.end_date.is_some()
            || self.max_occurrences.is_some();
        let mut exdates = Vec::new();
        for (i, text) in self.exdates.iter().enumerate() {
            match parse_local(text, false) {
                Some(value) => exdates.push(value),
                None => errors.push(error(&format!("exdates[{i}]"), "format", LOCAL_EXPECTED)),
            }
        }
        let end_date = match self.end_date.as_deref() {
            Some(text) => {
                let value = parse_local(text, true);
                if value.is_none() {
                    errors.push(error("end_date", "format", LOCAL_EXPECTED));
                }
                value
            }
            None => None,
        };
        if self.rrule.is_some() && structured_given {
            errors.push(error(
                "rrule",
                "conflict",
                "give either rrule or the structured fields (frequency, interval, ...), not both",
            ));
        }
        if self.rrule.is_none() && self.frequency.is_none() {
            errors.push(error(
                "frequency",
                "required",
                "is required (or give an rrule instead)",
            ));
        }
        let (Some(zone), Some(start), Some(mode), true) = (zone, start, mode, errors.is_empty())
        else {
            return Err(errors);
        };
        let (rule, structured) = if let Some(text) = &self.rrule {
            let rule = RecurrenceRule::parse(text, start, zone, &exdates)
                .map_err(|e| vec![PatternFieldError::from(e)])?;
            (rule, None)
        } else {
            let fields = StructuredRecurrence {
                frequency: self.frequency.clone().unwrap_or_default(),
                interval: self.interval,
                days_of_week: self.days_of_week.clone().unwrap_or_default(),
                day_of_month: self.day_of_month,
                end_date,
                max_occurrences: self.max_occurrences,
                timezone: zone,
                start,
            };
            let rule = RecurrenceRule::from_structured(&fields)
                .and_then(|rule| rule.with_exdates(exdates))
                .map_err(|e| vec![PatternFieldError::from(e)])?;
            let structured = StructuredFields {
                frequency: rule.frequency().as_str().to_owned(),
                interval: i64::from(rule.interval()),
                days_of_week: self.days_of_week,
                day_of_month: self.day_of_month,
                end_date,
                max_occurrences: self.max_occurrences,
            };
            (rule, Some(structured))
        };
        Ok(PatternSpec {
            template,
            rule,
            structured,
            mode,
        })
    }
}

impl TemplateInput {
    /// Checks the template's fields, named `task_template.<field>`.
    ///
    /// # Errors
    ///
    /// Every field found wrong.
    pub fn parse(self) -> Result<TaskTemplate, Vec<PatternFieldError>> {
        let mut errors = FieldErrors::new();
        let title = errors.check("title", TaskTitle::parse(&self.title));
        let description = match self.description.as_deref() {
            None => Some(None),
            Some(text) => errors
                .check("description", Description::parse(text))
                .map(Some),
        };
        let priority = match self.priority.as_deref() {
            None => Some(Priority::Medium),
            Some(text) => errors.check("priority", Priority::parse(text)),
        };
        let tags = errors.check_nested("tags", Tags::parse(&self.tags));
        let mut found: Vec<PatternFieldError> = errors
            .iter()
            .map(|e| PatternFieldError {
                field: format!("task_template.{}", e.field()),
                code: e.problem().code(),
                message: e.problem().to_string(),
            })
            .collect();
        let reminder = match self.reminder_minutes_before {
            None => Some(None),
            Some(minutes) if (0..=MAX_REMINDER_MINUTES).contains(&minutes) => {
                u32::try_from(minutes).ok().map(Some)
            }
            Some(minutes) => {
                found.push(error(
                    "task_template.reminder_minutes_before",
                    "out_of_range",
                    format!("must be between 0 and {MAX_REMINDER_MINUTES}, not {minutes}"),
                ));
                None
            }
        };
        match (title, description, priority, tags, reminder) {
            (Some(title), Some(description), Some(priority), Some(tags), Some(reminder))
                if found.is_empty() =>
            {
                Ok(TaskTemplate {
                    title,
                    description,
                    priority,
                    reminder_minutes_before: reminder,
                    tags,
                })
            }
            _ => Err(found),
        }
    }
}

/// `recurring.instance.generated`: one instance of a series was made. The task's own fields
/// (as in `tasks.task.created`, so the reminders service can plan from either) plus the
/// occurrence it stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceGenerated {
    /// The new task.
    #[serde(flatten)]
    pub task: TaskCreated,
    /// The series.
    pub pattern_id: Uuid,
    /// The occurrence, as an instant.
    pub occurrence: Timestamp,
}

impl EventData for InstanceGenerated {
    const TOPIC: Topic = Topic::InstanceGenerated;
    fn subject(&self) -> Subject {
        Subject::task(self.task.task_id)
    }
    fn user_id(&self) -> UserId {
        self.task.user_id
    }
}

/// What changed about a pattern: `recurring.pattern.created`, `.updated` or `.deleted`
/// (the topic says which).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatternChanged {
    /// The pattern.
    pub pattern_id: Uuid,
    /// Its owner.
    pub user_id: UserId,
    /// Its canonical rule.
    pub rrule: String,
    /// Its zone.
    pub timezone: String,
    /// `fixed` or `after_completion`.
    pub mode: String,
    /// Its version after the change.
    pub version: u32,
    /// When it changed.
    pub changed_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> PatternInput {
        serde_json::from_value(json).unwrap()
    }

    fn fields(result: Result<PatternSpec, Vec<PatternFieldError>>) -> Vec<String> {
        result.unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn structured_and_raw_inputs_become_one_rule() {
        let template = serde_json::json!({"title": "Standup", "tags": ["work"]});
        let structured = input(serde_json::json!({
            "task_template": template, "frequency": "weekly", "days_of_week": [0, 2],
            "start": "2026-03-02T09:00", "timezone": "America/New_York"
        }))
        .parse("UTC", true)
        .unwrap();
        let raw = input(serde_json::json!({
            "task_template": template, "rrule": "RRULE:FREQ=WEEKLY;BYDAY=WE,MO",
            "start": "2026-03-02T09:00:00", "timezone": "America/New_York"
        }))
        .parse("UTC", true)
        .unwrap();
        assert_eq!(structured.rule.as_str(), raw.rule.as_str());
        assert!(structured.structured.is_some() && raw.structured.is_none());
        assert_eq!(structured.mode, GenerationMode::Fixed);
        assert_eq!(
            structured.template.unwrap().title.to_string(),
            "Standup".to_owned()
        );
    }

    #[test]
    fn every_wrong_field_is_named() {
        let result = input(serde_json::json!({
            "task_template": {"title": " ", "priority": "urgent", "reminder_minutes_before": -5},
            "frequency": "weekly", "start": "2026-03-02 9am", "timezone": "Mars/Olympus",
            "mode": "sometimes"
        }))
        .parse("UTC", true);
        assert_eq!(
            fields(result),
            [
                "task_template.title",
                "task_template.priority",
                "task_template.reminder_minutes_before",
                "mode",
                "timezone",
                "start"
            ]
        );
        let both_ends = input(serde_json::json!({
            "task_template": {"title": "x"}, "frequency": "daily", "start": "2026-03-02T09:00",
            "end_date": "2026-04-01", "max_occurrences": 3
        }))
        .parse("UTC", true);
        assert_eq!(fields(both_ends), ["max_occurrences"]);
        let mixed = input(serde_json::json!({
            "task_template": {"title": "x"}, "rrule": "FREQ=DAILY", "interval": 2,
            "start": "2026-03-02T09:00"
        }))
        .parse("UTC", true);
        assert_eq!(fields(mixed), ["rrule"]);
        let bad_rule = input(serde_json::json!({
            "rrule": "FREQ=SOMETIMES", "start": "2026-03-02T09:00"
        }))
        .parse("UTC", false);
        assert_eq!(fields(bad_rule), ["rrule"]);
    }

    #[test]
    fn the_callers_zone_is_the_default_and_end_dates_cover_their_day() {
        let spec = input(serde_json::json!({
            "frequency": "daily", "start": "2026-03-02T09:00", "end_date": "2026-03-04"
        }))
        .parse("Europe/London", false)
        .unwrap();
        assert_eq!(spec.rule.timezone().name(), "Europe/London");
        assert_eq!(spec.rule.first_n(10).unwrap().len(), 3);
    }
}
