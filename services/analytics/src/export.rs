//! Responses as CSV for spreadsheets and BI tools: one row per response, the context columns,
//! then one column per question key of the survey (all versions, in survey order). Rows are
//! read from PostgreSQL as a stream and sent in chunks, so an export of a million responses
//! holds one chunk in memory, not the file.

use std::collections::BTreeMap;

use futures::TryStreamExt;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::AnalyticsError;
use crate::cells::{FilterColumns, push_filter_on};
use crate::filter::Filter;

/// Chunks are cut at the first line end after this many bytes.
const CHUNK_BYTES: usize = 64 * 1024;

const CONTEXT_COLUMNS: [&str; 8] = [
    "answered_on",
    "unit_id",
    "channel",
    "respondent_role",
    "professional_group",
    "age_band",
    "language",
    "period_id",
];

/// The survey's question keys in survey order (first position a key had in any version).
pub async fn question_keys(pool: &PgPool, survey_id: Uuid) -> Result<Vec<String>, AnalyticsError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "select question_key from survey_question where survey_id = $1
         group by question_key order by min(position), question_key",
    )
    .bind(survey_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(key,)| key).collect())
}

/// Writes the CSV into `chunks` until done, the receiver goes away, or the database fails.
pub async fn write_csv(
    pool: PgPool,
    survey_id: Uuid,
    filter: Filter,
    keys: Vec<String>,
    chunks: mpsc::Sender<Result<Vec<u8>, AnalyticsError>>,
) {
    if let Err(error) = write_rows(&pool, survey_id, &filter, &keys, &chunks).await {
        // The receiver may be gone already; then nobody is left to tell.
        let _ = chunks.send(Err(error)).await;
    }
}

async fn write_rows(
    pool: &PgPool,
    survey_id: Uuid,
    filter: &Filter,
    keys: &[String],
    chunks: &mpsc::Sender<Result<Vec<u8>, AnalyticsError>>,
) -> Result<(), AnalyticsError> {
    let mut buffer = Vec::with_capacity(CHUNK_BYTES * 2);
    let header: Vec<&str> = CONTEXT_COLUMNS
        .iter()
        .copied()
        .chain(keys.iter().map(String::as_str))
        .collect();
    write_line(&mut buffer, header.iter().map(|s| s.to_string()));

    let mut q = QueryBuilder::<Postgres>::new(
        "select r.answered_on::text as answered_on, r.unit_id, r.channel, r.respondent_role,
                r.professional_group, r.age_band, r.language, r.period_id,
                r.answers,
                (select coalesce(jsonb_object_agg(question_key, body), '{}')::text
                 from feedback_text f where f.submission_id = r.submission_id
                   and f.attention = '{}') as texts
         from response r where r.survey_id = ",
    );
    q.push_bind(survey_id);
    push_filter_on(
        &mut q,
        filter,
        FilterColumns {
            prefix: "r.",
            day: Some("answered_on"),
        },
    );
    q.push(" order by r.stream_sequence");
    let query = q.build();
    let mut rows = query.fetch(pool);
    while let Some(row) = rows.try_next().await? {
        let mut values: Vec<String> = Vec::with_capacity(CONTEXT_COLUMNS.len() + keys.len());
        for column in CONTEXT_COLUMNS {
            values.push(row.try_get(column)?);
        }
        let mut answers: BTreeMap<String, String> = BTreeMap::new();
        for column in ["answers", "texts"] {
            let json: String = row.try_get(column)?;
            let map: BTreeMap<String, String> = serde_json::from_str(&json)
                .map_err(|e| AnalyticsError::Export(format!("{column}: {e}")))?;
            answers.extend(map);
        }
        values.extend(
            keys.iter()
                .map(|key| answers.remove(key).unwrap_or_default()),
        );
        write_line(&mut buffer, values.into_iter());
        if buffer.len() >= CHUNK_BYTES {
            let chunk = std::mem::replace(&mut buffer, Vec::with_capacity(CHUNK_BYTES * 2));
            if chunks.send(Ok(chunk)).await.is_err() {
                return Ok(()); // the caller hung up
            }
        }
    }
    if !buffer.is_empty() {
        let _ = chunks.send(Ok(buffer)).await;
    }
    Ok(())
}

fn write_line(buffer: &mut Vec<u8>, values: impl Iterator<Item = String>) {
    let line: Vec<String> = values.map(|value| csv_field(&value)).collect();
    buffer.extend_from_slice(line.join(",").as_bytes());
    buffer.extend_from_slice(b"\r\n");
}

/// RFC 4180 quoting, and a leading apostrophe for text a spreadsheet would run as a formula
/// (respondents write free text; "=HYPERLINK(...)" must stay text).
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("hyvä"), "hyvä");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("sanoi \"moi\""), "\"sanoi \"\"moi\"\"\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("rivi\nrivi"), "\"rivi\nrivi\"");
    }
}
