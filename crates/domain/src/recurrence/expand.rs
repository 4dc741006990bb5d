//! Expansion: the occurrences of a rule as instants in its zone.
//!
//! The rrule crate walks the local clock (given to it as UTC, a zone without changes); each
//! local occurrence is resolved in the real zone (RFC 5545 section 3.3.5), then `UNTIL`,
//! exception dates and the requested range are applied to the instant.

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::{Frequency, RecurrenceError, RecurrenceRule};

/// The most candidate occurrences one call examines (those before the requested range, those
/// excluded and those returned) before it gives up with [`RecurrenceError::ExpansionLimit`].
///
/// Ordinary rules need a few hundred at most for a month's horizon: expansion of a rule without
/// `COUNT` starts near the requested range rather than at `start`. A rule with `COUNT` must be
/// walked from `start`, and this caps that walk too.
pub const MAX_EXAMINED: usize = 100_000;

/// `local` as the rrule crate's "UTC" date-time: the local clock in a zone without changes.
pub(super) fn floating(local: NaiveDateTime) -> DateTime<rrule::Tz> {
    rrule::Tz::UTC.from_utc_datetime(&local)
}

impl RecurrenceRule {
    /// The occurrences at or after `from` and before `to`, at most `limit` of them, earliest
    /// first, in the rule's zone. Exception dates are left out; `COUNT` still counts them, as
    /// RFC 5545 applies EXDATE to the set the rule produced.
    ///
    /// # Errors
    ///
    /// [`RecurrenceError::ExpansionLimit`] if reaching `to` needs more than [`MAX_EXAMINED`]
    /// candidates.
    pub fn occurrences_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<DateTime<Tz>>, RecurrenceError> {
        let mut found = Vec::new();
        if limit == 0 || to <= from {
            return Ok(found);
        }
        let mut walk = Walk::new(self, Some(from), true)?;
        while let Some(occurrence) = walk.next()? {
            if occurrence >= to {
                break;
            }
            if occurrence >= from {
                found.push(occurrence);
                if found.len() == limit {
                    break;
                }
            }
        }
        Ok(found)
    }

    /// The first `n` occurrences from the start, exception dates left out.
    ///
    /// # Errors
    ///
    /// [`RecurrenceError::ExpansionLimit`] if that needs more than [`MAX_EXAMINED`] candidates.
    pub fn first_n(&self, n: usize) -> Result<Vec<DateTime<Tz>>, RecurrenceError> {
        let mut found = Vec::with_capacity(n.min(1024));
        let mut walk = Walk::new(self, None, true)?;
        while found.len() < n {
            match walk.next()? {
                Some(occurrence) => found.push(occurrence),
                None => break,
            }
        }
        Ok(found)
    }

    /// The first occurrence strictly after `instant`, if the series has one: where a rolling
    /// horizon or an after-completion series continues from.
    ///
    /// # Errors
    ///
    /// [`RecurrenceError::ExpansionLimit`] if that needs more than [`MAX_EXAMINED`] candidates.
    pub fn next_after(
        &self,
        instant: DateTime<Utc>,
    ) -> Result<Option<DateTime<Tz>>, RecurrenceError> {
        let mut walk = Walk::new(self, Some(instant), true)?;
        while let Some(occurrence) = walk.next()? {
            if occurrence > instant {
                return Ok(Some(occurrence));
            }
        }
        Ok(None)
    }

    /// Whether the rule, exception dates aside, has any occurrence.
    pub(super) fn occurs_at_all(&self) -> Result<bool, RecurrenceError> {
        Ok(Walk::new(self, None, false)?.next()?.is_some())
    }

    /// The local date-time to start the crate's walk at so that it yields every occurrence at
    /// or after `from`: `start`, or for a rule without `COUNT` the start of the latest period
    /// (day, week, month or year, counted in steps of the interval from the start's period)
    /// that begins on the local clock at least two days before `from`. The two days cover any
    /// offset and any shift of a skipped time; resolving is monotonic, so nothing from an
    /// earlier period can land at or after `from`.
    ///
    /// Starting at a period start keeps the meaning of the rule because `engine_rule` wrote
    /// out every part the crate would take from the start, and the crate builds each period's
    /// whole set (BYSETPOS included) before dropping candidates before the walk's start.
    fn walk_start(&self, from: DateTime<Utc>) -> NaiveDateTime {
        let start = self.start;
        if self.parts.count().is_some() {
            return start;
        }
        let Some(target) = from
            .with_timezone(&self.timezone.tz())
            .naive_local()
            .checked_sub_signed(TimeDelta::days(2))
        else {
            return start;
        };
        if target <= start {
            return start;
        }
        let interval = i64::from(self.parts.interval);
        let (start_date, target_date) = (start.date(), target.date());
        let period_start: Option<NaiveDate> = match self.parts.frequency {
            Frequency::Daily => {
                let days = (target_date - start_date).num_days();
                start_date.checked_add_signed(TimeDelta::days(days / interval * interval))
            }
            Frequency::Weekly => {
                // Weeks begin on WKST (RFC 5545: it matters for WEEKLY rules with an interval
                // above 1 and BYDAY); the crate builds the first week from the start's day on.
                let into_week = (7 + start_date.weekday().num_days_from_monday()
                    - self.parts.week_start.num_days_from_monday())
                    % 7;
                let week = start_date - TimeDelta::days(i64::from(into_week));
                let weeks = (target_date - week).num_days() / 7;
                week.checked_add_signed(TimeDelta::weeks(weeks / interval * interval))
            }
            Frequency::Monthly => {
                let months = (target_date.year() - start_date.year()) * 12
                    + i32::try_from(target_date.month()).unwrap_or(0)
                    - i32::try_from(start_date.month()).unwrap_or(0);
                let step = u32::try_from(i64::from(months) / interval * interval).ok();
                step.and_then(|step| {
                    start_date
                        .with_day(1)?
                        .checked_add_months(Months::new(step))
                })
            }
            Frequency::Yearly => {
                let years = i64::from(target_date.year() - start_date.year());
                let year = i64::from(start_date.year()) + years / interval * interval;
                NaiveDate::from_ymd_opt(i32::try_from(year).ok().unwrap_or(start_date.year()), 1, 1)
            }
        };
        match period_start.and_then(|d| d.and_hms_opt(0, 0, 0)) {
            Some(anchor) if anchor > start => anchor,
            _ => start,
        }
    }
}

/// One pass over a rule's occurrences, counting the work done.
struct Walk<'r> {
    rule: &'r RecurrenceRule,
    local: rrule::RRuleSetIter,
    last: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    honour_exdates: bool,
    examined: usize,
    finished: bool,
}

impl<'r> Walk<'r> {
    /// A walk that yields every occurrence at or after `from` (and maybe some before it).
    fn new(
        rule: &'r RecurrenceRule,
        from: Option<DateTime<Utc>>,
        honour_exdates: bool,
    ) -> Result<Self, RecurrenceError> {
        let begin = from.map_or(rule.start, |from| rule.walk_start(from));
        let begin = floating(begin);
        // The rule passed this check with its own start when it was built; the crate's checks
        // do not depend on the start once UNTIL is left out, so this cannot fail in practice.
        let engine =
            rule.engine
                .clone()
                .validate(begin)
                .map_err(|err| RecurrenceError::InvalidRule {
                    reason: err.to_string(),
                })?;
        // `limit` makes the crate give up after 100,000 consecutive empty periods, which only a
        // rule that will never occur again reaches: that ends the series.
        let set = rrule::RRuleSet::new(begin).rrule(engine).limit();
        Ok(Self {
            rule,
            local: set.into_iter(),
            last: None,
            until: rule.parts.until(),
            honour_exdates,
            examined: 0,
            finished: false,
        })
    }

    /// The next occurrence, strictly later than the previous one.
    fn next(&mut self) -> Result<Option<DateTime<Tz>>, RecurrenceError> {
        while !self.finished {
            let Some(local) = self.local.next() else {
                self.finished = true;
                break;
            };
            self.examined += 1;
            if self.examined > MAX_EXAMINED {
                return Err(RecurrenceError::ExpansionLimit {
                    examined: MAX_EXAMINED,
                });
            }
            let occurrence = self.rule.timezone.resolve(local.naive_utc());
            let instant = occurrence.with_timezone(&Utc);
            // A skipped time resolves to the same instant as the time the gap shifts it to
            // (02:30 and 03:30 are both 03:30 EDT that morning): one occurrence, not two.
            if self.last.is_some_and(|last| instant <= last) {
                continue;
            }
            self.last = Some(instant);
            if self.until.is_some_and(|until| instant > until) {
                // Resolving is monotonic, so every later occurrence is past UNTIL too.
                self.finished = true;
                break;
            }
            if self.honour_exdates && self.rule.excluded.binary_search(&instant).is_ok() {
                continue;
            }
            return Ok(Some(occurrence));
        }
        Ok(None)
    }
}
