//! Who may call what, against the real services: every refusal is UNAUTHENTICATED or
//! PERMISSION_DENIED as it should be, and leaves nothing behind (no answer stored, no survey
//! changed). Tokens: service API keys with narrow grants, and JWTs from a test identity
//! provider (test-only keys in crates/kaiku-auth/testdata).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use kaiku_auth::Scope;
use kaiku_proto::analytics::v1::analytics_client::AnalyticsClient;
use kaiku_proto::analytics::v1::{GetResponseVolumeRequest, ResponseFilter};
use kaiku_proto::intake::v1::response_intake_client::ResponseIntakeClient;
use kaiku_proto::intake::v1::submit_responses_item::Outcome;
use kaiku_proto::survey::v1::survey_definition_client::SurveyDefinitionClient;
use kaiku_proto::survey::v1::{Channel, ListUnitsRequest, RespondentRole, UnitLevel};
use kaiku_system_tests::{Stack, TestResult, nps_answer, unit};
use kaiku_test_support::Grant;
use serde_json::{Value, json};
use tonic::Code;

const ISSUER: &str = "https://idp.test.example";
const AUDIENCE: &str = "kaiku";

fn keyfile(name: &str) -> String {
    format!(
        "{}/../crates/kaiku-auth/testdata/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A JWT for a unit-A manager; `change` alters the claims, `key` signs.
fn jwt(change: impl FnOnce(&mut Value), key: &str) -> TestResult<String> {
    let mut claims = json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "manager-a",
        "exp": now() + 600, "scope": "kaiku.analytics-read", "kaiku_units": ["area-a"],
    });
    change(&mut claims);
    let pem = std::fs::read(keyfile(key))?;
    Ok(encode(
        &Header::new(Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_pem(&pem)?,
    )?)
}

fn code_of<T>(result: Result<T, tonic::Status>) -> Code {
    match result {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

#[tokio::test]
async fn every_wrong_caller_is_refused_and_leaves_nothing_behind() -> TestResult {
    let env = [
        ("KAIKU_AUTH_JWT_PUBLIC_KEYS", keyfile("idp-rsa.pub")),
        ("KAIKU_AUTH_JWT_ISSUER", ISSUER.to_owned()),
        ("KAIKU_AUTH_JWT_AUDIENCE", AUDIENCE.to_owned()),
        ("KAIKU_MIN_GROUP_SIZE", "1".to_owned()),
    ];
    let qr_only = Grant {
        channels: vec!["qr".into()],
        ..Grant::default()
    };
    let (stack, tokens) = Stack::start_with_keys(
        &env,
        &[
            ("qr-adapter", &[Scope::Submit], qr_only),
            (
                "reader-a",
                &[Scope::AnalyticsRead],
                Grant {
                    unit_subtrees: vec!["area-a".into()],
                    ..Grant::default()
                },
            ),
        ],
    )
    .await?;
    let (submit_key, reader_key) = (&tokens[0], &tokens[1]);

    // county > area-a > school-a, area-b > school-b; one survey over both areas.
    let mut admin = stack.surveys().await?;
    for request in [
        unit("county", "", UnitLevel::County, "Alue"),
        unit("area-a", "county", UnitLevel::ServiceArea, "A"),
        unit("area-b", "county", UnitLevel::ServiceArea, "B"),
        unit("school-a", "area-a", UnitLevel::Unit, "Koulu A"),
        unit("school-b", "area-b", UnitLevel::Unit, "Koulu B"),
    ] {
        admin.create_unit(request).await?;
    }
    let mut content = kaiku_domain::fixtures::nps_survey(&["area-a", "area-b"]);
    content.unit_ids = vec!["area-a".into(), "area-b".into()];
    let survey_id = stack.publish(content).await?;

    // Two answers per school by the admin key (API channel), then a marker sequence.
    let mut last = 0;
    for school in ["school-a", "school-a", "school-b", "school-b"] {
        let reply = stack
            .intake()
            .await?
            .submit_response(nps_answer(&survey_id, school, RespondentRole::Client, 9))
            .await?;
        last = last.max(reply.into_inner().sequence);
    }

    let as_caller = |token: String| {
        let stack = &stack;
        async move {
            TestResult::Ok((
                SurveyDefinitionClient::new(stack.channel_as("survey-definition", &token).await?),
                ResponseIntakeClient::new(stack.channel_as("response-intake", &token).await?),
                AnalyticsClient::new(stack.channel_as("analytics", &token).await?),
            ))
        }
    };
    // Readers ask with no sequence (ADR 0020): every call is made once the answers are released.
    stack.wait_released(&survey_id, last).await?;
    let volume = |unit: Option<&str>| GetResponseVolumeRequest {
        survey_id: survey_id.clone(),
        filter: Some(ResponseFilter {
            unit_ids: unit.map(|u| vec![u.to_owned()]).unwrap_or_default(),
            ..kaiku_system_tests::clients()
        }),
        min_sequence: 0,
        grouping: None,
    };

    // Unauthenticated: no token, expired, wrongly signed, wrong audience, alg none, garbage.
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let alg_none = format!(
        "{}.{}.",
        engine.encode(r#"{"alg":"none","typ":"JWT"}"#),
        engine.encode(json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": now() + 600, "scope": "kaiku.analytics-read"}).to_string())
    );
    let unauthenticated = [
        ("no token", String::new()),
        (
            "expired",
            jwt(|c| c["exp"] = json!(now() - 3600), "idp-rsa.key")?,
        ),
        ("wrongly signed", jwt(|_| {}, "attacker-rsa.key")?),
        (
            "wrong audience",
            jwt(|c| c["aud"] = json!("another-system"), "idp-rsa.key")?,
        ),
        ("alg none", alg_none),
        ("unknown API key", "kaiku_0000_secret".to_owned()),
    ];
    for (name, token) in unauthenticated {
        let (_, _, mut analytics) = as_caller(token).await?;
        assert_eq!(
            code_of(analytics.get_response_volume(volume(None)).await),
            Code::Unauthenticated,
            "{name}"
        );
    }

    // A valid unit-A manager's JWT reads unit A (and only A when naming nothing), not B.
    let (_, _, mut manager) = as_caller(jwt(|_| {}, "idp-rsa.key")?).await?;
    assert_eq!(
        manager
            .get_response_volume(volume(Some("school-a")))
            .await?
            .into_inner()
            .total,
        2
    );
    assert_eq!(
        manager
            .get_response_volume(volume(None))
            .await?
            .into_inner()
            .total,
        2,
        "narrowed to area-a"
    );
    for other in ["school-b", "area-b", "county", "no-such-unit"] {
        assert_eq!(
            code_of(manager.get_response_volume(volume(Some(other))).await),
            Code::PermissionDenied,
            "{other}"
        );
    }
    let mut subtree_b = volume(None);
    subtree_b.filter = Some(ResponseFilter {
        unit_subtrees: vec!["area-b".into()],
        ..kaiku_system_tests::clients()
    });
    assert_eq!(
        code_of(manager.get_response_volume(subtree_b).await),
        Code::PermissionDenied
    );
    // The same with the API key bound to area-a.
    let (mut reader_surveys, mut reader_intake, mut reader) = as_caller(reader_key.clone()).await?;
    assert_eq!(
        code_of(reader.get_response_volume(volume(Some("school-b"))).await),
        Code::PermissionDenied
    );
    assert_eq!(
        reader
            .get_response_volume(volume(None))
            .await?
            .into_inner()
            .total,
        2
    );
    // A reader cannot submit or change surveys; reading the unit list is open to any caller.
    assert_eq!(
        code_of(
            reader_intake
                .submit_response(nps_answer(
                    &survey_id,
                    "school-a",
                    RespondentRole::Client,
                    1
                ))
                .await
        ),
        Code::PermissionDenied
    );
    assert_eq!(
        code_of(
            reader_surveys
                .create_unit(unit("school-x", "area-a", UnitLevel::Unit, "X"))
                .await
        ),
        Code::PermissionDenied
    );
    assert!(
        reader_surveys
            .list_units(ListUnitsRequest::default())
            .await
            .is_ok()
    );

    // A submit key: used for analytics, refused; its channel is bound to qr.
    let (_, mut adapter, mut adapter_analytics) = as_caller(submit_key.clone()).await?;
    assert_eq!(
        code_of(adapter_analytics.get_response_volume(volume(None)).await),
        Code::PermissionDenied
    );
    let mut sms = nps_answer(&survey_id, "school-a", RespondentRole::Client, 5);
    if let Some(context) = sms.context.as_mut() {
        context.channel = Channel::Sms as i32;
    }
    assert_eq!(
        code_of(adapter.submit_response(sms.clone()).await),
        Code::PermissionDenied
    );
    let mut replies = adapter
        .submit_responses(tokio_stream::iter(vec![sms.clone()]))
        .await?
        .into_inner();
    let item = replies.message().await?.ok_or("no reply")?;
    match item.outcome {
        Some(Outcome::Rejected(error)) => assert_eq!(error.code, Code::PermissionDenied as i32),
        other => return Err(format!("a stream submission outside the grant was {other:?}").into()),
    }
    // Within the grant it works (nps_answer is channel qr).
    let accepted = adapter
        .submit_response(nps_answer(
            &survey_id,
            "school-a",
            RespondentRole::Client,
            10,
        ))
        .await?
        .into_inner();

    // Nothing behind: 4 + 1 answers, and no unit x.
    let total = stack
        .analytics()
        .await?
        .get_response_volume(GetResponseVolumeRequest {
            min_sequence: accepted.sequence,
            ..volume(None)
        })
        .await?
        .into_inner()
        .total;
    assert_eq!(total, 5);
    let units = stack
        .surveys()
        .await?
        .list_units(ListUnitsRequest::default())
        .await?
        .into_inner()
        .units;
    assert!(
        units
            .iter()
            .all(|u| u.unit.as_ref().is_none_or(|u| u.unit_id != "school-x"))
    );
    // The analytics database role reads and cannot write; the projection's writes rows and
    // cannot change the schema (migrations run as the owner, KAIKU_MIGRATE_ON_START is off).
    refused_as(
        &stack.reader_database_url,
        &[
            "DELETE FROM response",
            "UPDATE response SET unit_id = 'x'",
            "INSERT INTO org_unit (unit_id, parent_unit_id, level, path) VALUES ('x', '', 'unit', '{x}')",
            "CREATE TABLE stolen (x int)",
            "DROP TABLE response",
        ],
    )
    .await?;
    refused_as(
        &stack.projection_database_url,
        &[
            "CREATE TABLE stolen (x int)",
            "DROP TABLE response",
            "ALTER TABLE response ADD COLUMN stolen int",
            "TRUNCATE response",
            "CREATE ROLE intruder LOGIN",
        ],
    )
    .await?;

    // Health stays open for probes.
    let channel = tonic::transport::Channel::from_shared(stack.address("analytics"))?
        .connect()
        .await?;
    let health = tonic_health::pb::health_client::HealthClient::new(channel)
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await;
    assert!(health.is_ok());
    Ok(())
}

/// Each statement, run as the database role of `url`, is refused for lack of privilege, and the
/// five stored responses are still there.
async fn refused_as(url: &str, statements: &[&str]) -> TestResult {
    let pool = sqlx::PgPool::connect(url).await?;
    for statement in statements {
        let error = sqlx::query(sqlx::AssertSqlSafe(*statement))
            .execute(&pool)
            .await
            .expect_err(statement);
        let refused = error.to_string();
        assert!(
            refused.contains("permission denied") || refused.contains("must be owner"),
            "{statement}: {refused}"
        );
    }
    let (rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM response")
        .fetch_one(&pool)
        .await?;
    assert_eq!(rows, 5, "nothing changed");
    Ok(())
}

/// Connects as one of the services' NATS users, with a short JetStream timeout: a refused
/// publish or API request gets no reply at all, only an error line in the server's log.
async fn nats_as(stack: &Stack, user: &str) -> TestResult<async_nats::jetstream::Context> {
    let login = kaiku_eventstore::NatsLogin {
        user: user.to_owned(),
        password: stack.nats.password(user).ok_or("unknown user")?.to_owned(),
    };
    let client = async_nats::ConnectOptions::new()
        .user_and_password(login.user.clone(), login.password.clone())
        .custom_inbox_prefix(login.inbox_prefix())
        .connect(stack.nats.address())
        .await
        .map_err(|e| format!("connect as {user}: {e}"))?;
    let mut jetstream = async_nats::jetstream::new(client);
    jetstream.set_timeout(Duration::from_secs(2));
    Ok(jetstream)
}

#[tokio::test]
async fn each_services_nats_user_can_do_its_job_and_nothing_else() -> TestResult {
    let stack = Stack::start_with_env(&[("KAIKU_MIN_GROUP_SIZE", "1".to_owned())]).await?;
    // The services themselves run as their users: a survey published and answered end to end
    // shows their permissions are enough for their work.
    let survey_id = stack.publish_nps_survey(&["school-a"]).await?;
    let last = stack
        .submit_batch(vec![
            nps_answer(&survey_id, "school-a", RespondentRole::Client, 9),
            nps_answer(&survey_id, "school-a", RespondentRole::Client, 3),
        ])
        .await?;
    let volume = GetResponseVolumeRequest {
        survey_id: survey_id.clone(),
        min_sequence: last,
        filter: Some(kaiku_system_tests::clients()),
        ..Default::default()
    };
    let total = |volume: GetResponseVolumeRequest| async {
        TestResult::Ok(
            stack
                .analytics()
                .await?
                .get_response_volume(volume)
                .await?
                .into_inner()
                .total,
        )
    };
    assert_eq!(total(volume.clone()).await?, 2);

    let subject = kaiku_eventstore::response_subject(&survey_id);
    let admin = kaiku_eventstore::EventStore::connect(&stack.nats.url(), "test").await?;
    let admin = async_nats::jetstream::new(admin.client().clone());
    let responses = admin.get_stream(kaiku_eventstore::RESPONSES_STREAM).await?;
    let before = responses.get_info().await?.state;
    assert_eq!(before.messages, 2);

    // The projection reads the log and may not write to it, delete from it or purge it.
    let projection = nats_as(&stack, "projection").await?;
    let forged = projection
        .publish(subject.clone(), "forged".into())
        .await?
        .await;
    assert!(forged.is_err(), "the projection appended a response");
    let as_projection = projection
        .get_stream(kaiku_eventstore::RESPONSES_STREAM)
        .await?;
    assert!(
        as_projection
            .delete_message(before.first_sequence)
            .await
            .is_err()
    );
    assert!(as_projection.purge().await.is_err());
    assert!(
        projection
            .delete_stream(kaiku_eventstore::RESPONSES_STREAM)
            .await
            .is_err()
    );
    // Analytics may only listen to progress; intake may not write survey events.
    let analytics = nats_as(&stack, "analytics").await?;
    assert!(
        analytics
            .publish(subject.clone(), "forged".into())
            .await?
            .await
            .is_err()
    );
    let intake = nats_as(&stack, "response-intake").await?;
    let survey_subject = kaiku_eventstore::survey_subject(&survey_id);
    assert!(
        intake
            .publish(survey_subject, "forged".into())
            .await?
            .await
            .is_err()
    );

    // Nothing changed: the same two messages, the first still readable, the same figures.
    let mut responses = responses;
    let after = responses.info().await?.state.clone();
    assert_eq!(after.messages, 2);
    assert_eq!(after.last_sequence, before.last_sequence);
    responses.get_raw_message(before.first_sequence).await?;
    assert_eq!(total(volume).await?, 2);
    // The server says why each was refused, and refused nothing else: the services never hit
    // a permission in their own work.
    let log = stack.nats.log();
    let response = subject.as_str();
    let survey = kaiku_eventstore::survey_subject(&survey_id);
    let refusals = [
        ("projection", response),
        ("projection", "$JS.API.STREAM.MSG.DELETE.KAIKU_RESPONSES"),
        ("projection", "$JS.API.STREAM.PURGE.KAIKU_RESPONSES"),
        ("projection", "$JS.API.STREAM.DELETE.KAIKU_RESPONSES"),
        ("analytics", response),
        ("response-intake", survey.as_str()),
    ];
    let refused = |line: &str, (user, subject): (&str, &str)| {
        line.contains(&format!("User \"{user}\"")) && line.contains(&format!("Subject \"{subject}"))
    };
    for expected in refusals {
        assert!(
            log.lines().any(|line| refused(line, expected)),
            "{expected:?} not refused:\n{log}"
        );
    }
    // (The test's own analytics connection may not even subscribe to a reply inbox.)
    let unexpected: Vec<String> = stack
        .nats_refusals()
        .into_iter()
        .filter(|line| !refusals.iter().any(|expected| refused(line, *expected)))
        .filter(|line| !refused(line, ("analytics", "_INBOX_analytics.")))
        .collect();
    assert!(
        unexpected.is_empty(),
        "unexpected refusals: {unexpected:#?}"
    );
    Ok(())
}
