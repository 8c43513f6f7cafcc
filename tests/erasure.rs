//! Erasing personal data that slipped past the automatic redaction: `RedactResponse` records a
//! redaction event carrying what remains of the response, deletes the submitted event from
//! KAIKU_RESPONSES with secure erase, and the read models drop the text and keep the scores.
//! The erased text is searched for in every byte of the JetStream store and every row of every
//! table: after the erasure, after restarting NATS and the services, and after a rebuild.

use std::time::Duration;

use kaiku_auth::Scope;
use kaiku_domain::fixtures::OPEN_KEY;
use kaiku_proto::analytics::v1::{GetNpsRequest, ListFeedbackTextsRequest};
use kaiku_proto::intake::v1::answer::Value;
use kaiku_proto::intake::v1::response_intake_client::ResponseIntakeClient;
use kaiku_proto::intake::v1::{Answer, ErasureReason, OpenTextAnswer, RedactResponseRequest};
use kaiku_proto::survey::v1::RespondentRole;
use kaiku_system_tests::{Stack, TestResult, database_text, files_bytes, nps_answer};
use kaiku_test_support::Grant;
use tonic::Code;

/// A customer number: no pattern of the automatic redaction knows it (names, identity codes,
/// phone numbers and e-mail addresses are replaced, ADR 0003), so it is stored until someone
/// erases it.
const NAME: &str = "KX-884213";
const OTHER_TEXT: &str = "Hyvä palvelu, kiitos";

async fn texts(
    stack: &Stack,
    survey_id: &str,
    min_sequence: u64,
) -> TestResult<Vec<(String, u64)>> {
    Ok(stack
        .analytics()
        .await?
        .list_feedback_texts(ListFeedbackTextsRequest {
            survey_id: survey_id.to_owned(),
            min_sequence,
            filter: Some(kaiku_system_tests::clients()),
            ..Default::default()
        })
        .await?
        .into_inner()
        .texts
        .into_iter()
        .map(|t| (t.text, t.sequence))
        .collect())
}

async fn nps_n(stack: &Stack, survey_id: &str, min_sequence: u64) -> TestResult<u64> {
    Ok(stack
        .analytics()
        .await?
        .get_nps(GetNpsRequest {
            survey_id: survey_id.to_owned(),
            min_sequence,
            filter: Some(kaiku_system_tests::clients()),
            ..Default::default()
        })
        .await?
        .into_inner()
        .figure
        .ok_or("no NPS figure")?
        .n)
}

/// The name is nowhere: not in the stream's stored bytes, not in any row of any table.
async fn assert_erased_everywhere(stack: &Stack, when: &str) -> TestResult {
    let mut store = Vec::new();
    files_bytes(stack.nats.store_dir(), &mut store)?;
    let store = String::from_utf8_lossy(&store);
    let rows = database_text(&stack.database_url).await?;
    assert!(
        store.contains(OTHER_TEXT) && rows.contains(OTHER_TEXT),
        "{when}: the search reads the real store and rows"
    );
    assert!(
        !store.contains(NAME),
        "{when}: the customer number is in the JetStream store"
    );
    assert!(
        !rows.contains(NAME),
        "{when}: the customer number is in the database"
    );
    Ok(())
}

fn with_text(
    survey_id: &str,
    score: u32,
    text: &str,
) -> kaiku_proto::intake::v1::SubmitResponseRequest {
    let mut request = nps_answer(survey_id, "school-a", RespondentRole::Client, score);
    request.answers.push(Answer {
        question_key: OPEN_KEY.into(),
        value: Some(Value::OpenText(OpenTextAnswer { text: text.into() })),
    });
    request
}

#[tokio::test]
async fn an_erased_text_is_gone_from_the_stream_and_the_database_after_restarts_and_a_rebuild()
-> TestResult {
    let (mut stack, tokens) = Stack::start_with_keys(
        &[("KAIKU_MIN_GROUP_SIZE", "1".to_owned())],
        &[
            (
                "reader",
                &[Scope::AnalyticsRead],
                Grant {
                    unit_subtrees: vec!["school-a".into()],
                    ..Grant::default()
                },
            ),
            (
                "school-a-manager",
                &[Scope::AnalyticsRead, Scope::Handle],
                Grant {
                    unit_subtrees: vec!["school-a".into()],
                    ..Grant::default()
                },
            ),
        ],
    )
    .await?;
    let survey_id = stack.publish_nps_survey(&["school-a"]).await?;
    let other_survey = stack.publish_nps_survey(&["school-b"]).await?;
    let last = stack
        .submit_batch(vec![
            with_text(
                &survey_id,
                3,
                &format!("Asiakasnumeroni on {NAME}, hoitaja oli töykeä."),
            ),
            with_text(&survey_id, 9, OTHER_TEXT),
            nps_answer(&survey_id, "school-a", RespondentRole::Client, 10),
        ])
        .await?;
    let before = texts(&stack, &survey_id, last).await?;
    assert_eq!(before.len(), 2);
    let named = before
        .iter()
        .find(|(text, _)| text.contains(NAME))
        .map(|(_, sequence)| *sequence)
        .ok_or("the named text is listed")?;
    let without_text = (1..=last)
        .find(|s| before.iter().all(|(_, t)| t != s))
        .ok_or("the answer without text")?;

    // Refusals: each leaves the stream and the texts as they were.
    let request = |survey_id: &str, sequence: u64, reason: ErasureReason| RedactResponseRequest {
        survey_id: survey_id.to_owned(),
        sequence,
        reason: reason as i32,
    };
    let reason = ErasureReason::PersonalData;
    for (token, who) in [
        (&stack.service_token, "a submit key"),
        (&tokens[0], "a reader"),
    ] {
        let refused = ResponseIntakeClient::new(stack.channel_as("response-intake", token).await?)
            .redact_response(request(&survey_id, named, reason))
            .await
            .expect_err(who);
        assert_eq!(refused.code(), Code::PermissionDenied, "{who}: {refused:?}");
    }
    // The unit's own manager erases concerns (ADR 0016), not criticism: this text raised no
    // attention flag, and the refusal is the one any sequence they may not erase gets.
    let refused = ResponseIntakeClient::new(stack.channel_as("response-intake", &tokens[1]).await?)
        .redact_response(request(&survey_id, named, reason))
        .await
        .expect_err("a manager erasing an ordinary text");
    assert_eq!(refused.code(), Code::NotFound, "{refused:?}");
    assert_eq!(texts(&stack, &survey_id, last).await?.len(), 2);
    let mut intake = stack.intake().await?;
    for (bad, code, field) in [
        (
            request("x", named, reason),
            Code::InvalidArgument,
            Some("survey_id"),
        ),
        (
            request(&survey_id, 0, reason),
            Code::InvalidArgument,
            Some("sequence"),
        ),
        (
            request(&survey_id, named, ErasureReason::Unspecified),
            Code::InvalidArgument,
            Some("reason"),
        ),
        // Only the retention sweep erases for retention.
        (
            request(&survey_id, named, ErasureReason::Retention),
            Code::InvalidArgument,
            Some("reason"),
        ),
        // Whatever makes a sequence not erasable, the answer is the same, so trying sequences
        // tells nothing of which survey, unit or text each holds.
        (request(&survey_id, 9_999, reason), Code::NotFound, None),
        (request(&other_survey, named, reason), Code::NotFound, None),
        (
            request(&survey_id, without_text, reason),
            Code::NotFound,
            None,
        ),
    ] {
        let refused = intake
            .redact_response(bad.clone())
            .await
            .expect_err("refused");
        assert_eq!(refused.code(), code, "{bad:?}: {refused:?}");
        if let Some(field) = field {
            let fields = kaiku_grpc::bad_request_fields(&refused);
            assert!(
                fields.iter().any(|(f, _)| f == field),
                "{bad:?}: {fields:?}"
            );
        }
    }
    let admin_store = kaiku_eventstore::EventStore::connect(&stack.nats.url(), "test").await?;
    assert_eq!(
        admin_store
            .last_sequence(kaiku_eventstore::RESPONSES_STREAM)
            .await?,
        last,
        "nothing appended by a refusal"
    );
    assert_eq!(texts(&stack, &survey_id, last).await?.len(), 2);

    // The erasure: the text goes, the score stays.
    let reply = intake
        .redact_response(request(&survey_id, named, reason))
        .await?
        .into_inner();
    assert_eq!(reply.question_keys, vec![OPEN_KEY.to_owned()]);
    let after = texts(&stack, &survey_id, reply.redaction_sequence).await?;
    assert_eq!(
        after.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        vec![OTHER_TEXT]
    );
    assert_eq!(
        nps_n(&stack, &survey_id, reply.redaction_sequence).await?,
        3
    );
    assert!(matches!(
        admin_store
            .get(kaiku_eventstore::RESPONSES_STREAM, named)
            .await,
        Err(kaiku_eventstore::EventStoreError::NotFound { .. })
    ));
    // The audit record names the survey, the response and the code.
    let audited = admin_store
        .read_all(
            kaiku_eventstore::AUDIT_STREAM,
            "kaiku.audit.response-intake",
        )
        .await?
        .iter()
        .map(|e| {
            <kaiku_proto::events::v1::AuditEvent as prost::Message>::decode(e.payload.as_ref())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let erasure = audited
        .iter()
        .find(|a| a.method.ends_with("/RedactResponse") && a.code == "Ok")
        .ok_or("the erasure is audited")?;
    assert_eq!(erasure.erasure_reason, ErasureReason::PersonalData as i32);
    assert_eq!(erasure.response_sequences, vec![named]);
    assert_eq!(erasure.object, format!("survey:{survey_id}"));
    // Erasing it again finds nothing to erase.
    let again = intake
        .redact_response(request(&survey_id, named, reason))
        .await
        .expect_err("already erased");
    assert_eq!(again.code(), Code::NotFound);
    assert_erased_everywhere(&stack, "after the erasure").await?;

    // Restarts: NATS from its store, then every service.
    stack.nats.restart().await?;
    for name in [
        "projection",
        "response-intake",
        "analytics",
        "survey-definition",
    ] {
        stack.kill(name).await?;
        stack.start_service(name).await?;
    }
    let newer = stack
        .submit_batch(vec![nps_answer(
            &survey_id,
            "school-a",
            RespondentRole::Client,
            8,
        )])
        .await?;
    assert_eq!(nps_n(&stack, &survey_id, newer).await?, 4);
    assert_erased_everywhere(&stack, "after restarts").await?;

    // A rebuild replays the stream without the erased event: the redaction event's remains
    // count the score, and no text comes back.
    let (ok, stdout, stderr) = stack
        .run_command("projection", &["--rebuild"], Duration::from_secs(120))
        .await?;
    assert!(ok, "rebuild failed:\n{stdout}\n{stderr}");
    assert_eq!(nps_n(&stack, &survey_id, newer).await?, 4);
    let rebuilt = texts(&stack, &survey_id, newer).await?;
    assert_eq!(
        rebuilt.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        vec![OTHER_TEXT]
    );
    assert_erased_everywhere(&stack, "after the rebuild").await?;
    assert_eq!(stack.nats_refusals(), Vec::<String>::new());
    Ok(())
}
