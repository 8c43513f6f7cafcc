//! Follows one stream from its checkpoint and applies it in batches. Each batch's read-model
//! writes and its new checkpoint commit in one transaction, so a crash at any point neither
//! loses nor doubles an event: after a restart the batch is simply applied again.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use kaiku_domain::feedback::FeedbackDictionary;
use kaiku_eventstore::{
    EventStore, PROJECTION_PROGRESS_SUBJECT, RESPONSES_STREAM, SURVEYS_STREAM, StoredEvent,
};
use kaiku_grpc::{HealthReporter, ServingStatus, Shutdown};
use kaiku_proto::events::v1::ProjectionProgress;
use prost::Message;
use sqlx::PgPool;

use crate::ProjectionError;
use crate::apply::{self, Rejected, to_i64};
use crate::facts::Facts;
use crate::rollups::Rollups;

/// How events are grouped into transactions.
#[derive(Debug, Clone, Copy)]
pub struct Batching {
    /// Most events in one transaction.
    pub size: usize,
    /// How long to wait for more events once none are ready.
    pub linger: Duration,
}

#[derive(Clone)]
pub struct Runner {
    pub stream: &'static str,
    pub store: EventStore,
    pub pool: PgPool,
    pub batching: Batching,
    pub dictionary: Arc<FeedbackDictionary>,
    pub health: HealthReporter,
}

impl Runner {
    pub fn for_streams(
        store: EventStore,
        pool: PgPool,
        batching: Batching,
        dictionary: Arc<FeedbackDictionary>,
        health: HealthReporter,
    ) -> Vec<Runner> {
        [SURVEYS_STREAM, RESPONSES_STREAM]
            .into_iter()
            .map(|stream| Runner {
                stream,
                store: store.clone(),
                pool: pool.clone(),
                batching,
                dictionary: dictionary.clone(),
                health: health.clone(),
            })
            .collect()
    }

    /// Runs until shutdown; on any failure reports NOT_SERVING, waits, and resumes from the
    /// committed checkpoint.
    pub async fn run(self, shutdown: Shutdown) {
        let mut backoff = Duration::from_millis(200);
        while !shutdown.is_triggered() {
            match self.follow(&shutdown).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(stream = self.stream, error = %e, ?backoff, "projection interrupted; resuming from checkpoint");
                    self.health
                        .set_service_status("", ServingStatus::NotServing)
                        .await;
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = shutdown.wait() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    async fn follow(&self, shutdown: &Shutdown) -> Result<(), ProjectionError> {
        let mut checkpoint = checkpoint(&self.pool, self.stream).await?;
        let events = self
            .store
            .subscribe(self.stream, None, checkpoint + 1)
            .await?;
        futures::pin_mut!(events);
        self.health
            .set_service_status("", ServingStatus::Serving)
            .await;
        tracing::info!(stream = self.stream, checkpoint, "following stream");
        loop {
            // Wait for the first event of a batch, then take what else arrives while events keep
            // coming: during catch-up that fills the batch, when live it closes after the linger.
            let first = tokio::select! {
                next = events.next() => next.ok_or(ProjectionError::StreamEnded(self.stream))??,
                () = shutdown.wait() => return Ok(()),
            };
            let mut batch = vec![first];
            let closes = tokio::time::Instant::now() + self.batching.linger;
            while batch.len() < self.batching.size {
                let next = match events.next().now_or_never() {
                    Some(next) => next,
                    None => match tokio::time::timeout_at(closes, events.next()).await {
                        Ok(next) => next,
                        Err(_) => break,
                    },
                };
                match next {
                    Some(event) => batch.push(event?),
                    None => return Err(ProjectionError::StreamEnded(self.stream)),
                }
            }
            if let Some(last) = self.apply_batch(checkpoint, &batch).await? {
                checkpoint = last;
                self.announce(checkpoint).await;
            }
        }
    }

    /// Applies the events after `checkpoint` and commits them with the new checkpoint. Returns
    /// the new checkpoint, or None if the batch held nothing new.
    async fn apply_batch(
        &self,
        checkpoint: u64,
        batch: &[StoredEvent],
    ) -> Result<Option<u64>, ProjectionError> {
        // Sequences can have gaps (deleted events), so only "greater than" is meaningful.
        let fresh: Vec<&StoredEvent> = batch
            .iter()
            .filter(|e| e.stream_sequence > checkpoint)
            .collect();
        let Some(last) = fresh.last().map(|e| e.stream_sequence) else {
            return Ok(None);
        };
        let mut tx = self.pool.begin().await?;
        // The committed checkpoint must still be the one this batch follows: if anything else
        // moved it (another projection instance, a restored or rebuilt database), start over
        // from what is committed instead of writing on top of it.
        let committed: Option<(i64,)> = sqlx::query_as(
            "select last_sequence from projection_checkpoint where stream = $1 for update",
        )
        .bind(self.stream)
        .fetch_optional(&mut *tx)
        .await?;
        let committed = committed.map_or(0, |(seq,)| u64::try_from(seq).unwrap_or(0));
        if committed != checkpoint {
            return Err(ProjectionError::Resync {
                stream: self.stream,
                following: checkpoint,
                committed,
            });
        }
        let mut rollups = Rollups::default();
        let mut facts = Facts::default();
        for event in &fresh {
            let applied = match self.stream {
                SURVEYS_STREAM => {
                    apply::survey_event(
                        &mut tx,
                        &event.subject,
                        &event.payload,
                        event.stream_sequence,
                    )
                    .await?
                }
                _ => {
                    apply::response_event(
                        &mut tx,
                        &mut facts,
                        &mut rollups,
                        &self.dictionary,
                        &event.payload,
                        event.stream_sequence,
                    )
                    .await?
                }
            };
            if let Err(rejected) = applied {
                dead_letter(&mut tx, self.stream, event, &rejected).await?;
            }
        }
        facts.flush(&mut tx, &mut rollups).await?;
        rollups.flush(&mut tx).await?;
        sqlx::query(
            "insert into projection_checkpoint (stream, last_sequence, updated_at) values ($1, $2, now())
             on conflict (stream) do update set last_sequence = excluded.last_sequence, updated_at = now()",
        )
        .bind(self.stream)
        .bind(to_i64(last))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::debug!(
            stream = self.stream,
            events = fresh.len(),
            checkpoint = last,
            "batch committed"
        );
        Ok(Some(last))
    }

    /// Best effort: analytics also reads the checkpoint table, so a lost announcement only delays
    /// a waiting query until the next one.
    async fn announce(&self, sequence: u64) {
        let progress = ProjectionProgress {
            stream: self.stream.to_owned(),
            sequence,
        };
        if let Err(e) = self
            .store
            .client()
            .publish(
                PROJECTION_PROGRESS_SUBJECT,
                Bytes::from(progress.encode_to_vec()),
            )
            .await
        {
            tracing::warn!(error = %e, "cannot announce projection progress");
        }
    }
}

pub async fn checkpoint(pool: &PgPool, stream: &str) -> Result<u64, ProjectionError> {
    let row: Option<(i64,)> =
        sqlx::query_as("select last_sequence from projection_checkpoint where stream = $1")
            .bind(stream)
            .fetch_optional(pool)
            .await?;
    Ok(row.map_or(0, |(seq,)| u64::try_from(seq).unwrap_or(0)))
}

async fn dead_letter(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    stream: &str,
    event: &StoredEvent,
    rejected: &Rejected,
) -> Result<(), ProjectionError> {
    tracing::error!(stream, sequence = event.stream_sequence, reason = %rejected, "event dead-lettered");
    sqlx::query(
        "insert into dead_letter (stream, sequence, subject, reason, payload) values ($1, $2, $3, $4, $5)
         on conflict do nothing",
    )
    .bind(stream)
    .bind(to_i64(event.stream_sequence))
    .bind(&event.subject)
    .bind(rejected.to_string())
    .bind(event.payload.as_ref())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
