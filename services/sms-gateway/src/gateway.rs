//! The SMS channel's work: schedule invitations for eligible visits, send them when due, hold
//! the reply conversation, and submit each answer to response-intake with channel sms.
//!
//! Log lines name no invitation (nor number, nor intake's sequence): every line carries its own
//! exact time, and an invitation id next to it would bring back the time a finished row keeps
//! only as a day (store.rs), joining a number's hash to when it answered.

use chrono::{DateTime, Duration, Utc};
use kaiku_domain::codes::{language_code, language_from_code};
use kaiku_grpc::AuthorizedChannel as GrpcChannel;
use kaiku_proto::intake::v1::response_intake_client::ResponseIntakeClient;
use kaiku_proto::intake::v1::{
    Answer, NpsAnswer, OpenTextAnswer, ResponseContext, SubmitResponseRequest, answer::Value,
};
use kaiku_proto::survey::v1::survey_definition_client::SurveyDefinitionClient;
use kaiku_proto::survey::v1::{
    Channel, GetFormRequest, GetFormResponse, GetSurveyRequest, Language, RespondentRole,
    SurveyContent, question::Kind,
};
use sqlx::PgPool;
use uuid::Uuid;

use crate::phone::{PhoneNumber, PhoneVault};
use crate::provider::SmsProvider;
use crate::replies::{Conversation, Step, on_reply};
use crate::rules::{
    Skip, SmsRules, VisitFacts, decide, language_from_record, within_sending_hours,
};
use crate::store::{self, Invitation, NewInvitation};
use crate::texts::{invitation_text, sms_texts};
use crate::visits::Visit;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("survey {survey_id}: {message}")]
    Survey { survey_id: String, message: String },
    #[error("{0}")]
    Backend(#[from] tonic::Status),
    /// Visits the survey cannot take (unknown unit or professional group): nothing stored.
    #[error("{0}")]
    Invalid(kaiku_domain::Violations),
}

/// What happened to one delivered visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VisitOutcome {
    Scheduled {
        send_at: DateTime<Utc>,
    },
    Skipped(Skip),
    /// This visit was delivered before.
    Duplicate,
    /// The survey has age bands and none holds this age.
    NoAgeBand,
}

/// What a reply led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyOutcome {
    /// No open conversation with that number.
    Ignored,
    AskedForScore,
    ScoreRecorded,
    Submitted,
}

pub struct Timing {
    /// How long a sent invitation waits for a reply.
    pub reply_window: Duration,
    /// How long a given score waits for an optional text before it is submitted alone.
    pub text_wait: Duration,
}

pub struct Gateway<P> {
    pub pool: PgPool,
    pub vault: PhoneVault,
    pub rules: SmsRules,
    pub timing: Timing,
    pub provider: P,
    pub surveys: SurveyDefinitionClient<GrpcChannel>,
    pub intake: ResponseIntakeClient<GrpcChannel>,
    pub survey_id: String,
    /// Whether invitations name the unit of the visit.
    pub name_unit: bool,
}

/// A refusal no retry can change: the survey, unit or version is gone, the period is over, or
/// the same submission id was stored with other content.
fn is_permanent(status: &tonic::Status) -> bool {
    matches!(
        status.code(),
        tonic::Code::InvalidArgument
            | tonic::Code::NotFound
            | tonic::Code::FailedPrecondition
            | tonic::Code::AlreadyExists
    )
}

/// Invitations sent per round; the rest wait for the next round.
const SEND_BATCH: i64 = 50;
const MAX_SEND_ATTEMPTS: i32 = 5;
/// Unsent invitations stop being useful this long after their send time.
const SEND_LATENESS: i64 = 2;
/// Rows (keyed hashes only by then) are deleted this long after sending.
const FORGET_AFTER_DAYS: i64 = 60;

impl<P: SmsProvider> Gateway<P> {
    async fn survey_content(&self) -> Result<SurveyContent, GatewayError> {
        let survey = self
            .surveys
            .clone()
            .get_survey(GetSurveyRequest {
                survey_id: self.survey_id.clone(),
            })
            .await?
            .into_inner()
            .survey;
        survey
            .and_then(|s| s.versions.into_iter().max_by_key(|v| v.version))
            .and_then(|v| v.content)
            .ok_or_else(|| GatewayError::Survey {
                survey_id: self.survey_id.clone(),
                message: "has no published version".into(),
            })
    }

    /// Applies the rules to each visit and schedules the eligible ones, one transaction each.
    pub async fn take_visits(
        &self,
        visits: &[Visit],
        now: DateTime<Utc>,
    ) -> Result<Vec<VisitOutcome>, GatewayError> {
        let content = self.survey_content().await?;
        self.check_targets(&content, visits).await?;
        let mut outcomes = Vec::with_capacity(visits.len());
        for visit in visits {
            outcomes.push(self.take_visit(&content, visit, now).await?);
        }
        Ok(outcomes)
    }

    /// Every visit's unit and professional group as the survey sees them, asked of
    /// survey-definition once per distinct pair: a visit to a unit the survey does not cover is
    /// the sender's mistake, refused with the batch, not an invitation that fails tomorrow.
    async fn check_targets(
        &self,
        content: &SurveyContent,
        visits: &[Visit],
    ) -> Result<(), GatewayError> {
        let language = content
            .languages
            .first()
            .copied()
            .unwrap_or(Language::Fi as i32);
        let age_band = content
            .age_bands
            .first()
            .map(|b| b.key.clone())
            .unwrap_or_default();
        let mut checked: std::collections::HashMap<(&str, &str), Vec<(String, String)>> =
            Default::default();
        let mut violations = kaiku_domain::Violations::new();
        for (i, visit) in visits.iter().enumerate() {
            let key = (visit.unit_id.as_str(), visit.professional_group.as_str());
            if let std::collections::hash_map::Entry::Vacant(slot) = checked.entry(key) {
                let request = GetFormRequest {
                    survey_id: self.survey_id.clone(),
                    survey_version: 0,
                    context: Some(ResponseContext {
                        unit_id: visit.unit_id.clone(),
                        channel: Channel::Sms as i32,
                        respondent_role: RespondentRole::Client as i32,
                        professional_group: visit.professional_group.clone(),
                        age_band: age_band.clone(),
                        language,
                    }),
                };
                let problems = match self.surveys.clone().get_form(request).await {
                    Ok(_) => Vec::new(),
                    Err(status) if status.code() == tonic::Code::InvalidArgument => {
                        kaiku_grpc::bad_request_fields(&status)
                            .into_iter()
                            .filter_map(|(field, description)| match field.as_str() {
                                "context.unit_id" => Some(("unit_id".to_owned(), description)),
                                "context.professional_group" => {
                                    Some(("professional_group".to_owned(), description))
                                }
                                _ => None,
                            })
                            .collect()
                    }
                    Err(status) => return Err(status.into()),
                };
                slot.insert(problems);
            }
            for (field, description) in checked.get(&key).into_iter().flatten() {
                violations.add(format!("visits[{i}].{field}"), description.clone());
            }
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(GatewayError::Invalid(violations))
        }
    }

    async fn take_visit(
        &self,
        content: &SurveyContent,
        visit: &Visit,
        now: DateTime<Utc>,
    ) -> Result<VisitOutcome, GatewayError> {
        let visit_hash = self.vault.keyed_hash("visit", &visit.visit_id);
        let phone_hash = self.vault.hash(&visit.phone);
        let mut tx = self.pool.begin().await?;
        store::lock_number(&mut tx, &phone_hash).await?;
        if store::visit_known(&mut tx, &visit_hash).await? {
            return Ok(VisitOutcome::Duplicate);
        }
        let last = store::last_invitation(&mut tx, &phone_hash).await?;
        let facts = VisitFacts {
            visited_at: visit.visited_at,
            age: visit.age,
            sms_consent: visit.sms_consent,
            non_disclosure: visit.non_disclosure,
        };
        let send_at = match decide(&self.rules, &facts, last, now) {
            Ok(send_at) => send_at,
            Err(skip) => return Ok(VisitOutcome::Skipped(skip)),
        };
        let age_band = if content.age_bands.is_empty() {
            String::new()
        } else {
            match content
                .age_bands
                .iter()
                .find(|b| b.min_age <= visit.age && visit.age <= b.max_age)
            {
                Some(band) => band.key.clone(),
                None => return Ok(VisitOutcome::NoAgeBand),
            }
        };
        // The record's language if the survey offers it, else the survey's first language.
        let wanted = language_from_record(&visit.language);
        let language = if content.languages.contains(&(wanted as i32)) {
            wanted
        } else {
            content
                .languages
                .first()
                .and_then(|l| Language::try_from(*l).ok())
                .unwrap_or(Language::Fi)
        };
        let invitation_id = Uuid::new_v4();
        store::insert(
            &mut tx,
            &NewInvitation {
                invitation_id,
                visit_hash: &visit_hash,
                phone_hash: &phone_hash,
                phone_sealed: self.vault.seal(invitation_id, &visit.phone),
                survey_id: &self.survey_id,
                unit_id: &visit.unit_id,
                professional_group: &visit.professional_group,
                age_band: &age_band,
                language: language_code(language),
                send_at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(VisitOutcome::Scheduled { send_at })
    }

    fn context(&self, invitation: &Invitation) -> ResponseContext {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        ResponseContext {
            unit_id: text(&invitation.unit_id),
            channel: Channel::Sms as i32,
            respondent_role: RespondentRole::Client as i32,
            professional_group: text(&invitation.professional_group),
            age_band: text(&invitation.age_band),
            language: language_from_code(&invitation.language).unwrap_or(Language::Fi) as i32,
        }
    }

    async fn form(&self, invitation: &Invitation) -> Result<GetFormResponse, tonic::Status> {
        self.surveys
            .clone()
            .get_form(GetFormRequest {
                survey_id: invitation.survey_id.clone().unwrap_or_default(),
                survey_version: 0,
                context: Some(self.context(invitation)),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// Sends the invitations that are due, one transaction each (so a sent invitation is
    /// recorded as sent at once, and a failure never rolls back another's); returns how many
    /// went out.
    pub async fn send_due(&self, now: DateTime<Utc>) -> Result<usize, GatewayError> {
        let mut sent = 0;
        for _ in 0..SEND_BATCH {
            let mut tx = self.pool.begin().await?;
            let Some(invitation) = store::lock_next_due(&mut tx, now).await? else {
                break;
            };
            if now - invitation.send_at > Duration::days(SEND_LATENESS) {
                store::mark_send_failed(&mut tx, invitation.invitation_id, None, "expired").await?;
            } else {
                match self.send_invitation(&invitation).await {
                    Ok(()) => {
                        store::mark_sent(&mut tx, invitation.invitation_id, now).await?;
                        sent += 1;
                    }
                    Err(reason) => {
                        tracing::warn!(attempt = invitation.attempts + 1, reason = %reason, "invitation not sent");
                        let retry_at = (invitation.attempts + 1 < MAX_SEND_ATTEMPTS).then(|| {
                            within_sending_hours(
                                &self.rules,
                                now + Duration::minutes(5 * i64::from(invitation.attempts + 1)),
                            )
                        });
                        store::mark_send_failed(
                            &mut tx,
                            invitation.invitation_id,
                            retry_at,
                            "failed",
                        )
                        .await?;
                    }
                }
            }
            tx.commit().await?;
        }
        Ok(sent)
    }

    async fn send_invitation(&self, invitation: &Invitation) -> Result<(), String> {
        let sealed = invitation
            .phone_sealed
            .as_deref()
            .ok_or("no number to send to")?;
        let phone = self
            .vault
            .open(invitation.invitation_id, sealed)
            .map_err(|e| e.to_string())?;
        let form = self
            .form(invitation)
            .await
            .map_err(|s| format!("{:?}: {}", s.code(), s.message()))?;
        if !form.accepting {
            return Err(format!(
                "the survey takes no answers now: {}",
                form.closed_reason
            ));
        }
        let question = form
            .questions
            .iter()
            .find(|q| {
                matches!(
                    q.question.as_ref().and_then(|q| q.kind.as_ref()),
                    Some(Kind::Nps(_))
                )
            })
            .ok_or("the survey has no NPS question")?;
        let language = language_from_code(&invitation.language).unwrap_or(Language::Fi);
        // A lock-screen preview must not tell others which service the recipient uses, so the
        // unit is named only where the county chose so (KAIKU_SMS_NAME_UNIT).
        let unit =
            (self.name_unit && !form.unit_name.is_empty()).then_some(form.unit_name.as_str());
        let text = invitation_text(language, unit, &question.text);
        self.provider
            .send(&phone, &text)
            .await
            .map_err(|e| e.to_string())
    }

    /// One SMS reply from `from`.
    pub async fn take_reply(
        &self,
        from: &PhoneNumber,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<ReplyOutcome, GatewayError> {
        let phone_hash = self.vault.hash(from);
        let mut tx = self.pool.begin().await?;
        let Some(invitation) =
            store::lock_conversation(&mut tx, &phone_hash, now - self.timing.reply_window).await?
        else {
            return Ok(ReplyOutcome::Ignored);
        };
        let state = match (invitation.state.as_str(), invitation.score) {
            ("awaiting_text", Some(score)) => Conversation::AwaitingText {
                score: u32::try_from(score).unwrap_or(0),
            },
            _ => Conversation::AwaitingScore,
        };
        let language = language_from_code(&invitation.language).unwrap_or(Language::Fi);
        let t = sms_texts(language);
        // The text as stored (redacted, store::record_text), once the answer is complete.
        let (outcome, answer, stored_text) = match on_reply(&state, text) {
            // Asked again once per invitation: an auto-responder gets no endless exchange.
            Step::AskForScore if invitation.reprompted => (ReplyOutcome::AskedForScore, None, None),
            Step::AskForScore => {
                store::mark_reprompted(&mut tx, invitation.invitation_id).await?;
                (ReplyOutcome::AskedForScore, Some(t.ask_for_score), None)
            }
            Step::ScoreGiven { score } => {
                store::record_score(&mut tx, invitation.invitation_id, score, now).await?;
                (ReplyOutcome::ScoreRecorded, Some(t.ask_for_text), None)
            }
            Step::Complete { text, .. } => {
                let stored =
                    store::record_text(&mut tx, invitation.invitation_id, Some(&text)).await?;
                (ReplyOutcome::Submitted, Some(t.thanks), stored)
            }
        };
        tx.commit().await?;
        if outcome == ReplyOutcome::Submitted {
            // The stored text, so this submission and a retry from the table carry the same.
            let mut complete = invitation.clone();
            complete.reply_text = stored_text;
            // Intake unreachable now: the answer waits in 'submitting' for the next round.
            if let Err(e) = self.submit(&complete).await {
                tracing::warn!(error = %e, "answer kept for the next round");
            }
        }
        if let Some(answer) = answer
            && let Err(e) = self.provider.send(from, answer).await
        {
            tracing::warn!(error = %e, "reply to a respondent not sent");
        }
        Ok(outcome)
    }

    /// Submits answers whose text wait is over or whose submission is pending.
    pub async fn submit_ready(&self, now: DateTime<Utc>) -> Result<usize, GatewayError> {
        let mut done = 0;
        for invitation in store::ready_to_submit(&self.pool, now - self.timing.text_wait).await? {
            match self.submit(&invitation).await {
                Ok(()) => done += 1,
                Err(e) => {
                    tracing::warn!(error = %e, "submission waits for the next round")
                }
            }
        }
        Ok(done)
    }

    /// The answer to intake, then the row finished. A refusal that no retry can change (closed
    /// period, unknown unit) finishes it as failed; anything else leaves it for the next round.
    async fn submit(&self, invitation: &Invitation) -> Result<(), GatewayError> {
        let (Some(score), Some(submission_id)) = (
            invitation.score.and_then(|s| u32::try_from(s).ok()),
            invitation.submission_id,
        ) else {
            store::finish(&self.pool, invitation.invitation_id, "failed").await?;
            return Ok(());
        };
        let form = match self.form(invitation).await {
            Ok(form) => form,
            // The survey, unit or version is gone for good: no retry can store this answer.
            Err(status) if is_permanent(&status) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "SMS answer cannot be stored");
                store::finish(&self.pool, invitation.invitation_id, "failed").await?;
                return Ok(());
            }
            Err(status) => return Err(status.into()),
        };
        let key_of = |wanted: fn(&Kind) -> bool| {
            form.questions
                .iter()
                .filter_map(|q| q.question.as_ref())
                .find(|q| q.kind.as_ref().is_some_and(wanted))
                .map(|q| q.key.clone())
        };
        let nps_key = key_of(|k| matches!(k, Kind::Nps(_)));
        let text_key = key_of(|k| matches!(k, Kind::OpenText(_)));
        let mut answers = Vec::new();
        if let Some(key) = nps_key {
            answers.push(Answer {
                question_key: key,
                value: Some(Value::Nps(NpsAnswer { score })),
            });
        }
        if let (Some(key), Some(text)) = (
            text_key,
            invitation
                .reply_text
                .as_deref()
                .filter(|t| !t.trim().is_empty()),
        ) {
            answers.push(Answer {
                question_key: key,
                value: Some(Value::OpenText(OpenTextAnswer {
                    text: text.to_owned(),
                })),
            });
        }
        let answered_at = invitation.answered_at.map(|t| prost_types::Timestamp {
            seconds: t.timestamp(),
            nanos: 0,
        });
        let result = self
            .intake
            .clone()
            .submit_response(SubmitResponseRequest {
                submission_id: submission_id.to_string(),
                survey_id: invitation.survey_id.clone().unwrap_or_default(),
                survey_version: form.survey_version,
                context: Some(self.context(invitation)),
                answers,
                answered_at,
            })
            .await;
        match result {
            Ok(_) => {
                tracing::info!("SMS answer stored");
                store::finish(&self.pool, invitation.invitation_id, "done").await?;
                Ok(())
            }
            Err(status) if is_permanent(&status) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "intake refused an SMS answer");
                store::finish(&self.pool, invitation.invitation_id, "failed").await?;
                Ok(())
            }
            Err(status) => Err(status.into()),
        }
    }

    /// One round of the background work.
    pub async fn round(&self, now: DateTime<Utc>) -> Result<(), GatewayError> {
        self.send_due(now).await?;
        self.submit_ready(now).await?;
        store::tidy(
            &self.pool,
            now - self.timing.reply_window,
            now - Duration::days(FORGET_AFTER_DAYS),
        )
        .await?;
        Ok(())
    }
}
