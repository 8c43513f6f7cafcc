//! Counters per time bucket and dimension, accumulated in memory over a batch and written with
//! one upsert per table at the end of it, inside the batch's transaction. Each answer is counted
//! at every grain (day, ISO week, month: see kaiku_domain::rollup) with its score as a column,
//! so a batch of 500 answers to one unit's survey touches a handful of rows instead of 500, and
//! a query over two years reads month rows instead of day rows.

use std::collections::HashMap;

use chrono::NaiveDate;
use kaiku_domain::rollup::{Cuboid, Dimension, Grain, SCORE_COLUMNS, score_column};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::ProjectionError;

/// The dimensions every response is counted by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Dimensions {
    pub survey_id: Uuid,
    pub unit_id: String,
    /// The Europe/Helsinki day the response was given.
    pub day: NaiveDate,
    pub period_id: String,
    pub channel: &'static str,
    pub respondent_role: &'static str,
    pub professional_group: String,
    pub age_band: String,
    pub language: &'static str,
}

/// A rollup row's key: the dimensions the cuboid keeps ('' for the others), with the day
/// replaced by the bucket's first day.
type BucketKey = (Dimensions, Grain, Cuboid);

/// Every rollup row a response with given dimensions counts in: one per cuboid and grain.
const ROWS_PER_RESPONSE: usize = Cuboid::ALL.len() * Grain::ALL.len();

/// Counts for one batch. Responses in a batch share few distinct dimension sets (a day's
/// answers from a handful of units and channels), so rows and question keys are interned: a
/// response looks up its 18 row numbers once, and each answer adds to (row, question) pairs
/// of integers. Measured: 470 ms of hashing and string copies per 5000 responses before this,
/// a few ms after.
/// SipHash's protection against chosen keys buys nothing for counters keyed by numbers and
/// dimensions from our own events, and it was a fifth of the projection's CPU (perf, catch-up).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

#[derive(Debug, Default)]
pub struct Rollups {
    /// Row numbers of a response's dimensions (unbucketed), memoised.
    rows_of: FastMap<Dimensions, [u32; ROWS_PER_RESPONSE]>,
    row_keys: Vec<BucketKey>,
    row_numbers: FastMap<BucketKey, u32>,
    questions: Vec<(String, &'static str)>,
    question_numbers: FastMap<String, u32>,
    answers: FastMap<(u32, u32), [i64; SCORE_COLUMNS.len()]>,
    responses: FastMap<u32, i64>,
}

/// The rollup keys a response with these dimensions counts in.
fn row_keys(dimensions: &Dimensions) -> impl Iterator<Item = BucketKey> + '_ {
    Cuboid::ALL.into_iter().flat_map(move |cuboid| {
        let keep = |d: Dimension| cuboid.keeps(d);
        let kept = Dimensions {
            survey_id: dimensions.survey_id,
            unit_id: if keep(Dimension::Unit) {
                dimensions.unit_id.clone()
            } else {
                String::new()
            },
            day: dimensions.day,
            period_id: dimensions.period_id.clone(),
            channel: if keep(Dimension::Channel) {
                dimensions.channel
            } else {
                ""
            },
            respondent_role: dimensions.respondent_role,
            professional_group: if keep(Dimension::ProfessionalGroup) {
                dimensions.professional_group.clone()
            } else {
                String::new()
            },
            age_band: if keep(Dimension::AgeBand) {
                dimensions.age_band.clone()
            } else {
                String::new()
            },
            language: if keep(Dimension::Language) {
                dimensions.language
            } else {
                ""
            },
        };
        Grain::ALL.into_iter().map(move |grain| {
            let mut key = kept.clone();
            key.day = grain.bucket_start(kept.day);
            (key, grain, cuboid)
        })
    })
}

/// The rows one response counts in; pass them to count_answer for each of its answers.
#[derive(Debug, Clone, Copy)]
pub struct ResponseRows([u32; ROWS_PER_RESPONSE]);

impl Rollups {
    /// Counts one response (`delta` -1 takes it back) and returns its rows.
    pub fn count_response(&mut self, dimensions: &Dimensions, delta: i64) -> ResponseRows {
        let rows = match self.rows_of.get(dimensions) {
            Some(rows) => *rows,
            None => {
                let mut rows = [0u32; ROWS_PER_RESPONSE];
                for (slot, key) in rows.iter_mut().zip(row_keys(dimensions)) {
                    *slot = match self.row_numbers.get(&key) {
                        Some(number) => *number,
                        None => {
                            let number = u32::try_from(self.row_keys.len()).unwrap_or(u32::MAX);
                            self.row_numbers.insert(key.clone(), number);
                            self.row_keys.push(key);
                            number
                        }
                    };
                }
                self.rows_of.insert(dimensions.clone(), rows);
                rows
            }
        };
        for row in rows {
            *self.responses.entry(row).or_default() += delta;
        }
        ResponseRows(rows)
    }

    /// Counts one answer of a response counted with count_response; `score` is 0-10, 1-5 or
    /// kaiku_domain::rollup::DONT_KNOW. The caller has validated it (apply.rs), so anything
    /// else is ignored rather than miscounted.
    pub fn count_answer(
        &mut self,
        rows: ResponseRows,
        question_key: &str,
        kind: &'static str,
        score: i16,
        delta: i64,
    ) {
        let Some(column) = score_column(score) else {
            return;
        };
        let question = match self.question_numbers.get(question_key) {
            Some(number) => *number,
            None => {
                let number = u32::try_from(self.questions.len()).unwrap_or(u32::MAX);
                self.question_numbers
                    .insert(question_key.to_owned(), number);
                self.questions.push((question_key.to_owned(), kind));
                number
            }
        };
        for row in rows.0 {
            self.answers.entry((row, question)).or_default()[column] += delta;
        }
    }

    /// Distinct rollup rows this batch will upsert.
    pub fn rows(&self) -> usize {
        self.answers.len() + self.responses.len()
    }

    pub async fn flush(self, conn: &mut PgConnection) -> Result<(), ProjectionError> {
        if !self.answers.is_empty() {
            let mut c = Columns::default();
            let (mut keys, mut kinds) = (vec![], vec![]);
            let mut counts: Vec<Vec<i64>> = vec![Vec::new(); SCORE_COLUMNS.len()];
            for ((row, question), by_score) in self.answers {
                // All taken back (duplicates): nothing to add, and no empty row to create.
                if by_score.iter().all(|n| *n == 0) {
                    continue;
                }
                let (Some(key), Some((question_key, kind))) = (
                    self.row_keys.get(row as usize),
                    self.questions.get(question as usize),
                ) else {
                    continue; // numbers are only ever handed out with their entries
                };
                c.push(key.clone());
                keys.push(question_key.clone());
                kinds.push(*kind);
                for (column, n) in counts.iter_mut().zip(by_score) {
                    column.push(n);
                }
            }
            let mut query = sqlx::query(answer_upsert());
            query = c.bind(query).bind(keys).bind(kinds);
            for column in counts {
                query = query.bind(column);
            }
            query.execute(&mut *conn).await?;
        }
        if !self.responses.is_empty() {
            let mut c = Columns::default();
            let mut counts = vec![];
            for (row, count) in self.responses {
                if count == 0 {
                    continue;
                }
                let Some(key) = self.row_keys.get(row as usize) else {
                    continue;
                };
                c.push(key.clone());
                counts.push(count);
            }
            let query = sqlx::query(
                "insert into response_rollup (survey_id, unit_id, grain, bucket, period_id, channel,
                                              respondent_role, professional_group, age_band, language,
                                              cuboid, responses)
                 select * from unnest($1::uuid[], $2::text[], $3::text[], $4::date[], $5::text[],
                                      $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                                      $11::text[], $12::bigint[])
                 on conflict (survey_id, cuboid, grain, bucket, unit_id, period_id, channel,
                              respondent_role, professional_group, age_band, language)
                 do update set responses = response_rollup.responses + excluded.responses",
            );
            c.bind(query).bind(counts).execute(&mut *conn).await?;
        }
        Ok(())
    }
}

/// The answer upsert, built once from SCORE_COLUMNS so the column list cannot drift.
fn answer_upsert() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let scores = SCORE_COLUMNS.join(", ");
        let arrays: Vec<String> = (0..SCORE_COLUMNS.len())
            .map(|i| format!("${}::bigint[]", i + 14))
            .collect();
        let updates: Vec<String> = SCORE_COLUMNS
            .iter()
            .map(|c| format!("{c} = answer_rollup.{c} + excluded.{c}"))
            .collect();
        format!(
            "insert into answer_rollup (survey_id, unit_id, grain, bucket, period_id, channel,
                                        respondent_role, professional_group, age_band, language,
                                        cuboid, question_key, kind, {scores})
             select * from unnest($1::uuid[], $2::text[], $3::text[], $4::date[], $5::text[],
                                  $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                                  $11::text[], $12::text[], $13::text[], {arrays})
             on conflict (survey_id, question_key, cuboid, grain, bucket, unit_id, period_id,
                          channel, respondent_role, professional_group, age_band, language)
             do update set {updates}",
            arrays = arrays.join(", "),
            updates = updates.join(", "),
        )
    })
}

/// The bucketed dimensions as one array per column, for `unnest`.
#[derive(Default)]
struct Columns {
    survey_id: Vec<Uuid>,
    unit_id: Vec<String>,
    grain: Vec<&'static str>,
    bucket: Vec<NaiveDate>,
    period_id: Vec<String>,
    channel: Vec<&'static str>,
    respondent_role: Vec<&'static str>,
    professional_group: Vec<String>,
    age_band: Vec<String>,
    language: Vec<&'static str>,
    cuboid: Vec<&'static str>,
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

impl Columns {
    fn push(&mut self, (d, grain, cuboid): BucketKey) {
        self.cuboid.push(cuboid.code());
        self.survey_id.push(d.survey_id);
        self.unit_id.push(d.unit_id);
        self.grain.push(grain.code());
        self.bucket.push(d.day);
        self.period_id.push(d.period_id);
        self.channel.push(d.channel);
        self.respondent_role.push(d.respondent_role);
        self.professional_group.push(d.professional_group);
        self.age_band.push(d.age_band);
        self.language.push(d.language);
    }

    /// Binds the eleven key arrays as $1..$11.
    fn bind(self, query: Query<'_>) -> Query<'_> {
        query
            .bind(self.survey_id)
            .bind(self.unit_id)
            .bind(self.grain)
            .bind(self.bucket)
            .bind(self.period_id)
            .bind(self.channel)
            .bind(self.respondent_role)
            .bind(self.professional_group)
            .bind(self.age_band)
            .bind(self.language)
            .bind(self.cuboid)
    }
}
