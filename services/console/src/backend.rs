//! survey-definition, analytics, feedback-handling and response-intake as the signed-in person sees them: one lazily connected
//! channel per service, shared, and per page a client carrying that person's service token.

use std::time::Duration;

use kaiku_grpc::{AuthorizedChannel, authorized};
use kaiku_proto::analytics::v1::analytics_client::AnalyticsClient;
use kaiku_proto::handling::v1::feedback_handling_client::FeedbackHandlingClient;
use kaiku_proto::intake::v1::response_intake_client::ResponseIntakeClient;
use kaiku_proto::survey::v1::survey_definition_client::SurveyDefinitionClient;
use tonic::transport::{Channel, Endpoint};

use crate::error::ConsoleError;
use crate::session::Staff;
use crate::tokens::TokenSigner;

pub struct Backend {
    surveys: Channel,
    analytics: Channel,
    handling: Channel,
    intake: Channel,
    signer: TokenSigner,
}

/// The clients of one request, all carrying the same person's token.
pub struct Clients {
    pub surveys: SurveyDefinitionClient<AuthorizedChannel>,
    pub analytics: AnalyticsClient<AuthorizedChannel>,
    pub handling: FeedbackHandlingClient<AuthorizedChannel>,
    /// Only for erasing a response's open texts (RedactResponse).
    pub intake: ResponseIntakeClient<AuthorizedChannel>,
}

fn lazy_channel(url: &str) -> Result<Channel, ConsoleError> {
    Endpoint::from_shared(url.to_owned())
        .map(|e| {
            e.connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(30))
                .tcp_nodelay(true)
                .connect_lazy()
        })
        .map_err(|e| ConsoleError::Config(format!("{url:?} is not a valid URL: {e}")))
}

impl Backend {
    pub fn new(
        survey_definition_url: &str,
        analytics_url: &str,
        handling_url: &str,
        intake_url: &str,
        signer: TokenSigner,
    ) -> Result<Backend, ConsoleError> {
        Ok(Backend {
            surveys: lazy_channel(survey_definition_url)?,
            analytics: lazy_channel(analytics_url)?,
            handling: lazy_channel(handling_url)?,
            intake: lazy_channel(intake_url)?,
            signer,
        })
    }

    pub fn clients(&self, staff: &Staff) -> Result<Clients, ConsoleError> {
        let token = self.signer.sign(staff)?;
        Ok(Clients {
            surveys: SurveyDefinitionClient::new(authorized(self.surveys.clone(), &token)),
            analytics: AnalyticsClient::new(authorized(self.analytics.clone(), &token)),
            handling: FeedbackHandlingClient::new(authorized(self.handling.clone(), &token)),
            intake: ResponseIntakeClient::new(authorized(self.intake.clone(), &token)),
        })
    }
}
