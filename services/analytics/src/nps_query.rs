//! NPS from the nps_daily rollup: never scans the response fact table.

use kaiku_domain::Violations;
use kaiku_domain::nps::NpsCounts;
use sqlx::PgPool;
use uuid::Uuid;

use crate::AnalyticsError;
use crate::filter::Filter;

/// The NPS question to report: the one named, or the survey's only NPS question. A named key
/// must be an NPS question in some published version of the survey, so a typo is an error
/// rather than an empty figure. Keys come from the survey's published versions and, since the
/// two streams are projected independently, also from answers already counted.
pub async fn resolve_question(
    pool: &PgPool,
    survey_id: Uuid,
    question_key: &str,
) -> Result<String, AnalyticsError> {
    let keys: Vec<(String,)> = sqlx::query_as(
        "select question_key from survey_question where survey_id = $1 and kind = 'nps'
         union select question_key from nps_daily where survey_id = $1
         order by 1",
    )
    .bind(survey_id)
    .fetch_all(pool)
    .await?;
    let keys: Vec<&str> = keys.iter().map(|(key,)| key.as_str()).collect();
    if keys.is_empty() {
        let known: Option<(Uuid,)> =
            sqlx::query_as("select survey_id from survey where survey_id = $1")
                .bind(survey_id)
                .fetch_optional(pool)
                .await?;
        return match known {
            None => Err(AnalyticsError::UnknownSurvey(survey_id.to_string())),
            Some(_) => Err(Violations::single(
                "question_key",
                "the survey has no published NPS question",
            )
            .into()),
        };
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

pub async fn nps_counts(
    pool: &PgPool,
    survey_id: Uuid,
    question_key: &str,
    filter: &Filter,
) -> Result<NpsCounts, AnalyticsError> {
    let (promoters, passives, detractors): (i64, i64, i64) = sqlx::query_as(
        "select coalesce(sum(promoters), 0)::bigint, coalesce(sum(passives), 0)::bigint,
                coalesce(sum(detractors), 0)::bigint
         from nps_daily
         where survey_id = $1 and question_key = $2
           and (cardinality($3::text[]) = 0 or unit_id = any($3))
           and ($4::date is null or day >= $4)
           and ($5::date is null or day <= $5)
           and (cardinality($6::text[]) = 0 or channel = any($6))
           and respondent_role = any($7)
           and (cardinality($8::text[]) = 0 or professional_group = any($8))
           and (cardinality($9::text[]) = 0 or age_band = any($9))
           and (cardinality($10::text[]) = 0 or language = any($10))",
    )
    .bind(survey_id)
    .bind(question_key)
    .bind(&filter.unit_ids)
    .bind(filter.from)
    .bind(filter.to)
    .bind(&filter.channels)
    .bind(&filter.respondent_roles)
    .bind(&filter.professional_groups)
    .bind(&filter.age_bands)
    .bind(&filter.languages)
    .fetch_one(pool)
    .await?;
    let count = |x: i64| u64::try_from(x).unwrap_or(0);
    Ok(NpsCounts {
        promoters: count(promoters),
        passives: count(passives),
        detractors: count(detractors),
    })
}
