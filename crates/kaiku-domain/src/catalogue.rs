//! The catalogue of published survey versions and the unit tree, folded from KAIKU_SURVEYS.
//! Intake validates every submission against it; it holds only what was published, never
//! drafts. Each form's `unit_ids` is expanded to the open units its targets cover, so the
//! answer check stays a simple membership test and follows unit changes at once.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use kaiku_proto::events::v1::{SurveyEvent, UnitEvent, survey_event::Kind};
use kaiku_proto::survey::v1::SurveyContent;

use crate::SurveyId;
use crate::unit::{UnitFoldError, UnitTree};

/// One published, immutable survey version.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedForm {
    pub survey_id: SurveyId,
    pub version: u32,
    pub content: SurveyContent,
}

impl PublishedForm {
    /// The same form with `unit_ids` replaced by every open unit its targets cover in `tree`.
    pub fn with_covered_units(&self, tree: &UnitTree) -> PublishedForm {
        let mut form = self.clone();
        form.content.unit_ids = tree.covered_units(&self.content.unit_ids);
        form
    }
}

#[derive(Debug, Default)]
struct Entry {
    archived: bool,
    /// As published, targets unexpanded.
    published: BTreeMap<u32, PublishedForm>,
    /// As answers are checked against: targets expanded with the current unit tree.
    versions: BTreeMap<u32, Arc<PublishedForm>>,
}

impl Entry {
    fn expand(&mut self, tree: &UnitTree) {
        self.versions = self
            .published
            .iter()
            .map(|(version, form)| (*version, Arc::new(form.with_covered_units(tree))))
            .collect();
    }
}

/// What the catalogue knows of a (survey, version) pair.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    Found(Arc<PublishedForm>),
    UnknownSurvey,
    /// The survey exists but has no published version yet.
    NotPublished,
    UnknownVersion {
        latest: u32,
    },
    Archived,
}

impl Lookup {
    /// True when a fresher catalogue could answer differently (the survey or version may have
    /// been published after this catalogue last caught up).
    pub fn may_be_stale(&self) -> bool {
        matches!(
            self,
            Lookup::UnknownSurvey | Lookup::NotPublished | Lookup::UnknownVersion { .. }
        )
    }
}

/// A published survey's retention setting, as the retention sweep needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct SurveyRetention {
    pub survey_id: SurveyId,
    /// The latest published version's setting (None or 0 months = the county's default).
    pub retention: Option<kaiku_proto::survey::v1::Retention>,
    pub asks_open_text: bool,
}

#[derive(Debug, Default)]
pub struct Catalogue {
    surveys: HashMap<SurveyId, Entry>,
    units: UnitTree,
    last_sequence: u64,
}

impl Catalogue {
    pub fn new() -> Self {
        Self::default()
    }

    /// The KAIKU_SURVEYS sequence this catalogue has applied up to.
    pub fn last_sequence(&self) -> u64 {
        self.last_sequence
    }

    /// Marks a sequence as seen even when its event was not a survey event (e.g. a unit event),
    /// so catching up can tell it is done.
    pub fn advance_to(&mut self, sequence: u64) {
        self.last_sequence = self.last_sequence.max(sequence);
    }

    pub fn apply(&mut self, survey_id: SurveyId, event: &SurveyEvent, sequence: u64) {
        self.advance_to(sequence);
        let Some(kind) = &event.kind else { return };
        let entry = self.surveys.entry(survey_id).or_default();
        match kind {
            Kind::VersionPublished(published) => {
                let form = PublishedForm {
                    survey_id,
                    version: published.version,
                    content: published.content.clone().unwrap_or_default(),
                };
                entry.versions.insert(
                    published.version,
                    Arc::new(form.with_covered_units(&self.units)),
                );
                entry.published.insert(published.version, form);
            }
            Kind::Archived(_) => entry.archived = true,
            Kind::Created(_)
            | Kind::DraftUpdated(_)
            | Kind::PeriodScheduled(_)
            | Kind::PeriodClosed(_) => {}
        }
    }

    /// Folds a unit event into the tree and re-expands every form's targets. Unit events are
    /// rare (an admin action), so recomputing all is simpler than tracking who is affected.
    pub fn apply_unit(&mut self, event: &UnitEvent, sequence: u64) -> Result<(), UnitFoldError> {
        self.advance_to(sequence);
        self.units.apply(event, sequence)?;
        for entry in self.surveys.values_mut() {
            entry.expand(&self.units);
        }
        Ok(())
    }

    pub fn units(&self) -> &UnitTree {
        &self.units
    }

    /// Every survey with a published version, with the retention of its latest version (which
    /// governs all its answers, ADR 0019) and whether any version asks an open question (one
    /// that never did has nothing to erase). Archived surveys too: their answers age as well.
    pub fn retention_policies(&self) -> Vec<SurveyRetention> {
        let mut policies: Vec<SurveyRetention> = self
            .surveys
            .iter()
            .filter_map(|(survey_id, entry)| {
                let (_, latest) = entry.published.iter().next_back()?;
                let asks_open_text = entry.published.values().any(|form| {
                    form.content.questions.iter().any(|q| {
                        matches!(
                            q.kind,
                            Some(kaiku_proto::survey::v1::question::Kind::OpenText(_))
                        )
                    })
                });
                Some(SurveyRetention {
                    survey_id: *survey_id,
                    retention: latest.content.retention,
                    asks_open_text,
                })
            })
            .collect();
        // A stable order, so a sweep bounded per pass goes round the surveys fairly.
        policies.sort_by_key(|p| p.survey_id);
        policies
    }

    pub fn lookup(&self, survey_id: SurveyId, version: u32) -> Lookup {
        let Some(entry) = self.surveys.get(&survey_id) else {
            return Lookup::UnknownSurvey;
        };
        if entry.archived {
            return Lookup::Archived;
        }
        match entry.versions.get(&version) {
            Some(form) => Lookup::Found(Arc::clone(form)),
            None => match entry.versions.keys().next_back() {
                None => Lookup::NotPublished,
                Some(latest) => Lookup::UnknownVersion { latest: *latest },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use kaiku_proto::events::v1::{SurveyArchived, SurveyCreated, SurveyVersionPublished};

    use super::*;
    use crate::fixtures::nps_survey;
    use crate::survey::envelope;

    #[test]
    fn only_published_versions_are_found() {
        let id = SurveyId::new_random();
        let mut catalogue = Catalogue::new();
        assert_eq!(catalogue.lookup(id, 1), Lookup::UnknownSurvey);
        let created = envelope(
            id,
            Kind::Created(SurveyCreated {
                draft: Some(nps_survey(&["u"])),
            }),
            Utc::now(),
        );
        catalogue.apply(id, &created, 1);
        assert_eq!(catalogue.lookup(id, 1), Lookup::NotPublished);
        let published = envelope(
            id,
            Kind::VersionPublished(SurveyVersionPublished {
                version: 1,
                content: Some(nps_survey(&["u"])),
            }),
            Utc::now(),
        );
        catalogue.apply(id, &published, 2);
        assert!(matches!(catalogue.lookup(id, 1), Lookup::Found(form) if form.version == 1));
        assert_eq!(
            catalogue.lookup(id, 2),
            Lookup::UnknownVersion { latest: 1 }
        );
        assert_eq!(catalogue.last_sequence(), 2);
        catalogue.apply(
            id,
            &envelope(id, Kind::Archived(SurveyArchived {}), Utc::now()),
            5,
        );
        assert_eq!(catalogue.lookup(id, 1), Lookup::Archived);
    }

    fn publish(catalogue: &mut Catalogue, id: SurveyId, version: u32, months: u32, seq: u64) {
        let mut content = nps_survey(&["u"]);
        content.retention = Some(kaiku_proto::survey::v1::Retention {
            open_text_months: months,
        });
        let published = envelope(
            id,
            Kind::VersionPublished(SurveyVersionPublished {
                version,
                content: Some(content),
            }),
            Utc::now(),
        );
        catalogue.apply(id, &published, seq);
    }

    #[test]
    fn the_latest_published_version_sets_a_surveys_retention() {
        let (id, draft_only) = (SurveyId::new_random(), SurveyId::new_random());
        let mut catalogue = Catalogue::new();
        let created = envelope(
            draft_only,
            Kind::Created(SurveyCreated {
                draft: Some(nps_survey(&["u"])),
            }),
            Utc::now(),
        );
        catalogue.apply(draft_only, &created, 1);
        publish(&mut catalogue, id, 1, 6, 2);
        publish(&mut catalogue, id, 2, 12, 3);
        let policies = catalogue.retention_policies();
        assert_eq!(policies.len(), 1, "no answers to a draft");
        assert_eq!(policies[0].survey_id, id);
        assert_eq!(policies[0].retention.map(|r| r.open_text_months), Some(12));
        assert!(policies[0].asks_open_text);
        catalogue.apply(
            id,
            &envelope(id, Kind::Archived(SurveyArchived {}), Utc::now()),
            4,
        );
        assert_eq!(
            catalogue.retention_policies().len(),
            1,
            "archived still ages"
        );
    }
}
