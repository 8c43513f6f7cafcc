//! The invitations table (migrations/): scheduling, sending, and the reply conversation.

use chrono::{DateTime, Utc};
use kaiku_domain::redaction::redact;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// An invitation as the scheduler and the reply handler see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Invitation {
    pub invitation_id: Uuid,
    pub phone_sealed: Option<Vec<u8>>,
    pub survey_id: Option<String>,
    pub unit_id: Option<String>,
    pub professional_group: Option<String>,
    pub age_band: Option<String>,
    pub language: String,
    pub send_at: DateTime<Utc>,
    pub state: String,
    pub attempts: i32,
    pub reprompted: bool,
    pub score: Option<i16>,
    pub answered_at: Option<DateTime<Utc>>,
    pub reply_text: Option<String>,
    pub submission_id: Option<Uuid>,
}

const COLUMNS: &str = "invitation_id, phone_sealed, survey_id, unit_id, professional_group, age_band, \
     language, send_at, state, attempts, reprompted, score, answered_at, reply_text, submission_id";

/// What a finished invitation (done, expired, failed) keeps: the number's hash, its state, the
/// Helsinki day it was sent (for the 30-day rule; none if it never was) and the day it finished.
/// Nothing that joins the number to an answer or a unit, and no exact time: analytics knows when
/// each answer was given, so a send or finish time to the second could pick out the number's
/// answer, where a day is shared by many (migrations/0002_finished_days.sql). Every way an
/// invitation finishes sets this; it clears `updated_at` too, so no statement sets that beside it.
const FINISH: &str = "score = NULL, answered_at = NULL, reply_text = NULL, submission_id = NULL, \
     survey_id = NULL, unit_id = NULL, professional_group = NULL, age_band = NULL, phone_sealed = NULL, \
     sent_on = (sent_at AT TIME ZONE 'Europe/Helsinki')::date, \
     finished_on = (now() AT TIME ZONE 'Europe/Helsinki')::date, \
     send_at = NULL, sent_at = NULL, updated_at = NULL";

pub struct NewInvitation<'a> {
    pub invitation_id: Uuid,
    pub visit_hash: &'a str,
    pub phone_hash: &'a str,
    pub phone_sealed: Vec<u8>,
    pub survey_id: &'a str,
    pub unit_id: &'a str,
    pub professional_group: &'a str,
    pub age_band: &'a str,
    pub language: &'a str,
    pub send_at: DateTime<Utc>,
}

/// The send time of the number's latest invitation that was sent or will be: every row that
/// was sent (whatever became of it later: answered, expired, refused) or is scheduled. A
/// finished invitation keeps only the day it was sent, so it counts as sent at the end of that
/// day (the next day's Helsinki midnight): the 30-day rule may wait a day longer, never less.
pub async fn last_invitation(
    tx: &mut Transaction<'_, Postgres>,
    phone_hash: &str,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar(
        "SELECT max(coalesce(sent_at, send_at, \
             (sent_on + 1)::timestamp AT TIME ZONE 'Europe/Helsinki')) FROM invitation \
         WHERE phone_hash = $1 AND (state = 'scheduled' OR sent_at IS NOT NULL OR sent_on IS NOT NULL)",
    )
    .bind(phone_hash)
    .fetch_one(&mut **tx)
    .await
}

/// Serialises scheduling per number, so two visits of one person delivered at once cannot both
/// pass the 30-day rule.
pub async fn lock_number(tx: &mut Transaction<'_, Postgres>, phone_hash: &str) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(phone_hash)
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

pub async fn visit_known(
    tx: &mut Transaction<'_, Postgres>,
    visit_hash: &str,
) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM invitation WHERE visit_hash = $1)")
        .bind(visit_hash)
        .fetch_one(&mut **tx)
        .await
}

pub async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    new: &NewInvitation<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO invitation (invitation_id, visit_hash, phone_hash, phone_sealed, survey_id, unit_id, \
         professional_group, age_band, language, send_at, state, submission_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'scheduled', $11)",
    )
    .bind(new.invitation_id)
    .bind(new.visit_hash)
    .bind(new.phone_hash)
    .bind(&new.phone_sealed)
    .bind(new.survey_id)
    .bind(new.unit_id)
    .bind(new.professional_group)
    .bind(new.age_band)
    .bind(new.language)
    .bind(new.send_at)
    .bind(Uuid::new_v4())
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// The oldest due invitation, locked for this sender (others skip it). One per transaction, so
/// a sent invitation is committed as sent right after the provider took it.
pub async fn lock_next_due(
    tx: &mut Transaction<'_, Postgres>,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Invitation>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM invitation WHERE state = 'scheduled' AND send_at <= $1 \
         ORDER BY send_at LIMIT 1 FOR UPDATE SKIP LOCKED"
    )))
    .bind(now)
    .fetch_optional(&mut **tx)
    .await
}

/// Sent: the number is forgotten.
pub async fn mark_sent(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE invitation SET state = 'sent', phone_sealed = NULL, sent_at = $2, updated_at = $2 \
         WHERE invitation_id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// Not sent this time: try again at `retry_at`, or give up (and forget the number and the times).
pub async fn mark_send_failed(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    retry_at: Option<DateTime<Utc>>,
    final_state: &str,
) -> sqlx::Result<()> {
    match retry_at {
        Some(at) => sqlx::query(
            "UPDATE invitation SET attempts = attempts + 1, send_at = $2, updated_at = now() WHERE invitation_id = $1",
        )
        .bind(id)
        .bind(at),
        None => sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE invitation SET state = $2, attempts = attempts + 1, {FINISH} \
             WHERE invitation_id = $1"
        )))
        .bind(id)
        .bind(final_state),
    }
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// The open conversation of a number, locked: its latest sent invitation still waiting for a
/// score or a text, sent after `since`.
pub async fn lock_conversation(
    tx: &mut Transaction<'_, Postgres>,
    phone_hash: &str,
    since: DateTime<Utc>,
) -> sqlx::Result<Option<Invitation>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM invitation WHERE phone_hash = $1 AND state IN ('sent', 'awaiting_text') \
         AND sent_at >= $2 ORDER BY sent_at DESC LIMIT 1 FOR UPDATE"
    )))
    .bind(phone_hash)
    .bind(since)
    .fetch_optional(&mut **tx)
    .await
}

pub async fn record_score(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    score: u32,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE invitation SET state = 'awaiting_text', score = $2, answered_at = $3, updated_at = $3 \
         WHERE invitation_id = $1",
    )
    .bind(id)
    .bind(i16::try_from(score).unwrap_or(i16::MAX))
    .bind(at)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// Marks that the one "reply with a number" was sent.
pub async fn mark_reprompted(tx: &mut Transaction<'_, Postgres>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE invitation SET reprompted = true, updated_at = now() WHERE invitation_id = $1",
    )
    .bind(id)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// The answer is complete and waits for intake (the text only until then). The text is stored
/// redacted: identity codes, phone numbers and e-mail addresses are replaced with placeholders
/// ([`kaiku_domain::redaction::redact`]) before it reaches the table, as it may wait there for
/// days while intake is unreachable. Intake redacts it again (idempotent) and removes names too,
/// which need a morphological analyser this gateway does not load. Returns the text as stored,
/// which is what goes to intake.
pub async fn record_text(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    text: Option<&str>,
) -> sqlx::Result<Option<String>> {
    let text = text.map(|text| redact(text).text);
    sqlx::query("UPDATE invitation SET state = 'submitting', reply_text = $2, updated_at = now() WHERE invitation_id = $1")
        .bind(id)
        .bind(text.as_deref())
        .execute(&mut **tx)
        .await
        .map(|_| text)
}

/// Conversations whose text wait is over, and answers intake has not yet acknowledged.
pub async fn ready_to_submit(
    pool: &PgPool,
    text_wait_over: DateTime<Utc>,
) -> sqlx::Result<Vec<Invitation>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM invitation WHERE state = 'submitting' \
         OR (state = 'awaiting_text' AND answered_at <= $1) ORDER BY answered_at LIMIT 200"
    )))
    .bind(text_wait_over)
    .fetch_all(pool)
    .await
}

/// Intake has it (or refused it for good): the answer and everything that joins it to the
/// number is dropped, the times with it.
pub async fn finish(pool: &PgPool, id: Uuid, state: &str) -> sqlx::Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE invitation SET state = $2, {FINISH} WHERE invitation_id = $1"
    )))
    .bind(id)
    .bind(state)
    .execute(pool)
    .await
    .map(|_| ())
}

/// Unanswered invitations expire; answers intake never took within the reply window are given
/// up (their text with them); old rows go (their hashes are only needed for 30 days): a sent
/// one counts from the Helsinki day it was sent, one never sent from the day it finished.
pub async fn tidy(
    pool: &PgPool,
    reply_window_over: DateTime<Utc>,
    forget_before: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE invitation SET state = CASE WHEN state = 'sent' THEN 'expired' ELSE 'failed' END, \
         {FINISH} \
         WHERE (state = 'sent' AND sent_at < $1) \
            OR (state IN ('awaiting_text', 'submitting') AND answered_at < $1)"
    )))
    .bind(reply_window_over)
    .execute(pool)
    .await?;
    sqlx::query(
        "DELETE FROM invitation WHERE state IN ('done', 'expired', 'failed') \
         AND coalesce(sent_on, finished_on) < ($1 AT TIME ZONE 'Europe/Helsinki')::date",
    )
    .bind(forget_before)
    .execute(pool)
    .await
    .map(|_| ())
}
