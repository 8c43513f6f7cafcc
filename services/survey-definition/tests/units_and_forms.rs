//! survey-definition against a real nats-server: the unit tree, publishing against it, the
//! resolved form a channel renders, and the built-in templates.

use kaiku_domain::fixtures::{FIXTURE_COUNTY, fixture_units, nps_survey, texts};
use kaiku_eventstore::SURVEYS_STREAM;
use kaiku_proto::intake::v1::ResponseContext;
use kaiku_proto::survey::v1::{
    Channel as ChannelKind, CloseUnitRequest, CreateSurveyRequest, CreateUnitRequest,
    GetFormRequest, Language, ListTemplatesRequest, ListUnitsRequest, MoveUnitRequest,
    PublishVersionRequest, RespondentRole, UnitLevel,
};
use tonic::Code;

mod common;

use common::{TestApp, TestResult, spawn_app};

fn fields(status: &tonic::Status) -> Vec<String> {
    kaiku_grpc::bad_request_fields(status)
        .into_iter()
        .map(|(field, _)| field)
        .collect()
}

fn unit(unit_id: &str, parent: &str, level: UnitLevel) -> CreateUnitRequest {
    CreateUnitRequest {
        unit_id: unit_id.to_owned(),
        parent_unit_id: parent.to_owned(),
        level: level as i32,
        names: texts(unit_id, unit_id, unit_id),
    }
}

fn context(unit_id: &str, role: RespondentRole, language: Language) -> ResponseContext {
    ResponseContext {
        unit_id: unit_id.to_owned(),
        channel: ChannelKind::Qr as i32,
        respondent_role: role as i32,
        professional_group: String::new(),
        age_band: String::new(),
        language: language as i32,
    }
}

impl TestApp {
    /// county > area > school-1, school-2
    async fn demo_units(&mut self) -> TestResult {
        for request in [
            unit("county", "", UnitLevel::County),
            unit("area", "county", UnitLevel::ServiceArea),
            unit("school-1", "area", UnitLevel::Unit),
            unit("school-2", "area", UnitLevel::Unit),
        ] {
            self.client.create_unit(request).await?;
        }
        Ok(())
    }

    async fn publish(
        &mut self,
        draft: kaiku_proto::survey::v1::SurveyContent,
    ) -> TestResult<String> {
        let created = self
            .client
            .create_survey(CreateSurveyRequest {
                survey_id: String::new(),
                draft: Some(draft),
            })
            .await?
            .into_inner()
            .survey
            .ok_or("survey")?;
        self.client
            .publish_version(PublishVersionRequest {
                survey_id: created.survey_id.clone(),
                expected_revision: created.revision,
            })
            .await?;
        Ok(created.survey_id)
    }
}

#[tokio::test]
async fn units_form_a_tree_listed_parents_first() -> TestResult {
    let mut app = spawn_app().await?;
    app.demo_units().await?;
    // Creating again with the same settings changes nothing.
    let before = app.store.last_sequence(SURVEYS_STREAM).await?;
    app.client
        .create_unit(unit("school-1", "area", UnitLevel::Unit))
        .await?;
    assert_eq!(app.store.last_sequence(SURVEYS_STREAM).await?, before);
    let units = app
        .client
        .list_units(ListUnitsRequest::default())
        .await?
        .into_inner()
        .units;
    let ids: Vec<String> = units
        .iter()
        .filter_map(|u| u.unit.as_ref().map(|u| u.unit_id.clone()))
        .collect();
    assert_eq!(ids, vec!["county", "area", "school-1", "school-2"]);
    Ok(())
}

#[tokio::test]
async fn refused_unit_changes_say_why_and_append_nothing() -> TestResult {
    let mut app = spawn_app().await?;
    app.demo_units().await?;
    let before = app.store.last_sequence(SURVEYS_STREAM).await?;

    let misplaced = app
        .client
        .create_unit(unit("area-2", "school-1", UnitLevel::ServiceArea))
        .await
        .expect_err("area under a school");
    assert_eq!(misplaced.code(), Code::InvalidArgument);
    assert_eq!(fields(&misplaced), vec!["parent_unit_id"]);

    let conflicting = app
        .client
        .create_unit(unit("school-1", "county", UnitLevel::Unit))
        .await
        .expect_err("same id, other parent");
    assert_eq!(conflicting.code(), Code::AlreadyExists);

    let missing = app
        .client
        .move_unit(MoveUnitRequest {
            unit_id: "nowhere".into(),
            expected_revision: 1,
            parent_unit_id: "area".into(),
        })
        .await
        .expect_err("no such unit");
    assert_eq!(missing.code(), Code::NotFound);

    let area = app
        .client
        .list_units(ListUnitsRequest::default())
        .await?
        .into_inner()
        .units
        .into_iter()
        .filter_map(|u| u.unit)
        .find(|u| u.unit_id == "area")
        .ok_or("area")?;
    let stale = app
        .client
        .close_unit(CloseUnitRequest {
            unit_id: "area".into(),
            expected_revision: area.revision + 10,
        })
        .await
        .expect_err("stale revision");
    assert_eq!(stale.code(), Code::Aborted);
    let busy = app
        .client
        .close_unit(CloseUnitRequest {
            unit_id: "area".into(),
            expected_revision: area.revision,
        })
        .await
        .expect_err("open schools below");
    assert_eq!(fields(&busy), vec!["unit_id"]);

    assert_eq!(app.store.last_sequence(SURVEYS_STREAM).await?, before);
    Ok(())
}

#[tokio::test]
async fn publishing_refuses_targets_that_do_not_exist() -> TestResult {
    let mut app = spawn_app().await?;
    app.demo_units().await?;
    let created = app
        .client
        .create_survey(CreateSurveyRequest {
            survey_id: String::new(),
            draft: Some(nps_survey(&["area", "ghost-school"])),
        })
        .await?
        .into_inner()
        .survey
        .ok_or("survey")?;
    let before = app.store.last_sequence(SURVEYS_STREAM).await?;
    let refused = app
        .client
        .publish_version(PublishVersionRequest {
            survey_id: created.survey_id,
            expected_revision: created.revision,
        })
        .await
        .expect_err("unknown unit");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(fields(&refused), vec!["draft.unit_ids[1]"]);
    assert_eq!(app.store.last_sequence(SURVEYS_STREAM).await?, before);
    Ok(())
}

#[tokio::test]
async fn the_form_covers_units_below_a_target_in_the_respondents_language() -> TestResult {
    let mut app = spawn_app().await?;
    app.demo_units().await?;
    let survey_id = app.publish(nps_survey(&["area"])).await?;
    let form = |unit_id: &str, language| GetFormRequest {
        survey_id: survey_id.clone(),
        survey_version: 0,
        context: Some(context(unit_id, RespondentRole::Client, language)),
    };
    let swedish = app
        .client
        .get_form(form("school-2", Language::Sv))
        .await?
        .into_inner();
    assert_eq!(swedish.survey_version, 1);
    assert_eq!(swedish.title, "Kundrespons");
    assert!(swedish.accepting);
    let keys: Vec<&str> = swedish
        .questions
        .iter()
        .filter_map(|q| q.question.as_ref().map(|q| q.key.as_str()))
        .collect();
    assert_eq!(keys, vec!["nps", "open_feedback"]);
    assert!(swedish.questions.iter().all(|q| !q.text.is_empty()));

    // A school added to the area after publishing is covered too.
    app.client
        .create_unit(unit("school-3", "area", UnitLevel::Unit))
        .await?;
    app.client.get_form(form("school-3", Language::En)).await?;

    let outside = app
        .client
        .get_form(form(FIXTURE_COUNTY, Language::Fi))
        .await
        .expect_err("not targeted");
    assert_eq!(fields(&outside), vec!["context.unit_id"]);
    Ok(())
}

#[tokio::test]
async fn refused_form_requests_name_the_problem() -> TestResult {
    let mut app = spawn_app().await?;
    for request in fixture_units(&["u1"]) {
        app.client.create_unit(request).await?;
    }
    let survey_id = app.publish(nps_survey(&["u1"])).await?;
    let request = |version: u32, context: ResponseContext| GetFormRequest {
        survey_id: survey_id.clone(),
        survey_version: version,
        context: Some(context),
    };

    let unknown_version = app
        .client
        .get_form(request(
            7,
            context("u1", RespondentRole::Client, Language::Fi),
        ))
        .await
        .expect_err("version 7");
    assert_eq!(fields(&unknown_version), vec!["survey_version"]);

    let relative = app
        .client
        .get_form(request(
            1,
            context("u1", RespondentRole::Relative, Language::Fi),
        ))
        .await
        .expect_err("relatives are not asked");
    assert_eq!(fields(&relative), vec!["context.respondent_role"]);

    let mut no_channel = context("u1", RespondentRole::Client, Language::Unspecified);
    no_channel.channel = ChannelKind::Unspecified as i32;
    let incomplete = app
        .client
        .get_form(request(1, no_channel))
        .await
        .expect_err("no channel or language");
    assert_eq!(
        fields(&incomplete),
        vec!["context.channel", "context.language"]
    );

    let unknown_survey = app
        .client
        .get_form(GetFormRequest {
            survey_id: uuid::Uuid::new_v4().to_string(),
            survey_version: 0,
            context: Some(context("u1", RespondentRole::Client, Language::Fi)),
        })
        .await
        .expect_err("no such survey");
    assert_eq!(fields(&unknown_survey), vec!["survey_id"]);
    Ok(())
}

#[tokio::test]
async fn both_templates_are_offered_and_publishable() -> TestResult {
    let mut app = spawn_app().await?;
    app.demo_units().await?;
    let templates = app
        .client
        .list_templates(ListTemplatesRequest {})
        .await?
        .into_inner()
        .templates;
    let keys: Vec<&str> = templates.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(keys, vec!["thl-national", "student-welfare"]);
    for template in templates {
        let mut content = template.content.ok_or("content")?;
        content.unit_ids = vec!["area".into()];
        app.publish(content).await?;
    }
    Ok(())
}
