//! Migrations carry over what is already projected: nothing accepted is lost when the read
//! models change shape. Runs against a real PostgreSQL.

use std::borrow::Cow;

use kaiku_test_support::PostgresServer;
use projection::MIGRATOR;
use sqlx::PgPool;
use sqlx::migrate::Migrator;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The migrations before `version`, as a deployment that has not upgraded yet has them.
fn migrator_before(version: i64) -> Migrator {
    let mut migrator = Migrator::DEFAULT;
    migrator.migrations = Cow::Owned(
        MIGRATOR
            .iter()
            .filter(|m| m.version < version)
            .cloned()
            .collect(),
    );
    migrator
}

#[tokio::test]
async fn rollups_and_answers_survive_the_move_to_cuboids() -> TestResult {
    let postgres = PostgresServer::start().await?;
    let pool = PgPool::connect(&postgres.create_database().await?).await?;
    migrator_before(4).run(&pool).await?;
    let survey = "0190c1f2-0000-7000-8000-000000000001";
    let response = "0190c1f2-0000-7000-8000-0000000000aa";
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "insert into answer_daily values
            ('{survey}', 'nps', 'nps', 'unit-a', '2026-03-02', 'p1', 'qr', 'client', 'kuraattori', 'age_13_17', 'fi', 9, 3),
            ('{survey}', 'nps', 'nps', 'unit-a', '2026-03-03', 'p1', 'sms', 'client', 'kuraattori', 'age_13_17', 'sv', 9, 2),
            ('{survey}', 'nps', 'nps', 'unit-b', '2026-03-31', 'p1', 'qr', 'client', '', '', 'fi', 3, 4),
            ('{survey}', 's1', 'statement', 'unit-b', '2026-04-01', 'p1', 'qr', 'client', '', '', 'fi', -1, 5);
         insert into response_daily values
            ('{survey}', 'unit-a', '2026-03-02', 'p1', 'qr', 'client', 'kuraattori', 'age_13_17', 'fi', 3),
            ('{survey}', 'unit-b', '2026-04-01', 'p1', 'qr', 'client', '', '', 'fi', 5);
         insert into response (submission_id, stream_sequence, survey_id, survey_version, unit_id, channel,
                               respondent_role, language, answered_at, answered_on, received_at)
            values ('{response}', 7, '{survey}', 1, 'unit-a', 'qr', 'client', 'fi', now(), '2026-03-02', now());
         insert into answer_score values ('{response}', 'nps', 'nps', 9, false), ('{response}', 's1', 'statement', null, true);
         insert into answer_choice values ('{response}', 'visit', 'first'), ('{response}', 'visit', 'again');"
    )))
    .execute(&pool)
    .await?;

    MIGRATOR.run(&pool).await?;

    // Month totals of the whole survey: March holds 3 + 2 nines and 4 threes.
    let march: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "select question_key, s9, s3, dont_know from answer_rollup
         where cuboid = 'survey' and grain = 'month' and bucket = '2026-03-01' order by 1",
    )
    .fetch_all(&pool)
    .await?;
    assert_eq!(march, vec![("nps".to_owned(), 5, 4, 0)]);
    // Every cuboid and grain holds every answer.
    let sums: Vec<(String, String, i64)> = sqlx::query_as(
        "select cuboid, grain, sum(dont_know + s3 + s9)::bigint from answer_rollup
         group by 1, 2 order by 1, 2",
    )
    .fetch_all(&pool)
    .await?;
    assert_eq!(sums.len(), 6 * 3);
    assert!(sums.iter().all(|(_, _, n)| *n == 14), "{sums:?}");
    // The week of 2026-03-31 (a Tuesday) starts on Monday 30 March; the unit cuboid keeps units.
    let week: Vec<(String, i64)> = sqlx::query_as(
        "select unit_id, s3 from answer_rollup
         where cuboid = 'unit' and grain = 'week' and bucket = '2026-03-30' and question_key = 'nps'",
    )
    .fetch_all(&pool)
    .await?;
    assert_eq!(week, vec![("unit-b".to_owned(), 4)]);
    let channels: Vec<(String, i64)> = sqlx::query_as(
        "select channel, responses from response_rollup
         where cuboid = 'channel' and grain = 'month' order by bucket",
    )
    .fetch_all(&pool)
    .await?;
    assert_eq!(channels, vec![("qr".to_owned(), 3), ("qr".to_owned(), 5)]);
    // The response keeps its answers as the export shows them.
    let answers: (String,) = sqlx::query_as("select answers::text from response")
        .fetch_one(&pool)
        .await?;
    assert_eq!(
        answers.0,
        r#"{"s1": "dont_know", "nps": "9", "visit": "again;first"}"#
    );
    Ok(())
}

/// Where the projection runs without migrating (as a role that cannot), it refuses a schema that
/// is not exactly the one it was built for, naming the command that fixes it.
#[tokio::test]
async fn a_projection_that_does_not_migrate_refuses_a_schema_behind_it() -> TestResult {
    let postgres = PostgresServer::start().await?;
    let pool = PgPool::connect(&postgres.create_database().await?).await?;
    let refused = projection::ensure_migrated(&pool)
        .await
        .expect_err("an empty database");
    assert!(refused.to_string().contains("--migrate-only"), "{refused}");
    let last = MIGRATOR.iter().map(|m| m.version).max().unwrap_or_default();
    migrator_before(last).run(&pool).await?;
    let refused = projection::ensure_migrated(&pool)
        .await
        .expect_err("one migration behind");
    assert!(
        refused.to_string().contains(&format!(
            "at migration {}, this projection needs {last}",
            last - 1
        )),
        "{refused}"
    );
    MIGRATOR.run(&pool).await?;
    projection::ensure_migrated(&pool).await?;
    Ok(())
}
