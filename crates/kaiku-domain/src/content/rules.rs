//! Every rule of survey content, as a table of (change to a valid survey, exact violations).

use kaiku_proto::survey::v1::{
    ChoiceOption, CollectionPeriod, Condition, Language, LocalDate, LocalizedText, Retention,
    ScheduledCollection, SurveyContent, question::Kind, survey_content::Collection,
};

use super::{Strictness, validate_content};
use crate::fixtures::{all_kinds_survey, texts};

type Change = fn(&mut SurveyContent);
type Expected = &'static [(&'static str, &'static str)];

fn kind<'a>(content: &'a mut SurveyContent, key: &str) -> &'a mut Kind {
    content
        .questions
        .iter_mut()
        .find(|q| q.key == key)
        .and_then(|q| q.kind.as_mut())
        .unwrap_or_else(|| panic!("fixture has {key}"))
}

/// (month, day) in 2026.
type MonthDay = (i32, i32);

fn periods(content: &mut SurveyContent, dates: &[(MonthDay, MonthDay)]) {
    let date = |(month, day)| LocalDate {
        year: 2026,
        month,
        day,
    };
    content.collection = Some(Collection::Scheduled(ScheduledCollection {
        periods: dates
            .iter()
            .enumerate()
            .map(|(i, (starts, ends))| CollectionPeriod {
                period_id: format!("p{i}"),
                starts_on: Some(date(*starts)),
                ends_on: Some(date(*ends)),
            })
            .collect(),
    }));
}

/// Rules checked whenever a draft is saved.
const DRAFT_RULES: &[(&str, Change, Expected)] = &[
    (
        "unknown language",
        |c| c.languages.push(9),
        &[("draft.languages[3]", "unknown or unspecified value 9")],
    ),
    (
        "language twice",
        |c| c.languages.push(Language::Fi as i32),
        &[("draft.languages[3]", "is listed twice")],
    ),
    (
        "question key not a key",
        |c| c.questions[0].key = "NPS score".into(),
        &[(
            "draft.questions[0].key",
            "must be 1-64 characters of a-z, 0-9 and _, starting with a letter, got \"NPS score\"",
        )],
    ),
    (
        "question key twice",
        |c| c.questions[3].key = "kohtaaminen".into(),
        &[("draft.questions[3].key", "\"kohtaaminen\" is used twice")],
    ),
    (
        "question without a kind",
        |c| c.questions[0].kind = None,
        &[(
            "draft.questions[0].kind",
            "is required: one of nps, statement, smiley, choice, open_text",
        )],
    ),
    (
        "unknown THL topic",
        |c| c.questions[2].topic = 42,
        &[("draft.questions[2].topic", "unknown topic 42")],
    ),
    (
        "smiley with four faces",
        |c| {
            if let Kind::Smiley(s) = kind(c, "face") {
                s.faces = 4;
            }
        },
        &[("draft.questions[1].smiley.faces", "must be 3 or 5, got 4")],
    ),
    (
        "choice with one option",
        |c| {
            if let Kind::Choice(choice) = kind(c, "visit") {
                choice.options.truncate(1);
            }
        },
        &[(
            "draft.questions[7].choice.options",
            "must offer at least two options",
        )],
    ),
    (
        "option key twice",
        |c| {
            if let Kind::Choice(choice) = kind(c, "reasons") {
                choice.options.push(ChoiceOption {
                    key: "a".into(),
                    texts: texts("a", "a", "a"),
                });
            }
        },
        &[(
            "draft.questions[6].choice.options[3].key",
            "\"a\" is used twice",
        )],
    ),
    (
        "open text limit above the service limit",
        |c| {
            if let Kind::OpenText(open) = kind(c, "open_feedback") {
                open.max_chars = 10_000;
            }
        },
        &[(
            "draft.questions[8].open_text.max_chars",
            "must be at most 4000, got 10000",
        )],
    ),
    (
        "condition on an unknown group",
        |c| {
            c.questions[4].condition = Some(Condition {
                professional_groups: vec!["opettaja".into()],
                ..Default::default()
            })
        },
        &[(
            "draft.questions[4].condition.professional_groups[0]",
            "names no professional group of this survey: \"opettaja\"",
        )],
    ),
    (
        "condition on an unknown age band",
        |c| {
            c.questions[0].condition = Some(Condition {
                age_bands: vec!["age_99".into()],
                ..Default::default()
            })
        },
        &[(
            "draft.questions[0].condition.age_bands[0]",
            "names no age band of this survey: \"age_99\"",
        )],
    ),
    (
        "age band upside down",
        |c| c.age_bands[0].max_age = 3,
        &[("draft.age_bands[0].max_age", "must be at least min_age 7")],
    ),
    (
        "age band title in a language the survey does not offer",
        |c| {
            c.languages.retain(|l| *l != Language::En as i32);
            c.age_bands[0].titles = texts("Lapsille", "För barn", "For children");
        },
        &[(
            "draft.age_bands[0].titles[2].language",
            "en is not a language of this survey",
        )],
    ),
    (
        "age band intro in a language the survey does not offer",
        |c| {
            c.languages.retain(|l| *l != Language::Sv as i32);
            c.age_bands[1].intros = texts("Vastaa", "Svara", "Answer");
        },
        &[(
            "draft.age_bands[1].intros[1].language",
            "sv is not a language of this survey",
        )],
    ),
    (
        "age band thanks in a language the survey does not offer",
        |c| {
            c.languages.retain(|l| *l != Language::Fi as i32);
            c.age_bands[0].thanks = texts("Kiitos", "Tack", "Thanks");
        },
        &[(
            "draft.age_bands[0].thanks[0].language",
            "fi is not a language of this survey",
        )],
    ),
    (
        "age band title in an unknown language",
        |c| {
            c.age_bands[0].titles = vec![LocalizedText {
                language: 7,
                text: "?".into(),
            }]
        },
        &[(
            "draft.age_bands[0].titles[0].language",
            "must be fi, sv or en, got 7",
        )],
    ),
    (
        "age band intro twice in one language",
        |c| {
            let mut intros = texts("Vastaa", "Svara", "Answer");
            intros.push(LocalizedText {
                language: Language::Fi as i32,
                text: "Vastaa taas".into(),
            });
            c.age_bands[0].intros = intros;
        },
        &[("draft.age_bands[0].intros[3].language", "fi is given twice")],
    ),
    (
        "age band thanks too long",
        |c| c.age_bands[0].thanks = texts(&"k".repeat(1001), "Tack", "Thanks"),
        &[(
            "draft.age_bands[0].thanks[0].text",
            "must be at most 1000 characters",
        )],
    ),
    (
        "group key twice",
        |c| c.professional_groups[1].key = "kuraattori".into(),
        &[(
            "draft.professional_groups[1].key",
            "\"kuraattori\" is used twice",
        )],
    ),
    (
        "unit id with spaces",
        |c| c.unit_ids.push("school two".into()),
        &[(
            "draft.unit_ids[1]",
            "must be 1-64 characters of A-Z, a-z, 0-9, - and _, got \"school two\"",
        )],
    ),
    (
        "unit twice",
        |c| c.unit_ids.push("school-1".into()),
        &[("draft.unit_ids[1]", "unit \"school-1\" is listed twice")],
    ),
    (
        "period ending before it starts",
        |c| periods(c, &[((3, 20), (3, 9))]),
        &[(
            "draft.scheduled.periods[0].ends_on",
            "must not be before starts_on",
        )],
    ),
    (
        "impossible period date",
        |c| periods(c, &[((2, 30), (3, 9))]),
        &[(
            "draft.scheduled.periods[0].starts_on",
            "must be a valid date",
        )],
    ),
    (
        "overlapping periods",
        |c| periods(c, &[((3, 1), (3, 21)), ((3, 20), (4, 10))]),
        &[("draft.scheduled.periods[1]", "overlaps another period")],
    ),
    (
        "scheduled without periods",
        |c| periods(c, &[]),
        &[("draft.scheduled.periods", "must hold at least one period")],
    ),
    (
        "retention beyond ten years",
        |c| {
            c.retention = Some(Retention {
                open_text_months: 121,
            })
        },
        &[(
            "draft.retention.open_text_months",
            "must be at most 120 months (0 = the county's default), got 121",
        )],
    ),
    (
        "retention in days, not months",
        |c| {
            c.retention = Some(Retention {
                open_text_months: 730,
            })
        },
        &[(
            "draft.retention.open_text_months",
            "must be at most 120 months (0 = the county's default), got 730",
        )],
    ),
];

/// Rules that only publishing enforces: a draft may be incomplete.
const PUBLISH_RULES: &[(&str, Change, Expected)] = &[
    (
        "no languages",
        |c| c.languages.clear(),
        &[("draft.languages", "must name at least one language")],
    ),
    (
        "no units",
        |c| c.unit_ids.clear(),
        &[("draft.unit_ids", "must name at least one unit")],
    ),
    (
        "a missing translation",
        |c| {
            c.questions[2]
                .texts
                .retain(|t| t.language != Language::Sv as i32)
        },
        &[("draft.questions[2].texts", "missing translation: sv")],
    ),
    (
        "age band title missing a translation",
        |c| {
            c.age_bands[0].titles = texts("Lapsille", "För barn", "For children");
            c.age_bands[0]
                .titles
                .retain(|t| t.language != Language::Sv as i32);
        },
        &[("draft.age_bands[0].titles", "missing translation: sv")],
    ),
    (
        "age band intro blank",
        |c| c.age_bands[1].intros = texts("Vastaa", " ", "Answer"),
        &[("draft.age_bands[1].intros[1].text", "must not be blank")],
    ),
    (
        "age band thanks missing a translation",
        |c| {
            c.age_bands[0].thanks = texts("Kiitos", "Tack", "Thanks");
            c.age_bands[0].thanks.truncate(1);
        },
        &[("draft.age_bands[0].thanks", "missing translation: sv, en")],
    ),
    (
        "no collection",
        |c| c.collection = None,
        &[(
            "draft.collection",
            "is required: continuous or scheduled periods",
        )],
    ),
];

fn details(content: &SurveyContent, strictness: Strictness) -> Vec<(String, String)> {
    match validate_content("draft", content, strictness) {
        Ok(()) => vec![],
        Err(v) => v
            .iter()
            .map(|f| (f.field.clone(), f.description.clone()))
            .collect(),
    }
}

fn check(rules: &[(&str, Change, Expected)], strictness: Strictness) {
    let mut failures = Vec::new();
    for (rule, change, expected) in rules {
        let mut content = all_kinds_survey(&["school-1"]);
        change(&mut content);
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(f, d)| ((*f).to_owned(), (*d).to_owned()))
            .collect();
        let actual = details(&content, strictness);
        if actual != expected {
            failures.push(format!(
                "{rule}:\n  expected {expected:?}\n  actual   {actual:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn age_band_texts_in_every_language_are_publishable() {
    let mut content = all_kinds_survey(&["school-1"]);
    let band = &mut content.age_bands[0];
    band.titles = texts("Lapsille", "För barn", "For children");
    band.intros = texts("Vastaa", "Svara", "Answer");
    band.thanks = texts("Kiitos", "Tack", "Thanks");
    assert_eq!(details(&content, Strictness::Publish), vec![]);
}

#[test]
fn a_retention_of_its_own_or_the_county_default_is_publishable() {
    for months in [0, 1, 24, 120] {
        let mut content = all_kinds_survey(&["school-1"]);
        content.retention = Some(Retention {
            open_text_months: months,
        });
        assert_eq!(details(&content, Strictness::Publish), vec![], "{months}");
    }
}

#[test]
fn the_fixture_is_publishable() {
    assert_eq!(
        details(&all_kinds_survey(&["school-1"]), Strictness::Publish),
        vec![]
    );
}

#[test]
fn every_draft_rule_refuses_with_exact_details() {
    check(DRAFT_RULES, Strictness::Draft);
}

#[test]
fn every_publish_rule_refuses_with_exact_details() {
    check(PUBLISH_RULES, Strictness::Publish);
    // The same gaps are fine in a draft.
    for (rule, change, _) in PUBLISH_RULES {
        let mut content = all_kinds_survey(&["school-1"]);
        change(&mut content);
        assert_eq!(details(&content, Strictness::Draft), vec![], "{rule}");
    }
}
