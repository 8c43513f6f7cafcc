//! Settings every service takes from its environment (each also has a command-line flag), so
//! `--help` documents them all.

use std::time::Duration;

use kaiku_telemetry::{LogFormat, TelemetryConfig};

use crate::ServerLimits;

/// Logs and trace export: every binary's, gRPC service or HTTP adapter.
#[derive(Debug, Clone, clap::Args)]
pub struct TelemetrySettings {
    /// Log format on stdout: text for people, json for log collectors.
    #[arg(long, env = "KAIKU_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,

    /// Log filter (tracing EnvFilter directives); applies to logs only, not to exported traces.
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    pub log_filter: String,

    /// OTLP/gRPC collector for traces, e.g. http://otel-collector:4317; unset = no export.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,

    /// Service name in traces; defaults to the binary's name.
    #[arg(long, env = "OTEL_SERVICE_NAME")]
    pub service_name: Option<String>,
}

impl TelemetrySettings {
    pub fn config(&self, default_service_name: &str) -> TelemetryConfig {
        TelemetryConfig {
            service_name: self
                .service_name
                .clone()
                .unwrap_or_else(|| default_service_name.to_owned()),
            log_format: self.log_format,
            log_filter: self.log_filter.clone(),
            otlp_endpoint: self.otlp_endpoint.clone().filter(|e| !e.is_empty()),
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct CommonSettings {
    /// NATS server(s) to connect to.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,

    /// NATS user of this service (deploy/nats/users.conf gives each service its own, allowed
    /// only the subjects its job needs); unset = connect without logging in.
    #[arg(long, env = "NATS_USER", requires = "nats_password")]
    pub nats_user: Option<String>,

    /// Password of NATS_USER.
    #[arg(
        long,
        env = "NATS_PASSWORD",
        hide_env_values = true,
        requires = "nats_user"
    )]
    pub nats_password: Option<String>,

    #[command(flatten)]
    pub telemetry: TelemetrySettings,

    /// Longest time one gRPC request may run before it is cancelled.
    #[arg(long, env = "KAIKU_REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,

    /// Most gRPC requests handled at once across all connections; one more is refused at once
    /// with RESOURCE_EXHAUSTED (health checks are never refused).
    #[arg(long, env = "KAIKU_MAX_CONCURRENT_REQUESTS", default_value_t = 512)]
    pub max_concurrent_requests: usize,

    /// Largest gRPC request accepted, in bytes.
    #[arg(long, env = "KAIKU_MAX_REQUEST_BYTES", default_value_t = 1024 * 1024)]
    pub max_request_bytes: usize,

    #[command(flatten)]
    pub auth: crate::AuthSettings,

    /// Where to serve Prometheus metrics (`GET /metrics`), e.g. 0.0.0.0:9464; unset = none.
    #[arg(long, env = "KAIKU_METRICS_ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,

    /// How long in-flight requests and batches may take to finish after SIGTERM.
    #[arg(long, env = "KAIKU_SHUTDOWN_GRACE", default_value = "20s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
}

impl CommonSettings {
    /// The NATS login, when a user is configured.
    pub fn nats_login(&self) -> Option<kaiku_eventstore::NatsLogin> {
        match (&self.nats_user, &self.nats_password) {
            (Some(user), Some(password)) => Some(kaiku_eventstore::NatsLogin {
                user: user.clone(),
                password: password.clone(),
            }),
            _ => None,
        }
    }

    pub fn telemetry(&self, default_service_name: &str) -> TelemetryConfig {
        self.telemetry.config(default_service_name)
    }

    /// Connects to NATS as this service's user; `client_name` shows in the server's connection
    /// list.
    pub async fn event_store(
        &self,
        client_name: &str,
    ) -> Result<kaiku_eventstore::EventStore, kaiku_eventstore::EventStoreError> {
        kaiku_eventstore::EventStore::connect_as(
            &self.nats_url,
            client_name,
            self.nats_login().as_ref(),
        )
        .await
    }

    /// The service's gRPC server on `addr`, with these limits, authentication by `policy`, and
    /// its admin actions, exports and refused calls audited into KAIKU_AUDIT as `service`.
    pub async fn bind(
        &self,
        addr: std::net::SocketAddr,
        policy: kaiku_auth::MethodPolicy,
        store: &kaiku_eventstore::EventStore,
        service: &'static str,
    ) -> Result<crate::GrpcServer, crate::BindError> {
        let auth = self.auth.layer(policy).map_err(crate::BindError::Auth)?;
        Ok(
            crate::GrpcServer::bind(addr, self.server_limits(), auth, self.metrics_addr)
                .await?
                .with_audit(crate::Audit::new(store.clone(), service, policy)),
        )
    }

    pub fn server_limits(&self) -> ServerLimits {
        ServerLimits {
            request_timeout: self.request_timeout,
            max_concurrent_requests: self.max_concurrent_requests,
            max_request_bytes: self.max_request_bytes,
            shutdown_grace: self.shutdown_grace,
            ..ServerLimits::default()
        }
    }
}

/// Parses "30s", "5m", "24h" and the like.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    humantime::parse_duration(value)
        .map_err(|e| format!("{value:?} is not a duration like 30s or 24h: {e}"))
}
