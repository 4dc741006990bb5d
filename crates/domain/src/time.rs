//! Instants as the system stores and sends them.

use std::fmt;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, SubsecRound, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::field::Invalid;

/// A UTC instant at microsecond precision, written as RFC 3339 (`2026-01-08T12:34:56Z`).
///
/// Microseconds because that is what PostgreSQL's `timestamptz` keeps: a finer instant would
/// come back from the database different from the one put into an event or a page cursor, and
/// a keyset cursor that does not match its row exactly skips or repeats rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

const RFC3339_EXPECTED: &str = "an RFC 3339 date-time with a UTC offset, e.g. 2026-01-08T12:34:56Z or 2026-01-08T14:34:56+02:00";

impl Timestamp {
    /// Parses RFC 3339 text with an offset (`Z` or `±hh:mm`; a date-time without one is
    /// ambiguous and rejected), converts it to UTC and drops digits below the microsecond.
    /// Leap seconds (`:60`) are rejected: PostgreSQL and most clients cannot represent them.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let parsed = DateTime::parse_from_rfc3339(text.trim()).map_err(|_| Invalid::Format {
            expected: RFC3339_EXPECTED,
        })?;
        if parsed.nanosecond() >= 1_000_000_000 {
            return Err(Invalid::Format {
                expected: RFC3339_EXPECTED,
            });
        }
        Ok(Self::from_datetime(parsed.with_timezone(&Utc)))
    }

    /// The instant, with digits below the microsecond dropped.
    pub fn from_datetime(instant: DateTime<Utc>) -> Self {
        Self(instant.trunc_subsecs(6))
    }

    /// An instant read from PostgreSQL as `(col AT TIME ZONE 'UTC')`, the form in which Spin's
    /// PostgreSQL interface can read a `timestamptz` column.
    pub fn from_naive_utc(naive: NaiveDateTime) -> Self {
        Self::from_datetime(naive.and_utc())
    }

    /// The instant as a UTC `NaiveDateTime`, to bind as `($1::timestamp AT TIME ZONE 'UTC')`.
    pub fn naive_utc(self) -> NaiveDateTime {
        self.0.naive_utc()
    }

    /// The instant as a chrono `DateTime`.
    pub fn as_datetime(self) -> DateTime<Utc> {
        self.0
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(instant: DateTime<Utc>) -> Self {
        Self::from_datetime(instant)
    }
}

impl From<Timestamp> for DateTime<Utc> {
    fn from(timestamp: Timestamp) -> Self {
        timestamp.0
    }
}

/// RFC 3339 in UTC with `Z`, and only as many fractional digits as needed (none, 3 or 6).
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_offset_is_converted_to_utc() {
        let t = Timestamp::parse("2026-01-10T20:00:00+02:00").unwrap();
        assert_eq!(t.to_string(), "2026-01-10T18:00:00Z");
    }

    #[test]
    fn a_date_time_without_an_offset_is_rejected() {
        assert!(matches!(
            Timestamp::parse("2026-01-10T18:00:00"),
            Err(Invalid::Format { .. })
        ));
        assert!(Timestamp::parse("2026-01-10").is_err());
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn digits_below_the_microsecond_are_dropped() {
        let t = Timestamp::parse("2026-01-10T18:00:00.123456789Z").unwrap();
        assert_eq!(t.to_string(), "2026-01-10T18:00:00.123456Z");
        let t = Timestamp::parse("2026-01-10T18:00:00.5Z").unwrap();
        assert_eq!(t.to_string(), "2026-01-10T18:00:00.500Z");
    }

    #[test]
    fn a_leap_second_is_rejected() {
        assert!(Timestamp::parse("2016-12-31T23:59:60Z").is_err());
    }

    #[test]
    fn it_round_trips_through_the_naive_utc_form_the_database_uses() {
        let t = Timestamp::parse("2026-01-10T18:00:00.000042Z").unwrap();
        assert_eq!(Timestamp::from_naive_utc(t.naive_utc()), t);
    }

    proptest! {
        #[test]
        fn display_then_parse_gives_the_same_instant(
            secs in 0i64..253_402_300_799, micros in 0u32..1_000_000,
        ) {
            let t = Timestamp::from_datetime(DateTime::from_timestamp(secs, micros * 1000).unwrap());
            prop_assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
        }
    }
}
