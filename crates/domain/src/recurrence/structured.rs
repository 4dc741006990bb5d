//! The seed's structured pattern fields, and how they become an RRULE.

use chrono::{Datelike, NaiveDateTime, Weekday};

use super::parts::{ByDay, End, RuleParts, checked_interval};
use super::timezone::resolve_utc;
use super::{Frequency, RecurrenceError, Timezone};

/// A pattern in the seed's structured form, as a request carries it.
///
/// Numbers are wide and unchecked here so that every out-of-range value reaches
/// [`RecurrenceRule::from_structured`](super::RecurrenceRule::from_structured) and is refused
/// with the field named, rather than failing somewhere in JSON decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructuredRecurrence {
    /// `daily`, `weekly`, `monthly` or `yearly`.
    pub frequency: String,
    /// Every `interval` days/weeks/months/years; `None` means 1.
    pub interval: Option<i64>,
    /// For daily and weekly patterns: the weekdays it falls on, 0 = Monday ..= 6 = Sunday.
    /// Empty means every day (daily) or the start's weekday (weekly).
    pub days_of_week: Vec<i64>,
    /// For monthly and yearly patterns: the day of the month, 1..=31, or -1 for the last day.
    /// `None` means the start's day.
    pub day_of_month: Option<i64>,
    /// The last local date-time an occurrence may fall on (inclusive), in `timezone`.
    pub end_date: Option<NaiveDateTime>,
    /// How many occurrences the series has, counted from `start`.
    pub max_occurrences: Option<i64>,
    /// The zone `start` and `end_date` are local to.
    pub timezone: Timezone,
    /// The first occurrence's local date and wall-clock time; every occurrence has its time.
    pub start: NaiveDateTime,
}

/// The rule parts a structured pattern stands for.
///
/// Days 29 to 31 of the month: users who ask for "the 31st" of every month expect the last day
/// of shorter months rather than a skipped month, and the same for "the 30th" in February.
/// So a day `d` of 29 or 30 becomes `BYMONTHDAY=28,...,d;BYSETPOS=-1` (the latest of those days
/// the month has), and 31 becomes `BYMONTHDAY=-1` (the last day, which is the same set). This
/// also applies when no `day_of_month` is given and the start falls on the 29th to 31st, and
/// to a yearly pattern starting on 29 February (28 February in other years). A raw RRULE keeps
/// the RFC's meaning, where `BYMONTHDAY=31` skips months without a 31st.
pub(crate) fn to_parts(fields: &StructuredRecurrence) -> Result<RuleParts, RecurrenceError> {
    let frequency = Frequency::parse(&fields.frequency)?;
    let mut parts = RuleParts::new(frequency);

    let interval = fields.interval.unwrap_or(1);
    parts.interval = checked_interval(interval)
        .ok_or(RecurrenceError::IntervalOutOfRange { value: interval })?;

    if !fields.days_of_week.is_empty() {
        if !matches!(frequency, Frequency::Daily | Frequency::Weekly) {
            return Err(RecurrenceError::NotApplicable {
                field: "days_of_week",
                frequency,
            });
        }
        for &day in &fields.days_of_week {
            let weekday = u8::try_from(day)
                .ok()
                .and_then(|d| Weekday::try_from(d).ok())
                .ok_or(RecurrenceError::WeekdayOutOfRange { value: day })?;
            parts.by_day.push(ByDay {
                ordinal: None,
                weekday,
            });
        }
    }

    let day_of_month = match fields.day_of_month {
        Some(_) if !matches!(frequency, Frequency::Monthly | Frequency::Yearly) => {
            return Err(RecurrenceError::NotApplicable {
                field: "day_of_month",
                frequency,
            });
        }
        Some(day) if day == -1 || (1..=31).contains(&day) => Some(day),
        Some(day) => return Err(RecurrenceError::DayOfMonthOutOfRange { value: day }),
        // Without a day, the RFC takes the start's day (and a yearly rule the start's month).
        // The fallback only matters where some month lacks that day: from the 29th on for a
        // monthly rule, 29 February for a yearly one. Elsewhere the rule is left as the RFC
        // default, which keeps the text short.
        None => {
            let day = fields.start.day();
            let month = fields.start.month();
            let needs_fallback = match frequency {
                Frequency::Monthly => day >= 29,
                Frequency::Yearly => month == 2 && day == 29,
                Frequency::Daily | Frequency::Weekly => false,
            };
            needs_fallback.then_some(i64::from(day))
        }
    };
    if let Some(day) = day_of_month {
        if frequency == Frequency::Yearly {
            // A yearly day of the month is in the start's month.
            let month = u8::try_from(fields.start.month()).expect("months are 1..=12");
            parts.by_month = vec![month];
        }
        match day {
            -1 | 31 => parts.by_month_day = vec![-1],
            29 | 30 => {
                parts.by_month_day = (28..=day)
                    .map(|d| i8::try_from(d).expect("28..=30 fits"))
                    .collect();
                parts.by_set_pos = vec![-1];
            }
            day => parts.by_month_day = vec![i8::try_from(day).expect("1..=28 fits")],
        }
    }

    parts.end = match (fields.end_date, fields.max_occurrences) {
        (Some(_), Some(_)) => return Err(RecurrenceError::BothEndConditions),
        (None, Some(count)) => Some(End::Count(
            u32::try_from(count)
                .ok()
                .filter(|c| *c >= 1)
                .ok_or(RecurrenceError::MaxOccurrencesOutOfRange { value: count })?,
        )),
        (Some(end), None) => {
            super::check_year("end_date", end)?;
            Some(End::Until(resolve_utc(fields.timezone, end)))
        }
        (None, None) => None,
    };

    // The structured form only builds rules the RFC allows; checking anyway turns a slip in
    // this function into a refusal rather than a rule the expander misreads.
    parts
        .check()
        .map_err(|reason| RecurrenceError::InvalidRule { reason })?;
    Ok(parts)
}
