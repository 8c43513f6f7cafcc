//! What one word could be, on its own: what Voikko's readings and the lists say about it,
//! before its neighbours are looked at (see the rules module for the overview).

use crate::lists::{Lists, WordSet, stems};
use crate::tokens::Token;
use crate::voikko::Reading;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Evidence {
    /// Never a name: titles, weekdays and months, brands, digits, single letters, places
    /// that are no one's name, a word written with a capital I for an l ("Iyö").
    None,
    /// An ordinary word Voikko knows: a name only capitalised right after a title or a name
    /// ("terveydenhoitaja Rinne": Voikko knows only the slope; "Maija Meikäläinen").
    Common,
    /// A place name in a local case ("Kalliossa", "Lahdelle").
    Place {
        person_reading: bool,
    },
    Unknown,
    Ambiguous,
    Strong,
}

/// What the rules know about one word before looking at its neighbours.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts {
    pub evidence: Evidence,
    /// A title or kinship word: the capitalised word after it is a person.
    pub title: bool,
    /// "tohtori", "Dr": the word after it is a person even if it reads as a place.
    pub honorific: bool,
    pub conjunction: bool,
    /// A listed surname, bare or with a genitive ending ("lindqvist", "Browns").
    pub surname: bool,
    /// In Finnish text, a word Voikko reads only in a local case ("Illalla", "Aamulla"): not
    /// the first part of a full name, whose first words stay in the nominative ("Liisa
    /// Virtaselle"; a genitive, "Matin Virtasen", is a common slip and still joins).
    pub inflected: bool,
    /// In Finnish text, an everyday-word name rare as a name, in the nominative ("Aamu",
    /// "Sade"): as the subject of a verb a capital in mid-sentence alone does not make it one.
    pub rare: bool,
    /// In Finnish text, a word Voikko reads as a verb ("oli", "alkoi").
    pub verb: bool,
}

const CONJUNCTIONS: &[&str] = &["ja", "sekä", "tai", "och", "eller", "and", "or"];

/// Finnish hypocoristic endings: Pekkis, Kaitsu, Jonsku, Maksu. A word Voikko does not know
/// that is a listed first name's beginning plus one of these is a nickname.
const NICKNAME_ENDINGS: &[&str] = &["kis", "tsu", "tsa", "sku", "ksu"];

const LOCAL_CASES: &[&str] = &[
    "sisaolento",
    "sisaeronto",
    "sisatulento",
    "ulkoolento",
    "ulkoeronto",
    "ulkotulento",
];
const INNER_LOCAL_CASES: &[&str] = &["sisaolento", "sisaeronto", "sisatulento"];

pub(crate) fn facts_of(
    token: &Token<'_>,
    readings: &[Reading],
    lists: &Lists,
    finnish: bool,
) -> Facts {
    let lower = token.lowercase();
    let conjunction = CONJUNCTIONS.contains(&lower.as_str());
    let bases: Vec<String> = readings
        .iter()
        .map(|r| r.base_form.to_lowercase())
        .collect();
    let in_list = |set: &WordSet| set.contains(&lower) || bases.iter().any(|b| set.contains(b));
    let honorific = in_list(&lists.honorifics);
    let title = honorific
        || lists.titles_other.contains(&lower)
        || in_list(&lists.titles_fi)
        || bases.iter().any(|b| lists.titles_fi.ends_a_compound(b))
        || (readings.is_empty() && lists.titles_fi.ends_a_compound(&lower));
    let evidence = if title || conjunction {
        Evidence::None
    } else {
        evidence_of(token, &lower, readings, &bases, lists, finnish)
    };
    let surname = evidence != Evidence::None
        && stems(&lower, false)
            .iter()
            .any(|form| lists.surnames.contains(form));
    let inflected = finnish
        && !readings.is_empty()
        && readings
            .iter()
            .all(|r| LOCAL_CASES.contains(&r.case.as_str()));
    let rare = finnish
        && evidence == Evidence::Ambiguous
        && readings.iter().any(|r| {
            r.case == "nimento"
                && lists
                    .homographs_fi_rare
                    .contains(&r.base_form.to_lowercase())
        });
    let verb = finnish
        && readings
            .iter()
            .any(|r| matches!(r.class.as_str(), "teonsana" | "kieltosana"));
    Facts {
        evidence,
        title,
        honorific,
        conjunction,
        surname,
        inflected,
        rare,
        verb,
    }
}

fn evidence_of(
    token: &Token<'_>,
    lower: &str,
    readings: &[Reading],
    bases: &[String],
    lists: &Lists,
    finnish: bool,
) -> Evidence {
    if token.has_digit() || token.text.chars().filter(|c| c.is_alphabetic()).count() < 2 {
        return Evidence::None;
    }
    let forms = stems(lower, finnish);
    // Weekdays and months without guessing at Finnish endings, which would make "Julia" the
    // Swedish "juli"; Voikko's base forms cover "maanantaina".
    let calendar = stems(lower, false)
        .iter()
        .chain(bases)
        .any(|f| lists.calendar.contains(f));
    if calendar || forms.iter().any(|f| lists.not_names.contains(f)) {
        return Evidence::None;
    }
    if let Some(evidence) = voikko_evidence(lower, &forms, readings, bases, lists, finnish) {
        // A name Voikko alone vouches for is not trusted in lower case outside Finnish text,
        // where its Finnish reading is a coincidence ("elin", "tina").
        // A listed surname that is no everyday word is trusted ("kurator lindqvist").
        if evidence == Evidence::Strong
            && !finnish
            && !token.is_capitalised()
            && !forms
                .iter()
                .any(|f| lists.first_names_other.contains(f) || lists.is_plain_surname(f))
        {
            return Evidence::Ambiguous;
        }
        return evidence;
    }
    if let Some(evidence) = list_evidence(token, &forms, lists, finnish) {
        return evidence;
    }
    if readings.is_empty() {
        if finnish && token.is_capitalised() && is_nickname(&forms, lists) {
            return Evidence::Strong;
        }
        return Evidence::Unknown;
    }
    Evidence::Common
}

/// What Voikko's readings say; `None` where the lists should decide.
fn voikko_evidence(
    lower: &str,
    forms: &[String],
    readings: &[Reading],
    bases: &[String],
    lists: &Lists,
    finnish: bool,
) -> Option<Evidence> {
    if readings.is_empty() {
        return None;
    }
    let is = |class: &str| readings.iter().any(|r| r.class == class);
    let first_name = is("etunimi");
    let person = first_name || is("sukunimi");
    let place = is("paikannimi");
    // Outside Finnish text a Finnish ordinary reading is a coincidence: "Sara" is a sedge
    // only in Finnish.
    let ordinary: Vec<&Reading> = readings
        .iter()
        .filter(|r| {
            !matches!(
                r.class.as_str(),
                "etunimi" | "sukunimi" | "paikannimi" | "nimi"
            )
        })
        .collect();
    let common = finnish && !ordinary.is_empty();
    // Everyday words are judged in the text's language: "Will" is a name Voikko knows and
    // an English verb; "anna" is a Finnish verb, not a Swedish one.
    let homograph = lists.is_homograph(lower, finnish)
        || forms.iter().any(|f| lists.is_homograph(f, finnish))
        || (finnish && bases.iter().any(|b| lists.homographs_fi.contains(b)));
    let in_place_case = readings.iter().any(|r| {
        (r.class == "paikannimi" && LOCAL_CASES.contains(&r.case.as_str()))
            || (r.geographic && INNER_LOCAL_CASES.contains(&r.case.as_str()))
    });
    if in_place_case {
        return Some(Evidence::Place {
            person_reading: person,
        });
    }
    if person {
        // Voikko's lexicon holds many rare names that are also everyday words ("Aina",
        // "Toimi", "Päivä"). Only a common first name outranks an ordinary reading, and only
        // one of the same word, a rare one ("matti", "jukka"): not a form that happens to
        // spell another word ("Ainoa", Aino's partitive, is "ainoa", only), and never a
        // name listed as an everyday word.
        let common_first_name = readings.iter().any(|r| {
            let name = r.base_form.to_lowercase();
            r.class == "etunimi"
                && lists.first_names_fi.contains(&name)
                && ordinary.iter().any(|o| o.base_form.to_lowercase() == name)
        });
        let everyday = homograph || ((common || place) && !common_first_name);
        return Some(if everyday {
            Evidence::Ambiguous
        } else {
            Evidence::Strong
        });
    }
    if place {
        // Voikko 2.5 reads some frequent names as places only ("Nieminen", "Kaija").
        let named = bases
            .iter()
            .any(|b| lists.surnames_fi.contains(b) || lists.first_names_fi.contains(b));
        return Some(if named {
            Evidence::Ambiguous
        } else {
            Evidence::None
        });
    }
    if finnish && bases.iter().any(|b| lists.homographs_fi.contains(b)) {
        // Names Voikko knows only as the word: Lumi, Valo, Sade, Ilo, Usko.
        return Some(Evidence::Ambiguous);
    }
    if !common {
        // Outside Finnish text a Finnish reading is a coincidence ("per", "vasa"); an other
        // proper noun (CLASS=nimi) may still be a listed name.
        return None;
    }
    Some(Evidence::Common)
}

fn list_evidence(
    token: &Token<'_>,
    forms: &[String],
    lists: &Lists,
    finnish: bool,
) -> Option<Evidence> {
    for form in forms {
        let first_name = if finnish {
            lists.is_first_name_in_finnish(form)
        } else {
            lists.is_first_name_in_other(form)
                || (token.is_capitalised() && lists.first_names_fi.contains(form))
        };
        if first_name {
            return Some(if lists.is_homograph(form, finnish) {
                Evidence::Ambiguous
            } else {
                Evidence::Strong
            });
        }
        if lists.surnames.contains(form) {
            // A surname that is no everyday word is a name in any case and at a sentence
            // start ("Johanssons mottagning", "dr smith"); one that is ("Brown", "Berg") only
            // in an English possessive, which an everyday word rarely takes ("Brown's office").
            let plain = lists.is_plain_surname(form);
            let possessive = token.is_capitalised() && is_english_possessive(token.text);
            return Some(if plain || possessive {
                Evidence::Strong
            } else {
                Evidence::Ambiguous
            });
        }
    }
    None
}

/// "Brown's", "Jones’s": an apostrophe and an s ending the word.
fn is_english_possessive(word: &str) -> bool {
    let mut end = word.chars().rev();
    matches!(end.next(), Some('s' | 'S')) && matches!(end.next(), Some('\'' | '’'))
}

fn is_nickname(forms: &[String], lists: &Lists) -> bool {
    forms.iter().any(|form| {
        NICKNAME_ENDINGS.iter().any(|ending| {
            form.strip_suffix(ending).is_some_and(|start| {
                start.chars().count() >= 2
                    && (lists.first_names_fi.any_starts_with(start)
                        || lists.first_names_other.any_starts_with(start))
            })
        })
    })
}
