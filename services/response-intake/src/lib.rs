#![doc = include_str!("../README.md")]

mod catalogue_follower;
mod error;
mod intake;
mod metrics;
mod names;
pub mod retention;
mod service;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kaiku_eventstore::{EventStore, StreamSettings, responses_stream_config};
use kaiku_grpc::{
    CommonSettings, GrpcServer, Readiness, Shutdown, parse_duration, standard_routes,
};
use tonic::server::NamedService;

use kaiku_proto::intake::v1::response_intake_server::ResponseIntakeServer;

pub use error::IntakeError;
pub use intake::Intake;
pub use metrics::IntakeMetrics;
pub use names::PersonNames;
pub use service::ResponseIntakeService;

/// response-intake: validates submissions and appends them to KAIKU_RESPONSES.
#[derive(Debug, Clone, clap::Parser)]
#[command(version, about)]
pub struct Config {
    /// Address the gRPC server listens on.
    #[arg(long, env = "KAIKU_LISTEN_ADDR", default_value = "127.0.0.1:50052")]
    pub listen_addr: SocketAddr,

    /// Replicas of the streams this service owns: 1 locally, 3 in a cluster (nats >= 2.11).
    #[arg(long, env = "KAIKU_STREAM_REPLICAS", default_value_t = 1)]
    pub stream_replicas: usize,

    /// Nats-Msg-Id de-duplication window: the same submission id within it is stored once.
    #[arg(long, env = "KAIKU_DUPLICATE_WINDOW", default_value = "24h", value_parser = parse_duration)]
    pub duplicate_window: Duration,

    /// How long a submission naming a survey version intake has not seen yet waits for the
    /// survey catalogue to catch up with KAIKU_SURVEYS.
    #[arg(long, env = "KAIKU_CATALOGUE_CATCH_UP_TIMEOUT", default_value = "3s", value_parser = parse_duration)]
    pub catalogue_catch_up_timeout: Duration,

    /// The county's default retention: months an answer keeps its open texts when its survey
    /// sets none (Retention.open_text_months = 0). Then the retention sweep erases them (ADR 0019).
    #[arg(long, env = "KAIKU_RETENTION_OPEN_TEXT_MONTHS", default_value_t = kaiku_domain::retention::DEFAULT_OPEN_TEXT_MONTHS,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(kaiku_domain::retention::MAX_RETENTION_MONTHS)))]
    pub retention_open_text_months: u32,

    /// How often the retention sweep looks for open texts past their retention; 0s turns it off.
    /// Run it on one replica (on more it is safe, but each repeats the work).
    #[arg(long, env = "KAIKU_RETENTION_SWEEP_INTERVAL", default_value = "1h", value_parser = parse_duration)]
    pub retention_sweep_interval: Duration,

    /// Most responses one retention pass erases (it reads at most 50 times as many events); a
    /// pass that stops at the limit is followed by the next within a second.
    #[arg(long, env = "KAIKU_RETENTION_PASS_LIMIT", default_value_t = 500)]
    pub retention_pass_limit: usize,

    /// For tests and drills only: the retention sweep judges as if the clock were this much
    /// later ("25months" erases what is due in 25 months). Never set it in production.
    #[arg(long, env = "KAIKU_RETENTION_CLOCK_OFFSET", default_value = "0s", value_parser = parse_duration)]
    pub retention_clock_offset: Duration,

    #[command(flatten)]
    pub common: CommonSettings,
}

pub struct Application {
    server: GrpcServer,
    store: EventStore,
    names: Arc<PersonNames>,
    config: Config,
}

impl Application {
    /// Loads the person-name finder, connects to NATS, ensures KAIKU_RESPONSES exists and
    /// binds the listener. The finder comes first: without libvoikko1 and voikko-fi intake
    /// would store names, so it stops before touching anything else.
    pub async fn build(config: &Config) -> Result<Self, IntakeError> {
        let names = Arc::new(PersonNames::load()?);
        let store = config.common.event_store("response-intake").await?;
        store
            .ensure_stream(responses_stream_config(StreamSettings {
                duplicate_window: config.duplicate_window,
                replicas: config.stream_replicas,
            }))
            .await?;
        let server = config
            .common
            .bind(config.listen_addr, method_policy, &store, "response-intake")
            .await?;
        Ok(Self {
            server,
            store,
            names,
            config: config.clone(),
        })
    }

    fn retention_settings(&self) -> Result<retention::RetentionSettings, IntakeError> {
        let offset = chrono::Duration::from_std(self.config.retention_clock_offset)
            .map_err(|e| IntakeError::Startup(format!("KAIKU_RETENTION_CLOCK_OFFSET: {e}")))?;
        if !offset.is_zero() {
            tracing::warn!(%offset, "the retention sweep runs with its clock ahead (tests and drills only)");
        }
        Ok(retention::RetentionSettings {
            county_default_months: self.config.retention_open_text_months,
            interval: self.config.retention_sweep_interval,
            pass_limit: self.config.retention_pass_limit,
            clock: Arc::new(retention::SystemClock { offset }),
        })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.server.local_addr().ok()
    }

    pub async fn run(self, shutdown: Shutdown) -> Result<(), IntakeError> {
        let catalogue = catalogue_follower::follow(
            self.store.clone(),
            self.config.catalogue_catch_up_timeout,
            shutdown.clone(),
        );
        let (health, health_service) = tonic_health::server::health_reporter();
        // Ready while the catalogue is current and NATS is connected.
        let readiness = Readiness::new(
            health,
            &[<ResponseIntakeServer<ResponseIntakeService> as NamedService>::NAME],
            &["catalogue", "nats"],
        )
        .await;
        readiness.watch_nats(self.store.clone(), shutdown.clone());
        // The catalogue is current: it holds what KAIKU_SURVEYS holds. Re-checked like the
        // connection, because after NATS restarts the catalogue's consumer takes until its
        // missed heartbeats (about 10 s) to resume, and until then a new survey's answers would
        // be refused as UNAVAILABLE.
        let following = catalogue.clone();
        readiness.watch(
            "catalogue",
            move || {
                let catalogue = following.clone();
                async move { catalogue.catch_up().await.is_ok() }
            },
            shutdown.clone(),
        );
        let metrics = IntakeMetrics::registered(&self.server.metrics());
        let intake = Intake::new(
            self.store.clone(),
            catalogue.clone(),
            metrics.clone(),
            Arc::clone(&self.names),
        );
        if !self.config.retention_sweep_interval.is_zero() {
            let sweep = retention::RetentionSweep::new(
                intake.clone(),
                catalogue,
                self.store.clone(),
                self.retention_settings()?,
                metrics.clone(),
            );
            tokio::spawn(sweep.run(shutdown.clone()));
        }
        let service = ResponseIntakeService::new(intake, metrics);
        let routes = standard_routes(health_service)
            .map_err(|e| IntakeError::Startup(e.to_string()))?
            .add_service(
                ResponseIntakeServer::new(service)
                    .max_decoding_message_size(self.config.common.max_request_bytes),
            );
        tracing::info!(addr = ?self.local_addr(), "response-intake serving");
        self.server
            .serve(routes, shutdown)
            .await
            .map_err(|e| IntakeError::Startup(e.to_string()))
    }
}

/// Submitting: callers with the submit scope (which surveys and channels is checked per answer).
pub fn method_policy(path: &str) -> kaiku_auth::Access {
    use kaiku_auth::{Access, Scope};
    if kaiku_auth::is_probe(path) {
        return Access::Open;
    }
    match path {
        "/kaiku.intake.v1.ResponseIntake/SubmitResponse"
        | "/kaiku.intake.v1.ResponseIntake/SubmitResponses" => Access::AnyOf(&[Scope::Submit]),
        // A unit's manager may erase a comment of their units (the attention list, ADR 0016).
        "/kaiku.intake.v1.ResponseIntake/RedactResponse" => {
            Access::AnyOf(&[Scope::SurveyAdmin, Scope::Handle])
        }
        _ => Access::AnyOf(&[Scope::SurveyAdmin]),
    }
}
