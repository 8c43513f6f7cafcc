use std::pin::Pin;

use futures::{Stream, StreamExt};
use kaiku_proto::intake::v1::{
    FieldError, SubmissionError, SubmitResponseReply, SubmitResponseRequest, SubmitResponsesItem,
    response_intake_server::ResponseIntake, submit_responses_item::Outcome,
};
use tonic::{Request, Response, Status, Streaming};

use crate::intake::Intake;

/// How many submissions of one stream are in flight at once.
const STREAM_IN_FLIGHT: usize = 32;

pub struct ResponseIntakeService {
    intake: Intake,
}

impl ResponseIntakeService {
    pub fn new(intake: Intake) -> Self {
        Self { intake }
    }
}

type ItemStream = Pin<Box<dyn Stream<Item = Result<SubmitResponsesItem, Status>> + Send>>;

#[tonic::async_trait]
impl ResponseIntake for ResponseIntakeService {
    #[tracing::instrument(skip_all, fields(survey_id = %request.get_ref().survey_id))]
    async fn submit_response(
        &self,
        request: Request<SubmitResponseRequest>,
    ) -> Result<Response<SubmitResponseReply>, Status> {
        let reply = self.intake.submit(request.get_ref()).await?;
        Ok(Response::new(reply))
    }

    type SubmitResponsesStream = ItemStream;

    /// One reply per submission, in the order sent; a rejected submission does not end the
    /// stream. Up to STREAM_IN_FLIGHT submissions of one stream are appended concurrently, so a
    /// batch is not paced by one JetStream acknowledgement round trip per response (the order
    /// of their sequences may then differ from the order sent).
    async fn submit_responses(
        &self,
        request: Request<Streaming<SubmitResponseRequest>>,
    ) -> Result<Response<Self::SubmitResponsesStream>, Status> {
        let intake = self.intake.clone();
        let replies = request.into_inner().map(move |item| {
            let intake = intake.clone();
            async move {
                let request = item?;
                let outcome = match intake.submit(&request).await {
                    Ok(reply) => Outcome::Accepted(reply),
                    Err(error) => {
                        let status = Status::from(error);
                        Outcome::Rejected(SubmissionError {
                            code: status.code() as i32,
                            message: status.message().to_owned(),
                            field_errors: kaiku_grpc::bad_request_fields(&status)
                                .into_iter()
                                .map(|(field, description)| FieldError { field, description })
                                .collect(),
                        })
                    }
                };
                Ok(SubmitResponsesItem {
                    submission_id: request.submission_id,
                    outcome: Some(outcome),
                })
            }
        });
        let replies = replies.buffered(STREAM_IN_FLIGHT);
        Ok(Response::new(Box::pin(replies)))
    }
}
