//! Open feedback that needs a route other than anonymous statistics.
//!
//! A respondent sometimes writes a formal objection (muistutus, which has its own legal process)
//! or something that reads as a child-protection concern. Kaiku stores the feedback as usual but
//! flags it, so the channel can show at once where to turn (the unit's muistutus form, the
//! child-protection emergency number), and feedback handling can pick it up. Flagging is a
//! prompt to show guidance, not a decision: it errs towards flagging.
//!
//! The phrases are data (word stems, matched at the start of a word, case-insensitively) in
//! Finnish, Swedish and English; adding a language or a phrase touches only the tables below.

use kaiku_proto::intake::v1::AttentionFlag;

/// Stems that mark a formal objection or a wish to make one.
const FORMAL_OBJECTION_STEMS: &[&str] = &[
    // fi
    "muistutu",
    "muistutuks",
    "kantelu",
    "kantelen",
    "valitu",
    "valitan",
    "teen valituksen",
    "potilasasiamie",
    "sosiaaliasiamie",
    // sv
    "anmärkning",
    "klagomål",
    "patientombud",
    "socialombud",
    // en
    // Not "complaint" alone: "no complaints" is praise.
    "formal complaint",
    "file a complaint",
    "make a complaint",
    "objection",
    "patient ombudsman",
];

/// Stems that read as a concern for a child's safety.
const CHILD_PROTECTION_STEMS: &[&str] = &[
    // fi
    "lastensuojelu",
    "kaltoinkohtel",
    "väkivalta",
    "väkivaltaa",
    "lyö minua",
    "lyövät minua",
    "hakkaa",
    "pahoinpitel",
    "hyväksikäyt",
    "seksuaalisesti",
    "en uskalla mennä kotiin",
    "pelkään kotona",
    // sv
    "barnskydd",
    "misshandel",
    "slår mig",
    "våld",
    "utnyttja",
    "vågar inte gå hem",
    // en
    "child protection",
    "abuse",
    "abused",
    "hits me",
    "beats me",
    "afraid to go home",
    "hurts me",
];

/// The flags `text` raises, each at most once, in a fixed order.
pub fn attention_flags(text: &str) -> Vec<AttentionFlag> {
    let lowered = text.to_lowercase();
    let mut flags = Vec::new();
    if FORMAL_OBJECTION_STEMS
        .iter()
        .any(|stem| starts_a_word(&lowered, stem))
    {
        flags.push(AttentionFlag::FormalObjection);
    }
    if CHILD_PROTECTION_STEMS
        .iter()
        .any(|stem| starts_a_word(&lowered, stem))
    {
        flags.push(AttentionFlag::ChildProtectionConcern);
    }
    flags
}

/// Whether `stem` occurs in `text` at the start of a word.
fn starts_a_word(text: &str, stem: &str) -> bool {
    text.match_indices(stem).any(|(at, _)| {
        text[..at]
            .chars()
            .next_back()
            .is_none_or(|before| !before.is_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use AttentionFlag::{ChildProtectionConcern, FormalObjection};

    #[test]
    fn formal_objections_are_flagged_in_each_language() {
        for text in [
            "Haluan tehdä muistutuksen hoidostani.",
            "Teen tästä kantelun aluehallintovirastoon",
            "Jag vill lämna en anmärkning om bemötandet",
            "I want to file a formal complaint",
        ] {
            assert_eq!(attention_flags(text), vec![FormalObjection], "{text}");
        }
    }

    #[test]
    fn child_protection_concerns_are_flagged_in_each_language() {
        for text in [
            "Isä lyö minua kun hän on vihainen",
            "En uskalla mennä kotiin.",
            "Pappa slår mig ibland",
            "My stepfather hits me",
        ] {
            assert_eq!(
                attention_flags(text),
                vec![ChildProtectionConcern],
                "{text}"
            );
        }
    }

    #[test]
    fn both_flags_can_be_raised_at_once() {
        assert_eq!(
            attention_flags("Teen muistutuksen, koska lastensuojelu ei auttanut"),
            vec![FormalObjection, ChildProtectionConcern]
        );
    }

    #[test]
    fn ordinary_feedback_raises_no_flag() {
        for text in [
            "Kuraattori kuunteli ja auttoi, kiitos!",
            "Ajan saaminen kesti liian kauan.",
            "Bra bemötande, tack.",
            "Very helpful, thank you",
            "No complaints at all, great service",
            // "valittu" (chosen) is not "valitus" (complaint); stems match at word starts only.
            "Hyvin valittu aika",
            "Vihainen valitsija",
        ] {
            assert!(attention_flags(text).is_empty(), "{text}");
        }
    }
}
