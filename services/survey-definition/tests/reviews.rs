//! Results reviews over gRPC against a real nats-server: development targets are recorded and
//! followed up as ReviewEvents under kaiku.review.<unit>, only by readers of that unit, and
//! every malformed request is refused naming its fields, with nothing appended.

use kaiku_auth::Scope;
use kaiku_domain::fixtures::fixture_units;
use kaiku_eventstore::SURVEYS_STREAM;
use kaiku_proto::survey::v1::{
    FollowUpDevelopmentTargetRequest, ListDevelopmentTargetsRequest,
    RecordDevelopmentTargetRequest, TargetProgress,
};
use kaiku_test_support::Grant;
use tonic::Code;

mod common;

use common::{TestResult, spawn_app_with_keys};

const SURVEY: &str = "0190b3c4-0000-7000-8000-000000000001";

fn record(unit: &str, text: &str) -> RecordDevelopmentTargetRequest {
    RecordDevelopmentTargetRequest {
        unit_id: unit.into(),
        survey_id: SURVEY.into(),
        period_id: "spring-2026".into(),
        text: text.into(),
        target_id: String::new(),
    }
}

#[tokio::test]
async fn a_manager_records_and_follows_up_targets_of_their_units_only() -> TestResult {
    let reader_a = Grant {
        unit_subtrees: vec!["school-a".into()],
        ..Grant::default()
    };
    let (mut app, tokens) = spawn_app_with_keys(&[
        ("manager-a", &[Scope::AnalyticsRead], reader_a),
        ("adapter", &[Scope::Submit], Grant::default()),
    ])
    .await?;
    for unit in fixture_units(&["school-a", "school-b"]) {
        app.client.create_unit(unit).await?;
    }
    let mut manager = app.client_as(&tokens[0]).await?;
    let mut adapter = app.client_as(&tokens[1]).await?;

    let recorded = manager
        .record_development_target(record("school-a", "  Shorter waiting times  "))
        .await?
        .into_inner()
        .target
        .ok_or("no target")?;
    assert_eq!(recorded.text, "Shorter waiting times");
    assert_eq!(recorded.progress, TargetProgress::Chosen as i32);
    assert_eq!(recorded.recorded_by, "api-key:manager-a");
    let followed = manager
        .follow_up_development_target(FollowUpDevelopmentTargetRequest {
            unit_id: "school-a".into(),
            target_id: recorded.target_id.clone(),
            progress: TargetProgress::Achieved as i32,
            note: "Drop-in hours on Tuesdays".into(),
            period_id: "autumn-2026".into(),
        })
        .await?
        .into_inner()
        .target
        .ok_or("no target")?;
    assert_eq!(followed.progress, TargetProgress::Achieved as i32);
    assert_eq!(followed.followed_up_in_period_id, "autumn-2026");
    let before = app.store.last_sequence(SURVEYS_STREAM).await?;

    // Another unit, another scope, malformed fields, an unknown target: refused, nothing added.
    let other_unit = manager
        .record_development_target(record("school-b", "x"))
        .await;
    assert_eq!(
        other_unit.map(|_| ()).map_err(|s| s.code()),
        Err(Code::PermissionDenied)
    );
    let listing_other = manager
        .list_development_targets(ListDevelopmentTargetsRequest {
            unit_id: "school-b".into(),
            survey_id: String::new(),
        })
        .await;
    assert_eq!(
        listing_other.map(|_| ()).map_err(|s| s.code()),
        Err(Code::PermissionDenied)
    );
    let no_scope = adapter
        .record_development_target(record("school-a", "x"))
        .await;
    assert_eq!(
        no_scope.map(|_| ()).map_err(|s| s.code()),
        Err(Code::PermissionDenied)
    );
    let unknown_unit = app
        .client
        .record_development_target(record("school-z", "x"))
        .await;
    assert_eq!(
        unknown_unit.map(|_| ()).map_err(|s| s.code()),
        Err(Code::NotFound)
    );
    let invalid = manager
        .record_development_target(RecordDevelopmentTargetRequest {
            unit_id: "school-a".into(),
            survey_id: "not-a-survey".into(),
            period_id: "Spring 2026".into(),
            text: String::new(),
            target_id: "x".into(),
        })
        .await
        .err()
        .ok_or("an invalid target was accepted")?;
    assert_eq!(invalid.code(), Code::InvalidArgument);
    let fields: Vec<String> = kaiku_grpc::bad_request_fields(&invalid)
        .into_iter()
        .map(|(field, _)| field)
        .collect();
    assert_eq!(fields, ["survey_id", "period_id", "text", "target_id"]);
    let unknown_target = manager
        .follow_up_development_target(FollowUpDevelopmentTargetRequest {
            unit_id: "school-a".into(),
            target_id: "nope".into(),
            progress: TargetProgress::InProgress as i32,
            ..FollowUpDevelopmentTargetRequest::default()
        })
        .await;
    assert_eq!(
        unknown_target.map(|_| ()).map_err(|s| s.code()),
        Err(Code::NotFound)
    );
    let no_progress = manager
        .follow_up_development_target(FollowUpDevelopmentTargetRequest {
            unit_id: "school-a".into(),
            target_id: recorded.target_id.clone(),
            ..FollowUpDevelopmentTargetRequest::default()
        })
        .await;
    assert_eq!(
        no_progress.map(|_| ()).map_err(|s| s.code()),
        Err(Code::InvalidArgument)
    );
    assert_eq!(app.store.last_sequence(SURVEYS_STREAM).await?, before);

    let listed = manager
        .list_development_targets(ListDevelopmentTargetsRequest {
            unit_id: "school-a".into(),
            survey_id: SURVEY.into(),
        })
        .await?
        .into_inner()
        .targets;
    assert_eq!(listed, vec![followed]);
    Ok(())
}

#[tokio::test]
async fn unit_changes_stay_inside_the_callers_grant() -> TestResult {
    use kaiku_proto::survey::v1::{
        CloseUnitRequest, CreateUnitRequest, MoveUnitRequest, RenameUnitRequest, UnitLevel,
    };
    let area_a_admin = Grant {
        unit_subtrees: vec!["area-a".into()],
        ..Grant::default()
    };
    let (mut app, tokens) =
        spawn_app_with_keys(&[("admin-a", &[Scope::SurveyAdmin], area_a_admin)]).await?;
    let create = |id: &str, parent: &str, level: UnitLevel| CreateUnitRequest {
        unit_id: id.into(),
        parent_unit_id: parent.into(),
        level: level as i32,
        names: kaiku_domain::fixtures::texts(id, id, id),
    };
    app.client
        .create_unit(create("county", "", UnitLevel::County))
        .await?;
    let area_b = app
        .client
        .create_unit(create("area-b", "county", UnitLevel::ServiceArea))
        .await?
        .into_inner()
        .unit
        .ok_or("no unit")?;
    app.client
        .create_unit(create("area-a", "county", UnitLevel::ServiceArea))
        .await?;
    let mut admin_a = app.client_as(&tokens[0]).await?;
    let school = admin_a
        .create_unit(create("school-a1", "area-a", UnitLevel::Unit))
        .await?
        .into_inner()
        .unit
        .ok_or("no unit")?;
    let before = app.store.last_sequence(SURVEYS_STREAM).await?;

    let refused = [
        admin_a
            .create_unit(create("school-b1", "area-b", UnitLevel::Unit))
            .await
            .map(|_| ()),
        admin_a
            .create_unit(create("county-2", "", UnitLevel::County))
            .await
            .map(|_| ()),
        admin_a
            .rename_unit(RenameUnitRequest {
                unit_id: "area-b".into(),
                expected_revision: area_b.revision,
                names: kaiku_domain::fixtures::texts("B", "B", "B"),
            })
            .await
            .map(|_| ()),
        admin_a
            .move_unit(MoveUnitRequest {
                unit_id: "school-a1".into(),
                expected_revision: school.revision,
                parent_unit_id: "area-b".into(),
            })
            .await
            .map(|_| ()),
        admin_a
            .close_unit(CloseUnitRequest {
                unit_id: "area-b".into(),
                expected_revision: area_b.revision,
            })
            .await
            .map(|_| ()),
    ];
    for (i, outcome) in refused.into_iter().enumerate() {
        assert_eq!(
            outcome.map_err(|s| s.code()),
            Err(Code::PermissionDenied),
            "refusal {i}"
        );
    }
    assert_eq!(app.store.last_sequence(SURVEYS_STREAM).await?, before);
    Ok(())
}
