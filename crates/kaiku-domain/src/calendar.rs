//! The Finnish working-day calendar for feedback-handling deadlines: a county promises a reply
//! within N working days, so weekends, public holidays and the two eves on which public offices
//! are closed (Midsummer Eve, Christmas Eve) do not count. Pure date arithmetic, no tables to
//! keep up to date: the movable feasts follow from Easter.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// Easter Sunday of `year` (Gregorian; the anonymous "Meeus/Jones/Butcher" algorithm).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// The first `weekday` on or after `date`.
fn first_on_or_after(date: NaiveDate, weekday: Weekday) -> NaiveDate {
    let ahead = (7 + weekday.num_days_from_monday() - date.weekday().num_days_from_monday()) % 7;
    date + Duration::days(i64::from(ahead))
}

/// Why `date` is not a working day in Finland, if it is a holiday or an eve offices close on
/// (weekends aside). Names in Finnish, as the calendar has them.
pub fn holiday(date: NaiveDate) -> Option<&'static str> {
    let (year, month, day) = (date.year(), date.month(), date.day());
    let fixed = match (month, day) {
        (1, 1) => Some("uudenvuodenpäivä"),
        (1, 6) => Some("loppiainen"),
        (5, 1) => Some("vappu"),
        (12, 6) => Some("itsenäisyyspäivä"),
        (12, 24) => Some("jouluaatto"),
        (12, 25) => Some("joulupäivä"),
        (12, 26) => Some("tapaninpäivä"),
        _ => None,
    };
    if fixed.is_some() {
        return fixed;
    }
    let easter = easter_sunday(year)?;
    let movable = [
        (easter - Duration::days(2), "pitkäperjantai"),
        (easter, "pääsiäispäivä"),
        (easter + Duration::days(1), "2. pääsiäispäivä"),
        (easter + Duration::days(39), "helatorstai"),
        (easter + Duration::days(49), "helluntaipäivä"),
    ];
    if let Some((_, name)) = movable.iter().find(|(d, _)| *d == date) {
        return Some(name);
    }
    // Midsummer Eve is the Friday of 19-25 June, Midsummer Day the Saturday after; All Saints'
    // Day the Saturday of 31 October - 6 November.
    let midsummer_eve =
        NaiveDate::from_ymd_opt(year, 6, 19).map(|d| first_on_or_after(d, Weekday::Fri));
    let all_saints =
        NaiveDate::from_ymd_opt(year, 10, 31).map(|d| first_on_or_after(d, Weekday::Sat));
    if midsummer_eve == Some(date) {
        Some("juhannusaatto")
    } else if midsummer_eve.map(|d| d + Duration::days(1)) == Some(date) {
        Some("juhannuspäivä")
    } else if all_saints == Some(date) {
        Some("pyhäinpäivä")
    } else {
        None
    }
}

pub fn is_working_day(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && holiday(date).is_none()
}

/// The day by which something received on `received` must be done within `days` working days:
/// the receiving day does not count, the deadline is the `days`-th working day after it.
pub fn deadline(received: NaiveDate, days: u32) -> NaiveDate {
    let mut date = received;
    let mut left = days;
    while left > 0 {
        date += Duration::days(1);
        if is_working_day(date) {
            left -= 1;
        }
    }
    date
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
    }

    #[test]
    fn easter_falls_on_the_known_sundays() {
        for (year, month, d) in [
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2038, 4, 25),
        ] {
            assert_eq!(easter_sunday(year), Some(day(year, month, d)), "{year}");
        }
    }

    #[test]
    fn the_holidays_of_2026_are_the_finnish_calendars() {
        let expected = [
            (day(2026, 1, 1), "uudenvuodenpäivä"),
            (day(2026, 1, 6), "loppiainen"),
            (day(2026, 4, 3), "pitkäperjantai"),
            (day(2026, 4, 6), "2. pääsiäispäivä"),
            (day(2026, 5, 1), "vappu"),
            (day(2026, 5, 14), "helatorstai"),
            (day(2026, 6, 19), "juhannusaatto"),
            (day(2026, 6, 20), "juhannuspäivä"),
            (day(2026, 10, 31), "pyhäinpäivä"),
            (day(2026, 12, 6), "itsenäisyyspäivä"),
            (day(2026, 12, 24), "jouluaatto"),
            (day(2026, 12, 25), "joulupäivä"),
            (day(2026, 12, 26), "tapaninpäivä"),
        ];
        for (date, name) in expected {
            assert_eq!(holiday(date), Some(name), "{date}");
        }
        assert_eq!(holiday(day(2026, 6, 18)), None);
        assert_eq!(holiday(day(2026, 11, 2)), None);
    }

    #[test]
    fn a_deadline_counts_working_days_only() {
        // Received on a Monday: five working days is the next Monday.
        assert_eq!(deadline(day(2026, 11, 23), 5), day(2026, 11, 30));
        // Received on a Friday: the weekend does not count.
        assert_eq!(deadline(day(2026, 11, 27), 1), day(2026, 11, 30));
    }

    #[test]
    fn a_deadline_over_easter_skips_good_friday_and_easter_monday() {
        // Thursday 2 April 2026, 5 working days: Fri 3.4. and Mon 6.4. are holidays, so
        // 7, 8, 9, 10 and 13 April.
        assert_eq!(deadline(day(2026, 4, 2), 5), day(2026, 4, 13));
    }

    #[test]
    fn a_deadline_over_christmas_and_independence_day_skips_them() {
        // Friday 4 December 2026: Sunday 6.12. changes nothing; 14 working days through
        // Christmas (24.-26.12.) and New Year's Day.
        assert_eq!(deadline(day(2026, 12, 4), 14), day(2026, 12, 28));
        assert!(!is_working_day(day(2026, 12, 24)));
        assert!(!is_working_day(day(2027, 1, 1)));
        // Friday 18 December: 21, 22, 23, then (24.-27. off) 28 and 29 December.
        assert_eq!(deadline(day(2026, 12, 18), 5), day(2026, 12, 29));
    }
}
