//! Behaviour of maintenance-window calendars as a policy loader and the
//! planner use them: parse text, enumerate occurrences, find slots.
//!
//! Expected instants were computed independently (Python's `zoneinfo` for
//! UTC conversions, its `calendar` module for Patch Tuesdays) and pasted as
//! literals.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use fleetscope::rollout::calendar::{
    earliest_slot, format_duration, parse_duration, parse_timezone, Availability, Blackouts,
    CalendarError, Occurrence, Recurrence, Window,
};
use proptest::prelude::*;

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("test instants are valid RFC 3339")
}

fn date(text: &str) -> NaiveDate {
    text.parse().expect("test dates are valid")
}

fn window(recurrence: &str, duration: &str, zone: &str) -> Window {
    Window {
        recurrence: recurrence.parse().expect("test recurrences parse"),
        duration: parse_duration(duration).expect("test durations parse"),
        timezone: parse_timezone(zone).expect("test zones parse"),
    }
}

fn occ(start: &str, end: &str) -> Occurrence {
    Occurrence {
        start: utc(start),
        end: utc(end),
    }
}

fn first(w: &Window, from: &str) -> Occurrence {
    w.occurrences(utc(from))
        .next()
        .expect("windows recur forever")
}

fn blackouts(zone: &str, periods: &[(&str, &str, &str)]) -> Blackouts {
    let periods: Vec<(String, NaiveDate, NaiveDate)> = periods
        .iter()
        .map(|(name, from, to)| (name.to_string(), date(from), date(to)))
        .collect();
    Blackouts::new(parse_timezone(zone).expect("zone"), &periods).expect("valid blackouts")
}

const HORIZON: TimeDelta = TimeDelta::days(365 * 20);

// ---------------------------------------------------------------- DST ----

mod dst {
    use super::*;

    const NY: &str = "America/New_York";
    const BERLIN: &str = "Europe/Berlin";

    #[test]
    fn new_york_spring_forward_gap_moves_to_after_the_jump() {
        // 2026-03-08: 02:00 EST becomes 03:00 EDT (07:00 UTC).
        let w = window("daily at 02:30", "4h", NY);
        assert_eq!(
            first(&w, "2026-03-08T05:00:00Z"),
            occ("2026-03-08T07:00:00Z", "2026-03-08T11:00:00Z")
        );
        let w = window("daily at 02:00", "4h", NY);
        assert_eq!(
            first(&w, "2026-03-08T05:00:00Z").start,
            utc("2026-03-08T07:00:00Z")
        );
        // The day after, 02:30 exists again (EDT).
        let w = window("daily at 02:30", "4h", NY);
        let mut it = w.occurrences(utc("2026-03-08T05:00:00Z"));
        it.next();
        assert_eq!(
            it.next().map(|o| o.start),
            Some(utc("2026-03-09T06:30:00Z"))
        );
    }

    #[test]
    fn new_york_spring_forward_neighbours() {
        let before = window("daily at 01:30", "4h", NY);
        assert_eq!(
            first(&before, "2026-03-08T05:00:00Z"),
            occ("2026-03-08T06:30:00Z", "2026-03-08T10:30:00Z")
        );
        let after = window("daily at 03:30", "4h", NY);
        assert_eq!(
            first(&after, "2026-03-08T05:00:00Z"),
            occ("2026-03-08T07:30:00Z", "2026-03-08T11:30:00Z")
        );
        // A window that spans the jump still lasts 4 elapsed hours.
        let spanning = window("daily at 01:00", "4h", NY);
        assert_eq!(
            first(&spanning, "2026-03-08T05:00:00Z"),
            occ("2026-03-08T06:00:00Z", "2026-03-08T10:00:00Z")
        );
    }

    #[test]
    fn new_york_fall_back_fold_takes_the_earlier_instant() {
        // 2026-11-01: 02:00 EDT becomes 01:00 EST (06:00 UTC); 01:30 happens twice.
        let w = window("daily at 01:30", "4h", NY);
        assert_eq!(
            first(&w, "2026-11-01T04:00:00Z"),
            occ("2026-11-01T05:30:00Z", "2026-11-01T09:30:00Z")
        );
        // 4h from 01:00 EDT is 04:00 EST by the wall clock, 04:00 elapsed.
        let w = window("daily at 01:00", "4h", NY);
        assert_eq!(
            first(&w, "2026-11-01T04:00:00Z"),
            occ("2026-11-01T05:00:00Z", "2026-11-01T09:00:00Z")
        );
    }

    #[test]
    fn new_york_fall_back_neighbours() {
        let before = window("daily at 00:30", "4h", NY);
        assert_eq!(
            first(&before, "2026-11-01T04:00:00Z"),
            occ("2026-11-01T04:30:00Z", "2026-11-01T08:30:00Z")
        );
        let after = window("daily at 02:30", "4h", NY);
        assert_eq!(
            first(&after, "2026-11-01T04:00:00Z"),
            occ("2026-11-01T07:30:00Z", "2026-11-01T11:30:00Z")
        );
        let at_two = window("daily at 02:00", "1h", NY);
        assert_eq!(
            first(&at_two, "2026-11-01T04:00:00Z").start,
            utc("2026-11-01T07:00:00Z")
        );
    }

    #[test]
    fn berlin_spring_forward_gap_moves_to_after_the_jump() {
        // 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC).
        let w = window("daily at 02:30", "4h", BERLIN);
        assert_eq!(
            first(&w, "2026-03-28T23:00:00Z"),
            occ("2026-03-29T01:00:00Z", "2026-03-29T05:00:00Z")
        );
        let before = window("daily at 01:30", "4h", BERLIN);
        assert_eq!(
            first(&before, "2026-03-28T23:00:00Z"),
            occ("2026-03-29T00:30:00Z", "2026-03-29T04:30:00Z")
        );
        let after = window("daily at 03:30", "4h", BERLIN);
        assert_eq!(
            first(&after, "2026-03-28T23:00:00Z"),
            occ("2026-03-29T01:30:00Z", "2026-03-29T05:30:00Z")
        );
    }

    #[test]
    fn berlin_fall_back_fold_takes_the_earlier_instant() {
        // 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:30 happens twice.
        let w = window("daily at 02:30", "4h", BERLIN);
        assert_eq!(
            first(&w, "2026-10-24T22:00:00Z"),
            occ("2026-10-25T00:30:00Z", "2026-10-25T04:30:00Z")
        );
        let before = window("daily at 01:30", "4h", BERLIN);
        assert_eq!(
            first(&before, "2026-10-24T22:00:00Z"),
            occ("2026-10-24T23:30:00Z", "2026-10-25T03:30:00Z")
        );
        let after = window("daily at 03:30", "4h", BERLIN);
        assert_eq!(
            first(&after, "2026-10-24T22:00:00Z"),
            occ("2026-10-25T02:30:00Z", "2026-10-25T06:30:00Z")
        );
        let at_three = window("daily at 03:00", "1h", BERLIN);
        assert_eq!(
            first(&at_three, "2026-10-24T22:00:00Z").start,
            utc("2026-10-25T02:00:00Z")
        );
    }

    #[test]
    fn midnight_gap_in_santiago() {
        // 2026-09-06: America/Santiago jumps from 00:00 -04 to 01:00 -03
        // (04:00 UTC), so local midnight and 00:30 do not exist.
        let w = window("daily at 00:30", "1h", "America/Santiago");
        assert_eq!(
            first(&w, "2026-09-06T00:00:00Z"),
            occ("2026-09-06T04:00:00Z", "2026-09-06T05:00:00Z")
        );
        let b = blackouts(
            "America/Santiago",
            &[("cutover", "2026-09-06", "2026-09-07")],
        );
        assert_eq!(
            b.overlapping(utc("2026-09-06T03:00:00Z"), utc("2026-09-06T04:00:00Z")),
            None
        );
        assert_eq!(
            b.overlapping(utc("2026-09-06T04:00:00Z"), utc("2026-09-06T04:01:00Z")),
            Some("cutover")
        );
    }
}

// ------------------------------------------------------- recurrences ----

mod occurrences {
    use super::*;

    #[test]
    fn patch_tuesdays_2026_and_2027() {
        let expected = [
            "2026-01-13",
            "2026-02-10",
            "2026-03-10",
            "2026-04-14",
            "2026-05-12",
            "2026-06-09",
            "2026-07-14",
            "2026-08-11",
            "2026-09-08",
            "2026-10-13",
            "2026-11-10",
            "2026-12-08",
            "2027-01-12",
            "2027-02-09",
            "2027-03-09",
            "2027-04-13",
            "2027-05-11",
            "2027-06-08",
            "2027-07-13",
            "2027-08-10",
            "2027-09-14",
            "2027-10-12",
            "2027-11-09",
            "2027-12-14",
        ];
        let w = window("monthly second tue at 00:00", "1h", "UTC");
        let found: Vec<NaiveDate> = w
            .occurrences(utc("2026-01-01T00:00:00Z"))
            .take(expected.len())
            .map(|o| o.start.date_naive())
            .collect();
        let expected: Vec<NaiveDate> = expected.iter().map(|d| date(d)).collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn patch_tuesday_plus_four_belongs_to_the_month_of_its_base() {
        // Patch Tuesday 2026-06-09; +4d is Saturday 2026-06-13, 01:00 EDT.
        let w = window("monthly second tue +4d at 01:00", "6h", "America/New_York");
        for from in [
            "2026-06-10T12:00:00Z",
            "2026-06-12T23:00:00Z",
            "2026-06-13T06:00:00Z",
        ] {
            assert_eq!(
                first(&w, from),
                occ("2026-06-13T05:00:00Z", "2026-06-13T11:00:00Z"),
                "from {from}"
            );
        }
        // After it ends, the next is July's: Patch Tuesday 07-14, +4d = 07-18.
        assert_eq!(
            first(&w, "2026-06-13T11:00:00Z").start,
            utc("2026-07-18T05:00:00Z")
        );
    }

    #[test]
    fn large_offsets_cross_month_boundaries_in_order() {
        // Last Friday of January 2026 is the 30th; +27d is February 26,
        // which comes before February's own (last Friday 02-27, +27d = 03-26).
        let w = window("monthly last fri +27d at 00:00", "1h", "UTC");
        let starts: Vec<_> = w
            .occurrences(utc("2026-02-01T00:00:00Z"))
            .take(2)
            .map(|o| o.start)
            .collect();
        assert_eq!(
            starts,
            [utc("2026-02-26T00:00:00Z"), utc("2026-03-26T00:00:00Z")]
        );
        // First Monday of June 2026 is June 1; -3d is May 29.
        let w = window("monthly first mon -3d at 00:00", "1h", "UTC");
        assert_eq!(
            first(&w, "2026-05-20T00:00:00Z").start,
            utc("2026-05-29T00:00:00Z")
        );
    }

    #[test]
    fn monthly_day_skips_months_without_it() {
        let w = window("monthly 31 at 00:00", "1h", "UTC");
        let starts: Vec<_> = w
            .occurrences(utc("2026-03-31T00:30:00Z"))
            .take(4)
            .map(|o| o.start.date_naive())
            .collect();
        // March 31 is in progress at `from`, so it is included; April is skipped.
        assert_eq!(
            starts,
            [
                date("2026-03-31"),
                date("2026-05-31"),
                date("2026-07-31"),
                date("2026-08-31")
            ]
        );
    }

    #[test]
    fn weekly_and_daily_in_start_order() {
        let w = window("weekly sun,sat at 02:00", "4h", "Europe/Berlin");
        let starts: Vec<_> = w
            .occurrences(utc("2026-06-01T00:00:00Z"))
            .take(3)
            .map(|o| o.start)
            .collect();
        assert_eq!(
            starts,
            [
                utc("2026-06-06T00:00:00Z"),
                utc("2026-06-07T00:00:00Z"),
                utc("2026-06-13T00:00:00Z")
            ]
        );
        let w = window("weekly monday at 00:00", "1h", "UTC");
        assert_eq!(
            first(&w, "2026-06-02T00:00:00Z").start,
            utc("2026-06-08T00:00:00Z")
        );
    }

    #[test]
    fn occurrence_in_progress_is_included_and_ended_one_is_not() {
        let w = window("daily at 02:00", "4h", "UTC");
        assert_eq!(
            first(&w, "2026-06-01T05:59:59Z").start,
            utc("2026-06-01T02:00:00Z")
        );
        assert_eq!(
            first(&w, "2026-06-01T06:00:00Z").start,
            utc("2026-06-02T02:00:00Z")
        );
    }

    #[test]
    fn overlapping_occurrences_are_all_yielded() {
        let w = window("daily at 00:00", "30h", "UTC");
        let found: Vec<_> = w.occurrences(utc("2026-06-02T03:00:00Z")).take(2).collect();
        assert_eq!(
            found,
            [
                occ("2026-06-01T00:00:00Z", "2026-06-02T06:00:00Z"),
                occ("2026-06-02T00:00:00Z", "2026-06-03T06:00:00Z")
            ]
        );
    }

    #[test]
    fn long_windows_start_fast() {
        // A window longer than a year must not walk back day by day.
        let w = window("daily at 00:00", "400w", "UTC");
        assert_eq!(
            first(&w, "2030-01-01T00:00:00Z").start,
            utc("2022-05-04T00:00:00Z")
        );
    }
}

// ----------------------------------------------------- earliest_slot ----

mod slots {
    use super::*;

    fn weekend() -> Availability {
        // Saturday and Sunday 02:00-06:00 CEST = 00:00-04:00 UTC in June.
        Availability::Window(window("weekly sat,sun at 02:00", "4h", "Europe/Berlin"))
    }

    fn slot(
        a: &Availability,
        b: &Blackouts,
        not_before: &str,
        length: &str,
    ) -> Option<DateTime<Utc>> {
        earliest_slot(
            a,
            b,
            utc(not_before),
            parse_duration(length).expect("length"),
            HORIZON,
        )
    }

    #[test]
    fn fits_at_not_before() {
        let found = slot(&weekend(), &Blackouts::none(), "2026-06-06T01:00:00Z", "1h");
        assert_eq!(found, Some(utc("2026-06-06T01:00:00Z")));
        let found = slot(&weekend(), &Blackouts::none(), "2026-06-06T00:00:00Z", "4h");
        assert_eq!(found, Some(utc("2026-06-06T00:00:00Z")));
    }

    #[test]
    fn waits_for_the_next_occurrence() {
        let found = slot(&weekend(), &Blackouts::none(), "2026-06-03T12:00:00Z", "1h");
        assert_eq!(found, Some(utc("2026-06-06T00:00:00Z")));
    }

    #[test]
    fn moves_on_when_the_remainder_is_too_short() {
        let found = slot(&weekend(), &Blackouts::none(), "2026-06-06T03:30:00Z", "1h");
        assert_eq!(found, Some(utc("2026-06-07T00:00:00Z")));
        let found = slot(&weekend(), &Blackouts::none(), "2026-06-06T03:00:00Z", "1h");
        assert_eq!(found, Some(utc("2026-06-06T03:00:00Z")));
    }

    #[test]
    fn skips_occurrences_inside_a_blackout() {
        let b = blackouts(
            "Europe/Berlin",
            &[("summer party", "2026-06-06", "2026-06-08")],
        );
        let found = slot(&weekend(), &b, "2026-06-05T12:00:00Z", "1h");
        assert_eq!(found, Some(utc("2026-06-13T00:00:00Z")));
    }

    #[test]
    fn resumes_when_a_blackout_ends_mid_occurrence() {
        // 22:00-04:00 local (20:00-02:00 UTC); the blackout ends at local
        // midnight 2026-06-03 = 2026-06-02T22:00Z, inside the 06-02 occurrence.
        let nightly = Availability::Window(window("daily at 22:00", "6h", "Europe/Berlin"));
        let b = blackouts("Europe/Berlin", &[("release", "2026-06-01", "2026-06-03")]);
        assert_eq!(
            slot(&nightly, &b, "2026-06-01T12:00:00Z", "2h"),
            Some(utc("2026-06-02T22:00:00Z"))
        );
        // Four hours is exactly what is left.
        assert_eq!(
            slot(&nightly, &b, "2026-06-01T12:00:00Z", "4h"),
            Some(utc("2026-06-02T22:00:00Z"))
        );
        // Five is not: wait for the next night.
        assert_eq!(
            slot(&nightly, &b, "2026-06-01T12:00:00Z", "5h"),
            Some(utc("2026-06-03T20:00:00Z"))
        );
    }

    #[test]
    fn any_availability_only_avoids_blackouts() {
        let b = blackouts("Europe/Berlin", &[("freeze", "2026-12-19", "2027-01-04")]);
        assert_eq!(
            slot(&Availability::Any, &b, "2026-06-01T12:34:56Z", "3h"),
            Some(utc("2026-06-01T12:34:56Z"))
        );
        // Inside the freeze: the end, local midnight 2027-01-04 (CET).
        assert_eq!(
            slot(&Availability::Any, &b, "2026-12-25T00:00:00Z", "3h"),
            Some(utc("2027-01-03T23:00:00Z"))
        );
        // A batch that would run into the freeze waits for its end.
        assert_eq!(
            slot(&Availability::Any, &b, "2026-12-18T21:00:00Z", "3h"),
            Some(utc("2027-01-03T23:00:00Z"))
        );
        assert_eq!(
            slot(&Availability::Any, &b, "2026-12-18T20:00:00Z", "3h"),
            Some(utc("2026-12-18T20:00:00Z"))
        );
    }

    #[test]
    fn none_when_the_batch_is_longer_than_the_window() {
        assert_eq!(
            slot(
                &weekend(),
                &Blackouts::none(),
                "2026-06-01T00:00:00Z",
                "4h1s"
            ),
            None
        );
    }

    #[test]
    fn none_beyond_the_horizon() {
        let b = blackouts("UTC", &[("forever", "2026-01-01", "2100-01-01")]);
        assert_eq!(slot(&weekend(), &b, "2026-06-01T00:00:00Z", "1h"), None);
        assert_eq!(
            slot(&Availability::Any, &b, "2026-06-01T00:00:00Z", "1h"),
            None
        );
        let short = earliest_slot(
            &weekend(),
            &Blackouts::none(),
            utc("2026-06-01T00:00:00Z"),
            TimeDelta::hours(1),
            TimeDelta::days(4),
        );
        assert_eq!(short, None);
        let exact = earliest_slot(
            &weekend(),
            &Blackouts::none(),
            utc("2026-06-01T00:00:00Z"),
            TimeDelta::hours(1),
            TimeDelta::days(5),
        );
        assert_eq!(exact, Some(utc("2026-06-06T00:00:00Z")));
    }

    #[test]
    fn long_blackouts_are_skipped_in_one_jump() {
        // Ten years of nightly occurrences under a blackout: the search must
        // jump, not visit each one (this would take minutes otherwise).
        let nightly = Availability::Window(window("daily at 01:00", "2h", "UTC"));
        let b = blackouts("UTC", &[("decade", "2026-01-01", "2036-01-01")]);
        let found = slot(&nightly, &b, "2026-06-01T00:00:00Z", "1h");
        assert_eq!(found, Some(utc("2036-01-01T01:00:00Z")));
    }

    #[test]
    fn never_spans_two_overlapping_occurrences() {
        // Occurrences [d 00:00, d+1 06:00) overlap; 28h from 03:00 would fit
        // in their union but not in either one.
        let long = Availability::Window(window("daily at 00:00", "30h", "UTC"));
        assert_eq!(
            slot(&long, &Blackouts::none(), "2026-06-01T03:00:00Z", "28h"),
            Some(utc("2026-06-02T00:00:00Z"))
        );
    }

    #[test]
    fn blackout_dates_across_dst_changes() {
        // Berlin's spring day is 23 hours long, its autumn day 25.
        let b = blackouts(
            "Europe/Berlin",
            &[
                ("spring", "2026-03-29", "2026-03-30"),
                ("autumn", "2026-10-25", "2026-10-26"),
            ],
        );
        assert_eq!(
            b.overlapping(utc("2026-03-28T22:00:00Z"), utc("2026-03-28T23:00:00Z")),
            None
        );
        assert_eq!(
            b.overlapping(utc("2026-03-28T22:00:00Z"), utc("2026-03-28T23:00:01Z")),
            Some("spring")
        );
        assert_eq!(
            b.overlapping(utc("2026-03-29T22:00:00Z"), utc("2026-03-29T23:00:00Z")),
            None
        );
        assert_eq!(
            slot(&Availability::Any, &b, "2026-03-29T12:00:00Z", "1h"),
            Some(utc("2026-03-29T22:00:00Z"))
        );
        assert_eq!(
            slot(&Availability::Any, &b, "2026-10-25T12:00:00Z", "1h"),
            Some(utc("2026-10-25T23:00:00Z"))
        );
        assert_eq!(
            b.overlapping(utc("2026-10-24T21:00:00Z"), utc("2026-10-24T22:00:01Z")),
            Some("autumn")
        );
        // A window in New York and a blackout in Berlin's zone.
        let ny = Availability::Window(window("daily at 20:00", "4h", "America/New_York"));
        // 2026-03-29 20:00 EDT = 2026-03-30T00:00Z, after the blackout ends.
        assert_eq!(
            slot(&ny, &b, "2026-03-29T00:00:00Z", "1h"),
            Some(utc("2026-03-30T00:00:00Z"))
        );
    }

    #[test]
    fn blackout_must_not_be_empty() {
        let err = Blackouts::new(
            parse_timezone("UTC").expect("zone"),
            &[("oops".to_string(), date("2026-05-02"), date("2026-05-02"))],
        );
        let Err(err) = err else {
            panic!("an empty blackout must be rejected")
        };
        assert!(matches!(err, CalendarError::EmptyBlackout { ref name, .. } if name == "oops"));
        assert!(err.to_string().contains("blackout `oops`"));
    }

    #[test]
    fn overlapping_names_the_first_blackout() {
        let b = blackouts(
            "UTC",
            &[
                ("later", "2026-05-03", "2026-05-10"),
                ("earlier", "2026-05-01", "2026-05-05"),
            ],
        );
        assert_eq!(
            b.overlapping(utc("2026-05-04T00:00:00Z"), utc("2026-05-04T01:00:00Z")),
            Some("earlier")
        );
        assert_eq!(
            b.overlapping(utc("2026-05-06T00:00:00Z"), utc("2026-05-06T01:00:00Z")),
            Some("later")
        );
        assert_eq!(
            Blackouts::none().overlapping(utc("2026-05-06T00:00:00Z"), utc("2027-01-01T00:00:00Z")),
            None
        );
    }
}

// ------------------------------------------------------------ parsing ----

mod parsing {
    use super::*;

    fn parses_to(text: &str, canonical: &str) {
        let r: Recurrence = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(r.to_string(), canonical, "{text}");
    }

    fn error(text: &str) -> (usize, String, Option<String>, String) {
        match text.parse::<Recurrence>() {
            Err(e @ CalendarError::InvalidRecurrence { .. }) => {
                let message = e.to_string();
                let CalendarError::InvalidRecurrence {
                    column,
                    expected,
                    help,
                    ..
                } = e
                else {
                    unreachable!()
                };
                (column, expected, help, message)
            }
            other => panic!("{text}: expected a recurrence error, got {other:?}"),
        }
    }

    #[test]
    fn every_form_parses() {
        parses_to("daily at 02:00", "daily at 02:00");
        parses_to("weekly sat,sun at 02:00", "weekly sat,sun at 02:00");
        parses_to(
            "weekly Saturday , SUNDAY at 2:00",
            "weekly sat,sun at 02:00",
        );
        parses_to("weekly fri,mon,wed at 23:59", "weekly mon,wed,fri at 23:59");
        parses_to(
            "weekly monday,tuesday,wednesday,thursday,friday,saturday,sunday at 00:00",
            "weekly mon,tue,wed,thu,fri,sat,sun at 00:00",
        );
        parses_to("monthly 1 at 00:00", "monthly 1 at 00:00");
        parses_to("monthly 31 at 03:15", "monthly 31 at 03:15");
        parses_to("monthly first mon at 01:00", "monthly first mon at 01:00");
        parses_to(
            "monthly second tue +4d at 01:00",
            "monthly second tue +4d at 01:00",
        );
        parses_to(
            "monthly second tuesday+4d at 01:00",
            "monthly second tue +4d at 01:00",
        );
        parses_to(
            "monthly  second\ttue + 4d  at 01:00",
            "monthly second tue +4d at 01:00",
        );
        parses_to(
            "monthly third wed -27d at 01:00",
            "monthly third wed -27d at 01:00",
        );
        parses_to(
            "monthly fourth thu +27d at 01:00",
            "monthly fourth thu +27d at 01:00",
        );
        parses_to("monthly last fri at 18:00", "monthly last fri at 18:00");
        parses_to("monthly last sat -0d at 18:00", "monthly last sat at 18:00");
        parses_to("  DAILY AT 07:05  ", "daily at 07:05");
    }

    #[test]
    fn hour_out_of_range() {
        let (column, expected, help, message) = error("weekly sat at 25:00");
        assert_eq!(column, 15);
        assert_eq!(expected, "an hour from 00 to 23");
        assert!(help.is_some_and(|h| h.contains("00-23")));
        assert!(message.contains("column 15"), "{message}");
    }

    #[test]
    fn minutes_out_of_range() {
        let (column, expected, ..) = error("daily at 02:60");
        assert_eq!((column, expected.as_str()), (13, "minutes from 00 to 59"));
    }

    #[test]
    fn fifth_suggests_last() {
        let (column, expected, help, _) = error("monthly fifth fri at 01:00");
        assert_eq!(column, 9);
        assert!(expected.contains("`last`"), "{expected}");
        assert!(help.is_some_and(|h| h.contains("use `last`")));
    }

    #[test]
    fn offset_too_large() {
        let (column, expected, help, _) = error("monthly second tue +30d at 01:00");
        assert_eq!(column, 21);
        assert_eq!(expected, "an offset of at most 27 days");
        assert!(help.is_some_and(|h| h.contains("27 days")));
        let (column, ..) = error("monthly second tue -28d at 01:00");
        assert_eq!(column, 21);
    }

    #[test]
    fn offset_in_other_units() {
        let (column, expected, help, _) = error("monthly second tue +4h at 01:00");
        assert_eq!((column, expected.as_str()), (22, "the unit `d`"));
        assert!(help.is_some_and(|h| h.contains("+4d")));
    }

    #[test]
    fn missing_at() {
        let (column, expected, help, message) = error("daily 02:00");
        assert_eq!((column, expected.as_str()), (7, "`at`"));
        assert!(help.is_some_and(|h| h.contains("at 02:00")));
        assert_eq!(
            message,
            "recurrence `daily 02:00` is not valid at column 7: expected `at`, found `02` \
             (help: put `at` before the time, like `at 02:00`)"
        );
    }

    #[test]
    fn misspelt_weekday() {
        let (column, expected, help, _) = error("weekly sat,thurs at 01:00");
        assert_eq!(column, 12);
        assert!(expected.starts_with("a day of the week"));
        assert_eq!(help.as_deref(), Some("write `thu` or `thursday`"));
    }

    #[test]
    fn days_without_commas() {
        let (column, _, help, _) = error("weekly sat sun at 01:00");
        assert_eq!(column, 12);
        assert!(help.is_some_and(|h| h.contains("commas")));
    }

    #[test]
    fn duplicate_weekday() {
        let (column, _, help, _) = error("weekly sat,sun,saturday at 01:00");
        assert_eq!(column, 16);
        assert!(help.is_some_and(|h| h.contains("twice")));
    }

    #[test]
    fn bad_month_day() {
        assert_eq!(error("monthly 0 at 01:00").0, 9);
        assert_eq!(error("monthly 32 at 01:00").0, 9);
        let (_, _, help, _) = error("monthly 15th at 01:00");
        assert!(help.is_some_and(|h| h.contains("`15`")));
    }

    #[test]
    fn unknown_frequency_and_trailing_text() {
        let (column, expected, help, _) = error("hourly at 01:00");
        assert_eq!(
            (column, expected.as_str()),
            (1, "`daily`, `weekly` or `monthly`")
        );
        assert!(help.is_some());
        let (column, expected, ..) = error("daily at 01:00 sharp");
        assert_eq!((column, expected.as_str()), (16, "end of input"));
        assert_eq!(error("dailyat 01:00").0, 1);
        assert_eq!(error("").0, 1);
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let Err(CalendarError::InvalidRecurrence { column, offset, .. }) =
            "daily at ü".parse::<Recurrence>()
        else {
            panic!("must be rejected");
        };
        assert_eq!((column, offset), (10, 9));
        let Err(CalendarError::InvalidRecurrence { column, offset, .. }) =
            "weekly ü at 01:00".parse::<Recurrence>()
        else {
            panic!("must be rejected");
        };
        assert_eq!((column, offset), (8, 7));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("4h"), Ok(TimeDelta::hours(4)));
        assert_eq!(parse_duration("90m"), Ok(TimeDelta::minutes(90)));
        assert_eq!(parse_duration("1h30m"), Ok(TimeDelta::minutes(90)));
        assert_eq!(parse_duration("2d"), Ok(TimeDelta::days(2)));
        assert_eq!(parse_duration("1w"), Ok(TimeDelta::weeks(1)));
        assert_eq!(parse_duration("45s"), Ok(TimeDelta::seconds(45)));
        assert_eq!(parse_duration("0s"), Ok(TimeDelta::zero()));
        assert_eq!(parse_duration("0h"), Ok(TimeDelta::zero()));
        assert_eq!(format_duration(TimeDelta::hours(26)), "1d2h");
        assert_eq!(format_duration(TimeDelta::minutes(30)), "30m");
        assert_eq!(format_duration(TimeDelta::zero()), "0s");
        assert_eq!(format_duration(TimeDelta::seconds(694_861)), "1w1d1h1m1s");
    }

    #[test]
    fn duration_errors() {
        assert_eq!(parse_duration(""), Err(CalendarError::EmptyDuration));
        assert_eq!(parse_duration("   "), Err(CalendarError::EmptyDuration));
        assert!(matches!(
            parse_duration("-4h"),
            Err(CalendarError::NegativeDuration { .. })
        ));
        assert!(matches!(
            parse_duration("99999999999999999999h"),
            Err(CalendarError::DurationOverflow { .. })
        ));
        assert!(matches!(
            parse_duration("100000000000000w"),
            Err(CalendarError::DurationOverflow { .. })
        ));
        for (text, column) in [
            ("4", 2),
            ("4y", 2),
            ("1.5h", 2),
            ("4 hours", 2),
            ("h", 1),
            ("4h x", 4),
            ("4H", 2),
        ] {
            match parse_duration(text) {
                Err(CalendarError::InvalidDuration { column: found, .. }) => {
                    assert_eq!(found, column, "{text}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        let message = parse_duration("1.5h").map_err(|e| e.to_string());
        assert_eq!(
            message,
            Err("duration `1.5h` is not valid at column 2: expected a unit: `s`, `m`, `h`, `d` or `w` \
                 (help: fractions are not supported; write `1h30m` rather than `1.5h`)"
                .to_string())
        );
    }

    #[test]
    fn time_zones() {
        assert_eq!(parse_timezone("Europe/Berlin"), Ok(Tz::Europe__Berlin));
        assert_eq!(parse_timezone("UTC"), Ok(Tz::UTC));
        for (wrong, suggestion) in [
            ("Europe/Berln", Some("Europe/Berlin")),
            ("europe/berlin", Some("Europe/Berlin")),
            ("America/NewYork", Some("America/New_York")),
            ("Nowhere/Atlantis", None),
        ] {
            let err = parse_timezone(wrong);
            assert_eq!(
                err,
                Err(CalendarError::UnknownTimeZone {
                    name: wrong.to_string(),
                    suggestion: suggestion.map(str::to_string)
                })
            );
        }
        let message = parse_timezone("Europe/Berln").map_err(|e| e.to_string());
        assert!(message.is_err_and(|m| m.ends_with("did you mean `Europe/Berlin`?")));
    }
}

// ---------------------------------------------------------- properties ----

fn recurrence_text() -> impl Strategy<Value = String> {
    let day = prop::sample::select(vec![
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
        "Monday",
        "TUESDAY",
        "wednesday",
        "Thursday",
        "friday",
        "saturday",
        "sunday",
    ]);
    let time = (0u32..24, 0u32..60).prop_map(|(h, m)| format!("{h:02}:{m:02}"));
    let nth = prop::sample::select(vec!["first", "second", "third", "fourth", "last", "LAST"]);
    let offset = prop_oneof![
        Just(String::new()),
        (prop::bool::ANY, 0u32..=27, prop::bool::ANY).prop_map(|(neg, n, spaced)| {
            let sign = if neg { "-" } else { "+" };
            if spaced {
                format!(" {sign} {n}d")
            } else {
                format!("{sign}{n}d")
            }
        }),
    ];
    prop_oneof![
        time.clone().prop_map(|t| format!("daily at {t}")),
        (
            prop::collection::btree_set(0usize..7, 1..=7),
            prop::bool::ANY,
            time.clone()
        )
            .prop_map(|(days, long, t)| {
                let names = if long {
                    [
                        "monday",
                        "tuesday",
                        "wednesday",
                        "thursday",
                        "friday",
                        "saturday",
                        "sunday",
                    ]
                } else {
                    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                };
                let listed: Vec<&str> = days
                    .iter()
                    .rev()
                    .filter_map(|d| names.get(*d).copied())
                    .collect();
                format!("Weekly {} at {t}", listed.join(" , "))
            }),
        (1u32..=31, time.clone()).prop_map(|(n, t)| format!("monthly {n} at {t}")),
        (nth, day, offset, time).prop_map(|(n, d, o, t)| format!("monthly {n} {d}{o} at {t}")),
    ]
}

fn zone() -> impl Strategy<Value = Tz> {
    prop::sample::select(vec![
        Tz::UTC,
        Tz::Europe__Berlin,
        Tz::America__New_York,
        Tz::America__Santiago,
        Tz::Australia__Lord_Howe,
        Tz::Asia__Kolkata,
    ])
}

/// An instant between 2025 and 2029.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (1_735_689_600i64..1_861_920_000)
        .prop_map(|s| DateTime::from_timestamp(s, 0).unwrap_or_default())
}

/// The slot rule 5 describes, found the slow way: the earliest feasible
/// start is `not_before`, an occurrence start or a blackout end, so test
/// each such candidate in order.
fn reference_slot(
    w: &Window,
    blackouts: &[(DateTime<Utc>, DateTime<Utc>)],
    b: &Blackouts,
    not_before: DateTime<Utc>,
    length: TimeDelta,
    horizon: TimeDelta,
) -> Option<DateTime<Utc>> {
    let deadline = not_before + horizon;
    let mut candidates: Vec<DateTime<Utc>> = vec![not_before];
    candidates.extend(
        w.occurrences(not_before)
            .take_while(|o| o.start <= deadline)
            .map(|o| o.start),
    );
    candidates.extend(blackouts.iter().map(|(_, end)| *end));
    candidates.retain(|c| *c >= not_before && *c <= deadline);
    candidates.sort();
    candidates.into_iter().find(|s| {
        let end = *s + length;
        b.overlapping(*s, end).is_none()
            && w.occurrences(*s)
                .take_while(|o| o.start <= *s)
                .any(|o| o.start <= *s && end <= o.end)
    })
}

proptest! {
    #[test]
    fn recurrence_display_round_trips(text in recurrence_text()) {
        let parsed: Recurrence = text.parse().map_err(|e: CalendarError| TestCaseError::fail(e.to_string()))?;
        let printed = parsed.to_string();
        let reparsed: Recurrence = printed.parse().map_err(|e: CalendarError| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&reparsed, &parsed);
        prop_assert_eq!(reparsed.to_string(), printed);
    }

    #[test]
    fn duration_round_trips(seconds in 0i64..=10_000_000_000) {
        let d = TimeDelta::seconds(seconds);
        prop_assert_eq!(parse_duration(&format_duration(d)), Ok(d));
    }

    #[test]
    fn parsers_never_panic(text in "\\PC{0,40}") {
        let _ = text.parse::<Recurrence>();
        let _ = parse_duration(&text);
        let _ = parse_timezone(&text);
    }

    #[test]
    fn occurrences_are_sorted_and_last_their_duration(
        text in recurrence_text(),
        tz in zone(),
        minutes in 0i64..3000,
        from in instant(),
    ) {
        let w = Window {
            recurrence: text.parse().map_err(|e: CalendarError| TestCaseError::fail(e.to_string()))?,
            duration: TimeDelta::minutes(minutes),
            timezone: tz,
        };
        let found: Vec<Occurrence> = w.occurrences(from).take(40).collect();
        prop_assert_eq!(found.len(), 40);
        for pair in found.windows(2) {
            prop_assert!(pair[0].start < pair[1].start, "{:?}", pair);
        }
        for o in &found {
            prop_assert_eq!(o.end - o.start, w.duration);
        }
        prop_assert!(found[0].end > from);
        // The occurrence before the first one (if any) ended by `from`.
        let earlier = w.occurrences(found[0].start - TimeDelta::days(70)).take_while(|o| o.start < found[0].start).last();
        if let Some(before) = earlier {
            prop_assert!(before.end <= from, "{:?} {:?}", before, from);
        }
    }

    #[test]
    fn earliest_slot_matches_the_reference(
        text in recurrence_text(),
        tz in zone(),
        window_minutes in 0i64..2000,
        length_minutes in 0i64..600,
        not_before in instant(),
        raw_blackouts in prop::collection::vec((0i64..60, 1i64..10), 0..4),
    ) {
        let w = Window {
            recurrence: text.parse().map_err(|e: CalendarError| TestCaseError::fail(e.to_string()))?,
            duration: TimeDelta::minutes(window_minutes),
            timezone: tz,
        };
        let start_date = not_before.date_naive();
        let periods: Vec<(String, NaiveDate, NaiveDate)> = raw_blackouts
            .iter()
            .enumerate()
            .map(|(i, (from, days))| {
                let from = start_date + TimeDelta::days(*from - 5);
                (format!("b{i}"), from, from + TimeDelta::days(*days))
            })
            .collect();
        let b = Blackouts::new(tz, &periods).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // Blackout intervals for the oracle's candidates, computed from the
        // zone with chrono directly per the documented midnight rule.
        let ends: Vec<(DateTime<Utc>, DateTime<Utc>)> = periods
            .iter()
            .map(|(_, from, to)| (local_midnight(tz, *from), local_midnight(tz, *to)))
            .collect();
        let length = TimeDelta::minutes(length_minutes);
        let horizon = TimeDelta::days(90);
        let fast = earliest_slot(&Availability::Window(w.clone()), &b, not_before, length, horizon);
        let slow = reference_slot(&w, &ends, &b, not_before, length, horizon);
        prop_assert_eq!(fast, slow);
    }
}

/// Local midnight per the documented rule, computed with chrono directly:
/// the earliest instant whose local reading is midnight or later.
fn local_midnight(tz: Tz, d: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        chrono::LocalResult::None => {
            // Step forward minute by minute: fine for a test oracle, and
            // independent of the library's binary search.
            let mut probe = naive;
            loop {
                probe += TimeDelta::minutes(1);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    // Back off to the exact transition: the first instant
                    // after the jump reads as the jump's end.
                    let mut instant = t.with_timezone(&Utc);
                    while tz
                        .from_utc_datetime(&(instant - TimeDelta::seconds(1)).naive_utc())
                        .naive_local()
                        >= naive
                    {
                        instant -= TimeDelta::seconds(1);
                    }
                    return instant;
                }
            }
        }
    }
}
