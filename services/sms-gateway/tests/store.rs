//! The invitation table against a real PostgreSQL: what a finished conversation keeps, and that
//! every invitation that went out counts for the 30-day rule, whatever became of it.

use chrono::{DateTime, Duration, Utc};
use kaiku_test_support::PostgresServer;
use sms_gateway::store::{self, NewInvitation};
use sqlx::PgPool;
use uuid::Uuid;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// What could join a row to a person's answer: survey, unit, score, submission id, sealed number.
type Linkable = (
    Option<String>,
    Option<String>,
    Option<i16>,
    Option<Uuid>,
    Option<Vec<u8>>,
);

async fn database() -> TestResult<(PostgresServer, PgPool)> {
    let server = PostgresServer::start().await?;
    let pool = PgPool::connect(&server.create_database().await?).await?;
    store::MIGRATOR.run(&pool).await?;
    Ok((server, pool))
}

async fn sent_invitation(
    pool: &PgPool,
    phone_hash: &str,
    sent_at: DateTime<Utc>,
) -> TestResult<Uuid> {
    let id = Uuid::new_v4();
    let mut tx = pool.begin().await?;
    store::insert(
        &mut tx,
        &NewInvitation {
            invitation_id: id,
            visit_hash: &format!("visit-{id}"),
            phone_hash,
            phone_sealed: vec![1, 2, 3],
            survey_id: "survey",
            unit_id: "hc-1",
            professional_group: "",
            age_band: "",
            language: "fi",
            send_at: sent_at,
        },
    )
    .await?;
    store::mark_sent(&mut tx, id, sent_at).await?;
    tx.commit().await?;
    Ok(id)
}

async fn last(pool: &PgPool, phone_hash: &str) -> TestResult<Option<i64>> {
    let mut tx = pool.begin().await?;
    let last = store::last_invitation(&mut tx, phone_hash).await?;
    tx.commit().await?;
    Ok(last.map(|t| t.timestamp()))
}

async fn linkable(pool: &PgPool, id: Uuid) -> TestResult<Linkable> {
    Ok(sqlx::query_as(
        "SELECT survey_id, unit_id, score, submission_id, phone_sealed FROM invitation WHERE invitation_id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await?)
}

#[tokio::test]
async fn an_unanswered_invitation_still_counts_for_30_days_after_it_expires() -> TestResult {
    let (_server, pool) = database().await?;
    let sent_at = Utc::now() - Duration::days(9);
    let id = sent_invitation(&pool, "hash-a", sent_at).await?;
    // The 7-day reply window is over: the invitation expires.
    store::tidy(
        &pool,
        Utc::now() - Duration::days(7),
        Utc::now() - Duration::days(60),
    )
    .await?;
    let (state,): (String,) =
        sqlx::query_as("SELECT state FROM invitation WHERE invitation_id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await?;
    assert_eq!(state, "expired");
    assert_eq!(
        last(&pool, "hash-a").await?,
        Some(sent_at.timestamp()),
        "the 30-day rule still sees it"
    );
    assert_eq!(linkable(&pool, id).await?, (None, None, None, None, None));
    Ok(())
}

#[tokio::test]
async fn a_finished_answer_leaves_only_the_hash_and_the_send_time() -> TestResult {
    let (_server, pool) = database().await?;
    let sent_at = Utc::now() - Duration::hours(3);
    let id = sent_invitation(&pool, "hash-b", sent_at).await?;
    let mut tx = pool.begin().await?;
    store::record_score(&mut tx, id, 9, Utc::now()).await?;
    store::record_text(&mut tx, id, Some("Hyvä")).await?;
    tx.commit().await?;
    assert_eq!(linkable(&pool, id).await?.2, Some(9));
    store::finish(&pool, id, "done").await?;
    assert_eq!(linkable(&pool, id).await?, (None, None, None, None, None));
    let (text,): (Option<String>,) =
        sqlx::query_as("SELECT reply_text FROM invitation WHERE invitation_id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await?;
    assert_eq!(text, None);
    assert_eq!(last(&pool, "hash-b").await?, Some(sent_at.timestamp()));
    // 60 days after sending the row itself goes.
    store::tidy(
        &pool,
        Utc::now() - Duration::days(7),
        Utc::now() + Duration::days(1),
    )
    .await?;
    assert_eq!(last(&pool, "hash-b").await?, None);
    Ok(())
}
