use async_nats::HeaderMap;
use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::consumer::push::OrderedConfig;
use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};

use crate::{EVENT_TYPE_HEADER, EventStore, EventStoreError, JETSTREAM_TIMEOUT};

/// An event as read back from a stream.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub stream_sequence: u64,
    /// Matching events still to come after this one when it was delivered (0 = caught up);
    /// 0 for events fetched by sequence.
    pub pending: u64,
    pub subject: String,
    pub headers: Option<HeaderMap>,
    pub payload: Bytes,
}

impl StoredEvent {
    pub fn event_type(&self) -> Option<&str> {
        self.headers
            .as_ref()
            .and_then(|h| h.get(EVENT_TYPE_HEADER))
            .map(|v| v.as_str())
    }
}

impl EventStore {
    /// The stream's handle; `what` names the read in an error.
    async fn stream_handle(
        &self,
        stream: &str,
        what: &str,
    ) -> Result<async_nats::jetstream::stream::Stream, EventStoreError> {
        self.jetstream
            .get_stream(stream)
            .await
            .map_err(|e| read_error(what, e))
    }

    /// The last sequence stored in a stream (0 when empty).
    pub async fn last_sequence(&self, stream: &str) -> Result<u64, EventStoreError> {
        let info = self
            .stream_handle(stream, stream)
            .await?
            .get_info()
            .await
            .map_err(|e| read_error(stream, e))?;
        Ok(info.state.last_sequence)
    }

    /// One stored event by its sequence.
    pub async fn get(&self, stream: &str, sequence: u64) -> Result<StoredEvent, EventStoreError> {
        let what = format!("{stream} sequence {sequence}");
        let handle = self.stream_handle(stream, &what).await?;
        let message = handle.get_raw_message(sequence).await.map_err(|e| {
            if matches!(
                e.kind(),
                async_nats::jetstream::stream::RawMessageErrorKind::NoMessageFound
            ) {
                EventStoreError::NotFound { what: what.clone() }
            } else {
                read_error(&what, e)
            }
        })?;
        Ok(StoredEvent {
            stream_sequence: message.sequence,
            pending: 0,
            subject: message.subject.to_string(),
            headers: Some(message.headers),
            payload: message.payload,
        })
    }

    /// Deletes one event with secure erase: the server overwrites its bytes in the store with
    /// random data (JetStream's default for a message delete; `no_erase` would only mark it).
    /// Only the stream's owner may (deploy/nats/users.conf).
    pub async fn erase(&self, stream: &str, sequence: u64) -> Result<(), EventStoreError> {
        let what = format!("{stream} sequence {sequence}");
        let handle = self.stream_handle(stream, &what).await?;
        match handle.delete_message(sequence).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(EventStoreError::NotFound { what }),
            Err(e) if names_a_missing_message(&e) => Err(EventStoreError::NotFound { what }),
            Err(e) => Err(EventStoreError::Erase {
                what,
                reason: e.to_string(),
            }),
        }
    }

    /// Every event matching `filter_subject` (one aggregate's subject, or a wildcard), in order,
    /// up to what the stream held when the call began; it ends even while others keep appending.
    pub async fn read_all(
        &self,
        stream: &str,
        filter_subject: &str,
    ) -> Result<Vec<StoredEvent>, EventStoreError> {
        self.read_page(stream, filter_subject, 1, usize::MAX).await
    }

    /// At most `max` events matching `filter_subject`, in order, from `start_sequence` on, up to
    /// what the stream held when the call began: a bounded page for a job that walks a large
    /// stream a piece at a time (the retention sweep). Empty when nothing matches from there.
    pub async fn read_page(
        &self,
        stream: &str,
        filter_subject: &str,
        start_sequence: u64,
        max: usize,
    ) -> Result<Vec<StoredEvent>, EventStoreError> {
        let (pending, events) = self
            .open(stream, Some(filter_subject), start_sequence)
            .await?;
        let mut out = Vec::new();
        if pending == 0 || max == 0 {
            return Ok(out);
        }
        futures::pin_mut!(events);
        loop {
            let event = match tokio::time::timeout(JETSTREAM_TIMEOUT, events.next()).await {
                Err(_) => {
                    return Err(EventStoreError::ReadTimeout {
                        what: filter_subject.to_owned(),
                        waited: JETSTREAM_TIMEOUT,
                    });
                }
                Ok(None) => return Err(read_error(filter_subject, "consumer ended early")),
                Ok(Some(event)) => event?,
            };
            let caught_up = event.pending == 0;
            out.push(event);
            if caught_up || out.len() >= max {
                return Ok(out);
            }
        }
    }

    /// An endless, ordered stream of events from `start_sequence` on (1 = from the beginning),
    /// optionally of one subject filter. Backed by an ordered consumer, which recreates itself
    /// after a gap, so no event is skipped or repeated. When the connection is re-established
    /// (NATS restarted) the stream yields one error and ends: the caller subscribes again from
    /// the last event it applied, at once instead of after the consumer's missed heartbeats.
    pub async fn subscribe(
        &self,
        stream: &str,
        filter_subject: Option<&str>,
        start_sequence: u64,
    ) -> Result<impl Stream<Item = Result<StoredEvent, EventStoreError>> + use<>, EventStoreError>
    {
        let mut connections = self.connections();
        connections.borrow_and_update();
        let events = self.open(stream, filter_subject, start_sequence).await?.1;
        let what = stream.to_owned();
        let reconnected = futures::stream::once(async move {
            if connections.changed().await.is_err() {
                // The client is gone; its stream ends by itself.
                futures::future::pending::<()>().await;
            }
            Err(read_error(&what, "reconnected to NATS; subscribe again"))
        });
        Ok(futures::stream::select(events, reconnected))
    }

    /// Opens an ordered consumer; also returns how many matching events were pending at creation.
    async fn open(
        &self,
        stream: &str,
        filter_subject: Option<&str>,
        start_sequence: u64,
    ) -> Result<
        (
            u64,
            impl Stream<Item = Result<StoredEvent, EventStoreError>> + use<>,
        ),
        EventStoreError,
    > {
        let handle = self.stream_handle(stream, stream).await?;
        let deliver_policy = if start_sequence <= 1 {
            DeliverPolicy::All
        } else {
            DeliverPolicy::ByStartSequence { start_sequence }
        };
        let consumer = handle
            .create_consumer(OrderedConfig {
                deliver_subject: self.client.new_inbox(),
                filter_subject: filter_subject.unwrap_or_default().to_owned(),
                deliver_policy,
                // async-nats sets idle heartbeats on ordered consumers itself, so a stalled
                // delivery is noticed and the consumer recreated from the last sequence seen.
                ..Default::default()
            })
            .await
            .map_err(|e| read_error(stream, e))?;
        let pending = consumer.cached_info().num_pending;
        let what = stream.to_owned();
        let messages = consumer
            .messages()
            .await
            .map_err(|e| read_error(stream, e))?;
        let events =
            messages
                .map_err(move |e| read_error(&what, e))
                .and_then(|message| async move {
                    let info = message
                        .info()
                        .map_err(|e| read_error("message metadata", e))?;
                    let (stream_sequence, pending) = (info.stream_sequence, info.pending);
                    let message = message.message;
                    Ok(StoredEvent {
                        stream_sequence,
                        pending,
                        subject: message.subject.to_string(),
                        headers: message.headers,
                        payload: message.payload,
                    })
                });
        Ok((pending, events))
    }
}

fn read_error(what: &str, e: impl std::fmt::Display) -> EventStoreError {
    EventStoreError::Read {
        what: what.to_owned(),
        reason: e.to_string(),
    }
}

/// Whether JetStream refused a delete because the message is not there (already deleted, or
/// never stored): the server answers with an error rather than `success: false`, as "sequence
/// not found" or as a failed delete whose reason is "no message found" (nats-server 2.9-2.12).
fn names_a_missing_message(error: &async_nats::jetstream::stream::DeleteMessageError) -> bool {
    use async_nats::jetstream::ErrorCode;
    use async_nats::jetstream::stream::DeleteMessageErrorKind;
    match error.kind() {
        DeleteMessageErrorKind::JetStream(error) => {
            let code = error.error_code();
            code == ErrorCode::SEQUENCE_NOT_FOUND
                || code == ErrorCode::NO_MESSAGE_FOUND
                || (code == ErrorCode::STREAM_MESSAGE_DELETE_FAILED
                    && error.to_string().contains("not found"))
        }
        _ => false,
    }
}
