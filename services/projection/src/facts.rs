//! Response facts collected over a batch and written with one multi-row insert per table at the
//! end of it (or before an event that must see them, such as a redaction). A response already
//! in the read model (the same submission id after JetStream's duplicate window) is skipped
//! with everything it carries, so it is counted once.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::ProjectionError;
use crate::rollups::{DONT_KNOW, Dimensions, Rollups};

pub struct Score {
    pub question_key: String,
    pub kind: &'static str,
    /// None for "don't know".
    pub score: Option<i16>,
}

pub struct Text {
    pub question_key: String,
    pub body: String,
    pub sentiment: &'static str,
    pub themes: Vec<String>,
}

pub struct PendingResponse {
    pub submission_id: Uuid,
    pub sequence: i64,
    pub survey_version: i32,
    pub dimensions: Dimensions,
    pub answered_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub scores: Vec<Score>,
    pub choices: Vec<(String, String)>,
    pub texts: Vec<Text>,
}

#[derive(Default)]
pub struct Facts {
    pending: Vec<PendingResponse>,
    in_batch: HashSet<Uuid>,
}

impl Facts {
    pub fn add(&mut self, response: PendingResponse) {
        // A retry beyond the duplicate window inside one batch: the first one counts.
        if self.in_batch.insert(response.submission_id) {
            self.pending.push(response);
        } else {
            tracing::info!(submission_id = %response.submission_id, "duplicate submission skipped by the read model");
        }
    }

    /// Writes the pending responses and counts what was new into `rollups`.
    pub async fn flush(
        &mut self,
        conn: &mut PgConnection,
        rollups: &mut Rollups,
    ) -> Result<(), ProjectionError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let inserted: HashSet<Uuid> = sqlx::query_scalar(
            "insert into response (submission_id, stream_sequence, survey_id, survey_version, unit_id,
                                   channel, respondent_role, professional_group, age_band, language,
                                   period_id, answered_at, answered_on, received_at)
             select * from unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::int[], $5::text[],
                                  $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                                  $11::text[], $12::timestamptz[], $13::date[], $14::timestamptz[])
             on conflict (submission_id) do nothing
             returning submission_id",
        )
        .bind(pending.iter().map(|r| r.submission_id).collect::<Vec<_>>())
        .bind(pending.iter().map(|r| r.sequence).collect::<Vec<_>>())
        .bind(pending.iter().map(|r| r.dimensions.survey_id).collect::<Vec<_>>())
        .bind(pending.iter().map(|r| r.survey_version).collect::<Vec<_>>())
        .bind(pending.iter().map(|r| r.dimensions.unit_id.clone()).collect::<Vec<_>>())
        .bind(pending.iter().map(|r| r.dimensions.channel).collect::<Vec<_>>())
        .bind(pending.iter().map(|r| r.dimensions.respondent_role).collect::<Vec<_>>())
        .bind(pending.iter().map(|r| r.dimensions.professional_group.clone()).collect::<Vec<_>>())
        .bind(pending.iter().map(|r| r.dimensions.age_band.clone()).collect::<Vec<_>>())
        .bind(pending.iter().map(|r| r.dimensions.language).collect::<Vec<_>>())
        .bind(pending.iter().map(|r| r.dimensions.period_id.clone()).collect::<Vec<_>>())
        .bind(pending.iter().map(|r| r.answered_at).collect::<Vec<_>>())
        .bind(pending.iter().map(|r| r.dimensions.day).collect::<Vec<_>>())
        .bind(pending.iter().map(|r| r.received_at).collect::<Vec<_>>())
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();

        let mut scores = ScoreRows::default();
        let (mut choice_ids, mut choice_keys, mut choice_options) = (vec![], vec![], vec![]);
        let mut texts = TextRows::default();
        for response in pending {
            if !inserted.contains(&response.submission_id) {
                tracing::info!(submission_id = %response.submission_id, sequence = response.sequence, "duplicate submission skipped by the read model");
                continue;
            }
            rollups.count_response(&response.dimensions);
            for score in response.scores {
                rollups.count_answer(
                    &response.dimensions,
                    &score.question_key,
                    score.kind,
                    score.score.unwrap_or(DONT_KNOW),
                );
                scores.ids.push(response.submission_id);
                scores.keys.push(score.question_key);
                scores.kinds.push(score.kind);
                scores.scores.push(score.score);
                scores.dont_know.push(score.score.is_none());
            }
            for (key, option) in response.choices {
                choice_ids.push(response.submission_id);
                choice_keys.push(key);
                choice_options.push(option);
            }
            for text in response.texts {
                texts.ids.push(response.submission_id);
                texts.keys.push(text.question_key);
                texts.languages.push(response.dimensions.language);
                texts.bodies.push(text.body);
                texts.sentiments.push(text.sentiment);
                // Theme keys are [a-z_] dictionary keys: a comma cannot occur in one.
                texts.themes.push(text.themes.join(","));
            }
        }
        if !scores.ids.is_empty() {
            sqlx::query(
                "insert into answer_score (submission_id, question_key, kind, score, dont_know)
                 select * from unnest($1::uuid[], $2::text[], $3::text[], $4::smallint[], $5::boolean[])
                 on conflict do nothing",
            )
            .bind(scores.ids)
            .bind(scores.keys)
            .bind(scores.kinds)
            .bind(scores.scores)
            .bind(scores.dont_know)
            .execute(&mut *conn)
            .await?;
        }
        if !choice_ids.is_empty() {
            sqlx::query(
                "insert into answer_choice (submission_id, question_key, option_key)
                 select * from unnest($1::uuid[], $2::text[], $3::text[])
                 on conflict do nothing",
            )
            .bind(choice_ids)
            .bind(choice_keys)
            .bind(choice_options)
            .execute(&mut *conn)
            .await?;
        }
        if !texts.ids.is_empty() {
            sqlx::query(
                "insert into feedback_text (submission_id, question_key, language, body, sentiment, themes)
                 select id, key, language, body, sentiment, string_to_array(themes, ',')
                 from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
                      as t(id, key, language, body, sentiment, themes)
                 on conflict do nothing",
            )
            .bind(texts.ids)
            .bind(texts.keys)
            .bind(texts.languages)
            .bind(texts.bodies)
            .bind(texts.sentiments)
            .bind(texts.themes)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct ScoreRows {
    ids: Vec<Uuid>,
    keys: Vec<String>,
    kinds: Vec<&'static str>,
    scores: Vec<Option<i16>>,
    dont_know: Vec<bool>,
}

#[derive(Default)]
struct TextRows {
    ids: Vec<Uuid>,
    keys: Vec<String>,
    languages: Vec<&'static str>,
    bodies: Vec<String>,
    sentiments: Vec<&'static str>,
    themes: Vec<String>,
}
