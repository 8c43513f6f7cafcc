//! survey-definition against a real nats-server: commands, optimistic concurrency and errors.

use kaiku_domain::fixtures::{fixture_units, nps_survey};
use kaiku_eventstore::SURVEYS_STREAM;
use kaiku_proto::survey::v1::{
    CreateSurveyRequest, GetSurveyRequest, ListSurveysRequest, PublishVersionRequest, SurveyStatus,
    UpdateDraftRequest,
};
use tonic::Code;

mod common;

use common::{TestResult, spawn_app as spawn_bare_app};

/// The service with units u1 and u2, which the fixture surveys target.
async fn spawn_app() -> TestResult<common::TestApp> {
    let mut app = spawn_bare_app().await?;
    for unit in fixture_units(&["u1", "u2"]) {
        app.client.create_unit(unit).await?;
    }
    Ok(app)
}

fn create(draft: kaiku_proto::survey::v1::SurveyContent) -> CreateSurveyRequest {
    CreateSurveyRequest {
        survey_id: String::new(),
        draft: Some(draft),
    }
}

#[tokio::test]
async fn a_survey_is_created_edited_published_and_listed() -> TestResult {
    let mut app = spawn_app().await?;
    let created = app
        .client
        .create_survey(create(nps_survey(&["u1"])))
        .await?
        .into_inner()
        .survey
        .ok_or("survey")?;
    assert_eq!(created.status, SurveyStatus::Draft as i32);
    let updated = app
        .client
        .update_draft(UpdateDraftRequest {
            survey_id: created.survey_id.clone(),
            expected_revision: created.revision,
            draft: Some(nps_survey(&["u1", "u2"])),
        })
        .await?
        .into_inner()
        .survey
        .ok_or("survey")?;
    assert!(updated.revision > created.revision);
    let published = app
        .client
        .publish_version(PublishVersionRequest {
            survey_id: created.survey_id.clone(),
            expected_revision: updated.revision,
        })
        .await?
        .into_inner();
    assert_eq!(published.version, 1);
    let fetched = app
        .client
        .get_survey(GetSurveyRequest {
            survey_id: created.survey_id.clone(),
        })
        .await?
        .into_inner();
    let fetched = fetched.survey.ok_or("survey")?;
    assert_eq!(fetched.status, SurveyStatus::Published as i32);
    assert_eq!(
        fetched.versions[0]
            .content
            .as_ref()
            .map(|c| c.unit_ids.len()),
        Some(2)
    );
    let listed = app
        .client
        .list_surveys(ListSurveysRequest {
            include_archived: false,
        })
        .await?
        .into_inner();
    assert_eq!(listed.surveys.len(), 1);
    assert_eq!(listed.surveys[0].latest_version, 1);
    Ok(())
}

#[tokio::test]
async fn a_stale_expected_revision_is_aborted_and_appends_nothing() -> TestResult {
    let mut app = spawn_app().await?;
    let created = app
        .client
        .create_survey(create(nps_survey(&["u1"])))
        .await?
        .into_inner()
        .survey
        .ok_or("survey")?;
    app.client
        .update_draft(UpdateDraftRequest {
            survey_id: created.survey_id.clone(),
            expected_revision: created.revision,
            draft: Some(nps_survey(&["u2"])),
        })
        .await?;
    let before = app.store.last_sequence(SURVEYS_STREAM).await?;
    let status = app
        .client
        .publish_version(PublishVersionRequest {
            survey_id: created.survey_id.clone(),
            expected_revision: created.revision,
        })
        .await
        .expect_err("stale revision");
    assert_eq!(status.code(), Code::Aborted, "{status:?}");
    assert_eq!(app.store.last_sequence(SURVEYS_STREAM).await?, before);
    Ok(())
}

#[tokio::test]
async fn of_two_racing_publishes_exactly_one_wins() -> TestResult {
    let mut app = spawn_app().await?;
    let created = app
        .client
        .create_survey(create(nps_survey(&["u1"])))
        .await?
        .into_inner()
        .survey
        .ok_or("survey")?;
    let publish = || PublishVersionRequest {
        survey_id: created.survey_id.clone(),
        expected_revision: created.revision,
    };
    let (mut a, mut b) = (app.client.clone(), app.client.clone());
    let (first, second) = tokio::join!(a.publish_version(publish()), b.publish_version(publish()));
    let outcomes = [first.map(|_| ()), second.map(|_| ())];
    let wins = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(wins, 1, "{outcomes:?}");
    for lost in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert_eq!(lost.code(), Code::Aborted, "{lost:?}");
    }
    let survey = app
        .client
        .get_survey(GetSurveyRequest {
            survey_id: created.survey_id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(survey.survey.ok_or("survey")?.versions.len(), 1);
    Ok(())
}

#[tokio::test]
async fn an_invalid_draft_is_refused_naming_every_field() -> TestResult {
    let mut app = spawn_app().await?;
    let before = app.store.last_sequence(SURVEYS_STREAM).await?;
    let mut draft = nps_survey(&["u1"]);
    draft.questions[0].key = "Bad Key".into();
    draft.unit_ids.push("no spaces allowed".into());
    let status = app
        .client
        .create_survey(create(draft))
        .await
        .expect_err("invalid");
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = kaiku_grpc::bad_request_fields(&status)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(fields, vec!["draft.unit_ids[1]", "draft.questions[0].key"]);
    assert_eq!(app.store.last_sequence(SURVEYS_STREAM).await?, before);
    Ok(())
}

#[tokio::test]
async fn a_retention_beyond_ten_years_is_refused_naming_the_field_and_one_within_is_kept()
-> TestResult {
    let mut app = spawn_app().await?;
    let before = app.store.last_sequence(SURVEYS_STREAM).await?;
    let retention = |open_text_months| {
        let mut draft = nps_survey(&["u1"]);
        draft.retention = Some(kaiku_proto::survey::v1::Retention { open_text_months });
        draft
    };
    let status = app
        .client
        .create_survey(create(retention(121)))
        .await
        .expect_err("121 months");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        kaiku_grpc::bad_request_fields(&status),
        vec![(
            "draft.retention.open_text_months".to_owned(),
            "must be at most 120 months (0 = the county's default), got 121".to_owned()
        )]
    );
    assert_eq!(app.store.last_sequence(SURVEYS_STREAM).await?, before);
    let created = app
        .client
        .create_survey(create(retention(6)))
        .await?
        .into_inner()
        .survey
        .ok_or("survey")?;
    let published = app
        .client
        .publish_version(PublishVersionRequest {
            survey_id: created.survey_id.clone(),
            expected_revision: created.revision,
        })
        .await?
        .into_inner();
    let survey = published.survey.ok_or("survey")?;
    let content = survey.versions[0].content.as_ref().ok_or("content")?;
    assert_eq!(content.retention.map(|r| r.open_text_months), Some(6));
    Ok(())
}

#[tokio::test]
async fn publishing_with_a_missing_translation_names_what_is_missing() -> TestResult {
    let mut app = spawn_app().await?;
    let mut draft = nps_survey(&["u1"]);
    draft.questions[1]
        .texts
        .retain(|t| t.language != kaiku_proto::survey::v1::Language::Sv as i32);
    let created = app
        .client
        .create_survey(create(draft))
        .await?
        .into_inner()
        .survey
        .ok_or("survey")?;
    let status = app
        .client
        .publish_version(PublishVersionRequest {
            survey_id: created.survey_id.clone(),
            expected_revision: created.revision,
        })
        .await
        .expect_err("missing translation");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        kaiku_grpc::bad_request_fields(&status),
        vec![(
            "draft.questions[1].texts".to_owned(),
            "missing translation: sv".to_owned()
        )]
    );
    Ok(())
}

#[tokio::test]
async fn an_unknown_or_malformed_survey_id_is_reported() -> TestResult {
    let mut app = spawn_app().await?;
    let unknown = uuid::Uuid::new_v4().to_string();
    let status = app
        .client
        .get_survey(GetSurveyRequest { survey_id: unknown })
        .await
        .expect_err("unknown");
    assert_eq!(status.code(), Code::NotFound);
    let status = app
        .client
        .get_survey(GetSurveyRequest {
            survey_id: "nope".into(),
        })
        .await
        .expect_err("malformed");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(kaiku_grpc::bad_request_fields(&status)[0].0, "survey_id");
    Ok(())
}
