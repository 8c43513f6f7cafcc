//! Readiness that reflects what a service depends on: its overall health (service "" in
//! grpc.health.v1, what probes ask) is SERVING only while every condition holds: its own
//! start-up (intake's catalogue, the projection's streams) and its connections to NATS and
//! PostgreSQL, re-checked every few seconds.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::Shutdown;

/// How often a dependency that holds is checked again; a probe sees an outage within about
/// this long.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(2);
/// How often one that does not hold is: start-up (a connection still being made) and recovery
/// are seen within this long.
pub const RECHECK_INTERVAL: Duration = Duration::from_millis(200);

/// The conditions a service's readiness is made of.
#[derive(Clone)]
pub struct Readiness {
    health: HealthReporter,
    /// Named gRPC services whose status follows the overall one.
    services: Arc<Vec<&'static str>>,
    conditions: Arc<Mutex<BTreeMap<&'static str, bool>>>,
}

impl Readiness {
    /// Starts NOT_SERVING with each condition unmet.
    pub async fn new(
        health: HealthReporter,
        services: &[&'static str],
        conditions: &[&'static str],
    ) -> Self {
        let readiness = Self {
            health,
            services: Arc::new(services.to_vec()),
            conditions: Arc::new(Mutex::new(
                conditions.iter().map(|name| (*name, false)).collect(),
            )),
        };
        readiness.publish(ServingStatus::NotServing).await;
        readiness
    }

    /// Records whether `condition` holds now; the health status changes when the overall
    /// answer does.
    pub async fn set(&self, condition: &'static str, holds: bool) {
        let mut conditions = self.conditions.lock().await;
        let before = conditions.values().all(|held| *held);
        if conditions.insert(condition, holds) != Some(holds) {
            if holds {
                tracing::info!(condition, "readiness condition met");
            } else {
                tracing::warn!(condition, "readiness condition lost");
            }
        }
        let after = conditions.values().all(|held| *held);
        if before != after {
            let status = if after {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            // Under the lock, so two changes cannot be published in the wrong order.
            self.publish(status).await;
        }
    }

    /// Runs `check` every [`CHECK_INTERVAL`] (every [`RECHECK_INTERVAL`] while it fails) until
    /// shutdown and records its answer as `condition`.
    pub fn watch<F, Fut>(&self, condition: &'static str, check: F, shutdown: Shutdown)
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = bool> + Send,
    {
        let readiness = self.clone();
        tokio::spawn(async move {
            loop {
                let holds = tokio::time::timeout(CHECK_INTERVAL, check())
                    .await
                    .unwrap_or(false);
                readiness.set(condition, holds).await;
                let next = if holds {
                    CHECK_INTERVAL
                } else {
                    RECHECK_INTERVAL
                };
                tokio::select! {
                    () = tokio::time::sleep(next) => {}
                    () = shutdown.wait() => return,
                }
            }
        });
    }

    async fn publish(&self, status: ServingStatus) {
        self.health.set_service_status("", status).await;
        for service in self.services.iter() {
            self.health.set_service_status(service, status).await;
        }
    }
}

impl Readiness {
    /// Condition "nats": the event store's connection is up.
    pub fn watch_nats(&self, store: kaiku_eventstore::EventStore, shutdown: Shutdown) {
        self.watch(
            "nats",
            move || std::future::ready(store.is_connected()),
            shutdown,
        );
    }

    /// Condition "postgres": the database answers `select 1`, on a connection of its own (the
    /// same settings as `pool`), so a pool busy with long exports or batches does not read as
    /// the database being away.
    #[cfg(feature = "postgres")]
    pub fn watch_postgres(&self, pool: &sqlx::PgPool, shutdown: Shutdown) {
        let probe = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(CHECK_INTERVAL)
            .connect_lazy_with((*pool.connect_options()).clone());
        self.watch(
            "postgres",
            move || {
                let probe = probe.clone();
                async move { sqlx::query("select 1").execute(&probe).await.is_ok() }
            },
            shutdown,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_server::Health as _;

    async fn status(service: &tonic_health::server::HealthService) -> i32 {
        service
            .check(tonic::Request::new(HealthCheckRequest {
                service: String::new(),
            }))
            .await
            .map(|r| r.into_inner().status)
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn serving_only_while_every_condition_holds() {
        let reporter = HealthReporter::new();
        let service = tonic_health::server::HealthService::from_health_reporter(reporter.clone());
        let readiness = Readiness::new(reporter, &[], &["started", "nats"]).await;
        assert_eq!(status(&service).await, ServingStatus::NotServing as i32);
        readiness.set("started", true).await;
        assert_eq!(status(&service).await, ServingStatus::NotServing as i32);
        readiness.set("nats", true).await;
        assert_eq!(status(&service).await, ServingStatus::Serving as i32);
        readiness.set("nats", false).await;
        assert_eq!(status(&service).await, ServingStatus::NotServing as i32);
        readiness.set("nats", true).await;
        assert_eq!(status(&service).await, ServingStatus::Serving as i32);
    }
}
