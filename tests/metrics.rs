//! What operations sees, against the real services: the Prometheus metrics each service serves
//! on KAIKU_METRICS_ADDR count exactly what happened (submissions by outcome and reason, publish
//! latency, calls by method and status, the projection's batches, checkpoint, lag and dead
//! letters), and readiness follows NATS and PostgreSQL going away and coming back.

use std::time::Duration;

use async_nats::jetstream;
use kaiku_proto::analytics::v1::GetNpsRequest;
use kaiku_proto::survey::v1::RespondentRole;
use kaiku_system_tests::{SERVICES, ServingStatus, Stack, TestResult, nps_answer};
use tonic::Code;

/// The value of one sample (`name{labels}` exactly as exposed), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
}

/// Polls a service's metrics until `series` has `expected` (metrics follow the work they count
/// by a moment: the projection records a batch right after its commit).
async fn wait_for_sample(stack: &Stack, service: &str, series: &str, expected: f64) -> TestResult {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = stack.metrics(service).await?;
        if sample(&text, series) == Some(expected) {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("{service}: {series} is not {expected}:\n{text}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn submissions_calls_batches_and_dead_letters_are_counted_exactly() -> TestResult {
    let stack = Stack::start_with_env(&[("KAIKU_MIN_GROUP_SIZE", "1".to_owned())]).await?;
    let survey_id = stack.publish_nps_survey(&["school-a"]).await?;
    let mut intake = stack.intake().await?;
    for score in [9, 10, 3] {
        intake
            .submit_response(nps_answer(
                &survey_id,
                "school-a",
                RespondentRole::Client,
                score,
            ))
            .await?;
    }
    // The same submission twice: stored once, acknowledged twice.
    let retried = nps_answer(&survey_id, "school-a", RespondentRole::Client, 7);
    intake.submit_response(retried.clone()).await?;
    let duplicate = intake.submit_response(retried).await?.into_inner();
    assert!(duplicate.duplicate);
    let refused = intake
        .submit_response(nps_answer(
            &survey_id,
            "school-a",
            RespondentRole::Client,
            11,
        ))
        .await
        .expect_err("an NPS of 11");
    assert_eq!(refused.code(), Code::InvalidArgument);

    // An event the projection cannot decode, appended behind intake's back by an operator.
    let admin = kaiku_eventstore::EventStore::connect(&stack.nats.url(), "test").await?;
    let poison = jetstream::new(admin.client().clone())
        .publish(
            kaiku_eventstore::response_subject(&survey_id),
            "\u{1}not a protobuf event".into(),
        )
        .await?
        .await?
        .sequence;
    let figure = stack
        .analytics()
        .await?
        .get_nps(GetNpsRequest {
            survey_id: survey_id.clone(),
            min_sequence: poison,
            filter: Some(kaiku_system_tests::clients()),
            ..Default::default()
        })
        .await?
        .into_inner()
        .figure
        .ok_or("no NPS figure")?;
    assert_eq!(figure.n, 4);

    let intake_metrics = stack.metrics("response-intake").await?;
    for (series, expected) in [
        (
            r#"kaiku_submissions_total{outcome="accepted",reason=""}"#,
            4.0,
        ),
        (
            r#"kaiku_submissions_total{outcome="duplicate",reason=""}"#,
            1.0,
        ),
        (
            r#"kaiku_submissions_total{outcome="rejected",reason="invalid_argument"}"#,
            1.0,
        ),
        // Four appends and the retry's, which JetStream recognised as a duplicate.
        ("kaiku_publish_duration_seconds_count", 5.0),
        (
            r#"kaiku_rpc_server_duration_seconds_count{method="/kaiku.intake.v1.ResponseIntake/SubmitResponse",code="Ok"}"#,
            5.0,
        ),
        (
            r#"kaiku_rpc_server_duration_seconds_count{method="/kaiku.intake.v1.ResponseIntake/SubmitResponse",code="InvalidArgument"}"#,
            1.0,
        ),
    ] {
        assert_eq!(
            sample(&intake_metrics, series),
            Some(expected),
            "{series}:\n{intake_metrics}"
        );
    }

    let stream = r#"{stream="KAIKU_RESPONSES"}"#;
    wait_for_sample(
        &stack,
        "projection",
        &format!("kaiku_projection_checkpoint_sequence{stream}"),
        poison as f64,
    )
    .await?;
    let projection = stack.metrics("projection").await?;
    for (series, expected) in [
        (format!("kaiku_projection_dead_letters_total{stream}"), 1.0),
        (format!("kaiku_projection_lag_events{stream}"), 0.0),
    ] {
        assert_eq!(
            sample(&projection, &series),
            Some(expected),
            "{series}:\n{projection}"
        );
    }
    let batches = sample(
        &projection,
        &format!("kaiku_projection_batch_events_count{stream}"),
    )
    .ok_or("no batch count")?;
    let events = sample(
        &projection,
        &format!("kaiku_projection_batch_events_sum{stream}"),
    )
    .ok_or("no batch sum")?;
    assert!(batches >= 1.0, "{projection}");
    assert_eq!(events, 5.0, "four answers and the poison event");

    let analytics = stack.metrics("analytics").await?;
    assert_eq!(
        sample(
            &analytics,
            r#"kaiku_rpc_server_duration_seconds_count{method="/kaiku.analytics.v1.Analytics/GetNps",code="Ok"}"#
        ),
        Some(1.0),
        "{analytics}"
    );
    Ok(())
}

#[tokio::test]
async fn readiness_follows_nats_and_postgresql_away_and_back() -> TestResult {
    let mut stack = Stack::start().await?;
    let wait = Duration::from_secs(30);

    // NATS goes away: every service reports NOT_SERVING; it comes back: SERVING again.
    stack.nats.kill().await?;
    for service in SERVICES {
        stack
            .wait_health(service, ServingStatus::NotServing, wait)
            .await?;
    }
    stack.nats.restart().await?;
    for service in SERVICES {
        stack
            .wait_health(service, ServingStatus::Serving, wait)
            .await?;
    }

    // PostgreSQL goes away: the two services that use it say so, the others stay ready.
    stack.postgres.kill().await?;
    for service in ["projection", "analytics"] {
        stack
            .wait_health(service, ServingStatus::NotServing, wait)
            .await?;
    }
    for service in ["survey-definition", "response-intake"] {
        assert_eq!(stack.health(service).await, Some(ServingStatus::Serving));
    }
    stack.postgres.restart().await?;
    for service in ["projection", "analytics"] {
        stack
            .wait_health(service, ServingStatus::Serving, wait)
            .await?;
    }

    // And the whole path works again.
    let survey_id = stack.publish_nps_survey(&["school-a"]).await?;
    let last = stack
        .submit_batch(vec![nps_answer(
            &survey_id,
            "school-a",
            RespondentRole::Client,
            10,
        )])
        .await?;
    let nps = stack
        .analytics()
        .await?
        .get_nps(GetNpsRequest {
            survey_id,
            min_sequence: last,
            filter: Some(kaiku_system_tests::clients()),
            ..Default::default()
        })
        .await?
        .into_inner();
    assert!(nps.as_of_sequence >= last);
    Ok(())
}
