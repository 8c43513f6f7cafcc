//! The respondent's pages as a respondent of each age gets them.

use std::collections::HashMap;

use kaiku_proto::intake::v1::AttentionFlag;
use kaiku_proto::survey::v1::{
    AgeBand, FormQuestion, GetFormResponse, NpsQuestion, Question, SmileyQuestion, question::Kind,
};

use super::*;
use crate::help::HelpContacts;
use crate::texts::FI;
use crate::thanks::{ThanksPage, thanks_page};

/// Words of the adults' legal texts that a child's pages never show.
const LEGAL: [&str; 4] = [
    "henkilötun",
    "muistutu",
    "lapsen turvallisuudesta",
    "asiavastaava",
];

fn band(key: &str, min_age: u32, max_age: u32) -> AgeBand {
    AgeBand {
        key: key.into(),
        min_age,
        max_age,
        ..AgeBand::default()
    }
}

fn question(key: &str, kind: Kind) -> FormQuestion {
    FormQuestion {
        question: Some(Question {
            key: key.into(),
            kind: Some(kind),
            required: true,
            ..Question::default()
        }),
        text: format!("{key}?"),
        options: Vec::new(),
    }
}

fn child_form() -> GetFormResponse {
    GetFormResponse {
        title: "Kerro, miltä käynti tuntui".into(),
        intro: "Valitse kasvot.".into(),
        thanks: "Kiitos, että kerroit!".into(),
        age_band: Some(band("age_7_12", 7, 12)),
        accepting: true,
        questions: vec![question(
            "child_overall",
            Kind::Smiley(SmileyQuestion { faces: 3 }),
        )],
        ..GetFormResponse::default()
    }
}

fn adult_form() -> GetFormResponse {
    GetFormResponse {
        title: "Asiakaspalaute".into(),
        age_band: Some(band("adult", 18, 120)),
        accepting: true,
        questions: vec![question("nps", Kind::Nps(NpsQuestion {}))],
        ..GetFormResponse::default()
    }
}

fn render(form: &GetFormResponse, kiosk: bool) -> String {
    let help = HelpContacts::default();
    let values = HashMap::new();
    let errors = QuestionErrors::new();
    form_page(&FormPage {
        texts: &FI,
        form,
        action: "/f/t",
        submission_id: "id",
        languages: &[],
        values: &values,
        errors: &errors,
        banner: None,
        kiosk: kiosk.then_some(KioskSettings {
            idle_seconds: 90,
            return_seconds: 10,
            keep_seconds: 604_800,
        }),
        help: &help,
        offer: None,
    })
    .into_string()
}

fn assert_no_legal_text(html: &str) {
    let lowered = html.to_lowercase();
    for word in LEGAL {
        assert!(!lowered.contains(word), "{word:?} in {html}");
    }
}

#[test]
fn a_childs_kiosk_form_has_the_childs_title_and_intro_and_no_legal_text() {
    let html = render(&child_form(), true);
    assert!(
        html.contains("<title>Kerro, miltä käynti tuntui</title>"),
        "{html}"
    );
    assert!(
        html.contains(r#"<p class="intro">Valitse kasvot.</p>"#),
        "{html}"
    );
    assert_no_legal_text(&html);
    // The thank-you screen waiting in its template: the child's thanks and help.
    assert!(html.contains("Kiitos, että kerroit!"), "{html}");
    assert!(html.contains(r#"href="tel:116111""#), "{html}");
    assert!(html.contains(r#"data-return-seconds="10""#), "{html}");
    // The script deletes an answer it could not send once the server would refuse it.
    assert!(html.contains(r#"data-keep-seconds="604800""#), "{html}");
}

#[test]
fn a_young_form_without_an_intro_of_its_own_gets_the_plain_note() {
    let mut form = child_form();
    form.intro.clear();
    let html = render(&form, false);
    assert!(html.contains(FI.young_note), "{html}");
    assert_no_legal_text(&html);
}

#[test]
fn an_adults_form_keeps_the_anonymity_note_and_the_kiosk_names_the_adults_routes() {
    let html = render(&adult_form(), true);
    assert!(html.contains(FI.anonymous_note), "{html}");
    assert!(
        html.contains(r#"data-guidance="social-emergency""#),
        "{html}"
    );
    assert!(
        html.contains(r#"data-guidance="formal-objection""#),
        "{html}"
    );
    assert!(!html.contains("116111"), "{html}");
}

#[test]
fn each_face_and_number_is_a_tile_whose_label_holds_the_radio() {
    let html = render(&child_form(), false);
    assert!(
        html.contains(r#"<label class="tile-label" for="input-child_overall-0"><input class="tile-input" type="radio" id="input-child_overall-0""#),
        "{html}"
    );
    assert!(html.contains(r#"width="72" height="72""#), "{html}");
    let html = render(&adult_form(), false);
    assert_eq!(html.matches(r#"class="tile-input""#).count(), 11, "{html}");
}

fn thanks(form: Option<&GetFormResponse>, flags: &[AttentionFlag], kiosk: bool) -> String {
    let help = HelpContacts::default();
    thanks_page(&ThanksPage {
        texts: &FI,
        form,
        flags,
        help: &help,
        languages: &[],
        kiosk_return: kiosk.then_some(("/f/t?lang=fi", 10)),
        offer: None,
    })
    .into_string()
}

#[test]
fn a_child_is_thanked_in_their_own_words_and_a_worry_gets_their_help() {
    let form = child_form();
    let html = thanks(Some(&form), &[], false);
    assert!(
        html.contains("<title>Kiitos palautteestasi! – Kerro, miltä käynti tuntui</title>"),
        "{html}"
    );
    assert!(html.contains("Kiitos, että kerroit!"), "{html}");
    assert!(!html.contains("guidance"), "no flag, no guidance: {html}");
    let html = thanks(Some(&form), &[AttentionFlag::FormalObjection], false);
    assert!(html.contains(r#"data-guidance="young-help""#), "{html}");
    assert_no_legal_text(&html);
}

#[test]
fn a_kiosks_thank_you_page_returns_by_itself_only_when_there_is_nothing_to_read() {
    let form = adult_form();
    let plain = thanks(Some(&form), &[], true);
    assert!(
        plain.contains(r#"<meta http-equiv="refresh" content="10;url=/f/t?lang=fi">"#),
        "{plain}"
    );
    let flagged = thanks(Some(&form), &[AttentionFlag::ChildProtectionConcern], true);
    assert!(!flagged.contains("http-equiv"), "{flagged}");
    assert!(
        flagged.contains("Oletko huolissasi lapsen turvallisuudesta?"),
        "{flagged}"
    );
}

#[test]
fn without_the_form_the_common_thanks_and_the_adults_help_are_shown() {
    let html = thanks(None, &[AttentionFlag::FormalObjection], false);
    assert!(html.contains(FI.thanks_body), "{html}");
    assert!(
        html.contains(r#"data-guidance="formal-objection""#),
        "{html}"
    );
}
