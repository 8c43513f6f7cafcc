//! Results reviews: a unit's development targets, loaded from `kaiku.review.<unit_id>` on
//! KAIKU_SURVEYS and appended with the subject's last sequence as the expected revision, so two
//! managers saving at once cannot overwrite each other (the loser gets ABORTED).

use bytes::Bytes;
use chrono::Utc;
use kaiku_domain::review::{
    ReviewCommand, ReviewState, decide, evolve, review_envelope, review_event_kind_name,
};
use kaiku_eventstore::{EventStore, NewEvent, SURVEYS_STREAM, review_subject};
use kaiku_proto::events::v1::ReviewEvent;
use prost::Message;

use crate::ServiceError;

#[derive(Clone)]
pub struct ReviewRepository {
    store: EventStore,
}

impl ReviewRepository {
    pub fn new(store: EventStore) -> Self {
        Self { store }
    }

    pub async fn load(&self, unit_id: &str) -> Result<ReviewState, ServiceError> {
        let events = self
            .store
            .read_all(SURVEYS_STREAM, &review_subject(unit_id))
            .await?;
        let mut state = ReviewState::new(unit_id);
        for stored in &events {
            let event = ReviewEvent::decode(stored.payload.as_ref()).map_err(|e| {
                ServiceError::CorruptEvent {
                    sequence: stored.stream_sequence,
                    reason: e.to_string(),
                }
            })?;
            state = evolve(state, &event, stored.stream_sequence)?;
        }
        Ok(state)
    }

    /// Load, decide, append. `recorded_by` is the caller's subject.
    pub async fn execute(
        &self,
        unit_id: &str,
        recorded_by: &str,
        command: ReviewCommand,
    ) -> Result<ReviewState, ServiceError> {
        let mut state = self.load(unit_id).await?;
        let kinds = decide(unit_id, &state, command)?;
        for kind in kinds {
            let event_type = review_event_kind_name(&kind);
            let event = review_envelope(unit_id, recorded_by, kind, Utc::now());
            let appended = self
                .store
                .append(NewEvent {
                    subject: review_subject(unit_id),
                    message_id: event.event_id.clone(),
                    event_type,
                    payload: Bytes::from(event.encode_to_vec()),
                    expected_last_subject_sequence: Some(state.revision),
                })
                .await?;
            state = evolve(state, &event, appended.sequence)?;
        }
        Ok(state)
    }
}
