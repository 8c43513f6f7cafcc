#![doc = include_str!("../README.md")]

mod cells;
mod consistency;
mod disclosure;
mod error;
mod export;
mod feedback_texts;
mod filter;
mod handling_report;
mod nps_query;
mod reader_figures;
mod service;

use std::net::SocketAddr;
use std::time::Duration;

use kaiku_eventstore::EventStore;
use kaiku_grpc::{
    CommonSettings, GrpcServer, Readiness, Shutdown, parse_duration, standard_routes,
};
use kaiku_proto::analytics::v1::analytics_server::AnalyticsServer;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tonic::server::NamedService;

pub use consistency::Consistency;
pub use error::AnalyticsError;
pub use service::AnalyticsService;

/// analytics: figures from the read models, with read-your-writes and small-group suppression.
#[derive(Debug, Clone, clap::Parser)]
#[command(version, about)]
pub struct Config {
    /// Address the gRPC server listens on.
    #[arg(long, env = "KAIKU_LISTEN_ADDR", default_value = "127.0.0.1:50053")]
    pub listen_addr: SocketAddr,

    /// PostgreSQL database of the read models (read only).
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,

    /// Smallest group a figure is shown for; smaller non-empty groups are suppressed.
    #[arg(long, env = "KAIKU_MIN_GROUP_SIZE", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub min_group_size: u32,

    /// Longest a query carrying min_sequence waits for the read model to catch up.
    #[arg(long, env = "KAIKU_CONSISTENCY_WAIT", default_value = "10s", value_parser = parse_duration)]
    pub consistency_wait: Duration,

    #[command(flatten)]
    pub common: CommonSettings,
}

pub struct Application {
    server: GrpcServer,
    store: EventStore,
    pool: PgPool,
    config: Config,
}

impl Application {
    pub async fn build(config: &Config) -> Result<Self, AnalyticsError> {
        // No statement cache: PostgreSQL binds a prepared statement to the tables its names
        // meant when it was prepared, and a projection rebuild swaps the schema under them.
        // Parsing each query costs well under a millisecond (BENCHMARKS.md).
        let options: PgConnectOptions = config.database_url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.statement_cache_capacity(0))
            .await?;
        let store = config.common.event_store("analytics").await?;
        let server = config
            .common
            .bind(config.listen_addr, method_policy, &store, "analytics")
            .await?;
        Ok(Self {
            server,
            store,
            pool,
            config: config.clone(),
        })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.server.local_addr().ok()
    }

    pub async fn run(self, shutdown: Shutdown) -> Result<(), AnalyticsError> {
        let consistency = Consistency::start(
            &self.store,
            self.pool.clone(),
            self.config.consistency_wait,
            shutdown.clone(),
        )
        .await?;
        let (health, health_service) = tonic_health::server::health_reporter();
        // Ready while NATS (read-your-writes) and PostgreSQL (every figure) answer.
        let readiness = Readiness::new(
            health,
            &[<AnalyticsServer<AnalyticsService> as NamedService>::NAME],
            &["nats", "postgres"],
        )
        .await;
        readiness.watch_nats(self.store.clone(), shutdown.clone());
        readiness.watch_postgres(&self.pool, shutdown.clone());
        let service =
            AnalyticsService::new(self.pool.clone(), consistency, self.config.min_group_size);
        let routes = standard_routes(health_service)
            .map_err(|e| AnalyticsError::Startup(e.to_string()))?
            .add_service(
                AnalyticsServer::new(service)
                    .max_decoding_message_size(self.config.common.max_request_bytes),
            );
        tracing::info!(addr = ?self.local_addr(), "analytics serving");
        let served = self.server.serve(routes, shutdown).await;
        self.pool.close().await;
        served.map_err(|e| AnalyticsError::Startup(e.to_string()))
    }
}

/// Figures and texts: analytics readers; the CSV export: the export scope. Which units is
/// checked per query.
pub fn method_policy(path: &str) -> kaiku_auth::Access {
    use kaiku_auth::{Access, Scope};
    if kaiku_auth::is_probe(path) {
        return Access::Open;
    }
    match path {
        "/kaiku.analytics.v1.Analytics/ExportResponses" => Access::AnyOf(&[Scope::Export]),
        // Concerns go to those who handle their units' feedback, not to every reader (ADR 0016).
        "/kaiku.analytics.v1.Analytics/ListAttentionTexts" => Access::AnyOf(&[Scope::Handle]),
        _ => Access::AnyOf(&[Scope::AnalyticsRead]),
    }
}
