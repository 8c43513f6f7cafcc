//! Building gRPC statuses with google.rpc details, the same way in every service.

use kaiku_domain::Violations;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// INVALID_ARGUMENT with a google.rpc.BadRequest listing every field violation.
pub fn invalid_argument(violations: &Violations) -> Status {
    let details = violations
        .iter()
        .map(|v| FieldViolation::new(v.field.clone(), v.description.clone()))
        .collect::<Vec<_>>();
    Status::with_error_details(
        Code::InvalidArgument,
        violations.to_string(),
        ErrorDetails::with_bad_request(details),
    )
}

/// FAILED_PRECONDITION with a google.rpc.ErrorInfo whose `reason` is a stable code (in
/// `domain`), so a client can say the refusal in its user's language.
pub fn failed_precondition(message: String, reason: &str, domain: &str) -> Status {
    Status::with_error_details(
        Code::FailedPrecondition,
        message,
        ErrorDetails::with_error_info(reason, domain, std::collections::HashMap::new()),
    )
}

/// The ErrorInfo reason of a status, empty when it has none.
pub fn error_reason(status: &Status) -> String {
    status
        .get_details_error_info()
        .map(|info| info.reason)
        .unwrap_or_default()
}

/// The (field, description) pairs of a status's BadRequest details; for clients and tests.
pub fn bad_request_fields(status: &Status) -> Vec<(String, String)> {
    status
        .get_details_bad_request()
        .map(|b| {
            b.field_violations
                .into_iter()
                .map(|v| (v.field, v.description))
                .collect()
        })
        .unwrap_or_default()
}

/// Server faults are logged where they are mapped; a caller's mistakes are not.
pub fn log_server_fault(status: &Status) {
    match status.code() {
        Code::Internal | Code::Unavailable | Code::DataLoss | Code::Unknown => {
            tracing::error!(code = ?status.code(), message = status.message(), "request failed");
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_lists_every_violation_as_details() {
        let mut v = Violations::new();
        v.add("answers[0].nps.score", "must be 0..10, got 11");
        v.add("context.unit_id", "is required");
        let status = invalid_argument(&v);
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(
            bad_request_fields(&status),
            vec![
                (
                    "answers[0].nps.score".to_owned(),
                    "must be 0..10, got 11".to_owned()
                ),
                ("context.unit_id".to_owned(), "is required".to_owned()),
            ]
        );
        assert!(status.message().contains("answers[0].nps.score"));
    }

    #[test]
    fn failed_precondition_carries_its_reason_code() {
        let status = failed_precondition("closed".into(), "CLOSED", "kaiku.handling");
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(error_reason(&status), "CLOSED");
        assert_eq!(error_reason(&Status::failed_precondition("plain")), "");
    }
}
