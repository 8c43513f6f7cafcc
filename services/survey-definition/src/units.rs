//! Organisation units: loaded as one tree from `kaiku.unit.*` on KAIKU_SURVEYS (a county has
//! hundreds of units, and every rule about a unit needs its parent or children), appended with
//! the unit's own subject sequence as the expected revision.

use bytes::Bytes;
use chrono::Utc;
use kaiku_domain::unit::{
    UnitCommand, UnitError, UnitState, UnitTree, decide, unit_envelope, unit_event_kind_name,
};
use kaiku_eventstore::{EventStore, NewEvent, SURVEYS_STREAM, unit_subject};
use kaiku_proto::events::v1::UnitEvent;
use prost::Message;

use crate::ServiceError;

#[derive(Clone)]
pub struct UnitRepository {
    store: EventStore,
}

impl UnitRepository {
    pub fn new(store: EventStore) -> Self {
        Self { store }
    }

    pub async fn load_tree(&self) -> Result<UnitTree, ServiceError> {
        let events = self
            .store
            .read_all(SURVEYS_STREAM, &unit_subject("*"))
            .await?;
        let mut tree = UnitTree::new();
        for stored in &events {
            let event = UnitEvent::decode(stored.payload.as_ref()).map_err(|e| {
                ServiceError::CorruptEvent {
                    sequence: stored.stream_sequence,
                    reason: e.to_string(),
                }
            })?;
            tree.apply(&event, stored.stream_sequence)?;
        }
        Ok(tree)
    }

    /// Load, decide, append, as for surveys. Returns the unit as it now is.
    pub async fn execute(
        &self,
        unit_id: &str,
        command: UnitCommand,
    ) -> Result<UnitState, ServiceError> {
        let mut tree = self.load_tree().await?;
        let state = tree.get(unit_id).cloned();
        let kinds = decide(unit_id, state.as_ref(), &tree, command)?;
        let mut expected = state.as_ref().map_or(0, |s| s.revision);
        for kind in kinds {
            let event_type = unit_event_kind_name(&kind);
            let event = unit_envelope(unit_id, kind, Utc::now());
            let appended = self
                .store
                .append(NewEvent {
                    subject: unit_subject(unit_id),
                    message_id: event.event_id.clone(),
                    event_type,
                    payload: Bytes::from(event.encode_to_vec()),
                    expected_last_subject_sequence: Some(expected),
                })
                .await?;
            expected = appended.sequence;
            tree.apply(&event, appended.sequence)?;
        }
        tree.get(unit_id)
            .cloned()
            .ok_or_else(|| UnitError::NotFound(unit_id.to_owned()).into())
    }
}
