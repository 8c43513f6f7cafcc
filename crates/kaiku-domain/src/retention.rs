//! Retention: how long an answer keeps its open texts, and which stored responses are due for
//! erasure at a given clock. Pure: response-intake's retention sweep reads the stream and asks
//! these rules what to do with each response (docs/adr/0019-retention.md).
//!
//! A survey's retention is set in its content (`Retention.open_text_months`, 0 = the county's
//! default) and the survey's latest published version governs all its answers. The period runs
//! from when intake received the answer, in calendar months: received 31 January with one
//! month, due on 28 (or 29) February at the same time of day.

use chrono::{DateTime, Months, Utc};
use kaiku_proto::events::v1::{ResponseEvent, response_event::Kind};
use kaiku_proto::intake::v1::answer::Value;
use kaiku_proto::survey::v1::Retention;

use crate::Violations;
use crate::time::from_timestamp;

/// The county default when configuration names none: two years, long enough to compare a
/// year's results with the year before and read the feedback behind them.
pub const DEFAULT_OPEN_TEXT_MONTHS: u32 = 24;

/// Longest retention a survey may set: ten years. Longer is a mistake (months typed as days)
/// rather than a county's policy, and open text is the part of an answer most likely to
/// identify someone.
pub const MAX_RETENTION_MONTHS: u32 = 120;

/// Checks a survey's retention setting; field paths under `prefix` (e.g. "draft").
pub fn check_retention(v: &mut Violations, prefix: &str, retention: Option<&Retention>) {
    let Some(retention) = retention else { return };
    if retention.open_text_months > MAX_RETENTION_MONTHS {
        v.add(
            format!("{prefix}.retention.open_text_months"),
            format!(
                "must be at most {MAX_RETENTION_MONTHS} months (0 = the county's default), got {}",
                retention.open_text_months
            ),
        );
    }
}

/// Months a survey's answers keep their open texts: its own setting, or the county's default.
pub fn open_text_months(retention: Option<&Retention>, county_default: u32) -> u32 {
    match retention.map(|r| r.open_text_months) {
        Some(months) if months > 0 => months,
        _ => county_default,
    }
}

/// When an answer received at `received_at` is due for erasure after `months`; None when that
/// lies beyond the calendar chrono knows (never due).
pub fn due_at(received_at: DateTime<Utc>, months: u32) -> Option<DateTime<Utc>> {
    received_at.checked_add_months(Months::new(months))
}

/// What the sweep does with one stored response-stream event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Past its retention and holding open text: erase the texts.
    Erase,
    /// Past its retention with nothing to erase (no open text, already a redaction, or an
    /// event this build cannot read).
    Settled,
    /// Not due until `due_at`. Events follow the order intake received them in, so nothing
    /// after this one on the survey's subject is due earlier either.
    NotYetDue { due_at: DateTime<Utc> },
}

/// Judges one event of a survey whose answers keep their texts `months`, at `now`. The time an
/// answer was received is the event's `occurred_at` (intake's clock); an event without one is
/// judged by its `answered_at`, and one with neither has nothing to judge it by and is left.
pub fn judge(event: &ResponseEvent, months: u32, now: DateTime<Utc>) -> Verdict {
    let submitted = match &event.kind {
        Some(Kind::Submitted(submitted)) => Some(submitted),
        Some(Kind::Redacted(_)) | None => None,
    };
    let received_at = event
        .occurred_at
        .as_ref()
        .or_else(|| submitted.and_then(|s| s.answered_at.as_ref()))
        .and_then(from_timestamp);
    let Some(received_at) = received_at else {
        return Verdict::Settled;
    };
    let Some(due_at) = due_at(received_at, months) else {
        return Verdict::NotYetDue {
            due_at: DateTime::<Utc>::MAX_UTC,
        };
    };
    if due_at > now {
        return Verdict::NotYetDue { due_at };
    }
    match submitted {
        Some(submitted) if has_open_text(&submitted.answers) => Verdict::Erase,
        _ => Verdict::Settled,
    }
}

fn has_open_text(answers: &[kaiku_proto::intake::v1::Answer]) -> bool {
    answers
        .iter()
        .any(|answer| matches!(answer.value, Some(Value::OpenText(_))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::to_timestamp;
    use kaiku_proto::events::v1::{ResponseRedacted, ResponseSubmitted};
    use kaiku_proto::intake::v1::{Answer, NpsAnswer, OpenTextAnswer};

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("an RFC 3339 time")
    }

    fn submitted(received: &str, open_text: bool) -> ResponseEvent {
        let mut answers = vec![Answer {
            question_key: "nps".into(),
            value: Some(Value::Nps(NpsAnswer { score: 9 })),
        }];
        if open_text {
            answers.push(Answer {
                question_key: "open".into(),
                value: Some(Value::OpenText(OpenTextAnswer {
                    text: "Hyvä palvelu".into(),
                })),
            });
        }
        ResponseEvent {
            occurred_at: Some(to_timestamp(at(received))),
            kind: Some(Kind::Submitted(ResponseSubmitted {
                answers,
                ..Default::default()
            })),
            ..Default::default()
        }
    }

    #[test]
    fn a_text_is_due_once_its_months_have_passed_to_the_second() {
        let event = submitted("2024-03-15T10:00:00Z", true);
        assert_eq!(
            judge(&event, 24, at("2026-03-15T09:59:59Z")),
            Verdict::NotYetDue {
                due_at: at("2026-03-15T10:00:00Z")
            }
        );
        assert_eq!(
            judge(&event, 24, at("2026-03-15T10:00:00Z")),
            Verdict::Erase
        );
        assert_eq!(judge(&event, 6, at("2024-09-15T10:00:00Z")), Verdict::Erase);
    }

    #[test]
    fn months_are_calendar_months_clamped_to_the_end_of_a_shorter_month() {
        assert_eq!(
            due_at(at("2025-01-31T12:00:00Z"), 1),
            Some(at("2025-02-28T12:00:00Z"))
        );
        assert_eq!(
            due_at(at("2023-08-31T12:00:00Z"), 6),
            Some(at("2024-02-29T12:00:00Z"))
        );
        // Later receipts are never due earlier: the sweep may stop at the first not yet due.
        assert!(due_at(at("2025-01-30T12:00:00Z"), 1) <= due_at(at("2025-01-31T12:00:00Z"), 1));
    }

    #[test]
    fn an_answer_without_open_text_is_settled_when_due_and_waits_like_the_others_before() {
        let event = submitted("2024-03-15T10:00:00Z", false);
        assert_eq!(
            judge(&event, 1, at("2024-05-01T00:00:00Z")),
            Verdict::Settled
        );
        assert!(matches!(
            judge(&event, 24, at("2024-05-01T00:00:00Z")),
            Verdict::NotYetDue { .. }
        ));
    }

    #[test]
    fn a_redaction_has_nothing_left_to_erase() {
        let event = ResponseEvent {
            occurred_at: Some(to_timestamp(at("2024-03-15T10:00:00Z"))),
            kind: Some(Kind::Redacted(ResponseRedacted::default())),
            ..Default::default()
        };
        assert_eq!(
            judge(&event, 1, at("2026-01-01T00:00:00Z")),
            Verdict::Settled
        );
    }

    #[test]
    fn without_a_receipt_time_the_answer_time_counts_and_without_either_nothing_is_erased() {
        let mut event = submitted("2024-03-15T10:00:00Z", true);
        event.occurred_at = None;
        assert_eq!(
            judge(&event, 1, at("2026-01-01T00:00:00Z")),
            Verdict::Settled
        );
        if let Some(Kind::Submitted(s)) = event.kind.as_mut() {
            s.answered_at = Some(to_timestamp(at("2024-03-14T10:00:00Z")));
        }
        assert_eq!(judge(&event, 1, at("2026-01-01T00:00:00Z")), Verdict::Erase);
    }

    #[test]
    fn zero_months_means_the_county_default() {
        let own = Retention {
            open_text_months: 6,
        };
        assert_eq!(open_text_months(Some(&own), 24), 6);
        assert_eq!(open_text_months(Some(&Retention::default()), 24), 24);
        assert_eq!(open_text_months(None, 36), 36);
    }

    #[test]
    fn a_retention_beyond_ten_years_is_refused_naming_the_field() {
        let mut v = Violations::new();
        check_retention(
            &mut v,
            "draft",
            Some(&Retention {
                open_text_months: MAX_RETENTION_MONTHS,
            }),
        );
        check_retention(&mut v, "draft", None);
        assert!(v.is_empty());
        check_retention(
            &mut v,
            "draft",
            Some(&Retention {
                open_text_months: MAX_RETENTION_MONTHS + 1,
            }),
        );
        assert_eq!(v.fields(), vec!["draft.retention.open_text_months"]);
    }
}
