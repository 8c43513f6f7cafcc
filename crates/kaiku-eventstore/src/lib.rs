#![doc = include_str!("../README.md")]

mod append;
mod error;
mod read;
mod streams;

pub use append::{Appended, NewEvent};
pub use error::EventStoreError;
pub use read::StoredEvent;
pub use streams::{
    EVENT_TYPE_HEADER, PROJECTION_PROGRESS_SUBJECT, RESPONSES_STREAM, SURVEYS_STREAM,
    StreamSettings, response_subject, responses_stream_config, survey_subject,
    surveys_stream_config, unit_subject,
};

use std::time::Duration;

use async_nats::jetstream;

/// How long to wait for a JetStream acknowledgement or API reply before giving up.
pub const JETSTREAM_TIMEOUT: Duration = Duration::from_secs(5);

/// A handle on the event store: a NATS connection and its JetStream context. Cheap to clone.
#[derive(Clone)]
pub struct EventStore {
    client: async_nats::Client,
    jetstream: jetstream::Context,
}

impl EventStore {
    pub fn new(client: async_nats::Client) -> Self {
        let mut jetstream = jetstream::new(client.clone());
        jetstream.set_timeout(JETSTREAM_TIMEOUT);
        Self { client, jetstream }
    }

    /// Connects to NATS with a client name that shows in the server's connection list.
    pub async fn connect(url: &str, client_name: &str) -> Result<Self, EventStoreError> {
        let client = async_nats::ConnectOptions::new()
            .name(client_name)
            .connection_timeout(JETSTREAM_TIMEOUT)
            .retry_on_initial_connect()
            .connect(url)
            .await
            .map_err(|e| EventStoreError::Connect {
                url: url.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Self::new(client))
    }

    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// Creates the stream, or updates its configuration to `config`; safe to call at every
    /// start-up by the service that owns the stream.
    pub async fn ensure_stream(
        &self,
        config: jetstream::stream::Config,
    ) -> Result<(), EventStoreError> {
        let name = config.name.clone();
        self.jetstream
            .create_or_update_stream(config)
            .await
            .map(|_| ())
            .map_err(|e| EventStoreError::Stream {
                stream: name,
                reason: e.to_string(),
            })
    }

    /// True when the NATS connection is up; for readiness checks.
    pub fn is_connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }
}
