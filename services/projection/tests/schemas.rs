//! Old read-model schemas do not outlive their use: what a crashed rebuild left is dropped at
//! start-up unless a rebuild is running, a retired schema kept on request stays, and a role
//! that may not drop a schema deletes its texts and dead letters instead. Real PostgreSQL.

use kaiku_test_support::PostgresServer;
use projection::schemas::{KEPT, RebuildLock, clear_leftovers};
use projection::{MIGRATOR, connect_database, connect_database_in};
use sqlx::{AssertSqlSafe, PgPool};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const CRASHED: &str = "rebuild_20250101000000";
const KEPT_SCHEMA: &str = "retired_20250101000000";
const NOT_DROPPED: &str = "retired_20250102000000";

/// The live schema and three old ones, each migrated and holding a text and a dead letter.
async fn database_with_old_schemas(url: &str) -> Result<PgPool, Box<dyn std::error::Error>> {
    let live = connect_database(url).await?;
    MIGRATOR.run(&live).await?;
    for schema in [CRASHED, KEPT_SCHEMA, NOT_DROPPED] {
        sqlx::query(AssertSqlSafe(format!("create schema {schema}")))
            .execute(&live)
            .await?;
        let pool = connect_database_in(url, Some(schema)).await?;
        MIGRATOR.run(&pool).await?;
        sqlx::raw_sql(
            "insert into response (submission_id, stream_sequence, survey_id, survey_version, unit_id,
                                   channel, respondent_role, language, answered_at, answered_on, received_at)
                 values ('0190c1f2-0000-7000-8000-0000000000aa', 7, '0190c1f2-0000-7000-8000-000000000001',
                         1, 'unit-a', 'qr', 'client', 'fi', now(), '2026-03-02', now());
             insert into feedback_text (submission_id, question_key, language, body)
                 values ('0190c1f2-0000-7000-8000-0000000000aa', 'open', 'fi', 'Vanha teksti');
             insert into dead_letter (stream, sequence, subject, reason, payload)
                 values ('KAIKU_RESPONSES', 7, 'kaiku.response.x', 'inconsistent', 'Vanha teksti');",
        )
        .execute(&pool)
        .await?;
        pool.close().await;
    }
    sqlx::query(AssertSqlSafe(format!(
        "comment on schema {KEPT_SCHEMA} is '{KEPT}'"
    )))
    .execute(&live)
    .await?;
    Ok(live)
}

async fn schemas(pool: &PgPool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select nspname::text from pg_namespace
         where nspname like 'rebuild\\_%' or nspname like 'retired\\_%' order by 1",
    )
    .fetch_all(pool)
    .await
}

#[tokio::test]
async fn leftovers_are_dropped_unless_kept_or_a_rebuild_is_running() -> TestResult {
    let postgres = PostgresServer::start().await?;
    let url = postgres.create_database().await?;
    let live = database_with_old_schemas(&url).await?;

    // A rebuild is running: its schemas are its own.
    let running = RebuildLock::try_take(&url)
        .await?
        .ok_or("the lock is free")?;
    assert!(
        RebuildLock::try_take(&url).await?.is_none(),
        "a second rebuild is refused"
    );
    assert_eq!(clear_leftovers(&live).await?, Vec::<String>::new());
    assert_eq!(schemas(&live).await?.len(), 3);
    running.release().await?;

    let cleared = clear_leftovers(&live).await?;
    assert_eq!(cleared, vec![CRASHED.to_owned(), NOT_DROPPED.to_owned()]);
    assert_eq!(schemas(&live).await?, vec![KEPT_SCHEMA.to_owned()]);
    // The start-up check leaves the lock free for the next rebuild.
    assert!(RebuildLock::try_take(&url).await?.is_some());
    Ok(())
}

#[tokio::test]
async fn a_projection_that_may_not_drop_a_schema_deletes_its_texts() -> TestResult {
    let postgres = PostgresServer::start().await?;
    let url = postgres.create_database().await?;
    let live = database_with_old_schemas(&url).await?;
    // The live projection's role: rows only (migration 0008), no DDL.
    sqlx::raw_sql(
        "DO $$ BEGIN
             IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kaiku_test_writer') THEN
                 CREATE ROLE kaiku_test_writer LOGIN IN ROLE kaiku_writer;
             END IF;
         END $$;",
    )
    .execute(&live)
    .await?;
    let writer =
        connect_database(&url.replacen("postgres://postgres@", "postgres://kaiku_test_writer@", 1))
            .await?;
    let cleared = clear_leftovers(&writer).await?;
    assert_eq!(cleared, vec![CRASHED.to_owned(), NOT_DROPPED.to_owned()]);
    // Still there, but without texts or dead letters; the kept one as it was.
    assert_eq!(schemas(&live).await?.len(), 3);
    for (schema, texts) in [(CRASHED, 0), (NOT_DROPPED, 0), (KEPT_SCHEMA, 1)] {
        for table in ["feedback_text", "dead_letter"] {
            let rows: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
                "select count(*) from {schema}.{table}"
            )))
            .fetch_one(&live)
            .await?;
            assert_eq!(rows, texts, "{schema}.{table}");
        }
    }
    Ok(())
}
