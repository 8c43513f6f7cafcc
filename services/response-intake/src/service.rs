use std::pin::Pin;

use futures::{Stream, StreamExt};
use kaiku_proto::intake::v1::{
    ErasureReason, FieldError, RedactResponseReply, RedactResponseRequest, SubmissionError,
    SubmitResponseReply, SubmitResponseRequest, SubmitResponsesItem,
    response_intake_server::ResponseIntake, submit_responses_item::Outcome,
};
use tonic::{Request, Response, Status, Streaming};

use crate::intake::Intake;

/// How many submissions of one stream are in flight at once.
const STREAM_IN_FLIGHT: usize = 32;

pub struct ResponseIntakeService {
    intake: Intake,
    metrics: crate::IntakeMetrics,
}

impl ResponseIntakeService {
    pub fn new(intake: Intake, metrics: crate::IntakeMetrics) -> Self {
        Self { intake, metrics }
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
        let submitted = match may_submit(kaiku_auth::principal(&request), request.get_ref()) {
            Ok(()) => self
                .intake
                .submit(request.get_ref())
                .await
                .map_err(Status::from),
            Err(denied) => Err(denied),
        };
        self.metrics.record(&submitted);
        submitted.map(Response::new)
    }

    /// The method policy lets survey admins and feedback handlers here; the response's unit
    /// must be in the caller's grant.
    #[tracing::instrument(skip_all, fields(survey_id = %request.get_ref().survey_id, sequence = request.get_ref().sequence))]
    async fn redact_response(
        &self,
        request: Request<RedactResponseRequest>,
    ) -> Result<Response<RedactResponseReply>, Status> {
        // On record before any check, so a refused erasure names what it was about too.
        let asked = request.get_ref();
        kaiku_grpc::audit_erasure(
            &request,
            &asked.survey_id,
            kaiku_grpc::Erasure {
                // A code a person may not give (RETENTION) is on record only from the sweep.
                reason: ErasureReason::try_from(asked.reason)
                    .ok()
                    .filter(|r| kaiku_domain::erasure::REQUESTABLE_REASONS.contains(r))
                    .unwrap_or_default(),
                response_sequences: vec![asked.sequence],
            },
        );
        let caller = kaiku_auth::principal(&request)
            .cloned()
            .ok_or_else(|| Status::unauthenticated("no caller"))?;
        let target = kaiku_domain::erasure::parse_erasure(request.get_ref())
            .map_err(crate::IntakeError::from)?;
        let reply = self.intake.redact(&target, &caller).await?;
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
        let metrics = self.metrics.clone();
        let caller = kaiku_auth::principal(&request).cloned();
        let replies = request.into_inner().map(move |item| {
            let intake = intake.clone();
            let caller = caller.clone();
            let metrics = metrics.clone();
            async move {
                let request = item?;
                let submitted = match may_submit(caller.as_ref(), &request) {
                    Ok(()) => intake.submit(&request).await.map_err(Status::from),
                    Err(denied) => Err(denied),
                };
                metrics.record(&submitted);
                let outcome = match submitted {
                    Ok(reply) => Outcome::Accepted(reply),
                    Err(status) => Outcome::Rejected(SubmissionError {
                        code: status.code() as i32,
                        message: status.message().to_owned(),
                        field_errors: kaiku_grpc::bad_request_fields(&status)
                            .into_iter()
                            .map(|(field, description)| FieldError { field, description })
                            .collect(),
                    }),
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

/// The caller's grant covers this submission's survey and channel (the layer has checked the
/// scope; the content is checked here, per submission).
fn may_submit(
    caller: Option<&kaiku_auth::Principal>,
    request: &SubmitResponseRequest,
) -> Result<(), Status> {
    let caller = caller.ok_or_else(|| Status::unauthenticated("no caller"))?;
    let channel = request
        .context
        .as_ref()
        .map(|c| kaiku_domain::codes::channel_code_of(c.channel))
        .unwrap_or("unspecified");
    caller
        .may_submit(&request.survey_id, channel)
        .map_err(|denied| Status::from(&denied))
}
