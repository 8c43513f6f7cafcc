//! The rebuild admin command: `projection --rebuild` replays the streams into a fresh schema
//! while the live projection and analytics keep serving under load, then switches over. Nothing
//! acknowledged before, during or after the switch may be lost or counted twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use kaiku_proto::analytics::v1::GetNpsRequest;
use kaiku_proto::survey::v1::RespondentRole;
use kaiku_system_tests::{Stack, TestResult, nps_answer};

/// Scores cycle through 0..=10, so the promoters among the first n answers are computable.
fn score(i: u64) -> u32 {
    (i % 11) as u32
}

fn promoters(n: u64) -> u64 {
    (0..n).filter(|i| score(*i) >= 9).count() as u64
}

#[tokio::test]
async fn a_rebuild_under_load_switches_over_without_losing_or_doubling_an_answer() -> TestResult {
    let stack = Arc::new(Stack::start().await?);
    let survey_id = stack.publish_nps_survey(&["school-1"]).await?;
    let answers = |from: u64, count: u64| {
        (from..from + count)
            .map(|i| nps_answer(&survey_id, "school-1", RespondentRole::Client, score(i)))
            .collect::<Vec<_>>()
    };
    let before = stack.submit_batch(answers(0, 3000)).await?;
    // Something only the old read models have: it must be gone after the switch.
    let db = stack.database().await?;
    sqlx::query(
        "insert into dead_letter (stream, sequence, subject, reason, payload)
         values ('MARKER', 1, 'marker', 'written to the old schema only', '')",
    )
    .execute(&db)
    .await?;

    // Answers keep arriving, in batches of 100, while the rebuild runs and switches, and
    // analytics keeps answering from whichever schema is live.
    let stop = Arc::new(AtomicBool::new(false));
    let submitted = Arc::new(AtomicU64::new(3000));
    let load = {
        let (stack, stop, submitted) = (stack.clone(), stop.clone(), submitted.clone());
        let survey_id = survey_id.clone();
        tokio::spawn(async move {
            let mut analytics = stack.analytics().await?;
            let (mut last, mut answered) = (0, 0);
            while !stop.load(Ordering::SeqCst) {
                let from = submitted.load(Ordering::SeqCst);
                let batch = (from..from + 100)
                    .map(|i| nps_answer(&survey_id, "school-1", RespondentRole::Client, score(i)))
                    .collect();
                last = stack.submit_batch(batch).await?;
                submitted.fetch_add(100, Ordering::SeqCst);
                let figure = analytics
                    .get_nps(GetNpsRequest {
                        survey_id: survey_id.clone(),
                        min_sequence: before,
                        filter: Some(kaiku_system_tests::clients()),
                        ..Default::default()
                    })
                    .await?
                    .into_inner()
                    .figure
                    .ok_or("a figure while rebuilding")?;
                // Read-your-writes holds across the switch: never less than was acknowledged.
                assert!(figure.n >= 3000, "never less than before the rebuild");
                answered += 1;
            }
            TestResult::Ok((last, answered))
        })
    };
    let (ok, stdout, stderr) = stack
        .run_command("projection", &["--rebuild"], Duration::from_secs(120))
        .await?;
    assert!(ok, "rebuild failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("built_as=rebuild_"), "{stdout}");
    let replayed: u64 = stdout
        .lines()
        .find_map(|line| line.strip_prefix("checkpoint.KAIKU_RESPONSES="))
        .ok_or("a checkpoint line")?
        .parse()?;
    assert!(replayed >= 3000, "switched only once caught up: {stdout}");
    // Keep the load going across the switch for a moment, then stop it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::SeqCst);
    let (last, answered) = load.await??;
    assert!(answered > 0, "analytics answered during the rebuild");
    let n = submitted.load(Ordering::SeqCst);
    assert!(n > 3000, "the load ran during the rebuild");

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
    let total = nps.figure.ok_or("a figure")?;
    assert_eq!(
        (total.n, total.promoters),
        (n, promoters(n)),
        "every acknowledged answer exactly once\n{}",
        stack.logs()
    );
    let markers: i64 =
        sqlx::query_scalar("select count(*) from dead_letter where stream = 'MARKER'")
            .fetch_one(&db)
            .await?;
    assert_eq!(markers, 0, "analytics reads the rebuilt schema");
    let leftovers: i64 = sqlx::query_scalar(
        "select count(*) from pg_namespace where nspname like 'rebuild\\_%' or nspname like 'retired\\_%'",
    )
    .fetch_one(&db)
    .await?;
    assert_eq!(
        leftovers, 0,
        "the old schema is dropped, the new one renamed"
    );
    // Rebuilds, restarts and catching up all stay within each service's NATS permissions.
    assert_eq!(stack.nats_refusals(), Vec::<String>::new());
    Ok(())
}
