//! Releases to readers (ADR 0020): the projection cuts each survey's new responses into atoms
//! (`kaiku_domain::disclosure::plan_release`) and writes them to the `reader_release` schema,
//! which analytics answers readers from.
//!
//! Which atom each response is in is kept by its submission id (`reader_release.released`), so
//! an answer is released once, whatever a rebuild does to its stream sequence.
//!
//! A survey is released when its answers have stopped coming for a while and the projection
//! has caught up with the stream (so one batch of answers is released together, as the blocks
//! a partition of everything would have), or at the latest some time after its first unreleased
//! answer (a survey that never stops still releases). Each release runs in one transaction
//! that sees the read model at one committed checkpoint.

use std::collections::HashMap;
use std::time::Duration;

use chrono::NaiveDate;
use kaiku_domain::disclosure::{Cell, CellKey, Partition, PlannedAtom, plan_release};
use kaiku_eventstore::{EventStore, RESPONSES_STREAM};
use kaiku_grpc::Shutdown;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use tokio::time::Instant;
use uuid::Uuid;

use crate::ProjectionError;

/// When surveys are released.
#[derive(Debug, Clone, Copy)]
pub struct ReleaseSettings {
    /// How long a survey's answers must have stopped coming.
    pub quiet: Duration,
    /// How long an unreleased answer waits at most for its survey to go quiet.
    pub max_delay: Duration,
    pub min_group_size: u32,
}

/// The advisory lock a release holds (two projections must not release one survey twice).
const RELEASE_LOCK: i64 = 0x6b61_696b_752d_726c;

/// The cell columns of `response` aliased `r.` (the month is the answer day's month).
const CELL_OF_RESPONSE: &str = "r.unit_id, date_trunc('month', r.answered_on)::date as month,
     r.period_id, r.channel, r.respondent_role, r.professional_group, r.age_band, r.language";

/// The survey's responses up to the release's checkpoint that are in no atom yet.
const UNRELEASED: &str = "from response r
     where r.survey_id = $1 and r.stream_sequence <= $2
       and not exists (select 1 from reader_release.released x
                       where x.submission_id = r.submission_id)";

const GROUP_BY_CELL: &str = "group by 1, 2, 3, 4, 5, 6, 7, 8";

/// What one release of a survey did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Released {
    pub through: u64,
    pub atoms: Vec<u64>,
}

/// Runs release passes until shutdown.
pub async fn run(pool: PgPool, store: EventStore, settings: ReleaseSettings, shutdown: Shutdown) {
    let tick = (settings.quiet / 4).clamp(Duration::from_millis(100), Duration::from_secs(30));
    let mut watch = Watch::default();
    loop {
        tokio::select! {
            () = tokio::time::sleep(tick) => {}
            () = shutdown.wait() => return,
        }
        if let Err(error) = pass(&pool, &store, settings, &mut watch).await {
            tracing::warn!(%error, "release pass failed; tried again at the next tick");
        }
    }
}

/// Per survey with unreleased answers: its newest sequence, since when it has been that, and
/// since when it has had unreleased answers.
#[derive(Default)]
struct Watch {
    surveys: HashMap<Uuid, (u64, Instant, Instant)>,
}

async fn pass(
    pool: &PgPool,
    store: &EventStore,
    settings: ReleaseSettings,
    watch: &mut Watch,
) -> Result<(), ProjectionError> {
    let applied = crate::runner::checkpoint(pool, RESPONSES_STREAM).await?;
    // Not caught up (or not known): only overdue surveys are released.
    let caught_up = match store.last_sequence(RESPONSES_STREAM).await {
        Ok(last) => applied >= last,
        Err(_) => false,
    };
    let rows = sqlx::query(
        "select s.survey_id,
                (select max(r.stream_sequence) from response r where r.survey_id = s.survey_id)
                  as head,
                coalesce(rs.released_through, 0) as released_through
         from survey s left join reader_release.survey rs using (survey_id)",
    )
    .fetch_all(pool)
    .await?;
    let now = Instant::now();
    for row in rows {
        let survey_id: Uuid = row.try_get("survey_id")?;
        let head = u64::try_from(row.try_get::<Option<i64>, _>("head")?.unwrap_or(0)).unwrap_or(0);
        let through = u64::try_from(row.try_get::<i64, _>("released_through")?).unwrap_or(0);
        if head <= through {
            watch.surveys.remove(&survey_id);
            // Nothing new: every answer up to what is applied has been considered.
            if applied > through {
                mark_considered(pool, survey_id, applied).await?;
            }
            continue;
        }
        let (seen_head, since, pending_since) =
            watch.surveys.entry(survey_id).or_insert((head, now, now));
        if *seen_head != head {
            *seen_head = head;
            *since = now;
        }
        let quiet = caught_up && since.elapsed() >= settings.quiet;
        let overdue = pending_since.elapsed() >= settings.max_delay;
        if quiet || overdue {
            release(pool, survey_id, settings.min_group_size).await?;
            watch.surveys.remove(&survey_id);
        }
    }
    Ok(())
}

async fn mark_considered(
    pool: &PgPool,
    survey_id: Uuid,
    through: u64,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "insert into reader_release.survey (survey_id, released_through, released_at)
         values ($1, $2, now())
         on conflict (survey_id) do update set released_through = excluded.released_through
         where reader_release.survey.released_through < excluded.released_through",
    )
    .bind(survey_id)
    .bind(i64::try_from(through).unwrap_or(i64::MAX))
    .execute(pool)
    .await?;
    Ok(())
}

/// Releases what the survey's blocks can release now, and records that every response up to
/// the committed checkpoint has been considered. None when another release holds the lock.
pub async fn release(
    pool: &PgPool,
    survey_id: Uuid,
    min_group_size: u32,
) -> Result<Option<Released>, ProjectionError> {
    let mut conn = pool.acquire().await?;
    let taken: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
        .bind(RELEASE_LOCK)
        .fetch_one(&mut *conn)
        .await?;
    if !taken {
        return Ok(None);
    }
    let released = release_locked(&mut conn, survey_id, min_group_size).await;
    sqlx::query("select pg_advisory_unlock($1)")
        .bind(RELEASE_LOCK)
        .execute(&mut *conn)
        .await?;
    released.map(Some)
}

async fn release_locked(
    conn: &mut PgConnection,
    survey_id: Uuid,
    min_group_size: u32,
) -> Result<Released, ProjectionError> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    // One snapshot, taken after the lock: the checkpoint, the responses it covers and the cuts.
    sqlx::query("set transaction isolation level repeatable read")
        .execute(&mut *tx)
        .await?;
    let through: i64 = sqlx::query_scalar(
        "select coalesce((select last_sequence from projection_checkpoint where stream = $1), 0)",
    )
    .bind(RESPONSES_STREAM)
    .fetch_one(&mut *tx)
    .await?;
    let cells = sqlx::query(
        "select r.unit_id, r.bucket as month, r.period_id, r.channel, r.respondent_role,
                r.professional_group, r.age_band, r.language, r.responses,
                coalesce(o.path, array[r.unit_id]) as path
         from response_rollup r left join org_unit o using (unit_id)
         where r.survey_id = $1 and r.cuboid = 'all' and r.grain = 'month' and r.responses > 0",
    )
    .bind(survey_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut all = Vec::with_capacity(cells.len());
    for row in &cells {
        all.push(Cell {
            key: key_of(row)?,
            unit_path: row.try_get("path")?,
            responses: count(row, "responses")?,
        });
    }
    let partition = Partition::build(all, min_group_size);
    let pending_rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "select {CELL_OF_RESPONSE}, count(*) as pending {UNRELEASED} {GROUP_BY_CELL}"
    )))
    .bind(survey_id)
    .bind(through)
    .fetch_all(&mut *tx)
    .await?;
    let mut pending = HashMap::new();
    for row in &pending_rows {
        pending.insert(key_of(row)?, count(row, "pending")?);
    }
    let atoms = plan_release(&partition, &pending);
    let mut ids = Vec::new();
    if !atoms.is_empty() {
        let answers = unreleased_answers(&mut tx, survey_id, through).await?;
        for atom in &atoms {
            ids.push(insert_atom(&mut tx, survey_id, through, atom, &answers).await?);
        }
    }
    sqlx::query(
        "insert into reader_release.survey (survey_id, released_through, released_at)
         values ($1, $2, now())
         on conflict (survey_id) do update
           set released_through = excluded.released_through, released_at = excluded.released_at",
    )
    .bind(survey_id)
    .bind(through)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    if !ids.is_empty() {
        tracing::info!(%survey_id, through, atoms = ids.len(), "released to readers");
    }
    Ok(Released {
        through: u64::try_from(through).unwrap_or(0),
        atoms: ids,
    })
}

/// The unreleased responses' answers by cell, question and score (-1 is "don't know").
type Answers = HashMap<CellKey, HashMap<(String, i16), i64>>;

async fn unreleased_answers(
    tx: &mut PgConnection,
    survey_id: Uuid,
    through: i64,
) -> Result<Answers, ProjectionError> {
    // `response.answers` keeps each scored answer as its score or "dont_know" (and chosen
    // options, which the question's kind leaves out).
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "select {CELL_OF_RESPONSE}, a.key as question_key,
                case when a.value = 'dont_know' then -1::smallint
                     else a.value::smallint end as score,
                count(*) as answers
         {}
           and q.kind in ('nps', 'statement', 'smiley')
           and (a.value = 'dont_know' or a.value ~ '^[0-9]{{1,2}}$')
         {GROUP_BY_CELL}, 9, 10",
        UNRELEASED.replacen(
            "from response r",
            "from response r
             cross join lateral json_each_text(r.answers::json) a
             join survey_question q on q.survey_id = r.survey_id
              and q.version = r.survey_version and q.question_key = a.key",
            1
        )
    )))
    .bind(survey_id)
    .bind(through)
    .fetch_all(&mut *tx)
    .await?;
    let mut answers: Answers = HashMap::new();
    for row in &rows {
        let n: i64 = row.try_get("answers")?;
        *answers
            .entry(key_of(row)?)
            .or_default()
            .entry((row.try_get("question_key")?, row.try_get("score")?))
            .or_default() += n;
    }
    Ok(answers)
}

async fn insert_atom(
    tx: &mut PgConnection,
    survey_id: Uuid,
    through: i64,
    atom: &PlannedAtom,
    answers: &Answers,
) -> Result<u64, ProjectionError> {
    let atom_id: i64 = sqlx::query_scalar(
        "insert into reader_release.atom (survey_id, released_through, responses)
         values ($1, $2, $3) returning atom_id",
    )
    .bind(survey_id)
    .bind(through)
    .bind(i64::try_from(atom.responses).unwrap_or(i64::MAX))
    .fetch_one(&mut *tx)
    .await?;
    let mut totals: HashMap<(String, i16), i64> = HashMap::new();
    for (key, n) in &atom.cells {
        let insert = sqlx::query(
            "insert into reader_release.atom_cell (atom_id, unit_id, month, period_id, channel,
                 respondent_role, professional_group, age_band, language, responses)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        );
        bind_cell(insert.bind(atom_id), key)
            .bind(i64::try_from(*n).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        // The cell's unreleased responses are the atom's.
        let members = sqlx::query(sqlx::AssertSqlSafe(format!(
            "insert into reader_release.released (submission_id, atom_id)
             select r.submission_id, $3 {UNRELEASED}
               and r.unit_id = $4 and date_trunc('month', r.answered_on)::date = $5
               and r.period_id = $6 and r.channel = $7 and r.respondent_role = $8
               and r.professional_group = $9 and r.age_band = $10 and r.language = $11"
        )))
        .bind(survey_id)
        .bind(through)
        .bind(atom_id);
        let added = bind_cell(members, key)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if added != *n {
            // The same snapshot counted them: anything else is a bug, and the release is undone.
            return Err(ProjectionError::ReleaseMismatch {
                survey_id,
                counted: *n,
                found: added,
            });
        }
        for (question, n) in answers.get(key).into_iter().flatten() {
            *totals.entry(question.clone()).or_default() += n;
        }
    }
    for ((question_key, score), n) in totals {
        sqlx::query(
            "insert into reader_release.atom_answer (atom_id, question_key, score, answers)
             values ($1, $2, $3, $4)",
        )
        .bind(atom_id)
        .bind(question_key)
        .bind(score)
        .bind(n)
        .execute(&mut *tx)
        .await?;
    }
    Ok(u64::try_from(atom_id).unwrap_or(0))
}

/// Binds a cell's columns in the order of `CellKey`'s fields.
fn bind_cell<'q>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    key: &'q CellKey,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    query
        .bind(&key.unit_id)
        .bind(key.month)
        .bind(&key.period_id)
        .bind(&key.channel)
        .bind(&key.respondent_role)
        .bind(&key.professional_group)
        .bind(&key.age_band)
        .bind(&key.language)
}

fn key_of(row: &PgRow) -> Result<CellKey, sqlx::Error> {
    Ok(CellKey {
        unit_id: row.try_get("unit_id")?,
        month: row.try_get::<NaiveDate, _>("month")?,
        period_id: row.try_get("period_id")?,
        channel: row.try_get("channel")?,
        respondent_role: row.try_get("respondent_role")?,
        professional_group: row.try_get("professional_group")?,
        age_band: row.try_get("age_band")?,
        language: row.try_get("language")?,
    })
}

fn count(row: &PgRow, column: &str) -> Result<u64, sqlx::Error> {
    Ok(u64::try_from(row.try_get::<i64, _>(column)?).unwrap_or(0))
}
