//! Organisation units: a tree of county > service area > unit (e.g. a school), event-sourced on
//! KAIKU_SURVEYS under `kaiku.unit.<unit_id>`. Surveys target units; an answer may name a
//! targeted unit or any open unit below one, so a survey aimed at a service area covers its
//! schools, including schools added later.
//!
//! `decide` and `evolve` are pure like the survey aggregate's; `UnitTree` is the fold of all unit
//! events, which survey-definition, intake and the projection each build for themselves.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use kaiku_proto::events::v1::{
    UnitClosed, UnitCreated, UnitEvent, UnitMoved, UnitRenamed, unit_event::Kind,
};
use kaiku_proto::survey::v1::{Language, LocalizedText, SurveyContent, Unit, UnitLevel};

use crate::Violations;
use crate::ids::is_valid_unit_id;
use crate::time::to_timestamp;

/// One unit as folded from its events.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitState {
    pub unit_id: String,
    /// Empty for a county.
    pub parent_unit_id: String,
    pub level: UnitLevel,
    pub names: Vec<LocalizedText>,
    pub closed: bool,
    /// Stream sequence of the unit's last event, for optimistic concurrency.
    pub revision: u64,
}

impl UnitState {
    pub fn to_proto(&self) -> Unit {
        Unit {
            unit_id: self.unit_id.clone(),
            parent_unit_id: self.parent_unit_id.clone(),
            level: self.level as i32,
            names: self.names.clone(),
            revision: self.revision,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum UnitCommand {
    Create {
        parent_unit_id: String,
        level: i32,
        names: Vec<LocalizedText>,
    },
    Rename {
        expected_revision: u64,
        names: Vec<LocalizedText>,
    },
    Move {
        expected_revision: u64,
        parent_unit_id: String,
    },
    Close {
        expected_revision: u64,
    },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UnitError {
    #[error("invalid unit: {0}")]
    Invalid(Violations),
    #[error("unit {0:?} does not exist")]
    NotFound(String),
    #[error("unit {0:?} already exists with other settings")]
    AlreadyExists(String),
    #[error("unit {unit_id:?} is at revision {actual}, not {expected}; reload it and retry")]
    StaleRevision {
        unit_id: String,
        expected: u64,
        actual: u64,
    },
    #[error("unit {0:?} is closed")]
    Closed(String),
}

impl From<Violations> for UnitError {
    fn from(v: Violations) -> Self {
        UnitError::Invalid(v)
    }
}

/// What a command on `unit_id` produces, given the unit's state and the whole tree.
pub fn decide(
    unit_id: &str,
    state: Option<&UnitState>,
    tree: &UnitTree,
    command: UnitCommand,
) -> Result<Vec<Kind>, UnitError> {
    match (state, command) {
        (
            existing,
            UnitCommand::Create {
                parent_unit_id,
                level,
                names,
            },
        ) => {
            let mut v = Violations::new();
            if !is_valid_unit_id(unit_id) {
                v.add(
                    "unit_id",
                    format!("must be 1-64 characters of a-z, A-Z, 0-9, - and _, got {unit_id:?}"),
                );
            }
            let level = match UnitLevel::try_from(level) {
                Ok(UnitLevel::Unspecified) | Err(_) => {
                    v.add("level", "is required: county, service_area or unit");
                    UnitLevel::Unspecified
                }
                Ok(level) => level,
            };
            check_names(&mut v, &names);
            if level != UnitLevel::Unspecified {
                check_parent(&mut v, tree, unit_id, level, &parent_unit_id);
            }
            v.into_result(())?;
            if let Some(existing) = existing {
                // A retried create with the same settings is the same unit, not an error.
                return if existing.parent_unit_id == parent_unit_id
                    && existing.level == level
                    && existing.names == names
                {
                    Ok(vec![])
                } else {
                    Err(UnitError::AlreadyExists(unit_id.to_owned()))
                };
            }
            Ok(vec![Kind::Created(UnitCreated {
                parent_unit_id,
                level: level as i32,
                names,
            })])
        }
        (None, _) => Err(UnitError::NotFound(unit_id.to_owned())),
        (Some(state), command) => {
            let expected = match &command {
                UnitCommand::Rename {
                    expected_revision, ..
                }
                | UnitCommand::Move {
                    expected_revision, ..
                }
                | UnitCommand::Close { expected_revision } => *expected_revision,
                UnitCommand::Create { .. } => state.revision,
            };
            if expected != state.revision {
                return Err(UnitError::StaleRevision {
                    unit_id: unit_id.to_owned(),
                    expected,
                    actual: state.revision,
                });
            }
            if state.closed {
                return Err(UnitError::Closed(unit_id.to_owned()));
            }
            match command {
                UnitCommand::Rename { names, .. } => {
                    let mut v = Violations::new();
                    check_names(&mut v, &names);
                    v.into_result(())?;
                    Ok(vec![Kind::Renamed(UnitRenamed { names })])
                }
                UnitCommand::Move { parent_unit_id, .. } => {
                    let mut v = Violations::new();
                    check_parent(&mut v, tree, unit_id, state.level, &parent_unit_id);
                    v.into_result(())?;
                    Ok(vec![Kind::Moved(UnitMoved { parent_unit_id })])
                }
                UnitCommand::Close { .. } => {
                    let open_children: Vec<&str> = tree
                        .children(unit_id)
                        .filter(|child| !child.closed)
                        .map(|child| child.unit_id.as_str())
                        .collect();
                    if !open_children.is_empty() {
                        return Err(Violations::single(
                            "unit_id",
                            format!(
                                "has open units below it ({}); close or move them first",
                                open_children.join(", ")
                            ),
                        )
                        .into());
                    }
                    Ok(vec![Kind::Closed(UnitClosed {})])
                }
                UnitCommand::Create { .. } => Ok(vec![]),
            }
        }
    }
}

fn check_names(v: &mut Violations, names: &[LocalizedText]) {
    if names.is_empty() {
        v.add(
            "names",
            "must give the unit's name in at least one language",
        );
    }
    let mut seen = HashSet::new();
    for (i, name) in names.iter().enumerate() {
        if matches!(
            Language::try_from(name.language),
            Ok(Language::Unspecified) | Err(_)
        ) {
            v.add(format!("names[{i}].language"), "is required: fi, sv or en");
        } else if !seen.insert(name.language) {
            v.add(format!("names[{i}].language"), "is given twice");
        }
        let chars = name.text.trim().chars().count();
        if chars == 0 || chars > 200 {
            v.add(format!("names[{i}].text"), "must be 1-200 characters");
        }
    }
}

/// A county has no parent; a service area sits under a county; a unit under a county or a
/// service area. The parent must exist and be open.
fn check_parent(
    v: &mut Violations,
    tree: &UnitTree,
    unit_id: &str,
    level: UnitLevel,
    parent: &str,
) {
    let allowed: &[UnitLevel] = match level {
        UnitLevel::County => &[],
        UnitLevel::ServiceArea => &[UnitLevel::County],
        UnitLevel::Unit | UnitLevel::Unspecified => &[UnitLevel::County, UnitLevel::ServiceArea],
    };
    if allowed.is_empty() {
        if !parent.is_empty() {
            v.add(
                "parent_unit_id",
                "must be empty: a county is the top of the tree",
            );
        }
        return;
    }
    if parent.is_empty() {
        v.add("parent_unit_id", "is required below county level");
        return;
    }
    if parent == unit_id {
        v.add("parent_unit_id", "cannot be the unit itself");
        return;
    }
    match tree.get(parent) {
        None => v.add("parent_unit_id", format!("unit {parent:?} does not exist")),
        Some(p) if p.closed => v.add("parent_unit_id", format!("unit {parent:?} is closed")),
        Some(p) if !allowed.contains(&p.level) => v.add(
            "parent_unit_id",
            format!(
                "a {} cannot sit under a {}",
                level_name(level),
                level_name(p.level)
            ),
        ),
        Some(_) => {}
    }
}

pub fn level_name(level: UnitLevel) -> &'static str {
    match level {
        UnitLevel::County => "county",
        UnitLevel::ServiceArea => "service area",
        UnitLevel::Unit => "unit",
        UnitLevel::Unspecified => "unit of unspecified level",
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("unit event at sequence {sequence} cannot be applied: {reason}")]
pub struct UnitFoldError {
    pub sequence: u64,
    pub reason: String,
}

/// Folds one stored event into a unit's state.
pub fn evolve(
    unit_id: &str,
    state: Option<UnitState>,
    event: &UnitEvent,
    sequence: u64,
) -> Result<UnitState, UnitFoldError> {
    let fail = |reason: &str| UnitFoldError {
        sequence,
        reason: reason.to_owned(),
    };
    let mut next = match (state, &event.kind) {
        (None, Some(Kind::Created(created))) => UnitState {
            unit_id: unit_id.to_owned(),
            parent_unit_id: created.parent_unit_id.clone(),
            level: UnitLevel::try_from(created.level).unwrap_or(UnitLevel::Unspecified),
            names: created.names.clone(),
            closed: false,
            revision: sequence,
        },
        (None, _) => return Err(fail("the first event of a unit must be UnitCreated")),
        (Some(_), Some(Kind::Created(_))) => return Err(fail("the unit was created twice")),
        (Some(state), None) => {
            return Err(fail(&format!("event of {} has no kind", state.unit_id)));
        }
        (Some(mut state), Some(kind)) => {
            match kind {
                Kind::Renamed(renamed) => state.names = renamed.names.clone(),
                Kind::Moved(moved) => state.parent_unit_id = moved.parent_unit_id.clone(),
                Kind::Closed(_) => state.closed = true,
                Kind::Created(_) => {}
            }
            state
        }
    };
    next.revision = sequence;
    Ok(next)
}

pub fn unit_envelope(unit_id: &str, kind: Kind, at: DateTime<Utc>) -> UnitEvent {
    UnitEvent {
        event_id: uuid::Uuid::now_v7().to_string(),
        unit_id: unit_id.to_owned(),
        occurred_at: Some(to_timestamp(at)),
        kind: Some(kind),
    }
}

pub fn unit_event_kind_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Created(_) => "UnitCreated",
        Kind::Renamed(_) => "UnitRenamed",
        Kind::Moved(_) => "UnitMoved",
        Kind::Closed(_) => "UnitClosed",
    }
}

/// Every unit, folded from all unit events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitTree {
    units: BTreeMap<String, UnitState>,
}

impl UnitTree {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one stored unit event; an event that cannot be folded is reported and skipped,
    /// so one bad event does not hide the rest of the tree.
    pub fn apply(&mut self, event: &UnitEvent, sequence: u64) -> Result<(), UnitFoldError> {
        let state = self.units.remove(&event.unit_id);
        let previous = state.clone();
        match evolve(&event.unit_id, state, event, sequence) {
            Ok(next) => {
                self.units.insert(event.unit_id.clone(), next);
                Ok(())
            }
            Err(error) => {
                if let Some(previous) = previous {
                    self.units.insert(event.unit_id.clone(), previous);
                }
                Err(error)
            }
        }
    }

    pub fn get(&self, unit_id: &str) -> Option<&UnitState> {
        self.units.get(unit_id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &UnitState> {
        self.units.values()
    }

    pub fn children<'a>(&'a self, unit_id: &'a str) -> impl Iterator<Item = &'a UnitState> + 'a {
        self.units
            .values()
            .filter(move |unit| unit.parent_unit_id == unit_id)
    }

    /// `unit_id` and its ancestors, nearest first; stops at a missing parent or a cycle.
    pub fn lineage<'a>(&'a self, unit_id: &'a str) -> Vec<&'a str> {
        let mut lineage = vec![unit_id];
        let mut current = unit_id;
        while let Some(unit) = self.units.get(current) {
            let parent = unit.parent_unit_id.as_str();
            if parent.is_empty() || lineage.contains(&parent) {
                break;
            }
            lineage.push(parent);
            current = parent;
        }
        lineage
    }

    /// Whether an answer naming `unit_id` belongs to a survey targeting `targets`: the unit is
    /// open and is a target or lies below one.
    pub fn covers(&self, targets: &[String], unit_id: &str) -> bool {
        match self.units.get(unit_id) {
            Some(unit) if !unit.closed => self
                .lineage(unit_id)
                .iter()
                .any(|id| targets.iter().any(|t| t == id)),
            _ => false,
        }
    }

    /// The open units an answer to a survey targeting `targets` may name: every target and
    /// every open unit below one, in id order.
    pub fn covered_units(&self, targets: &[String]) -> Vec<String> {
        self.units
            .keys()
            .filter(|id| self.covers(targets, id))
            .cloned()
            .collect()
    }
}

/// Before publishing: every targeted unit must exist and be open.
pub fn check_targets(
    prefix: &str,
    content: &SurveyContent,
    tree: &UnitTree,
) -> Result<(), Violations> {
    let mut v = Violations::new();
    for (i, unit_id) in content.unit_ids.iter().enumerate() {
        match tree.get(unit_id) {
            None => v.add(
                format!("{prefix}.unit_ids[{i}]"),
                format!("unit {unit_id:?} does not exist; create it first"),
            ),
            Some(unit) if unit.closed => v.add(
                format!("{prefix}.unit_ids[{i}]"),
                format!("unit {unit_id:?} is closed"),
            ),
            Some(_) => {}
        }
    }
    v.into_result(())
}

#[cfg(test)]
mod tests;
