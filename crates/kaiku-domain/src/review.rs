//! Results reviews: after a collection period a unit's staff go through the results together and
//! choose development targets, then follow each one up at the next review. A unit's reviews are
//! one aggregate on KAIKU_SURVEYS under `kaiku.review.<unit_id>`; `decide` and `evolve` are pure
//! like the survey and unit aggregates'.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kaiku_proto::events::v1::{
    DevelopmentTargetFollowedUp, DevelopmentTargetRecorded, ReviewEvent, review_event::Kind,
};
use kaiku_proto::survey::v1::{DevelopmentTarget, TargetProgress};
use uuid::Uuid;

use crate::Violations;
use crate::ids::{SurveyId, is_valid_key, is_valid_unit_id};
use crate::time::{from_timestamp, to_timestamp};

/// Longest target text, in characters: a target is a sentence or two, not a plan.
pub const MAX_TARGET_CHARS: usize = 500;
/// Longest follow-up note, in characters.
pub const MAX_NOTE_CHARS: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
pub enum ReviewCommand {
    RecordTarget {
        target_id: String,
        survey_id: String,
        period_id: String,
        text: String,
    },
    FollowUp {
        target_id: String,
        progress: i32,
        note: String,
        period_id: String,
    },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReviewError {
    #[error("invalid development target: {0}")]
    Invalid(Violations),
    #[error("unit {unit_id:?} has no development target {target_id:?}")]
    TargetNotFound { unit_id: String, target_id: String },
    #[error("development target {0:?} was already recorded with other content")]
    AlreadyExists(String),
}

/// A unit's development targets, folded from its review events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReviewState {
    pub unit_id: String,
    /// By target id; `order` keeps them in the order they were chosen.
    targets: BTreeMap<String, DevelopmentTarget>,
    order: Vec<String>,
    /// Stream sequence of the last event, for optimistic concurrency (0 before any).
    pub revision: u64,
}

impl ReviewState {
    pub fn new(unit_id: &str) -> ReviewState {
        ReviewState {
            unit_id: unit_id.to_owned(),
            ..ReviewState::default()
        }
    }

    /// Oldest first.
    pub fn targets(&self) -> impl Iterator<Item = &DevelopmentTarget> {
        self.order.iter().filter_map(|id| self.targets.get(id))
    }

    pub fn target(&self, target_id: &str) -> Option<&DevelopmentTarget> {
        self.targets.get(target_id)
    }
}

fn check_period(field: &str, period_id: &str, violations: &mut Violations) {
    if !period_id.is_empty() && !is_valid_key(period_id) {
        violations.add(
            field,
            format!("must be empty (continuous collection) or a period key, got {period_id:?}"),
        );
    }
}

fn check_text(field: &str, text: &str, max: usize, required: bool, violations: &mut Violations) {
    let length = text.trim().chars().count();
    if required && length == 0 {
        violations.add(field, "is required");
    } else if length > max {
        violations.add(
            field,
            format!("must be at most {max} characters, got {length}"),
        );
    }
}

/// What a command on unit `unit_id`'s reviews appends, or why it cannot.
pub fn decide(
    unit_id: &str,
    state: &ReviewState,
    command: ReviewCommand,
) -> Result<Vec<Kind>, ReviewError> {
    let mut violations = Violations::new();
    if !is_valid_unit_id(unit_id) {
        violations.add(
            "unit_id",
            format!("must be 1-64 of a-z, A-Z, 0-9, - and _, got {unit_id:?}"),
        );
    }
    match command {
        ReviewCommand::RecordTarget {
            target_id,
            survey_id,
            period_id,
            text,
        } => {
            if let Err(v) = SurveyId::parse("survey_id", &survey_id) {
                violations.extend(v);
            }
            check_period("period_id", &period_id, &mut violations);
            check_text("text", &text, MAX_TARGET_CHARS, true, &mut violations);
            let target_id = if target_id.is_empty() {
                Uuid::now_v7().to_string()
            } else {
                match Uuid::parse_str(&target_id) {
                    Ok(id) => id.hyphenated().to_string(),
                    Err(_) => {
                        violations.add(
                            "target_id",
                            format!("must be empty or a UUID, got {target_id:?}"),
                        );
                        target_id
                    }
                }
            };
            if !violations.is_empty() {
                return Err(ReviewError::Invalid(violations));
            }
            let recorded = DevelopmentTargetRecorded {
                target_id,
                survey_id,
                period_id,
                text: text.trim().to_owned(),
            };
            if let Some(existing) = state.target(&recorded.target_id) {
                // The same call again (a retry) is a no-op; other content under the id is not.
                let same = existing.survey_id == recorded.survey_id
                    && existing.period_id == recorded.period_id
                    && existing.text == recorded.text;
                return if same {
                    Ok(Vec::new())
                } else {
                    Err(ReviewError::AlreadyExists(recorded.target_id))
                };
            }
            Ok(vec![Kind::TargetRecorded(recorded)])
        }
        ReviewCommand::FollowUp {
            target_id,
            progress,
            note,
            period_id,
        } => {
            match TargetProgress::try_from(progress) {
                Ok(TargetProgress::Unspecified) | Err(_) => violations.add(
                    "progress",
                    format!(
                        "must be one of CHOSEN, IN_PROGRESS, ACHIEVED, DROPPED, got {progress}"
                    ),
                ),
                Ok(_) => {}
            }
            check_period("period_id", &period_id, &mut violations);
            check_text("note", &note, MAX_NOTE_CHARS, false, &mut violations);
            if target_id.is_empty() {
                violations.add("target_id", "is required");
            }
            if !violations.is_empty() {
                return Err(ReviewError::Invalid(violations));
            }
            if state.target(&target_id).is_none() {
                return Err(ReviewError::TargetNotFound {
                    unit_id: unit_id.to_owned(),
                    target_id,
                });
            }
            Ok(vec![Kind::TargetFollowedUp(DevelopmentTargetFollowedUp {
                target_id,
                progress,
                note: note.trim().to_owned(),
                period_id,
            })])
        }
    }
}

/// Why a stored review event cannot be folded: the record contradicts itself.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("review event at sequence {sequence}: {reason}")]
pub struct ReviewFoldError {
    pub sequence: u64,
    pub reason: String,
}

/// Folds one stored event into the unit's reviews.
pub fn evolve(
    mut state: ReviewState,
    event: &ReviewEvent,
    sequence: u64,
) -> Result<ReviewState, ReviewFoldError> {
    let fail = |reason: String| ReviewFoldError { sequence, reason };
    match &event.kind {
        None => return Err(fail("event has no kind".into())),
        Some(Kind::TargetRecorded(recorded)) => {
            let target = DevelopmentTarget {
                target_id: recorded.target_id.clone(),
                unit_id: event.unit_id.clone(),
                survey_id: recorded.survey_id.clone(),
                period_id: recorded.period_id.clone(),
                text: recorded.text.clone(),
                progress: TargetProgress::Chosen as i32,
                follow_up_note: String::new(),
                followed_up_in_period_id: String::new(),
                recorded_at: event.occurred_at,
                recorded_by: event.recorded_by.clone(),
            };
            if state
                .targets
                .insert(target.target_id.clone(), target)
                .is_none()
            {
                state.order.push(recorded.target_id.clone());
            }
        }
        Some(Kind::TargetFollowedUp(follow_up)) => {
            let target = state
                .targets
                .get_mut(&follow_up.target_id)
                .ok_or_else(|| fail(format!("no target {:?}", follow_up.target_id)))?;
            target.progress = follow_up.progress;
            target.follow_up_note = follow_up.note.clone();
            target.followed_up_in_period_id = follow_up.period_id.clone();
        }
    }
    state.revision = sequence;
    Ok(state)
}

pub fn review_envelope(
    unit_id: &str,
    recorded_by: &str,
    kind: Kind,
    at: DateTime<Utc>,
) -> ReviewEvent {
    ReviewEvent {
        event_id: Uuid::now_v7().to_string(),
        unit_id: unit_id.to_owned(),
        occurred_at: Some(to_timestamp(at)),
        recorded_by: recorded_by.to_owned(),
        kind: Some(kind),
    }
}

pub fn review_event_kind_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::TargetRecorded(_) => "DevelopmentTargetRecorded",
        Kind::TargetFollowedUp(_) => "DevelopmentTargetFollowedUp",
    }
}

/// When the target was chosen, for display.
pub fn recorded_at(target: &DevelopmentTarget) -> Option<DateTime<Utc>> {
    target.recorded_at.as_ref().and_then(from_timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SURVEY: &str = "0190b3c4-0000-7000-8000-000000000001";

    fn record(text: &str) -> ReviewCommand {
        ReviewCommand::RecordTarget {
            target_id: String::new(),
            survey_id: SURVEY.into(),
            period_id: "spring-2026".into(),
            text: text.into(),
        }
    }

    fn apply(state: ReviewState, kinds: Vec<Kind>, first_sequence: u64) -> ReviewState {
        kinds
            .into_iter()
            .enumerate()
            .fold(state, |state, (i, kind)| {
                let event = review_envelope("school-1", "manager-1", kind, Utc::now());
                evolve(state, &event, first_sequence + i as u64).expect("folds")
            })
    }

    #[test]
    fn a_recorded_target_is_chosen_and_listed_in_order() {
        let state = ReviewState::new("school-1");
        let first = decide(
            "school-1",
            &state,
            record("Tell pupils how to book a visit"),
        );
        let state = apply(state, first.expect("valid"), 5);
        let second = decide("school-1", &state, record("Shorter waiting times"));
        let state = apply(state, second.expect("valid"), 9);
        let texts: Vec<_> = state.targets().map(|t| t.text.as_str()).collect();
        assert_eq!(
            texts,
            ["Tell pupils how to book a visit", "Shorter waiting times"]
        );
        let first = state.targets().next().expect("one");
        assert_eq!(first.progress, TargetProgress::Chosen as i32);
        assert_eq!(first.recorded_by, "manager-1");
        assert_eq!(state.revision, 9);
    }

    #[test]
    fn a_follow_up_updates_progress_and_note() {
        let state = apply(
            ReviewState::new("school-1"),
            decide(
                "school-1",
                &ReviewState::new("school-1"),
                record("Shorter queues"),
            )
            .expect("ok"),
            1,
        );
        let target_id = state.targets().next().expect("one").target_id.clone();
        let kinds = decide(
            "school-1",
            &state,
            ReviewCommand::FollowUp {
                target_id: target_id.clone(),
                progress: TargetProgress::Achieved as i32,
                note: " Drop-in hours on Tuesdays ".into(),
                period_id: "autumn-2026".into(),
            },
        )
        .expect("valid");
        let state = apply(state, kinds, 2);
        let target = state.target(&target_id).expect("exists");
        assert_eq!(target.progress, TargetProgress::Achieved as i32);
        assert_eq!(target.follow_up_note, "Drop-in hours on Tuesdays");
        assert_eq!(target.followed_up_in_period_id, "autumn-2026");
    }

    #[test]
    fn every_invalid_field_is_named() {
        let state = ReviewState::new("school 1");
        let Err(ReviewError::Invalid(v)) = decide(
            "school 1",
            &state,
            ReviewCommand::RecordTarget {
                target_id: "not-a-uuid".into(),
                survey_id: "x".into(),
                period_id: "Spring 2026".into(),
                text: "   ".into(),
            },
        ) else {
            panic!("expected violations");
        };
        assert_eq!(
            v.fields(),
            ["unit_id", "survey_id", "period_id", "text", "target_id"]
        );
        let long = "x".repeat(MAX_TARGET_CHARS + 1);
        let Err(ReviewError::Invalid(v)) =
            decide("school-1", &ReviewState::new("school-1"), record(&long))
        else {
            panic!("expected violations");
        };
        assert_eq!(v.fields(), ["text"]);
    }

    #[test]
    fn a_follow_up_needs_a_known_target_and_a_progress() {
        let state = ReviewState::new("school-1");
        let unknown = decide(
            "school-1",
            &state,
            ReviewCommand::FollowUp {
                target_id: "t".into(),
                progress: TargetProgress::InProgress as i32,
                note: String::new(),
                period_id: String::new(),
            },
        );
        assert!(matches!(unknown, Err(ReviewError::TargetNotFound { .. })));
        let Err(ReviewError::Invalid(v)) = decide(
            "school-1",
            &state,
            ReviewCommand::FollowUp {
                target_id: String::new(),
                progress: 0,
                note: "n".repeat(MAX_NOTE_CHARS + 1),
                period_id: String::new(),
            },
        ) else {
            panic!("expected violations");
        };
        assert_eq!(v.fields(), ["progress", "note", "target_id"]);
    }

    #[test]
    fn recording_the_same_target_again_is_a_no_op_and_other_content_is_refused() {
        let id = "0190b3c4-0000-7000-8000-0000000000aa".to_owned();
        let command = |text: &str| ReviewCommand::RecordTarget {
            target_id: id.clone(),
            survey_id: SURVEY.into(),
            period_id: String::new(),
            text: text.into(),
        };
        let state = ReviewState::new("school-1");
        let state = apply(
            state.clone(),
            decide("school-1", &state, command("A")).expect("ok"),
            3,
        );
        assert_eq!(decide("school-1", &state, command("A")), Ok(Vec::new()));
        assert!(matches!(
            decide("school-1", &state, command("B")),
            Err(ReviewError::AlreadyExists(_))
        ));
    }
}
