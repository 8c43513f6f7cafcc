//! Response facts collected over a batch and written with one multi-row insert per table at the
//! end of it (or before an event that must see them, such as a redaction). A response already
//! in the read model (the same submission id after JetStream's duplicate window) is skipped
//! with everything it carries, so it is counted once.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::ProjectionError;
use kaiku_domain::rollup::DONT_KNOW;

use crate::rollups::{Dimensions, Rollups};

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
    /// Attention flag codes (kaiku_domain::attention), comma-separated; empty for none.
    pub attention: String,
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
    /// Adds a response already counted into `rollups` (see count); a second one with the same
    /// submission id in this batch (a retry beyond the duplicate window) is uncounted and
    /// dropped: the first one counts.
    pub fn add(&mut self, response: PendingResponse, rollups: &mut Rollups) {
        if self.in_batch.insert(response.submission_id) {
            self.pending.push(response);
        } else {
            tracing::info!(submission_id = %response.submission_id, "duplicate submission skipped by the read model");
            count(rollups, &response, -1);
        }
    }

    /// Writes the pending responses; one the read model already has is uncounted from
    /// `rollups` and skipped with everything it carries.
    pub async fn flush(
        &mut self,
        conn: &mut PgConnection,
        rollups: &mut Rollups,
    ) -> Result<(), ProjectionError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let answers: Vec<String> = pending.iter().map(export_values).collect();
        let inserted: HashSet<Uuid> = sqlx::query_scalar(INSERT_RESPONSES)
            .bind(pending.iter().map(|r| r.submission_id).collect::<Vec<_>>())
            .bind(pending.iter().map(|r| r.sequence).collect::<Vec<_>>())
            .bind(
                pending
                    .iter()
                    .map(|r| r.dimensions.survey_id)
                    .collect::<Vec<_>>(),
            )
            .bind(pending.iter().map(|r| r.survey_version).collect::<Vec<_>>())
            .bind(
                pending
                    .iter()
                    .map(|r| r.dimensions.unit_id.clone())
                    .collect::<Vec<_>>(),
            )
            .bind(
                pending
                    .iter()
                    .map(|r| r.dimensions.channel)
                    .collect::<Vec<_>>(),
            )
            .bind(
                pending
                    .iter()
                    .map(|r| r.dimensions.respondent_role)
                    .collect::<Vec<_>>(),
            )
            .bind(
                pending
                    .iter()
                    .map(|r| r.dimensions.professional_group.clone())
                    .collect::<Vec<_>>(),
            )
            .bind(
                pending
                    .iter()
                    .map(|r| r.dimensions.age_band.clone())
                    .collect::<Vec<_>>(),
            )
            .bind(
                pending
                    .iter()
                    .map(|r| r.dimensions.language)
                    .collect::<Vec<_>>(),
            )
            .bind(
                pending
                    .iter()
                    .map(|r| r.dimensions.period_id.clone())
                    .collect::<Vec<_>>(),
            )
            .bind(pending.iter().map(|r| r.answered_at).collect::<Vec<_>>())
            .bind(pending.iter().map(|r| r.dimensions.day).collect::<Vec<_>>())
            .bind(pending.iter().map(|r| r.received_at).collect::<Vec<_>>())
            .bind(answers)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();

        let mut texts = TextRows::default();
        for response in pending {
            if !inserted.contains(&response.submission_id) {
                tracing::info!(submission_id = %response.submission_id, sequence = response.sequence, "duplicate submission skipped by the read model");
                count(rollups, &response, -1);
                continue;
            }
            for text in response.texts {
                texts.ids.push(response.submission_id);
                texts.keys.push(text.question_key);
                texts.languages.push(response.dimensions.language);
                texts.bodies.push(text.body);
                texts.sentiments.push(text.sentiment);
                // Theme keys are [a-z_] dictionary keys: a comma cannot occur in one.
                texts.themes.push(text.themes.join(","));
                texts.attention.push(text.attention);
            }
        }
        if !texts.ids.is_empty() {
            sqlx::query(INSERT_FEEDBACK_TEXTS)
                .bind(texts.ids)
                .bind(texts.keys)
                .bind(texts.languages)
                .bind(texts.bodies)
                .bind(texts.sentiments)
                .bind(texts.themes)
                .bind(texts.attention)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }
}

/// The batched insert of response rows, one array per column (the raw PostgreSQL limit of
/// `make bench` measures this same statement). Returns the ids inserted: one the read model
/// already has is skipped.
pub const INSERT_RESPONSES: &str =
    "insert into response (submission_id, stream_sequence, survey_id, survey_version, unit_id,
                           channel, respondent_role, professional_group, age_band, language,
                           period_id, answered_at, answered_on, received_at, answers)
     select id, seq, survey, version, unit, channel, role, grp, age, language, period,
            at, day, received, answers
     from unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::int[], $5::text[],
                 $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                 $11::text[], $12::timestamptz[], $13::date[], $14::timestamptz[], $15::text[])
          as r(id, seq, survey, version, unit, channel, role, grp, age, language, period,
               at, day, received, answers)
     on conflict (submission_id) do nothing
     returning submission_id";

/// The batched insert of open texts, tagged.
pub const INSERT_FEEDBACK_TEXTS: &str =
    "insert into feedback_text (submission_id, question_key, language, body, sentiment, themes,
                                attention)
         select id, key, language, body, sentiment, string_to_array(themes, ','),
                string_to_array(attention, ',')
         from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::text[])
              as t(id, key, language, body, sentiment, themes, attention)
         on conflict do nothing";

#[derive(Default)]
struct TextRows {
    ids: Vec<Uuid>,
    keys: Vec<String>,
    languages: Vec<&'static str>,
    bodies: Vec<String>,
    sentiments: Vec<&'static str>,
    themes: Vec<String>,
    attention: Vec<String>,
}

/// Counts a response and its scores into the rollups (`delta` -1 takes a count back). The
/// projection counts a batch's responses while the previous batch is still being written, and
/// takes back the few the read model turns out to have already.
pub fn count(rollups: &mut Rollups, response: &PendingResponse, delta: i64) {
    let rows = rollups.count_response(&response.dimensions, delta);
    for score in &response.scores {
        rollups.count_answer(
            rows,
            &score.question_key,
            score.kind,
            score.score.unwrap_or(DONT_KNOW),
            delta,
        );
    }
}

/// The response's scored and chosen answers as the JSON object stored in `response.answers`,
/// keyed by question key, with each value as the export shows it: the score, "dont_know", or
/// the chosen option keys joined with ';' in key order.
fn export_values(response: &PendingResponse) -> String {
    let mut values: BTreeMap<&str, String> = BTreeMap::new();
    for score in &response.scores {
        values.insert(
            &score.question_key,
            score
                .score
                .map_or_else(|| "dont_know".to_owned(), |s| s.to_string()),
        );
    }
    let mut chosen: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (key, option) in &response.choices {
        chosen.entry(key).or_default().push(option);
    }
    for (key, mut options) in chosen {
        options.sort_unstable();
        values.insert(key, options.join(";"));
    }
    // A map of strings always serialises; the fallback keeps this infallible.
    serde_json::to_string(&values).unwrap_or_else(|_| "{}".to_owned())
}
