//! Read-your-writes: a query carrying a KAIKU_RESPONSES sequence waits until the read model has
//! applied it. The projection announces each commit on core NATS; the checkpoint table is the
//! fallback when an announcement was missed or came before this process started.

use std::time::Duration;

use futures::StreamExt;
use kaiku_eventstore::{EventStore, PROJECTION_PROGRESS_SUBJECT, RESPONSES_STREAM};
use kaiku_grpc::Shutdown;
use kaiku_proto::events::v1::ProjectionProgress;
use prost::Message;
use sqlx::PgPool;
use tokio::sync::watch;

use crate::AnalyticsError;

#[derive(Clone)]
pub struct Consistency {
    applied: watch::Receiver<u64>,
    sender: std::sync::Arc<watch::Sender<u64>>,
    pool: PgPool,
    max_wait: Duration,
}

impl Consistency {
    /// Listens to projection progress for the life of the process.
    pub async fn start(
        store: &EventStore,
        pool: PgPool,
        max_wait: Duration,
        shutdown: Shutdown,
    ) -> Result<Self, AnalyticsError> {
        let (sender, applied) = watch::channel(0);
        let sender = std::sync::Arc::new(sender);
        let mut subscription = store
            .client()
            .subscribe(PROJECTION_PROGRESS_SUBJECT)
            .await
            .map_err(|e| AnalyticsError::Nats(e.to_string()))?;
        let progress = std::sync::Arc::clone(&sender);
        tokio::spawn(async move {
            loop {
                let message = tokio::select! {
                    next = subscription.next() => match next { Some(m) => m, None => return },
                    () = shutdown.wait() => return,
                };
                match ProjectionProgress::decode(message.payload.as_ref()) {
                    Ok(p) if p.stream == RESPONSES_STREAM => {
                        progress.send_if_modified(|seen| advance(seen, p.sequence));
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "undecodable projection progress"),
                }
            }
        });
        let consistency = Self {
            applied,
            sender,
            pool,
            max_wait,
        };
        // Start from the committed checkpoint, so as_of_sequence is right before the first
        // announcement arrives.
        consistency.applied().await?;
        Ok(consistency)
    }

    /// The KAIKU_RESPONSES sequence the read model has committed. The checkpoint table is the
    /// truth (after a rebuild it can go down); announcements only wake waiting queries early.
    pub async fn applied(&self) -> Result<u64, AnalyticsError> {
        let committed = read_checkpoint(&self.pool).await?;
        // Only a change notifies, so waiting queries do not wake each other in a loop.
        self.sender.send_if_modified(|seen| {
            let changed = *seen != committed;
            *seen = committed;
            changed
        });
        Ok(committed)
    }

    /// Returns once the read model has committed `min_sequence`, or fails after the wait limit
    /// (or a little before the request's own deadline, whichever is shorter).
    pub async fn wait_for(
        &self,
        min_sequence: u64,
        deadline: Option<Duration>,
    ) -> Result<u64, AnalyticsError> {
        // No token: what the announcements (and the start-up read) say is enough, and keeps
        // the database out of the common path.
        if min_sequence == 0 {
            return Ok(*self.applied.borrow());
        }
        let committed = self.applied().await?;
        if committed >= min_sequence {
            return Ok(committed);
        }
        // Give up a little before the caller's deadline, so the caller hears why (how far the
        // read model has got) instead of a bare DEADLINE_EXCEEDED from its own timer.
        let before_deadline =
            |d: Duration| d.saturating_sub((d / 10).max(Duration::from_millis(20)));
        let wait = deadline.map_or(self.max_wait, |d| before_deadline(d).min(self.max_wait));
        let until = tokio::time::Instant::now() + wait;
        let mut announcements = self.applied.clone();
        loop {
            // Woken by an announcement, or every 100 ms in case one was lost.
            let woken = tokio::time::timeout_at(
                until.min(tokio::time::Instant::now() + Duration::from_millis(100)),
                announcements.changed(),
            )
            .await;
            let committed = self.applied().await?;
            if committed >= min_sequence {
                return Ok(committed);
            }
            if tokio::time::Instant::now() >= until || matches!(woken, Ok(Err(_))) {
                return Err(AnalyticsError::NotCaughtUp {
                    min_sequence,
                    applied: committed,
                    waited: wait,
                });
            }
        }
    }
}

fn advance(seen: &mut u64, sequence: u64) -> bool {
    if sequence > *seen {
        *seen = sequence;
        true
    } else {
        false
    }
}

async fn read_checkpoint(pool: &PgPool) -> Result<u64, AnalyticsError> {
    let row: Option<(i64,)> =
        sqlx::query_as("select last_sequence from projection_checkpoint where stream = $1")
            .bind(RESPONSES_STREAM)
            .fetch_optional(pool)
            .await?;
    Ok(row.map_or(0, |(seq,)| u64::try_from(seq).unwrap_or(0)))
}
