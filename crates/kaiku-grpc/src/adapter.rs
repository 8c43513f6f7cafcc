//! What every channel adapter (web-form, sms-gateway) takes from its environment: where
//! survey-definition, response-intake and feedback-handling are, its own API key for them, and logging and trace
//! export; and the clients built from it.

use std::time::Duration;

use kaiku_proto::handling::v1::feedback_handling_client::FeedbackHandlingClient;
use kaiku_proto::intake::v1::response_intake_client::ResponseIntakeClient;
use kaiku_proto::survey::v1::survey_definition_client::SurveyDefinitionClient;
use kaiku_telemetry::TelemetryConfig;
use tonic::transport::Endpoint;

use crate::{AuthorizedChannel, authorized};

#[derive(Debug, Clone, clap::Args)]
pub struct AdapterSettings {
    /// survey-definition's gRPC address.
    #[arg(
        long,
        env = "KAIKU_SURVEY_DEFINITION_URL",
        default_value = "http://127.0.0.1:50051"
    )]
    pub survey_definition_url: String,

    /// response-intake's gRPC address.
    #[arg(
        long,
        env = "KAIKU_INTAKE_URL",
        default_value = "http://127.0.0.1:50052"
    )]
    pub intake_url: String,

    /// feedback-handling's gRPC address, for feedback that asks for a reply (the web form's
    /// contact requests and feedback page); unset = the adapter offers none.
    #[arg(long, env = "KAIKU_HANDLING_URL")]
    pub handling_url: Option<String>,

    /// This adapter's API key for survey-definition and response-intake (submit scope).
    #[arg(long, env = "KAIKU_SERVICE_TOKEN", hide_env_values = true)]
    pub service_token: String,

    #[command(flatten)]
    pub telemetry: crate::TelemetrySettings,
}

/// The services a channel adapter calls, with its token on every call.
pub struct AdapterClients {
    pub surveys: SurveyDefinitionClient<AuthorizedChannel>,
    pub intake: ResponseIntakeClient<AuthorizedChannel>,
    pub handling: Option<FeedbackHandlingClient<AuthorizedChannel>>,
}

impl AdapterSettings {
    pub fn telemetry(&self, service_name: &str) -> TelemetryConfig {
        self.telemetry.config(service_name)
    }

    /// Clients that connect lazily and reconnect by themselves, so the adapter starts (and
    /// serves its own error pages) while those services are still starting.
    pub fn clients(&self) -> Result<AdapterClients, String> {
        let channel = |url: &str| {
            Endpoint::from_shared(url.to_owned())
                .map(|e| {
                    e.connect_timeout(Duration::from_secs(5))
                        .timeout(Duration::from_secs(15))
                        .tcp_nodelay(true)
                })
                .map(|e| authorized(e.connect_lazy(), &self.service_token))
                .map_err(|e| format!("{url:?} is not a valid URL: {e}"))
        };
        Ok(AdapterClients {
            surveys: SurveyDefinitionClient::new(channel(&self.survey_definition_url)?),
            intake: ResponseIntakeClient::new(channel(&self.intake_url)?),
            handling: self
                .handling_url
                .as_deref()
                .map(channel)
                .transpose()?
                .map(FeedbackHandlingClient::new),
        })
    }
}
