use kaiku_domain::handling::{CLOSED_CODE, CaseError, CaseFoldError};
use kaiku_domain::unit::UnitFoldError;
use kaiku_eventstore::EventStoreError;
use tonic::Status;

use crate::sealing::SealingError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Case(#[from] CaseError),
    #[error("cannot fold case events: {0}")]
    CaseFold(#[from] CaseFoldError),
    #[error("cannot fold unit events: {0}")]
    UnitFold(#[from] UnitFoldError),
    #[error("no unit {0:?}")]
    UnknownUnit(String),
    #[error(transparent)]
    Denied(#[from] kaiku_auth::Denied),
    #[error(transparent)]
    Sealing(#[from] SealingError),
    #[error("event store: {0}")]
    Store(#[from] EventStoreError),
    #[error("cannot decode the event at sequence {sequence}: {reason}")]
    CorruptEvent { sequence: u64, reason: String },
    #[error(transparent)]
    Bind(#[from] kaiku_grpc::BindError),
    #[error("configuration: {0}")]
    Config(String),
    #[error("cannot start serving: {0}")]
    Startup(String),
}

/// FAILED_PRECONDITION with the refusal's code as its ErrorInfo reason, for clients to say it
/// in their user's language.
fn refused_by_state(error: &ServiceError, code: &str) -> Status {
    kaiku_grpc::failed_precondition(error.to_string(), code, "kaiku.handling")
}

/// The one place service errors become gRPC statuses: the caller's mistakes say what to fix,
/// server faults are logged here.
impl From<ServiceError> for Status {
    fn from(error: ServiceError) -> Self {
        let status = match &error {
            ServiceError::Case(case_error) => match case_error {
                CaseError::Invalid(violations) => kaiku_grpc::invalid_argument(violations),
                CaseError::NotFound(_) => Status::not_found(error.to_string()),
                CaseError::AlreadyExists(_) => Status::already_exists(error.to_string()),
                CaseError::StaleRevision { .. } => Status::aborted(error.to_string()),
                CaseError::Closed { .. } => refused_by_state(&error, CLOSED_CODE),
                CaseError::NotNow { why, .. } => refused_by_state(&error, why.code()),
            },
            ServiceError::UnknownUnit(_) => kaiku_grpc::invalid_argument(
                &kaiku_domain::Violations::single("unit_id", error.to_string()),
            ),
            ServiceError::Denied(denied) => Status::from(denied),
            ServiceError::Store(EventStoreError::WrongExpectedSequence { .. }) => Status::aborted(
                format!("{error}: another change was saved first; reload the case and retry"),
            ),
            ServiceError::Store(EventStoreError::StoreFull { .. }) => {
                Status::resource_exhausted(error.to_string())
            }
            ServiceError::Store(store) if store.is_transient() => {
                Status::unavailable(error.to_string())
            }
            ServiceError::Store(_) | ServiceError::Sealing(SealingError::Random) => {
                Status::internal(error.to_string())
            }
            ServiceError::Sealing(_)
            | ServiceError::CorruptEvent { .. }
            | ServiceError::CaseFold(_)
            | ServiceError::UnitFold(_) => Status::data_loss(error.to_string()),
            ServiceError::Bind(_) | ServiceError::Config(_) | ServiceError::Startup(_) => {
                Status::internal(error.to_string())
            }
        };
        kaiku_grpc::log_server_fault(&status);
        status
    }
}
