use kaiku_proto::survey::v1::{NpsQuestion, OpenTextQuestion, question::Kind as QuestionKind};

use super::*;
use crate::fixtures::{NPS_KEY, nps_survey};

fn id() -> SurveyId {
    SurveyId::new_random()
}

/// Given events, fold them like survey-definition does, numbering sequences from 1.
fn given(id: SurveyId, kinds: Vec<Kind>) -> Option<SurveyState> {
    let mut state = None;
    for (i, kind) in kinds.into_iter().enumerate() {
        let event = envelope(id, kind, Utc::now());
        state = Some(evolve(id, state, &event, i as u64 + 1).expect("folds"));
    }
    state
}

fn created() -> Kind {
    Kind::Created(SurveyCreated {
        draft: Some(nps_survey(&["unit-1"])),
    })
}

#[test]
fn creating_a_survey_records_its_draft() {
    let events = decide(
        id(),
        None,
        SurveyCommand::Create {
            draft: nps_survey(&["u"]),
        },
    )
    .expect("valid draft");
    assert!(matches!(events.as_slice(), [Kind::Created(c)] if c.draft == Some(nps_survey(&["u"]))));
}

#[test]
fn a_draft_with_a_malformed_question_key_is_refused_naming_the_field() {
    let mut draft = nps_survey(&["u"]);
    draft.questions[0].key = "NPS!".into();
    let err = decide(id(), None, SurveyCommand::Create { draft }).expect_err("invalid");
    match err {
        SurveyError::Invalid(v) => assert_eq!(v.fields(), vec!["draft.questions[0].key"]),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn an_incomplete_draft_may_be_saved_but_not_published() {
    let survey = id();
    let mut draft = nps_survey(&["u"]);
    draft.questions[0].texts.retain(|t| t.language != 1); // drop Finnish
    let state = given(
        survey,
        vec![Kind::Created(SurveyCreated { draft: Some(draft) })],
    );
    let err = decide(
        survey,
        state.as_ref(),
        SurveyCommand::PublishVersion {
            expected_revision: 1,
        },
    )
    .expect_err("missing translation");
    match err {
        SurveyError::Invalid(v) => {
            assert_eq!(v.fields(), vec!["draft.questions[0].texts"]);
            assert!(v.to_string().contains("missing translation: fi"), "{v}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn publishing_freezes_the_draft_as_version_one() {
    let survey = id();
    let state = given(survey, vec![created()]);
    let events = decide(
        survey,
        state.as_ref(),
        SurveyCommand::PublishVersion {
            expected_revision: 1,
        },
    )
    .expect("publishable");
    let state = given(survey, vec![created(), events[0].clone()]).expect("state");
    assert_eq!(state.latest_version(), 1);
    assert_eq!(state.status(), SurveyStatus::Published);
    assert_eq!(state.versions[0].content.as_ref(), Some(&state.draft));
    assert_eq!(state.revision, 2);
}

#[test]
fn a_stale_expected_revision_is_refused() {
    let survey = id();
    let state = given(survey, vec![created()]);
    let err = decide(
        survey,
        state.as_ref(),
        SurveyCommand::UpdateDraft {
            expected_revision: 7,
            draft: nps_survey(&["u"]),
        },
    )
    .expect_err("stale");
    assert_eq!(
        err,
        SurveyError::StaleRevision {
            id: survey,
            expected: 7,
            actual: 1
        }
    );
}

#[test]
fn publishing_an_unchanged_draft_again_is_refused() {
    let survey = id();
    let publish = decide(
        survey,
        given(survey, vec![created()]).as_ref(),
        SurveyCommand::PublishVersion {
            expected_revision: 1,
        },
    )
    .expect("ok")
    .remove(0);
    let state = given(survey, vec![created(), publish]);
    let err = decide(
        survey,
        state.as_ref(),
        SurveyCommand::PublishVersion {
            expected_revision: 2,
        },
    )
    .expect_err("unchanged");
    assert_eq!(
        err,
        SurveyError::NothingToPublish {
            id: survey,
            version: 1
        }
    );
}

#[test]
fn a_question_key_keeps_its_kind_across_versions() {
    let survey = id();
    let publish = decide(
        survey,
        given(survey, vec![created()]).as_ref(),
        SurveyCommand::PublishVersion {
            expected_revision: 1,
        },
    )
    .expect("ok")
    .remove(0);
    let mut changed = nps_survey(&["unit-1"]);
    changed.questions[0].kind = Some(QuestionKind::OpenText(OpenTextQuestion { max_chars: 10 }));
    let update = Kind::DraftUpdated(SurveyDraftUpdated {
        draft: Some(changed),
    });
    let state = given(survey, vec![created(), publish, update]);
    let err = decide(
        survey,
        state.as_ref(),
        SurveyCommand::PublishVersion {
            expected_revision: 3,
        },
    )
    .expect_err("kind changed");
    match err {
        SurveyError::Invalid(v) => assert_eq!(v.fields(), vec!["draft.questions[0].kind"]),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_retried_create_with_the_same_draft_changes_nothing_and_other_content_is_refused() {
    let survey = id();
    let state = given(survey, vec![created()]);
    let same = decide(
        survey,
        state.as_ref(),
        SurveyCommand::Create {
            draft: nps_survey(&["unit-1"]),
        },
    );
    assert_eq!(same, Ok(vec![]));
    let mut other = nps_survey(&["unit-1"]);
    other.questions[0].kind = Some(QuestionKind::Nps(NpsQuestion {}));
    other.questions[0].key = NPS_KEY.into();
    other.unit_ids = vec!["elsewhere".into()];
    let err = decide(
        survey,
        state.as_ref(),
        SurveyCommand::Create { draft: other },
    )
    .expect_err("differs");
    assert_eq!(err, SurveyError::AlreadyExists(survey));
}

#[test]
fn commands_on_an_unknown_survey_are_not_found() {
    let survey = id();
    let err = decide(
        survey,
        None,
        SurveyCommand::PublishVersion {
            expected_revision: 0,
        },
    )
    .expect_err("unknown");
    assert_eq!(err, SurveyError::NotFound(survey));
}

#[test]
fn an_event_before_creation_does_not_fold() {
    let survey = id();
    let event = envelope(survey, Kind::Archived(Default::default()), Utc::now());
    assert!(matches!(
        evolve(survey, None, &event, 3),
        Err(FoldError::BeforeCreated { sequence: 3, .. })
    ));
    let empty = SurveyEvent {
        kind: None,
        ..event
    };
    assert_eq!(
        evolve(survey, None, &empty, 4),
        Err(FoldError::MissingKind { sequence: 4 })
    );
}
