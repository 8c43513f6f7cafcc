use kaiku_domain::submission::SubmissionError;
use kaiku_domain::{SubmissionId, Violations};
use kaiku_eventstore::EventStoreError;
use tonic::Status;

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("invalid submission: {0}")]
    Invalid(Violations),
    #[error("{0}")]
    NotAccepting(String),
    /// The named thing does not exist (e.g. no such response at a sequence).
    #[error("{field}: {message}")]
    NotFound {
        field: &'static str,
        message: String,
    },
    #[error(
        "submission {0} was already stored with different content; use a new submission_id for a new response"
    )]
    ConflictingRetry(SubmissionId),
    #[error("event store: {0}")]
    Store(#[from] EventStoreError),
    #[error("survey catalogue is behind: KAIKU_SURVEYS is at {head}, applied {applied}")]
    CatalogueBehind { head: u64, applied: u64 },
    #[error("survey catalogue follower has stopped")]
    CatalogueStopped,
    #[error("stored response at sequence {sequence} cannot be decoded: {reason}")]
    CorruptEvent { sequence: u64, reason: String },
    #[error(transparent)]
    Bind(#[from] kaiku_grpc::BindError),
    #[error("cannot start serving: {0}")]
    Startup(String),
    /// Without the name finder open text would be stored with names in it.
    #[error("cannot recognise person names in open text, so none can be stored: {0}")]
    Names(#[from] kaiku_names::NamesError),
    #[error("response-intake is shutting down")]
    ShuttingDown,
    /// The caller's grant does not cover the response's unit.
    #[error(transparent)]
    Denied(#[from] kaiku_auth::Denied),
}

impl From<SubmissionError> for IntakeError {
    fn from(error: SubmissionError) -> Self {
        match error {
            SubmissionError::Invalid(violations) => IntakeError::Invalid(violations),
            SubmissionError::NotAccepting(reason) => IntakeError::NotAccepting(reason),
        }
    }
}

impl From<Violations> for IntakeError {
    fn from(violations: Violations) -> Self {
        IntakeError::Invalid(violations)
    }
}

/// The one place intake errors become gRPC statuses.
impl From<IntakeError> for Status {
    fn from(error: IntakeError) -> Self {
        let status = match &error {
            IntakeError::Invalid(violations) => kaiku_grpc::invalid_argument(violations),
            IntakeError::NotAccepting(_) => Status::failed_precondition(error.to_string()),
            IntakeError::ConflictingRetry(_) => Status::already_exists(error.to_string()),
            IntakeError::NotFound { .. } | IntakeError::Store(EventStoreError::NotFound { .. }) => {
                Status::not_found(error.to_string())
            }
            IntakeError::Store(EventStoreError::TooLarge { .. }) => {
                Status::invalid_argument(error.to_string())
            }
            IntakeError::Store(EventStoreError::StoreFull { .. }) => {
                Status::resource_exhausted(error.to_string())
            }
            IntakeError::Store(store) if store.is_transient() => {
                Status::unavailable(error.to_string())
            }
            IntakeError::Store(_) => Status::internal(error.to_string()),
            IntakeError::CatalogueBehind { .. } | IntakeError::CatalogueStopped => {
                Status::unavailable(error.to_string())
            }
            IntakeError::CorruptEvent { .. } => Status::data_loss(error.to_string()),
            IntakeError::Bind(_) | IntakeError::Startup(_) | IntakeError::Names(_) => {
                Status::internal(error.to_string())
            }
            IntakeError::ShuttingDown => Status::unavailable(error.to_string()),
            IntakeError::Denied(denied) => Status::from(denied),
        };
        kaiku_grpc::log_server_fault(&status);
        status
    }
}
