//! A series over time: how its instances are made (fixed horizon or after completion), which
//! occurrences a generation pass creates, and splitting a series for a this-and-following edit.

use chrono::{DateTime, Months, NaiveDateTime, TimeDelta, Utc};
use chrono_tz::Tz;

use super::parts::End;
use super::{Frequency, RecurrenceError, RecurrenceRule, timezone};

/// The most instances one generation pass creates for one pattern. A daily pattern over the
/// default 30-day horizon needs 30; a rule with `BYHOUR` lists can need a few hundred. What is
/// left is made by the next pass, from where this one stopped.
pub const MAX_PER_PASS: usize = 1_000;

/// How a pattern makes its instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GenerationMode {
    /// Every occurrence within a rolling horizon exists as a task ahead of time.
    Fixed,
    /// Only one open instance at a time: the next is due `interval` units after the current
    /// one is completed ("every! 3 days"), whatever the rule's calendar says.
    AfterCompletion,
}

impl GenerationMode {
    /// Parses `fixed` or `after_completion`.
    ///
    /// # Errors
    ///
    /// [`RecurrenceError::UnknownMode`] for anything else.
    pub fn parse(name: &str) -> Result<Self, RecurrenceError> {
        match name {
            "fixed" => Ok(Self::Fixed),
            "after_completion" => Ok(Self::AfterCompletion),
            _ => Err(RecurrenceError::UnknownMode {
                value: name.to_owned(),
            }),
        }
    }

    /// The stored and returned name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fixed => "fixed",
            Self::AfterCompletion => "after_completion",
        }
    }
}

/// What one generation pass of a fixed pattern creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerationPlan {
    /// The occurrences to create, earliest first. Creating one that exists already must be a
    /// no-op (the store's unique key on pattern and occurrence), so a pass may be repeated.
    pub occurrences: Vec<DateTime<Tz>>,
    /// Where the next pass starts: everything before it has been created.
    pub generated_until: DateTime<Utc>,
}

/// A this-and-following split at one occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesSplit {
    /// The original series ending just before the occurrence, or `None` if the occurrence was
    /// its first (the whole series moves to `following`).
    pub before: Option<RecurrenceRule>,
    /// The same rule starting at the occurrence, with what is left of a `COUNT`.
    pub following: RecurrenceRule,
}

impl RecurrenceRule {
    /// The occurrences a fixed pattern's pass creates: those at or after `generated_until`
    /// (or, for a pattern never generated, at or after `now`: a series created or edited today
    /// does not fill the past with overdue tasks) and before `now + horizon_days`, at most
    /// [`MAX_PER_PASS`].
    ///
    /// # Errors
    ///
    /// [`RecurrenceError::ExpansionLimit`] if the rule needs too much work to reach the range.
    pub fn plan_horizon(
        &self,
        generated_until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        horizon_days: u32,
    ) -> Result<GenerationPlan, RecurrenceError> {
        let from = generated_until.unwrap_or(now);
        let to = now + TimeDelta::days(i64::from(horizon_days));
        if to <= from {
            return Ok(GenerationPlan {
                occurrences: Vec::new(),
                generated_until: from,
            });
        }
        let occurrences = self.occurrences_between(from, to, MAX_PER_PASS)?;
        let generated_until = match occurrences.last() {
            // Cut short by the limit: continue just after the last one made.
            Some(last) if occurrences.len() == MAX_PER_PASS => {
                last.with_timezone(&Utc) + TimeDelta::seconds(1)
            }
            _ => to,
        };
        Ok(GenerationPlan {
            occurrences,
            generated_until,
        })
    }

    /// When the next instance of an after-completion series is due, if the series goes on:
    /// `interval` days, weeks, months or years after the local day of `completed_at`, at the
    /// start's wall-clock time, in the rule's zone (a month step from 31 January lands on the
    /// last day of February). `made` is how many instances the series has had, which `COUNT`
    /// limits; `UNTIL` and exception dates apply as to any occurrence. Other parts of the rule
    /// (`BYDAY`, ...) do not: after completion, the interval is the schedule.
    pub fn next_after_completion(
        &self,
        completed_at: DateTime<Utc>,
        made: u32,
    ) -> Option<DateTime<Tz>> {
        if self.count().is_some_and(|count| made >= count) {
            return None;
        }
        let day = completed_at
            .with_timezone(&self.timezone().tz())
            .date_naive();
        let interval = self.interval();
        let next_day = match self.frequency() {
            Frequency::Daily => day.checked_add_signed(TimeDelta::days(i64::from(interval))),
            Frequency::Weekly => day.checked_add_signed(TimeDelta::weeks(i64::from(interval))),
            Frequency::Monthly => day.checked_add_months(Months::new(interval)),
            Frequency::Yearly => day.checked_add_months(Months::new(interval.checked_mul(12)?)),
        }?;
        let mut local = next_day.and_time(self.start().time());
        // An exception date moves the instance on by another interval, as a skipped
        // occurrence would; a bounded number of times, so a long run of them ends the search.
        for _ in 0..366 {
            let due = self.timezone().resolve(local);
            if self
                .until()
                .is_some_and(|until| due.with_timezone(&Utc) > until)
            {
                return None;
            }
            if !self.exdates().contains(&local) {
                return Some(due);
            }
            local = match self.frequency() {
                Frequency::Daily => local.checked_add_signed(TimeDelta::days(i64::from(interval))),
                Frequency::Weekly => {
                    local.checked_add_signed(TimeDelta::weeks(i64::from(interval)))
                }
                Frequency::Monthly => local.checked_add_months(Months::new(interval)),
                Frequency::Yearly => local.checked_add_months(Months::new(interval * 12)),
            }?;
        }
        None
    }

    /// Splits the series at `occurrence` (one of its occurrences) for an edit of it and every
    /// later one: the original keeps the occurrences before it (`UNTIL` one second before, or
    /// `COUNT` of those before), and the new series starts at the occurrence's local time with
    /// the rest of the count and the exception dates from there on.
    ///
    /// # Errors
    ///
    /// [`RecurrenceError::NotAnOccurrence`] if `occurrence` is not one of the series'
    /// occurrences, and [`RecurrenceError::ExpansionLimit`] if finding it needs too much work.
    pub fn split_at(&self, occurrence: DateTime<Utc>) -> Result<SeriesSplit, RecurrenceError> {
        let probe = self
            .clone()
            .without_exdates()
            .next_after(occurrence - TimeDelta::seconds(1))?;
        if probe.map(|p| p.with_timezone(&Utc)) != Some(occurrence) {
            return Err(RecurrenceError::NotAnOccurrence);
        }
        let local_start = occurrence
            .with_timezone(&self.timezone().tz())
            .naive_local();
        let earlier = self.count_before(occurrence)?;
        let (before_end, following_end) = match self.parts.end {
            Some(End::Count(count)) => (
                End::Count(earlier),
                Some(End::Count(count.saturating_sub(earlier))),
            ),
            other => (End::Until(occurrence - TimeDelta::seconds(1)), other),
        };
        let before = if earlier == 0 {
            None
        } else {
            let mut parts = self.parts.clone();
            parts.end = Some(before_end);
            let exdates: Vec<NaiveDateTime> = self
                .exdates()
                .iter()
                .copied()
                .filter(|d| *d < local_start)
                .collect();
            Some(Self::build(
                parts,
                self.start(),
                self.timezone(),
                &exdates,
                "rrule",
            )?)
        };
        let mut parts = self.parts.clone();
        parts.end = following_end;
        let exdates: Vec<NaiveDateTime> = self
            .exdates()
            .iter()
            .copied()
            .filter(|d| *d >= local_start)
            .collect();
        let following = Self::build(parts, local_start, self.timezone(), &exdates, "rrule")?;
        Ok(SeriesSplit { before, following })
    }

    /// How many occurrences (exception dates included, as `COUNT` counts them) come before
    /// `instant`. Counting matters only for `COUNT` rules, which are short by nature; other
    /// rules only need to know whether there is any, found from the start.
    fn count_before(&self, instant: DateTime<Utc>) -> Result<u32, RecurrenceError> {
        let all = self.clone().without_exdates();
        if self.count().is_none() {
            return Ok(u32::from(
                all.first_n(1)?
                    .first()
                    .is_some_and(|first| first.with_timezone(&Utc) < instant),
            ));
        }
        let start = timezone::resolve_utc(self.timezone(), self.start());
        let found = all.occurrences_between(start, instant, usize::MAX)?;
        Ok(u32::try_from(found.len()).unwrap_or(u32::MAX))
    }

    fn without_exdates(mut self) -> Self {
        self.exdates.clear();
        self.excluded.clear();
        self
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDateTime, TimeZone};
    use proptest::prelude::*;

    use super::*;
    use crate::recurrence::{Timezone, format_rfc3339};

    fn local(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").unwrap()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn rule(text: &str, start: &str, tz: &str) -> RecurrenceRule {
        RecurrenceRule::parse(text, local(start), Timezone::parse(tz).unwrap(), &[]).unwrap()
    }

    fn texts(occurrences: &[DateTime<Tz>]) -> Vec<String> {
        occurrences.iter().map(format_rfc3339).collect()
    }

    #[test]
    fn a_first_pass_starts_now_and_ends_at_the_horizon() {
        let daily = rule("FREQ=DAILY", "2026-01-01T09:00:00", "Europe/London");
        let now = utc("2026-03-10T12:00:00Z");
        let plan = daily.plan_horizon(None, now, 3).unwrap();
        assert_eq!(
            texts(&plan.occurrences),
            [
                "2026-03-11T09:00:00+00:00",
                "2026-03-12T09:00:00+00:00",
                "2026-03-13T09:00:00+00:00"
            ]
        );
        assert_eq!(plan.generated_until, utc("2026-03-13T12:00:00Z"));
        // The next day's pass makes only the day that came into the horizon.
        let next = daily
            .plan_horizon(Some(plan.generated_until), now + TimeDelta::days(1), 3)
            .unwrap();
        assert_eq!(texts(&next.occurrences), ["2026-03-14T09:00:00+00:00"]);
        // A pass run again at the same time makes nothing.
        let again = daily
            .plan_horizon(Some(next.generated_until), now + TimeDelta::days(1), 3)
            .unwrap();
        assert!(again.occurrences.is_empty());
    }

    #[test]
    fn a_pass_cut_short_by_the_limit_continues_after_its_last_instance() {
        let every_minute = rule(
            "FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;\
             BYMINUTE=0,10,20,30,40,50",
            "2026-01-01T00:00:00",
            "UTC",
        );
        let now = utc("2026-01-01T00:00:00Z");
        let first = every_minute.plan_horizon(None, now, 30).unwrap();
        assert_eq!(first.occurrences.len(), MAX_PER_PASS);
        let second = every_minute
            .plan_horizon(Some(first.generated_until), now, 30)
            .unwrap();
        let last = first.occurrences.last().unwrap();
        assert_eq!(
            second.occurrences[0].with_timezone(&Utc),
            last.with_timezone(&Utc) + TimeDelta::minutes(10)
        );
    }

    #[test]
    fn after_completion_counts_from_the_completion_day_at_the_start_time() {
        // "every! 3 days" at 09:00 New York, completed late on 7 March: due 10 March at 09:00,
        // which is after the change to daylight time (EDT, -04:00).
        let every_three = rule(
            "FREQ=DAILY;INTERVAL=3",
            "2026-03-01T09:00:00",
            "America/New_York",
        );
        let next = every_three
            .next_after_completion(utc("2026-03-08T03:30:00Z"), 1)
            .unwrap();
        assert_eq!(format_rfc3339(&next), "2026-03-10T09:00:00-04:00");
    }

    #[test]
    fn after_completion_months_clamp_to_the_month_end_and_respect_count_and_until() {
        let monthly = rule("FREQ=MONTHLY;COUNT=3", "2026-01-31T08:00:00", "UTC");
        let next = monthly
            .next_after_completion(utc("2026-01-31T10:00:00Z"), 1)
            .unwrap();
        assert_eq!(format_rfc3339(&next), "2026-02-28T08:00:00+00:00");
        assert_eq!(
            monthly.next_after_completion(utc("2026-01-31T10:00:00Z"), 3),
            None
        );
        let until = rule(
            "FREQ=WEEKLY;UNTIL=20260215T000000Z",
            "2026-02-01T08:00:00",
            "UTC",
        );
        assert!(
            until
                .next_after_completion(utc("2026-02-02T10:00:00Z"), 1)
                .is_some()
        );
        assert_eq!(
            until.next_after_completion(utc("2026-02-10T10:00:00Z"), 2),
            None
        );
    }

    #[test]
    fn after_completion_steps_over_an_exception_date() {
        let daily = RecurrenceRule::parse(
            "FREQ=DAILY",
            local("2026-05-01T07:00:00"),
            Timezone::parse("UTC").unwrap(),
            &[local("2026-05-03T07:00:00")],
        )
        .unwrap();
        let next = daily
            .next_after_completion(utc("2026-05-02T12:00:00Z"), 2)
            .unwrap();
        assert_eq!(format_rfc3339(&next), "2026-05-04T07:00:00+00:00");
    }

    #[test]
    fn splitting_an_until_series_keeps_the_past_and_moves_the_rest() {
        let weekly = rule(
            "FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20260331T235959Z",
            "2026-03-02T18:30:00",
            "Europe/London",
        );
        let at = utc("2026-03-12T18:30:00Z");
        let split = weekly.split_at(at).unwrap();
        let before = split.before.unwrap();
        assert_eq!(
            texts(&before.first_n(10).unwrap()),
            [
                "2026-03-02T18:30:00+00:00",
                "2026-03-05T18:30:00+00:00",
                "2026-03-09T18:30:00+00:00"
            ]
        );
        let following = split.following;
        assert_eq!(following.start(), local("2026-03-12T18:30:00"));
        assert_eq!(following.until(), weekly.until());
        // Both halves together are the original series, across London's change on 29 March.
        let mut joined = before.first_n(100).unwrap();
        joined.extend(following.first_n(100).unwrap());
        assert_eq!(texts(&joined), texts(&weekly.first_n(100).unwrap()));
    }

    #[test]
    fn splitting_a_count_series_shares_the_count() {
        let series = rule("FREQ=DAILY;COUNT=10", "2026-06-01T09:00:00", "Asia/Kolkata");
        let fourth = series.first_n(4).unwrap()[3].with_timezone(&Utc);
        let split = series.split_at(fourth).unwrap();
        assert_eq!(split.before.as_ref().unwrap().count(), Some(3));
        assert_eq!(split.following.count(), Some(7));
        // At the first occurrence, nothing is left before.
        let first = series.first_n(1).unwrap()[0].with_timezone(&Utc);
        let whole = series.split_at(first).unwrap();
        assert!(whole.before.is_none());
        assert_eq!(whole.following.count(), Some(10));
    }

    #[test]
    fn splitting_needs_an_occurrence() {
        let series = rule("FREQ=DAILY", "2026-06-01T09:00:00", "UTC");
        assert_eq!(
            series.split_at(utc("2026-06-03T09:30:00Z")).unwrap_err(),
            RecurrenceError::NotAnOccurrence
        );
    }

    #[test]
    fn modes_parse_and_print() {
        for mode in [GenerationMode::Fixed, GenerationMode::AfterCompletion] {
            assert_eq!(GenerationMode::parse(mode.as_str()), Ok(mode));
        }
        let err = GenerationMode::parse("sometimes").unwrap_err();
        assert_eq!(err.field(), "mode");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(100))]

        /// Daily passes at arbitrary times make exactly the occurrences a single expansion
        /// over the same span gives: none missed at a pass boundary, none twice.
        #[test]
        fn consecutive_passes_miss_nothing_and_repeat_nothing(
            freq in 0usize..4,
            interval in 1u32..=3,
            zone in 0usize..4,
            hour in 0u32..24,
            minute in prop_oneof![Just(0u32), Just(30u32)],
            start_day in 0i64..400,
            pass_hours in proptest::collection::vec(1i64..72, 1..20),
            horizon in 1u32..40,
        ) {
            let zone = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "UTC"][zone];
            let freq = ["DAILY", "WEEKLY", "MONTHLY", "YEARLY"][freq];
            let start = (NaiveDateTime::parse_from_str("2025-01-01T00:00:00", "%Y-%m-%dT%H:%M:%S").unwrap()
                + TimeDelta::days(start_day))
                .date()
                .and_hms_opt(hour, minute, 0)
                .unwrap();
            let rule = RecurrenceRule::parse(
                &format!("FREQ={freq};INTERVAL={interval}"),
                start,
                Timezone::parse(zone).unwrap(),
                &[],
            ).unwrap();
            let first_now = Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap();
            let mut now = first_now;
            let mut generated_until = None;
            let mut made: Vec<DateTime<Tz>> = Vec::new();
            for hours in &pass_hours {
                let plan = rule.plan_horizon(generated_until, now, horizon).unwrap();
                made.extend(plan.occurrences);
                generated_until = Some(plan.generated_until);
                now += TimeDelta::hours(*hours);
            }
            let end = generated_until.unwrap();
            let expected = rule.occurrences_between(first_now, end, usize::MAX).unwrap();
            prop_assert_eq!(texts(&made), texts(&expected));
        }

        /// After completion, the next instance is later than the completion, on the start's
        /// wall-clock time unless that time does not exist that day.
        #[test]
        fn after_completion_is_later_and_on_the_start_time(
            freq in 0usize..4,
            interval in 1u32..=5,
            zone in 0usize..4,
            hour in 0u32..24,
            completed_hours in 0i64..(24 * 800),
        ) {
            let zone = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "UTC"][zone];
            let freq = ["DAILY", "WEEKLY", "MONTHLY", "YEARLY"][freq];
            let start = local("2025-01-31T00:00:00").date().and_hms_opt(hour, 0, 0).unwrap();
            let rule = RecurrenceRule::parse(
                &format!("FREQ={freq};INTERVAL={interval}"),
                start,
                Timezone::parse(zone).unwrap(),
                &[],
            ).unwrap();
            let completed = Utc.with_ymd_and_hms(2025, 2, 1, 0, 0, 0).unwrap()
                + TimeDelta::hours(completed_hours);
            let next = rule.next_after_completion(completed, 1).unwrap();
            prop_assert!(next.with_timezone(&Utc) > completed);
            let wall = next.naive_local().time();
            let shifted = rule.timezone().resolve(next.date_naive().and_time(start.time()));
            prop_assert!(wall == start.time() || shifted == next, "{next} for {start}");
        }
    }
}
