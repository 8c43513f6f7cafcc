//! The walking skeleton end to end: publish a survey, submit 200 answers with a known score
//! distribution over gRPC, and read the exact NPS back with the consistency token. No sleeps:
//! read-your-writes comes from min_sequence.

use kaiku_domain::fixtures::{NPS_KEY, nps_survey};
use kaiku_proto::analytics::v1::{GetNpsRequest, ResponseFilter};
use kaiku_proto::intake::v1::{
    Answer, NpsAnswer, ResponseContext, SubmitResponseRequest, answer::Value,
};
use kaiku_proto::survey::v1::{
    Channel, CreateSurveyRequest, Language, PublishVersionRequest, RespondentRole,
};
use kaiku_system_tests::{Stack, TestResult};

fn answer(survey_id: &str, unit: &str, role: RespondentRole, score: u32) -> SubmitResponseRequest {
    SubmitResponseRequest {
        submission_id: uuid::Uuid::new_v4().to_string(),
        survey_id: survey_id.to_owned(),
        survey_version: 1,
        context: Some(ResponseContext {
            unit_id: unit.to_owned(),
            channel: Channel::Qr as i32,
            respondent_role: role as i32,
            language: Language::Fi as i32,
            ..Default::default()
        }),
        answers: vec![Answer {
            question_key: NPS_KEY.into(),
            value: Some(Value::Nps(NpsAnswer { score })),
        }],
        answered_at: None,
    }
}

#[tokio::test]
async fn two_hundred_answers_give_the_exact_nps_with_read_your_writes() -> TestResult {
    let stack = Stack::start().await?;
    let mut surveys = stack.surveys().await?;
    let created = surveys
        .create_survey(CreateSurveyRequest {
            survey_id: String::new(),
            draft: Some(nps_survey(&["school-a", "school-b"])),
        })
        .await?
        .into_inner()
        .survey
        .ok_or("no survey")?;
    let published = surveys
        .publish_version(PublishVersionRequest {
            survey_id: created.survey_id.clone(),
            expected_revision: created.revision,
        })
        .await?
        .into_inner();
    assert_eq!(published.version, 1);

    // 200 client answers: school-a gets 80 promoters, 30 passives, 10 detractors;
    // school-b gets 30 promoters, 20 passives, 30 detractors. Plus 7 guardian answers (all 0),
    // which must not move the client figure.
    let mut plan = Vec::new();
    plan.extend(std::iter::repeat_n(("school-a", 10), 40));
    plan.extend(std::iter::repeat_n(("school-a", 9), 40));
    plan.extend(std::iter::repeat_n(("school-a", 8), 30));
    plan.extend(std::iter::repeat_n(("school-a", 2), 10));
    plan.extend(std::iter::repeat_n(("school-b", 9), 30));
    plan.extend(std::iter::repeat_n(("school-b", 7), 20));
    plan.extend(std::iter::repeat_n(("school-b", 6), 15));
    plan.extend(std::iter::repeat_n(("school-b", 0), 15));
    assert_eq!(plan.len(), 200);
    let mut intake = stack.intake().await?;
    let mut last_sequence = 0;
    for (unit, score) in plan {
        let reply = intake
            .submit_response(answer(
                &created.survey_id,
                unit,
                RespondentRole::Client,
                score,
            ))
            .await?
            .into_inner();
        assert!(!reply.duplicate);
        assert!(reply.sequence > last_sequence, "sequences grow");
        last_sequence = reply.sequence;
    }
    for _ in 0..7 {
        let reply = intake
            .submit_response(answer(
                &created.survey_id,
                "school-a",
                RespondentRole::Guardian,
                0,
            ))
            .await?;
        last_sequence = reply.into_inner().sequence;
    }

    let mut analytics = stack.analytics().await?;
    let nps = |unit_ids: Vec<String>, roles: Vec<i32>| GetNpsRequest {
        survey_id: created.survey_id.clone(),
        question_key: String::new(),
        filter: Some(ResponseFilter {
            unit_ids,
            respondent_roles: roles,
            ..Default::default()
        }),
        min_sequence: last_sequence,
    };

    let all = analytics.get_nps(nps(vec![], vec![])).await?.into_inner();
    assert!(all.as_of_sequence >= last_sequence, "{}", stack.logs());
    let figure = all.figure.ok_or("figure missing")?;
    assert_eq!(
        (
            figure.n,
            figure.promoters,
            figure.passives,
            figure.detractors
        ),
        (200, 110, 50, 40)
    );
    assert_eq!(figure.nps, Some(35.0)); // (110 - 40) / 200

    let school_b = analytics
        .get_nps(nps(vec!["school-b".into()], vec![]))
        .await?
        .into_inner();
    let figure = school_b.figure.ok_or("figure missing")?;
    assert_eq!(
        (figure.n, figure.promoters, figure.detractors),
        (80, 30, 30)
    );
    assert_eq!(figure.nps, Some(0.0));

    // Guardians' answers are a separate figure, and 7 is above the minimum group size of 5.
    let guardians = analytics
        .get_nps(nps(vec![], vec![RespondentRole::Guardian as i32]))
        .await?
        .into_inner();
    let figure = guardians.figure.ok_or("figure missing")?;
    assert_eq!((figure.n, figure.detractors), (7, 7));
    assert_eq!(figure.nps, Some(-100.0));
    Ok(())
}

#[tokio::test]
async fn a_group_below_the_minimum_size_is_suppressed() -> TestResult {
    let stack = Stack::start().await?;
    let mut surveys = stack.surveys().await?;
    let created = surveys
        .create_survey(CreateSurveyRequest {
            survey_id: String::new(),
            draft: Some(nps_survey(&["small-unit"])),
        })
        .await?
        .into_inner()
        .survey
        .ok_or("no survey")?;
    surveys
        .publish_version(PublishVersionRequest {
            survey_id: created.survey_id.clone(),
            expected_revision: created.revision,
        })
        .await?;
    let mut intake = stack.intake().await?;
    let mut last = 0;
    for score in [10, 9, 3] {
        last = intake
            .submit_response(answer(
                &created.survey_id,
                "small-unit",
                RespondentRole::Client,
                score,
            ))
            .await?
            .into_inner()
            .sequence;
    }
    let reply = stack
        .analytics()
        .await?
        .get_nps(GetNpsRequest {
            survey_id: created.survey_id.clone(),
            question_key: String::new(),
            filter: None,
            min_sequence: last,
        })
        .await?
        .into_inner();
    assert!(reply.suppressed);
    assert_eq!(reply.figure, None);
    assert_eq!(reply.min_group_size, 5);
    Ok(())
}
