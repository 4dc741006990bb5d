//! Recurrence rules: RFC 5545 RRULEs and the seed's structured patterns, normalised to one
//! canonical RRULE and expanded in the pattern's IANA time zone.
//!
//! A pattern is stored as four things, and [`RecurrenceRule::parse`] rebuilds it from them when
//! a row is read back: the canonical RRULE text ([`RecurrenceRule::as_str`]), the local start
//! (a date and wall-clock time, no offset), the IANA [`Timezone`], and the local exception
//! dates. Both input forms ([`RecurrenceRule::parse`] for raw RRULE text,
//! [`RecurrenceRule::from_structured`] for [`StructuredRecurrence`]) end in the same canonical
//! text, so a rule means one thing however it was written.
//!
//! # Time zones
//!
//! Rules are expanded on the local clock (RFC 5545 section 3.3.10: the recurrence is of local
//! dates and times when DTSTART has a TZID), and each local occurrence is then turned into an
//! instant by [`Timezone::resolve`], which follows section 3.3.5: a time skipped by a
//! daylight-saving change moves forward by the gap, a repeated time is its first occurrence.
//! So a 09:00 task stays at 09:00 local through every change, and a 02:30 task in New York is at
//! 03:30 on the one morning 02:30 does not exist.
//!
//! The rrule crate does the calendar work, but it is handed the local clock as if it were UTC
//! (a zone with no changes), because expanding in the real zone goes wrong around changes: it
//! drops an occurrence when midnight itself does not exist (Havana, Santiago), and a start
//! inside a gap moves every later occurrence to the shifted time.
//!
//! # Layout
//!
//! - `timezone`: [`Timezone`], local-time resolution and [`format_rfc3339`].
//! - `parts`: RRULE text to checked parts and back to the canonical text.
//! - `structured`: [`StructuredRecurrence`] to parts.
//! - `expand`: occurrences between instants, the first n, the next one, with a work limit.
//! - `pattern`: a pattern as a request writes it (structured or raw, with its task template),
//!   checked, and the `recurring.*` event payloads.
//! - `series`: generation modes, the occurrences one horizon pass creates, the next instance
//!   of an after-completion series, and the this-and-following split.
//! - `error`: [`RecurrenceError`], one case per reason, each naming its field.

mod error;
mod expand;
mod parts;
mod pattern;
mod series;
mod structured;
mod timezone;

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};

pub use error::RecurrenceError;
pub use expand::MAX_EXAMINED;
pub use pattern::{
    InstanceGenerated, MAX_REMINDER_MINUTES, PatternChanged, PatternFieldError, PatternInput,
    PatternSpec, StructuredFields, TaskTemplate, TemplateInput, parse_local,
};
pub use series::{GenerationMode, GenerationPlan, MAX_PER_PASS, SeriesSplit};
pub use structured::StructuredRecurrence;
pub use timezone::{Timezone, format_rfc3339};

use parts::RuleParts;

/// The largest `INTERVAL` accepted (the rrule crate holds intervals as 16-bit numbers).
pub const MAX_INTERVAL: u32 = u16::MAX as u32;

/// The earliest year a start, end or exception date may be in. Earlier years are not tasks,
/// and before about 1900 zones ran on local mean time, whose offsets have seconds that an
/// RFC 3339 offset cannot write.
pub const MIN_YEAR: i32 = 1900;

/// The latest year a start, end or exception date may be in: RFC 5545 and RFC 3339 write
/// years with four digits.
pub const MAX_YEAR: i32 = 9999;

/// How often a pattern repeats: the unit its interval counts.
///
/// Sub-daily frequencies (`HOURLY`, `MINUTELY`, `SECONDLY`) are refused: a task repeating more
/// than daily is written as a daily rule with `BYHOUR`/`BYMINUTE`, which keeps every occurrence
/// on a wall-clock time the rule names, even across daylight-saving changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Frequency {
    /// Every `interval` days.
    Daily,
    /// Every `interval` weeks.
    Weekly,
    /// Every `interval` months.
    Monthly,
    /// Every `interval` years.
    Yearly,
}

impl Frequency {
    /// Parses the structured form's name (`daily`, `weekly`, `monthly`, `yearly`; any case).
    ///
    /// # Errors
    ///
    /// [`RecurrenceError::UnknownFrequency`] for anything else, including the seed's `custom`
    /// (a custom pattern is sent as an `rrule`).
    pub fn parse(name: &str) -> Result<Self, RecurrenceError> {
        match name.to_ascii_lowercase().as_str() {
            "daily" => Ok(Self::Daily),
            "weekly" => Ok(Self::Weekly),
            "monthly" => Ok(Self::Monthly),
            "yearly" => Ok(Self::Yearly),
            _ => Err(RecurrenceError::UnknownFrequency {
                value: name.to_owned(),
            }),
        }
    }

    /// The structured form's name, as the seed's `frequency` column holds it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
            Self::Yearly => "yearly",
        }
    }

    /// The RRULE `FREQ` value.
    pub fn rrule_name(self) -> &'static str {
        match self {
            Self::Daily => "DAILY",
            Self::Weekly => "WEEKLY",
            Self::Monthly => "MONTHLY",
            Self::Yearly => "YEARLY",
        }
    }

    fn engine(self) -> rrule::Frequency {
        match self {
            Self::Daily => rrule::Frequency::Daily,
            Self::Weekly => rrule::Frequency::Weekly,
            Self::Monthly => rrule::Frequency::Monthly,
            Self::Yearly => rrule::Frequency::Yearly,
        }
    }
}

impl fmt::Display for Frequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A checked recurrence rule with its start, zone and exception dates, ready to expand.
///
/// Built only by [`parse`](Self::parse) or [`from_structured`](Self::from_structured), so a
/// value always holds a rule that the RFC allows, that this system supports and that has at
/// least one occurrence.
#[derive(Debug, Clone)]
pub struct RecurrenceRule {
    parts: RuleParts,
    canonical: String,
    start: NaiveDateTime,
    timezone: Timezone,
    /// Sorted, without duplicates, as given (local).
    exdates: Vec<NaiveDateTime>,
    /// The instants the exception dates stand for, sorted, for lookup during expansion.
    excluded: Vec<DateTime<Utc>>,
    /// The rule as the rrule crate takes it: no `UNTIL` (applied here, on instants) and every
    /// part the crate would default from the start written out, so expansion can begin at a
    /// later period without changing what the rule means.
    engine: rrule::RRule<rrule::Unvalidated>,
}

impl RecurrenceRule {
    /// Parses a raw RFC 5545 RRULE (with or without `RRULE:` in front) for a series starting at
    /// the local `start` in `timezone`, without the occurrences at `exdates` (local times in
    /// the same zone). This is also how a stored pattern is read back.
    ///
    /// The rule keeps RFC 5545's meaning (section 3.3.10): `BYMONTHDAY=31` skips months with
    /// fewer days, `FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29` is leap years only, `UNTIL` is
    /// inclusive and `COUNT` counts from `start`. The start is an occurrence, and counts, only
    /// if it matches the rule: section 3.3.10 says DTSTART always counts, but section 3.8.5.3
    /// calls the set undefined when DTSTART does not match, and matching-only is what the rrule
    /// crate, python-dateutil and most calendars do. `UNTIL`
    /// may be UTC (`...Z`, the RFC's form), local in `timezone`, or a date meaning the end of
    /// that local day; the canonical text has it in UTC. Sub-second parts of `start` are
    /// dropped, as RFC 5545 times are whole seconds.
    ///
    /// # Errors
    ///
    /// [`RecurrenceError::InvalidRule`] with the reason for text that is not a valid or
    /// supported rule, [`RecurrenceError::EndBeforeStart`] for an `UNTIL` before `start`,
    /// [`RecurrenceError::NoOccurrences`] for a rule that never occurs, and
    /// [`RecurrenceError::DateOutOfRange`] for dates outside [`MIN_YEAR`]..=[`MAX_YEAR`].
    pub fn parse(
        rrule: &str,
        start: NaiveDateTime,
        timezone: Timezone,
        exdates: &[NaiveDateTime],
    ) -> Result<Self, RecurrenceError> {
        let parts = RuleParts::parse(rrule, timezone)
            .map_err(|reason| RecurrenceError::InvalidRule { reason })?;
        Self::build(parts, start, timezone, exdates, "rrule")
    }

    /// Builds the rule a structured pattern stands for (see [`StructuredRecurrence`] for the
    /// fields and how days 29 to 31 fall back to the last day of shorter months).
    ///
    /// # Errors
    ///
    /// The case of [`RecurrenceError`] for the first field found wrong, naming that field.
    pub fn from_structured(fields: &StructuredRecurrence) -> Result<Self, RecurrenceError> {
        let parts = structured::to_parts(fields)?;
        Self::build(parts, fields.start, fields.timezone, &[], "end_date")
    }

    /// The same rule without the occurrences at `exdates` as well (local times in the
    /// rule's zone): how one deleted or moved instance is kept from being generated again.
    ///
    /// # Errors
    ///
    /// [`RecurrenceError::DateOutOfRange`] for a date outside [`MIN_YEAR`]..=[`MAX_YEAR`].
    pub fn with_exdates(
        mut self,
        exdates: impl IntoIterator<Item = NaiveDateTime>,
    ) -> Result<Self, RecurrenceError> {
        for exdate in exdates {
            check_year("exdates", exdate)?;
            self.exdates.push(whole_seconds(exdate));
        }
        self.exdates.sort_unstable();
        self.exdates.dedup();
        self.excluded = self
            .exdates
            .iter()
            .map(|local| timezone::resolve_utc(self.timezone, *local))
            .collect();
        self.excluded.sort_unstable();
        Ok(self)
    }

    /// `field` is the one blamed when the end comes before start or before any occurrence:
    /// `rrule` for a raw rule (its `UNTIL`), `end_date` for a structured one.
    fn build(
        mut parts: RuleParts,
        start: NaiveDateTime,
        timezone: Timezone,
        exdates: &[NaiveDateTime],
        end_field: &'static str,
    ) -> Result<Self, RecurrenceError> {
        check_year("start", start)?;
        let start = whole_seconds(start);
        parts.normalise();
        if let Some(until) = parts.until()
            && until < timezone::resolve_utc(timezone, start)
        {
            return Err(RecurrenceError::EndBeforeStart { field: end_field });
        }
        if let Some(reason) = misses_every_month(&parts, start) {
            return Err(RecurrenceError::InvalidRule { reason });
        }
        let engine = engine_rule(&parts, start);
        // The crate's own checks (ranges that depend on FREQ, such as BYSETPOS) run here, once,
        // so that expansion cannot fail on them later.
        engine
            .clone()
            .validate(expand::floating(start))
            .map_err(|err| RecurrenceError::InvalidRule {
                reason: err.to_string(),
            })?;
        let rule = Self {
            canonical: parts.to_string(),
            parts,
            start,
            timezone,
            exdates: Vec::new(),
            excluded: Vec::new(),
            engine,
        }
        .with_exdates(exdates.iter().copied())?;
        if !rule.occurs_at_all()? {
            let field = if rule.parts.until().is_some() {
                end_field
            } else {
                "rrule"
            };
            return Err(RecurrenceError::NoOccurrences { field });
        }
        Ok(rule)
    }

    /// The canonical RRULE text (without `RRULE:`), as stored and returned.
    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    /// The local start: the first occurrence's date and wall-clock time, if it matches the rule.
    pub fn start(&self) -> NaiveDateTime {
        self.start
    }

    /// The zone the rule's local times are in.
    pub fn timezone(&self) -> Timezone {
        self.timezone
    }

    /// The local exception dates, sorted.
    pub fn exdates(&self) -> &[NaiveDateTime] {
        &self.exdates
    }

    /// How often the rule repeats.
    pub fn frequency(&self) -> Frequency {
        self.parts.frequency
    }

    /// Every how many days/weeks/months/years it repeats.
    pub fn interval(&self) -> u32 {
        u32::from(self.parts.interval)
    }

    /// The `COUNT` the series ends after, if any.
    pub fn count(&self) -> Option<u32> {
        self.parts.count()
    }

    /// The `UNTIL` instant the series ends at (inclusive), if any.
    pub fn until(&self) -> Option<DateTime<Utc>> {
        self.parts.until()
    }
}

/// Two rules are equal when they would be stored identically.
impl PartialEq for RecurrenceRule {
    fn eq(&self, other: &Self) -> bool {
        self.canonical == other.canonical
            && self.start == other.start
            && self.timezone == other.timezone
            && self.exdates == other.exdates
    }
}

impl Eq for RecurrenceRule {}

/// The canonical RRULE text.
impl fmt::Display for RecurrenceRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

/// Refuses a date outside the supported years, naming the field.
fn check_year(field: &'static str, value: NaiveDateTime) -> Result<(), RecurrenceError> {
    if (MIN_YEAR..=MAX_YEAR).contains(&value.year()) {
        Ok(())
    } else {
        Err(RecurrenceError::DateOutOfRange { field, value })
    }
}

fn whole_seconds(value: NaiveDateTime) -> NaiveDateTime {
    value.with_nanosecond(0).unwrap_or(value)
}

/// Why a monthly rule never occurs, if its interval steps from the start's month never land
/// in a month of BYMONTH (`FREQ=MONTHLY;INTERVAL=4;BYMONTH=2` from November). Found by search
/// otherwise, this costs a walk to year 9999 and gives a vaguer reason.
fn misses_every_month(parts: &RuleParts, start: NaiveDateTime) -> Option<String> {
    if parts.frequency != Frequency::Monthly || parts.by_month.is_empty() {
        return None;
    }
    let step = usize::from(parts.interval) % 12;
    let first = start.month0() as usize;
    let reached = (0..12).map(|k| (first + k * step) % 12 + 1);
    let hits = reached
        .into_iter()
        .any(|month| parts.by_month.iter().any(|m| usize::from(*m) == month));
    (!hits).then(|| {
        format!(
            "every {} months from {} never reaches a month in BYMONTH",
            parts.interval,
            start.format("%B")
        )
    })
}

/// The rrule crate's form of `parts` for a series starting at local `start`.
///
/// Where the rule leaves the day or time to be taken from DTSTART (RFC 5545 section 3.3.10:
/// "information, not contained in the rule, necessary to determine the various recurrence
/// instance start time and dates are derived from the Start Time"), the value is written out
/// the way the crate would derive it, so expanding from a later period start keeps the
/// original start's day and time. `UNTIL` is left out: it is an instant, compared after each
/// local occurrence is resolved in the zone.
fn engine_rule(parts: &RuleParts, start: NaiveDateTime) -> rrule::RRule<rrule::Unvalidated> {
    let month = |m: u8| chrono::Month::try_from(m).expect("months are checked to be 1..=12");
    let start_month = u8::try_from(start.month()).expect("months are 1..=12");
    let start_day = i8::try_from(start.day()).expect("days are 1..=31");
    let hour = u8::try_from(start.hour()).expect("hours are 0..=23");
    let minute = u8::try_from(start.minute()).expect("minutes are 0..=59");
    let second = u8::try_from(start.second()).expect("seconds are 0..=59 after whole_seconds");

    let mut by_month: Vec<u8> = parts.by_month.clone();
    let mut by_month_day = parts.by_month_day.clone();
    let mut by_day: Vec<rrule::NWeekday> = parts
        .by_day
        .iter()
        .map(|d| match d.ordinal {
            Some(n) => rrule::NWeekday::Nth(i16::from(n), d.weekday),
            None => rrule::NWeekday::Every(d.weekday),
        })
        .collect();
    // The crate, like python-dateutil, filters by the plain weekdays and by the ordinal ones
    // separately, so `BYDAY=FR,-1SU` would need a day to be both a Friday and the last Sunday
    // and never occurs. RFC 5545 means the union. Every plain weekday is written as the list
    // of all its ordinals within the month (1..=5) or, for a yearly rule without BYMONTH, the
    // year (1..=53), which the crate does combine as a union.
    let mixed = by_day
        .iter()
        .any(|d| matches!(d, rrule::NWeekday::Every(_)))
        && by_day.iter().any(|d| matches!(d, rrule::NWeekday::Nth(..)));
    if mixed {
        let most: i16 = if parts.frequency == Frequency::Yearly && parts.by_month.is_empty() {
            53
        } else {
            5
        };
        by_day = by_day
            .into_iter()
            .flat_map(|d| match d {
                rrule::NWeekday::Every(weekday) => (1..=most)
                    .map(|n| rrule::NWeekday::Nth(n, weekday))
                    .collect::<Vec<_>>(),
                nth => vec![nth],
            })
            .collect();
    }
    let picks_days = !parts.by_week_no.is_empty()
        || !parts.by_year_day.is_empty()
        || !parts.by_month_day.is_empty()
        || !parts.by_day.is_empty();
    if !picks_days {
        match parts.frequency {
            Frequency::Yearly => {
                if by_month.is_empty() {
                    by_month = vec![start_month];
                }
                by_month_day = vec![start_day];
            }
            Frequency::Monthly => by_month_day = vec![start_day],
            Frequency::Weekly => by_day = vec![rrule::NWeekday::Every(start.weekday())],
            Frequency::Daily => {}
        }
    }
    let or_start = |list: &[u8], value: u8| {
        if list.is_empty() {
            vec![value]
        } else {
            list.to_vec()
        }
    };

    let mut rule = rrule::RRule::new(parts.frequency.engine())
        .interval(parts.interval)
        .week_start(parts.week_start)
        .by_month(&by_month.into_iter().map(month).collect::<Vec<_>>())
        .by_week_no(parts.by_week_no.clone())
        .by_year_day(parts.by_year_day.clone())
        .by_month_day(by_month_day)
        .by_weekday(by_day)
        .by_hour(or_start(&parts.by_hour, hour))
        .by_minute(or_start(&parts.by_minute, minute))
        .by_second(or_start(&parts.by_second, second))
        .by_set_pos(parts.by_set_pos.iter().map(|p| i32::from(*p)).collect());
    if let Some(count) = parts.count() {
        rule = rule.count(count);
    }
    rule
}

#[cfg(test)]
mod tests;
