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

#[derive(Debug, Default)]
pub struct Rollups {
    answers: HashMap<(BucketKey, String, &'static str), [i64; SCORE_COLUMNS.len()]>,
    responses: HashMap<BucketKey, i64>,
}

/// Every rollup row a response or answer with these dimensions counts in.
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

impl Rollups {
    pub fn count_response(&mut self, dimensions: &Dimensions) {
        for key in row_keys(dimensions) {
            *self.responses.entry(key).or_default() += 1;
        }
    }

    /// Counts one answer; `score` is 0-10, 1-5 or kaiku_domain::rollup::DONT_KNOW. The caller
    /// has validated it (apply.rs), so anything else is ignored rather than miscounted.
    pub fn count_answer(
        &mut self,
        dimensions: &Dimensions,
        question_key: &str,
        kind: &'static str,
        score: i16,
    ) {
        let Some(column) = score_column(score) else {
            return;
        };
        for key in row_keys(dimensions) {
            self.answers
                .entry((key, question_key.to_owned(), kind))
                .or_default()[column] += 1;
        }
    }

    pub async fn flush(self, conn: &mut PgConnection) -> Result<(), ProjectionError> {
        if !self.answers.is_empty() {
            let mut c = Columns::default();
            let (mut keys, mut kinds) = (vec![], vec![]);
            let mut counts: Vec<Vec<i64>> = vec![Vec::new(); SCORE_COLUMNS.len()];
            for ((key, question_key, kind), by_score) in self.answers {
                c.push(key);
                keys.push(question_key);
                kinds.push(kind);
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
            for (key, count) in self.responses {
                c.push(key);
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
