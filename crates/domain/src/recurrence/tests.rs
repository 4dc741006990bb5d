//! Examples of the rules users write, around the daylight-saving changes of the zones that make
//! them hard, and property tests of what every expansion must satisfy.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::*;

fn local(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").unwrap()
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn zone(name: &str) -> Timezone {
    Timezone::parse(name).unwrap()
}

fn raw(rule: &str, start: &str, tz: &str) -> RecurrenceRule {
    RecurrenceRule::parse(rule, local(start), zone(tz), &[])
        .unwrap_or_else(|err| panic!("{rule}: {err}"))
}

fn texts(occurrences: &[DateTime<Tz>]) -> Vec<String> {
    occurrences.iter().map(format_rfc3339).collect()
}

fn first(rule: &RecurrenceRule, n: usize) -> Vec<String> {
    texts(&rule.first_n(n).unwrap())
}

fn structured(frequency: &str, start: &str, tz: &str) -> StructuredRecurrence {
    StructuredRecurrence {
        frequency: frequency.to_owned(),
        interval: None,
        days_of_week: Vec::new(),
        day_of_month: None,
        end_date: None,
        max_occurrences: None,
        timezone: zone(tz),
        start: local(start),
    }
}

// --- Daylight-saving changes -------------------------------------------------------------

#[test]
fn nine_am_stays_nine_am_in_new_york_across_the_march_change() {
    let rule = raw("FREQ=DAILY", "2026-03-06T09:00:00", "America/New_York");
    assert_eq!(
        first(&rule, 4),
        [
            "2026-03-06T09:00:00-05:00",
            "2026-03-07T09:00:00-05:00",
            "2026-03-08T09:00:00-04:00",
            "2026-03-09T09:00:00-04:00",
        ]
    );
}

#[test]
fn nine_am_stays_nine_am_in_new_york_across_the_november_change() {
    let rule = raw(
        "FREQ=WEEKLY;BYDAY=SA,SU",
        "2026-10-31T09:00:00",
        "America/New_York",
    );
    assert_eq!(
        first(&rule, 3),
        [
            "2026-10-31T09:00:00-04:00",
            "2026-11-01T09:00:00-05:00",
            "2026-11-07T09:00:00-05:00",
        ]
    );
}

#[test]
fn a_time_skipped_in_march_moves_forward_by_the_gap_on_that_day_only() {
    let rule = raw("FREQ=DAILY", "2026-03-07T02:30:00", "America/New_York");
    assert_eq!(
        first(&rule, 3),
        [
            "2026-03-07T02:30:00-05:00",
            "2026-03-08T03:30:00-04:00",
            "2026-03-09T02:30:00-04:00",
        ]
    );
}

#[test]
fn a_start_inside_the_gap_does_not_move_later_occurrences() {
    // The rrule crate, given this start in the real zone, would take 03:30 as the rule's time.
    let rule = raw("FREQ=DAILY", "2026-03-08T02:30:00", "America/New_York");
    assert_eq!(
        first(&rule, 2),
        ["2026-03-08T03:30:00-04:00", "2026-03-09T02:30:00-04:00"]
    );
}

#[test]
fn a_time_repeated_in_november_is_its_first_occurrence() {
    let rule = raw("FREQ=DAILY", "2026-10-31T01:30:00", "America/New_York");
    assert_eq!(
        first(&rule, 3),
        [
            "2026-10-31T01:30:00-04:00",
            "2026-11-01T01:30:00-04:00",
            "2026-11-02T01:30:00-05:00",
        ]
    );
}

#[test]
fn london_sunday_half_past_one_through_both_changes() {
    // Clocks go forward at 01:00 GMT on 29 March 2026 and back at 02:00 BST on 25 October.
    let spring = raw(
        "FREQ=WEEKLY;BYDAY=SU",
        "2026-03-22T01:30:00",
        "Europe/London",
    );
    assert_eq!(
        first(&spring, 3),
        [
            "2026-03-22T01:30:00+00:00",
            "2026-03-29T02:30:00+01:00",
            "2026-04-05T01:30:00+01:00",
        ]
    );
    let autumn = raw(
        "FREQ=WEEKLY;BYDAY=SU",
        "2026-10-18T01:30:00",
        "Europe/London",
    );
    assert_eq!(
        first(&autumn, 3),
        [
            "2026-10-18T01:30:00+01:00",
            "2026-10-25T01:30:00+01:00",
            "2026-11-01T01:30:00+00:00",
        ]
    );
}

#[test]
fn lord_howe_half_hour_changes_shift_by_half_an_hour() {
    // Lord Howe Island goes from +10:30 to +11:00 at 02:00 on 4 October 2026 and back at
    // 02:00 on 5 April 2026: the gap and the repeat are thirty minutes long.
    let gap = raw("FREQ=DAILY", "2026-10-03T02:15:00", "Australia/Lord_Howe");
    assert_eq!(
        first(&gap, 3),
        [
            "2026-10-03T02:15:00+10:30",
            "2026-10-04T02:45:00+11:00",
            "2026-10-05T02:15:00+11:00",
        ]
    );
    let repeat = raw("FREQ=DAILY", "2026-04-04T01:45:00", "Australia/Lord_Howe");
    assert_eq!(
        first(&repeat, 3),
        [
            "2026-04-04T01:45:00+11:00",
            "2026-04-05T01:45:00+11:00",
            "2026-04-06T01:45:00+10:30",
        ]
    );
    let morning = raw("FREQ=DAILY", "2026-04-04T09:00:00", "Australia/Lord_Howe");
    assert_eq!(
        first(&morning, 2),
        ["2026-04-04T09:00:00+11:00", "2026-04-05T09:00:00+10:30"]
    );
}

#[test]
fn a_gap_at_midnight_keeps_the_occurrence() {
    // Havana springs forward at midnight; the crate's own DST fallback would drop this day.
    let rule = raw("FREQ=DAILY", "2026-03-07T00:30:00", "America/Havana");
    assert_eq!(
        first(&rule, 3),
        [
            "2026-03-07T00:30:00-05:00",
            "2026-03-08T01:30:00-04:00",
            "2026-03-09T00:30:00-04:00",
        ]
    );
}

#[test]
fn a_skipped_time_and_the_time_it_moves_to_are_one_occurrence() {
    let rule = raw(
        "FREQ=DAILY;BYHOUR=2,3;BYMINUTE=30",
        "2026-03-07T02:30:00",
        "America/New_York",
    );
    assert_eq!(
        first(&rule, 4),
        [
            "2026-03-07T02:30:00-05:00",
            "2026-03-07T03:30:00-05:00",
            "2026-03-08T03:30:00-04:00",
            "2026-03-09T02:30:00-04:00",
        ]
    );
}

// --- Leap days and month ends ------------------------------------------------------------

#[test]
fn a_raw_leap_day_rule_falls_only_in_leap_years() {
    let rule = raw(
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        "2024-02-29T09:00:00",
        "UTC",
    );
    assert_eq!(
        first(&rule, 3),
        [
            "2024-02-29T09:00:00+00:00",
            "2028-02-29T09:00:00+00:00",
            "2032-02-29T09:00:00+00:00",
        ]
    );
    let from_start = raw("FREQ=YEARLY", "2024-02-29T09:00:00", "UTC");
    assert_eq!(first(&from_start, 3), first(&rule, 3));
}

#[test]
fn a_raw_leap_day_rule_skips_the_century_years_that_are_not_leap() {
    let rule = raw(
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        "2096-02-29T09:00:00",
        "UTC",
    );
    assert_eq!(
        first(&rule, 2),
        ["2096-02-29T09:00:00+00:00", "2104-02-29T09:00:00+00:00"]
    );
}

#[test]
fn a_structured_yearly_pattern_starting_on_a_leap_day_falls_back_to_the_28th() {
    let rule = RecurrenceRule::from_structured(&structured("yearly", "2024-02-29T09:00:00", "UTC"))
        .unwrap();
    assert_eq!(
        rule.as_str(),
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1"
    );
    assert_eq!(
        first(&rule, 5),
        [
            "2024-02-29T09:00:00+00:00",
            "2025-02-28T09:00:00+00:00",
            "2026-02-28T09:00:00+00:00",
            "2027-02-28T09:00:00+00:00",
            "2028-02-29T09:00:00+00:00",
        ]
    );
}

#[test]
fn raw_bymonthday_31_skips_months_without_a_31st() {
    let rule = raw(
        "FREQ=MONTHLY;BYMONTHDAY=31",
        "2026-01-31T08:00:00",
        "Europe/London",
    );
    assert_eq!(
        first(&rule, 4),
        [
            "2026-01-31T08:00:00+00:00",
            "2026-03-31T08:00:00+01:00",
            "2026-05-31T08:00:00+01:00",
            "2026-07-31T08:00:00+01:00",
        ]
    );
}

#[test]
fn structured_day_31_falls_on_the_last_day_of_every_month() {
    let fields = StructuredRecurrence {
        day_of_month: Some(31),
        ..structured("monthly", "2026-01-31T08:00:00", "Europe/London")
    };
    let rule = RecurrenceRule::from_structured(&fields).unwrap();
    assert_eq!(rule.as_str(), "FREQ=MONTHLY;BYMONTHDAY=-1");
    assert_eq!(
        first(&rule, 4),
        [
            "2026-01-31T08:00:00+00:00",
            "2026-02-28T08:00:00+00:00",
            "2026-03-31T08:00:00+01:00",
            "2026-04-30T08:00:00+01:00",
        ]
    );
    // Without day_of_month the start's day is used, with the same fallback.
    let implicit =
        RecurrenceRule::from_structured(&structured("monthly", "2026-01-31T08:00:00", "UTC"))
            .unwrap();
    assert_eq!(implicit.as_str(), "FREQ=MONTHLY;BYMONTHDAY=-1");
}

#[test]
fn structured_day_30_falls_on_the_last_day_of_february() {
    let fields = StructuredRecurrence {
        day_of_month: Some(30),
        ..structured("monthly", "2027-12-30T08:00:00", "UTC")
    };
    let rule = RecurrenceRule::from_structured(&fields).unwrap();
    assert_eq!(
        rule.as_str(),
        "FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1"
    );
    assert_eq!(
        first(&rule, 5),
        [
            "2027-12-30T08:00:00+00:00",
            "2028-01-30T08:00:00+00:00",
            "2028-02-29T08:00:00+00:00",
            "2028-03-30T08:00:00+00:00",
            "2028-04-30T08:00:00+00:00",
        ]
    );
}

#[test]
fn bymonthday_minus_one_is_the_last_day_of_each_month() {
    let rule = raw("FREQ=MONTHLY;BYMONTHDAY=-1", "2026-01-15T18:00:00", "UTC");
    assert_eq!(
        first(&rule, 3),
        [
            "2026-01-31T18:00:00+00:00",
            "2026-02-28T18:00:00+00:00",
            "2026-03-31T18:00:00+00:00",
        ]
    );
}

// --- Nth weekdays and BYSETPOS -----------------------------------------------------------

#[test]
fn the_second_tuesday_of_each_month() {
    let rule = raw(
        "FREQ=MONTHLY;BYDAY=2TU",
        "2026-01-01T10:00:00",
        "America/New_York",
    );
    assert_eq!(
        first(&rule, 4),
        [
            "2026-01-13T10:00:00-05:00",
            "2026-02-10T10:00:00-05:00",
            "2026-03-10T10:00:00-04:00",
            "2026-04-14T10:00:00-04:00",
        ]
    );
}

#[test]
fn the_last_friday_of_each_month() {
    let rule = raw(
        "FREQ=MONTHLY;BYDAY=-1FR",
        "2026-01-01T16:00:00",
        "Europe/London",
    );
    assert_eq!(
        first(&rule, 4),
        [
            "2026-01-30T16:00:00+00:00",
            "2026-02-27T16:00:00+00:00",
            "2026-03-27T16:00:00+00:00",
            "2026-04-24T16:00:00+01:00",
        ]
    );
}

#[test]
fn the_last_weekday_of_each_month_with_bysetpos() {
    let rule = raw(
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "2026-01-01T17:00:00",
        "UTC",
    );
    assert_eq!(
        first(&rule, 4),
        [
            "2026-01-30T17:00:00+00:00",
            "2026-02-27T17:00:00+00:00",
            "2026-03-31T17:00:00+00:00",
            "2026-04-30T17:00:00+00:00",
        ]
    );
}

#[test]
fn plain_and_ordinal_weekdays_together_mean_either() {
    // Every Friday, and the last Sunday, of each month (the rrule crate alone gives nothing).
    let rule = raw("FREQ=MONTHLY;BYDAY=FR,-1SU", "2026-01-20T12:00:00", "UTC");
    assert_eq!(
        first(&rule, 4),
        [
            "2026-01-23T12:00:00+00:00",
            "2026-01-25T12:00:00+00:00",
            "2026-01-30T12:00:00+00:00",
            "2026-02-06T12:00:00+00:00",
        ]
    );
    let yearly = raw("FREQ=YEARLY;BYDAY=1MO,SU", "2026-01-01T12:00:00", "UTC");
    assert_eq!(
        first(&yearly, 3),
        [
            "2026-01-04T12:00:00+00:00",
            "2026-01-05T12:00:00+00:00",
            "2026-01-11T12:00:00+00:00",
        ]
    );
}

#[test]
fn the_fourth_thursday_of_november_each_year() {
    let rule = raw(
        "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH",
        "2026-01-01T12:00:00",
        "UTC",
    );
    assert_eq!(
        first(&rule, 2),
        ["2026-11-26T12:00:00+00:00", "2027-11-25T12:00:00+00:00"]
    );
}

// --- COUNT, UNTIL and exception dates ----------------------------------------------------

#[test]
fn count_includes_a_start_that_matches() {
    let rule = raw("FREQ=DAILY;COUNT=3", "2026-01-01T09:00:00", "UTC");
    assert_eq!(
        first(&rule, 10),
        [
            "2026-01-01T09:00:00+00:00",
            "2026-01-02T09:00:00+00:00",
            "2026-01-03T09:00:00+00:00",
        ]
    );
}

#[test]
fn count_skips_a_start_that_does_not_match() {
    // 7 January 2026 is a Wednesday: it is not a Monday, so it is neither returned nor counted.
    let rule = raw("FREQ=WEEKLY;BYDAY=MO;COUNT=2", "2026-01-07T09:00:00", "UTC");
    assert_eq!(
        first(&rule, 10),
        ["2026-01-12T09:00:00+00:00", "2026-01-19T09:00:00+00:00"]
    );
}

#[test]
fn until_is_inclusive() {
    // 09:00 in New York on 3 January is 14:00 UTC.
    let rule = raw(
        "FREQ=DAILY;UNTIL=20260103T140000Z",
        "2026-01-01T09:00:00",
        "America/New_York",
    );
    assert_eq!(rule.first_n(10).unwrap().len(), 3);
    let before = raw(
        "FREQ=DAILY;UNTIL=20260103T135959Z",
        "2026-01-01T09:00:00",
        "America/New_York",
    );
    assert_eq!(before.first_n(10).unwrap().len(), 2);
}

#[test]
fn until_as_a_date_includes_that_whole_local_day() {
    let rule = raw(
        "FREQ=DAILY;UNTIL=20260103",
        "2026-01-01T21:00:00",
        "America/New_York",
    );
    assert_eq!(rule.as_str(), "FREQ=DAILY;UNTIL=20260104T045959Z");
    assert_eq!(
        first(&rule, 10).last().map(String::as_str),
        Some("2026-01-03T21:00:00-05:00")
    );
}

#[test]
fn exdates_remove_their_occurrences_but_still_count() {
    let rule = RecurrenceRule::parse(
        "FREQ=DAILY;COUNT=3",
        local("2026-01-01T09:00:00"),
        zone("Europe/London"),
        &[local("2026-01-02T09:00:00"), local("2026-01-02T10:00:00")],
    )
    .unwrap();
    assert_eq!(
        first(&rule, 10),
        ["2026-01-01T09:00:00+00:00", "2026-01-03T09:00:00+00:00"]
    );
}

#[test]
fn an_exdate_at_a_skipped_time_removes_the_shifted_occurrence() {
    let rule = RecurrenceRule::parse(
        "FREQ=DAILY",
        local("2026-03-07T02:30:00"),
        zone("America/New_York"),
        &[local("2026-03-08T02:30:00")],
    )
    .unwrap();
    assert_eq!(
        first(&rule, 2),
        ["2026-03-07T02:30:00-05:00", "2026-03-09T02:30:00-04:00"]
    );
}

#[test]
fn with_exdates_adds_to_the_existing_ones() {
    let rule = raw("FREQ=DAILY", "2026-01-01T09:00:00", "UTC")
        .with_exdates([local("2026-01-03T09:00:00")])
        .unwrap()
        .with_exdates([local("2026-01-02T09:00:00"), local("2026-01-03T09:00:00")])
        .unwrap();
    assert_eq!(
        rule.exdates(),
        [local("2026-01-02T09:00:00"), local("2026-01-03T09:00:00")]
    );
    assert_eq!(first(&rule, 2)[1], "2026-01-04T09:00:00+00:00");
}

// --- Ranges ------------------------------------------------------------------------------

#[test]
fn occurrences_between_includes_from_excludes_to_and_stops_at_the_limit() {
    let rule = raw("FREQ=DAILY", "2026-01-01T09:00:00", "UTC");
    let between = rule
        .occurrences_between(utc("2026-01-02T09:00:00Z"), utc("2026-01-05T09:00:00Z"), 10)
        .unwrap();
    assert_eq!(
        texts(&between),
        [
            "2026-01-02T09:00:00+00:00",
            "2026-01-03T09:00:00+00:00",
            "2026-01-04T09:00:00+00:00",
        ]
    );
    let limited = rule
        .occurrences_between(utc("2026-01-02T09:00:00Z"), utc("2026-01-05T09:00:00Z"), 2)
        .unwrap();
    assert_eq!(limited.len(), 2);
}

#[test]
fn next_after_is_strictly_later_and_none_past_the_end() {
    let rule = raw("FREQ=WEEKLY;BYDAY=MO;COUNT=2", "2026-01-05T09:00:00", "UTC");
    let next = rule.next_after(utc("2026-01-05T09:00:00Z")).unwrap();
    assert_eq!(
        next.map(|o| format_rfc3339(&o)).as_deref(),
        Some("2026-01-12T09:00:00+00:00")
    );
    assert_eq!(rule.next_after(utc("2026-01-12T09:00:00Z")).unwrap(), None);
}

#[test]
fn a_pattern_started_decades_ago_expands_only_near_the_requested_range() {
    // 76 years of 24 occurrences a day is far beyond MAX_EXAMINED; expansion starts at the
    // period before the range instead of at the start.
    let hours = (0..24).map(|h| h.to_string()).collect::<Vec<_>>().join(",");
    let rule = raw(
        &format!("FREQ=DAILY;INTERVAL=3;BYHOUR={hours};BYMINUTE=0"),
        "1950-06-01T00:00:00",
        "Europe/London",
    );
    let month = rule
        .occurrences_between(
            utc("2026-03-01T00:00:00Z"),
            utc("2026-04-01T00:00:00Z"),
            10_000,
        )
        .unwrap();
    // 2026-03-03 is 27,669 days after 1950-06-01, a multiple of 3; March has ten such days.
    assert_eq!(
        month.first().map(format_rfc3339).as_deref(),
        Some("2026-03-03T00:00:00+00:00")
    );
    assert_eq!(month.len(), 10 * 24);
}

#[test]
fn a_rule_with_too_many_occurrences_is_refused_rather_than_spun() {
    let all = |n: u32| (0..n).map(|v| v.to_string()).collect::<Vec<_>>().join(",");
    let rule = raw(
        &format!(
            "FREQ=DAILY;BYHOUR={};BYMINUTE={};BYSECOND={}",
            all(24),
            all(60),
            all(60)
        ),
        "2026-01-01T00:00:00",
        "UTC",
    );
    let err = rule
        .occurrences_between(
            utc("2026-01-01T00:00:00Z"),
            utc("2026-02-01T00:00:00Z"),
            usize::MAX,
        )
        .unwrap_err();
    assert_eq!(err.field(), "rrule");
    assert!(matches!(err, RecurrenceError::ExpansionLimit { .. }));
}

// --- Normal form -------------------------------------------------------------------------

#[test]
fn structured_and_raw_forms_of_the_same_rule_normalise_to_the_same_text() {
    let start = "2026-03-02T09:00:00";
    let tz = "America/New_York";
    let pairs = [
        (
            StructuredRecurrence {
                interval: Some(2),
                days_of_week: vec![2, 0, 0],
                max_occurrences: Some(10),
                ..structured("weekly", start, tz)
            },
            "RRULE:COUNT=10;byday=WE,MO;INTERVAL=2;FREQ=WEEKLY",
        ),
        (
            StructuredRecurrence {
                day_of_month: Some(-1),
                ..structured("monthly", start, tz)
            },
            "FREQ=MONTHLY;BYMONTHDAY=-1",
        ),
        (
            StructuredRecurrence {
                end_date: Some(local("2026-06-30T09:00:00")),
                ..structured("Daily", start, tz)
            },
            "FREQ=DAILY;UNTIL=20260630T090000",
        ),
        (
            StructuredRecurrence {
                day_of_month: Some(15),
                ..structured("yearly", start, tz)
            },
            "FREQ=YEARLY;BYMONTHDAY=15;BYMONTH=3",
        ),
        (
            StructuredRecurrence {
                days_of_week: vec![0, 1, 2, 3, 4],
                ..structured("daily", start, tz)
            },
            "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;INTERVAL=1",
        ),
    ];
    for (fields, text) in pairs {
        let from_fields = RecurrenceRule::from_structured(&fields).unwrap();
        let from_text = raw(text, start, tz);
        assert_eq!(from_fields.as_str(), from_text.as_str(), "{text}");
        assert_eq!(from_fields, from_text);
    }
}

#[test]
fn the_canonical_text_parses_back_to_itself() {
    for text in [
        "FREQ=DAILY",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR;WKST=SU;COUNT=10",
        "FREQ=MONTHLY;BYDAY=1MO,-1FR",
        "FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        "FREQ=YEARLY;BYWEEKNO=-1,1;BYDAY=MO;UNTIL=20300101T000000Z",
        "FREQ=YEARLY;BYYEARDAY=-1,1,100;BYHOUR=8,20;BYMINUTE=15;BYSECOND=30",
    ] {
        let rule = raw(text, "2026-01-01T09:00:00", "Europe/London");
        assert_eq!(rule.as_str(), text);
        let again =
            RecurrenceRule::parse(rule.as_str(), rule.start(), rule.timezone(), rule.exdates())
                .unwrap();
        assert_eq!(again, rule);
    }
}

// --- Refusals ----------------------------------------------------------------------------

#[test]
fn structured_mistakes_are_refused_naming_their_field() {
    let base = || structured("weekly", "2026-03-03T09:00:00", "UTC");
    let cases = [
        (
            StructuredRecurrence {
                frequency: "fortnightly".into(),
                ..base()
            },
            "frequency",
        ),
        (
            StructuredRecurrence {
                frequency: "custom".into(),
                ..base()
            },
            "frequency",
        ),
        (
            StructuredRecurrence {
                interval: Some(0),
                ..base()
            },
            "interval",
        ),
        (
            StructuredRecurrence {
                interval: Some(-1),
                ..base()
            },
            "interval",
        ),
        (
            StructuredRecurrence {
                interval: Some(70_000),
                ..base()
            },
            "interval",
        ),
        (
            StructuredRecurrence {
                end_date: Some(local("2026-05-01T00:00:00")),
                max_occurrences: Some(3),
                ..base()
            },
            "max_occurrences",
        ),
        (
            StructuredRecurrence {
                max_occurrences: Some(0),
                ..base()
            },
            "max_occurrences",
        ),
        (
            StructuredRecurrence {
                days_of_week: vec![7],
                ..base()
            },
            "days_of_week",
        ),
        (
            StructuredRecurrence {
                days_of_week: vec![-1],
                ..base()
            },
            "days_of_week",
        ),
        (
            StructuredRecurrence {
                day_of_month: Some(3),
                ..base()
            },
            "day_of_month",
        ),
        (
            StructuredRecurrence {
                days_of_week: vec![1],
                ..structured("monthly", "2026-03-03T09:00:00", "UTC")
            },
            "days_of_week",
        ),
        (
            StructuredRecurrence {
                day_of_month: Some(0),
                ..structured("monthly", "2026-03-03T09:00:00", "UTC")
            },
            "day_of_month",
        ),
        (
            StructuredRecurrence {
                day_of_month: Some(-2),
                ..structured("monthly", "2026-03-03T09:00:00", "UTC")
            },
            "day_of_month",
        ),
        (
            StructuredRecurrence {
                day_of_month: Some(32),
                ..structured("yearly", "2026-03-03T09:00:00", "UTC")
            },
            "day_of_month",
        ),
        (
            StructuredRecurrence {
                end_date: Some(local("2026-03-02T09:00:00")),
                ..base()
            },
            "end_date",
        ),
        (
            // Tuesday start, Mondays only, over by Sunday: no occurrence at all.
            StructuredRecurrence {
                days_of_week: vec![0],
                end_date: Some(local("2026-03-08T09:00:00")),
                ..base()
            },
            "end_date",
        ),
        (
            StructuredRecurrence {
                start: local("1850-01-01T09:00:00"),
                ..base()
            },
            "start",
        ),
    ];
    for (fields, field) in cases {
        let err = RecurrenceRule::from_structured(&fields).unwrap_err();
        assert_eq!(err.field(), field, "{fields:?} gave {err}");
        assert!(!err.reason().is_empty());
        assert!(!err.code().is_empty());
    }
}

#[test]
fn raw_rule_mistakes_are_refused_naming_the_rrule_field() {
    let cases = [
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL must be between 1"),
        ("FREQ=DAILY;UNTIL=20250101T000000Z", "UNTIL is before start"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "no month in BYMONTH"),
        (
            "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=5;BYSETPOS=2",
            "no occurrence",
        ),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=40", "BYSETPOS"),
        (
            "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=31;BYDAY=2TU",
            "no occurrence",
        ),
        (
            "FREQ=MONTHLY;INTERVAL=4;BYMONTH=2",
            "every 4 months from January never reaches",
        ),
    ];
    for (text, reason) in cases {
        let err = RecurrenceRule::parse(text, local("2026-01-01T09:00:00"), Timezone::UTC, &[])
            .unwrap_err();
        assert_eq!(err.field(), "rrule", "{text}");
        assert!(err.reason().contains(reason), "{text}: {err}");
    }
    let err = RecurrenceRule::parse(
        "FREQ=DAILY",
        local("2026-01-01T09:00:00"),
        Timezone::UTC,
        &[local("0999-01-01T00:00:00")],
    )
    .unwrap_err();
    assert_eq!(err.field(), "exdates");
}

#[test]
fn the_error_display_names_the_field_then_the_reason() {
    let err = Timezone::parse("Mars/Olympus_Mons").unwrap_err();
    assert_eq!(
        err.to_string(),
        "timezone: \"Mars/Olympus_Mons\" is not an IANA time zone name (such as \"Europe/London\" or \"UTC\")"
    );
}

// --- Properties --------------------------------------------------------------------------

mod properties {
    use super::*;
    use proptest::prelude::*;

    const ZONES: &[&str] = &[
        "UTC",
        "America/New_York",
        "Europe/London",
        "Australia/Lord_Howe",
        "America/Havana",
        "America/Santiago",
        "Pacific/Apia",
        "Pacific/Chatham",
        "Asia/Kolkata",
        "Asia/Tehran",
    ];

    /// Times of day chosen to land in gaps and repeats somewhere in `ZONES`.
    const TIMES: &[(u32, u32)] = &[
        (0, 0),
        (0, 30),
        (1, 30),
        (1, 45),
        (2, 15),
        (2, 30),
        (3, 0),
        (9, 0),
        (23, 30),
    ];

    fn start() -> impl Strategy<Value = NaiveDateTime> {
        (2005i32..2035, 1u32..=12, 1u32..=31, 0..TIMES.len()).prop_map(|(y, m, d, t)| {
            let date = (0..4)
                .find_map(|back| NaiveDate::from_ymd_opt(y, m, d - back))
                .unwrap();
            date.and_hms_opt(TIMES[t].0, TIMES[t].1, 0).unwrap()
        })
    }

    fn structured_fields() -> impl Strategy<Value = StructuredRecurrence> {
        (
            0usize..4,
            1i64..=3,
            proptest::collection::vec(0i64..7, 0..4),
            prop_oneof![Just(None), (1i64..=31).prop_map(Some), Just(Some(-1))],
            prop_oneof![
                Just((None, None)),
                (1i64..=25).prop_map(|n| (None, Some(n))),
                (0i64..500).prop_map(|d| (Some(d), None)),
            ],
            0..ZONES.len(),
            start(),
        )
            .prop_map(
                |(f, interval, days, day_of_month, (end_days, count), z, start)| {
                    let frequency = ["daily", "weekly", "monthly", "yearly"][f];
                    let (days_of_week, day_of_month) = if f < 2 {
                        (days, None)
                    } else {
                        (Vec::new(), day_of_month)
                    };
                    StructuredRecurrence {
                        frequency: frequency.to_owned(),
                        interval: Some(interval),
                        days_of_week,
                        day_of_month,
                        end_date: end_days.map(|d| start + TimeDelta::days(d)),
                        max_occurrences: count,
                        timezone: zone(ZONES[z]),
                        start,
                    }
                },
            )
    }

    /// Raw rules from a grammar covering the parts users combine, without end conditions.
    fn raw_text() -> impl Strategy<Value = String> {
        let weekday = prop_oneof![
            Just("MO"),
            Just("TU"),
            Just("WE"),
            Just("TH"),
            Just("FR"),
            Just("SA"),
            Just("SU")
        ];
        (
            0usize..4,
            1u32..=4,
            proptest::collection::vec(
                (prop_oneof![Just(0i32), -2i32..=-1, 1i32..=4], weekday),
                0..3,
            ),
            proptest::collection::vec(prop_oneof![1i32..=31, -3i32..=-1], 0..3),
            proptest::collection::vec(1u32..=12, 0..2),
            // BYSETPOS=2 on one-element sets is a rule that never occurs: slow to refuse.
            prop_oneof![2 => Just(None), 1 => Just(Some(1)), 1 => Just(Some(-1))],
            prop_oneof![Just("MO"), Just("SU"), Just("WE")],
            0..3,
        )
            .prop_map(
                |(f, interval, by_day, by_month_day, by_month, set_pos, wkst, days_by)| {
                    // One way of picking days per rule: BYDAY and BYMONTHDAY together are mostly
                    // rules that never occur, which are refused only after a long search.
                    let by_day = if days_by == 1 { by_day } else { Vec::new() };
                    let by_month_day = if days_by == 2 {
                        by_month_day
                    } else {
                        Vec::new()
                    };
                    let freq = ["DAILY", "WEEKLY", "MONTHLY", "YEARLY"][f];
                    let mut text = format!("FREQ={freq};INTERVAL={interval};WKST={wkst}");
                    let ordinals_allowed = f >= 2;
                    let days: Vec<String> = by_day
                        .iter()
                        .map(|(n, d)| {
                            if *n == 0 || !ordinals_allowed {
                                (*d).to_owned()
                            } else {
                                format!("{n}{d}")
                            }
                        })
                        .collect();
                    if !days.is_empty() {
                        text += &format!(";BYDAY={}", days.join(","));
                    }
                    if f != 1 && !by_month_day.is_empty() {
                        let list: Vec<String> = by_month_day.iter().map(i32::to_string).collect();
                        text += &format!(";BYMONTHDAY={}", list.join(","));
                    }
                    if !by_month.is_empty() {
                        let list: Vec<String> = by_month.iter().map(u32::to_string).collect();
                        text += &format!(";BYMONTH={}", list.join(","));
                    }
                    if let Some(p) = set_pos
                        && (!days.is_empty() || !by_month_day.is_empty() || !by_month.is_empty())
                    {
                        text += &format!(";BYSETPOS={p}");
                    }
                    text
                },
            )
    }

    /// The local time a structured rule's occurrence must show: the start's, unless that time
    /// does not exist on the occurrence's day (or the day before, for a gap that crosses
    /// midnight or swallows a whole day).
    fn on_the_start_time(rule: &RecurrenceRule, occurrence: &DateTime<Tz>) -> bool {
        let time = rule.start().time();
        let shown = occurrence.naive_local();
        let missing = |date: NaiveDate| {
            rule.timezone()
                .tz()
                .from_local_datetime(&date.and_time(time))
                .earliest()
                .is_none()
        };
        shown.time() == time
            || missing(shown.date())
            || shown.date().pred_opt().is_some_and(missing)
    }

    /// Independently of the rrule crate: the local dates a structured rule without an end
    /// falls on, from `first` to `last`.
    fn oracle_dates(
        fields: &StructuredRecurrence,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Vec<NaiveDate> {
        let start = fields.start.date();
        let interval = fields.interval.unwrap_or(1);
        let days: Vec<u32> = if fields.days_of_week.is_empty() {
            Vec::new()
        } else {
            fields.days_of_week.iter().map(|d| *d as u32).collect()
        };
        let last_day = |date: NaiveDate| {
            let next = if date.month() == 12 {
                NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(date.year(), date.month() + 1, 1)
            };
            next.unwrap().pred_opt().unwrap().day()
        };
        let wanted_day = |date: NaiveDate| {
            let day = fields.day_of_month.unwrap_or(i64::from(start.day()));
            if day == -1 {
                last_day(date)
            } else {
                (day as u32).min(last_day(date))
            }
        };
        let months = |date: NaiveDate| {
            i64::from(date.year() - start.year()) * 12 + i64::from(date.month())
                - i64::from(start.month())
        };
        first
            .iter_days()
            .take_while(|d| *d <= last)
            .filter(|date| *date >= start)
            .filter(|date| match fields.frequency.as_str() {
                "daily" => {
                    (*date - start).num_days() % interval == 0
                        && (days.is_empty()
                            || days.contains(&date.weekday().num_days_from_monday()))
                }
                "weekly" => {
                    let week = |d: NaiveDate| {
                        d - TimeDelta::days(i64::from(d.weekday().num_days_from_monday()))
                    };
                    let weekday = date.weekday().num_days_from_monday();
                    (week(*date) - week(start)).num_days() / 7 % interval == 0
                        && if days.is_empty() {
                            weekday == start.weekday().num_days_from_monday()
                        } else {
                            days.contains(&weekday)
                        }
                }
                "monthly" => months(*date) % interval == 0 && date.day() == wanted_day(*date),
                _ => {
                    date.month() == start.month()
                        && i64::from(date.year() - start.year()) % interval == 0
                        && date.day() == wanted_day(*date)
                }
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn occurrences_increase_start_at_start_and_respect_count_and_until(fields in structured_fields()) {
            let rule = match RecurrenceRule::from_structured(&fields) {
                Ok(rule) => rule,
                // An end_date before the first matching day is refused; nothing to expand.
                Err(RecurrenceError::NoOccurrences { field: "end_date" }) => return Ok(()),
                Err(err) => return Err(TestCaseError::fail(err.to_string())),
            };
            let occurrences = rule.first_n(60).unwrap();
            prop_assert!(!occurrences.is_empty());
            let start = rule.timezone().resolve(rule.start());
            for pair in occurrences.windows(2) {
                prop_assert!(pair[0] < pair[1], "{} !< {}", pair[0], pair[1]);
            }
            for occurrence in &occurrences {
                prop_assert!(*occurrence >= start);
                if let Some(until) = rule.until() {
                    prop_assert!(occurrence.with_timezone(&Utc) <= until);
                }
                prop_assert!(on_the_start_time(&rule, occurrence), "{occurrence} for {}", rule.start());
            }
            if let Some(count) = rule.count() {
                prop_assert!(occurrences.len() <= count as usize);
            }
        }

        #[test]
        fn structured_rules_match_an_independent_calendar_and_miss_nothing(
            fields in structured_fields(),
            offset_days in 0i64..800,
            span_days in 1i64..120,
        ) {
            let fields = StructuredRecurrence { end_date: None, max_occurrences: None, ..fields };
            let rule = RecurrenceRule::from_structured(&fields).unwrap();
            let tz = rule.timezone();
            let from = tz.resolve(fields.start + TimeDelta::days(offset_days)).with_timezone(&Utc);
            let to = from + TimeDelta::days(span_days);
            let got = rule.occurrences_between(from, to, usize::MAX).unwrap();

            let first = from.with_timezone(&tz.tz()).date_naive() - TimeDelta::days(2);
            let last = to.with_timezone(&tz.tz()).date_naive() + TimeDelta::days(2);
            let mut expected: Vec<DateTime<Tz>> = oracle_dates(&fields, first, last)
                .into_iter()
                .map(|date| tz.resolve(date.and_time(fields.start.time())))
                .filter(|o| *o >= from && *o < to)
                .collect();
            expected.dedup();
            prop_assert_eq!(texts(&got), texts(&expected), "{}", rule.as_str());
        }

        #[test]
        fn starting_near_the_range_gives_what_walking_from_the_start_gives(
            text in raw_text(),
            start in start(),
            z in 0..ZONES.len(),
            offset_days in 0i64..3000,
            span_days in 1i64..400,
        ) {
            let Ok(rule) = RecurrenceRule::parse(&text, start, zone(ZONES[z]), &[]) else {
                // The grammar can write rules with no occurrence; those are refused, rightly.
                return Ok(());
            };
            // A COUNT too large to be reached changes no occurrence but makes expansion walk
            // from the start, as a rule with COUNT must.
            let walked = RecurrenceRule::parse(
                &format!("{text};COUNT={}", u32::MAX), start, zone(ZONES[z]), &[],
            ).unwrap();
            let from = rule.timezone().resolve(start + TimeDelta::days(offset_days)).with_timezone(&Utc);
            let to = from + TimeDelta::days(span_days);
            let near = rule.occurrences_between(from, to, usize::MAX).unwrap();
            if let Ok(all) = walked.occurrences_between(from, to, usize::MAX) {
                prop_assert_eq!(texts(&near), texts(&all), "{}", rule.as_str());
            }
        }

        #[test]
        fn the_canonical_text_round_trips(text in raw_text(), start in start(), z in 0..ZONES.len()) {
            let Ok(rule) = RecurrenceRule::parse(&text, start, zone(ZONES[z]), &[]) else {
                return Ok(());
            };
            let again = RecurrenceRule::parse(rule.as_str(), rule.start(), rule.timezone(), &[]).unwrap();
            prop_assert_eq!(again.as_str(), rule.as_str());
            prop_assert_eq!(again.first_n(20).unwrap(), rule.first_n(20).unwrap());
        }
    }
}
