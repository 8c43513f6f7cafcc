use async_nats::HeaderMap;
use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;
use tracing::Instrument;

use crate::{EVENT_TYPE_HEADER, EventStore, EventStoreError};

/// One event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub subject: String,
    /// Nats-Msg-Id: the event id, or for responses the caller's submission id, so a retried
    /// append within the duplicate window is stored once.
    pub message_id: String,
    pub event_type: &'static str,
    pub payload: Bytes,
    /// For aggregate writes: the subject's last sequence the decision was based on (0 = the
    /// subject must be empty). A mismatch is `WrongExpectedSequence`, never a lost update.
    pub expected_last_subject_sequence: Option<u64>,
}

/// Where an acknowledged event is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub sequence: u64,
    /// True when JetStream recognised the message id and stored nothing new; `sequence` is then
    /// the original's.
    pub duplicate: bool,
}

impl EventStore {
    /// Appends and waits for JetStream's acknowledgement: when this returns Ok the event is
    /// durable in the stream.
    pub async fn append(&self, event: NewEvent) -> Result<Appended, EventStoreError> {
        let span = tracing::info_span!(
            "eventstore.append",
            otel.kind = "producer",
            messaging.system = "nats",
            messaging.destination = %event.subject,
            kaiku.event_type = event.event_type,
        );
        self.append_inner(event).instrument(span).await
    }

    async fn append_inner(&self, event: NewEvent) -> Result<Appended, EventStoreError> {
        let mut headers = HeaderMap::new();
        headers.insert(EVENT_TYPE_HEADER, event.event_type);
        kaiku_telemetry::inject_into_nats_headers(&mut headers);
        let size = event.payload.len();
        // headers() replaces the whole map, so it goes before message_id() and the expectation.
        let mut message = PublishMessage::build()
            .payload(event.payload)
            .headers(headers)
            .message_id(&event.message_id);
        if let Some(expected) = event.expected_last_subject_sequence {
            message = message.expected_last_subject_sequence(expected);
        }
        let subject = event.subject;
        let map_err = |kind: PublishErrorKind, reason: String| match kind {
            PublishErrorKind::WrongLastSequence => EventStoreError::WrongExpectedSequence {
                subject: subject.clone(),
                expected: event.expected_last_subject_sequence.unwrap_or_default(),
            },
            PublishErrorKind::MaxPayloadExceeded => EventStoreError::TooLarge { size },
            _ if crate::error::is_store_full(&reason) => EventStoreError::StoreFull {
                subject: subject.clone(),
                reason,
            },
            _ => EventStoreError::Append {
                subject: subject.clone(),
                reason,
            },
        };
        let ack_future = self
            .jetstream
            .send_publish(subject.clone(), message)
            .await
            .map_err(|e| map_err(e.kind(), e.to_string()))?;
        let ack = ack_future
            .await
            .map_err(|e| map_err(e.kind(), e.to_string()))?;
        Ok(Appended {
            sequence: ack.sequence,
            duplicate: ack.duplicate,
        })
    }
}
