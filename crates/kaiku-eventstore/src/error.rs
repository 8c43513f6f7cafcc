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
