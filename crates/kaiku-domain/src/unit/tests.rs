use chrono::Utc;
use kaiku_proto::survey::v1::{Language, LocalizedText, UnitLevel};

use super::*;

fn names(fi: &str) -> Vec<LocalizedText> {
    vec![LocalizedText {
        language: Language::Fi as i32,
        text: fi.to_owned(),
    }]
}

fn create(parent: &str, level: UnitLevel) -> UnitCommand {
    UnitCommand::Create {
        parent_unit_id: parent.to_owned(),
        level: level as i32,
        names: names("Nimi"),
    }
}

/// Runs `command` on `unit_id` against `tree` and folds the result in, as the service does.
fn run(
    tree: &mut UnitTree,
    unit_id: &str,
    command: UnitCommand,
    sequence: &mut u64,
) -> Result<(), UnitError> {
    let state = tree.get(unit_id).cloned();
    for kind in decide(unit_id, state.as_ref(), tree, command)? {
        *sequence += 1;
        tree.apply(&unit_envelope(unit_id, kind, Utc::now()), *sequence)
            .expect("decided events fold");
    }
    Ok(())
}

/// county > area > school-1, school-2.
fn demo_tree() -> (UnitTree, u64) {
    let mut tree = UnitTree::new();
    let mut seq = 0;
    run(&mut tree, "county", create("", UnitLevel::County), &mut seq).expect("county");
    run(
        &mut tree,
        "area",
        create("county", UnitLevel::ServiceArea),
        &mut seq,
    )
    .expect("area");
    run(
        &mut tree,
        "school-1",
        create("area", UnitLevel::Unit),
        &mut seq,
    )
    .expect("school-1");
    run(
        &mut tree,
        "school-2",
        create("area", UnitLevel::Unit),
        &mut seq,
    )
    .expect("school-2");
    (tree, seq)
}

fn fields(error: UnitError) -> Vec<String> {
    match error {
        UnitError::Invalid(v) => v.fields().into_iter().map(str::to_owned).collect(),
        other => panic!("expected violations, got {other}"),
    }
}

#[test]
fn a_tree_is_built_county_down() {
    let (tree, _) = demo_tree();
    assert_eq!(tree.lineage("school-1"), vec!["school-1", "area", "county"]);
    assert_eq!(tree.children("area").count(), 2);
}

#[test]
fn misplaced_units_are_refused_naming_the_field() {
    let (mut tree, mut seq) = demo_tree();
    let cases: Vec<(&str, UnitCommand, Vec<&str>)> = vec![
        (
            "c2",
            create("county", UnitLevel::County),
            vec!["parent_unit_id"],
        ),
        (
            "a2",
            create("", UnitLevel::ServiceArea),
            vec!["parent_unit_id"],
        ),
        (
            "a3",
            create("school-1", UnitLevel::ServiceArea),
            vec!["parent_unit_id"],
        ),
        (
            "s3",
            create("nowhere", UnitLevel::Unit),
            vec!["parent_unit_id"],
        ),
        (
            "s4",
            create("school-1", UnitLevel::Unit),
            vec!["parent_unit_id"],
        ),
        ("bad id!", create("area", UnitLevel::Unit), vec!["unit_id"]),
        ("s5", create("area", UnitLevel::Unspecified), vec!["level"]),
        (
            "s6",
            UnitCommand::Create {
                parent_unit_id: "area".into(),
                level: UnitLevel::Unit as i32,
                names: vec![],
            },
            vec!["names"],
        ),
    ];
    for (unit_id, command, expected) in cases {
        let error = run(&mut tree, unit_id, command, &mut seq).expect_err(unit_id);
        assert_eq!(fields(error), expected, "{unit_id}");
    }
}

#[test]
fn a_repeated_create_is_idempotent_and_a_different_one_conflicts() {
    let (mut tree, mut seq) = demo_tree();
    let before = seq;
    run(
        &mut tree,
        "school-1",
        create("area", UnitLevel::Unit),
        &mut seq,
    )
    .expect("same again");
    assert_eq!(seq, before, "nothing new appended");
    let error = run(
        &mut tree,
        "school-1",
        create("county", UnitLevel::Unit),
        &mut seq,
    )
    .expect_err("different parent");
    assert_eq!(error, UnitError::AlreadyExists("school-1".into()));
}

#[test]
fn a_stale_revision_is_refused() {
    let (mut tree, mut seq) = demo_tree();
    let error = run(
        &mut tree,
        "school-1",
        UnitCommand::Rename {
            expected_revision: 1,
            names: names("Uusi"),
        },
        &mut seq,
    )
    .expect_err("stale");
    assert!(matches!(
        error,
        UnitError::StaleRevision {
            expected: 1,
            actual: 3,
            ..
        }
    ));
}

#[test]
fn a_unit_with_open_units_below_cannot_close() {
    let (mut tree, mut seq) = demo_tree();
    let revision = tree.get("area").map(|u| u.revision).unwrap_or_default();
    let error = run(
        &mut tree,
        "area",
        UnitCommand::Close {
            expected_revision: revision,
        },
        &mut seq,
    )
    .expect_err("open children");
    assert_eq!(fields(error), vec!["unit_id"]);
}

#[test]
fn a_survey_on_a_service_area_covers_its_open_units() {
    let (mut tree, mut seq) = demo_tree();
    let targets = vec!["area".to_owned()];
    assert!(tree.covers(&targets, "school-1"));
    assert!(tree.covers(&targets, "area"));
    assert!(!tree.covers(&targets, "county"));
    assert!(!tree.covers(&targets, "unknown"));
    let revision = tree.get("school-2").map(|u| u.revision).unwrap_or_default();
    run(
        &mut tree,
        "school-2",
        UnitCommand::Close {
            expected_revision: revision,
        },
        &mut seq,
    )
    .expect("close");
    assert!(
        !tree.covers(&targets, "school-2"),
        "closed units take no answers"
    );
    assert_eq!(tree.covered_units(&targets), vec!["area", "school-1"]);
}

#[test]
fn a_moved_unit_follows_its_new_parent() {
    let (mut tree, mut seq) = demo_tree();
    run(
        &mut tree,
        "area-2",
        create("county", UnitLevel::ServiceArea),
        &mut seq,
    )
    .expect("area-2");
    let revision = tree.get("school-1").map(|u| u.revision).unwrap_or_default();
    run(
        &mut tree,
        "school-1",
        UnitCommand::Move {
            expected_revision: revision,
            parent_unit_id: "area-2".into(),
        },
        &mut seq,
    )
    .expect("move");
    assert!(tree.covers(&["area-2".to_owned()], "school-1"));
    assert!(!tree.covers(&["area".to_owned()], "school-1"));
}

#[test]
fn publishing_needs_existing_open_targets() {
    let (tree, _) = demo_tree();
    let mut content = crate::fixtures::nps_survey(&["school-1", "missing"]);
    let error = check_targets("draft", &content, &tree).expect_err("missing unit");
    assert_eq!(error.fields(), vec!["draft.unit_ids[1]"]);
    content.unit_ids.pop();
    assert!(check_targets("draft", &content, &tree).is_ok());
}
