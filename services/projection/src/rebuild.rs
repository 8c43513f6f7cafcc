//! Rebuild: replay both streams from sequence 1 into a fresh schema while the live read models
//! keep serving, then switch over in one transaction (ADR 0007).
//!
//! The switch locks the live checkpoint rows, so the live projection's next batch waits; waits
//! until the new schema has applied at least as much of each stream; stops the rebuild's own
//! runners; deletes the live checkpoint rows (so a live batch that was already waiting finds no
//! checkpoint to follow and starts over from the new one); and renames `public` to
//! `retired_<time>` and the new schema to `public`. Every connection resolves table names per
//! statement (no statement cache, see connect_database) and the retired schema is dropped, so
//! after the commit every reader and writer is on the new tables. A retired schema kept on
//! request is marked kept; the running projection applies every erasure there too, and drops
//! the leftovers of a rebuild that died (crate::schemas, ADR 0019).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use kaiku_domain::feedback::FeedbackDictionary;
use kaiku_eventstore::EventStore;
use kaiku_grpc::Shutdown;
use sqlx::{AssertSqlSafe, PgPool};

use crate::runner::{Batching, Runner};
use crate::schemas::RebuildLock;
use crate::{MIGRATOR, ProjectionError, connect_database_in};

/// What a rebuild did.
#[derive(Debug, Clone)]
pub struct RebuildReport {
    /// The live schema's name while it was being built.
    pub built_as: String,
    /// The old read models' schema name after the switch (dropped unless kept).
    pub retired_as: String,
    /// Sequences applied per stream at the switch.
    pub checkpoints: Vec<(String, u64)>,
    pub elapsed: Duration,
}

pub struct Rebuild {
    pub database_url: String,
    pub store: EventStore,
    pub batching: Batching,
    pub dictionary: Arc<FeedbackDictionary>,
    /// Keep the retired schema instead of dropping it.
    pub keep_old: bool,
    /// How long one switch attempt may hold the live projection waiting.
    pub switch_wait: Duration,
}

impl Rebuild {
    pub async fn run(self) -> Result<RebuildReport, ProjectionError> {
        let started = Instant::now();
        // One rebuild at a time, and the lock tells the projection that this one's schema is
        // not a crashed rebuild's leftover.
        let mut lock = RebuildLock::try_take(&self.database_url)
            .await?
            .ok_or_else(|| ProjectionError::Startup("another rebuild is running".into()))?;
        // To the microsecond: two rebuilds within a second (small read models) would otherwise
        // both retire public under one name, and the second switch would fail.
        let stamp = Utc::now().format("%Y%m%d%H%M%S%6f");
        let built_as = format!("rebuild_{stamp}");
        let retired_as = format!("retired_{stamp}");
        // An earlier rebuild that crashed left texts erased since then in its schema.
        lock.clear_leftovers(&built_as).await?;
        let live = connect_database_in(&self.database_url, None).await?;
        // Names are generated above from a timestamp, never from input.
        sqlx::query(AssertSqlSafe(format!("create schema {built_as}")))
            .execute(&live)
            .await?;
        let fresh = connect_database_in(&self.database_url, Some(&built_as)).await?;
        MIGRATOR.run(&fresh).await?;
        tracing::info!(schema = %built_as, "replaying the streams into a fresh schema");

        // Nobody probes a rebuild: its readiness and metrics go nowhere.
        let (health, _) = tonic_health::server::health_reporter();
        let readiness = kaiku_grpc::Readiness::new(health, &[], &[]).await;
        let stop = Shutdown::new();
        let mut runners = Vec::new();
        for mut runner in Runner::for_streams(
            self.store.clone(),
            fresh.clone(),
            self.batching,
            self.dictionary.clone(),
            readiness.clone(),
            crate::ProjectionMetrics::default(),
        ) {
            // Analytics follows the live checkpoints, not this one.
            runner.announce = false;
            // The live projection erases in every schema, this one included.
            runner.erase_in_other_schemas = false;
            runners.push(tokio::spawn(runner.run(stop.clone())));
        }

        let mut last_report = Instant::now();
        let checkpoints = loop {
            let target = checkpoints(&live, "public").await?;
            let reached = checkpoints(&fresh, &built_as).await?;
            if last_report.elapsed() > Duration::from_secs(10) {
                tracing::info!(?target, ?reached, "rebuild catching up");
                last_report = Instant::now();
            }
            if !caught_up(&reached, &target) {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            if let Some(checkpoints) = self
                .try_switch(&live, &fresh, &built_as, &retired_as, &stop, &mut runners)
                .await?
            {
                break checkpoints;
            }
        };
        fresh.close().await;
        if !self.keep_old {
            // Should this fail or the process die first, the schema is a leftover (not marked
            // kept) that the projection's next start or the next rebuild drops.
            sqlx::query(AssertSqlSafe(format!("drop schema {retired_as} cascade")))
                .execute(&live)
                .await?;
        }
        lock.release().await?;
        Ok(RebuildReport {
            built_as,
            retired_as,
            checkpoints,
            elapsed: started.elapsed(),
        })
    }

    /// One attempt: Some(checkpoints) when switched, None when the new schema did not catch up
    /// with the held live checkpoints within `switch_wait` (the live projection goes on).
    async fn try_switch(
        &self,
        live: &PgPool,
        fresh: &PgPool,
        built_as: &str,
        retired_as: &str,
        stop: &Shutdown,
        runners: &mut Vec<tokio::task::JoinHandle<()>>,
    ) -> Result<Option<Vec<(String, u64)>>, ProjectionError> {
        let mut tx = live.begin().await?;
        // Holds the live projection: its next batch locks the same rows first.
        let held: Vec<(String, i64)> = sqlx::query_as(
            "select stream, last_sequence from public.projection_checkpoint order by stream for update",
        )
        .fetch_all(&mut *tx)
        .await?;
        let held: Vec<(String, u64)> = held
            .into_iter()
            .map(|(stream, seq)| (stream, u64::try_from(seq).unwrap_or(0)))
            .collect();
        let deadline = Instant::now() + self.switch_wait;
        loop {
            let reached = checkpoints(fresh, built_as).await?;
            if caught_up(&reached, &held) {
                break;
            }
            if Instant::now() > deadline {
                tracing::info!(
                    ?held,
                    ?reached,
                    "not caught up within the switch wait; trying again"
                );
                tx.rollback().await?;
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // The rebuild's runners commit their batch and stop, so nothing writes to the new
        // schema under its old name once it is renamed.
        stop.trigger();
        for runner in runners.drain(..) {
            runner
                .await
                .map_err(|e| ProjectionError::Startup(format!("a rebuild runner failed: {e}")))?;
        }
        let reached = checkpoints(fresh, built_as).await?;
        sqlx::query("delete from public.projection_checkpoint")
            .execute(&mut *tx)
            .await?;
        if self.keep_old {
            sqlx::query(AssertSqlSafe(format!(
                "comment on schema public is '{}'",
                crate::schemas::KEPT
            )))
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(AssertSqlSafe(format!(
            "alter schema public rename to {retired_as}"
        )))
        .execute(&mut *tx)
        .await?;
        sqlx::query(AssertSqlSafe(format!(
            "alter schema {built_as} rename to public"
        )))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(?held, ?reached, "switched to the rebuilt read models");
        Ok(Some(reached))
    }
}

/// Checkpoints per stream in `schema`.
async fn checkpoints(pool: &PgPool, schema: &str) -> Result<Vec<(String, u64)>, ProjectionError> {
    let rows: Vec<(String, i64)> = sqlx::query_as(AssertSqlSafe(format!(
        "select stream, last_sequence from {schema}.projection_checkpoint"
    )))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(stream, seq)| (stream, u64::try_from(seq).unwrap_or(0)))
        .collect())
}

/// True when `reached` has applied at least `target` of every stream.
fn caught_up(reached: &[(String, u64)], target: &[(String, u64)]) -> bool {
    let at = |list: &[(String, u64)], stream: &str| {
        list.iter()
            .find(|(s, _)| s == stream)
            .map_or(0, |(_, seq)| *seq)
    };
    crate::runner::PROJECTED_STREAMS
        .iter()
        .all(|stream| at(reached, stream) >= at(target, stream))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kaiku_eventstore::{RESPONSES_STREAM, SURVEYS_STREAM};

    fn at(surveys: u64, responses: u64) -> Vec<(String, u64)> {
        vec![
            (SURVEYS_STREAM.to_owned(), surveys),
            (RESPONSES_STREAM.to_owned(), responses),
        ]
    }

    #[test]
    fn caught_up_means_every_stream_at_least_as_far() {
        assert!(caught_up(&at(3, 10), &at(3, 10)));
        assert!(caught_up(&at(4, 12), &at(3, 10)));
        assert!(!caught_up(&at(3, 9), &at(3, 10)));
        assert!(!caught_up(&at(0, 0), &at(1, 0)));
        assert!(caught_up(&at(0, 0), &[]));
    }
}
