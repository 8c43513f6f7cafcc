#![doc = include_str!("../README.md")]

mod error;
mod repository;
mod reviews;
mod service;
mod units;

use std::net::SocketAddr;
use std::time::Duration;

use kaiku_eventstore::{EventStore, StreamSettings, audit_stream_config, surveys_stream_config};
use kaiku_grpc::{
    CommonSettings, GrpcServer, Readiness, Shutdown, parse_duration, standard_routes,
};
use kaiku_proto::survey::v1::survey_definition_server::SurveyDefinitionServer;
use tonic::server::NamedService;

pub use error::ServiceError;
pub use repository::SurveyRepository;
pub use reviews::ReviewRepository;
pub use service::SurveyDefinitionService;
pub use units::UnitRepository;

/// survey-definition: surveys and their versions, event-sourced on KAIKU_SURVEYS.
#[derive(Debug, Clone, clap::Parser)]
#[command(version, about)]
pub struct Config {
    /// Address the gRPC server listens on.
    #[arg(long, env = "KAIKU_LISTEN_ADDR", default_value = "127.0.0.1:50051")]
    pub listen_addr: SocketAddr,

    /// Replicas of the streams this service owns: 1 locally, 3 in a cluster (nats >= 2.11).
    #[arg(long, env = "KAIKU_STREAM_REPLICAS", default_value_t = 1)]
    pub stream_replicas: usize,

    /// Nats-Msg-Id de-duplication window of the streams this service owns.
    #[arg(long, env = "KAIKU_DUPLICATE_WINDOW", default_value = "24h", value_parser = parse_duration)]
    pub duplicate_window: Duration,

    #[command(flatten)]
    pub common: CommonSettings,
}

pub struct Application {
    server: GrpcServer,
    store: EventStore,
    max_request_bytes: usize,
}

impl Application {
    /// Connects to NATS, ensures KAIKU_SURVEYS exists and binds the listener.
    pub async fn build(config: &Config) -> Result<Self, ServiceError> {
        let store = config.common.event_store("survey-definition").await?;
        store
            .ensure_stream(surveys_stream_config(StreamSettings {
                duplicate_window: config.duplicate_window,
                replicas: config.stream_replicas,
            }))
            .await?;
        // The audit stream too: survey-definition, the admin service, owns it; every service
        // writes its own subject in it (kaiku_grpc::Audit).
        store
            .ensure_stream_exists(audit_stream_config(StreamSettings {
                duplicate_window: config.duplicate_window,
                replicas: config.stream_replicas,
            }))
            .await?;
        let server = config
            .common
            .bind(
                config.listen_addr,
                method_policy,
                &store,
                "survey-definition",
            )
            .await?;
        Ok(Self {
            server,
            store,
            max_request_bytes: config.common.max_request_bytes,
        })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.server.local_addr().ok()
    }

    pub async fn run(self, shutdown: Shutdown) -> Result<(), ServiceError> {
        let (health, health_service) = tonic_health::server::health_reporter();
        let service = SurveyDefinitionService::new(
            SurveyRepository::new(self.store.clone()),
            UnitRepository::new(self.store.clone()),
            ReviewRepository::new(self.store.clone()),
        );
        // Ready while NATS, where every survey and unit lives, is connected.
        let readiness = Readiness::new(
            health,
            &[<SurveyDefinitionServer<SurveyDefinitionService> as NamedService>::NAME],
            &["nats"],
        )
        .await;
        readiness.watch_nats(self.store.clone(), shutdown.clone());
        let routes = standard_routes(health_service)
            .map_err(|e| ServiceError::Startup(e.to_string()))?
            .add_service(
                SurveyDefinitionServer::new(service)
                    .max_decoding_message_size(self.max_request_bytes),
            );
        tracing::info!(addr = ?self.local_addr(), "survey-definition serving");
        self.server
            .serve(routes, shutdown)
            .await
            .map_err(|e| ServiceError::Startup(e.to_string()))
    }
}

/// Reading surveys and forms: any caller (channel adapters resolve forms); changing them: admins.
/// Results reviews: readers of figures (managers), for the units their grant covers (checked in
/// the handler against the unit tree).
pub fn method_policy(path: &str) -> kaiku_auth::Access {
    use kaiku_auth::{Access, Scope};
    const REVIEWS: [&str; 3] = [
        "RecordDevelopmentTarget",
        "FollowUpDevelopmentTarget",
        "ListDevelopmentTargets",
    ];
    const READS: [&str; 5] = [
        "GetSurvey",
        "ListSurveys",
        "GetForm",
        "ListTemplates",
        "ListUnits",
    ];
    if kaiku_auth::is_probe(path) {
        return Access::Open;
    }
    match path.strip_prefix("/kaiku.survey.v1.SurveyDefinition/") {
        Some(method) if READS.contains(&method) => Access::Authenticated,
        Some(method) if REVIEWS.contains(&method) => Access::AnyOf(&[Scope::AnalyticsRead]),
        _ => Access::AnyOf(&[Scope::SurveyAdmin]),
    }
}
