//! Which help each respondent gets, and how it reads.

use super::*;
use crate::help::Contact;

const NONE: &[AttentionFlag] = &[];

fn band(min_age: u32, max_age: u32) -> AgeBand {
    AgeBand {
        key: "band".into(),
        min_age,
        max_age,
        ..AgeBand::default()
    }
}

#[test]
fn a_band_under_eighteen_is_young_and_no_band_is_an_adult() {
    assert_eq!(Audience::of(Some(&band(7, 12))), Audience::Young);
    assert_eq!(Audience::of(Some(&band(13, 17))), Audience::Young);
    assert_eq!(Audience::of(Some(&band(18, 120))), Audience::Adult);
    assert_eq!(Audience::of(None), Audience::Adult);
}

#[test]
fn an_unflagged_answer_gets_no_guidance_at_any_age() {
    for audience in [Audience::Young, Audience::Adult] {
        assert_eq!(topics(audience, Moment::Flagged(NONE)), vec![]);
    }
}

#[test]
fn the_kiosk_shows_every_respondent_the_help_for_their_age() {
    assert_eq!(
        topics(Audience::Young, Moment::EveryAnswer),
        vec![Topic::YoungHelp]
    );
    assert_eq!(
        topics(Audience::Adult, Moment::EveryAnswer),
        vec![Topic::SocialEmergency, Topic::FormalObjection]
    );
}

#[test]
fn a_young_person_never_gets_the_adults_objection_or_child_protection_text() {
    let all = [
        AttentionFlag::FormalObjection,
        AttentionFlag::ChildProtectionConcern,
    ];
    assert_eq!(
        topics(Audience::Young, Moment::Flagged(&all)),
        vec![Topic::YoungHelp]
    );
    assert_eq!(
        topics(
            Audience::Young,
            Moment::Flagged(&[
                AttentionFlag::ChildProtectionConcern,
                AttentionFlag::SelfHarm
            ])
        ),
        vec![Topic::YoungSelfHarm]
    );
}

#[test]
fn an_adult_gets_a_section_per_flag_most_urgent_first() {
    let flags = [
        AttentionFlag::FormalObjection,
        AttentionFlag::ChildProtectionConcern,
        AttentionFlag::SelfHarm,
    ];
    assert_eq!(
        topics(Audience::Adult, Moment::Flagged(&flags)),
        vec![
            Topic::SelfHarm,
            Topic::ChildProtection,
            Topic::FormalObjection
        ]
    );
    assert_eq!(
        topics(
            Audience::Adult,
            Moment::Flagged(&[AttentionFlag::FormalObjection])
        ),
        vec![Topic::FormalObjection]
    );
}

#[test]
fn a_young_persons_help_calls_116_111_and_112_and_names_the_school() {
    let html = guidance_markup(
        Language::Fi,
        &HelpContacts::default(),
        &[Topic::YoungHelp],
        Level::H2,
    )
    .into_string();
    assert!(
        html.contains(r#"<a href="tel:116111">116 111</a>"#),
        "{html}"
    );
    assert!(html.contains(r#"<a href="tel:112">112</a>"#), "{html}");
    assert!(
        html.contains("Koulusi kuraattori tai terveydenhoitaja"),
        "{html}"
    );
    assert!(!html.contains("muistutu"), "{html}");
}

#[test]
fn the_countys_own_names_and_numbers_are_shown_as_configured() {
    let contacts = HelpContacts {
        social_emergency: Contact {
            names: "fi:Pirkanmaan sosiaalipäivystys|sv:Birkalands socialjour"
                .parse()
                .ok(),
            phone: "+358 40 123 4567".parse().ok(),
        },
        ..HelpContacts::default()
    };
    let html = guidance_markup(
        Language::Sv,
        &contacts,
        &[Topic::SocialEmergency],
        Level::H3,
    )
    .into_string();
    assert!(
        html.contains(r#"Birkalands socialjour: <a href="tel:+358401234567">+358 40 123 4567</a>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<h3 id="guidance-social-emergency">"#),
        "{html}"
    );
}

#[test]
fn the_crisis_line_is_the_swedish_one_in_swedish() {
    let html = guidance_markup(
        Language::Sv,
        &HelpContacts::default(),
        &[Topic::SelfHarm],
        Level::H2,
    )
    .into_string();
    assert!(
        html.contains(r#"<a href="tel:0925250112">09 2525 0112</a>"#),
        "{html}"
    );
}
