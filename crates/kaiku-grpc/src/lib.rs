#![doc = include_str!("../README.md")]

mod adapter;
mod audit;
mod auth;
mod metrics;
mod readiness;
mod server;
mod settings;
mod shed;
mod shutdown;
mod status;

pub use adapter::{AdapterClients, AdapterSettings};
pub use audit::{Audit, AuditLayer, Erasure, audit_erasure, audit_object, record_sweep};
pub use auth::{
    AuthSettings, AuthorizedChannel, BearerToken, ConnectError, authorized, connect_client,
};
pub use metrics::{Metrics, RpcMetricsLayer, latency_histogram};
pub use readiness::{CHECK_INTERVAL, Readiness};
pub use server::{BindError, GrpcServer, ServerLimits, standard_routes};
pub use settings::{CommonSettings, TelemetrySettings, parse_duration};
pub use shed::LoadShedLayer;
pub use shutdown::Shutdown;
pub use status::{
    bad_request_fields, error_reason, failed_precondition, invalid_argument, log_server_fault,
};
pub use tonic_health::ServingStatus;
pub use tonic_health::server::HealthReporter;
