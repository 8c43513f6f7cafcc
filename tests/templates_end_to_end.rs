//! Both built-in templates through the running system: created from ListTemplates, published
//! to a unit tree, each respondent's form fetched with GetForm in fi, sv and en, answered and
//! counted. Group-, role- and age-specific questions reach only their respondents.

use chrono::{Duration, Utc};
use kaiku_domain::time::{helsinki_date, local_date};
use kaiku_proto::analytics::v1::{GetNpsRequest, ResponseFilter};
use kaiku_proto::intake::v1::{
    Answer, ChoiceAnswer, NpsAnswer, OpenTextAnswer, ResponseContext, SmileyAnswer,
    StatementAnswer, SubmitResponseRequest, answer::Value,
};
use kaiku_proto::survey::v1::{
    Channel, CollectionPeriod, GetFormRequest, GetFormResponse, Language, RespondentRole,
    ScheduledCollection, UnitLevel, question::Kind, survey_content::Collection,
};
use kaiku_system_tests::{Stack, TestResult, unit};
use tonic::Code;

const LANGUAGES: [Language; 3] = [Language::Fi, Language::Sv, Language::En];

/// county > student-welfare > school-1, school-2
async fn create_units(stack: &Stack) -> TestResult {
    let mut surveys = stack.surveys().await?;
    for request in [
        unit("county", "", UnitLevel::County, "county"),
        unit(
            "student-welfare",
            "county",
            UnitLevel::ServiceArea,
            "student-welfare",
        ),
        unit("school-1", "student-welfare", UnitLevel::Unit, "school-1"),
        unit("school-2", "student-welfare", UnitLevel::Unit, "school-2"),
    ] {
        surveys.create_unit(request).await?;
    }
    Ok(())
}

struct Respondent {
    role: RespondentRole,
    group: &'static str,
    age_band: &'static str,
}

fn context(unit_id: &str, who: &Respondent, language: Language) -> ResponseContext {
    ResponseContext {
        unit_id: unit_id.into(),
        channel: Channel::Qr as i32,
        respondent_role: who.role as i32,
        professional_group: who.group.into(),
        age_band: who.age_band.into(),
        language: language as i32,
    }
}

async fn form(
    stack: &Stack,
    survey_id: &str,
    context: &ResponseContext,
) -> TestResult<GetFormResponse> {
    Ok(stack
        .surveys()
        .await?
        .get_form(GetFormRequest {
            survey_id: survey_id.into(),
            survey_version: 1,
            context: Some(context.clone()),
        })
        .await?
        .into_inner())
}

fn keys(form: &GetFormResponse) -> Vec<String> {
    form.questions
        .iter()
        .filter_map(|q| q.question.as_ref().map(|q| q.key.clone()))
        .collect()
}

/// A valid answer to every question of the form; NPS answers are `nps`.
fn answer_all(form: &GetFormResponse, nps: u32) -> Vec<Answer> {
    form.questions
        .iter()
        .filter_map(|item| item.question.as_ref())
        .map(|question| {
            let value = match &question.kind {
                Some(Kind::Nps(_)) => Value::Nps(NpsAnswer { score: nps }),
                Some(Kind::Statement(_)) => Value::Statement(StatementAnswer {
                    score: 4,
                    dont_know: false,
                }),
                Some(Kind::Smiley(_)) => Value::Smiley(SmileyAnswer { face: 3 }),
                Some(Kind::Choice(choice)) => Value::Choice(ChoiceAnswer {
                    option_keys: choice
                        .options
                        .iter()
                        .take(1)
                        .map(|o| o.key.clone())
                        .collect(),
                }),
                Some(Kind::OpenText(_)) | None => Value::OpenText(OpenTextAnswer {
                    text: "Kiitos / Tack / Thank you".into(),
                }),
            };
            Answer {
                question_key: question.key.clone(),
                value: Some(value),
            }
        })
        .collect()
}

fn submission(
    survey_id: &str,
    context: &ResponseContext,
    answers: Vec<Answer>,
) -> SubmitResponseRequest {
    SubmitResponseRequest {
        submission_id: uuid::Uuid::new_v4().to_string(),
        survey_id: survey_id.into(),
        survey_version: 1,
        context: Some(context.clone()),
        answers,
        answered_at: None,
    }
}

async fn nps(
    stack: &Stack,
    survey_id: &str,
    role: RespondentRole,
    min_sequence: u64,
) -> TestResult<kaiku_proto::analytics::v1::GetNpsResponse> {
    Ok(stack
        .analytics()
        .await?
        .get_nps(GetNpsRequest {
            survey_id: survey_id.into(),
            question_key: String::new(),
            filter: Some(ResponseFilter {
                respondent_roles: vec![role as i32],
                ..Default::default()
            }),
            min_sequence,
            grouping: None,
        })
        .await?
        .into_inner())
}

#[tokio::test]
async fn the_student_welfare_survey_gives_each_respondent_their_own_form() -> TestResult {
    let stack = Stack::start().await?;
    create_units(&stack).await?;
    let mut content = stack.template("student-welfare").await?;
    content.unit_ids = vec!["student-welfare".into()];
    // One three-week period that is open today on the Helsinki calendar.
    let today = helsinki_date(Utc::now());
    content.collection = Some(Collection::Scheduled(ScheduledCollection {
        periods: vec![CollectionPeriod {
            period_id: "current".into(),
            starts_on: Some(local_date(today - Duration::days(7))),
            ends_on: Some(local_date(today + Duration::days(13))),
        }],
    }));
    let survey_id = stack.publish(content).await?;

    let kuraattori_client = Respondent {
        role: RespondentRole::Client,
        group: "kuraattori",
        age_band: "age_13_17",
    };
    let psykologi_client = Respondent {
        role: RespondentRole::Client,
        group: "psykologi",
        age_band: "age_13_17",
    };
    let young_client = Respondent {
        role: RespondentRole::Client,
        group: "kuraattori",
        age_band: "age_7_12",
    };
    let guardian = Respondent {
        role: RespondentRole::Guardian,
        group: "psykologi",
        age_band: "adult",
    };
    let expected_forms: [(&Respondent, &[&str]); 4] = [
        (
            &kuraattori_client,
            &[
                "nps",
                "kohtaaminen",
                "osallistuminen",
                "hyodyllisyys",
                "kuraattori_relationships",
                "open_feedback",
            ],
        ),
        (
            &psykologi_client,
            &[
                "nps",
                "kohtaaminen",
                "osallistuminen",
                "hyodyllisyys",
                "psykologi_understood",
                "open_feedback",
            ],
        ),
        (
            &young_client,
            &["child_overall", "child_listened", "open_feedback"],
        ),
        (
            &guardian,
            &[
                "nps",
                "kohtaaminen",
                "osallistuminen",
                "hyodyllisyys",
                "guardian_informed",
                "open_feedback",
            ],
        ),
    ];

    let mut intake = stack.intake().await?;
    let mut last = 0;
    // Each age band's own title (7-12, 13-17) or the survey's (adults), per language.
    let mut titles = std::collections::BTreeMap::new();
    for language in LANGUAGES {
        for (school, (who, expected)) in
            ["school-1", "school-2"].iter().cycle().zip(&expected_forms)
        {
            let context = context(school, who, language);
            let form = form(&stack, &survey_id, &context).await?;
            assert!(form.accepting, "{}", form.closed_reason);
            assert_eq!(form.period_id, "current");
            assert_eq!(keys(&form), *expected, "{:?} {language:?}", who.role);
            assert!(form.questions.iter().all(|q| !q.text.is_empty()));
            if let Some(other) = titles.insert((language as i32, who.age_band), form.title.clone())
            {
                assert_eq!(other, form.title, "one title per age band and language");
            }
            let reply = intake
                .submit_response(submission(&survey_id, &context, answer_all(&form, 9)))
                .await?
                .into_inner();
            last = last.max(reply.sequence);
        }
    }
    let distinct: std::collections::BTreeSet<&String> = titles.values().collect();
    assert_eq!(
        (titles.len(), distinct.len()),
        (9, 9),
        "a title per age band and language: {titles:?}"
    );

    // A question of the other professional group is refused, naming it; nothing is stored.
    let context = context("school-1", &psykologi_client, Language::Fi);
    let psykologi_form = form(&stack, &survey_id, &context).await?;
    let mut answers = answer_all(&psykologi_form, 10);
    answers.push(Answer {
        question_key: "kuraattori_relationships".into(),
        value: Some(Value::Statement(StatementAnswer {
            score: 5,
            dont_know: false,
        })),
    });
    let refused = intake
        .submit_response(submission(&survey_id, &context, answers.clone()))
        .await
        .expect_err("another group's question");
    assert_eq!(refused.code(), Code::InvalidArgument);
    let fields: Vec<String> = kaiku_grpc::bad_request_fields(&refused)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(
        fields,
        vec![format!("answers[{}].question_key", answers.len() - 1)]
    );

    // Clients aged 13+ answered NPS 6 times (3 languages x 2 groups); the youngest answered
    // with faces instead. Guardians' 3 answers are their own figure, and too few to show.
    let clients = nps(&stack, &survey_id, RespondentRole::Client, last).await?;
    let figure = clients.figure.ok_or("client figure")?;
    assert_eq!((figure.n, figure.promoters), (6, 6));
    let guardians = nps(&stack, &survey_id, RespondentRole::Guardian, last).await?;
    assert!(guardians.suppressed);
    Ok(())
}

#[tokio::test]
async fn the_thl_national_form_is_answered_in_every_language_by_clients_and_guardians() -> TestResult
{
    let stack = Stack::start().await?;
    create_units(&stack).await?;
    let mut content = stack.template("thl-national").await?;
    content.unit_ids = vec!["school-1".into()];
    let survey_id = stack.publish(content).await?;
    let mut intake = stack.intake().await?;
    let mut last = 0;
    for role in [RespondentRole::Client, RespondentRole::Guardian] {
        for (i, language) in LANGUAGES.iter().cycle().take(6).enumerate() {
            let who = Respondent {
                role,
                group: "",
                age_band: "",
            };
            let context = context("school-1", &who, *language);
            let form = form(&stack, &survey_id, &context).await?;
            assert_eq!(
                form.questions.len(),
                9,
                "NPS, seven statements, open feedback"
            );
            assert_eq!(form.period_id, "", "continuous collection");
            let score = if i % 2 == 0 { 10 } else { 5 };
            last = intake
                .submit_response(submission(&survey_id, &context, answer_all(&form, score)))
                .await?
                .into_inner()
                .sequence;
        }
    }
    for role in [RespondentRole::Client, RespondentRole::Guardian] {
        let reply = nps(&stack, &survey_id, role, last).await?;
        let figure = reply.figure.ok_or("figure")?;
        assert_eq!((figure.n, figure.promoters, figure.detractors), (6, 3, 3));
        assert_eq!(figure.nps, Some(0.0));
    }
    Ok(())
}
