//! What can go wrong while serving a respondent, mapped to a page (or, for the kiosk's
//! background sender, a JSON status) in one place.

use axum::http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("configuration: {0}")]
    Config(String),
    /// Altered, foreign or malformed link: nothing in it can be trusted.
    #[error("invalid link: {0}")]
    InvalidLink(String),
    #[error("this link has used its submission allowance for now")]
    RateLimited,
    /// The survey takes no answers (archived, or no version published any more).
    #[error("survey closed: {0}")]
    Closed(String),
    /// survey-definition or response-intake did not answer usefully.
    #[error("backend unavailable: {0}")]
    Unavailable(String),
    #[error("could not print: {0}")]
    Print(#[from] kaiku_print::PrintError),
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::InvalidLink(_) => StatusCode::NOT_FOUND,
            WebError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            // A page like the closed period's; for the kiosk's queue, never storable (422).
            WebError::Closed(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Config(_) | WebError::Print(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A gRPC failure from a backend: a link whose context the survey refuses is an invalid
    /// link (signed, but for a survey, unit or role that no longer fits); an archived or
    /// unpublished survey is closed; the rest is unavailable.
    pub fn from_backend(status: &tonic::Status) -> WebError {
        match status.code() {
            tonic::Code::InvalidArgument | tonic::Code::NotFound => {
                WebError::InvalidLink(status.message().to_owned())
            }
            tonic::Code::FailedPrecondition => WebError::Closed(status.message().to_owned()),
            _ => {
                kaiku_grpc::log_server_fault(status);
                WebError::Unavailable(format!("{:?}: {}", status.code(), status.message()))
            }
        }
    }
}
