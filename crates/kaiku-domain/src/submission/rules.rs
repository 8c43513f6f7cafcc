//! Every validation rule of a submission, as a table of (change to a valid submission, exact
//! violations), and properties: whatever the form allows is accepted, and any single change
//! that breaks a rule is refused.

use chrono::{DateTime, Utc};
use kaiku_proto::intake::v1::{
    Answer, ChoiceAnswer, NpsAnswer, OpenTextAnswer, ResponseContext, SmileyAnswer,
    StatementAnswer, SubmitResponseRequest, answer::Value,
};
use kaiku_proto::survey::v1::{
    Channel, CollectionPeriod, Language, LocalDate, Question, RespondentRole, ScheduledCollection,
    question::Kind, survey_content::Collection,
};
use proptest::prelude::*;

use super::{SubmissionError, accept, is_shown};
use crate::SurveyId;
use crate::catalogue::PublishedForm;
use crate::fixtures::all_kinds_survey;

const UNIT: &str = "school-1";

fn form() -> PublishedForm {
    PublishedForm {
        survey_id: SurveyId::new_random(),
        version: 1,
        content: all_kinds_survey(&[UNIT]),
    }
}

fn answer(key: &str, value: Value) -> Answer {
    Answer {
        question_key: key.to_owned(),
        value: Some(value),
    }
}

fn nps(score: u32) -> Value {
    Value::Nps(NpsAnswer { score })
}

fn statement(score: u32) -> Value {
    Value::Statement(StatementAnswer {
        score,
        dont_know: false,
    })
}

fn dont_know() -> Value {
    Value::Statement(StatementAnswer {
        score: 0,
        dont_know: true,
    })
}

fn face(face: u32) -> Value {
    Value::Smiley(SmileyAnswer { face })
}

fn choice(keys: &[&str]) -> Value {
    Value::Choice(ChoiceAnswer {
        option_keys: keys.iter().map(|k| (*k).to_owned()).collect(),
    })
}

fn text(text: &str) -> Value {
    Value::OpenText(OpenTextAnswer {
        text: text.to_owned(),
    })
}

/// A kuraattori's 15-year-old client answering in Finnish on a kiosk: every shown question
/// answered, validly.
fn valid_request() -> SubmitResponseRequest {
    SubmitResponseRequest {
        submission_id: uuid::Uuid::new_v4().to_string(),
        survey_id: SurveyId::new_random().to_string(),
        survey_version: 1,
        context: Some(ResponseContext {
            unit_id: UNIT.into(),
            channel: Channel::Kiosk as i32,
            respondent_role: RespondentRole::Client as i32,
            professional_group: "kuraattori".into(),
            age_band: "age_13_17".into(),
            language: Language::Fi as i32,
        }),
        answers: vec![
            answer("nps", nps(9)),
            answer("kohtaaminen", dont_know()),
            answer("strict", statement(4)),
            answer("kuraattori_help", statement(5)),
            answer("reasons", choice(&["a", "c"])),
            answer("visit", choice(&["first"])),
            answer("open_feedback", text("Hyvä")),
        ],
        answered_at: None,
    }
}

fn context_mut(request: &mut SubmitResponseRequest) -> &mut ResponseContext {
    request.context.get_or_insert_with(ResponseContext::default)
}

fn set_answer(request: &mut SubmitResponseRequest, key: &str, value: Value) {
    for a in &mut request.answers {
        if a.question_key == key {
            a.value = Some(value.clone());
        }
    }
}

type Change = fn(&mut SubmitResponseRequest);
/// (field, description) as the caller receives them.
type Expected = &'static [(&'static str, &'static str)];

/// Each rule: what breaks it, and exactly what the caller is told.
const RULES: &[(&str, Change, Expected)] = &[
    (
        "unit not targeted",
        |r| context_mut(r).unit_id = "other-school".into(),
        &[(
            "context.unit_id",
            "unit \"other-school\" is not targeted by this survey version",
        )],
    ),
    (
        "unit missing",
        |r| context_mut(r).unit_id.clear(),
        &[("context.unit_id", "is required")],
    ),
    (
        "channel missing",
        |r| context_mut(r).channel = 0,
        &[(
            "context.channel",
            "is required: paper, qr, kiosk, sms, web_link or api",
        )],
    ),
    (
        "channel of an unknown number",
        |r| context_mut(r).channel = 99,
        &[(
            "context.channel",
            "is required: paper, qr, kiosk, sms, web_link or api",
        )],
    ),
    (
        "role missing",
        |r| context_mut(r).respondent_role = 0,
        &[(
            "context.respondent_role",
            "is required: client, guardian or relative",
        )],
    ),
    (
        "role not asked",
        |r| context_mut(r).respondent_role = RespondentRole::Relative as i32,
        &[(
            "context.respondent_role",
            "is not a respondent role of this survey version",
        )],
    ),
    (
        "language missing",
        |r| context_mut(r).language = 0,
        &[("context.language", "is required: fi, sv or en")],
    ),
    (
        "unknown group",
        |r| context_mut(r).professional_group = "opettaja".into(),
        &[
            (
                "context.professional_group",
                "\"opettaja\" is not a professional group of this survey",
            ),
            (
                "answers[3].question_key",
                "question \"kuraattori_help\" is not asked of this respondent",
            ),
        ],
    ),
    (
        "unknown age band",
        |r| context_mut(r).age_band = "age_99".into(),
        &[
            (
                "context.age_band",
                "\"age_99\" is not an age band of this survey",
            ),
            (
                "answers[0].question_key",
                "question \"nps\" is not asked of this respondent",
            ),
        ],
    ),
    (
        "no context",
        |r| r.context = None,
        &[
            ("context", "is required"),
            ("context.unit_id", "is required"),
            (
                "context.channel",
                "is required: paper, qr, kiosk, sms, web_link or api",
            ),
            (
                "context.respondent_role",
                "is required: client, guardian or relative",
            ),
            ("context.language", "is required: fi, sv or en"),
            (
                "answers[0].question_key",
                "question \"nps\" is not asked of this respondent",
            ),
            (
                "answers[3].question_key",
                "question \"kuraattori_help\" is not asked of this respondent",
            ),
        ],
    ),
    (
        "nps above 10",
        |r| set_answer(r, "nps", nps(11)),
        &[("answers[0].nps.score", "must be 0..10, got 11")],
    ),
    (
        "statement above 5",
        |r| set_answer(r, "strict", statement(6)),
        &[("answers[2].statement.score", "must be 1..5, got 6")],
    ),
    (
        "statement 0 without don't know",
        |r| set_answer(r, "strict", statement(0)),
        &[("answers[2].statement.score", "must be 1..5, got 0")],
    ),
    (
        "don't know where none is offered",
        |r| set_answer(r, "strict", dont_know()),
        &[(
            "answers[2].statement.dont_know",
            "this statement offers no \"don't know\"",
        )],
    ),
    (
        "don't know with a score",
        |r| {
            set_answer(
                r,
                "kohtaaminen",
                Value::Statement(StatementAnswer {
                    score: 3,
                    dont_know: true,
                }),
            )
        },
        &[("answers[1].statement.score", "must be 0 with dont_know")],
    ),
    (
        "unknown choice option",
        |r| set_answer(r, "reasons", choice(&["a", "z"])),
        &[("answers[4].choice.option_keys[1]", "\"z\" is not an option")],
    ),
    (
        "option chosen twice",
        |r| set_answer(r, "reasons", choice(&["b", "b"])),
        &[("answers[4].choice.option_keys[1]", "\"b\" is chosen twice")],
    ),
    (
        "nothing chosen",
        |r| set_answer(r, "reasons", choice(&[])),
        &[(
            "answers[4].choice.option_keys",
            "must choose at least one option",
        )],
    ),
    (
        "two options on a single choice",
        |r| set_answer(r, "visit", choice(&["first", "followup"])),
        &[(
            "answers[5].choice.option_keys",
            "must choose exactly one option",
        )],
    ),
    (
        "text over the question's limit",
        |r| set_answer(r, "open_feedback", text(&"ä".repeat(201))),
        &[(
            "answers[6].open_text.text",
            "must be at most 200 characters, got 201",
        )],
    ),
    (
        "answer of another kind",
        |r| set_answer(r, "nps", text("9")),
        &[(
            "answers[0].value",
            "\"nps\" is an NPS question; answer with that kind of value",
        )],
    ),
    (
        "answer without a value",
        |r| r.answers[0].value = None,
        &[(
            "answers[0].value",
            "is required: \"nps\" is an NPS question",
        )],
    ),
    (
        "unknown question",
        |r| r.answers.push(answer("colour", text("red"))),
        &[(
            "answers[7].question_key",
            "survey version 1 has no question \"colour\"",
        )],
    ),
    (
        "question answered twice",
        |r| r.answers.push(answer("strict", statement(2))),
        &[("answers[7].question_key", "\"strict\" is answered twice")],
    ),
    (
        "question of another role",
        |r| r.answers.push(answer("guardian_info", statement(2))),
        &[(
            "answers[7].question_key",
            "question \"guardian_info\" is not asked of this respondent",
        )],
    ),
    (
        "question of another age band",
        |r| r.answers.push(answer("face", face(2))),
        &[(
            "answers[7].question_key",
            "question \"face\" is not asked of this respondent",
        )],
    ),
    (
        "required question unanswered",
        |r| r.answers.retain(|a| a.question_key != "visit"),
        &[("answers", "required question \"visit\" is not answered")],
    ),
    (
        "more answers than questions",
        |r| {
            for i in 0..10 {
                r.answers.push(answer(&format!("extra_{i}"), nps(1)));
            }
        },
        &[("answers", "holds 17 answers but the survey has 9 questions")],
    ),
    (
        "answer time not a timestamp",
        |r| {
            r.answered_at = Some(prost_types::Timestamp {
                seconds: 0,
                nanos: -1,
            })
        },
        &[("answered_at", "is not a valid timestamp")],
    ),
];

fn refusal(result: Result<impl std::fmt::Debug, SubmissionError>) -> Vec<(String, String)> {
    match result {
        Err(SubmissionError::Invalid(v)) => v
            .iter()
            .map(|f| (f.field.clone(), f.description.clone()))
            .collect(),
        other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
    }
}

#[test]
fn the_valid_request_is_accepted() {
    accept(&form(), &valid_request(), Utc::now()).expect("valid");
}

#[test]
fn every_rule_refuses_with_exact_details() {
    let form = form();
    for (rule, change, expected) in RULES {
        let mut request = valid_request();
        change(&mut request);
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(f, d)| ((*f).to_owned(), (*d).to_owned()))
            .collect();
        assert_eq!(
            refusal(accept(&form, &request, Utc::now())),
            expected,
            "rule: {rule}"
        );
    }
}

#[test]
fn a_channel_or_language_the_version_does_not_offer_is_refused() {
    let mut form = form();
    form.content.languages = vec![Language::Fi as i32, Language::Sv as i32];
    form.content.channels = vec![Channel::Paper as i32, Channel::Qr as i32];
    let mut request = valid_request();
    let context = context_mut(&mut request);
    context.language = Language::En as i32;
    context.channel = Channel::Sms as i32;
    assert_eq!(
        refusal(accept(&form, &request, Utc::now())),
        vec![
            (
                "context.channel".to_owned(),
                "is not a channel of this survey version".to_owned()
            ),
            (
                "context.language".to_owned(),
                "en is not offered by this survey version".to_owned()
            ),
        ]
    );
}

#[test]
fn a_smiley_takes_one_face_of_its_scale() {
    let form = form();
    let mut request = valid_request();
    let context = context_mut(&mut request);
    context.age_band = "age_7_12".into();
    context.professional_group = String::new();
    request.answers = vec![answer("face", face(4)), answer("visit", choice(&["first"]))];
    assert_eq!(
        refusal(accept(&form, &request, Utc::now())),
        vec![(
            "answers[0].smiley.face".to_owned(),
            "must be 1..3, got 4".to_owned()
        )]
    );
    request.answers[0] = answer("face", face(3));
    accept(&form, &request, Utc::now()).expect("three faces");
}

// --- Periods on the Helsinki calendar --------------------------------------------------------

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.to_utc())
        .unwrap_or_else(|e| panic!("{rfc3339}: {e}"))
}

/// Spring period 9-29 March 2026: it starts in winter time (UTC+2) and ends after the switch
/// to summer time (UTC+3) on 29 March.
fn periodic_form() -> PublishedForm {
    let mut form = form();
    let date = |day| LocalDate {
        year: 2026,
        month: 3,
        day,
    };
    form.content.collection = Some(Collection::Scheduled(ScheduledCollection {
        periods: vec![CollectionPeriod {
            period_id: "spring".into(),
            starts_on: Some(date(9)),
            ends_on: Some(date(29)),
        }],
    }));
    form
}

#[test]
fn a_period_opens_and_closes_on_helsinki_midnight() {
    let form = periodic_form();
    let received = at("2026-04-15T09:00:00Z"); // paper forms typed in later
    let outcome = |answered: &str| {
        let mut request = valid_request();
        request.answered_at = Some(crate::time::to_timestamp(at(answered)));
        accept(&form, &request, received).map(|event| event.period_id)
    };
    // 8 March 23:59:59 in Helsinki (UTC+2) is before; 9 March 00:00 is the first moment.
    assert!(matches!(
        outcome("2026-03-08T21:59:59Z"),
        Err(SubmissionError::NotAccepting(_))
    ));
    assert_eq!(outcome("2026-03-08T22:00:00Z"), Ok("spring".to_owned()));
    assert_eq!(outcome("2026-03-18T12:00:00Z"), Ok("spring".to_owned()));
    // 29 March is in summer time (UTC+3): its last moment is 20:59:59 UTC.
    assert_eq!(outcome("2026-03-29T20:59:59Z"), Ok("spring".to_owned()));
    assert!(matches!(
        outcome("2026-03-29T21:00:00Z"),
        Err(SubmissionError::NotAccepting(_))
    ));
}

#[test]
fn without_an_answer_time_the_receipt_time_decides_the_period() {
    let form = periodic_form();
    let event = accept(&form, &valid_request(), at("2026-03-08T22:00:01Z")).expect("open");
    assert_eq!(event.period_id, "spring");
    assert!(matches!(
        accept(&form, &valid_request(), at("2026-03-30T08:00:00Z")),
        Err(SubmissionError::NotAccepting(_))
    ));
}

// --- Properties ---------------------------------------------------------------------------

const ROLES: [RespondentRole; 2] = [RespondentRole::Client, RespondentRole::Guardian];
const GROUPS: [&str; 3] = ["", "kuraattori", "psykologi"];
const AGES: [&str; 3] = ["age_7_12", "age_13_17", "adult"];
const LANGUAGES: [Language; 3] = [Language::Fi, Language::Sv, Language::En];
const CHANNELS: [Channel; 6] = [
    Channel::Paper,
    Channel::Qr,
    Channel::Kiosk,
    Channel::Sms,
    Channel::WebLink,
    Channel::Api,
];

/// A valid value for `question`, chosen by `pick`.
fn valid_value(question: &Question, pick: u32) -> Value {
    match &question.kind {
        Some(Kind::Nps(_)) => nps(pick % 11),
        Some(Kind::Statement(s)) if s.allow_dont_know && pick % 6 == 5 => dont_know(),
        Some(Kind::Statement(_)) => statement(1 + pick % 5),
        Some(Kind::Smiley(s)) => face(1 + pick % s.faces.max(1)),
        Some(Kind::Choice(c)) if c.multiple => {
            // A non-empty subset of the options, from the bits of `pick`.
            let mut keys: Vec<String> = c
                .options
                .iter()
                .enumerate()
                .filter(|(i, _)| pick & (1 << i) != 0)
                .map(|(_, o)| o.key.clone())
                .collect();
            if keys.is_empty() {
                keys.push(c.options[0].key.clone());
            }
            Value::Choice(ChoiceAnswer { option_keys: keys })
        }
        Some(Kind::Choice(c)) => choice(&[c.options[pick as usize % c.options.len()].key.as_str()]),
        Some(Kind::OpenText(_)) | None => text(&"palaute ".repeat(1 + pick as usize % 20)),
    }
}

#[derive(Debug, Clone)]
struct Respondent {
    context: ResponseContext,
    /// Per question of the form: answer it (if optional) and which valid value.
    choices: Vec<(bool, u32)>,
}

fn respondents() -> impl Strategy<Value = Respondent> {
    (
        0..ROLES.len(),
        0..GROUPS.len(),
        0..AGES.len(),
        0..LANGUAGES.len(),
        0..CHANNELS.len(),
        prop::collection::vec((any::<bool>(), any::<u32>()), 9),
    )
        .prop_map(
            |(role, group, age, language, channel, choices)| Respondent {
                context: ResponseContext {
                    unit_id: UNIT.into(),
                    channel: CHANNELS[channel] as i32,
                    respondent_role: ROLES[role] as i32,
                    professional_group: GROUPS[group].into(),
                    age_band: AGES[age].into(),
                    language: LANGUAGES[language] as i32,
                },
                choices,
            },
        )
}

/// What the form allows this respondent: each shown question answered when required, and
/// when optional as `choices` says.
fn allowed_request(form: &PublishedForm, respondent: &Respondent) -> SubmitResponseRequest {
    let answers = form
        .content
        .questions
        .iter()
        .zip(&respondent.choices)
        .filter(|(q, (include, _))| is_shown(q, &respondent.context) && (q.required || *include))
        .map(|(q, (_, pick))| answer(&q.key, valid_value(q, *pick)))
        .collect();
    SubmitResponseRequest {
        submission_id: uuid::Uuid::new_v4().to_string(),
        survey_id: form.survey_id.to_string(),
        survey_version: form.version,
        context: Some(respondent.context.clone()),
        answers,
        answered_at: None,
    }
}

/// One way to break one rule of an allowed request, if it applies to it.
fn break_one_rule(
    form: &PublishedForm,
    request: &mut SubmitResponseRequest,
    breaker: usize,
) -> bool {
    let context = request.context.clone().unwrap_or_default();
    let first_answered = request.answers.first().cloned();
    match breaker {
        0 => request.answers.push(answer("no_such_question", nps(1))),
        1 => match first_answered {
            Some(first) => request.answers.push(first),
            None => return false,
        },
        2 => {
            // Drop a required answer.
            let Some(position) = request.answers.iter().position(|a| {
                form.content
                    .questions
                    .iter()
                    .any(|q| q.key == a.question_key && q.required)
            }) else {
                return false;
            };
            request.answers.remove(position);
        }
        3 => {
            // Answer a question this respondent is not shown.
            let Some(hidden) = form
                .content
                .questions
                .iter()
                .find(|q| !is_shown(q, &context))
            else {
                return false;
            };
            request
                .answers
                .push(answer(&hidden.key, valid_value(hidden, 0)));
        }
        4 => {
            // Put the first answer out of its range.
            let Some(first) = request.answers.first_mut() else {
                return false;
            };
            first.value = Some(match &first.value {
                Some(Value::Nps(_)) => nps(11),
                Some(Value::Statement(_)) => statement(6),
                Some(Value::Smiley(_)) => face(9),
                Some(Value::Choice(_)) => choice(&["not_an_option"]),
                Some(Value::OpenText(_)) | None => text(&"x".repeat(201)),
            });
        }
        5 => {
            // Answer the first question with another kind of value.
            let Some(first) = request.answers.first_mut() else {
                return false;
            };
            first.value = Some(match &first.value {
                Some(Value::Nps(_)) => text("nine"),
                _ => nps(9),
            });
        }
        6 => context_mut(request).language = Language::Unspecified as i32,
        7 => context_mut(request).unit_id = "elsewhere".into(),
        _ => context_mut(request).professional_group = "unknown_group".into(),
    }
    true
}

proptest! {
    #[test]
    fn whatever_the_form_allows_is_accepted(respondent in respondents()) {
        let form = form();
        let request = allowed_request(&form, &respondent);
        let accepted = accept(&form, &request, Utc::now());
        prop_assert!(accepted.is_ok(), "{:?}\n{:?}", accepted, request);
    }

    #[test]
    fn breaking_any_one_rule_is_refused(respondent in respondents(), breaker in 0usize..9) {
        let form = form();
        let mut request = allowed_request(&form, &respondent);
        prop_assume!(break_one_rule(&form, &mut request, breaker));
        let refused = accept(&form, &request, Utc::now());
        prop_assert!(
            matches!(refused, Err(SubmissionError::Invalid(_))),
            "breaker {}: {:?}\n{:?}", breaker, refused, request
        );
    }
}
