//! Killing the projection with SIGKILL in the middle of catching up and starting it again gives
//! exact counts: each batch and its checkpoint commit together, so nothing is lost or doubled.

use std::time::Duration;

use kaiku_proto::analytics::v1::GetNpsRequest;
use kaiku_proto::survey::v1::RespondentRole;
use kaiku_system_tests::{Stack, TestResult, nps_answer};

const SCORES: [u32; 6] = [10, 9, 8, 7, 6, 0];
const BACKLOG: usize = 12_000;
const TOTAL: usize = BACKLOG + 1_200;

#[tokio::test]
async fn a_projection_killed_mid_run_resumes_with_exact_counts() -> TestResult {
    // Batches of 100: the backlog takes 120 commits, so the kill can land between two of them
    // even on a quick machine. With the default 50,000 the whole backlog can be one batch,
    // committed before the projection has even reported SERVING to the test; with 500 a
    // clean-clone CI run once saw all 12,000 applied before the first look at the checkpoint.
    let mut stack =
        Stack::start_with_env(&[("KAIKU_PROJECTION_BATCH_SIZE", "100".to_owned())]).await?;
    let survey_id = stack.publish_nps_survey(&["unit-1"]).await?;
    let answers = |range: std::ops::Range<usize>| {
        range
            .map(|i| nps_answer(&survey_id, "unit-1", RespondentRole::Client, SCORES[i % 6]))
            .collect::<Vec<_>>()
    };
    let pool = stack.database().await?;
    let checkpoint = || async {
        let row: Option<(i64,)> = sqlx::query_as(
            "select last_sequence from projection_checkpoint where stream = 'KAIKU_RESPONSES'",
        )
        .fetch_optional(&pool)
        .await?;
        TestResult::Ok(row.map_or(0, |(sequence,)| sequence))
    };

    // A backlog the projection has to work through in many batches: stop it, let answers pile
    // up, start it and kill it again as soon as it has committed some but not all of them.
    let first = stack.submit_batch(answers(0..100)).await?;
    stack.kill("projection").await?;
    let backlog_last = stack.submit_batch(answers(100..BACKLOG)).await?;
    stack.start_service("projection").await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut at_kill = checkpoint().await?;
    while at_kill <= i64::try_from(first)? {
        if tokio::time::Instant::now() > deadline {
            return Err(format!("projection committed nothing in 60 s\n{}", stack.logs()).into());
        }
        // Polling the checkpoint row: the moment to kill has no event to await.
        tokio::time::sleep(Duration::from_millis(1)).await;
        at_kill = checkpoint().await?;
    }
    stack.kill("projection").await?;
    let at_kill = u64::try_from(at_kill)?;
    eprintln!("projection killed at checkpoint {at_kill} of {backlog_last}");
    assert!(
        at_kill < backlog_last,
        "the kill came after the projection had caught up"
    );

    // Answers keep arriving while the projection is down, and after it is back.
    stack.submit_batch(answers(BACKLOG..BACKLOG + 600)).await?;
    stack.start_service("projection").await?;
    let last = stack.submit_batch(answers(BACKLOG + 600..TOTAL)).await?;

    let reply = stack
        .analytics()
        .await?
        .get_nps(GetNpsRequest {
            survey_id: survey_id.clone(),
            question_key: String::new(),
            filter: Some(kaiku_system_tests::clients()),
            min_sequence: last,
            grouping: None,
        })
        .await?
        .into_inner();
    let figure = reply.figure.ok_or("figure missing")?;
    // Scores cycle 10, 9, 8, 7, 6, 0: a third each promoters, passives and detractors.
    let third = u64::try_from(TOTAL / 3)?;
    assert_eq!(
        (
            figure.n,
            figure.promoters,
            figure.passives,
            figure.detractors
        ),
        (u64::try_from(TOTAL)?, third, third, third),
        "{}",
        stack.logs()
    );
    let (responses,): (i64,) = sqlx::query_as("select count(*) from response")
        .fetch_one(&pool)
        .await?;
    assert_eq!(responses, i64::try_from(TOTAL)?);
    let (dead,): (i64,) = sqlx::query_as("select count(*) from dead_letter")
        .fetch_one(&pool)
        .await?;
    assert_eq!(dead, 0);

    // A restarted analytics knows how far the read model is before any announcement arrives.
    stack.kill("analytics").await?;
    stack.start_service("analytics").await?;
    let reply = stack
        .analytics()
        .await?
        .get_nps(GetNpsRequest {
            survey_id: survey_id.clone(),
            question_key: String::new(),
            filter: Some(kaiku_system_tests::clients()),
            min_sequence: 0,
            grouping: None,
        })
        .await?
        .into_inner();
    assert_eq!(reply.as_of_sequence, last);
    // Rebuilds, restarts and catching up all stay within each service's NATS permissions.
    assert_eq!(stack.nats_refusals(), Vec::<String>::new());
    Ok(())
}
