//! Compares the read models with a run's record: every acknowledged submission is there once,
//! at a sequence it was acknowledged at, with its NPS score; nothing else is there; and the
//! NPS figures analytics computes from the rollups equal the record's counts per role.

use std::collections::HashSet;
use std::time::Duration;

use kaiku_grpc::AuthorizedChannel;
use kaiku_proto::analytics::v1::analytics_client::AnalyticsClient;
use kaiku_proto::analytics::v1::{GetNpsRequest, ResponseFilter};
use kaiku_proto::survey::v1::RespondentRole;
use sqlx::PgPool;
use uuid::Uuid;

use crate::LoadError;
use crate::record::Record;
use kaiku_domain::nps::NpsCounts;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verification {
    pub acknowledged: usize,
    /// Response rows of the record's survey.
    pub rows: usize,
    /// Acknowledged, but not in the read model: lost.
    pub missing: Vec<Uuid>,
    /// In the read model, never acknowledged (stored, but the client gave up).
    pub unacknowledged: Vec<Uuid>,
    /// Stored at a later sequence than its first acknowledgement: the read model must keep the
    /// first copy of a submission.
    pub wrong_sequence: Vec<Uuid>,
    /// Stored at an earlier sequence than any acknowledgement: the first append's reply was
    /// lost (intake died between append and reply) and the retry came after the duplicate
    /// window, so JetStream stored a second copy. Correct, and counted once.
    pub first_copy_unacknowledged: usize,
    /// With another NPS score than was submitted.
    pub wrong_score: Vec<Uuid>,
    /// Analytics figures that differ from the record, one line each.
    pub figures: Vec<String>,
}

impl Verification {
    /// Nothing lost, nothing doubled, nothing extra, every figure equal.
    pub fn is_exact(&self) -> bool {
        self.missing.is_empty()
            && self.unacknowledged.is_empty()
            && self.wrong_sequence.is_empty()
            && self.wrong_score.is_empty()
            && self.figures.is_empty()
            && self.rows == self.acknowledged
    }
}

impl std::fmt::Display for Verification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let first = |ids: &[Uuid]| {
            ids.iter()
                .take(3)
                .map(Uuid::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        write!(
            f,
            "acknowledged={} rows={} missing={} unacknowledged={} wrong_sequence={} first_copy_unacknowledged={} wrong_score={} figures_differing={}",
            self.acknowledged,
            self.rows,
            self.missing.len(),
            self.unacknowledged.len(),
            self.wrong_sequence.len(),
            self.first_copy_unacknowledged,
            self.wrong_score.len(),
            self.figures.len()
        )?;
        for (what, ids) in [
            ("missing", &self.missing),
            ("unacknowledged", &self.unacknowledged),
            ("wrong sequence", &self.wrong_sequence),
            ("wrong score", &self.wrong_score),
        ] {
            if !ids.is_empty() {
                write!(f, "\n  {what}: {} ...", first(ids))?;
            }
        }
        for figure in &self.figures {
            write!(f, "\n  {figure}")?;
        }
        Ok(())
    }
}

/// Waits (up to `wait`) until the projection has applied the record's last sequence, then
/// compares. With `analytics`, also compares the NPS figures per respondent role (analytics
/// must run with a minimum group size the counts pass).
pub async fn verify(
    pool: &PgPool,
    record: &Record,
    analytics: Option<&mut AnalyticsClient<AuthorizedChannel>>,
    wait: Duration,
) -> Result<Verification, LoadError> {
    wait_for_checkpoint(pool, record.max_sequence(), wait).await?;
    let survey_id = Uuid::parse_str(&record.survey_id).map_err(|_| {
        LoadError::Record(format!("survey id {:?} is not a UUID", record.survey_id))
    })?;
    let rows: Vec<(Uuid, i64, Option<String>)> = sqlx::query_as(
        "select submission_id, stream_sequence, answers::jsonb ->> 'nps'
         from response where survey_id = $1",
    )
    .bind(survey_id)
    .fetch_all(pool)
    .await?;

    let mut verification = Verification {
        acknowledged: record.len(),
        rows: rows.len(),
        ..Verification::default()
    };
    let mut seen = HashSet::with_capacity(rows.len());
    for (id, sequence, score) in rows {
        seen.insert(id);
        let Some(acknowledged) = record.get(&id) else {
            verification.unacknowledged.push(id);
            continue;
        };
        let sequence = u64::try_from(sequence).unwrap_or(0);
        let first_acknowledged = acknowledged.sequences.iter().copied().min().unwrap_or(0);
        if sequence > first_acknowledged {
            verification.wrong_sequence.push(id);
        } else if sequence < first_acknowledged {
            verification.first_copy_unacknowledged += 1;
        }
        if score.and_then(|s| s.parse::<u32>().ok()) != Some(acknowledged.expected.nps_score) {
            verification.wrong_score.push(id);
        }
    }
    verification.missing = record
        .iter()
        .filter(|(id, _)| !seen.contains(id))
        .map(|(id, _)| *id)
        .collect();

    if let Some(analytics) = analytics {
        for role in [RespondentRole::Client, RespondentRole::Guardian] {
            let expected = record.nps_counts(role);
            let reply = analytics
                .get_nps(GetNpsRequest {
                    survey_id: record.survey_id.clone(),
                    question_key: String::new(),
                    filter: Some(ResponseFilter {
                        respondent_roles: vec![role as i32],
                        ..ResponseFilter::default()
                    }),
                    min_sequence: record.max_sequence(),
                    grouping: None,
                })
                .await
                .map_err(|status| LoadError::Call {
                    call: "GetNps",
                    status,
                })?
                .into_inner();
            let shown = reply.figure.map(|f| NpsCounts {
                promoters: f.promoters,
                passives: f.passives,
                detractors: f.detractors,
            });
            let shown = shown.unwrap_or_default();
            if shown != expected {
                verification.figures.push(format!(
                    "{} NPS counts: analytics {shown:?}, record {expected:?}",
                    role.as_str_name()
                ));
            }
        }
    }
    Ok(verification)
}

/// Polls the projection's checkpoint for the response stream until it reaches `sequence`.
pub async fn wait_for_checkpoint(
    pool: &PgPool,
    sequence: u64,
    wait: Duration,
) -> Result<(), LoadError> {
    let started = tokio::time::Instant::now();
    loop {
        let reached: Option<i64> = sqlx::query_scalar(
            "select last_sequence from projection_checkpoint where stream = 'KAIKU_RESPONSES'",
        )
        .fetch_optional(pool)
        .await?;
        let reached = reached.and_then(|r| u64::try_from(r).ok()).unwrap_or(0);
        if reached >= sequence {
            return Ok(());
        }
        if started.elapsed() >= wait {
            return Err(LoadError::NotCaughtUp {
                wanted: sequence,
                reached,
                waited: wait,
            });
        }
        // Polling the checkpoint row: the projection announces progress on core NATS, but a
        // verifier should not depend on that.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
