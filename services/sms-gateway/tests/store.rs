//! The invitation table against a real PostgreSQL: what a finished conversation keeps (no
//! exact time, only Helsinki days), that every invitation that went out counts for the
//! 30-day rule, whatever became of it, and that a reply text waiting for intake holds no
//! identity code, phone number or e-mail address.

use std::sync::Mutex;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Helsinki;
use kaiku_domain::time::helsinki_date;
use kaiku_proto::intake::v1::response_intake_client::ResponseIntakeClient;
use kaiku_proto::survey::v1::survey_definition_client::SurveyDefinitionClient;
use kaiku_test_support::{PostgresServer, free_port};
use sms_gateway::gateway::{Gateway, ReplyOutcome, Timing};
use sms_gateway::phone::{PhoneNumber, PhoneVault};
use sms_gateway::provider::{ProviderError, SmsProvider};
use sms_gateway::rules::SmsRules;
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

/// Where the 30-day rule puts a finished invitation sent at `sent_at`: the end of its Helsinki day.
fn end_of_helsinki_day(sent_at: DateTime<Utc>) -> TestResult<i64> {
    let next = helsinki_date(sent_at) + Duration::days(1);
    let midnight = Helsinki
        .from_local_datetime(&next.and_time(NaiveTime::MIN))
        .single()
        .ok_or("Helsinki midnight is always one instant")?;
    Ok(midnight.timestamp())
}

/// A Helsinki wall-clock time `days_ago` days before today, as UTC.
fn helsinki_time(days_ago: i64, hour: u32, minute: u32) -> TestResult<DateTime<Utc>> {
    let day = helsinki_date(Utc::now()) - Duration::days(days_ago);
    let time = NaiveTime::from_hms_opt(hour, minute, 0).ok_or("test time")?;
    Ok(Helsinki
        .from_local_datetime(&day.and_time(time))
        .single()
        .ok_or("not a single instant in Helsinki")?
        .with_timezone(&Utc))
}

/// The times and days a row holds.
#[derive(Debug, sqlx::FromRow)]
struct Kept {
    send_at: Option<DateTime<Utc>>,
    sent_at: Option<DateTime<Utc>>,
    answered_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
    sent_on: Option<NaiveDate>,
    finished_on: Option<NaiveDate>,
}

async fn kept(pool: &PgPool, id: Uuid) -> TestResult<Kept> {
    Ok(sqlx::query_as(
        "SELECT send_at, sent_at, answered_at, updated_at, sent_on, finished_on \
         FROM invitation WHERE invitation_id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await?)
}

/// Every column of the row as PostgreSQL renders it in JSON, where a timestamptz shows its time
/// of day ("2026-11-24T10:00:00+02:00") and a date does not ("2026-11-24"); a column added
/// later that kept a time would show here.
async fn columns_with_a_time(pool: &PgPool, id: Uuid) -> TestResult<Vec<(String, String)>> {
    let (row,): (String,) =
        sqlx::query_as("SELECT row_to_json(i)::text FROM invitation i WHERE invitation_id = $1")
            .bind(id)
            .fetch_one(pool)
            .await?;
    let row: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&row)?;
    Ok(row
        .into_iter()
        .filter_map(|(column, value)| {
            let text = value.as_str()?.to_owned();
            DateTime::parse_from_rfc3339(&text)
                .is_ok()
                .then_some((column, text))
        })
        .collect())
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
        Some(end_of_helsinki_day(sent_at)?),
        "the 30-day rule still sees it, at the end of the day it was sent"
    );
    assert_eq!(linkable(&pool, id).await?, (None, None, None, None, None));
    Ok(())
}

#[tokio::test]
async fn a_finished_answer_leaves_only_the_hash_and_the_send_day() -> TestResult {
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
    assert_eq!(
        last(&pool, "hash-b").await?,
        Some(end_of_helsinki_day(sent_at)?)
    );
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

#[tokio::test]
async fn a_finished_invitation_keeps_only_the_helsinki_days_it_was_sent_and_finished() -> TestResult
{
    let (_server, pool) = database().await?;
    // 00:30 in Helsinki is the previous day in UTC: the day kept must be Helsinki's.
    let sent_at = helsinki_time(2, 0, 30)?;
    assert_ne!(sent_at.date_naive(), helsinki_date(sent_at));
    let id = sent_invitation(&pool, "hash-c", sent_at).await?;
    let mut tx = pool.begin().await?;
    store::record_score(&mut tx, id, 8, sent_at + Duration::minutes(7)).await?;
    store::record_text(&mut tx, id, Some("Nopeasti pääsin")).await?;
    tx.commit().await?;
    // While the conversation is open, its times are needed (reply window, text wait).
    let open = kept(&pool, id).await?;
    assert_eq!(open.sent_at, Some(sent_at));
    assert!(open.answered_at.is_some() && open.updated_at.is_some());
    assert!(
        !columns_with_a_time(&pool, id).await?.is_empty(),
        "the check below sees times"
    );

    let before = helsinki_date(Utc::now());
    store::finish(&pool, id, "done").await?;
    let after = helsinki_date(Utc::now());

    let row = kept(&pool, id).await?;
    assert_eq!(
        (row.send_at, row.sent_at, row.answered_at, row.updated_at),
        (None, None, None, None),
        "a finished row keeps no time: {row:?}"
    );
    assert_eq!(row.sent_on, Some(helsinki_date(sent_at)), "{row:?}");
    let finished_on = row.finished_on.ok_or("no finish day")?;
    assert!(before <= finished_on && finished_on <= after, "{row:?}");
    assert_eq!(columns_with_a_time(&pool, id).await?, Vec::new());
    assert_eq!(linkable(&pool, id).await?, (None, None, None, None, None));
    Ok(())
}

#[tokio::test]
async fn every_way_an_invitation_finishes_drops_its_times() -> TestResult {
    let (_server, pool) = database().await?;
    let now = Utc::now();
    // Expired unanswered, and a score whose answer intake never took: both by tidy.
    let expired = sent_invitation(&pool, "hash-d", now - Duration::days(9)).await?;
    let given_up = sent_invitation(&pool, "hash-e", now - Duration::days(9)).await?;
    let mut tx = pool.begin().await?;
    store::record_score(&mut tx, given_up, 3, now - Duration::days(8)).await?;
    tx.commit().await?;
    store::tidy(&pool, now - Duration::days(7), now - Duration::days(60)).await?;
    // Never sent: the provider gave up.
    let never_sent = Uuid::new_v4();
    let mut tx = pool.begin().await?;
    store::insert(
        &mut tx,
        &NewInvitation {
            invitation_id: never_sent,
            visit_hash: "visit-never-sent",
            phone_hash: "hash-f",
            phone_sealed: vec![1, 2, 3],
            survey_id: "survey",
            unit_id: "hc-1",
            professional_group: "",
            age_band: "",
            language: "fi",
            send_at: now - Duration::hours(1),
        },
    )
    .await?;
    store::mark_send_failed(&mut tx, never_sent, None, "failed").await?;
    tx.commit().await?;

    for (id, state) in [
        (expired, "expired"),
        (given_up, "failed"),
        (never_sent, "failed"),
    ] {
        let (stored,): (String,) =
            sqlx::query_as("SELECT state FROM invitation WHERE invitation_id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await?;
        assert_eq!(stored, state);
        assert_eq!(columns_with_a_time(&pool, id).await?, Vec::new(), "{state}");
        assert!(kept(&pool, id).await?.finished_on.is_some(), "{state}");
    }
    assert_eq!(kept(&pool, never_sent).await?.sent_on, None);
    // Never sent, so it does not hold the number back.
    assert_eq!(last(&pool, "hash-f").await?, None);
    Ok(())
}

#[tokio::test]
async fn the_migration_turns_the_times_of_rows_finished_before_it_into_days() -> TestResult {
    let server = PostgresServer::start().await?;
    let pool = PgPool::connect(&server.create_database().await?).await?;
    let first = sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(
            store::MIGRATOR
                .migrations
                .iter()
                .filter(|m| m.version == 1)
                .cloned()
                .collect(),
        ),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    first.run(&pool).await?;
    let sent_at = helsinki_time(3, 0, 45)?;
    let finished_at = helsinki_time(2, 23, 50)?;
    sqlx::query(
        "INSERT INTO invitation (invitation_id, visit_hash, phone_hash, language, send_at, state, \
         sent_at, updated_at) VALUES ($1, 'v', 'hash-g', 'fi', $2, 'done', $2, $3), \
         ($4, 'w', 'hash-h', 'fi', $2, 'sent', $2, $2)",
    )
    .bind(Uuid::from_u128(1))
    .bind(sent_at)
    .bind(finished_at)
    .bind(Uuid::from_u128(2))
    .execute(&pool)
    .await?;
    store::MIGRATOR.run(&pool).await?;

    let done = kept(&pool, Uuid::from_u128(1)).await?;
    assert_eq!(
        columns_with_a_time(&pool, Uuid::from_u128(1)).await?,
        Vec::new()
    );
    assert_eq!(done.sent_on, Some(helsinki_date(sent_at)), "{done:?}");
    assert_eq!(
        done.finished_on,
        Some(helsinki_date(finished_at)),
        "{done:?}"
    );
    // An open conversation keeps its times: the reply window runs on them.
    let open = kept(&pool, Uuid::from_u128(2)).await?;
    assert_eq!((open.sent_at, open.sent_on), (Some(sent_at), None));
    Ok(())
}

// ---- reply texts ----

/// Identity codes as respondents type them (official, lower case, without the separator, with
/// an en dash, spaced, a 2000s sign), each with a phone number and an address beside it.
const CODES: [&str; 6] = [
    "131052-308T",
    "131052-308t",
    "131052308T",
    "131052–308T",
    "131052 - 308T",
    "010594Y9032",
];

fn reply_with(code: &str) -> String {
    format!(
        "Hoitaja oli ystävällinen. Hetuni on {code}, soittakaa 040\u{a0}123\u{a0}4567 tai \
         matti.virtanen(at)example.fi kiitos"
    )
}

const REPLY_AS_STORED: &str = "Hoitaja oli ystävällinen. Hetuni on [henkilötunnus], soittakaa \
     [puhelinnumero] tai [sähköposti] kiitos";

/// Every column of the row as text: whatever column held the reply, the code would show here.
async fn row_text(pool: &PgPool, id: Uuid) -> TestResult<String> {
    let (row,): (String,) =
        sqlx::query_as("SELECT row_to_json(i)::text FROM invitation i WHERE invitation_id = $1")
            .bind(id)
            .fetch_one(pool)
            .await?;
    Ok(row)
}

/// The row holds none of the identifiers of [`reply_with`] `code`, nor their digits.
fn assert_no_identifiers(row: &str, code: &str) {
    let digits: String = code.chars().filter(char::is_ascii_digit).collect();
    for secret in [
        code,
        &digits,
        "123\u{a0}4567",
        "1234567",
        "matti.virtanen",
        "example.fi",
    ] {
        assert!(!row.contains(secret), "{secret:?} is stored: {row}");
    }
}

#[tokio::test]
async fn a_reply_text_is_stored_without_identity_codes_phone_numbers_or_addresses() -> TestResult {
    let (_server, pool) = database().await?;
    let id = sent_invitation(&pool, "hash-i", Utc::now() - Duration::hours(1)).await?;
    let mut tx = pool.begin().await?;
    store::record_score(&mut tx, id, 7, Utc::now()).await?;
    tx.commit().await?;
    for code in CODES {
        let mut tx = pool.begin().await?;
        let stored = store::record_text(&mut tx, id, Some(&reply_with(code))).await?;
        tx.commit().await?;
        assert_eq!(stored.as_deref(), Some(REPLY_AS_STORED), "{code}");
        let (text,): (Option<String>,) =
            sqlx::query_as("SELECT reply_text FROM invitation WHERE invitation_id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await?;
        assert_eq!(text.as_deref(), Some(REPLY_AS_STORED), "{code}");
        assert_no_identifiers(&row_text(&pool, id).await?, code);
    }
    Ok(())
}

/// An SMS provider that keeps what it is asked to send.
#[derive(Default)]
struct Outbox(Mutex<Vec<String>>);

impl SmsProvider for Outbox {
    async fn send(&self, _to: &PhoneNumber, text: &str) -> Result<(), ProviderError> {
        if let Ok(mut sent) = self.0.lock() {
            sent.push(text.to_owned());
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_reply_waiting_for_an_unreachable_intake_holds_no_identity_code() -> TestResult {
    let (_server, pool) = database().await?;
    let vault = PhoneVault::new(b"sms-gateway-store-test-secret-0123456789")?;
    let phone = PhoneNumber::parse("050 765 4321")?;
    let id = sent_invitation(&pool, &vault.hash(&phone), Utc::now() - Duration::hours(1)).await?;
    // Nothing listens at either address: the answer waits in the table for the next round.
    let nowhere = || -> TestResult<_> {
        let endpoint =
            tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{}", free_port()?))?;
        Ok(kaiku_grpc::authorized(endpoint.connect_lazy(), "token"))
    };
    let gateway = Gateway {
        pool: pool.clone(),
        vault,
        rules: SmsRules::default(),
        timing: Timing {
            reply_window: Duration::days(7),
            text_wait: Duration::hours(2),
        },
        provider: Outbox::default(),
        surveys: SurveyDefinitionClient::new(nowhere()?),
        intake: ResponseIntakeClient::new(nowhere()?),
        survey_id: "survey".into(),
        name_unit: false,
    };
    let code = CODES[3];
    assert_eq!(
        gateway.take_reply(&phone, "9", Utc::now()).await?,
        ReplyOutcome::ScoreRecorded
    );
    assert_eq!(
        gateway
            .take_reply(&phone, &format!("  {}\n", reply_with(code)), Utc::now())
            .await?,
        ReplyOutcome::Submitted
    );
    let (state, text): (String, Option<String>) =
        sqlx::query_as("SELECT state, reply_text FROM invitation WHERE invitation_id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await?;
    assert_eq!(
        state, "submitting",
        "intake is unreachable: the answer waits"
    );
    assert_eq!(text.as_deref(), Some(REPLY_AS_STORED));
    assert_no_identifiers(&row_text(&pool, id).await?, code);
    // The next round sends intake the stored text.
    let waiting = store::ready_to_submit(&pool, Utc::now()).await?;
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].reply_text.as_deref(), Some(REPLY_AS_STORED));
    Ok(())
}
