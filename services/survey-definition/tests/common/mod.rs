//! The service in-process against a throwaway nats-server, shared by the test files.

use clap::Parser;
use kaiku_eventstore::EventStore;
use kaiku_grpc::{AuthorizedChannel, Shutdown, authorized};
use kaiku_proto::survey::v1::survey_definition_client::SurveyDefinitionClient;
use kaiku_test_support::{NatsServer, TestCredentials};
use survey_definition::{Application, Config};
use tonic::transport::Channel;

pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

pub struct TestApp {
    pub client: SurveyDefinitionClient<AuthorizedChannel>,
    /// The service's address, for clients with other tokens.
    #[allow(dead_code, reason = "each test file uses a part of the common module")]
    pub url: String,
    pub _credentials: TestCredentials,
    pub store: EventStore,
    _nats: NatsServer,
    shutdown: Shutdown,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

#[allow(dead_code, reason = "each test file uses a part of the common module")]
pub async fn spawn_app() -> TestResult<TestApp> {
    Ok(spawn_app_with_keys(&[]).await?.0)
}

/// As `spawn_app`, with more API keys (name, scopes, grant) the service knows; returns them.
pub async fn spawn_app_with_keys(
    keys: &[(&str, &[kaiku_auth::Scope], kaiku_test_support::Grant)],
) -> TestResult<(TestApp, Vec<String>)> {
    let nats = NatsServer::start().await?;
    let credentials = TestCredentials::new()?;
    let mut tokens = Vec::new();
    for (name, scopes, grant) in keys {
        tokens.push(credentials.add(name, scopes, grant.clone())?);
    }
    let keys = credentials.api_keys_file().display().to_string();
    let config = Config::try_parse_from([
        "survey-definition",
        "--listen-addr",
        "127.0.0.1:0",
        "--nats-url",
        &nats.url(),
        "--auth-api-keys",
        &keys,
    ])?;
    let app = Application::build(&config).await?;
    let addr = app.local_addr().ok_or("no address")?;
    let shutdown = Shutdown::new();
    tokio::spawn(app.run(shutdown.clone()));
    let url = format!("http://{addr}");
    let client = SurveyDefinitionClient::new(authorized(
        Channel::from_shared(url.clone())?.connect().await?,
        &credentials.admin_token,
    ));
    let store = EventStore::connect(&nats.url(), "test").await?;
    Ok((
        TestApp {
            client,
            url,
            _credentials: credentials,
            store,
            _nats: nats,
            shutdown,
        },
        tokens,
    ))
}

#[allow(dead_code, reason = "each test file uses a part of the common module")]
impl TestApp {
    /// A client whose calls carry `token`.
    pub async fn client_as(
        &self,
        token: &str,
    ) -> TestResult<SurveyDefinitionClient<AuthorizedChannel>> {
        Ok(SurveyDefinitionClient::new(authorized(
            Channel::from_shared(self.url.clone())?.connect().await?,
            token,
        )))
    }
}
