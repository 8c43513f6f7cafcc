//! Loads survey aggregates from KAIKU_SURVEYS and appends their new events.

use std::collections::BTreeMap;

use bytes::Bytes;
use kaiku_domain::SurveyId;
use kaiku_domain::survey::{SurveyState, evolve};
use kaiku_eventstore::{EventStore, NewEvent, SURVEYS_STREAM, StoredEvent, survey_subject};
use kaiku_proto::events::v1::SurveyEvent;
use prost::Message;

use crate::ServiceError;

#[derive(Clone)]
pub struct SurveyRepository {
    store: EventStore,
}

impl SurveyRepository {
    pub fn new(store: EventStore) -> Self {
        Self { store }
    }

    pub async fn load(&self, id: SurveyId) -> Result<Option<SurveyState>, ServiceError> {
        let events = self
            .store
            .read_all(SURVEYS_STREAM, &survey_subject(id))
            .await?;
        let mut state = None;
        for stored in &events {
            state = Some(evolve(id, state, &decode(stored)?, stored.stream_sequence)?);
        }
        Ok(state)
    }

    /// Every survey, folded from the whole stream. Admin listing only: the read models serve
    /// everything that must scale.
    pub async fn load_all(&self) -> Result<Vec<SurveyState>, ServiceError> {
        let events = self
            .store
            .read_all(SURVEYS_STREAM, &survey_subject("*"))
            .await?;
        let mut surveys: BTreeMap<SurveyId, SurveyState> = BTreeMap::new();
        for stored in &events {
            let event = decode(stored)?;
            let id = SurveyId::parse("survey_id", &event.survey_id).map_err(|v| {
                ServiceError::CorruptEvent {
                    sequence: stored.stream_sequence,
                    reason: v.to_string(),
                }
            })?;
            let state = surveys.remove(&id);
            surveys.insert(id, evolve(id, state, &event, stored.stream_sequence)?);
        }
        Ok(surveys.into_values().collect())
    }

    /// Appends `events` after `expected_revision` (0 = the survey must not exist yet) and folds
    /// them into `state`. A concurrent writer makes this fail with WrongExpectedSequence.
    pub async fn append(
        &self,
        id: SurveyId,
        mut state: Option<SurveyState>,
        expected_revision: u64,
        events: Vec<SurveyEvent>,
    ) -> Result<Option<SurveyState>, ServiceError> {
        let mut expected = expected_revision;
        for event in events {
            let kind = event
                .kind
                .as_ref()
                .map_or("SurveyEvent", kaiku_domain::survey::event_kind_name);
            let appended = self
                .store
                .append(NewEvent {
                    subject: survey_subject(id),
                    message_id: event.event_id.clone(),
                    event_type: kind,
                    payload: Bytes::from(event.encode_to_vec()),
                    expected_last_subject_sequence: Some(expected),
                })
                .await?;
            expected = appended.sequence;
            state = Some(evolve(id, state, &event, appended.sequence)?);
        }
        Ok(state)
    }
}

fn decode(stored: &StoredEvent) -> Result<SurveyEvent, ServiceError> {
    SurveyEvent::decode(stored.payload.as_ref()).map_err(|e| ServiceError::CorruptEvent {
        sequence: stored.stream_sequence,
        reason: e.to_string(),
    })
}
