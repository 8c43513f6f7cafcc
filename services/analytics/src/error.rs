use std::time::Duration;

use kaiku_domain::Violations;
use tonic::Status;

#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    #[error("invalid query: {0}")]
    Invalid(Violations),
    #[error("survey {0} is not in the read model")]
    UnknownSurvey(String),
    #[error(
        "the read model has applied KAIKU_RESPONSES up to {applied}, not yet {min_sequence} (waited {waited:?}); retry"
    )]
    NotCaughtUp {
        min_sequence: u64,
        applied: u64,
        waited: Duration,
    },
    #[error("read-model database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("only {responses} responses match; exports need at least {min_group_size}")]
    TooFewToExport { responses: u64, min_group_size: u32 },
    #[error("export: {0}")]
    Export(String),
    #[error("NATS: {0}")]
    Nats(String),
    #[error("event store: {0}")]
    Store(#[from] kaiku_eventstore::EventStoreError),
    #[error(transparent)]
    Bind(#[from] kaiku_grpc::BindError),
    #[error("cannot start serving: {0}")]
    Startup(String),
}

impl From<Violations> for AnalyticsError {
    fn from(v: Violations) -> Self {
        AnalyticsError::Invalid(v)
    }
}

/// The one place analytics errors become gRPC statuses.
impl From<AnalyticsError> for Status {
    fn from(error: AnalyticsError) -> Self {
        let status = match &error {
            AnalyticsError::Invalid(violations) => kaiku_grpc::invalid_argument(violations),
            AnalyticsError::UnknownSurvey(_) => Status::not_found(error.to_string()),
            AnalyticsError::TooFewToExport { .. } => Status::failed_precondition(error.to_string()),
            AnalyticsError::Export(_) => Status::internal(error.to_string()),
            AnalyticsError::NotCaughtUp { .. } => Status::unavailable(error.to_string()),
            AnalyticsError::Database(_) | AnalyticsError::Nats(_) | AnalyticsError::Store(_) => {
                Status::unavailable(error.to_string())
            }
            AnalyticsError::Bind(_) | AnalyticsError::Startup(_) => {
                Status::internal(error.to_string())
            }
        };
        kaiku_grpc::log_server_fault(&status);
        status
    }
}
