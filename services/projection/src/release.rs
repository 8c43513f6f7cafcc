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
pub struct ReleaseReport {
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
        // Another projection releasing (it holds the lock) leaves the survey watched.
        if (quiet || overdue)
            && release(pool, survey_id, settings.min_group_size)
                .await?
                .is_some()
        {
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
) -> Result<Option<ReleaseReport>, ProjectionError> {
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
) -> Result<ReleaseReport, ProjectionError> {
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
        let mut rows = AtomRows::default();
        for atom in &atoms {
            let atom_id = insert_atom(&mut tx, survey_id, through, atom.responses).await?;
            rows.add(atom_id, atom, &answers);
            ids.push(u64::try_from(atom_id).unwrap_or(0));
        }
        rows.write(&mut tx, survey_id, through).await?;
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
    Ok(ReleaseReport {
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
    responses: u64,
) -> Result<i64, ProjectionError> {
    Ok(sqlx::query_scalar(
        "insert into reader_release.atom (survey_id, released_through, responses)
         values ($1, $2, $3) returning atom_id",
    )
    .bind(survey_id)
    .bind(through)
    .bind(i64::try_from(responses).unwrap_or(i64::MAX))
    .fetch_one(&mut *tx)
    .await?)
}

/// A release's atom cells and answer counts, as parallel arrays written with one statement per
/// table (a first release of a large survey has thousands of atoms).
#[derive(Default)]
struct AtomRows {
    cell_atoms: Vec<i64>,
    unit_ids: Vec<String>,
    months: Vec<NaiveDate>,
    period_ids: Vec<String>,
    channels: Vec<String>,
    roles: Vec<String>,
    groups: Vec<String>,
    age_bands: Vec<String>,
    languages: Vec<String>,
    responses: Vec<i64>,
    answer_atoms: Vec<i64>,
    question_keys: Vec<String>,
    scores: Vec<i16>,
    answers: Vec<i64>,
}

impl AtomRows {
    fn add(&mut self, atom_id: i64, atom: &PlannedAtom, answers: &Answers) {
        let mut totals: HashMap<(String, i16), i64> = HashMap::new();
        for (key, n) in &atom.cells {
            self.cell_atoms.push(atom_id);
            self.unit_ids.push(key.unit_id.clone());
            self.months.push(key.month);
            self.period_ids.push(key.period_id.clone());
            self.channels.push(key.channel.clone());
            self.roles.push(key.respondent_role.clone());
            self.groups.push(key.professional_group.clone());
            self.age_bands.push(key.age_band.clone());
            self.languages.push(key.language.clone());
            self.responses.push(i64::try_from(*n).unwrap_or(i64::MAX));
            for (question, n) in answers.get(key).into_iter().flatten() {
                *totals.entry(question.clone()).or_default() += n;
            }
        }
        for ((question_key, score), n) in totals {
            self.answer_atoms.push(atom_id);
            self.question_keys.push(question_key);
            self.scores.push(score);
            self.answers.push(n);
        }
    }

    /// Writes the cells, marks each cell's unreleased answers as released in its atom, and
    /// writes the answer counts. Fails (and the release is undone) unless exactly the answers
    /// counted were marked: the same snapshot counted them, so anything else is a bug.
    async fn write(
        self,
        tx: &mut PgConnection,
        survey_id: Uuid,
        through: i64,
    ) -> Result<(), ProjectionError> {
        sqlx::query(
            "insert into reader_release.atom_cell (atom_id, unit_id, month, period_id, channel,
                 respondent_role, professional_group, age_band, language, responses)
             select * from unnest($1::bigint[], $2::text[], $3::date[], $4::text[], $5::text[],
                                  $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[])",
        )
        .bind(&self.cell_atoms)
        .bind(&self.unit_ids)
        .bind(&self.months)
        .bind(&self.period_ids)
        .bind(&self.channels)
        .bind(&self.roles)
        .bind(&self.groups)
        .bind(&self.age_bands)
        .bind(&self.languages)
        .bind(&self.responses)
        .execute(&mut *tx)
        .await?;
        // The cells were inserted in this transaction and have no statistics yet: the planner
        // would loop over them for each response (a first release of a million answers ran
        // for minutes); a hash join reads each side once.
        sqlx::query("set local enable_nestloop = off")
            .execute(&mut *tx)
            .await?;
        let marked = sqlx::query(sqlx::AssertSqlSafe(
            format!(
                "insert into reader_release.released (submission_id, atom_id)
             select r.submission_id, c.atom_id
             {UNRELEASED}",
            )
            .replacen(
                "from response r",
                "from response r
             join reader_release.atom_cell c
               on c.unit_id = r.unit_id and c.month = date_trunc('month', r.answered_on)::date
              and c.period_id = r.period_id and c.channel = r.channel
              and c.respondent_role = r.respondent_role
              and c.professional_group = r.professional_group and c.age_band = r.age_band
              and c.language = r.language and c.atom_id >= $3",
                1,
            ),
        ))
        .bind(survey_id)
        .bind(through)
        // This release's atoms are the newest: releases take turns (the advisory lock).
        .bind(self.cell_atoms.iter().min().copied().unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let counted: i64 = self.responses.iter().sum();
        if i64::try_from(marked).ok() != Some(counted) {
            return Err(ProjectionError::ReleaseMismatch {
                survey_id,
                counted: u64::try_from(counted).unwrap_or(0),
                found: marked,
            });
        }
        sqlx::query(
            "insert into reader_release.atom_answer (atom_id, question_key, score, answers)
             select * from unnest($1::bigint[], $2::text[], $3::smallint[], $4::bigint[])",
        )
        .bind(&self.answer_atoms)
        .bind(&self.question_keys)
        .bind(&self.scores)
        .bind(&self.answers)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
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
