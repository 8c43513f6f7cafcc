//! Counters per day and dimension, accumulated in memory over a batch and written with one
//! upsert per table at the end of it, inside the batch's transaction. A batch of 500 answers to
//! one unit's survey touches a handful of rows instead of 500, which is what lets catch-up run
//! at the rate of the fact inserts.

use std::collections::HashMap;

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::ProjectionError;

/// The dimensions every response is counted by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Dimensions {
    pub survey_id: Uuid,
    pub unit_id: String,
    pub day: NaiveDate,
    pub period_id: String,
    pub channel: &'static str,
    pub respondent_role: &'static str,
    pub professional_group: String,
    pub age_band: String,
    pub language: &'static str,
}

/// "Don't know" in the score column.
pub const DONT_KNOW: i16 = -1;

#[derive(Debug, Default)]
pub struct Rollups {
    answers: HashMap<(Dimensions, String, &'static str, i16), i64>,
    responses: HashMap<Dimensions, i64>,
}

impl Rollups {
    pub fn count_response(&mut self, dimensions: &Dimensions) {
        *self.responses.entry(dimensions.clone()).or_default() += 1;
    }

    pub fn count_answer(
        &mut self,
        dimensions: &Dimensions,
        question_key: &str,
        kind: &'static str,
        score: i16,
    ) {
        *self
            .answers
            .entry((dimensions.clone(), question_key.to_owned(), kind, score))
            .or_default() += 1;
    }

    pub async fn flush(self, conn: &mut PgConnection) -> Result<(), ProjectionError> {
        if !self.answers.is_empty() {
            let mut c = Columns::default();
            let (mut keys, mut kinds, mut scores, mut counts) = (vec![], vec![], vec![], vec![]);
            for ((dimensions, key, kind, score), count) in self.answers {
                c.push(dimensions);
                keys.push(key);
                kinds.push(kind);
                scores.push(score);
                counts.push(count);
            }
            sqlx::query(
                "insert into answer_daily (survey_id, unit_id, day, period_id, channel, respondent_role,
                                           professional_group, age_band, language, question_key, kind,
                                           score, answers)
                 select * from unnest($1::uuid[], $2::text[], $3::date[], $4::text[], $5::text[], $6::text[],
                                      $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
                                      $12::smallint[], $13::bigint[])
                 on conflict (survey_id, question_key, unit_id, day, period_id, channel, respondent_role,
                              professional_group, age_band, language, score)
                 do update set answers = answer_daily.answers + excluded.answers",
            )
            .bind(c.survey_id)
            .bind(c.unit_id)
            .bind(c.day)
            .bind(c.period_id)
            .bind(c.channel)
            .bind(c.respondent_role)
            .bind(c.professional_group)
            .bind(c.age_band)
            .bind(c.language)
            .bind(keys)
            .bind(kinds)
            .bind(scores)
            .bind(counts)
            .execute(&mut *conn)
            .await?;
        }
        if !self.responses.is_empty() {
            let mut c = Columns::default();
            let mut counts = vec![];
            for (dimensions, count) in self.responses {
                c.push(dimensions);
                counts.push(count);
            }
            sqlx::query(
                "insert into response_daily (survey_id, unit_id, day, period_id, channel, respondent_role,
                                             professional_group, age_band, language, responses)
                 select * from unnest($1::uuid[], $2::text[], $3::date[], $4::text[], $5::text[], $6::text[],
                                      $7::text[], $8::text[], $9::text[], $10::bigint[])
                 on conflict (survey_id, unit_id, day, period_id, channel, respondent_role,
                              professional_group, age_band, language)
                 do update set responses = response_daily.responses + excluded.responses",
            )
            .bind(c.survey_id)
            .bind(c.unit_id)
            .bind(c.day)
            .bind(c.period_id)
            .bind(c.channel)
            .bind(c.respondent_role)
            .bind(c.professional_group)
            .bind(c.age_band)
            .bind(c.language)
            .bind(counts)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

/// The dimensions as one array per column, for `unnest`.
#[derive(Default)]
struct Columns {
    survey_id: Vec<Uuid>,
    unit_id: Vec<String>,
    day: Vec<NaiveDate>,
    period_id: Vec<String>,
    channel: Vec<&'static str>,
    respondent_role: Vec<&'static str>,
    professional_group: Vec<String>,
    age_band: Vec<String>,
    language: Vec<&'static str>,
}

impl Columns {
    fn push(&mut self, d: Dimensions) {
        self.survey_id.push(d.survey_id);
        self.unit_id.push(d.unit_id);
        self.day.push(d.day);
        self.period_id.push(d.period_id);
        self.channel.push(d.channel);
        self.respondent_role.push(d.respondent_role);
        self.professional_group.push(d.professional_group);
        self.age_band.push(d.age_band);
        self.language.push(d.language);
    }
}
