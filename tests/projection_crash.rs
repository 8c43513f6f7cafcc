//! Killing the projection with SIGKILL in the middle of a run and starting it again gives exact
//! counts: each batch and its checkpoint commit together, so nothing is lost or doubled.

use kaiku_domain::fixtures::{NPS_KEY, nps_survey};
use kaiku_proto::analytics::v1::GetNpsRequest;
use kaiku_proto::intake::v1::{
    Answer, NpsAnswer, ResponseContext, SubmitResponseRequest, answer::Value,
};
use kaiku_proto::survey::v1::{
    Channel, CreateSurveyRequest, Language, PublishVersionRequest, RespondentRole,
};
use kaiku_system_tests::{Stack, TestResult};

fn answer(survey_id: &str, score: u32) -> SubmitResponseRequest {
    SubmitResponseRequest {
        submission_id: uuid::Uuid::new_v4().to_string(),
        survey_id: survey_id.to_owned(),
        survey_version: 1,
        context: Some(ResponseContext {
            unit_id: "unit-1".into(),
            channel: Channel::Kiosk as i32,
            respondent_role: RespondentRole::Client as i32,
            language: Language::Sv as i32,
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
async fn a_projection_killed_mid_run_resumes_with_exact_counts() -> TestResult {
    let mut stack = Stack::start().await?;
    let mut surveys = stack.surveys().await?;
    let created = surveys
        .create_survey(CreateSurveyRequest {
            survey_id: String::new(),
            draft: Some(nps_survey(&["unit-1"])),
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
    let scores = |i: u32| [10, 9, 8, 7, 6, 0][(i % 6) as usize];

    // Submit while the projection is working, kill it part way, keep submitting while it is
    // down, then start it again.
    let mut last = 0;
    for i in 0..300 {
        if i == 150 {
            stack.kill("projection").await?;
        }
        last = intake
            .submit_response(answer(&created.survey_id, scores(i)))
            .await?
            .into_inner()
            .sequence;
    }
    stack.start_service("projection").await?;
    for i in 300..360 {
        last = intake
            .submit_response(answer(&created.survey_id, scores(i)))
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
    let figure = reply.figure.ok_or("figure missing")?;
    // 360 answers, scores cycling 10, 9, 8, 7, 6, 0: 120 promoters, 120 passives, 120 detractors.
    assert_eq!(
        (
            figure.n,
            figure.promoters,
            figure.passives,
            figure.detractors
        ),
        (360, 120, 120, 120),
        "{}",
        stack.logs()
    );
    let pool = stack.database().await?;
    let (responses,): (i64,) = sqlx::query_as("select count(*) from response")
        .fetch_one(&pool)
        .await?;
    assert_eq!(responses, 360);
    let (dead,): (i64,) = sqlx::query_as("select count(*) from dead_letter")
        .fetch_one(&pool)
        .await?;
    assert_eq!(dead, 0);
    Ok(())
}
