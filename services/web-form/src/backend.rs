//! The gRPC services behind the web form: survey-definition resolves forms, response-intake
//! stores answers. Channels connect lazily and reconnect by themselves, so the web form starts
//! (and serves its error pages) even while those services are still starting.

use std::time::Duration;

use futures::StreamExt;
use kaiku_grpc::{AuthorizedChannel, authorized};
use kaiku_proto::intake::v1::response_intake_client::ResponseIntakeClient;
use kaiku_proto::intake::v1::{
    ResponseContext, SubmitResponseReply, SubmitResponseRequest, SubmitResponsesItem,
};
use kaiku_proto::survey::v1::survey_definition_client::SurveyDefinitionClient;
use kaiku_proto::survey::v1::{GetFormRequest, GetFormResponse};
use tonic::transport::Endpoint;

use crate::error::WebError;

#[derive(Clone)]
pub struct Backend {
    surveys: SurveyDefinitionClient<AuthorizedChannel>,
    intake: ResponseIntakeClient<AuthorizedChannel>,
}

impl Backend {
    /// `token`: the web form's own API key (submit scope, bound to its surveys and channels).
    pub fn connect_lazy(
        survey_definition_url: &str,
        intake_url: &str,
        token: &str,
    ) -> Result<Self, WebError> {
        let endpoint = |url: &str| {
            Endpoint::from_shared(url.to_owned())
                .map(|e| {
                    e.connect_timeout(Duration::from_secs(5))
                        .timeout(Duration::from_secs(15))
                        .tcp_nodelay(true)
                })
                .map_err(|e| WebError::Config(format!("{url:?} is not a valid URL: {e}")))
        };
        Ok(Backend {
            surveys: SurveyDefinitionClient::new(authorized(
                endpoint(survey_definition_url)?.connect_lazy(),
                token,
            )),
            intake: ResponseIntakeClient::new(authorized(
                endpoint(intake_url)?.connect_lazy(),
                token,
            )),
        })
    }

    /// The form for `context`, latest published version.
    pub async fn form(
        &self,
        survey_id: &str,
        context: &ResponseContext,
    ) -> Result<GetFormResponse, tonic::Status> {
        self.surveys
            .clone()
            .get_form(GetFormRequest {
                survey_id: survey_id.to_owned(),
                survey_version: 0,
                context: Some(context.clone()),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn submit(
        &self,
        request: SubmitResponseRequest,
    ) -> Result<SubmitResponseReply, tonic::Status> {
        self.intake
            .clone()
            .submit_response(request)
            .await
            .map(tonic::Response::into_inner)
    }

    /// Many submissions through one streaming call; one outcome per submission, in order.
    pub async fn submit_batch(
        &self,
        requests: Vec<SubmitResponseRequest>,
    ) -> Result<Vec<SubmitResponsesItem>, tonic::Status> {
        let expected = requests.len();
        let mut replies = self
            .intake
            .clone()
            .submit_responses(futures::stream::iter(requests))
            .await?
            .into_inner();
        let mut items = Vec::with_capacity(expected);
        while let Some(item) = replies.next().await {
            items.push(item?);
        }
        if items.len() != expected {
            return Err(tonic::Status::internal(format!(
                "intake answered {} of {expected} submissions",
                items.len()
            )));
        }
        Ok(items)
    }
}
