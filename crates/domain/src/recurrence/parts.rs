//! The parts of an RRULE (RFC 5545 section 3.3.10): parsed from text, checked against the RFC's
//! rules, and written back in one canonical form.
//!
//! The text is parsed here rather than by the rrule crate because its parser reads an `UNTIL`
//! without `Z` in the machine's local zone, silently ignores garbage before a `BYDAY` weekday
//! (`XXMO` is read as `MO`) and can panic on non-ASCII `BYDAY` input; and its `Display` writes
//! `1MO` as `MO`, which means something else. The crate is still what expands the rule.

use std::collections::HashSet;
use std::fmt::{self, Write as _};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc, Weekday};

use super::timezone::resolve_utc;
use super::{Frequency, MAX_INTERVAL, Timezone};

/// How a series ends, if it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// `COUNT`: this many occurrences, counted from start (start counts if it matches).
    Count(u32),
    /// `UNTIL`: no occurrence after this instant (inclusive).
    Until(DateTime<Utc>),
}

/// A `BYDAY` entry: a weekday, optionally the nth (negative: from the end) in the month or year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ByDay {
    pub(crate) ordinal: Option<i8>,
    pub(crate) weekday: Weekday,
}

/// A parsed, checked rule. Lists are sorted and free of duplicates, so two rules that mean the
/// same set of parts compare equal and print the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuleParts {
    pub(crate) frequency: Frequency,
    pub(crate) interval: u16,
    pub(crate) by_month: Vec<u8>,
    pub(crate) by_week_no: Vec<i8>,
    pub(crate) by_year_day: Vec<i16>,
    pub(crate) by_month_day: Vec<i8>,
    pub(crate) by_day: Vec<ByDay>,
    pub(crate) by_hour: Vec<u8>,
    pub(crate) by_minute: Vec<u8>,
    pub(crate) by_second: Vec<u8>,
    pub(crate) by_set_pos: Vec<i16>,
    pub(crate) week_start: Weekday,
    pub(crate) end: Option<End>,
}

impl RuleParts {
    /// A rule of `frequency` with every other part at its default.
    pub(crate) fn new(frequency: Frequency) -> Self {
        Self {
            frequency,
            interval: 1,
            by_month: Vec::new(),
            by_week_no: Vec::new(),
            by_year_day: Vec::new(),
            by_month_day: Vec::new(),
            by_day: Vec::new(),
            by_hour: Vec::new(),
            by_minute: Vec::new(),
            by_second: Vec::new(),
            by_set_pos: Vec::new(),
            week_start: Weekday::Mon,
            end: None,
        }
    }

    /// Parses the value of an RRULE property, with or without the `RRULE:` name in front.
    ///
    /// A local `UNTIL` (no `Z`) is read in `zone` and a date-only `UNTIL` means the end of that
    /// local day; both are stored as the UTC instant RFC 5545 asks for when DTSTART has a zone.
    pub(crate) fn parse(text: &str, zone: Timezone) -> Result<Self, String> {
        let text = text.trim();
        let value = match text.get(..6) {
            Some(name) if name.eq_ignore_ascii_case("RRULE:") => &text[6..],
            _ => text,
        };
        if value.contains([':', '\n', '\r']) {
            return Err(
                "give only the RRULE value (FREQ=...;...); start, time zone and \
                        exception dates are separate fields"
                    .to_owned(),
            );
        }

        let mut seen = HashSet::new();
        let mut frequency = None;
        let mut interval = None;
        let mut count = None;
        let mut until = None;
        let mut parts = RuleParts::new(Frequency::Daily);
        // Property names and values are case-insensitive (RFC 5545 section 2).
        for part in value.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((name, raw)) = part.split_once('=') else {
                return Err(format!("\"{part}\" is not NAME=VALUE"));
            };
            let name = name.trim().to_ascii_uppercase();
            let raw = raw.trim();
            if !seen.insert(name.clone()) {
                return Err(format!("{name} is given more than once"));
            }
            if raw.is_empty() {
                return Err(format!("{name} has no value"));
            }
            match name.as_str() {
                "FREQ" => frequency = Some(parse_frequency(raw)?),
                "INTERVAL" => interval = Some(parse_number::<u32>(&name, raw)?),
                "COUNT" => count = Some(parse_number::<u32>(&name, raw)?),
                "UNTIL" => until = Some(parse_until(raw, zone)?),
                "WKST" => {
                    parts.week_start = parse_weekday(raw).ok_or_else(|| {
                        format!("WKST must be a weekday (MO, TU, ..., SU), not \"{raw}\"")
                    })?
                }
                "BYMONTH" => parts.by_month = parse_list(&name, raw, 1, 12, false)?,
                "BYWEEKNO" => parts.by_week_no = parse_list(&name, raw, 1, 53, true)?,
                "BYYEARDAY" => parts.by_year_day = parse_list(&name, raw, 1, 366, true)?,
                "BYMONTHDAY" => parts.by_month_day = parse_list(&name, raw, 1, 31, true)?,
                "BYDAY" => parts.by_day = parse_by_day(raw)?,
                "BYHOUR" => parts.by_hour = parse_list(&name, raw, 0, 23, false)?,
                "BYMINUTE" => parts.by_minute = parse_list(&name, raw, 0, 59, false)?,
                // RFC 5545 allows 60 for a leap second; chrono and the rrule crate do not.
                "BYSECOND" => parts.by_second = parse_list(&name, raw, 0, 59, false)?,
                "BYSETPOS" => parts.by_set_pos = parse_list(&name, raw, 1, 366, true)?,
                _ => return Err(format!("{name} is not an RRULE part this system supports")),
            }
        }

        parts.frequency = frequency.ok_or("FREQ is required")?;
        if let Some(interval) = interval {
            parts.interval = checked_interval(i64::from(interval))
                .ok_or_else(|| format!("INTERVAL must be between 1 and {MAX_INTERVAL}"))?;
        }
        parts.end = match (count, until) {
            (Some(_), Some(_)) => return Err("COUNT and UNTIL cannot both be set".to_owned()),
            (Some(0), None) => return Err("COUNT must be at least 1".to_owned()),
            (Some(count), None) => Some(End::Count(count)),
            (None, Some(until)) => Some(End::Until(until)),
            (None, None) => None,
        };
        parts.check()?;
        Ok(parts)
    }

    /// The RFC 5545 constraints between parts (section 3.3.10), checked before the rrule crate
    /// sees the rule so the reason names the part. `parse` calls it; the structured form builds
    /// only rules that pass it.
    pub(crate) fn check(&self) -> Result<(), String> {
        use Frequency::{Daily, Monthly, Weekly, Yearly};
        let freq = self.frequency.rrule_name();
        if !self.by_week_no.is_empty() && self.frequency != Yearly {
            return Err(format!(
                "BYWEEKNO is only allowed with FREQ=YEARLY, not {freq}"
            ));
        }
        if !self.by_year_day.is_empty() && self.frequency != Yearly {
            return Err(format!(
                "BYYEARDAY is only allowed with FREQ=YEARLY, not {freq}"
            ));
        }
        if !self.by_month_day.is_empty() && self.frequency == Weekly {
            return Err("BYMONTHDAY is not allowed with FREQ=WEEKLY".to_owned());
        }
        for day in &self.by_day {
            let Some(n) = day.ordinal else { continue };
            match self.frequency {
                Daily | Weekly => {
                    return Err(format!(
                        "BYDAY ordinals such as {n}{} need FREQ=MONTHLY or FREQ=YEARLY",
                        weekday_code(day.weekday)
                    ));
                }
                Yearly if !self.by_week_no.is_empty() => {
                    return Err("BYDAY ordinals are not allowed together with BYWEEKNO".to_owned());
                }
                // The rrule crate accepts -4..=5 in monthly rules (it computes -31 / 7 with
                // truncation); -5MO exists in the RFC but is refused here rather than passed
                // on to fail with the crate's message.
                Monthly if !(-4..=5).contains(&n) => {
                    return Err(format!(
                        "a BYDAY ordinal in a monthly rule must be 1 to 5 or -1 to -4, not {n}"
                    ));
                }
                Monthly | Yearly => {}
            }
        }
        // Not an RFC rule, but the commonest way to write a rule that never occurs (30 February,
        // 31 April); the expander would only find out after a long empty search.
        const MONTH_LENGTHS: [u8; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        if !self.by_month.is_empty()
            && !self.by_month_day.is_empty()
            && !self.by_month.iter().any(|&month| {
                self.by_month_day
                    .iter()
                    .any(|day| day.unsigned_abs() <= MONTH_LENGTHS[usize::from(month) - 1])
            })
        {
            return Err("no month in BYMONTH has any day in BYMONTHDAY".to_owned());
        }
        if !self.by_set_pos.is_empty()
            && self.by_month.is_empty()
            && self.by_week_no.is_empty()
            && self.by_year_day.is_empty()
            && self.by_month_day.is_empty()
            && self.by_day.is_empty()
            && self.by_hour.is_empty()
            && self.by_minute.is_empty()
            && self.by_second.is_empty()
        {
            return Err("BYSETPOS needs another BYxxx part to select from".to_owned());
        }
        Ok(())
    }

    /// The `UNTIL` instant, if the series ends at one.
    pub(crate) fn until(&self) -> Option<DateTime<Utc>> {
        match self.end {
            Some(End::Until(until)) => Some(until),
            _ => None,
        }
    }

    /// The `COUNT`, if the series ends after a number of occurrences.
    pub(crate) fn count(&self) -> Option<u32> {
        match self.end {
            Some(End::Count(count)) => Some(count),
            _ => None,
        }
    }

    /// Sorts and de-duplicates every list, so equal rules print equally.
    pub(crate) fn normalise(&mut self) {
        fn tidy<T: Ord>(list: &mut Vec<T>) {
            list.sort_unstable();
            list.dedup();
        }
        tidy(&mut self.by_month);
        tidy(&mut self.by_week_no);
        tidy(&mut self.by_year_day);
        tidy(&mut self.by_month_day);
        tidy(&mut self.by_hour);
        tidy(&mut self.by_minute);
        tidy(&mut self.by_second);
        tidy(&mut self.by_set_pos);
        self.by_day
            .sort_unstable_by_key(|d| (d.weekday.num_days_from_monday(), d.ordinal));
        self.by_day.dedup();
    }
}

/// The canonical text: parts in the order of RFC 5545's BYxxx expansion table (section 3.3.10,
/// BYMONTH through BYSETPOS), framed by FREQ and INTERVAL in front and WKST, COUNT and UNTIL
/// behind; defaults (`INTERVAL=1`, `WKST=MO`) left out; lists sorted; names in upper case;
/// `UNTIL` in UTC. Parsing this text gives back the same parts.
impl fmt::Display for RuleParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list<T: fmt::Display>(
            f: &mut fmt::Formatter<'_>,
            name: &str,
            items: &[T],
        ) -> fmt::Result {
            if items.is_empty() {
                return Ok(());
            }
            write!(f, ";{name}=")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_char(',')?;
                }
                write!(f, "{item}")?;
            }
            Ok(())
        }

        write!(f, "FREQ={}", self.frequency.rrule_name())?;
        if self.interval != 1 {
            write!(f, ";INTERVAL={}", self.interval)?;
        }
        list(f, "BYMONTH", &self.by_month)?;
        list(f, "BYWEEKNO", &self.by_week_no)?;
        list(f, "BYYEARDAY", &self.by_year_day)?;
        list(f, "BYMONTHDAY", &self.by_month_day)?;
        let by_day: Vec<String> = self
            .by_day
            .iter()
            .map(|d| match d.ordinal {
                Some(n) => format!("{n}{}", weekday_code(d.weekday)),
                None => weekday_code(d.weekday).to_owned(),
            })
            .collect();
        list(f, "BYDAY", &by_day)?;
        list(f, "BYHOUR", &self.by_hour)?;
        list(f, "BYMINUTE", &self.by_minute)?;
        list(f, "BYSECOND", &self.by_second)?;
        list(f, "BYSETPOS", &self.by_set_pos)?;
        if self.week_start != Weekday::Mon {
            write!(f, ";WKST={}", weekday_code(self.week_start))?;
        }
        match self.end {
            Some(End::Count(count)) => write!(f, ";COUNT={count}"),
            Some(End::Until(until)) => write!(f, ";UNTIL={}", until.format("%Y%m%dT%H%M%SZ")),
            None => Ok(()),
        }
    }
}

/// An interval as the rrule crate holds it, if it is in range.
pub(crate) fn checked_interval(value: i64) -> Option<u16> {
    u16::try_from(value)
        .ok()
        .filter(|v| (1..=MAX_INTERVAL).contains(&u32::from(*v)))
}

/// The RFC 5545 two-letter code of a weekday.
pub(crate) fn weekday_code(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

fn parse_weekday(code: &str) -> Option<Weekday> {
    Some(match code.to_ascii_uppercase().as_str() {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

fn parse_frequency(raw: &str) -> Result<Frequency, String> {
    match raw.to_ascii_uppercase().as_str() {
        "DAILY" => Ok(Frequency::Daily),
        "WEEKLY" => Ok(Frequency::Weekly),
        "MONTHLY" => Ok(Frequency::Monthly),
        "YEARLY" => Ok(Frequency::Yearly),
        // Tasks recur at most by the day; several times a day is BYHOUR/BYMINUTE on a daily
        // rule, which keeps every occurrence on a wall-clock time the rule names.
        "HOURLY" | "MINUTELY" | "SECONDLY" => Err(format!(
            "FREQ={} is not supported; use FREQ=DAILY with BYHOUR/BYMINUTE for several times a day",
            raw.to_ascii_uppercase()
        )),
        _ => Err(format!(
            "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY, not \"{raw}\""
        )),
    }
}

fn parse_number<T: std::str::FromStr>(name: &str, raw: &str) -> Result<T, String> {
    if !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{name} must be a positive whole number, not \"{raw}\""
        ));
    }
    raw.parse()
        .map_err(|_| format!("{name} is too large: \"{raw}\""))
}

/// Parses a comma-separated list of integers with magnitude in `min..=max`, negatives allowed
/// only where RFC 5545 allows counting from the end.
fn parse_list<T>(name: &str, raw: &str, min: i32, max: i32, signed: bool) -> Result<Vec<T>, String>
where
    T: TryFrom<i32>,
{
    let range = if signed {
        format!("{min} to {max} or -{max} to -{min}")
    } else {
        format!("{min} to {max}")
    };
    raw.split(',')
        .map(|item| {
            let item = item.trim();
            let digits = item.strip_prefix(['+', '-']).unwrap_or(item);
            let value = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                item.parse::<i32>().ok()
            } else {
                None
            };
            let value = value.filter(|v| {
                (min..=max).contains(v) || (signed && (-max..=-min).contains(v) && *v != 0)
            });
            value
                .and_then(|v| T::try_from(v).ok())
                .ok_or_else(|| format!("{name} values must be {range}, not \"{item}\""))
        })
        .collect()
}

fn parse_by_day(raw: &str) -> Result<Vec<ByDay>, String> {
    raw.split(',')
        .map(|item| {
            let item = item.trim();
            let bad = || {
                format!(
                    "BYDAY entries are a weekday (MO..SU), optionally after an ordinal \
                     such as 2TU or -1FR; \"{item}\" is not one"
                )
            };
            // Split on a character boundary: the code is the last two ASCII letters.
            if item.len() < 2 || !item.is_char_boundary(item.len() - 2) {
                return Err(bad());
            }
            let (number, code) = item.split_at(item.len() - 2);
            let weekday = parse_weekday(code).ok_or_else(bad)?;
            let ordinal = if number.is_empty() {
                None
            } else {
                let digits = number.strip_prefix(['+', '-']).unwrap_or(number);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                let n: i32 = number.parse().map_err(|_| bad())?;
                if n == 0 || !(-53..=53).contains(&n) {
                    return Err(format!(
                        "a BYDAY ordinal must be 1 to 53 or -53 to -1, not {n}"
                    ));
                }
                Some(i8::try_from(n).map_err(|_| bad())?)
            };
            Ok(ByDay { ordinal, weekday })
        })
        .collect()
}

/// Parses `UNTIL`: `YYYYMMDDTHHMMSSZ` (UTC, the RFC's form when DTSTART has a zone),
/// `YYYYMMDDTHHMMSS` (local, read in the pattern's zone) or `YYYYMMDD` (through the end of
/// that local day, which is what someone writing a date means).
fn parse_until(raw: &str, zone: Timezone) -> Result<DateTime<Utc>, String> {
    let bad = || until_format_error(raw);
    let upper = raw.to_ascii_uppercase();
    if let Some(utc) = upper.strip_suffix('Z') {
        let utc = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").map_err(|_| bad())?;
        check_shape(utc, raw)?;
        return Ok(utc.and_utc());
    }
    let local = if upper.contains('T') {
        NaiveDateTime::parse_from_str(&upper, "%Y%m%dT%H%M%S").map_err(|_| bad())?
    } else {
        NaiveDate::parse_from_str(&upper, "%Y%m%d")
            .map_err(|_| bad())?
            .and_hms_opt(23, 59, 59)
            .ok_or_else(bad)?
    };
    check_shape(local, raw)?;
    Ok(resolve_utc(zone, local))
}

fn until_format_error(raw: &str) -> String {
    format!("UNTIL must be YYYYMMDD, YYYYMMDDTHHMMSS or YYYYMMDDTHHMMSSZ, not \"{raw}\"")
}

/// chrono's parser accepts unpadded fields (`2026318`); the RFC form is fixed-width. Years
/// outside the supported range are refused here with their own reason.
fn check_shape(value: NaiveDateTime, raw: &str) -> Result<(), String> {
    let digits = raw.bytes().filter(u8::is_ascii_digit).count();
    if digits != 8 && digits != 14 {
        return Err(until_format_error(raw));
    }
    let year = chrono::Datelike::year(&value);
    if !(super::MIN_YEAR..=super::MAX_YEAR).contains(&year) {
        return Err(format!(
            "UNTIL must be in the years {} to {}, not {year}",
            super::MIN_YEAR,
            super::MAX_YEAR
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> Result<String, String> {
        let zone = Timezone::parse("America/New_York").unwrap();
        RuleParts::parse(text, zone).map(|mut p| {
            p.normalise();
            p.to_string()
        })
    }

    #[test]
    fn the_rrule_prefix_case_and_part_order_do_not_matter() {
        let expected = "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;COUNT=4";
        for text in [
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;COUNT=4",
            "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;COUNT=4",
            "rrule:count=4;byday=we,mo,MO;interval=2;freq=weekly;",
            "  FREQ=WEEKLY; INTERVAL=2 ;BYDAY=WE,MO;COUNT=4  ",
        ] {
            assert_eq!(canonical(text).as_deref(), Ok(expected), "{text}");
        }
    }

    #[test]
    fn defaults_are_left_out_and_ordinals_keep_their_number() {
        assert_eq!(
            canonical("FREQ=MONTHLY;INTERVAL=1;WKST=MO;BYDAY=+1MO,-1FR").as_deref(),
            Ok("FREQ=MONTHLY;BYDAY=1MO,-1FR")
        );
    }

    #[test]
    fn parts_follow_the_rfc_expansion_order() {
        assert_eq!(
            canonical(
                "UNTIL=20261231T235959Z;BYSETPOS=-1;WKST=SU;BYSECOND=0;BYMINUTE=30;BYHOUR=9;\
                 BYDAY=MO,TU;BYMONTHDAY=1,2;BYMONTH=3;FREQ=MONTHLY"
            )
            .as_deref(),
            Ok(
                "FREQ=MONTHLY;BYMONTH=3;BYMONTHDAY=1,2;BYDAY=MO,TU;BYHOUR=9;BYMINUTE=30;\
                BYSECOND=0;BYSETPOS=-1;WKST=SU;UNTIL=20261231T235959Z"
            )
        );
    }

    #[test]
    fn a_local_or_date_until_becomes_utc() {
        // 2026-07-01 is on EDT (UTC-4).
        assert_eq!(
            canonical("FREQ=DAILY;UNTIL=20260701T090000").as_deref(),
            Ok("FREQ=DAILY;UNTIL=20260701T130000Z")
        );
        assert_eq!(
            canonical("FREQ=DAILY;UNTIL=20260701").as_deref(),
            Ok("FREQ=DAILY;UNTIL=20260702T035959Z")
        );
    }

    #[test]
    fn malformed_rules_are_refused_with_the_part_named() {
        let cases = [
            ("", "FREQ is required"),
            ("FREQ=FORTNIGHTLY", "FREQ must be"),
            ("FREQ=HOURLY", "FREQ=HOURLY is not supported"),
            ("FREQ=DAILY;FREQ=WEEKLY", "FREQ is given more than once"),
            ("FREQ=DAILY;INTERVAL=0", "INTERVAL must be between 1"),
            (
                "FREQ=DAILY;INTERVAL=-2",
                "INTERVAL must be a positive whole number",
            ),
            ("FREQ=DAILY;COUNT=0", "COUNT must be at least 1"),
            (
                "FREQ=DAILY;COUNT=3;UNTIL=20300101T000000Z",
                "COUNT and UNTIL",
            ),
            ("FREQ=DAILY;UNTIL=2030-01-01", "UNTIL must be YYYYMMDD"),
            ("FREQ=DAILY;UNTIL=2030011", "UNTIL must be YYYYMMDD"),
            (
                "FREQ=DAILY;UNTIL=18000101",
                "UNTIL must be in the years 1900 to 9999",
            ),
            ("FREQ=WEEKLY;BYDAY=XXMO", "\"XXMO\" is not one"),
            ("FREQ=WEEKLY;BYDAY=éM", "is not one"),
            ("FREQ=WEEKLY;BYDAY=2TU", "need FREQ=MONTHLY or FREQ=YEARLY"),
            ("FREQ=MONTHLY;BYDAY=0MO", "1 to 53"),
            ("FREQ=MONTHLY;BYDAY=6MO", "1 to 5 or -1 to -4"),
            ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY values must be"),
            ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY values must be"),
            (
                "FREQ=WEEKLY;BYMONTHDAY=1",
                "BYMONTHDAY is not allowed with FREQ=WEEKLY",
            ),
            ("FREQ=MONTHLY;BYYEARDAY=1", "BYYEARDAY is only allowed"),
            ("FREQ=MONTHLY;BYWEEKNO=1", "BYWEEKNO is only allowed"),
            ("FREQ=YEARLY;BYMONTH=13", "BYMONTH values must be 1 to 12"),
            (
                "FREQ=YEARLY;BYMONTH=2,4;BYMONTHDAY=31,-31",
                "no month in BYMONTH has any day",
            ),
            ("FREQ=DAILY;BYHOUR=24", "BYHOUR values must be 0 to 23"),
            ("FREQ=DAILY;BYSETPOS=1", "BYSETPOS needs another"),
            ("FREQ=DAILY;X-NAME=1", "X-NAME is not an RRULE part"),
            ("FREQ=DAILY;BYDAY=", "BYDAY has no value"),
            ("FREQ", "is not NAME=VALUE"),
            (
                "DTSTART:20260101T090000\nRRULE:FREQ=DAILY",
                "give only the RRULE value",
            ),
        ];
        for (text, expected) in cases {
            let err = canonical(text).unwrap_err();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }
}
