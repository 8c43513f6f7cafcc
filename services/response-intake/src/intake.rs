//! The submit path shared by the unary and the streaming RPC: validate against the catalogue,
//! append, reply after the JetStream ack.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use kaiku_domain::catalogue::PublishedForm;
use kaiku_domain::erasure::{ErasureTarget, without_open_texts};
use kaiku_domain::submission::{accept_with, is_same_response, parse_target, resolve_form};
use kaiku_eventstore::{EventStore, EventStoreError, NewEvent, RESPONSES_STREAM, response_subject};
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

    /// Erases one response's open texts at a caller's request: the response at `target` must be
    /// a submission to the named survey in a unit the caller is granted (a manager erases only
    /// their units' feedback, a county admin with no subtrees anyone's).
    pub async fn redact(
        &self,
        target: &ErasureTarget,
        caller: &kaiku_auth::Principal,
    ) -> Result<RedactResponseReply, IntakeError> {
        // One answer for every sequence this caller may not erase, whatever the reason: trying
        // sequences must not tell which survey or unit each belongs to, or which hold a text.
        let not_erasable = || IntakeError::NotFound {
            field: "sequence",
            message: format!(
                "sequence {} holds no open text of survey {} that you may erase",
                target.sequence, target.survey_id
            ),
        };
        let stored = match self.store.get(RESPONSES_STREAM, target.sequence).await {
            Ok(stored) => stored,
            Err(EventStoreError::NotFound { .. }) => return Err(not_erasable()),
            Err(error) => return Err(error.into()),
        };
        if stored.subject != response_subject(target.survey_id) {
            return Err(not_erasable());
        }
        let submitted = match ResponseEvent::decode(stored.payload.as_ref()) {
            Ok(ResponseEvent {
                kind: Some(Kind::Submitted(submitted)),
                ..
            }) => submitted,
            Ok(_) => return Err(not_erasable()),
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
        // A unit's handler erases the concerns of its units (the attention list, ADR 0016); any
        // other text only a survey admin, so a manager cannot remove criticism of their unit.
        let may_erase = caller.may_read_unit(&unit, &lineage).is_ok()
            && (caller.has(kaiku_auth::Scope::SurveyAdmin)
                || !submitted.attention_flags.is_empty());
        if !may_erase || without_open_texts(&submitted).is_none() {
            return Err(not_erasable());
        }
        self.erase_texts(target, &submitted).await
    }

    /// Erases the open texts of `submitted`, stored at `target.sequence`: first the redaction
    /// event (carrying what remains), then the original event with secure erase. A retry after
    /// a crash between the two finds the redaction already stored (same message id) and erases
    /// the original. The one path every erasure takes, a person's or the retention sweep's.
    pub async fn erase_texts(
        &self,
        target: &ErasureTarget,
        submitted: &ResponseSubmitted,
    ) -> Result<RedactResponseReply, IntakeError> {
        let Some((remaining, question_keys)) = without_open_texts(submitted) else {
            return Err(IntakeError::NotAccepting(format!(
                "the response at sequence {} has no open text to erase",
                target.sequence
            )));
        };
        let event = redaction_event(
            target,
            &submitted.submission_id,
            remaining,
            question_keys.clone(),
        );
        let appended = self
            .store
            .append(NewEvent {
                subject: response_subject(target.survey_id),
                // The event id: a retry after a crash appends nothing twice.
                message_id: event.event_id.clone(),
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
            reason = target.reason.as_str_name(),
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

/// The `ResponseRedacted` event that erases a response's open texts, keeping `remaining`.
/// Its id names the erased sequence too: a response stored twice (a retry after the duplicate
/// window) has two originals, and each erasure must reach the projection to drop a
/// dead-lettered copy of its own original.
fn redaction_event(
    target: &ErasureTarget,
    submission_id: &str,
    remaining: ResponseSubmitted,
    question_keys: Vec<String>,
) -> ResponseEvent {
    ResponseEvent {
        event_id: format!("redaction-{submission_id}-{}", target.sequence),
        survey_id: target.survey_id.to_string(),
        occurred_at: Some(kaiku_domain::time::to_timestamp(Utc::now())),
        kind: Some(Kind::Redacted(ResponseRedacted {
            submission_id: submission_id.to_owned(),
            question_keys,
            // Free text is no longer taken (issue 21): the code says why.
            reason: String::new(),
            remaining: Some(remaining),
            sequence: target.sequence,
            erasure_reason: target.reason as i32,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kaiku_domain::SurveyId;
    use kaiku_proto::intake::v1::ErasureReason;

    #[test]
    fn a_redaction_event_carries_the_code_and_names_the_erased_sequence() {
        let target = ErasureTarget {
            survey_id: SurveyId::new_random(),
            sequence: 7,
            reason: ErasureReason::Retention,
        };
        let event = redaction_event(
            &target,
            "s-1",
            ResponseSubmitted::default(),
            vec!["open_feedback".into()],
        );
        let Some(Kind::Redacted(redacted)) = event.kind else {
            panic!("not a redaction: {event:?}");
        };
        assert_eq!(redacted.erasure_reason, ErasureReason::Retention as i32);
        assert_eq!(redacted.reason, "");
        assert_eq!(redacted.sequence, 7);
        assert_eq!(event.event_id, "redaction-s-1-7");
    }
}
