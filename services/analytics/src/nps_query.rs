//! Which questions a query is about, and NPS arithmetic over counts by score.

use kaiku_domain::Violations;
use std::collections::BTreeMap;

use kaiku_domain::nps::{NpsBucket, NpsCounts, bucket};
use kaiku_proto::analytics::v1::Scale;
use sqlx::PgPool;
use uuid::Uuid;

use crate::AnalyticsError;

/// The NPS question to report: the one named, or the survey's only NPS question. A named key
/// must be an NPS question in some published version of the survey, so a typo is an error
/// rather than an empty figure. Keys come from the survey's published versions and, since the
/// two streams are projected independently, also from answers already counted.
pub async fn resolve_question(
    pool: &PgPool,
    survey_id: Uuid,
    question_key: &str,
) -> Result<String, AnalyticsError> {
    let mut keys: Vec<String> = sqlx::query_scalar(
        "select distinct question_key from survey_question where survey_id = $1 and kind = 'nps'
         order by 1",
    )
    .bind(survey_id)
    .fetch_all(pool)
    .await?;
    if keys.is_empty() {
        // The survey's events not projected yet (rare): the keys answers were counted under.
        // Month rows are the fewest; every answer is counted at every grain.
        keys = sqlx::query_scalar(
            "select distinct question_key from answer_rollup
             where survey_id = $1 and kind = 'nps' and cuboid = 'survey' and grain = 'month'
             order by 1",
        )
        .bind(survey_id)
        .fetch_all(pool)
        .await?;
    } else if !question_key.is_empty() && !keys.iter().any(|k| k == question_key) {
        let answered: Option<String> = sqlx::query_scalar(
            "select question_key from answer_rollup
             where survey_id = $1 and question_key = $2 and kind = 'nps' limit 1",
        )
        .bind(survey_id)
        .bind(question_key)
        .fetch_optional(pool)
        .await?;
        keys.extend(answered);
    }
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    if keys.is_empty() {
        ensure_survey(pool, survey_id).await?;
        return Err(
            Violations::single("question_key", "the survey has no published NPS question").into(),
        );
    }
    if !question_key.is_empty() {
        return if keys.contains(&question_key) {
            Ok(question_key.to_owned())
        } else {
            Err(Violations::single(
                "question_key",
                format!(
                    "{question_key:?} is not an NPS question of this survey; its NPS questions: {}",
                    keys.join(", ")
                ),
            )
            .into())
        };
    }
    match keys.as_slice() {
        [only] => Ok((*only).to_owned()),
        several => Err(Violations::single(
            "question_key",
            format!(
                "the survey has several NPS questions; name one of: {}",
                several.join(", ")
            ),
        )
        .into()),
    }
}

/// NPS buckets from counts by score.
pub fn nps_counts(counts: &BTreeMap<i16, u64>) -> NpsCounts {
    let mut nps = NpsCounts::default();
    for (score, n) in counts {
        match u32::try_from(*score).ok().and_then(bucket) {
            Some(NpsBucket::Promoter) => nps.promoters += n,
            Some(NpsBucket::Passive) => nps.passives += n,
            Some(NpsBucket::Detractor) => nps.detractors += n,
            None => {}
        }
    }
    nps
}

/// A scored question other than NPS: a five-point statement or a children's face question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoredQuestion {
    pub key: String,
    pub scale: Scale,
    /// Points on the scale: 5 for statements, 3 or 5 faces.
    pub points: u32,
}

/// The survey's statements and face questions: those named in the request's `field` (each
/// must be one of the survey's), or all of them in survey order.
pub async fn resolve_scored(
    pool: &PgPool,
    survey_id: Uuid,
    named: &[String],
    field: &str,
) -> Result<Vec<ScoredQuestion>, AnalyticsError> {
    let rows: Vec<(String, String, i16)> = sqlx::query_as(
        "select question_key, min(kind), max(scale_points) from survey_question
         where survey_id = $1 and kind in ('statement', 'smiley')
         group by question_key order by min(position), question_key",
    )
    .bind(survey_id)
    .fetch_all(pool)
    .await?;
    let known: Vec<ScoredQuestion> = rows
        .into_iter()
        .map(|(key, kind, points)| {
            let scale = if kind == "smiley" {
                Scale::Faces
            } else {
                Scale::Agreement
            };
            ScoredQuestion {
                key,
                scale,
                // 0 only for a row written before scales were kept and not yet backfilled.
                points: u32::try_from(points)
                    .ok()
                    .filter(|p| (3..=5).contains(p))
                    .unwrap_or(5),
            }
        })
        .collect();
    if known.is_empty() {
        ensure_survey(pool, survey_id).await?;
    }
    if named.is_empty() {
        return Ok(known);
    }
    let mut v = Violations::new();
    let mut chosen = Vec::new();
    for (i, key) in named.iter().enumerate() {
        match known.iter().find(|q| &q.key == key) {
            Some(question) => chosen.push(question.clone()),
            None => v.add(
                format!("{field}[{i}]"),
                format!("{key:?} is not a statement or face question of this survey"),
            ),
        }
    }
    v.into_result(chosen).map_err(AnalyticsError::from)
}

/// NOT_FOUND unless the survey is in the read model.
pub async fn ensure_survey(pool: &PgPool, survey_id: Uuid) -> Result<(), AnalyticsError> {
    let survey: Option<(Uuid,)> =
        sqlx::query_as("select survey_id from survey where survey_id = $1")
            .bind(survey_id)
            .fetch_optional(pool)
            .await?;
    survey
        .map(|_| ())
        .ok_or_else(|| AnalyticsError::UnknownSurvey(survey_id.to_string()))
}
