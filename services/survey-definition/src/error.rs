use kaiku_domain::Violations;
use kaiku_domain::review::{ReviewError, ReviewFoldError};
use kaiku_domain::submission::SubmissionError;
use kaiku_domain::survey::{FoldError, SurveyError};
use kaiku_domain::unit::{UnitError, UnitFoldError};
use kaiku_eventstore::EventStoreError;
use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Survey(#[from] SurveyError),
    #[error("invalid request: {0}")]
    InvalidRequest(Violations),
    #[error(transparent)]
    Form(#[from] SubmissionError),
    #[error(transparent)]
    Unit(#[from] UnitError),
    #[error("cannot fold unit events: {0}")]
    UnitFold(#[from] UnitFoldError),
    #[error(transparent)]
    Review(#[from] ReviewError),
    #[error("cannot fold review events: {0}")]
    ReviewFold(#[from] ReviewFoldError),
    #[error(transparent)]
    Denied(#[from] kaiku_auth::Denied),
    #[error("event store: {0}")]
    Store(#[from] EventStoreError),
    #[error("cannot decode the event at KAIKU_SURVEYS sequence {sequence}: {reason}")]
    CorruptEvent { sequence: u64, reason: String },
    #[error("cannot fold survey events: {0}")]
    Fold(#[from] FoldError),
    #[error(transparent)]
    Bind(#[from] kaiku_grpc::BindError),
    #[error("cannot start serving: {0}")]
    Startup(String),
}

/// The one place service errors become gRPC statuses: the caller's mistakes say what to fix,
/// server faults are logged here.
impl From<ServiceError> for Status {
    fn from(error: ServiceError) -> Self {
        let status = match &error {
            ServiceError::Survey(survey_error) => match survey_error {
                SurveyError::Invalid(violations) => kaiku_grpc::invalid_argument(violations),
                SurveyError::NotFound(_) => Status::not_found(error.to_string()),
                SurveyError::AlreadyExists(_) => Status::already_exists(error.to_string()),
                SurveyError::StaleRevision { .. } => Status::aborted(error.to_string()),
                SurveyError::Archived(_) | SurveyError::NothingToPublish { .. } => {
                    Status::failed_precondition(error.to_string())
                }
            },
            ServiceError::InvalidRequest(violations)
            | ServiceError::Form(SubmissionError::Invalid(violations)) => {
                kaiku_grpc::invalid_argument(violations)
            }
            ServiceError::Form(SubmissionError::NotAccepting(_)) => {
                Status::failed_precondition(error.to_string())
            }
            ServiceError::Unit(unit_error) => match unit_error {
                UnitError::Invalid(violations) => kaiku_grpc::invalid_argument(violations),
                UnitError::NotFound(_) => Status::not_found(error.to_string()),
                UnitError::AlreadyExists(_) => Status::already_exists(error.to_string()),
                UnitError::StaleRevision { .. } => Status::aborted(error.to_string()),
                UnitError::Closed(_) => Status::failed_precondition(error.to_string()),
            },
            ServiceError::Review(review_error) => match review_error {
                ReviewError::Invalid(violations) => kaiku_grpc::invalid_argument(violations),
                ReviewError::TargetNotFound { .. } => Status::not_found(error.to_string()),
                ReviewError::AlreadyExists(_) => Status::already_exists(error.to_string()),
            },
            ServiceError::Denied(denied) => Status::from(denied),
            ServiceError::Store(EventStoreError::WrongExpectedSequence { .. }) => Status::aborted(
                format!("{error}: another change was saved first; reload the survey and retry"),
            ),
            ServiceError::Store(EventStoreError::TooLarge { .. }) => {
                Status::new(Code::InvalidArgument, error.to_string())
            }
            ServiceError::Store(EventStoreError::StoreFull { .. }) => {
                Status::resource_exhausted(error.to_string())
            }
            ServiceError::Store(store) if store.is_transient() => {
                Status::unavailable(error.to_string())
            }
            ServiceError::Store(_) => Status::internal(error.to_string()),
            ServiceError::CorruptEvent { .. }
            | ServiceError::Fold(_)
            | ServiceError::UnitFold(_)
            | ServiceError::ReviewFold(_) => Status::data_loss(error.to_string()),
            ServiceError::Bind(_) | ServiceError::Startup(_) => Status::internal(error.to_string()),
        };
        kaiku_grpc::log_server_fault(&status);
        status
    }
}
