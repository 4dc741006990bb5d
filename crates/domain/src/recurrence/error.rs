//! The one error type of recurrence rules: every case names the request field it is about and
//! says why in words a user can act on, so the API can turn it into a 422 problem+json with
//! field-level detail without knowing the cases.

use std::fmt;

use chrono::NaiveDateTime;

use super::Frequency;

/// Why a recurrence rule, its time zone or its expansion was refused.
///
/// [`field`](Self::field) names the request field (`rrule`, `timezone`, `interval`, ...) and
/// [`reason`](Self::reason) says what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecurrenceError {
    /// The time zone is not an IANA time zone name.
    UnknownTimezone {
        /// The value given.
        value: String,
    },
    /// The raw RRULE text is not a rule this system accepts; `reason` says which part and why.
    InvalidRule {
        /// What is wrong, naming the rule part (`FREQ`, `BYDAY`, ...).
        reason: String,
    },
    /// The structured `frequency` is not daily, weekly, monthly or yearly.
    UnknownFrequency {
        /// The value given.
        value: String,
    },
    /// The structured `interval` is below 1 or above [`MAX_INTERVAL`](super::MAX_INTERVAL).
    IntervalOutOfRange {
        /// The value given.
        value: i64,
    },
    /// Both `end_date` and `max_occurrences` were given; a series has one end condition.
    BothEndConditions,
    /// The structured `max_occurrences` is below 1 or too large.
    MaxOccurrencesOutOfRange {
        /// The value given.
        value: i64,
    },
    /// A `days_of_week` entry is outside 0 (Monday) ..= 6 (Sunday).
    WeekdayOutOfRange {
        /// The value given.
        value: i64,
    },
    /// The structured `day_of_month` is not 1..=31 or -1.
    DayOfMonthOutOfRange {
        /// The value given.
        value: i64,
    },
    /// A structured field was given that has no meaning for the frequency.
    NotApplicable {
        /// The field given (`days_of_week` or `day_of_month`).
        field: &'static str,
        /// The pattern's frequency.
        frequency: Frequency,
    },
    /// A date-time is outside the years this system schedules in.
    DateOutOfRange {
        /// The field given (`start`, `end_date`, `exdates`).
        field: &'static str,
        /// The value given.
        value: NaiveDateTime,
    },
    /// The end (`end_date`, or `UNTIL` in the rule) is before the start.
    EndBeforeStart {
        /// `end_date` or `rrule`.
        field: &'static str,
    },
    /// The rule is valid but produces no occurrence at all (for example `BYMONTHDAY=30` in
    /// February only, or an end before the first matching day).
    NoOccurrences {
        /// `rrule`, or `end_date` for a structured pattern whose end comes too soon.
        field: &'static str,
    },
    /// Expanding the rule over the requested range needs more work than one request may do.
    ExpansionLimit {
        /// How many candidate occurrences were examined before giving up.
        examined: usize,
    },
    /// The generation `mode` is not `fixed` or `after_completion`.
    UnknownMode {
        /// The value given.
        value: String,
    },
    /// The instance named is not at one of the series' occurrences (a this-and-following
    /// edit splits the series at an occurrence).
    NotAnOccurrence,
}

impl RecurrenceError {
    /// The request field this error is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::UnknownTimezone { .. } => "timezone",
            Self::InvalidRule { .. } | Self::ExpansionLimit { .. } => "rrule",
            Self::UnknownFrequency { .. } => "frequency",
            Self::UnknownMode { .. } => "mode",
            Self::NotAnOccurrence => "occurrence",
            Self::IntervalOutOfRange { .. } => "interval",
            // Either field could be blamed; the later one in the seed's field order is the
            // one a client most likely added by mistake.
            Self::BothEndConditions => "max_occurrences",
            Self::MaxOccurrencesOutOfRange { .. } => "max_occurrences",
            Self::WeekdayOutOfRange { .. } => "days_of_week",
            Self::DayOfMonthOutOfRange { .. } => "day_of_month",
            Self::NotApplicable { field, .. }
            | Self::DateOutOfRange { field, .. }
            | Self::EndBeforeStart { field }
            | Self::NoOccurrences { field } => field,
        }
    }

    /// A stable, machine-readable name of the kind of problem, in the style of
    /// [`Invalid::code`](crate::field::Invalid::code) (sharing its codes where the meaning is
    /// the same), for clients that show their own messages.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownTimezone { .. } => "unknown_timezone",
            Self::InvalidRule { .. } => "invalid_rule",
            Self::UnknownFrequency { .. } | Self::UnknownMode { .. } => "not_one_of",
            Self::NotAnOccurrence => "not_an_occurrence",
            Self::IntervalOutOfRange { .. }
            | Self::MaxOccurrencesOutOfRange { .. }
            | Self::WeekdayOutOfRange { .. }
            | Self::DayOfMonthOutOfRange { .. }
            | Self::DateOutOfRange { .. } => "out_of_range",
            Self::BothEndConditions => "conflict",
            Self::NotApplicable { .. } => "not_applicable",
            Self::EndBeforeStart { .. } => "end_before_start",
            Self::NoOccurrences { .. } => "no_occurrences",
            Self::ExpansionLimit { .. } => "too_many_occurrences",
        }
    }

    /// What is wrong, for a person to read.
    pub fn reason(&self) -> String {
        match self {
            Self::UnknownTimezone { value } => format!(
                "\"{value}\" is not an IANA time zone name (such as \"Europe/London\" or \"UTC\")"
            ),
            Self::InvalidRule { reason } => reason.clone(),
            Self::UnknownMode { value } => {
                format!("\"{value}\" is not a mode; use fixed or after_completion")
            }
            Self::NotAnOccurrence => {
                "the instance is not at one of the series' occurrences".to_owned()
            }
            Self::UnknownFrequency { value } => format!(
                "\"{value}\" is not a frequency; use daily, weekly, monthly or yearly \
                 (or an rrule for anything else)"
            ),
            Self::IntervalOutOfRange { value } => format!(
                "interval must be between 1 and {}, not {value}",
                super::MAX_INTERVAL
            ),
            Self::BothEndConditions => {
                "end_date and max_occurrences cannot both be set; choose one end condition"
                    .to_owned()
            }
            Self::MaxOccurrencesOutOfRange { value } => format!(
                "max_occurrences must be between 1 and {}, not {value}",
                u32::MAX
            ),
            Self::WeekdayOutOfRange { value } => {
                format!("days of the week are 0 (Monday) to 6 (Sunday), not {value}")
            }
            Self::DayOfMonthOutOfRange { value } => format!(
                "day_of_month must be 1 to 31, or -1 for the last day of the month, not {value}"
            ),
            Self::NotApplicable { field, frequency } => match *field {
                "days_of_week" => format!(
                    "days_of_week applies to daily and weekly patterns, not {}; \
                     use an rrule such as BYDAY=2TU for nth-weekday rules",
                    frequency.as_str()
                ),
                _ => format!(
                    "{field} applies to monthly and yearly patterns, not {}",
                    frequency.as_str()
                ),
            },
            Self::DateOutOfRange { value, .. } => format!(
                "{value} is outside the supported years {} to {}",
                super::MIN_YEAR,
                super::MAX_YEAR
            ),
            Self::EndBeforeStart { field: "rrule" } => "UNTIL is before start".to_owned(),
            Self::EndBeforeStart { field } => format!("{field} is before start"),
            Self::NoOccurrences { field: "rrule" } => {
                "the rule produces no occurrence on or after start".to_owned()
            }
            Self::NoOccurrences { field } => {
                format!("{field} ends the series before its first occurrence")
            }
            Self::ExpansionLimit { examined } => format!(
                "the rule produces too many occurrences to expand (gave up after {examined}); \
                 ask for a shorter range"
            ),
        }
    }
}

impl fmt::Display for RecurrenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field(), self.reason())
    }
}

impl std::error::Error for RecurrenceError {}
