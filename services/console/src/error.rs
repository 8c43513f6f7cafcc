//! What can go wrong while serving staff, mapped to a page and an HTTP status in one place.

use axum::http::StatusCode;

use crate::accounts::AccountsError;
use crate::oidc::OidcError;
use crate::tokens::TokenError;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Accounts(#[from] AccountsError),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Oidc(#[from] OidcError),
    /// The form's CSRF token is missing or not the session's.
    #[error("the form has expired; reload the page and try again")]
    Forgery,
    /// A unit, survey or period the person may not see, or that does not exist.
    #[error("not found or not yours to see: {0}")]
    NotFound(String),
    #[error("you may not do this: {0}")]
    Forbidden(String),
    /// The request named something malformed (a field and its problem).
    #[error("{field}: {problem}")]
    BadRequest { field: String, problem: String },
    /// A backend refused or failed. `reason` is the status's ErrorInfo code when it has one
    /// (a refusal about the state of a case), empty otherwise.
    #[error("{code:?}: {message}")]
    Backend {
        code: tonic::Code,
        message: String,
        reason: String,
    },
    #[error("could not print: {0}")]
    Print(#[from] kaiku_print::PrintError),
    #[error("could not draw a chart: {0}")]
    Chart(String),
}

impl ConsoleError {
    pub fn status(&self) -> StatusCode {
        match self {
            ConsoleError::Forgery => StatusCode::FORBIDDEN,
            ConsoleError::Oidc(e) => match e {
                OidcError::UnknownState => StatusCode::BAD_REQUEST,
                OidcError::Token(_) => StatusCode::UNAUTHORIZED,
                OidcError::NoRole { .. } | OidcError::NoSubject { .. } => StatusCode::FORBIDDEN,
                OidcError::Provider(_) => StatusCode::BAD_GATEWAY,
                OidcError::Busy => StatusCode::SERVICE_UNAVAILABLE,
                OidcError::NotHttps(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ConsoleError::Forbidden(_) => StatusCode::FORBIDDEN,
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ConsoleError::Backend { code, .. } => match code {
                tonic::Code::InvalidArgument
                | tonic::Code::FailedPrecondition
                | tonic::Code::AlreadyExists => StatusCode::UNPROCESSABLE_ENTITY,
                tonic::Code::NotFound => StatusCode::NOT_FOUND,
                tonic::Code::PermissionDenied => StatusCode::FORBIDDEN,
                tonic::Code::Unauthenticated => StatusCode::UNAUTHORIZED,
                tonic::Code::Aborted => StatusCode::CONFLICT,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            },
            ConsoleError::Config(_)
            | ConsoleError::Accounts(_)
            | ConsoleError::Token(_)
            | ConsoleError::Print(_)
            | ConsoleError::Chart(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<tonic::Status> for ConsoleError {
    fn from(status: tonic::Status) -> Self {
        kaiku_grpc::log_server_fault(&status);
        // The field violations of an INVALID_ARGUMENT, so the page can name each field.
        let details = kaiku_grpc::bad_request_fields(&status);
        let message = if details.is_empty() {
            status.message().to_owned()
        } else {
            details
                .iter()
                .map(|(field, problem)| format!("{field}: {problem}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        ConsoleError::Backend {
            code: status.code(),
            message,
            reason: kaiku_grpc::error_reason(&status),
        }
    }
}
