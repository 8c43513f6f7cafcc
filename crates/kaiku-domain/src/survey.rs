//! The survey aggregate: `decide` turns a command and the current state into events or a domain
//! error; `evolve` folds one stored event into the state. Both are pure; survey-definition does
//! the I/O around them.

use std::sync::Arc;

use crate::catalogue::{Lookup, PublishedForm};
use chrono::{DateTime, Utc};
use kaiku_proto::events::v1::{
    SurveyCreated, SurveyDraftUpdated, SurveyEvent, SurveyVersionPublished, survey_event::Kind,
};
use kaiku_proto::survey::v1::{PublishedVersion, Survey, SurveyContent, SurveyStatus};
use prost_types::Timestamp;

use crate::content::{Strictness, check_kinds_unchanged, validate_content};
use crate::{SurveyId, Violations};

/// A survey as folded from its events.
#[derive(Debug, Clone, PartialEq)]
pub struct SurveyState {
    pub id: SurveyId,
    pub draft: SurveyContent,
    pub versions: Vec<PublishedVersion>,
    pub archived: bool,
    /// Stream sequence of the last event applied: the survey's revision for optimistic
    /// concurrency (Nats-Expected-Last-Subject-Sequence).
    pub revision: u64,
    pub created_at: Option<Timestamp>,
}

impl SurveyState {
    pub fn status(&self) -> SurveyStatus {
        if self.archived {
            SurveyStatus::Archived
        } else if self.versions.is_empty() {
            SurveyStatus::Draft
        } else {
            SurveyStatus::Published
        }
    }

    pub fn latest_version(&self) -> u32 {
        self.versions.last().map_or(0, |v| v.version)
    }

    /// A published version as the catalogue would answer for it; version 0 means the latest.
    pub fn published_form(&self, version: u32) -> Lookup {
        if self.archived {
            return Lookup::Archived;
        }
        let wanted = if version == 0 {
            self.latest_version()
        } else {
            version
        };
        match self.versions.iter().find(|v| v.version == wanted) {
            Some(published) => Lookup::Found(Arc::new(PublishedForm {
                survey_id: self.id,
                version: published.version,
                content: published.content.clone().unwrap_or_default(),
            })),
            None if self.versions.is_empty() => Lookup::NotPublished,
            None => Lookup::UnknownVersion {
                latest: self.latest_version(),
            },
        }
    }

    pub fn to_proto(&self) -> Survey {
        Survey {
            survey_id: self.id.to_string(),
            status: self.status() as i32,
            draft: Some(self.draft.clone()),
            versions: self.versions.clone(),
            revision: self.revision,
            created_at: self.created_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SurveyCommand {
    Create {
        draft: SurveyContent,
    },
    UpdateDraft {
        expected_revision: u64,
        draft: SurveyContent,
    },
    PublishVersion {
        expected_revision: u64,
    },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SurveyError {
    #[error("invalid survey: {0}")]
    Invalid(Violations),
    #[error("survey {0} does not exist")]
    NotFound(SurveyId),
    #[error("survey {0} already exists with other content")]
    AlreadyExists(SurveyId),
    #[error("survey {id} is at revision {actual}, not the expected {expected}: reload and retry")]
    StaleRevision {
        id: SurveyId,
        expected: u64,
        actual: u64,
    },
    #[error("survey {0} is archived")]
    Archived(SurveyId),
    #[error("survey {id}: the draft is unchanged since version {version}; nothing to publish")]
    NothingToPublish { id: SurveyId, version: u32 },
}

/// What a command decided: the events to append (empty when the command changes nothing, e.g.
/// a retried create).
pub type Decision = Result<Vec<Kind>, SurveyError>;

pub fn decide(id: SurveyId, state: Option<&SurveyState>, command: SurveyCommand) -> Decision {
    match (state, command) {
        (None, SurveyCommand::Create { draft }) => {
            validate_content("draft", &draft, Strictness::Draft).map_err(SurveyError::Invalid)?;
            Ok(vec![Kind::Created(SurveyCreated { draft: Some(draft) })])
        }
        (Some(existing), SurveyCommand::Create { draft }) => {
            // A retried create with the same content is a success that changes nothing.
            if existing.versions.is_empty() && existing.draft == draft && existing.revision > 0 {
                Ok(vec![])
            } else {
                Err(SurveyError::AlreadyExists(id))
            }
        }
        (None, _) => Err(SurveyError::NotFound(id)),
        (
            Some(state),
            SurveyCommand::UpdateDraft {
                expected_revision,
                draft,
            },
        ) => {
            check_writable(state, expected_revision)?;
            validate_content("draft", &draft, Strictness::Draft).map_err(SurveyError::Invalid)?;
            Ok(vec![Kind::DraftUpdated(SurveyDraftUpdated {
                draft: Some(draft),
            })])
        }
        (Some(state), SurveyCommand::PublishVersion { expected_revision }) => {
            check_writable(state, expected_revision)?;
            let mut violations = Violations::new();
            if let Err(v) = validate_content("draft", &state.draft, Strictness::Publish) {
                violations.extend(v);
            }
            for version in &state.versions {
                if let Some(content) = &version.content
                    && let Err(v) = check_kinds_unchanged("draft", content, &state.draft)
                {
                    violations.extend(v);
                    break;
                }
            }
            if !violations.is_empty() {
                return Err(SurveyError::Invalid(violations));
            }
            if let Some(latest) = state.versions.last()
                && latest.content.as_ref() == Some(&state.draft)
            {
                return Err(SurveyError::NothingToPublish {
                    id,
                    version: latest.version,
                });
            }
            Ok(vec![Kind::VersionPublished(SurveyVersionPublished {
                version: state.latest_version() + 1,
                content: Some(state.draft.clone()),
            })])
        }
    }
}

fn check_writable(state: &SurveyState, expected_revision: u64) -> Result<(), SurveyError> {
    if state.revision != expected_revision {
        return Err(SurveyError::StaleRevision {
            id: state.id,
            expected: expected_revision,
            actual: state.revision,
        });
    }
    if state.archived {
        return Err(SurveyError::Archived(state.id));
    }
    Ok(())
}

/// An event that cannot be folded: the stream holds something this code does not understand.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FoldError {
    #[error("event at sequence {sequence} has no kind (written by a newer version?)")]
    MissingKind { sequence: u64 },
    #[error("event at sequence {sequence} is {kind} but the survey does not exist yet")]
    BeforeCreated { sequence: u64, kind: &'static str },
}

/// Folds one event stored at `sequence` into the state.
pub fn evolve(
    id: SurveyId,
    state: Option<SurveyState>,
    event: &SurveyEvent,
    sequence: u64,
) -> Result<SurveyState, FoldError> {
    let kind = event
        .kind
        .as_ref()
        .ok_or(FoldError::MissingKind { sequence })?;
    let mut state = match (state, kind) {
        (None, Kind::Created(created)) => {
            return Ok(SurveyState {
                id,
                draft: created.draft.clone().unwrap_or_default(),
                versions: vec![],
                archived: false,
                revision: sequence,
                created_at: event.occurred_at,
            });
        }
        (None, other) => {
            return Err(FoldError::BeforeCreated {
                sequence,
                kind: event_kind_name(other),
            });
        }
        (Some(state), _) => state,
    };
    match kind {
        // A second "created" can only come from a lost race that the expected-sequence check
        // should have prevented; keeping the first is the safe reading.
        Kind::Created(_) => {}
        Kind::DraftUpdated(updated) => state.draft = updated.draft.clone().unwrap_or_default(),
        Kind::VersionPublished(published) => state.versions.push(PublishedVersion {
            version: published.version,
            content: published.content.clone(),
            published_at: event.occurred_at,
        }),
        Kind::PeriodScheduled(_) | Kind::PeriodClosed(_) => {}
        Kind::Archived(_) => state.archived = true,
    }
    state.revision = sequence;
    Ok(state)
}

pub fn event_kind_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Created(_) => "SurveyCreated",
        Kind::DraftUpdated(_) => "SurveyDraftUpdated",
        Kind::VersionPublished(_) => "SurveyVersionPublished",
        Kind::PeriodScheduled(_) => "CollectionPeriodScheduled",
        Kind::PeriodClosed(_) => "CollectionPeriodClosed",
        Kind::Archived(_) => "SurveyArchived",
    }
}

/// Wraps a decided event kind in its envelope.
pub fn envelope(id: SurveyId, kind: Kind, now: DateTime<Utc>) -> SurveyEvent {
    SurveyEvent {
        event_id: uuid::Uuid::now_v7().to_string(),
        survey_id: id.to_string(),
        occurred_at: Some(crate::time::to_timestamp(now)),
        kind: Some(kind),
    }
}

#[cfg(test)]
mod tests;
