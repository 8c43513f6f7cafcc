//! Time in Kaiku: instants are UTC timestamps, calendar days are Europe/Helsinki days, because
//! collection periods and daily figures follow the county's calendar, not UTC.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Europe::Helsinki;
use kaiku_proto::survey::v1::LocalDate;
use prost_types::Timestamp;

pub trait LocalDateExt {
    /// None when the date does not exist (e.g. 31 February).
    fn to_naive(&self) -> Option<NaiveDate>;
}

impl LocalDateExt for LocalDate {
    fn to_naive(&self) -> Option<NaiveDate> {
        let month = u32::try_from(self.month).ok()?;
        let day = u32::try_from(self.day).ok()?;
        NaiveDate::from_ymd_opt(self.year, month, day)
    }
}

pub fn local_date(date: NaiveDate) -> LocalDate {
    LocalDate {
        year: date.year(),
        month: i32::try_from(date.month()).unwrap_or_default(),
        day: i32::try_from(date.day()).unwrap_or_default(),
    }
}

/// The Helsinki calendar day of an instant.
pub fn helsinki_date(instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&Helsinki).date_naive()
}

pub fn to_timestamp(instant: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: instant.timestamp(),
        nanos: i32::try_from(instant.timestamp_subsec_nanos()).unwrap_or_default(),
    }
}

/// None when the timestamp is out of chrono's range or its nanos are invalid.
pub fn from_timestamp(timestamp: &Timestamp) -> Option<DateTime<Utc>> {
    let nanos = u32::try_from(timestamp.nanos).ok()?;
    DateTime::from_timestamp(timestamp.seconds, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_evening_in_utc_is_the_next_day_in_helsinki() {
        let instant = DateTime::parse_from_rfc3339("2026-05-06T22:30:00Z")
            .expect("valid")
            .with_timezone(&Utc);
        assert_eq!(
            helsinki_date(instant),
            NaiveDate::from_ymd_opt(2026, 5, 7).expect("valid")
        );
    }

    #[test]
    fn an_impossible_date_does_not_convert() {
        let date = LocalDate {
            year: 2026,
            month: 2,
            day: 31,
        };
        assert_eq!(date.to_naive(), None);
        let date = LocalDate {
            year: 2026,
            month: -1,
            day: 1,
        };
        assert_eq!(date.to_naive(), None);
    }

    #[test]
    fn timestamps_round_trip() {
        let now = Utc::now();
        assert_eq!(from_timestamp(&to_timestamp(now)), Some(now));
    }
}
