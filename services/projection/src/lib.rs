#![doc = include_str!("../README.md")]

use std::sync::Arc;

mod apply;
mod attention;
mod error;
mod facts;
mod handling;
mod metrics;
pub mod rebuild;
pub mod release;
mod rollups;
mod runner;
pub mod schemas;

use std::net::SocketAddr;
use std::time::Duration;

use kaiku_domain::feedback::FeedbackDictionary;
use kaiku_eventstore::EventStore;
use kaiku_grpc::{CommonSettings, GrpcServer, Readiness, Shutdown, standard_routes};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// Decoding and shaping of one response-stream event, without the database (the fuzz target
/// `response_event` drives it with arbitrary bytes).
pub use apply::{Prepared, prepare_response_event};
pub use error::ProjectionError;
pub use facts::{INSERT_FEEDBACK_TEXTS, INSERT_RESPONSES};
pub use metrics::ProjectionMetrics;
pub use runner::{Batching, Runner, checkpoint};

/// The read-model schema; the projection is its only owner and writer.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// projection: folds KAIKU_SURVEYS and KAIKU_RESPONSES into the PostgreSQL read models.
#[derive(Debug, Clone, clap::Parser)]
#[command(version, about)]
pub struct Config {
    /// Address the gRPC health server listens on.
    #[arg(long, env = "KAIKU_LISTEN_ADDR", default_value = "127.0.0.1:50054")]
    pub listen_addr: SocketAddr,

    /// PostgreSQL database of the read models.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,

    /// Most events applied in one transaction. Large batches are what makes catch-up fast:
    /// their rollup counts are summed in memory before they are written (ADR 0006). Measured
    /// catch-up on 2 cores: 20000 -> 17,000 responses/s, 50000 -> 21,000/s; memory grows with
    /// it (two batches are in hand at once: about 300 MB at 20000, 500 MB at 50000).
    #[arg(long, env = "KAIKU_PROJECTION_BATCH_SIZE", default_value_t = 50_000)]
    pub batch_size: usize,

    /// How long a batch waits for more events once none are ready; adds at most this much to
    /// the time an answer takes to reach analytics.
    #[arg(long, env = "KAIKU_PROJECTION_BATCH_LINGER", default_value = "20ms", value_parser = kaiku_grpc::parse_duration)]
    pub batch_linger: Duration,

    /// Feedback dictionary (JSON: sentiment stems and themes per language) used to tag open
    /// texts; the built-in one when unset. See crates/kaiku-domain/src/feedback/dictionary.json.
    #[arg(long, env = "KAIKU_FEEDBACK_DICTIONARY")]
    pub feedback_dictionary: Option<std::path::PathBuf>,

    /// Run the read-model migrations and exit (as the tables' owner).
    /// The minimum group size readers' atoms are released in (ADR 0020); analytics must use
    /// the same.
    #[arg(long, env = "KAIKU_MIN_GROUP_SIZE", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub min_group_size: u32,

    /// How long a survey's answers must have stopped coming before they are released to
    /// readers (ADR 0020).
    #[arg(long, env = "KAIKU_READER_RELEASE_QUIET", default_value = "10m", value_parser = kaiku_grpc::parse_duration)]
    pub reader_release_quiet: Duration,

    /// How long an answer waits at most for its survey to go quiet before it is released.
    #[arg(long, env = "KAIKU_READER_RELEASE_MAX_DELAY", default_value = "1h", value_parser = kaiku_grpc::parse_duration)]
    pub reader_release_max_delay: Duration,

    #[arg(long)]
    pub migrate_only: bool,

    /// Migrate at start-up. Off where the projection runs as its least-privileged role
    /// (kaiku_writer, which cannot change the schema) and a migration job runs first as the
    /// owner: then the projection only checks that the schema is current and refuses to start
    /// otherwise.
    #[arg(long, env = "KAIKU_MIGRATE_ON_START", default_value_t = true, action = clap::ArgAction::Set)]
    pub migrate_on_start: bool,

    /// Admin command: replay both streams into a fresh schema while the running projection and
    /// analytics keep serving the current one, switch over atomically, and exit (ADR 0007).
    #[arg(long, conflicts_with = "migrate_only")]
    pub rebuild: bool,

    /// With --rebuild: keep the old read models as schema retired_<time> instead of dropping it
    /// (for a comparison; drop it when done). The running projection applies every erasure
    /// there too (ADR 0019).
    #[arg(long, requires = "rebuild")]
    pub keep_old: bool,

    #[command(flatten)]
    pub common: CommonSettings,
}

pub struct Application {
    server: GrpcServer,
    store: EventStore,
    pool: PgPool,
    batching: Batching,
    dictionary: Arc<FeedbackDictionary>,
    release: release::ReleaseSettings,
}

/// The feedback dictionary the configuration names, or the built-in one.
pub fn load_dictionary(config: &Config) -> Result<FeedbackDictionary, ProjectionError> {
    Ok(match &config.feedback_dictionary {
        None => FeedbackDictionary::builtin(),
        Some(path) => {
            let json = std::fs::read_to_string(path).map_err(|e| {
                ProjectionError::Startup(format!("reading {}: {e}", path.display()))
            })?;
            FeedbackDictionary::from_json(&json)
                .map_err(|e| ProjectionError::Startup(format!("{}: {e}", path.display())))?
        }
    })
}

pub async fn connect_database(url: &str) -> Result<PgPool, ProjectionError> {
    connect_database_in(url, None).await
}

/// A pool whose unqualified names resolve in `schema` (the rebuild's fresh schema), or by the
/// default search path. Statements are not cached: PostgreSQL resolves a table name when a
/// statement is prepared, and after a rebuild switches schemas every statement must find the
/// new tables (a handful of statements per batch, so parsing each costs nothing measurable).
pub async fn connect_database_in(
    url: &str,
    schema: Option<&str>,
) -> Result<PgPool, ProjectionError> {
    let mut options: PgConnectOptions = url.parse()?;
    options = options.statement_cache_capacity(0);
    if let Some(schema) = schema {
        options = options.options([("search_path", schema)]);
    }
    Ok(PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await?)
}

/// Refuses a database whose read models lack a migration this build has (or have one it does
/// not know): the projection would write to tables that are not the ones it expects.
pub async fn ensure_migrated(pool: &PgPool) -> Result<(), ProjectionError> {
    let expected: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    let applied: Vec<i64> =
        sqlx::query_scalar("select version from _sqlx_migrations where success order by version")
            .fetch_all(pool)
            .await
            .unwrap_or_default();
    if applied == expected {
        return Ok(());
    }
    Err(ProjectionError::NotMigrated {
        applied: applied.last().copied().unwrap_or(0),
        expected: expected.last().copied().unwrap_or(0),
    })
}

/// The --rebuild admin command.
pub async fn rebuild(config: &Config) -> Result<rebuild::RebuildReport, ProjectionError> {
    let store = config.common.event_store("projection-rebuild").await?;
    rebuild::Rebuild {
        database_url: config.database_url.clone(),
        store,
        batching: batching(config),
        dictionary: Arc::new(load_dictionary(config)?),
        keep_old: config.keep_old,
        switch_wait: Duration::from_secs(30),
    }
    .run()
    .await
}

fn batching(config: &Config) -> Batching {
    Batching {
        size: config.batch_size.max(1),
        linger: config.batch_linger,
    }
}

impl Application {
    /// Connects to PostgreSQL and NATS, migrates, and binds the health listener.
    pub async fn build(config: &Config) -> Result<Self, ProjectionError> {
        let dictionary = load_dictionary(config)?;
        let pool = connect_database(&config.database_url).await?;
        if config.migrate_on_start {
            MIGRATOR.run(&pool).await?;
        } else {
            ensure_migrated(&pool).await?;
        }
        attention::backfill(&pool).await?;
        // A crashed rebuild's schema would keep texts erased since (ADR 0019).
        schemas::clear_leftovers(&pool).await?;
        let store = config.common.event_store("projection").await?;
        let server = config
            .common
            .bind(config.listen_addr, method_policy, &store, "projection")
            .await?;
        Ok(Self {
            server,
            store,
            pool,
            batching: batching(config),
            dictionary: Arc::new(dictionary),
            release: release::ReleaseSettings {
                quiet: config.reader_release_quiet,
                max_delay: config.reader_release_max_delay,
                min_group_size: config.min_group_size,
            },
        })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.server.local_addr().ok()
    }

    /// Follows both streams until shutdown; the current batch commits before it stops.
    pub async fn run(self, shutdown: Shutdown) -> Result<(), ProjectionError> {
        let (health, health_service) = tonic_health::server::health_reporter();
        // Ready while both streams are followed and NATS and PostgreSQL answer.
        let readiness = Readiness::new(
            health,
            &[],
            &[
                runner::PROJECTED_STREAMS[0],
                runner::PROJECTED_STREAMS[1],
                runner::PROJECTED_STREAMS[2],
                "nats",
                "postgres",
            ],
        )
        .await;
        readiness.watch_nats(self.store.clone(), shutdown.clone());
        readiness.watch_postgres(&self.pool, shutdown.clone());
        let metrics = ProjectionMetrics::registered(&self.server.metrics());
        let runners: Vec<_> = Runner::for_streams(
            self.store.clone(),
            self.pool.clone(),
            self.batching,
            self.dictionary.clone(),
            readiness,
            metrics,
        )
        .into_iter()
        .map(|runner| tokio::spawn(runner.run(shutdown.clone())))
        .collect();
        let releases = tokio::spawn(release::run(
            self.pool.clone(),
            self.store.clone(),
            self.release,
            shutdown.clone(),
        ));
        let routes =
            standard_routes(health_service).map_err(|e| ProjectionError::Startup(e.to_string()))?;
        tracing::info!(addr = ?self.local_addr(), "projection running");
        let served = self.server.serve(routes, shutdown).await;
        for runner in runners {
            if let Err(e) = runner.await {
                tracing::error!(error = %e, "projection runner panicked");
            }
        }
        if let Err(e) = releases.await {
            tracing::error!(error = %e, "reader release task panicked");
        }
        self.pool.close().await;
        served.map_err(|e| ProjectionError::Startup(e.to_string()))
    }
}

/// The projection serves only health; anything else is refused to everyone but admins.
pub fn method_policy(path: &str) -> kaiku_auth::Access {
    if kaiku_auth::is_probe(path) {
        kaiku_auth::Access::Open
    } else {
        kaiku_auth::Access::AnyOf(&[kaiku_auth::Scope::SurveyAdmin])
    }
}
