//! A burst beyond intake's concurrency limit: every call is either acknowledged (and stored) or
//! refused at once with RESOURCE_EXHAUSTED (and not stored); retrying the refused ones with the
//! same submission ids ends with every answer stored exactly once.

use std::collections::HashSet;

use kaiku_proto::analytics::v1::GetResponseVolumeRequest;
use kaiku_proto::intake::v1::SubmitResponseRequest;
use kaiku_proto::survey::v1::RespondentRole;
use kaiku_system_tests::{Stack, TestResult, nps_answer};
use tonic::Code;

const BURST: usize = 300;

async fn send_all(
    stack: &Stack,
    requests: Vec<SubmitResponseRequest>,
) -> TestResult<(Vec<u64>, Vec<SubmitResponseRequest>)> {
    // Several connections, so the burst is not limited by one connection's stream limit.
    let mut clients = Vec::new();
    for _ in 0..6 {
        clients.push(stack.intake().await?);
    }
    let calls = requests.into_iter().enumerate().map(|(i, request)| {
        let mut client = clients[i % clients.len()].clone();
        async move { (request.clone(), client.submit_response(request).await) }
    });
    let mut acknowledged = Vec::new();
    let mut shed = Vec::new();
    for (request, outcome) in futures::future::join_all(calls).await {
        match outcome {
            Ok(reply) => acknowledged.push(reply.into_inner().sequence),
            Err(status) if status.code() == Code::ResourceExhausted => shed.push(request),
            Err(status) => return Err(format!("neither stored nor shed: {status:?}").into()),
        }
    }
    Ok((acknowledged, shed))
}

async fn stored(stack: &Stack, survey_id: &str, min_sequence: u64) -> TestResult<u64> {
    Ok(stack
        .analytics()
        .await?
        .get_response_volume(GetResponseVolumeRequest {
            survey_id: survey_id.into(),
            filter: Some(kaiku_system_tests::clients()),
            min_sequence,
            grouping: None,
        })
        .await?
        .into_inner()
        .total)
}

#[tokio::test]
async fn a_burst_over_the_limit_is_shed_not_queued_and_nothing_acknowledged_is_lost() -> TestResult
{
    // Min group size 1: a handful of acknowledged answers must not read as a suppressed 0.
    let stack = Stack::start_with_env(&[
        ("KAIKU_MAX_CONCURRENT_REQUESTS", "2".to_owned()),
        ("KAIKU_MIN_GROUP_SIZE", "1".to_owned()),
    ])
    .await?;
    let survey_id = stack.publish_nps_survey(&["school-1"]).await?;
    let requests: Vec<_> = (0..BURST)
        .map(|i| {
            nps_answer(
                &survey_id,
                "school-1",
                RespondentRole::Client,
                (i % 11) as u32,
            )
        })
        .collect();
    let ids: HashSet<String> = requests.iter().map(|r| r.submission_id.clone()).collect();
    assert_eq!(ids.len(), BURST);

    let (acknowledged, mut shed) = send_all(&stack, requests).await?;
    println!(
        "burst of {BURST}: {} acknowledged, {} shed",
        acknowledged.len(),
        shed.len()
    );
    let last = acknowledged.iter().copied().max().unwrap_or(0);
    assert_eq!(
        stored(&stack, &survey_id, last).await?,
        acknowledged.len() as u64,
        "exactly the acknowledged ones are stored"
    );

    // A well-behaved adapter retries a shed call with the same id; one at a time, the limit
    // is never reached, so each is acknowledged.
    let mut last = last;
    let mut intake = stack.intake().await?;
    for request in shed.drain(..) {
        let reply = intake.submit_response(request).await?.into_inner();
        assert!(!reply.duplicate, "a shed submission had not been stored");
        last = last.max(reply.sequence);
    }
    assert_eq!(
        stored(&stack, &survey_id, last).await?,
        BURST as u64,
        "every answer once"
    );
    Ok(())
}
