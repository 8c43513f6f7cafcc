use thiserror::Error;

/// What went wrong talking to JetStream. Everything but `WrongExpectedSequence` is an
/// infrastructure failure the caller reports as UNAVAILABLE or INTERNAL.
#[derive(Debug, Error)]
pub enum EventStoreError {
    #[error("cannot connect to NATS at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("stream {stream}: {reason}")]
    Stream { stream: String, reason: String },
    /// Another writer appended to the subject since the caller read it (optimistic concurrency).
    #[error("{subject} has moved past the expected sequence {expected}")]
    WrongExpectedSequence { subject: String, expected: u64 },
    #[error("append to {subject} was not acknowledged: {reason}")]
    Append { subject: String, reason: String },
    /// JetStream refused to store: the stream reached a limit or the server's store is out of
    /// space. Retrying does not help until an operator makes room; nothing was stored.
    #[error("append to {subject} refused, the event store is full: {reason}")]
    StoreFull { subject: String, reason: String },
    #[error("event of {size} bytes is larger than the server allows")]
    TooLarge { size: usize },
    #[error("reading {what}: {reason}")]
    Read { what: String, reason: String },
    /// No event at that sequence: never stored, or deleted.
    #[error("{what}: no such event (never stored, or erased)")]
    NotFound { what: String },
    #[error("erasing {what}: {reason}")]
    Erase { what: String, reason: String },
    #[error("reading {what}: no message for {waited:?}")]
    ReadTimeout {
        what: String,
        waited: std::time::Duration,
    },
}

/// How nats-server words a refusal for want of room (stream limits with discard new, or the
/// server's or account's JetStream storage), in the errors of 2.9 to 2.12.
const STORE_FULL_REASONS: [&str; 5] = [
    "maximum bytes exceeded",
    "maximum messages exceeded",
    "insufficient storage",
    "insufficient resources",
    "resource limits exceeded",
];

/// True when a publish error's text says the store had no room.
pub fn is_store_full(reason: &str) -> bool {
    let reason = reason.to_ascii_lowercase();
    STORE_FULL_REASONS.iter().any(|r| reason.contains(r))
}

impl EventStoreError {
    /// True for failures that a retry may fix (connection, timeouts).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            EventStoreError::Connect { .. }
                | EventStoreError::Append { .. }
                | EventStoreError::ReadTimeout { .. }
                | EventStoreError::Read { .. }
                | EventStoreError::Erase { .. }
                | EventStoreError::Stream { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_full_refusals_are_told_from_other_publish_failures() {
        assert!(is_store_full(
            "jetstream error: maximum bytes exceeded (code 503, error code 10077)"
        ));
        assert!(is_store_full(
            "insufficient storage resources available (code 500, error code 10047)"
        ));
        assert!(!is_store_full("timed out: didn't receive ack in time"));
        assert!(!is_store_full("no stream found for given subject"));
    }
}
