//! Reminders: what a client asks for ([`ReminderSpec`], absolute or relative to the due date,
//! with its [`Channels`]), the rows the reminders component plans from a task
//! ([`plan`] → [`PlannedReminder`]), snoozing ([`Snooze`]), and the payloads of the
//! `reminders.reminder.*` events.
//!
//! Planning is a pure function of the task's due date, its specs, the user's default channels
//! and the current time, so the component re-plans by calling it again whenever a task event
//! changes any of them. A reminder whose time has already passed when it is planned is
//! [`Skipped`](PlannedState::Skipped): it is recorded, but never fired late.

use std::fmt;

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::account::UserId;
use crate::event::{EventData, Subject, Topic};
use crate::field::{FieldErrors, Invalid};
use crate::task::{TaskId, TaskTitle};
use crate::time::Timestamp;

/// A way of telling the user: `in_app`, `email` or `webhook`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A notification listed in the app.
    InApp,
    /// An email through the configured mail API.
    Email,
    /// A signed `POST` to the user's webhook URL.
    Webhook,
}

impl Channel {
    /// Every channel, in the order they are delivered.
    pub const ALL: &[Channel] = &[Channel::InApp, Channel::Email, Channel::Webhook];
    const NAMES: &[&str] = &["in_app", "email", "webhook"];

    /// The channel's name, as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InApp => "in_app",
            Self::Email => "email",
            Self::Webhook => "webhook",
        }
    }

    /// Parses a channel name. Unknown names are refused.
    pub fn parse(name: &str) -> Result<Self, Invalid> {
        match name {
            "in_app" => Ok(Self::InApp),
            "email" => Ok(Self::Email),
            "webhook" => Ok(Self::Webhook),
            _ => Err(Invalid::NotOneOf {
                allowed: Self::NAMES,
            }),
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A non-empty set of channels, without repeats, in [`Channel::ALL`] order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Channels(Vec<Channel>);

impl Channels {
    /// In-app only: the default of a user who has chosen nothing.
    pub fn in_app() -> Self {
        Self(vec![Channel::InApp])
    }

    /// The set of `channels`; `None` if it is empty.
    pub fn new(channels: impl IntoIterator<Item = Channel>) -> Option<Self> {
        let mut list: Vec<Channel> = channels.into_iter().collect();
        list.sort();
        list.dedup();
        (!list.is_empty()).then_some(Self(list))
    }

    /// Parses a JSON array of channel names. Repeats are merged; an empty list is refused.
    pub fn parse(value: &Value) -> Result<Self, Invalid> {
        const EXPECTED: Invalid = Invalid::WrongType {
            expected: "an array of channel names (in_app, email, webhook)",
        };
        let Value::Array(items) = value else {
            return Err(EXPECTED);
        };
        let mut channels = Vec::with_capacity(items.len());
        for item in items {
            let Value::String(name) = item else {
                return Err(EXPECTED);
            };
            channels.push(Channel::parse(name)?);
        }
        Self::new(channels).ok_or(Invalid::TooShort { min: 1 })
    }

    /// Whether `channel` is in the set.
    pub fn contains(&self, channel: Channel) -> bool {
        self.0.contains(&channel)
    }

    /// The channels, in delivery order.
    pub fn iter(&self) -> impl Iterator<Item = Channel> + '_ {
        self.0.iter().copied()
    }
}

impl<'de> Deserialize<'de> for Channels {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Self::parse(&value).map_err(serde::de::Error::custom)
    }
}

/// When a reminder fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReminderWhen {
    /// At an instant (`{"at": "2026-01-10T17:00:00Z"}`).
    At(Timestamp),
    /// This many minutes before the task's due date (`{"offset_minutes": 15}`); `0` is at the
    /// due date itself.
    BeforeDue {
        /// Minutes before the due date.
        minutes: u32,
    },
}

/// One reminder a client asked for: when, and on which channels (`None` = the user's default
/// channels at the time it is planned).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReminderSpec {
    /// When it fires.
    pub when: ReminderWhen,
    /// Where it goes; `None` follows the user's settings.
    pub channels: Option<Channels>,
}

/// The largest relative offset: four weeks before the due date.
pub const MAX_OFFSET_MINUTES: u32 = 4 * 7 * 24 * 60;
/// The most reminders one task may have.
pub const MAX_REMINDERS_PER_TASK: usize = 10;

impl ReminderSpec {
    /// Parses one spec: an object with exactly one of `at` (RFC 3339) and `offset_minutes`
    /// (0 to [`MAX_OFFSET_MINUTES`]), and optional `channels`. Unknown members are refused, so
    /// a misspelt `ofset_minutes` is an error rather than a reminder that never fires.
    pub fn parse(value: &Value) -> Result<Self, FieldErrors> {
        let Value::Object(members) = value else {
            return Err(FieldErrors::single(
                "",
                Invalid::WrongType {
                    expected: "an object with `at` or `offset_minutes`",
                },
            ));
        };
        let mut errors = FieldErrors::new();
        for name in members.keys() {
            if !matches!(name.as_str(), "at" | "offset_minutes" | "channels") {
                errors.push(name.clone(), Invalid::Unknown);
            }
        }
        let at = members.get("at").filter(|v| !v.is_null());
        let offset = members.get("offset_minutes").filter(|v| !v.is_null());
        let when = match (at, offset) {
            (Some(_), Some(_)) => {
                errors.push(
                    "offset_minutes",
                    Invalid::Format {
                        expected: "either `at` or `offset_minutes`, not both",
                    },
                );
                None
            }
            (None, None) => {
                errors.push("at", Invalid::Required);
                None
            }
            (Some(at), None) => errors.check(
                "at",
                match at {
                    Value::String(text) => Timestamp::parse(text).map(ReminderWhen::At),
                    _ => Err(Invalid::WrongType {
                        expected: "an RFC 3339 date-time string",
                    }),
                },
            ),
            (None, Some(offset)) => errors.check("offset_minutes", parse_offset(offset)),
        };
        let channels = match members.get("channels") {
            None | Some(Value::Null) => Some(None),
            Some(value) => errors.check("channels", Channels::parse(value)).map(Some),
        };
        match (when, channels) {
            (Some(when), Some(channels)) if errors.is_empty() => Ok(Self { when, channels }),
            _ => Err(errors),
        }
    }

    /// The spec as JSON, the form stored in the task's `reminders` column and sent back.
    pub fn to_json(&self) -> Value {
        let mut object = serde_json::Map::new();
        match self.when {
            ReminderWhen::At(at) => object.insert("at".into(), Value::String(at.to_string())),
            ReminderWhen::BeforeDue { minutes } => {
                object.insert("offset_minutes".into(), Value::from(minutes))
            }
        };
        if let Some(channels) = &self.channels {
            object.insert(
                "channels".into(),
                serde_json::to_value(channels).expect("channel names are strings"),
            );
        }
        Value::Object(object)
    }

    /// When it fires for a task due at `due_date`; `None` for a relative reminder on a task
    /// with no due date.
    pub fn scheduled_time(&self, due_date: Option<Timestamp>) -> Option<Timestamp> {
        match self.when {
            ReminderWhen::At(at) => Some(at),
            ReminderWhen::BeforeDue { minutes } => due_date.map(|due| {
                Timestamp::from_datetime(due.as_datetime() - TimeDelta::minutes(minutes.into()))
            }),
        }
    }
}

fn parse_offset(value: &Value) -> Result<ReminderWhen, Invalid> {
    let range = Invalid::OutOfRange {
        min: 0,
        max: MAX_OFFSET_MINUTES.into(),
    };
    let minutes = value.as_i64().ok_or(Invalid::WrongType {
        expected: "a whole number of minutes",
    })?;
    let minutes = u32::try_from(minutes).map_err(|_| range.clone())?;
    if minutes > MAX_OFFSET_MINUTES {
        return Err(range);
    }
    Ok(ReminderWhen::BeforeDue { minutes })
}

/// The reminder list of a task: at most [`MAX_REMINDERS_PER_TASK`] specs, without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReminderSpecs(Vec<ReminderSpec>);

impl ReminderSpecs {
    /// No reminders.
    pub fn none() -> Self {
        Self::default()
    }

    /// Parses a JSON array of specs; errors are named `reminders[i].member`. A spec given
    /// twice is kept once.
    pub fn parse(value: &Value) -> Result<Self, FieldErrors> {
        let Value::Array(items) = value else {
            return Err(FieldErrors::single(
                "",
                Invalid::WrongType {
                    expected: "an array of reminders",
                },
            ));
        };
        if items.len() > MAX_REMINDERS_PER_TASK {
            return Err(FieldErrors::single(
                "",
                Invalid::TooMany {
                    max: MAX_REMINDERS_PER_TASK,
                },
            ));
        }
        let mut errors = FieldErrors::new();
        let mut specs: Vec<ReminderSpec> = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            if let Some(spec) =
                errors.check_nested(&format!("[{index}]"), ReminderSpec::parse(item))
                && !specs.contains(&spec)
            {
                specs.push(spec);
            }
        }
        if errors.is_empty() {
            Ok(Self(specs))
        } else {
            Err(errors)
        }
    }

    /// The specs as a JSON array.
    pub fn to_json(&self) -> Value {
        Value::Array(self.0.iter().map(ReminderSpec::to_json).collect())
    }

    /// The specs.
    pub fn iter(&self) -> impl Iterator<Item = &ReminderSpec> {
        self.0.iter()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The JSON array form (`[{"offset_minutes": 15}]`), as stored in `tasks.reminders`.
impl Serialize for ReminderSpecs {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

/// Parses through [`ReminderSpecs::parse`].
impl<'de> Deserialize<'de> for ReminderSpecs {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Self::parse(&value).map_err(serde::de::Error::custom)
    }
}

/// What planning decided for one reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlannedState {
    /// Waiting for its time; the tick will fire it.
    Pending,
    /// Its time had already passed when it was planned: recorded, never fired.
    Skipped,
}

impl PlannedState {
    /// The `status` stored on the row.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Skipped => "skipped",
        }
    }
}

/// A reminder row to write: when it fires, where it goes, and whether it is pending.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlannedReminder {
    /// When it fires.
    pub scheduled_time: Timestamp,
    /// Where it goes (the user's defaults already applied).
    pub channels: Channels,
    /// Pending or skipped.
    pub state: PlannedState,
    /// The spec it came from, as stored JSON; `None` for the task's `reminder_time`.
    pub spec: Option<Value>,
}

/// Everything planning needs to know about a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderSubject {
    /// When it is due, if ever.
    pub due_date: Option<Timestamp>,
    /// The seed's single absolute reminder.
    pub reminder_time: Option<Timestamp>,
    /// The reminder list.
    pub specs: ReminderSpecs,
    /// Whether it is completed (a completed task has no reminders).
    pub is_completed: bool,
}

/// The reminder rows for a task, in time order: one per spec that has a time (relative specs
/// need a due date), plus `reminder_time` if set and not already one of them. Rows whose time is
/// not after `now` are [`Skipped`](PlannedState::Skipped). A completed task gets none.
pub fn plan(
    task: &ReminderSubject,
    default_channels: &Channels,
    now: Timestamp,
) -> Vec<PlannedReminder> {
    if task.is_completed {
        return Vec::new();
    }
    let state = |at: Timestamp| {
        if at > now {
            PlannedState::Pending
        } else {
            PlannedState::Skipped
        }
    };
    let mut rows: Vec<PlannedReminder> = task
        .specs
        .iter()
        .filter_map(|spec| {
            let at = spec.scheduled_time(task.due_date)?;
            Some(PlannedReminder {
                scheduled_time: at,
                channels: spec
                    .channels
                    .clone()
                    .unwrap_or_else(|| default_channels.clone()),
                state: state(at),
                spec: Some(spec.to_json()),
            })
        })
        .collect();
    if let Some(at) = task.reminder_time
        && !rows.iter().any(|row| row.scheduled_time == at)
    {
        rows.push(PlannedReminder {
            scheduled_time: at,
            channels: default_channels.clone(),
            state: state(at),
            spec: None,
        });
    }
    rows.sort_by_key(|row| row.scheduled_time);
    rows
}

/// The longest snooze: one week.
pub const MAX_SNOOZE_MINUTES: u32 = 7 * 24 * 60;

/// `POST /api/reminders/{id}/snooze`: `{"minutes": n}` (from now) or `{"until": "<RFC 3339>"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Snooze {
    /// This many minutes from now (1 to [`MAX_SNOOZE_MINUTES`]).
    Minutes(u32),
    /// Until an instant, which must be in the future when the snooze is applied.
    Until(Timestamp),
}

impl Snooze {
    /// Parses the request body.
    pub fn parse(value: &Value) -> Result<Self, FieldErrors> {
        let Value::Object(members) = value else {
            return Err(FieldErrors::single(
                "",
                Invalid::WrongType {
                    expected: "an object with `minutes` or `until`",
                },
            ));
        };
        let minutes = members.get("minutes").filter(|v| !v.is_null());
        let until = members.get("until").filter(|v| !v.is_null());
        let result = match (minutes, until) {
            (Some(_), Some(_)) => Err((
                "until",
                Invalid::Format {
                    expected: "either `minutes` or `until`, not both",
                },
            )),
            (None, None) => Err(("minutes", Invalid::Required)),
            (Some(minutes), None) => {
                let range = Invalid::OutOfRange {
                    min: 1,
                    max: MAX_SNOOZE_MINUTES.into(),
                };
                match minutes.as_i64() {
                    None => Err((
                        "minutes",
                        Invalid::WrongType {
                            expected: "a whole number of minutes",
                        },
                    )),
                    Some(n) if (1..=i64::from(MAX_SNOOZE_MINUTES)).contains(&n) => {
                        Ok(Self::Minutes(n as u32))
                    }
                    Some(_) => Err(("minutes", range)),
                }
            }
            (None, Some(Value::String(text))) => Timestamp::parse(text)
                .map(Self::Until)
                .map_err(|problem| ("until", problem)),
            (None, Some(_)) => Err((
                "until",
                Invalid::WrongType {
                    expected: "an RFC 3339 date-time string",
                },
            )),
        };
        result.map_err(|(field, problem)| FieldErrors::single(field, problem))
    }

    /// The reminder's new time, snoozed at `now`. An `until` that is not after `now` is refused
    /// (it would fire at once, which is not a snooze).
    pub fn new_time(self, now: Timestamp) -> Result<Timestamp, FieldErrors> {
        match self {
            Self::Minutes(minutes) => Ok(Timestamp::from_datetime(
                now.as_datetime() + TimeDelta::minutes(minutes.into()),
            )),
            Self::Until(until) if until > now => Ok(until),
            Self::Until(_) => Err(FieldErrors::single(
                "until",
                Invalid::Format {
                    expected: "a time in the future",
                },
            )),
        }
    }
}

/// The status of a reminder row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderStatus {
    /// Waiting for its time.
    Pending,
    /// Fired: `reminders.reminder.fired` was published.
    Fired,
    /// Cancelled (task completed or deleted, reminder deleted or re-planned).
    Cancelled,
    /// Its time had passed when it was planned.
    Skipped,
}

impl ReminderStatus {
    const NAMES: &[&str] = &["pending", "fired", "cancelled", "skipped"];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Fired => "fired",
            Self::Cancelled => "cancelled",
            Self::Skipped => "skipped",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Result<Self, Invalid> {
        match name {
            "pending" => Ok(Self::Pending),
            "fired" => Ok(Self::Fired),
            "cancelled" => Ok(Self::Cancelled),
            "skipped" => Ok(Self::Skipped),
            _ => Err(Invalid::NotOneOf {
                allowed: Self::NAMES,
            }),
        }
    }
}

/// `reminders.reminder.scheduled`: a reminder row was planned (pending).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderScheduled {
    /// The reminder's id.
    pub reminder_id: Uuid,
    /// Its task.
    pub task_id: TaskId,
    /// Its owner.
    pub user_id: UserId,
    /// When it fires.
    pub scheduled_time: Timestamp,
    /// Where it goes.
    pub notification_channels: Channels,
}

/// `reminders.reminder.cancelled`: a pending reminder will not fire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderCancelled {
    /// The reminder's id.
    pub reminder_id: Uuid,
    /// Its task.
    pub task_id: TaskId,
    /// Its owner.
    pub user_id: UserId,
    /// When it would have fired.
    pub scheduled_time: Timestamp,
    /// Why: `task_completed`, `task_deleted`, `replanned` or `deleted`.
    pub reason: String,
}

/// `reminders.reminder.fired`, with the seed plan's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderFired {
    /// The reminder's id.
    pub reminder_id: Uuid,
    /// Its task.
    pub task_id: TaskId,
    /// Its owner.
    pub user_id: UserId,
    /// The task's title when it fired.
    pub task_title: TaskTitle,
    /// The task's due date, `null` if none.
    pub due_date: Option<Timestamp>,
    /// Where to deliver it.
    pub notification_channels: Channels,
    /// When it was due to fire.
    pub scheduled_time: Timestamp,
    /// When it fired.
    pub fired_at: Timestamp,
}

impl ReminderFired {
    /// How late it fired, in seconds (never negative).
    pub fn lag_seconds(&self) -> f64 {
        let lag = self.fired_at.as_datetime() - self.scheduled_time.as_datetime();
        (lag.num_microseconds().unwrap_or(0).max(0) as f64) / 1e6
    }
}

macro_rules! reminder_event_data {
    ($($payload:ident => $topic:ident),*) => {$(
        impl EventData for $payload {
            const TOPIC: Topic = Topic::$topic;
            fn subject(&self) -> Subject {
                Subject::reminder(self.reminder_id)
            }
            fn user_id(&self) -> UserId {
                self.user_id
            }
        }
    )*};
}
reminder_event_data!(
    ReminderScheduled => ReminderScheduled,
    ReminderCancelled => ReminderCancelled,
    ReminderFired => ReminderFired
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn subject(due: Option<&str>, specs: Value) -> ReminderSubject {
        ReminderSubject {
            due_date: due.map(at),
            reminder_time: None,
            specs: ReminderSpecs::parse(&specs).unwrap(),
            is_completed: false,
        }
    }

    #[test]
    fn an_absolute_and_a_relative_spec_parse() {
        let specs = ReminderSpecs::parse(&json!([
            {"at": "2026-01-10T17:00:00+01:00", "channels": ["email", "in_app", "email"]},
            {"offset_minutes": 15}
        ]))
        .unwrap();
        let specs: Vec<_> = specs.iter().cloned().collect();
        assert_eq!(specs[0].when, ReminderWhen::At(at("2026-01-10T16:00:00Z")));
        assert_eq!(
            specs[0].channels,
            Channels::new([Channel::InApp, Channel::Email])
        );
        assert_eq!(specs[1].when, ReminderWhen::BeforeDue { minutes: 15 });
        assert_eq!(specs[1].channels, None);
    }

    #[test]
    fn every_mistake_in_a_list_is_named_by_index_and_member() {
        let err = ReminderSpecs::parse(&json!([
            {"at": "tomorrow"},
            {"offset_minutes": -1},
            {"offset_minutes": 5, "at": "2026-01-10T17:00:00Z"},
            {"offset_minutes": 5, "channels": ["sms"]},
            {"ofset_minutes": 5},
            {"offset_minutes": 5, "channels": []}
        ]))
        .unwrap_err();
        let fields: Vec<(String, &str)> = err
            .iter()
            .map(|e| (e.field().to_owned(), e.problem().code()))
            .collect();
        for (field, code) in [
            ("[0].at", "format"),
            ("[1].offset_minutes", "out_of_range"),
            ("[2].offset_minutes", "format"),
            ("[3].channels", "not_one_of"),
            ("[4].ofset_minutes", "unknown"),
            ("[4].at", "required"),
            ("[5].channels", "too_short"),
        ] {
            assert!(
                fields.iter().any(|(f, c)| f == field && *c == code),
                "{field} {code} missing from {fields:?}"
            );
        }
    }

    #[test]
    fn more_than_ten_reminders_are_refused() {
        let many: Vec<Value> = (0..11).map(|i| json!({"offset_minutes": i})).collect();
        assert!(ReminderSpecs::parse(&Value::Array(many)).is_err());
    }

    #[test]
    fn a_relative_reminder_fires_before_the_due_date() {
        let task = subject(
            Some("2026-01-10T18:00:00Z"),
            json!([{"offset_minutes": 15}]),
        );
        let rows = plan(&task, &Channels::in_app(), at("2026-01-10T12:00:00Z"));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].scheduled_time, at("2026-01-10T17:45:00Z"));
        assert_eq!(rows[0].state, PlannedState::Pending);
        assert_eq!(rows[0].channels, Channels::in_app());
    }

    #[test]
    fn a_relative_reminder_without_a_due_date_is_not_planned() {
        let task = subject(None, json!([{"offset_minutes": 15}]));
        assert!(plan(&task, &Channels::in_app(), at("2026-01-10T12:00:00Z")).is_empty());
    }

    #[test]
    fn a_reminder_already_past_is_skipped_not_fired_late() {
        let task = subject(
            Some("2026-01-10T18:00:00Z"),
            json!([{"offset_minutes": 60}, {"offset_minutes": 5}]),
        );
        let rows = plan(&task, &Channels::in_app(), at("2026-01-10T17:30:00Z"));
        assert_eq!(rows[0].state, PlannedState::Skipped);
        assert_eq!(rows[1].state, PlannedState::Pending);
    }

    #[test]
    fn reminder_time_is_planned_once_with_the_default_channels() {
        let mut task = subject(
            Some("2026-01-10T18:00:00Z"),
            json!([{"at": "2026-01-10T17:00:00Z", "channels": ["webhook"]}]),
        );
        task.reminder_time = Some(at("2026-01-10T17:00:00Z"));
        let defaults = Channels::new([Channel::Email]).unwrap();
        let rows = plan(&task, &defaults, at("2026-01-10T12:00:00Z"));
        assert_eq!(rows.len(), 1, "the same instant is one reminder");
        task.reminder_time = Some(at("2026-01-10T16:00:00Z"));
        let rows = plan(&task, &defaults, at("2026-01-10T12:00:00Z"));
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].channels, defaults);
        assert_eq!(rows[0].spec, None);
    }

    #[test]
    fn a_completed_task_has_no_reminders() {
        let mut task = subject(Some("2026-01-10T18:00:00Z"), json!([{"offset_minutes": 5}]));
        task.is_completed = true;
        assert!(plan(&task, &Channels::in_app(), at("2026-01-10T12:00:00Z")).is_empty());
    }

    #[test]
    fn snooze_by_minutes_counts_from_now() {
        let snooze = Snooze::parse(&json!({"minutes": 10})).unwrap();
        assert_eq!(
            snooze.new_time(at("2026-01-10T17:00:00Z")).unwrap(),
            at("2026-01-10T17:10:00Z")
        );
    }

    #[test]
    fn snooze_until_the_past_or_by_nothing_is_refused() {
        let snooze = Snooze::parse(&json!({"until": "2026-01-10T16:00:00Z"})).unwrap();
        assert!(snooze.new_time(at("2026-01-10T17:00:00Z")).is_err());
        assert!(Snooze::parse(&json!({"minutes": 0})).is_err());
        assert!(Snooze::parse(&json!({"minutes": 5, "until": "2026-01-10T16:00:00Z"})).is_err());
        assert!(Snooze::parse(&json!({})).is_err());
    }

    #[test]
    fn the_fired_payload_has_the_seed_fields() {
        let fired = ReminderFired {
            reminder_id: Uuid::nil(),
            task_id: TaskId::from(Uuid::nil()),
            user_id: UserId::from(Uuid::nil()),
            task_title: TaskTitle::parse("Buy milk").unwrap(),
            due_date: Some(at("2026-01-10T18:00:00Z")),
            notification_channels: Channels::new([Channel::Email, Channel::InApp]).unwrap(),
            scheduled_time: at("2026-01-10T17:00:00Z"),
            fired_at: at("2026-01-10T17:00:01.5Z"),
        };
        let json = serde_json::to_value(&fired).unwrap();
        assert_eq!(json["notification_channels"], json!(["in_app", "email"]));
        assert_eq!(json["task_title"], "Buy milk");
        assert_eq!(json["fired_at"], "2026-01-10T17:00:01.500Z");
        assert_eq!(fired.lag_seconds(), 1.5);
        let back: ReminderFired = serde_json::from_value(json).unwrap();
        assert_eq!(back, fired);
    }

    proptest! {
        #[test]
        fn planned_rows_are_ordered_and_pending_exactly_when_in_the_future(
            offsets in proptest::collection::vec(0u32..=MAX_OFFSET_MINUTES, 0..10),
            now_minutes in 0i64..(60 * 24 * 60),
        ) {
            let due = at("2026-02-01T00:00:00Z");
            let specs: Vec<Value> = offsets.iter().map(|m| json!({"offset_minutes": m})).collect();
            let task = subject(Some("2026-02-01T00:00:00Z"), Value::Array(specs));
            let now = Timestamp::from_datetime(
                due.as_datetime() - TimeDelta::minutes(30 * 24 * 60) + TimeDelta::minutes(now_minutes),
            );
            let rows = plan(&task, &Channels::in_app(), now);
            let mut distinct = offsets.clone();
            distinct.sort();
            distinct.dedup();
            prop_assert_eq!(rows.len(), distinct.len());
            for pair in rows.windows(2) {
                prop_assert!(pair[0].scheduled_time <= pair[1].scheduled_time);
            }
            for row in &rows {
                prop_assert!(row.scheduled_time <= due);
                prop_assert_eq!(row.state == PlannedState::Pending, row.scheduled_time > now);
            }
        }

        #[test]
        fn a_spec_survives_its_json_form(minutes in 0u32..=MAX_OFFSET_MINUTES, email in any::<bool>()) {
            let channels = if email { json!(["email"]) } else { Value::Null };
            let spec = ReminderSpec::parse(&json!({"offset_minutes": minutes, "channels": channels})).unwrap();
            prop_assert_eq!(ReminderSpec::parse(&spec.to_json()).unwrap(), spec);
        }
    }
}
