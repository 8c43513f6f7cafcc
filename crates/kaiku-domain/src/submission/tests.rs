use kaiku_proto::intake::v1::{NpsAnswer, StatementAnswer};
use kaiku_proto::survey::v1::{
    CollectionPeriod, LocalDate, ScheduledCollection, StatementQuestion, SurveyContent,
};

use super::*;
use crate::catalogue::Catalogue;
use crate::fixtures::{NPS_KEY, OPEN_KEY, nps_survey};

const UNIT: &str = "school-1";

fn form_with(content: SurveyContent) -> PublishedForm {
    PublishedForm {
        survey_id: SurveyId::new_random(),
        version: 1,
        content,
    }
}

fn form() -> PublishedForm {
    form_with(nps_survey(&[UNIT]))
}

fn context() -> ResponseContext {
    ResponseContext {
        unit_id: UNIT.into(),
        channel: Channel::Paper as i32,
        respondent_role: RespondentRole::Client as i32,
        professional_group: String::new(),
        age_band: String::new(),
        language: Language::Fi as i32,
    }
}

fn nps(score: u32) -> Answer {
    Answer {
        question_key: NPS_KEY.into(),
        value: Some(Value::Nps(NpsAnswer { score })),
    }
}

fn text(text: &str) -> Answer {
    Answer {
        question_key: OPEN_KEY.into(),
        value: Some(Value::OpenText(OpenTextAnswer { text: text.into() })),
    }
}

fn request(form: &PublishedForm, answers: Vec<Answer>) -> SubmitResponseRequest {
    SubmitResponseRequest {
        submission_id: uuid::Uuid::new_v4().to_string(),
        survey_id: form.survey_id.to_string(),
        survey_version: form.version,
        context: Some(context()),
        answers,
        answered_at: None,
    }
}

fn violations(result: Result<ResponseSubmitted, SubmissionError>) -> Vec<String> {
    match result {
        Err(SubmissionError::Invalid(v)) => v.fields().into_iter().map(str::to_owned).collect(),
        other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
    }
}

#[test]
fn a_complete_answer_is_accepted_with_its_context() {
    let form = form();
    let event = accept(
        &form,
        &request(&form, vec![nps(9), text("Hyvä palvelu")]),
        Utc::now(),
    )
    .expect("valid");
    assert_eq!(event.survey_version, 1);
    assert_eq!(event.answers.len(), 2);
    assert_eq!(event.context, Some(context()));
    assert_eq!(event.period_id, "");
}

#[test]
fn an_nps_of_eleven_is_refused_naming_the_score() {
    let form = form();
    assert_eq!(
        violations(accept(&form, &request(&form, vec![nps(11)]), Utc::now())),
        vec!["answers[0].nps.score"]
    );
}

#[test]
fn an_unknown_question_is_refused_naming_the_key() {
    let form = form();
    let unknown = Answer {
        question_key: "nope".into(),
        value: Some(Value::Nps(NpsAnswer { score: 5 })),
    };
    assert_eq!(
        violations(accept(
            &form,
            &request(&form, vec![nps(5), unknown]),
            Utc::now()
        )),
        vec!["answers[1].question_key"]
    );
}

#[test]
fn a_missing_required_answer_is_refused() {
    let form = form();
    assert_eq!(
        violations(accept(&form, &request(&form, vec![text("x")]), Utc::now())),
        vec!["answers"]
    );
}

#[test]
fn an_answer_of_the_wrong_kind_is_refused() {
    let form = form();
    let wrong = Answer {
        question_key: NPS_KEY.into(),
        value: Some(Value::OpenText(OpenTextAnswer { text: "9".into() })),
    };
    assert_eq!(
        violations(accept(&form, &request(&form, vec![wrong]), Utc::now())),
        vec!["answers[0].value"]
    );
}

#[test]
fn the_same_question_answered_twice_is_refused() {
    let form = form();
    assert_eq!(
        violations(accept(
            &form,
            &request(&form, vec![nps(5), nps(6)]),
            Utc::now()
        )),
        vec!["answers[1].question_key"]
    );
}

#[test]
fn every_context_problem_is_reported_at_once() {
    let form = form();
    let mut req = request(&form, vec![nps(5)]);
    req.context = Some(ResponseContext {
        unit_id: "other-unit".into(),
        channel: 0,
        respondent_role: RespondentRole::Relative as i32,
        professional_group: "kuraattori".into(),
        age_band: String::new(),
        language: 0,
    });
    assert_eq!(
        violations(accept(&form, &req, Utc::now())),
        vec![
            "context.unit_id",
            "context.channel",
            "context.respondent_role",
            "context.language",
            "context.professional_group"
        ]
    );
}

#[test]
fn personal_data_in_open_text_is_redacted_before_it_is_stored() {
    let form = form();
    let event = accept(
        &form,
        &request(
            &form,
            vec![nps(3), text("Soittakaa 040 123 4567, hetu 131052-308T")],
        ),
        Utc::now(),
    )
    .expect("valid");
    let Some(Value::OpenText(stored)) = &event.answers[1].value else {
        panic!("no text")
    };
    assert!(!stored.text.contains("4567"), "{}", stored.text);
    assert!(!stored.text.contains("131052"), "{}", stored.text);
    assert_eq!(event.redactions, 2);
}

#[test]
fn names_in_open_text_are_redacted_when_a_name_finder_is_given() {
    let form = form();
    let matti = |text: &str| -> Vec<std::ops::Range<usize>> {
        text.match_indices("Matille")
            .map(|(start, name)| start..start + name.len())
            .collect()
    };
    let event = accept_with(
        &form,
        &request(
            &form,
            vec![nps(9), text("Kiitos Matille, soita 040 123 4567")],
        ),
        Utc::now(),
        &matti,
    )
    .expect("valid");
    let Some(Value::OpenText(stored)) = &event.answers[1].value else {
        panic!("no text")
    };
    assert_eq!(stored.text, "Kiitos [nimi], soita [puhelinnumero]");
    assert_eq!(event.redactions, 2);
}

#[test]
fn a_too_long_open_text_is_refused() {
    let form = form();
    assert_eq!(
        violations(accept(
            &form,
            &request(&form, vec![nps(3), text(&"a".repeat(2001))]),
            Utc::now()
        )),
        vec!["answers[1].open_text.text"]
    );
}

#[test]
fn a_blank_optional_text_is_stored_as_no_answer() {
    let form = form();
    let event = accept(
        &form,
        &request(&form, vec![nps(3), text("   ")]),
        Utc::now(),
    )
    .expect("valid");
    assert_eq!(event.answers, vec![nps(3)]);
}

#[test]
fn an_answer_time_in_the_future_is_refused() {
    let form = form();
    let mut req = request(&form, vec![nps(3)]);
    req.answered_at = Some(to_timestamp(Utc::now() + Duration::hours(1)));
    assert_eq!(
        violations(accept(&form, &req, Utc::now())),
        vec!["answered_at"]
    );
}

#[test]
fn statements_take_one_to_five_or_dont_know_when_offered() {
    let mut content = nps_survey(&[UNIT]);
    content.questions.push(Question {
        key: "saatavuus".into(),
        kind: Some(Kind::Statement(StatementQuestion {
            allow_dont_know: true,
        })),
        ..Default::default()
    });
    let form = form_with(content);
    let statement = |score, dont_know| Answer {
        question_key: "saatavuus".into(),
        value: Some(Value::Statement(StatementAnswer { score, dont_know })),
    };
    assert!(
        accept(
            &form,
            &request(&form, vec![nps(3), statement(5, false)]),
            Utc::now()
        )
        .is_ok()
    );
    assert!(
        accept(
            &form,
            &request(&form, vec![nps(3), statement(0, true)]),
            Utc::now()
        )
        .is_ok()
    );
    assert_eq!(
        violations(accept(
            &form,
            &request(&form, vec![nps(3), statement(6, false)]),
            Utc::now()
        )),
        vec!["answers[1].statement.score"]
    );
}

#[test]
fn an_answer_outside_every_collection_period_is_not_accepted() {
    let mut content = nps_survey(&[UNIT]);
    content.collection = Some(Collection::Scheduled(ScheduledCollection {
        periods: vec![CollectionPeriod {
            period_id: "spring".into(),
            starts_on: Some(LocalDate {
                year: 2026,
                month: 5,
                day: 6,
            }),
            ends_on: Some(LocalDate {
                year: 2026,
                month: 5,
                day: 26,
            }),
        }],
    }));
    let form = form_with(content);
    let inside = DateTime::parse_from_rfc3339("2026-05-26T20:59:00Z")
        .expect("valid")
        .to_utc();
    let outside = DateTime::parse_from_rfc3339("2026-05-26T21:01:00Z")
        .expect("valid")
        .to_utc();
    let event = accept(&form, &request(&form, vec![nps(9)]), inside).expect("inside the period");
    assert_eq!(event.period_id, "spring");
    assert!(matches!(
        accept(&form, &request(&form, vec![nps(9)]), outside),
        Err(SubmissionError::NotAccepting(_))
    ));
}

#[test]
fn targets_name_malformed_ids_and_missing_versions() {
    let req = SubmitResponseRequest {
        submission_id: "x".into(),
        survey_id: String::new(),
        ..Default::default()
    };
    let err = parse_target(&req).expect_err("invalid");
    assert_eq!(
        err.fields(),
        vec!["submission_id", "survey_id", "survey_version"]
    );
}

#[test]
fn an_unpublished_version_is_refused_naming_the_version() {
    let form = form();
    let target = parse_target(&request(&form, vec![])).expect("valid ids");
    let wrong = SubmissionTarget {
        version: 2,
        ..target
    };
    let err = resolve_form(
        wrong.survey_id,
        wrong.version,
        Lookup::UnknownVersion { latest: 1 },
    )
    .expect_err("unknown version");
    assert!(matches!(err, SubmissionError::Invalid(v) if v.fields() == vec!["survey_version"]));
    let err = resolve_form(
        target.survey_id,
        target.version,
        Catalogue::new().lookup(target.survey_id, 1),
    )
    .expect_err("unknown survey");
    assert!(matches!(err, SubmissionError::Invalid(v) if v.fields() == vec!["survey_id"]));
}

#[test]
fn a_retry_is_the_same_response_only_with_the_same_answers() {
    let form = form();
    let req = request(&form, vec![nps(9)]);
    let first = accept(&form, &req, Utc::now()).expect("valid");
    let again = accept(&form, &req, Utc::now() + Duration::seconds(3)).expect("valid");
    assert!(is_same_response(&first, &again, false));
    let mut changed = req.clone();
    changed.answers = vec![nps(2)];
    let other = accept(&form, &changed, Utc::now()).expect("valid");
    assert!(!is_same_response(&first, &other, false));
}
