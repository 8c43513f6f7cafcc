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

pub async fn spawn_app() -> TestResult<TestApp> {
    let nats = NatsServer::start().await?;
    let credentials = TestCredentials::new()?;
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
    let client = SurveyDefinitionClient::new(authorized(
        Channel::from_shared(format!("http://{addr}"))?
            .connect()
            .await?,
        &credentials.admin_token,
    ));
    let store = EventStore::connect(&nats.url(), "test").await?;
    Ok(TestApp {
        client,
        _credentials: credentials,
        store,
        _nats: nats,
        shutdown,
    })
}
