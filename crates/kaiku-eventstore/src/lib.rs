#![doc = include_str!("../README.md")]

mod append;
mod error;
mod read;
mod streams;

pub use append::{Appended, NewEvent};
pub use error::EventStoreError;
pub use read::StoredEvent;
pub use streams::{
    AUDIT_STREAM, EVENT_TYPE_HEADER, HANDLING_STREAM, PROJECTION_PROGRESS_SUBJECT,
    RESPONSES_STREAM, SURVEYS_STREAM, StreamSettings, audit_stream_config, audit_subject,
    case_subject, handling_stream_config, response_subject, responses_stream_config,
    review_subject, survey_subject, surveys_stream_config, unit_subject,
};

use std::time::Duration;

use async_nats::jetstream;

/// How long to wait for a JetStream acknowledgement or API reply before giving up.
pub const JETSTREAM_TIMEOUT: Duration = Duration::from_secs(5);

/// A NATS user and password; one user per service, with subject permissions for its job.
#[derive(Clone, PartialEq, Eq)]
pub struct NatsLogin {
    pub user: String,
    pub password: String,
}

impl NatsLogin {
    /// The user and password embedded in a NATS URL, if any.
    pub fn from_url(url: &str) -> Option<Self> {
        let address: async_nats::ServerAddr = url.parse().ok()?;
        Some(Self {
            user: address.username()?.to_owned(),
            password: address.password().unwrap_or_default().to_owned(),
        })
    }

    /// Where this user's request replies and consumer deliveries arrive.
    pub fn inbox_prefix(&self) -> String {
        format!("_INBOX_{}", self.user)
    }
}

impl std::fmt::Debug for NatsLogin {
    // The password never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsLogin")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// The URL as it may be logged: any password replaced by `***`.
fn without_password(url: &str) -> String {
    match url.parse::<async_nats::ServerAddr>() {
        Ok(address) if address.password().is_some() => {
            url.replacen(address.password().unwrap_or_default(), "***", 1)
        }
        _ => url.to_owned(),
    }
}

/// A handle on the event store: a NATS connection and its JetStream context. Cheap to clone.
#[derive(Clone)]
pub struct EventStore {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    /// How many times the connection has been (re)established; subscriptions watch it.
    connections: tokio::sync::watch::Receiver<u64>,
}

impl EventStore {
    /// A store on a client whose reconnects it does not see (subscriptions then rely on the
    /// ordered consumer's heartbeats alone); [`EventStore::connect_as`] sees them.
    pub fn new(client: async_nats::Client) -> Self {
        Self::with_connections(client, tokio::sync::watch::channel(0).1)
    }

    fn with_connections(
        client: async_nats::Client,
        connections: tokio::sync::watch::Receiver<u64>,
    ) -> Self {
        let mut jetstream = jetstream::new(client.clone());
        jetstream.set_timeout(JETSTREAM_TIMEOUT);
        Self {
            client,
            jetstream,
            connections,
        }
    }

    pub(crate) fn connections(&self) -> tokio::sync::watch::Receiver<u64> {
        self.connections.clone()
    }

    /// Connects to NATS with a client name that shows in the server's connection list, without
    /// logging in (a server with no users configured).
    pub async fn connect(url: &str, client_name: &str) -> Result<Self, EventStoreError> {
        Self::connect_as(url, client_name, None).await
    }

    /// Connects as one NATS user: `login`, or else the user and password in the URL
    /// (`nats://user:password@host:4222`, which async-nats itself does not use). The user's
    /// replies arrive on its own inbox prefix (`_INBOX_<user>.`), so the server can let each
    /// service subscribe only to its own replies (deploy/nats/users.conf).
    pub async fn connect_as(
        url: &str,
        client_name: &str,
        login: Option<&NatsLogin>,
    ) -> Result<Self, EventStoreError> {
        let login = login.cloned().or_else(|| NatsLogin::from_url(url));
        // Counts (re)connections, so a subscription can start over at once after NATS comes
        // back: its ordered consumer lived on the old server and would otherwise be noticed
        // missing only after missed heartbeats (about 10 s).
        let (connected, connections) = tokio::sync::watch::channel(0u64);
        let connected = std::sync::Arc::new(connected);
        let mut options = async_nats::ConnectOptions::new()
            .name(client_name)
            .connection_timeout(JETSTREAM_TIMEOUT)
            .retry_on_initial_connect()
            .event_callback(move |event| {
                let connected = connected.clone();
                async move {
                    if matches!(event, async_nats::Event::Connected) {
                        connected.send_modify(|count| *count += 1);
                    }
                }
            });
        if let Some(login) = &login {
            options = options
                .user_and_password(login.user.clone(), login.password.clone())
                .custom_inbox_prefix(login.inbox_prefix());
        }
        let client = options
            .connect(url)
            .await
            .map_err(|e| EventStoreError::Connect {
                url: without_password(url),
                reason: e.to_string(),
            })?;
        Ok(Self::with_connections(client, connections))
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

    /// Creates the stream when it does not exist, and never changes an existing one: for a
    /// stream whose configuration only an operator may change (KAIKU_AUDIT).
    pub async fn ensure_stream_exists(
        &self,
        config: jetstream::stream::Config,
    ) -> Result<(), EventStoreError> {
        let name = config.name.clone();
        self.jetstream
            .get_or_create_stream(config)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_in_the_url_is_used_and_never_shown() {
        let url = "nats://projection:s3cret@nats:4222";
        let login = NatsLogin::from_url(url).expect("a login");
        assert_eq!(login.user, "projection");
        assert_eq!(login.password, "s3cret");
        assert_eq!(login.inbox_prefix(), "_INBOX_projection");
        assert!(!format!("{login:?}").contains("s3cret"));
        assert_eq!(without_password(url), "nats://projection:***@nats:4222");
        assert_eq!(NatsLogin::from_url("nats://nats:4222"), None);
        assert_eq!(without_password("nats://nats:4222"), "nats://nats:4222");
    }
}
