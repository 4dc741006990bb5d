//! IANA time zones, and the RFC 5545 rule for turning a local wall-clock time into an instant.

use std::fmt;
use std::str::FromStr;

use chrono::offset::LocalResult;
use chrono::{DateTime, NaiveDateTime, Offset, SecondsFormat, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::RecurrenceError;

/// An IANA time zone (`Europe/London`, `America/New_York`, `UTC`), the zone a pattern's local
/// times are in.
///
/// Only names in the IANA time zone database are accepted (including its backward-compatible
/// links such as `US/Eastern`), spelled as the database spells them; fixed offsets like
/// `+02:00` and abbreviations that are not zone names are refused, because an offset cannot
/// say when daylight saving starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timezone(Tz);

impl Timezone {
    /// UTC, the seed's default zone.
    pub const UTC: Self = Self(Tz::UTC);

    /// Parses an IANA time zone name.
    ///
    /// # Errors
    ///
    /// [`RecurrenceError::UnknownTimezone`] naming the value if it is not a zone name.
    pub fn parse(name: &str) -> Result<Self, RecurrenceError> {
        Tz::from_str(name)
            .map(Self)
            .map_err(|_| RecurrenceError::UnknownTimezone {
                value: name.to_owned(),
            })
    }

    /// The zone's IANA name, as stored and returned.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The `chrono_tz` zone, for callers doing their own date arithmetic.
    pub fn tz(&self) -> Tz {
        self.0
    }

    /// The instant a local wall-clock time in this zone stands for, as RFC 5545 section 3.3.5
    /// defines it for DATE-TIME values with a TZID:
    ///
    /// - a local time that occurs once is that instant;
    /// - a local time that occurs twice (the hour repeated when clocks go back) is its first
    ///   occurrence, the one still on the earlier (summer) offset;
    /// - a local time that does not exist (skipped when clocks go forward) is read with the
    ///   offset in force before the gap, which lands it the gap's length later on the clock:
    ///   02:30 on the morning New York springs forward is 03:30 EDT, and 02:15 on the morning
    ///   Lord Howe Island springs forward by half an hour is 02:45.
    pub fn resolve(&self, local: NaiveDateTime) -> DateTime<Tz> {
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(instant) => instant,
            LocalResult::Ambiguous(first, _) => first,
            LocalResult::None => self.resolve_in_gap(local),
        }
    }

    /// Reads `local`, which falls in a gap, with the offset in force just before the gap.
    ///
    /// chrono-tz does not expose transitions, so walk back on the local clock until a time
    /// exists: the gap's start. Gaps are whole quarter hours in every zone of the current
    /// database except historical ones, and a quarter-hour step cannot jump over a whole
    /// transition, so the first existing time found carries the offset before the gap. The
    /// walk is bounded by two days, more than the longest gap on record (Samoa skipped
    /// 30 December 2011).
    fn resolve_in_gap(&self, local: NaiveDateTime) -> DateTime<Tz> {
        let step = TimeDelta::minutes(15);
        let mut probe = local;
        for _ in 0..(2 * 24 * 4) {
            let Some(earlier) = probe.checked_sub_signed(step) else {
                break;
            };
            probe = earlier;
            let before = match self.0.from_local_datetime(&probe) {
                LocalResult::Single(instant) => instant,
                // Ambiguous just before a gap would need two transitions within a quarter
                // hour; the later reading is the one adjacent to the gap.
                LocalResult::Ambiguous(_, later) => later,
                LocalResult::None => continue,
            };
            let offset = before.offset().fix();
            if let Some(utc) =
                local.checked_sub_signed(TimeDelta::seconds(i64::from(offset.local_minus_utc())))
            {
                return self.0.from_utc_datetime(&utc);
            }
            break;
        }
        // Unreachable for the zones and years this system accepts; reading the time as UTC
        // keeps the function total rather than panicking on a zone database surprise.
        self.0.from_utc_datetime(&local)
    }
}

impl fmt::Display for Timezone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Formats an occurrence as RFC 3339 with its zone's offset (`2026-03-09T09:00:00-04:00`), the
/// form the preview endpoint returns: the offset shows which side of a daylight-saving change
/// an occurrence is on while the local time stays readable.
///
/// Seconds are always written and fractions never (occurrences are whole seconds), and UTC is
/// written `+00:00` rather than `Z` so every element has the same shape.
pub fn format_rfc3339(instant: &DateTime<Tz>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// The instant `local` stands for in `zone`, as UTC (see [`Timezone::resolve`]).
pub(crate) fn resolve_utc(zone: Timezone, local: NaiveDateTime) -> DateTime<Utc> {
    zone.resolve(local).with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    #[test]
    fn iana_names_parse_and_keep_their_spelling() {
        for name in [
            "UTC",
            "Europe/London",
            "America/New_York",
            "Australia/Lord_Howe",
        ] {
            assert_eq!(Timezone::parse(name).unwrap().name(), name);
        }
    }

    #[test]
    fn unknown_zones_offsets_and_wrong_case_are_refused_naming_the_value() {
        for name in ["", "Mars/Olympus_Mons", "+02:00", "europe/london", "Local"] {
            let err = Timezone::parse(name).unwrap_err();
            assert_eq!(err.field(), "timezone");
            assert!(err.reason().contains(&format!("\"{name}\"")), "{err}");
        }
    }

    #[test]
    fn a_skipped_local_time_moves_forward_by_the_gap() {
        let ny = Timezone::parse("America/New_York").unwrap();
        let t = ny.resolve(local(2026, 3, 8, 2, 30));
        assert_eq!(format_rfc3339(&t), "2026-03-08T03:30:00-04:00");

        let lord_howe = Timezone::parse("Australia/Lord_Howe").unwrap();
        let t = lord_howe.resolve(local(2026, 10, 4, 2, 15));
        assert_eq!(format_rfc3339(&t), "2026-10-04T02:45:00+11:00");
    }

    #[test]
    fn a_repeated_local_time_is_its_first_occurrence() {
        let ny = Timezone::parse("America/New_York").unwrap();
        let t = ny.resolve(local(2026, 11, 1, 1, 30));
        assert_eq!(format_rfc3339(&t), "2026-11-01T01:30:00-04:00");

        let lord_howe = Timezone::parse("Australia/Lord_Howe").unwrap();
        let t = lord_howe.resolve(local(2026, 4, 5, 1, 45));
        assert_eq!(format_rfc3339(&t), "2026-04-05T01:45:00+11:00");
    }

    #[test]
    fn a_gap_at_midnight_still_resolves() {
        // Havana springs forward at midnight, so 00:30 does not exist that night; the rrule
        // crate's own fallback (midnight plus the time of day) would drop the occurrence.
        let havana = Timezone::parse("America/Havana").unwrap();
        let t = havana.resolve(local(2026, 3, 8, 0, 30));
        assert_eq!(format_rfc3339(&t), "2026-03-08T01:30:00-04:00");
    }

    #[test]
    fn utc_is_written_with_a_numeric_offset() {
        let t = Timezone::UTC.resolve(local(2026, 1, 2, 9, 0));
        assert_eq!(format_rfc3339(&t), "2026-01-02T09:00:00+00:00");
    }
}
