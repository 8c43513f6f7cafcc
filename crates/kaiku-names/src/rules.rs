//! The rules that turn what Voikko and the lists say about each word into name spans.
//!
//! Each word first gets [`Evidence`] on its own (what it could be), then its place in the
//! sentence decides (what it is here):
//!
//! - `Strong`: only a person's name, or a name whose ordinary reading is rare ("Liisa",
//!   "Virtasen", "Matti", a listed surname that is no everyday word: "Johanssons",
//!   "lindqvist", "Smith's"): a name wherever it stands, in any case.
//! - `Ambiguous`: also an everyday word ("Onni"/"onni", "Toivo"/"toivon", "Laine"/"laine", a
//!   listed surname such as "Brown"): a name when capitalised in mid-sentence; at a sentence
//!   start or in lower case only with support from its neighbours (below). Not by its
//!   capital alone when it is a name rarely given, as the subject of a verb ("mutta Aamu
//!   oli"), unless it is listed after another capitalised word ("Onni ja Ilo leikkivät").
//! - `Unknown`: no source knows the word. In Finnish text Voikko knows nearly every ordinary
//!   word and its inflections, so a capitalised unknown word in mid-sentence ("Lindroos",
//!   "Kaitsulle") is taken as a name; elsewhere it needs support.
//! - `Place`: a place name in a local case ("Kalliossa", "Tampereella"): a person only with
//!   an honorific before it ("tohtori Lahdelle"), or, when Voikko also reads it as a surname,
//!   a title before it or a first name beside it ("Jukka Salosta").
//! - `Common`: an ordinary word Voikko knows: a person only capitalised right after a title
//!   or a name ("terveydenhoitaja Rinne", where Voikko knows only the slope; "Maija Kivi").
//! - `None`: titles, weekdays and months, brands and services, places that are no one's name,
//!   words with digits.
//!
//! Support, applied until nothing changes: a title, honorific or kinship word right before
//! a capitalised word ("kuraattori Rinne", "poikani Onni"; after an honorific also a
//! lower-case listed surname: "dr brown"), a title joined after a hyphen ("Tuuli-hoitaja"), a
//! name right beside it ("Onni Virtanen", "anna virtanen"; not a word in a local case before
//! it: "Illalla Tuuli"), a name joined by a hyphen in the same case ("Maja-Stina",
//! "mary-kate"), an initial after it ("Mark B."), or a name it is listed with ("Lumi ja
//! Liisa", "Onni, Liisa"). An initial right after a name is part of it ("Anna K.").

use std::ops::Range;

use crate::evidence::{Evidence, Facts, facts_of};
use crate::lists::Lists;
use crate::tokens::{Gap, Token, tokenize};
use crate::voikko::Reading;

/// Share of words Voikko must know for a text to count as Finnish. Swedish and English
/// words it happens to know ("on", "me", "per") stay well below; Finnish feedback with
/// slang and typos stays well above.
const FINNISH_SHARE: f64 = 0.5;

/// Byte ranges of the person names in `text`; `analyze` gives Voikko's readings of a word.
/// Names side by side ("Matti Virtanen", "Juha-Pekka") come back as one range.
pub(crate) fn find(
    text: &str,
    lists: &Lists,
    mut analyze: impl FnMut(&str) -> Vec<Reading>,
) -> Vec<Range<usize>> {
    let tokens = tokenize(text);
    if tokens.is_empty() {
        return Vec::new();
    }
    let readings: Vec<Vec<Reading>> = tokens.iter().map(|t| analyze(t.text)).collect();
    let finnish = is_finnish(&tokens, &readings);
    let facts: Vec<Facts> = tokens
        .iter()
        .zip(&readings)
        .map(|(token, readings)| {
            let mut facts = facts_of(token, readings, lists, finnish);
            if finnish && readings.is_empty() && is_homoglyph(token.text, &mut analyze) {
                facts.evidence = Evidence::None;
            }
            facts
        })
        .collect();
    let names = decide(&tokens, &facts, finnish);
    merge(text, &tokens, &names)
}

/// A Finnish word written with a capital I for its first letter l ("Iyö" for "lyö", hits):
/// unknown as written, an ordinary word Voikko knows with an l. Such a word hides a word, not
/// a name, and is never taken for one.
fn is_homoglyph(word: &str, analyze: &mut impl FnMut(&str) -> Vec<Reading>) -> bool {
    let Some(rest) = word.strip_prefix('I') else {
        return false;
    };
    if !rest.chars().next().is_some_and(char::is_lowercase) {
        return false;
    }
    analyze(&format!("l{rest}")).iter().any(|r| {
        !matches!(
            r.class.as_str(),
            "etunimi" | "sukunimi" | "paikannimi" | "nimi"
        )
    })
}

/// Whether Voikko knows at least half of the words. Words it knows only as names ("Stina",
/// "Mary") belong to no language and are left out, so that "Maja-Stina var snäll" is not
/// Finnish; a text of nothing but names is counted with them.
fn is_finnish(tokens: &[Token<'_>], readings: &[Vec<Reading>]) -> bool {
    let (mut words, mut known) = (0usize, 0usize);
    let (mut all_words, mut all_known) = (0usize, 0usize);
    for (token, readings) in tokens.iter().zip(readings) {
        if token.has_digit() || token.text.chars().count() < 2 {
            continue;
        }
        all_words += 1;
        if readings.is_empty() {
            words += 1;
            continue;
        }
        all_known += 1;
        let only_names = readings.iter().all(|r| {
            matches!(
                r.class.as_str(),
                "etunimi" | "sukunimi" | "paikannimi" | "nimi"
            )
        });
        if !only_names {
            words += 1;
            known += 1;
        }
    }
    if words == 0 {
        (words, known) = (all_words, all_known);
    }
    words > 0 && known as f64 >= FINNISH_SHARE * words as f64
}

fn decide(tokens: &[Token<'_>], facts: &[Facts], finnish: bool) -> Vec<bool> {
    let mut names: Vec<bool> = (0..tokens.len())
        .map(|i| {
            let token = &tokens[i];
            let mid_sentence_capital = token.is_capitalised() && !token.starts_sentence();
            match facts[i].evidence {
                Evidence::Strong => true,
                Evidence::Ambiguous => mid_sentence_capital && !rare_subject(i, tokens, facts),
                Evidence::Unknown => mid_sentence_capital && finnish && token.text.len() >= 3,
                Evidence::Place { .. } | Evidence::Common | Evidence::None => false,
            }
        })
        .collect();
    loop {
        let mut changed = false;
        for i in 0..tokens.len() {
            if !names[i] && supported(i, tokens, facts, &names) {
                names[i] = true;
                changed = true;
            }
        }
        if !changed {
            return names;
        }
    }
}

/// An everyday-word name rare as a name, as the subject of the verb right after it ("mutta
/// Aamu oli kaunis", "kun Sade alkoi"): there the word is far likelier than the person, so a
/// capital alone does not make it a name. Elsewhere it does ("Kiitos Ilolle", "Kiitos Ilo!"),
/// and so does being listed after another capitalised word ("Onni ja Ilo leikkivät", "Onni,
/// Ilo leikkivät"): capitalised words listed as a subject are people as often as not, and a
/// leaked child's name costs more than a word replaced.
fn rare_subject(i: usize, tokens: &[Token<'_>], facts: &[Facts]) -> bool {
    let listed_after_a_capital = (i >= 2
        && facts[i - 1].conjunction
        && tokens[i].gap == Gap::Space
        && tokens[i - 1].gap == Gap::Space
        && tokens[i - 2].is_capitalised())
        || (i >= 1 && tokens[i].gap == Gap::Comma && tokens[i - 1].is_capitalised());
    facts[i].rare
        && !listed_after_a_capital
        && tokens.get(i + 1).is_some_and(|next| next.gap == Gap::Space)
        && facts[i + 1].verb
}

/// Whether word `i`'s neighbours make it a name.
fn supported(i: usize, tokens: &[Token<'_>], facts: &[Facts], names: &[bool]) -> bool {
    let token = &tokens[i];
    let capital = token.is_capitalised();
    let before = i.checked_sub(1);
    let after = (i + 1 < tokens.len()).then_some(i + 1);
    let joined = |j: usize, gaps: &[Gap]| gaps.contains(&tokens[j].gap);

    // "Anna K.": an initial right after a name is part of it.
    if token.is_initial() {
        return before.is_some_and(|b| names[b] && joined(i, &[Gap::Space]));
    }

    // "Maja-Stina", "mary-kate": a part joined by a hyphen to a name, written in the same
    // case, is the rest of a double name whatever it reads as alone ("kate", "maja" are
    // Finnish words). A title never is ("Matti-setä"), nor a lower-case word after a
    // capitalised name ("Onni-kampanja").
    let same_case = |j: usize| tokens[j].is_capitalised() == capital;
    let hyphen_name = before.is_some_and(|b| names[b] && joined(i, &[Gap::Hyphen]) && same_case(b))
        || after.is_some_and(|a| names[a] && joined(a, &[Gap::Hyphen]) && same_case(a));
    if hyphen_name && facts[i].evidence != Evidence::None {
        return true;
    }

    // "dr brown", "fru berg": after an honorific even a lower-case listed surname that is
    // also an everyday word ("miss" is also a verb: "I miss brown bread").
    let honorific_before = before.is_some_and(|b| {
        facts[b].honorific
            && !tokens[b].text.eq_ignore_ascii_case("miss")
            && joined(i, &[Gap::Space])
    });
    if !capital && facts[i].surname && honorific_before {
        return true;
    }

    // "kuraattori Rinne", "poikani Onni"; "Tuuli-hoitaja", "Mari-täti"; "tohtori Lahdelle".
    // Only capitalised: "lapselle sadun" is a story read to a child.
    // A title joined by a hyphen makes only a possible name one: "Nuoriso-ohjaaja" is a
    // youth worker, "Tuuli-hoitaja" a nurse called Tuuli.
    let title_before = before.filter(|&b| facts[b].title && joined(i, &[Gap::Space]));
    let title_after = after.is_some_and(|a| facts[a].title && joined(a, &[Gap::Hyphen]));
    let by_title = capital
        && match facts[i].evidence {
            Evidence::None => false,
            Evidence::Place { person_reading } => {
                title_before.is_some_and(|b| person_reading || facts[b].honorific)
            }
            Evidence::Common | Evidence::Unknown => title_before.is_some(),
            Evidence::Ambiguous | Evidence::Strong => title_before.is_some() || title_after,
        };
    if by_title {
        return true;
    }

    // "Onni Virtanen"; "Jukka Salosta"; "anna virtanen". An unknown or ordinary word only
    // after a name, as a surname: before one it is as likely a greeting ("Thanks Anna").
    let name_before = before.is_some_and(|b| names[b] && joined(i, &[Gap::Space, Gap::Hyphen]));
    // Only the last word of a Finnish full name is inflected ("Liisa Virtaselle"): a word in
    // another case is not its first part ("Illalla Tuuli": in the evening, Tuuli).
    let name_after = !facts[i].inflected
        && after.is_some_and(|a| names[a] && joined(a, &[Gap::Space, Gap::Hyphen]));
    // "Mark B. was rude": an initial after a capitalised word makes it a first name.
    let initial_after =
        capital && after.is_some_and(|a| tokens[a].is_initial() && joined(a, &[Gap::Space]));
    // Finnish surnames are often ordinary words Voikko knows only as such: "Maija Rinne",
    // "Liisa Kivi", "Maija Meikäläinen".
    let by_neighbour = match facts[i].evidence {
        Evidence::None => false,
        Evidence::Place { person_reading } => person_reading && name_before,
        Evidence::Common | Evidence::Unknown => capital && name_before,
        Evidence::Ambiguous | Evidence::Strong => name_before || name_after || initial_after,
    };
    if by_neighbour {
        return true;
    }

    // "Lumi ja Liisa", "Onni, Liisa ja Matti": listed together with a name.
    let conjunction_before = i >= 2
        && facts[i - 1].conjunction
        && joined(i, &[Gap::Space])
        && joined(i - 1, &[Gap::Space])
        && names[i - 2];
    let conjunction_after = i + 2 < tokens.len()
        && facts[i + 1].conjunction
        && joined(i + 1, &[Gap::Space])
        && joined(i + 2, &[Gap::Space])
        && names[i + 2];
    let comma_before = before.is_some_and(|b| names[b] && joined(i, &[Gap::Comma]));
    let comma_after = after.is_some_and(|a| names[a] && joined(a, &[Gap::Comma]));
    match facts[i].evidence {
        Evidence::Ambiguous | Evidence::Strong => {
            conjunction_before || conjunction_after || comma_before || comma_after
        }
        // "Thanks, Anna": a comma alone does not make an unknown word a name.
        Evidence::Unknown => capital && (conjunction_before || conjunction_after),
        Evidence::None | Evidence::Common | Evidence::Place { .. } => false,
    }
}

/// Ranges of the name words, neighbours joined by spaces or a hyphen made into one.
fn merge(text: &str, tokens: &[Token<'_>], names: &[bool]) -> Vec<Range<usize>> {
    let mut spans: Vec<Range<usize>> = Vec::new();
    for (token, _) in tokens.iter().zip(names).filter(|(_, name)| **name) {
        if let Some(last) = spans.last_mut() {
            let between = &text[last.end..token.range.start];
            if !between.is_empty() && between.chars().all(|c| c == ' ' || c == '-') {
                last.end = token.range.end;
                continue;
            }
        }
        spans.push(token.range.clone());
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_as(class: &str) -> Vec<Reading> {
        vec![Reading {
            class: class.to_owned(),
            base_form: String::new(),
            case: String::new(),
            geographic: false,
        }]
    }

    #[test]
    fn words_known_only_as_names_do_not_make_a_text_finnish() {
        // Voikko knows "maja" (a hut) and "Stina" (a first name), not "var" or "snäll".
        let tokens = tokenize("Maja-Stina var snäll");
        let readings = [read_as("nimisana"), read_as("etunimi"), vec![], vec![]];
        assert!(!is_finnish(&tokens, &readings));
    }

    #[test]
    fn a_text_of_nothing_but_a_finnish_name_is_finnish() {
        assert!(is_finnish(&tokenize("Matille"), &[read_as("etunimi")]));
    }
}
