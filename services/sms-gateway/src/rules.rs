//! Who gets an SMS invitation after a visit, and when: the county's rules as one pure function,
//! so every rule has a row in the table test below.
//!
//! - adults only (the youngest clients cannot be sent SMS surveys; 18 by default);
//! - only with consent to SMS contact, and never under a non-disclosure order (turvakielto);
//! - not twice within 30 days to the same number;
//! - the day after the visit, in the sending hours, in the language of the client record
//!   (fi or sv, otherwise en);
//! - a visit delivered too late (by default more than 7 days after it) is not surveyed.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Helsinki;
use kaiku_proto::survey::v1::Language;

#[derive(Debug, Clone)]
pub struct SmsRules {
    pub min_age: u32,
    /// No second invitation to the same number within this time.
    pub quiet_period: Duration,
    /// Local (Helsinki) time of day invitations go out the day after the visit.
    pub send_time: NaiveTime,
    /// Sending hours, local: [from, to). An invitation due outside them waits for `from`.
    pub sending_hours: (u32, u32),
    /// Visits older than this when they arrive are not surveyed.
    pub max_visit_age: Duration,
}

impl Default for SmsRules {
    fn default() -> Self {
        SmsRules {
            min_age: 18,
            quiet_period: Duration::days(30),
            send_time: NaiveTime::from_hms_opt(10, 0, 0).unwrap_or(NaiveTime::MIN),
            sending_hours: (9, 20),
            max_visit_age: Duration::days(7),
        }
    }
}

/// What the rules need to know of a visit.
#[derive(Debug, Clone)]
pub struct VisitFacts {
    pub visited_at: DateTime<Utc>,
    pub age: u32,
    pub sms_consent: bool,
    pub non_disclosure: bool,
}

/// Why a visit gets no invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    Minor { age: u32 },
    NoConsent,
    NonDisclosure,
    InvitedRecently,
    VisitTooOld,
    VisitInFuture,
}

impl Skip {
    pub fn code(&self) -> &'static str {
        match self {
            Skip::Minor { .. } => "minor",
            Skip::NoConsent => "no_consent",
            Skip::NonDisclosure => "non_disclosure",
            Skip::InvitedRecently => "invited_recently",
            Skip::VisitTooOld => "visit_too_old",
            Skip::VisitInFuture => "visit_in_future",
        }
    }
}

/// When to send the invitation, or why not to. `last_invitation` is the send time of the
/// number's latest invitation, if any.
pub fn decide(
    rules: &SmsRules,
    visit: &VisitFacts,
    last_invitation: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, Skip> {
    // The non-disclosure order first: nothing about such a client is even compared further.
    if visit.non_disclosure {
        return Err(Skip::NonDisclosure);
    }
    if visit.age < rules.min_age {
        return Err(Skip::Minor { age: visit.age });
    }
    if !visit.sms_consent {
        return Err(Skip::NoConsent);
    }
    if visit.visited_at > now + Duration::minutes(5) {
        return Err(Skip::VisitInFuture);
    }
    if now - visit.visited_at > rules.max_visit_age {
        return Err(Skip::VisitTooOld);
    }
    let send_at = within_sending_hours(rules, next_day_send_time(rules, visit.visited_at).max(now));
    if let Some(last) = last_invitation
        && send_at - last < rules.quiet_period
    {
        return Err(Skip::InvitedRecently);
    }
    Ok(send_at)
}

fn next_day_send_time(rules: &SmsRules, visited_at: DateTime<Utc>) -> DateTime<Utc> {
    let day = visited_at.with_timezone(&Helsinki).date_naive() + Duration::days(1);
    local(day.and_time(rules.send_time))
}

/// `at`, or the start of the next sending hours when `at` falls outside them.
pub fn within_sending_hours(rules: &SmsRules, at: DateTime<Utc>) -> DateTime<Utc> {
    let (from, to) = rules.sending_hours;
    if from == 0 && to >= 24 {
        return at;
    }
    let local_at = at.with_timezone(&Helsinki);
    let hour = chrono::Timelike::hour(&local_at);
    if hour >= from && hour < to {
        return at;
    }
    let day = if hour >= to {
        local_at.date_naive() + Duration::days(1)
    } else {
        local_at.date_naive()
    };
    local(day.and_time(NaiveTime::from_hms_opt(from, 0, 0).unwrap_or(NaiveTime::MIN)))
}

/// A Helsinki wall-clock time as UTC; in the autumn's repeated hour the earlier, in the
/// spring's missing hour an hour later.
fn local(naive: chrono::NaiveDateTime) -> DateTime<Utc> {
    match Helsinki.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.with_timezone(&Utc)
        }
        chrono::LocalResult::None => Helsinki
            .from_local_datetime(&(naive + Duration::hours(1)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| naive.and_utc()),
    }
}

/// The invitation's language from the client record: Finnish or Swedish as recorded,
/// English for every other language.
pub fn language_from_record(recorded: &str) -> Language {
    match recorded.trim().to_ascii_lowercase().as_str() {
        "fi" | "fin" | "suomi" | "finnish" => Language::Fi,
        "sv" | "swe" | "svenska" | "ruotsi" | "swedish" => Language::Sv,
        _ => Language::En,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .expect("test time")
    }

    fn adult() -> VisitFacts {
        VisitFacts {
            visited_at: at("2026-11-24T12:30:00+02:00"),
            age: 34,
            sms_consent: true,
            non_disclosure: false,
        }
    }

    const NOW: &str = "2026-11-24T16:00:00+02:00";

    /// Each rule: a change to an eligible adult's visit, and the outcome.
    #[test]
    fn the_rules_table() {
        type Change = fn(&mut VisitFacts, &mut Option<DateTime<Utc>>);
        let cases: &[(&str, Change, Result<&str, Skip>)] = &[
            (
                "eligible: next day at 10:00 Helsinki",
                |_, _| {},
                Ok("2026-11-25T10:00:00+02:00"),
            ),
            (
                "18 today is an adult",
                |v, _| v.age = 18,
                Ok("2026-11-25T10:00:00+02:00"),
            ),
            (
                "17 is a minor",
                |v, _| v.age = 17,
                Err(Skip::Minor { age: 17 }),
            ),
            ("a child", |v, _| v.age = 9, Err(Skip::Minor { age: 9 })),
            (
                "no consent",
                |v, _| v.sms_consent = false,
                Err(Skip::NoConsent),
            ),
            (
                "non-disclosure order",
                |v, _| v.non_disclosure = true,
                Err(Skip::NonDisclosure),
            ),
            (
                "non-disclosure wins over everything",
                |v, _| {
                    v.non_disclosure = true;
                    v.age = 5;
                    v.sms_consent = false;
                },
                Err(Skip::NonDisclosure),
            ),
            (
                "invited 29 days before the send time",
                |_, last| *last = Some(at("2026-10-27T10:00:01+02:00")),
                Err(Skip::InvitedRecently),
            ),
            (
                "invited exactly 30 days before",
                |_, last| *last = Some(at("2026-10-26T10:00:00+02:00")),
                Ok("2026-11-25T10:00:00+02:00"),
            ),
            (
                "invited 31 days before",
                |_, last| *last = Some(at("2026-10-25T10:00:00+02:00")),
                Ok("2026-11-25T10:00:00+02:00"),
            ),
            (
                "a visit ahead of the clock is refused",
                |v, _| v.visited_at = at("2026-11-24T23:30:00+02:00"),
                Err(Skip::VisitInFuture),
            ),
            (
                "a visit delivered two days late goes out now",
                |v, _| v.visited_at = at("2026-11-22T12:00:00+02:00"),
                Ok(NOW),
            ),
            (
                "a visit 7 days old is still surveyed",
                |v, _| v.visited_at = at("2026-11-17T16:00:00+02:00"),
                Ok(NOW),
            ),
            (
                "a visit over 7 days old is not",
                |v, _| v.visited_at = at("2026-11-17T15:59:00+02:00"),
                Err(Skip::VisitTooOld),
            ),
        ];
        for (name, change, expected) in cases {
            let mut visit = adult();
            let mut last = None;
            change(&mut visit, &mut last);
            let outcome = decide(&SmsRules::default(), &visit, last, at(NOW));
            let expected = expected.clone().map(at);
            assert_eq!(outcome, expected, "{name}");
        }
    }

    #[test]
    fn invitations_due_outside_the_sending_hours_wait_for_the_morning() {
        let rules = SmsRules::default();
        let late_delivery = VisitFacts {
            visited_at: at("2026-11-20T12:00:00+02:00"),
            ..adult()
        };
        let evening = at("2026-11-24T21:15:00+02:00");
        assert_eq!(
            decide(&rules, &late_delivery, None, evening),
            Ok(at("2026-11-25T09:00:00+02:00"))
        );
        let night = at("2026-11-25T03:00:00+02:00");
        assert_eq!(
            decide(&rules, &late_delivery, None, night),
            Ok(at("2026-11-25T09:00:00+02:00"))
        );
        let always = SmsRules {
            sending_hours: (0, 24),
            ..rules
        };
        assert_eq!(decide(&always, &late_delivery, None, night), Ok(night));
    }

    #[test]
    fn the_send_time_follows_helsinki_summer_time() {
        let summer = VisitFacts {
            visited_at: at("2026-06-10T12:00:00+03:00"),
            ..adult()
        };
        let now = at("2026-06-10T13:00:00+03:00");
        assert_eq!(
            decide(&SmsRules::default(), &summer, None, now),
            Ok(at("2026-06-11T10:00:00+03:00"))
        );
    }

    #[test]
    fn the_language_comes_from_the_record_with_english_for_the_rest() {
        assert_eq!(language_from_record("fi"), Language::Fi);
        assert_eq!(language_from_record(" SV "), Language::Sv);
        assert_eq!(language_from_record("svenska"), Language::Sv);
        for other in ["en", "de", "ru", "so", "", "se"] {
            assert_eq!(language_from_record(other), Language::En, "{other}");
        }
    }
}
