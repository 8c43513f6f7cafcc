//! Follows one stream from its checkpoint and applies it in batches. Each batch's read-model
//! writes and its new checkpoint commit in one transaction, so a crash at any point neither
//! loses nor doubles an event: after a restart the batch is simply applied again.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use kaiku_domain::feedback::FeedbackDictionary;
use kaiku_eventstore::{
    EventStore, HANDLING_STREAM, PROJECTION_PROGRESS_SUBJECT, RESPONSES_STREAM, SURVEYS_STREAM,
    StoredEvent,
};
use kaiku_grpc::{Readiness, Shutdown};
use kaiku_proto::events::v1::ProjectionProgress;
use prost::Message;
use sqlx::PgPool;

use crate::ProjectionError;
use crate::apply::{self, Prepared, Rejected, to_i64};
use crate::facts::Facts;
use crate::rollups::Rollups;

/// Most events of one batch that get their own trace spans. An answer's trace continues from the
/// intake's publish into the projection (W3C trace context in the NATS headers); during a
/// catch-up of 50,000-event batches, a span per event would cost more than the work it traces.
const TRACED_EVENTS_PER_BATCH: usize = 64;

/// The streams the read models are built from, each followed by its own runner.
pub const PROJECTED_STREAMS: [&str; 3] = [SURVEYS_STREAM, RESPONSES_STREAM, HANDLING_STREAM];

/// How events are grouped into transactions.
#[derive(Debug, Clone, Copy)]
pub struct Batching {
    /// Most events in one transaction.
    pub size: usize,
    /// How long to wait for more events once none are ready.
    pub linger: Duration,
}

/// A batch decoded and counted outside the transaction.
pub struct PreparedBatch {
    events: Vec<(StoredEvent, Prepared)>,
    /// Every submission of the batch, counted optimistically.
    rollups: Rollups,
}

#[derive(Clone)]
pub struct Runner {
    pub stream: &'static str,
    pub store: EventStore,
    pub pool: PgPool,
    pub batching: Batching,
    pub dictionary: Arc<FeedbackDictionary>,
    /// Each stream is one readiness condition, met while it is followed.
    pub readiness: Readiness,
    pub metrics: crate::ProjectionMetrics,
    /// Publish each new checkpoint on kaiku.projection.progress (not while rebuilding).
    pub announce: bool,
    /// Apply erasures in the other read-model schemas too (the live projection; a rebuild
    /// applies them in its own schema only, and the live projection covers the rest).
    pub erase_in_other_schemas: bool,
}

impl Runner {
    pub fn for_streams(
        store: EventStore,
        pool: PgPool,
        batching: Batching,
        dictionary: Arc<FeedbackDictionary>,
        readiness: Readiness,
        metrics: crate::ProjectionMetrics,
    ) -> Vec<Runner> {
        PROJECTED_STREAMS
            .into_iter()
            .map(|stream| Runner {
                stream,
                store: store.clone(),
                pool: pool.clone(),
                batching,
                dictionary: dictionary.clone(),
                readiness: readiness.clone(),
                metrics: metrics.clone(),
                announce: true,
                erase_in_other_schemas: true,
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
                    self.readiness.set(self.stream, false).await;
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
        self.readiness.set(self.stream, true).await;
        tracing::info!(stream = self.stream, checkpoint, "following stream");
        // At most one batch is being written while the next one is collected and decoded: the
        // database and this process's CPU work side by side (ADR 0006).
        let mut writing: Option<tokio::task::JoinHandle<Result<Option<u64>, ProjectionError>>> =
            None;
        loop {
            // Wait for the first event of a batch, then take what else arrives while events keep
            // coming: during catch-up that fills the batch, when live it closes after the linger.
            let first = tokio::select! {
                next = events.next() => next.ok_or(ProjectionError::StreamEnded(self.stream))??,
                () = shutdown.wait() => {
                    if let Some(write) = writing.take() {
                        Self::finished(write).await?;
                    }
                    return Ok(());
                }
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
            let prepared = self.prepare(batch);
            if let Some(write) = writing.take()
                && let Some(last) = Self::finished(write).await?
            {
                checkpoint = last;
                if self.announce {
                    self.announce(checkpoint).await;
                }
            }
            let runner = self.clone();
            writing = Some(tokio::spawn(async move {
                runner.apply_batch(checkpoint, prepared).await
            }));
        }
    }

    async fn finished(
        write: tokio::task::JoinHandle<Result<Option<u64>, ProjectionError>>,
    ) -> Result<Option<u64>, ProjectionError> {
        write
            .await
            .map_err(|e| ProjectionError::Startup(format!("a batch write panicked: {e}")))?
    }

    /// Decodes a batch's submissions and counts them, outside any transaction.
    fn prepare(&self, batch: Vec<StoredEvent>) -> PreparedBatch {
        let mut rollups = Rollups::default();
        let events = batch
            .into_iter()
            .map(|event| {
                let prepared = if self.stream == RESPONSES_STREAM {
                    apply::prepare_response_event(
                        &self.dictionary,
                        &event.payload,
                        event.stream_sequence,
                    )
                } else {
                    Prepared::InTransaction
                };
                if let Prepared::Submitted(response) = &prepared {
                    crate::facts::count(&mut rollups, response, 1);
                }
                (event, prepared)
            })
            .collect();
        PreparedBatch { events, rollups }
    }

    /// Applies the events after `checkpoint` and commits them with the new checkpoint. Returns
    /// the new checkpoint, or None if the batch held nothing new.
    async fn apply_batch(
        &self,
        checkpoint: u64,
        batch: PreparedBatch,
    ) -> Result<Option<u64>, ProjectionError> {
        let PreparedBatch {
            events: fresh,
            mut rollups,
        } = batch;
        // Sequences can have gaps (deleted events), so only "greater than" is meaningful.
        let mut stale = Vec::new();
        let fresh: Vec<(StoredEvent, Prepared)> = fresh
            .into_iter()
            .filter_map(|(e, prepared)| {
                if e.stream_sequence > checkpoint {
                    Some((e, prepared))
                } else {
                    stale.push(prepared);
                    None
                }
            })
            .collect();
        // Counted in prepare, but already applied: take them back.
        for prepared in stale {
            if let Prepared::Submitted(response) = prepared {
                crate::facts::count(&mut rollups, &response, -1);
            }
        }
        let Some((last, pending)) = fresh.last().map(|(e, _)| (e.stream_sequence, e.pending))
        else {
            return Ok(None);
        };
        let dead_lettered = fresh
            .iter()
            .filter(|(_, prepared)| matches!(prepared, Prepared::Rejected(_)))
            .count() as u64;
        let events = fresh.len();
        let started = std::time::Instant::now();
        // Each traced event's span continues the trace it was published under; its child covers
        // the transaction that writes it. Both end when this function returns.
        let traced: Vec<(tracing::Span, tracing::Span)> = fresh
            .iter()
            .filter(|(event, _)| event.headers.is_some())
            .take(TRACED_EVENTS_PER_BATCH)
            .map(|(event, _)| {
                let handling = tracing::info_span!(
                    "projection.apply",
                    otel.kind = "consumer",
                    messaging.system = "nats",
                    messaging.source = self.stream,
                    messaging.message.sequence = event.stream_sequence,
                    kaiku.batch.events = fresh.len(),
                );
                kaiku_telemetry::set_parent_from_nats_headers(&handling, event.headers.as_ref());
                let write = tracing::info_span!(
                    parent: &handling,
                    "postgres.write_batch",
                    otel.kind = "client",
                    db.system = "postgresql",
                    db.operation = "transaction",
                    kaiku.batch.events = fresh.len(),
                );
                (handling, write)
            })
            .collect();
        let result = self.write_batch(checkpoint, last, fresh, rollups).await;
        match &result {
            Ok(_) => self.metrics.committed(
                self.stream,
                events,
                dead_lettered,
                last,
                pending,
                started.elapsed().as_secs_f64(),
            ),
            Err(error) => {
                for (_, write) in &traced {
                    write.in_scope(|| tracing::warn!(%error, "batch not written"));
                }
            }
        }
        result.map(Some)
    }

    /// One transaction: the batch's read-model rows, dead letters and the new checkpoint.
    async fn write_batch(
        &self,
        checkpoint: u64,
        last: u64,
        fresh: Vec<(StoredEvent, Prepared)>,
        mut rollups: Rollups,
    ) -> Result<u64, ProjectionError> {
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
        let started = std::time::Instant::now();
        let mut facts = Facts::default();
        let events = fresh.len();
        // Looked up once per batch, at its first redaction (most batches have none).
        let mut other_schemas: Option<Vec<String>> = None;
        for (event, prepared) in fresh {
            let applied = match prepared {
                Prepared::Submitted(response) => {
                    facts.add(response, &mut rollups);
                    Ok(())
                }
                Prepared::Rejected(rejected) => Err(rejected),
                Prepared::Redacted {
                    redacted,
                    remaining,
                } => {
                    if other_schemas.is_none() {
                        other_schemas = Some(if self.erase_in_other_schemas {
                            crate::schemas::others(&mut tx).await?
                        } else {
                            Vec::new()
                        });
                    }
                    apply::redaction(
                        &mut tx,
                        &mut facts,
                        &mut rollups,
                        redacted,
                        remaining,
                        other_schemas.as_deref().unwrap_or_default(),
                    )
                    .await?
                }
                Prepared::InTransaction if self.stream == HANDLING_STREAM => {
                    crate::handling::case_event(&mut tx, &event.payload, event.stream_sequence)
                        .await?
                }
                Prepared::InTransaction => {
                    apply::survey_event(
                        &mut tx,
                        &event.subject,
                        &event.payload,
                        event.stream_sequence,
                    )
                    .await?
                }
            };
            if let Err(rejected) = applied {
                dead_letter(&mut tx, self.stream, &event, &rejected).await?;
            }
        }
        let applied = started.elapsed();
        facts.flush(&mut tx, &mut rollups).await?;
        let facts_written = started.elapsed();
        let rollup_rows = rollups.rows();
        rollups.flush(&mut tx).await?;
        let rollups_written = started.elapsed();
        sqlx::query(
            "insert into projection_checkpoint (stream, last_sequence, updated_at)
             values ($1, $2, clock_timestamp())
             on conflict (stream) do update
             set last_sequence = excluded.last_sequence, updated_at = excluded.updated_at",
        )
        .bind(self.stream)
        .bind(to_i64(last))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::debug!(
            stream = self.stream,
            events,
            checkpoint = last,
            rollup_rows,
            apply_ms = applied.as_millis(),
            facts_ms = (facts_written - applied).as_millis(),
            rollups_ms = (rollups_written - facts_written).as_millis(),
            commit_ms = (started.elapsed() - rollups_written).as_millis(),
            "batch committed"
        );
        Ok(last)
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
