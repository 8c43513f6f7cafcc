#![doc = include_str!("../README.md")]

mod cases;
mod error;
mod metrics;
mod notify;
mod sealing;
mod service;
mod smtp;
mod sweeper;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kaiku_domain::handling::Promise;
use kaiku_domain::unit::UnitTree;
use kaiku_eventstore::{
    EventStore, SURVEYS_STREAM, StreamSettings, handling_stream_config, unit_subject,
};
use kaiku_grpc::{
    CommonSettings, GrpcServer, Readiness, Shutdown, parse_duration, standard_routes,
};
use kaiku_proto::events::v1::UnitEvent;
use kaiku_proto::handling::v1::feedback_handling_server::FeedbackHandlingServer;
use prost::Message;
use tonic::server::NamedService;

pub use cases::{CaseIndex, CaseRepository};
pub use error::ServiceError;
pub use metrics::HandlingMetrics;
pub use notify::{Notifier, Occasion, Routing};
pub use sealing::{ContentKeys, SealingError};
pub use service::FeedbackHandlingService;
pub use smtp::{Mail, SmtpError, SmtpSettings};
pub use sweeper::Sweeper;

/// feedback-handling: cases for feedback that needs a reply, event-sourced on KAIKU_HANDLING.
#[derive(Debug, Clone, clap::Parser)]
#[command(version, about)]
pub struct Config {
    /// Address the gRPC server listens on.
    #[arg(long, env = "KAIKU_LISTEN_ADDR", default_value = "127.0.0.1:50056")]
    pub listen_addr: SocketAddr,

    /// Replicas of KAIKU_HANDLING: 1 locally, 3 in a cluster (nats >= 2.11).
    #[arg(long, env = "KAIKU_STREAM_REPLICAS", default_value_t = 1)]
    pub stream_replicas: usize,

    /// Nats-Msg-Id de-duplication window of KAIKU_HANDLING.
    #[arg(long, env = "KAIKU_DUPLICATE_WINDOW", default_value = "24h", value_parser = parse_duration)]
    pub duplicate_window: Duration,

    /// The reply promise where no organisation sets its own: `10wd` = 10 working days (Finnish
    /// public holidays and weekends do not count), `14d` = 14 days.
    #[arg(long, env = "KAIKU_HANDLING_PROMISE", default_value = "10wd", value_parser = Promise::parse)]
    pub promise: Promise,

    /// Promises per organisation (a county, or any unit and what lies below it), e.g.
    /// `county-a=5wd,county-b=14d`; the nearest unit up the tree that has one decides.
    #[arg(long, env = "KAIKU_HANDLING_PROMISES", default_value = "", value_parser = parse_promises)]
    pub promises: Promises,

    /// How long a closed case keeps the respondent's message and contact details before they
    /// are erased from the stream.
    #[arg(long, env = "KAIKU_HANDLING_RETENTION", default_value = "90days", value_parser = parse_duration)]
    pub retention: Duration,

    /// How often reminders, escalations and erasures are looked for.
    #[arg(long, env = "KAIKU_HANDLING_SWEEP_INTERVAL", default_value = "1m", value_parser = parse_duration)]
    pub sweep_interval: Duration,

    /// File of content keys, `<key id> <base64 of 32 random bytes>` per line (`openssl rand
    /// -base64 32`); the first seals new cases, all open old ones.
    #[arg(long, env = "KAIKU_HANDLING_CONTENT_KEYS")]
    pub content_keys: PathBuf,

    /// JSON file saying who is notified: {"units": {"<unit id>": ["<address>", ...]},
    /// "people": {"<staff subject>": "<address>"}}. Unset = nobody.
    #[arg(long, env = "KAIKU_HANDLING_ROUTING")]
    pub routing: Option<PathBuf>,

    /// The mail relay for notices: smtp://host:25 or smtp+starttls://user:password@host:587.
    /// Unset = no notices (cases still show in the console).
    #[arg(long, env = "KAIKU_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Sender address of notices.
    #[arg(long, env = "KAIKU_SMTP_FROM", default_value = "kaiku@localhost")]
    pub smtp_from: String,

    /// The console's public address, for links in notices (https://kaiku.example.fi).
    #[arg(long, env = "KAIKU_CONSOLE_URL")]
    pub console_url: Option<String>,

    #[command(flatten)]
    pub common: CommonSettings,
}

/// Reply promises by organisation unit, with the default for the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Promises {
    by_unit: BTreeMap<String, Promise>,
}

fn parse_promises(text: &str) -> Result<Promises, String> {
    let mut by_unit = BTreeMap::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (unit, promise) = entry
            .split_once('=')
            .ok_or_else(|| format!("{entry:?}: write <unit id>=<promise>, e.g. county-a=5wd"))?;
        by_unit.insert(unit.trim().to_owned(), Promise::parse(promise)?);
    }
    Ok(Promises { by_unit })
}

impl Promises {
    /// The promise for a case of `unit_id`: the nearest unit up the tree that has one.
    pub fn for_unit(&self, tree: &UnitTree, unit_id: &str, default: Promise) -> Promise {
        tree.lineage(unit_id)
            .into_iter()
            .find_map(|unit| self.by_unit.get(unit).copied())
            .unwrap_or(default)
    }
}

/// The organisation's units, folded from KAIKU_SURVEYS (owned by survey-definition).
pub async fn load_units(store: &EventStore) -> Result<UnitTree, ServiceError> {
    let events = store.read_all(SURVEYS_STREAM, &unit_subject("*")).await?;
    let mut tree = UnitTree::new();
    for stored in &events {
        let event =
            UnitEvent::decode(stored.payload.as_ref()).map_err(|e| ServiceError::CorruptEvent {
                sequence: stored.stream_sequence,
                reason: e.to_string(),
            })?;
        // One unit that cannot be folded does not hide the rest (survey-definition refuses it).
        if let Err(error) = tree.apply(&event, stored.stream_sequence) {
            tracing::warn!(%error, "unit event skipped");
        }
    }
    Ok(tree)
}

/// What the gRPC service and the sweeper share.
pub struct Handling {
    pub store: EventStore,
    pub cases: CaseRepository,
    pub index: CaseIndex,
    pub keys: ContentKeys,
    pub notifier: Notifier,
    pub promise: Promise,
    pub promises: Promises,
    pub retention: chrono::Duration,
    pub metrics: HandlingMetrics,
}

pub struct Application {
    server: GrpcServer,
    handling: Arc<Handling>,
    sweep_interval: Duration,
    max_request_bytes: usize,
}

impl Application {
    /// Reads the keys and routing, connects to NATS, ensures KAIKU_HANDLING and binds.
    pub async fn build(config: &Config) -> Result<Self, ServiceError> {
        let keys = ContentKeys::from_file(&config.content_keys)?;
        let routing = match &config.routing {
            Some(path) => Routing::from_file(path).map_err(ServiceError::Config)?,
            None => Routing::default(),
        };
        if !smtp::is_plain_address(&config.smtp_from) {
            return Err(ServiceError::Config(format!(
                "KAIKU_SMTP_FROM {:?} is not an e-mail address",
                config.smtp_from
            )));
        }
        // An empty KAIKU_SMTP_URL (compose passes `${KAIKU_SMTP_URL:-}`) means none.
        let smtp = config
            .smtp_url
            .as_deref()
            .filter(|url| !url.trim().is_empty())
            .map(SmtpSettings::parse)
            .transpose()
            .map_err(|e| ServiceError::Config(e.to_string()))?;
        let retention = chrono::Duration::from_std(config.retention)
            .map_err(|e| ServiceError::Config(format!("KAIKU_HANDLING_RETENTION: {e}")))?;
        let store = config.common.event_store("feedback-handling").await?;
        store
            .ensure_stream(handling_stream_config(StreamSettings {
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
                "feedback-handling",
            )
            .await?;
        let metrics = HandlingMetrics::registered(&server.metrics());
        let handling = Handling {
            cases: CaseRepository::new(store.clone()),
            index: CaseIndex::default(),
            keys,
            notifier: Notifier {
                routing,
                smtp,
                from: config.smtp_from.clone(),
                console_url: config.console_url.clone(),
                metrics: metrics.clone(),
            },
            promise: config.promise,
            promises: config.promises.clone(),
            retention,
            metrics,
            store,
        };
        Ok(Self {
            server,
            handling: Arc::new(handling),
            sweep_interval: config.sweep_interval,
            max_request_bytes: config.common.max_request_bytes,
        })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.server.local_addr().ok()
    }

    pub async fn run(self, shutdown: Shutdown) -> Result<(), ServiceError> {
        let (health, health_service) = tonic_health::server::health_reporter();
        // Ready while NATS is connected and the case index has caught up with the stream.
        let readiness = Readiness::new(
            health,
            &[<FeedbackHandlingServer<FeedbackHandlingService> as NamedService>::NAME],
            &["nats", cases::INDEX_CONDITION],
        )
        .await;
        readiness.watch_nats(self.handling.store.clone(), shutdown.clone());
        tokio::spawn(self.handling.index.clone().follow(
            self.handling.store.clone(),
            readiness.clone(),
            shutdown.clone(),
        ));
        tokio::spawn(
            Sweeper::new(self.handling.clone(), self.sweep_interval).run(shutdown.clone()),
        );
        let routes = standard_routes(health_service)
            .map_err(|e| ServiceError::Startup(e.to_string()))?
            .add_service(
                FeedbackHandlingServer::new(FeedbackHandlingService::new(self.handling.clone()))
                    .max_decoding_message_size(self.max_request_bytes),
            );
        tracing::info!(addr = ?self.local_addr(), "feedback-handling serving");
        self.server
            .serve(routes, shutdown)
            .await
            .map_err(|e| ServiceError::Startup(e.to_string()))
    }
}

/// Opening a case: channel adapters (submit) and staff (handle); everything else: staff whose
/// grant covers the case's unit (checked in the handler).
pub fn method_policy(path: &str) -> kaiku_auth::Access {
    use kaiku_auth::{Access, Scope};
    if kaiku_auth::is_probe(path) {
        return Access::Open;
    }
    match path.strip_prefix("/kaiku.handling.v1.FeedbackHandling/") {
        Some("OpenCase") => Access::AnyOf(&[Scope::Submit, Scope::Handle]),
        _ => Access::AnyOf(&[Scope::Handle]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promises_are_read_per_unit_and_bad_ones_named() {
        let promises = parse_promises(" county-a=5wd, county-b=14d ").expect("valid");
        assert_eq!(promises.by_unit.len(), 2);
        assert_eq!(
            promises.for_unit(&UnitTree::new(), "county-b", Promise::WorkingDays(10)),
            Promise::Days(14)
        );
        assert_eq!(
            promises.for_unit(&UnitTree::new(), "elsewhere", Promise::WorkingDays(10)),
            Promise::WorkingDays(10)
        );
        assert!(parse_promises("county-a").is_err());
        assert!(parse_promises("county-a=5w").is_err());
        assert_eq!(parse_promises(""), Ok(Promises::default()));
    }
}
