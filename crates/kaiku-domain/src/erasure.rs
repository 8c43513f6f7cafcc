//! Erasing one stored response's open texts (personal data that the automatic redaction at
//! intake missed, or texts past their retention): which request is valid, and what remains of
//! the response once its open texts are gone. The intake appends the remains as a
//! `ResponseRedacted` event and deletes the original event with secure erase; see
//! docs/adr/0010-nats-users-erasure-and-traces.md and 0019-retention.md.

use kaiku_proto::events::v1::ResponseSubmitted;
use kaiku_proto::intake::v1::{ErasureReason, RedactResponseRequest, answer::Value};

use crate::{SurveyId, Violations};

/// A valid erasure request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureTarget {
    pub survey_id: SurveyId,
    pub sequence: u64,
    pub reason: ErasureReason,
}

/// The codes a person may give. RETENTION is left to the retention sweep, so an audit record
/// or event that says RETENTION always means the sweep erased it.
pub const REQUESTABLE_REASONS: [ErasureReason; 4] = [
    ErasureReason::PersonalData,
    ErasureReason::StaffName,
    ErasureReason::RespondentRequest,
    ErasureReason::Other,
];

/// The code's short name as tools and forms write it (`personal_data`), without the prefix.
pub fn reason_code(reason: ErasureReason) -> &'static str {
    match reason {
        ErasureReason::Unspecified => "unspecified",
        ErasureReason::PersonalData => "personal_data",
        ErasureReason::StaffName => "staff_name",
        ErasureReason::RespondentRequest => "respondent_request",
        ErasureReason::Retention => "retention",
        ErasureReason::Other => "other",
    }
}

/// The code named by its short name (`reason_code`), if it is one a person may give.
pub fn requestable_reason(code: &str) -> Option<ErasureReason> {
    REQUESTABLE_REASONS
        .into_iter()
        .find(|reason| reason_code(*reason) == code)
}

pub fn parse_erasure(request: &RedactResponseRequest) -> Result<ErasureTarget, Violations> {
    let mut v = Violations::new();
    let survey_id = SurveyId::parse("survey_id", &request.survey_id)
        .map_err(|e| v.extend(e))
        .ok();
    if request.sequence == 0 {
        v.add(
            "sequence",
            "is required (the response's KAIKU_RESPONSES sequence)",
        );
    }
    let reason = ErasureReason::try_from(request.reason)
        .ok()
        .filter(|reason| REQUESTABLE_REASONS.contains(reason));
    if reason.is_none() {
        let codes: Vec<&str> = REQUESTABLE_REASONS
            .iter()
            .map(|r| r.as_str_name())
            .collect();
        v.add(
            "reason",
            format!(
                "is required: one of {} (RETENTION is the retention sweep's own), got {}",
                codes.join(", "),
                request.reason
            ),
        );
    }
    match (survey_id, reason) {
        (Some(survey_id), Some(reason)) if v.is_empty() => Ok(ErasureTarget {
            survey_id,
            sequence: request.sequence,
            reason,
        }),
        _ => Err(v),
    }
}

/// The response without its open-text answers, and the keys of the questions they answered;
/// None when it has no open text (nothing to erase).
pub fn without_open_texts(
    submitted: &ResponseSubmitted,
) -> Option<(ResponseSubmitted, Vec<String>)> {
    let mut remaining = submitted.clone();
    let mut erased = Vec::new();
    remaining.answers.retain(|answer| {
        let open_text = matches!(answer.value, Some(Value::OpenText(_)));
        if open_text {
            erased.push(answer.question_key.clone());
        }
        !open_text
    });
    if erased.is_empty() {
        return None;
    }
    // What the erased texts raised and how many matches they had went with them.
    remaining.attention_flags.clear();
    remaining.redactions = 0;
    Some((remaining, erased))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kaiku_proto::intake::v1::{Answer, NpsAnswer, OpenTextAnswer};

    const SURVEY: &str = "01a216af-505a-7707-8f3f-9098a19acebe";
    const SUBMISSION: &str = "4e85545c-9dbf-4b88-8789-bd6fb82341b2";

    fn request() -> RedactResponseRequest {
        RedactResponseRequest {
            survey_id: SURVEY.into(),
            sequence: 7,
            reason: ErasureReason::StaffName as i32,
        }
    }

    #[test]
    fn a_valid_request_is_parsed_with_its_reason_code() {
        let target = parse_erasure(&request()).expect("valid");
        assert_eq!(target.sequence, 7);
        assert_eq!(target.reason, ErasureReason::StaffName);
    }

    #[test]
    fn each_invalid_field_is_named() {
        type Change = fn(&mut RedactResponseRequest);
        let cases: [(&str, Change); 6] = [
            ("survey_id", |r| r.survey_id = "x".into()),
            ("sequence", |r| r.sequence = 0),
            ("reason", |r| r.reason = ErasureReason::Unspecified as i32),
            // Only the sweep erases for retention.
            ("reason", |r| r.reason = ErasureReason::Retention as i32),
            ("reason", |r| r.reason = 99),
            ("survey_id", |r| r.survey_id.clear()),
        ];
        for (field, change) in cases {
            let mut bad = request();
            change(&mut bad);
            let violations = parse_erasure(&bad).expect_err(field);
            assert_eq!(violations.fields(), vec![field], "{bad:?}");
        }
    }

    #[test]
    fn the_refusal_of_a_missing_reason_lists_the_codes() {
        let mut bad = request();
        bad.reason = 0;
        let violations = parse_erasure(&bad).expect_err("no code");
        let description = &violations.iter().next().expect("one").description;
        assert!(
            description.contains("ERASURE_REASON_PERSONAL_DATA")
                && description.contains("ERASURE_REASON_OTHER")
                && !description.contains("ERASURE_REASON_UNSPECIFIED,"),
            "{description}"
        );
    }

    #[test]
    fn every_requestable_code_has_a_short_name_that_names_it_back() {
        for reason in REQUESTABLE_REASONS {
            assert_eq!(requestable_reason(reason_code(reason)), Some(reason));
        }
        assert_eq!(requestable_reason("retention"), None);
        assert_eq!(requestable_reason("unspecified"), None);
        assert_eq!(requestable_reason("Personal data"), None);
    }

    fn answer(key: &str, value: Value) -> Answer {
        Answer {
            question_key: key.into(),
            value: Some(value),
        }
    }

    #[test]
    fn open_texts_go_and_scores_stay() {
        let submitted = ResponseSubmitted {
            submission_id: SUBMISSION.into(),
            answers: vec![
                answer("nps", Value::Nps(NpsAnswer { score: 9 })),
                answer(
                    "open",
                    Value::OpenText(OpenTextAnswer {
                        text: "Matti Meikäläinen".into(),
                    }),
                ),
            ],
            redactions: 1,
            attention_flags: vec![1],
            ..Default::default()
        };
        let (remaining, erased) = without_open_texts(&submitted).expect("a text to erase");
        assert_eq!(erased, vec!["open".to_owned()]);
        assert_eq!(remaining.answers.len(), 1);
        assert_eq!(remaining.answers[0].question_key, "nps");
        assert_eq!(remaining.submission_id, SUBMISSION);
        assert!(remaining.attention_flags.is_empty());
        assert_eq!(remaining.redactions, 0);
        assert!(!format!("{remaining:?}").contains("Meikäläinen"));
    }

    #[test]
    fn a_response_without_open_text_has_nothing_to_erase() {
        let submitted = ResponseSubmitted {
            answers: vec![answer("nps", Value::Nps(NpsAnswer { score: 3 }))],
            ..Default::default()
        };
        assert_eq!(without_open_texts(&submitted), None);
    }
}
