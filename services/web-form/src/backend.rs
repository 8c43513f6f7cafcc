//! The gRPC services behind the web form: survey-definition resolves forms, response-intake
//! stores answers, feedback-handling takes feedback that asks for a reply (clients from `kaiku_grpc::AdapterSettings`, connecting lazily).

use futures::StreamExt;
use kaiku_grpc::AuthorizedChannel;
use kaiku_proto::handling::v1::feedback_handling_client::FeedbackHandlingClient;
use kaiku_proto::handling::v1::{Case, OpenCaseRequest};
use kaiku_proto::intake::v1::response_intake_client::ResponseIntakeClient;
use kaiku_proto::intake::v1::{
    ResponseContext, SubmitResponseReply, SubmitResponseRequest, SubmitResponsesItem,
};
use kaiku_proto::survey::v1::survey_definition_client::SurveyDefinitionClient;
use kaiku_proto::survey::v1::{GetFormRequest, GetFormResponse};

#[derive(Clone)]
pub struct Backend {
    surveys: SurveyDefinitionClient<AuthorizedChannel>,
    intake: ResponseIntakeClient<AuthorizedChannel>,
    handling: Option<FeedbackHandlingClient<AuthorizedChannel>>,
}

impl Backend {
    pub fn new(clients: kaiku_grpc::AdapterClients) -> Self {
        Backend {
            surveys: clients.surveys,
            intake: clients.intake,
            handling: clients.handling,
        }
    }

    /// Whether feedback that asks for a reply can be taken (KAIKU_HANDLING_URL is set).
    pub fn takes_cases(&self) -> bool {
        self.handling.is_some()
    }

    /// Opens a feedback-handling case: a contact request or free-form feedback.
    pub async fn open_case(&self, request: OpenCaseRequest) -> Result<Case, tonic::Status> {
        let Some(handling) = &self.handling else {
            return Err(tonic::Status::unavailable("no KAIKU_HANDLING_URL"));
        };
        handling
            .clone()
            .open_case(request)
            .await?
            .into_inner()
            .case
            .ok_or_else(|| tonic::Status::internal("OpenCase answered without the case"))
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
