//! Releases to readers (ADR 0020) against real PostgreSQL: the read model's rows are written
//! here as the projection would have written them, and `release` cuts atoms from them.

use kaiku_test_support::PostgresServer;
use projection::release::release;
use projection::{MIGRATOR, connect_database};
use sqlx::PgPool;
use uuid::Uuid;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const SURVEY: &str = "0190c1f2-0000-7000-8000-000000000001";

/// The read model with one survey that asks an NPS question.
async fn read_model() -> Result<(PostgresServer, PgPool), Box<dyn std::error::Error>> {
    let postgres = PostgresServer::start().await?;
    let pool = connect_database(&postgres.create_database().await?).await?;
    MIGRATOR.run(&pool).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "insert into survey (survey_id, status, latest_version, last_sequence)
             values ('{SURVEY}', 'published', 1, 1);
         insert into survey_question (survey_id, version, position, question_key, kind, required)
             values ('{SURVEY}', 1, 0, 'nps', 'nps', false);
         insert into org_unit (unit_id, parent_unit_id, level, path)
             values ('county', '', 'county', array['county']);"
    )))
    .execute(&pool)
    .await?;
    Ok((postgres, pool))
}

/// `n` answers from `unit` on `day` with NPS `score`, at the next stream sequences, with their
/// month rollup and the checkpoint, as the projection commits a batch.
async fn answers(pool: &PgPool, unit: &str, day: &str, score: u32, n: i64) -> TestResult {
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "insert into org_unit (unit_id, parent_unit_id, level, path)
             values ('{unit}', 'county', 'unit', array['county', '{unit}'])
             on conflict do nothing;
         insert into response (submission_id, stream_sequence, survey_id, survey_version, unit_id,
                               channel, respondent_role, language, answered_at, answered_on,
                               received_at, answers)
         select gen_random_uuid(),
                coalesce((select max(stream_sequence) from response), 0) + i,
                '{SURVEY}', 1, '{unit}', 'qr', 'client', 'fi', '{day}', '{day}', now(),
                '{{\"nps\":\"{score}\"}}'
         from generate_series(1, {n}) as i;
         insert into response_rollup (survey_id, cuboid, grain, bucket, unit_id, period_id,
                                      channel, respondent_role, professional_group, age_band,
                                      language, responses)
             values ('{SURVEY}', 'all', 'month', date_trunc('month', date '{day}')::date,
                     '{unit}', '', 'qr', 'client', '', '', 'fi', {n})
         on conflict (survey_id, cuboid, grain, bucket, unit_id, period_id, channel,
                      respondent_role, professional_group, age_band, language)
         do update set responses = response_rollup.responses + excluded.responses;
         insert into projection_checkpoint (stream, last_sequence)
             values ('KAIKU_RESPONSES', (select max(stream_sequence) from response))
         on conflict (stream) do update set last_sequence = excluded.last_sequence;"
    )))
    .execute(pool)
    .await?;
    Ok(())
}

/// Each atom's size and its NPS answers by score, in release order.
async fn atoms(pool: &PgPool) -> Result<Vec<(i64, Vec<(i16, i64)>)>, sqlx::Error> {
    let sizes: Vec<(i64, i64)> =
        sqlx::query_as("select atom_id, responses from reader_release.atom order by atom_id")
            .fetch_all(pool)
            .await?;
    let mut out = Vec::new();
    for (atom_id, responses) in sizes {
        let scores: Vec<(i16, i64)> = sqlx::query_as(
            "select score, answers from reader_release.atom_answer
             where atom_id = $1 and question_key = 'nps' order by score",
        )
        .bind(atom_id)
        .fetch_all(pool)
        .await?;
        out.push((responses, scores));
    }
    Ok(out)
}

#[tokio::test]
async fn new_answers_wait_until_their_block_has_the_minimum_and_are_released_once() -> TestResult {
    let (_postgres, pool) = read_model().await?;
    let survey = Uuid::parse_str(SURVEY)?;
    answers(&pool, "school-a", "2026-03-02", 9, 12).await?;
    answers(&pool, "school-b", "2026-03-03", 3, 7).await?;
    // A unit too small to show: never released.
    answers(&pool, "class-x", "2026-03-03", 10, 2).await?;
    let first = release(&pool, survey, 5)
        .await?
        .ok_or("the lock was free")?;
    assert_eq!(first.atoms.len(), 2);
    assert_eq!(
        atoms(&pool).await?,
        vec![(12, vec![(9, 12)]), (7, vec![(3, 7)])]
    );

    // Four more at school-a: fewer than the minimum, held back.
    answers(&pool, "school-a", "2026-03-20", 0, 4).await?;
    let second = release(&pool, survey, 5)
        .await?
        .ok_or("the lock was free")?;
    assert!(second.atoms.is_empty());
    assert!(second.through > first.through, "considered, not released");

    // The fifth: the five are released together, and nothing of the first atoms again.
    answers(&pool, "school-a", "2026-03-21", 0, 1).await?;
    let third = release(&pool, survey, 5)
        .await?
        .ok_or("the lock was free")?;
    assert_eq!(third.atoms.len(), 1);
    assert_eq!(
        atoms(&pool).await?.last(),
        Some(&(5, vec![(0, 5)])),
        "the five new detractors, not the twelve before them"
    );
    let (released, distinct): (i64, i64) = sqlx::query_as(
        "select count(*), count(distinct submission_id) from reader_release.released",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!(
        (released, distinct),
        (24, 24),
        "each answer once, class-x's two in none"
    );
    // Nothing new: a release changes nothing.
    let fourth = release(&pool, survey, 5)
        .await?
        .ok_or("the lock was free")?;
    assert!(fourth.atoms.is_empty());
    Ok(())
}

/// How long a release of a large survey takes (run with --ignored; the figure is in the note of
/// issue 21): a million answers from 60 units over 24 months, released at once, then again
/// with 1,000 new answers.
#[tokio::test]
#[ignore]
async fn the_release_of_a_large_survey() -> TestResult {
    let (_postgres, pool) = read_model().await?;
    let survey = Uuid::parse_str(SURVEY)?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "insert into org_unit (unit_id, parent_unit_id, level, path)
             select 'u-' || u, 'county', 'unit', array['county', 'u-' || u]
             from generate_series(0, 59) as u;
         insert into response (submission_id, stream_sequence, survey_id, survey_version, unit_id,
                               channel, respondent_role, language, answered_at, answered_on,
                               received_at, answers)
         select gen_random_uuid(), i, '{SURVEY}', 1, 'u-' || (i % 60),
                (array['qr', 'sms', 'kiosk', 'paper'])[1 + i % 4],
                (array['client', 'guardian'])[1 + i % 2], 'fi',
                date '2025-01-01' + (i % 730), date '2025-01-01' + (i % 730), now(),
                '{{\"nps\":\"' || (i % 11) || '\"}}'
         from generate_series(1, 1000000) as i;
         insert into response_rollup (survey_id, cuboid, grain, bucket, unit_id, period_id,
                                      channel, respondent_role, professional_group, age_band,
                                      language, responses)
         select survey_id, 'all', 'month', date_trunc('month', answered_on)::date, unit_id, '',
                channel, respondent_role, '', '', language, count(*)
         from response group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11;
         insert into projection_checkpoint (stream, last_sequence) values ('KAIKU_RESPONSES', 1000000);
         analyze;"
    )))
    .execute(&pool)
    .await?;
    let started = std::time::Instant::now();
    let first = release(&pool, survey, 5)
        .await?
        .ok_or("the lock was free")?;
    let all_at_once = started.elapsed();
    answers(&pool, "u-1", "2026-12-01", 7, 1000).await?;
    let started = std::time::Instant::now();
    let second = release(&pool, survey, 5)
        .await?
        .ok_or("the lock was free")?;
    println!(
        "1,000,000 answers: {} atoms in {all_at_once:?}; 1,000 more: {} atoms in {:?}",
        first.atoms.len(),
        second.atoms.len(),
        started.elapsed()
    );
    Ok(())
}
