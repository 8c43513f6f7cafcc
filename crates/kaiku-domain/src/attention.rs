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
    // A parent named as the one who hits, whoever is hit ("isi lyö äitiä ja minua").
    "isi lyö",
    "isä lyö",
    "äiti lyö",
    "isäpuoli lyö",
    "äitipuoli lyö",
    "lyö äitiä",
    "lyö meitä",
    "potkii minua",
    "satuttaa minua",
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
    "pappa slår",
    "mamma slår",
    "slår mamma",
    "våld",
    "utnyttja",
    "vågar inte gå hem",
    // en
    "child protection",
    "abuse",
    "abused",
    "hits me",
    "hits my mum",
    "hits my mom",
    "hits us",
    "beats me",
    "afraid to go home",
    "hurts me",
];

/// Stems that read as thoughts of self-harm or suicide. Phrases rather than single words where a
/// word alone has everyday uses ("kuolla nauruun", "dying to see").
const SELF_HARM_STEMS: &[&str] = &[
    // fi
    "itsetuho",
    "itsemurha",
    "haluan kuolla",
    "en halua elää",
    "tapan itseni",
    "tappaa itseni",
    "satutan itseäni",
    "satuttaa itseäni",
    "viillän",
    "viiltel",
    // sv
    "självmord",
    "vill dö",
    "vill inte leva",
    "skadar mig själv",
    "skada mig själv",
    "ta livet av mig",
    // en
    "suicid",
    "kill myself",
    "want to die",
    "hurt myself",
    "harm myself",
    "self-harm",
    "self harm",
    "end my life",
];

/// Every flag with its stems, in the order flags are reported.
const FLAGS: [(AttentionFlag, &[&str]); 3] = [
    (AttentionFlag::FormalObjection, FORMAL_OBJECTION_STEMS),
    (
        AttentionFlag::ChildProtectionConcern,
        CHILD_PROTECTION_STEMS,
    ),
    (AttentionFlag::SelfHarm, SELF_HARM_STEMS),
];

/// The flags `text` raises, each at most once, in a fixed order.
pub fn attention_flags(text: &str) -> Vec<AttentionFlag> {
    let lowered = text.to_lowercase();
    FLAGS
        .iter()
        .filter(|(_, stems)| stems.iter().any(|stem| starts_a_word(&lowered, stem)))
        .map(|(flag, _)| *flag)
        .collect()
}

/// The code a flag is stored and linked under ("child_protection").
pub fn flag_code(flag: AttentionFlag) -> Option<&'static str> {
    match flag {
        AttentionFlag::FormalObjection => Some("formal_objection"),
        AttentionFlag::ChildProtectionConcern => Some("child_protection"),
        AttentionFlag::SelfHarm => Some("self_harm"),
        AttentionFlag::Unspecified => None,
    }
}

/// The flag a code names.
pub fn flag_from_code(code: &str) -> Option<AttentionFlag> {
    FLAGS
        .iter()
        .map(|(flag, _)| *flag)
        .find(|flag| flag_code(*flag) == Some(code))
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
    use AttentionFlag::{ChildProtectionConcern, FormalObjection, SelfHarm};

    #[test]
    fn thoughts_of_self_harm_are_flagged_in_each_language() {
        for text in [
            "Välillä en halua elää enää",
            "Olen viillellyt käsiäni, viiltelen edelleen",
            "Jag vill inte leva längre",
            "Sometimes I want to die",
        ] {
            assert_eq!(attention_flags(text), vec![SelfHarm], "{text}");
        }
    }

    #[test]
    fn everyday_words_near_self_harm_raise_nothing() {
        for text in [
            "Kuolla nauruun, niin hauska tyyppi",
            "I was dying to see the nurse, finally got in",
            "Itsenäinen työskentely onnistui",
        ] {
            assert!(attention_flags(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn every_flag_has_a_code_and_back() {
        for (flag, _) in FLAGS {
            let code = flag_code(flag).expect("a code");
            assert_eq!(flag_from_code(code), Some(flag));
        }
        assert_eq!(flag_from_code("nonsense"), None);
    }

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
            // Found by an outside tester: the child is not the only one named.
            "Isi lyö äitiä ja minua",
            "Pappa slår mamma när han är full",
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
