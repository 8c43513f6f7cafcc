//! The submit path shared by the unary and the streaming RPC: validate against the catalogue,
//! append, reply after the JetStream ack.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use kaiku_domain::catalogue::PublishedForm;
use kaiku_domain::erasure::{ErasureTarget, without_open_texts};
use kaiku_domain::submission::{accept_with, is_same_response, parse_target, resolve_form};
use kaiku_eventstore::{EventStore, NewEvent, RESPONSES_STREAM, response_subject};
use kaiku_proto::events::v1::{
    ResponseEvent, ResponseRedacted, ResponseSubmitted, response_event::Kind,
};
use kaiku_proto::intake::v1::answer::Value;
use kaiku_proto::intake::v1::{RedactResponseReply, SubmitResponseReply, SubmitResponseRequest};
use prost::Message;

use crate::IntakeError;
use crate::catalogue_follower::CatalogueHandle;
use crate::names::PersonNames;

pub const RESPONSE_SUBMITTED: &str = "ResponseSubmitted";
pub const RESPONSE_REDACTED: &str = "ResponseRedacted";

#[derive(Clone)]
pub struct Intake {
    store: EventStore,
    catalogue: CatalogueHandle,
    metrics: crate::IntakeMetrics,
    names: Arc<PersonNames>,
}

impl Intake {
    pub fn new(
        store: EventStore,
        catalogue: CatalogueHandle,
        metrics: crate::IntakeMetrics,
        names: Arc<PersonNames>,
    ) -> Self {
        Self {
            store,
            catalogue,
            metrics,
            names,
        }
    }

    pub async fn submit(
        &self,
        request: &SubmitResponseRequest,
    ) -> Result<SubmitResponseReply, IntakeError> {
        let target = parse_target(request)?;
        let mut lookup = self.catalogue.lookup(target.survey_id, target.version);
        if lookup.may_be_stale() {
            self.catalogue.catch_up().await?;
            lookup = self.catalogue.lookup(target.survey_id, target.version);
        }
        let form = resolve_form(target.survey_id, target.version, lookup)?;
        let received_at = Utc::now();
        let submitted = match self.accept(form, request, received_at).await {
            // A unit created moments ago may not have reached this catalogue yet: catch up
            // once and judge again before refusing the unit.
            Err(IntakeError::Invalid(violations))
                if violations.fields().contains(&"context.unit_id") =>
            {
                self.catalogue.catch_up().await?;
                let lookup = self.catalogue.lookup(target.survey_id, target.version);
                let form = resolve_form(target.survey_id, target.version, lookup)?;
                self.accept(form, request, received_at).await?
            }
            other => other?,
        };
        let event = ResponseEvent {
            event_id: target.submission_id.to_string(),
            survey_id: target.survey_id.to_string(),
            occurred_at: Some(kaiku_domain::time::to_timestamp(received_at)),
            kind: Some(Kind::Submitted(submitted.clone())),
        };
        let publishing = std::time::Instant::now();
        let appended = self
            .store
            .append(NewEvent {
                subject: response_subject(target.survey_id),
                message_id: target.submission_id.to_string(),
                event_type: RESPONSE_SUBMITTED,
                payload: Bytes::from(event.encode_to_vec()),
                expected_last_subject_sequence: None,
            })
            .await?;
        self.metrics
            .observe_publish(publishing.elapsed().as_secs_f64());
        if appended.duplicate {
            let stored = self.stored_submission(appended.sequence).await?;
            if !is_same_response(&stored, &submitted, request.answered_at.is_some()) {
                return Err(IntakeError::ConflictingRetry(target.submission_id));
            }
            tracing::info!(
                sequence = appended.sequence,
                "duplicate submission acknowledged"
            );
        }
        Ok(SubmitResponseReply {
            submission_id: target.submission_id.to_string(),
            sequence: appended.sequence,
            duplicate: appended.duplicate,
            attention_flags: submitted.attention_flags,
            redactions: submitted.redactions,
        })
    }

    /// Validates the submission and redacts its open texts, person names included. Finding
    /// names costs about a millisecond for a 300-character answer whose words the finder has
    /// not seen (libvoikko analyses each word, ~20 µs; measured with `name-eval --time`), too
    /// long to hold a runtime worker, so a submission with open text is judged on the
    /// blocking pool. One without (most: scores only) is judged in place.
    async fn accept(
        &self,
        form: Arc<PublishedForm>,
        request: &SubmitResponseRequest,
        received_at: DateTime<Utc>,
    ) -> Result<ResponseSubmitted, IntakeError> {
        if !has_open_text(request) {
            return Ok(accept_with(
                &form,
                request,
                received_at,
                self.names.as_ref(),
            )?);
        }
        let names = Arc::clone(&self.names);
        let request = request.clone();
        let judged = tokio::task::spawn_blocking(move || {
            accept_with(&form, &request, received_at, names.as_ref())
        });
        match judged.await {
            Ok(accepted) => Ok(accepted?),
            // A panic is a bug in validation: let it end this task as it would in place.
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => Err(IntakeError::ShuttingDown),
        }
    }

    /// Erases one response's open texts: first the redaction event (carrying what remains),
    /// then the original event with secure erase. A retry after a crash between the two finds
    /// the redaction already stored (same message id) and erases the original.
    /// `caller` must be granted the response's unit: a manager erases only their units'
    /// feedback, and a county admin with no subtrees anyone's.
    pub async fn redact(
        &self,
        target: &ErasureTarget,
        caller: &kaiku_auth::Principal,
    ) -> Result<RedactResponseReply, IntakeError> {
        let subject = response_subject(target.survey_id);
        let stored = self.store.get(RESPONSES_STREAM, target.sequence).await?;
        let not_this = || IntakeError::NotFound {
            field: "sequence",
            message: format!(
                "sequence {} is not a response to survey {}",
                target.sequence, target.survey_id
            ),
        };
        if stored.subject != subject {
            return Err(not_this());
        }
        let submitted = match ResponseEvent::decode(stored.payload.as_ref()) {
            Ok(ResponseEvent {
                kind: Some(Kind::Submitted(submitted)),
                ..
            }) => submitted,
            Ok(_) => return Err(not_this()),
            Err(e) => {
                return Err(IntakeError::CorruptEvent {
                    sequence: target.sequence,
                    reason: e.to_string(),
                });
            }
        };
        let unit = submitted
            .context
            .as_ref()
            .map(|c| c.unit_id.clone())
            .unwrap_or_default();
        let lineage = self.catalogue.lineage(&unit);
        let lineage: Vec<&str> = lineage.iter().map(String::as_str).collect();
        caller.may_read_unit(&unit, &lineage)?;
        let Some((remaining, question_keys)) = without_open_texts(&submitted) else {
            return Err(IntakeError::NotAccepting(format!(
                "the response at sequence {} has no open text to erase",
                target.sequence
            )));
        };
        let redaction_id = format!("redaction-{}", submitted.submission_id);
        let event = ResponseEvent {
            event_id: redaction_id.clone(),
            survey_id: target.survey_id.to_string(),
            occurred_at: Some(kaiku_domain::time::to_timestamp(Utc::now())),
            kind: Some(Kind::Redacted(ResponseRedacted {
                submission_id: submitted.submission_id.clone(),
                question_keys: question_keys.clone(),
                reason: target.reason.clone(),
                remaining: Some(remaining),
                sequence: target.sequence,
            })),
        };
        let appended = self
            .store
            .append(NewEvent {
                subject,
                message_id: redaction_id,
                event_type: RESPONSE_REDACTED,
                payload: Bytes::from(event.encode_to_vec()),
                expected_last_subject_sequence: None,
            })
            .await?;
        self.store.erase(RESPONSES_STREAM, target.sequence).await?;
        tracing::info!(
            sequence = target.sequence,
            redaction_sequence = appended.sequence,
            questions = question_keys.len(),
            "response's open texts erased"
        );
        Ok(RedactResponseReply {
            redaction_sequence: appended.sequence,
            question_keys,
        })
    }

    async fn stored_submission(&self, sequence: u64) -> Result<ResponseSubmitted, IntakeError> {
        let stored = self.store.get(RESPONSES_STREAM, sequence).await?;
        let corrupt = |reason: String| IntakeError::CorruptEvent { sequence, reason };
        match ResponseEvent::decode(stored.payload.as_ref())
            .map_err(|e| corrupt(e.to_string()))?
            .kind
        {
            Some(Kind::Submitted(submitted)) => Ok(submitted),
            _ => Err(corrupt("not a ResponseSubmitted event".into())),
        }
    }
}

fn has_open_text(request: &SubmitResponseRequest) -> bool {
    request.answers.iter().any(|answer| {
        matches!(&answer.value, Some(Value::OpenText(text)) if !text.text.trim().is_empty())
    })
}
