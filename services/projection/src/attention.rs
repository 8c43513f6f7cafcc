//! Attention flags of texts projected before `feedback_text.attention` existed (migration
//! 0013): read once at start-up, in batches, with the same rule the projection applies to new
//! texts. Until a text is read analytics shows it to nobody, so the flags fail closed.

use sqlx::PgPool;
use uuid::Uuid;

use crate::apply::attention_codes;

/// Texts read per round trip.
const BATCH: i64 = 1000;

/// Flags every text whose attention is still unknown; returns how many were read.
pub async fn backfill(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let mut read = 0;
    loop {
        let rows: Vec<(Uuid, String, String)> = sqlx::query_as(
            "select submission_id, question_key, body from feedback_text
             where attention is null limit $1",
        )
        .bind(BATCH)
        .fetch_all(pool)
        .await?;
        if rows.is_empty() {
            break;
        }
        let (mut ids, mut keys, mut codes) = (Vec::new(), Vec::new(), Vec::new());
        for (id, key, body) in rows {
            ids.push(id);
            keys.push(key);
            codes.push(attention_codes(&body));
        }
        read += ids.len() as u64;
        sqlx::query(
            "update feedback_text f set attention = string_to_array(t.codes, ',')
             from unnest($1::uuid[], $2::text[], $3::text[]) as t(id, key, codes)
             where f.submission_id = t.id and f.question_key = t.key",
        )
        .bind(&ids)
        .bind(&keys)
        .bind(&codes)
        .execute(pool)
        .await?;
    }
    if read > 0 {
        tracing::info!(texts = read, "attention flags of earlier texts read");
    }
    Ok(read)
}
