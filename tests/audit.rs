//! The audit record against the real services: every admin action, every export and every
//! refused request (by the auth layer or by a service's own grant check) leaves exactly one
//! AuditEvent in KAIKU_AUDIT, naming the caller without its secret and holding no content; other
//! calls leave none; and the stream refuses to delete or purge anything, even for NATS's admin.

use std::collections::BTreeMap;

use async_nats::jetstream;
use kaiku_auth::Scope;
use kaiku_domain::fixtures::OPEN_KEY;
use kaiku_proto::analytics::v1::analytics_client::AnalyticsClient;
use kaiku_proto::analytics::v1::{ExportResponsesRequest, GetNpsRequest};
use kaiku_proto::events::v1::AuditEvent;
use kaiku_proto::intake::v1::answer::Value;
use kaiku_proto::intake::v1::response_intake_client::ResponseIntakeClient;
use kaiku_proto::intake::v1::{Answer, OpenTextAnswer};
use kaiku_proto::survey::v1::{Channel, RespondentRole, UnitLevel};
use kaiku_system_tests::{Stack, TestResult, method_name, nps_answer, unit};
use kaiku_test_support::Grant;
use prost::Message;
use tonic::Code;

const SECRET_TEXT: &str = "Terveydenhoitaja kuunteli tarkasti";

/// The id part of a service API key `kaiku_<id>_<secret>`.
fn key_id(token: &str) -> String {
    token.split('_').nth(1).unwrap_or_default().to_owned()
}

#[tokio::test]
async fn admin_actions_exports_and_refusals_are_audited_once_without_content() -> TestResult {
    let qr_only = Grant {
        channels: vec!["qr".into()],
        ..Grant::default()
    };
    let (stack, tokens) = Stack::start_with_keys(
        &[("KAIKU_MIN_GROUP_SIZE", "1".to_owned())],
        &[("qr-adapter", &[Scope::Submit], qr_only)],
    )
    .await?;
    let submit_key = &tokens[0];
    let admin = format!("api-key:{}", key_id(&stack.credentials.admin_token));
    let adapter = format!("api-key:{}", key_id(submit_key));

    // Admin actions: two units, a survey created and published (4 calls).
    let mut surveys = stack.surveys().await?;
    surveys
        .create_unit(unit("county", "", UnitLevel::County, "Hyvinvointialue"))
        .await?;
    surveys
        .create_unit(unit("school-a", "county", UnitLevel::Unit, "Koulu A"))
        .await?;
    let survey_id = stack
        .publish(kaiku_domain::fixtures::nps_survey(&["school-a"]))
        .await?;
    // Ordinary work, not audited: an answer with open text, a figure.
    let mut answer = nps_answer(&survey_id, "school-a", RespondentRole::Client, 9);
    answer.answers.push(Answer {
        question_key: OPEN_KEY.into(),
        value: Some(Value::OpenText(OpenTextAnswer {
            text: SECRET_TEXT.into(),
        })),
    });
    let sequence = stack
        .intake()
        .await?
        .submit_response(answer)
        .await?
        .into_inner()
        .sequence;
    let nps = GetNpsRequest {
        survey_id: survey_id.clone(),
        min_sequence: sequence,
        filter: Some(kaiku_system_tests::clients()),
        ..Default::default()
    };
    stack.analytics().await?.get_nps(nps.clone()).await?;
    // An export: audited.
    let mut export = stack
        .analytics()
        .await?
        .export_responses(ExportResponsesRequest {
            survey_id: survey_id.clone(),
            min_sequence: sequence,
            filter: Some(kaiku_system_tests::clients()),
        })
        .await?
        .into_inner();
    while export.message().await?.is_some() {}

    // Refusals: no token (layer), a submit key reading analytics (layer), a qr-only key
    // submitting by SMS (intake's own grant check).
    let anonymous = tonic::transport::Channel::from_shared(stack.address("analytics"))?
        .connect()
        .await?;
    let refused = AnalyticsClient::new(anonymous)
        .get_nps(nps.clone())
        .await
        .expect_err("no token");
    assert_eq!(refused.code(), Code::Unauthenticated);
    let refused = AnalyticsClient::new(stack.channel_as("analytics", submit_key).await?)
        .get_nps(nps)
        .await
        .expect_err("a submit key");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let mut by_sms = nps_answer(&survey_id, "school-a", RespondentRole::Client, 5);
    if let Some(context) = by_sms.context.as_mut() {
        context.channel = Channel::Sms as i32;
    }
    let refused = ResponseIntakeClient::new(stack.channel_as("response-intake", submit_key).await?)
        .submit_response(by_sms)
        .await
        .expect_err("sms by a qr-only key");
    assert_eq!(refused.code(), Code::PermissionDenied);

    // Exactly these, once each.
    let store = kaiku_eventstore::EventStore::connect(&stack.nats.url(), "test").await?;
    let stored = store
        .read_all(kaiku_eventstore::AUDIT_STREAM, "kaiku.audit.*")
        .await?;
    let mut seen: BTreeMap<(String, String, String, String, String), usize> = BTreeMap::new();
    for event in &stored {
        let payload = String::from_utf8_lossy(&event.payload);
        assert!(
            !payload.contains(SECRET_TEXT),
            "feedback in the audit record"
        );
        assert!(
            !payload.contains(submit_key.as_str())
                && !payload.contains(stack.credentials.admin_token.as_str()),
            "a key's secret in the audit record"
        );
        let audit = AuditEvent::decode(event.payload.as_ref())?;
        assert!(audit.occurred_at.is_some());
        assert_eq!(event.subject, format!("kaiku.audit.{}", audit.service));
        let method = method_name(&audit.method);
        *seen
            .entry((
                audit.service,
                method,
                audit.caller,
                audit.reason,
                audit.code,
            ))
            .or_default() += 1;
    }
    let entry = |service: &str, method: &str, caller: &str, reason: &str, code: &str| {
        (
            (
                service.to_owned(),
                method.to_owned(),
                caller.to_owned(),
                reason.to_owned(),
                code.to_owned(),
            ),
            1,
        )
    };
    let mut expected: BTreeMap<_, _> = [
        entry("survey-definition", "CreateUnit", &admin, "admin", "Ok"),
        entry("survey-definition", "CreateSurvey", &admin, "admin", "Ok"),
        entry("survey-definition", "PublishVersion", &admin, "admin", "Ok"),
        entry("analytics", "ExportResponses", &admin, "export", "Ok"),
        entry(
            "analytics",
            "GetNps",
            "anonymous",
            "denied",
            "Unauthenticated",
        ),
        entry(
            "analytics",
            "GetNps",
            &adapter,
            "denied",
            "PermissionDenied",
        ),
        entry(
            "response-intake",
            "SubmitResponse",
            &adapter,
            "denied",
            "PermissionDenied",
        ),
    ]
    .into_iter()
    .collect();
    // Two units: the county and school-a.
    let units = entry("survey-definition", "CreateUnit", &admin, "admin", "Ok").0;
    expected.insert(units, 2);
    assert_eq!(seen, expected);

    // Append-only: the server refuses to delete or purge, whoever asks.
    let admin_js = jetstream::new(store.client().clone());
    let audit_stream = admin_js.get_stream(kaiku_eventstore::AUDIT_STREAM).await?;
    let first = stored.first().ok_or("no audit events")?.stream_sequence;
    assert!(audit_stream.delete_message(first).await.is_err());
    assert!(audit_stream.purge().await.is_err());
    assert_eq!(
        store.last_sequence(kaiku_eventstore::AUDIT_STREAM).await?,
        stored.last().map_or(0, |e| e.stream_sequence)
    );
    store.get(kaiku_eventstore::AUDIT_STREAM, first).await?;
    assert_eq!(stack.nats_refusals(), Vec::<String>::new());
    Ok(())
}
