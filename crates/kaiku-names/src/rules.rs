//! The rules that turn what Voikko and the lists say about each word into name spans.
//!
//! Each word first gets [`Evidence`] on its own (what it could be), then its place in the
//! sentence decides (what it is here):
//!
//! - `Strong`: only a person's name, or a name whose ordinary reading is rare ("Liisa",
//!   "Virtasen", "Matti"): a name wherever it stands, in any case.
//! - `Ambiguous`: also an everyday word ("Onni"/"onni", "Toivo"/"toivon", "Laine"/"laine", a
//!   listed surname such as "Brown"): a name when capitalised in mid-sentence; at a sentence
//!   start or in lower case only with support from its neighbours (below).
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
//! a capitalised word ("kuraattori Rinne", "poikani Onni"), a title joined after a hyphen
//! ("Tuuli-hoitaja"), a name right beside it ("Onni Virtanen", "anna virtanen"), or a name
//! it is listed with ("Lumi ja Liisa", "Onni, Liisa").

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
        .map(|(token, readings)| facts_of(token, readings, lists, finnish))
        .collect();
    let names = decide(&tokens, &facts, finnish);
    merge(text, &tokens, &names)
}

fn is_finnish(tokens: &[Token<'_>], readings: &[Vec<Reading>]) -> bool {
    let mut words = 0usize;
    let mut known = 0usize;
    for (token, readings) in tokens.iter().zip(readings) {
        if token.has_digit() || token.text.chars().count() < 2 {
            continue;
        }
        words += 1;
        if !readings.is_empty() {
            known += 1;
        }
    }
    words > 0 && known as f64 >= FINNISH_SHARE * words as f64
}

fn decide(tokens: &[Token<'_>], facts: &[Facts], finnish: bool) -> Vec<bool> {
    let mut names: Vec<bool> = tokens
        .iter()
        .zip(facts)
        .map(|(token, facts)| {
            let mid_sentence_capital = token.is_capitalised() && !token.starts_sentence();
            match facts.evidence {
                Evidence::Strong => true,
                Evidence::Ambiguous => mid_sentence_capital,
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

/// Whether word `i`'s neighbours make it a name.
fn supported(i: usize, tokens: &[Token<'_>], facts: &[Facts], names: &[bool]) -> bool {
    let token = &tokens[i];
    let capital = token.is_capitalised();
    let before = i.checked_sub(1);
    let after = (i + 1 < tokens.len()).then_some(i + 1);
    let joined = |j: usize, gaps: &[Gap]| gaps.contains(&tokens[j].gap);

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
    let name_after = after.is_some_and(|a| names[a] && joined(a, &[Gap::Space, Gap::Hyphen]));
    // Finnish surnames are often ordinary words Voikko knows only as such: "Maija Rinne",
    // "Liisa Kivi", "Maija Meikäläinen".
    let by_neighbour = match facts[i].evidence {
        Evidence::None => false,
        Evidence::Place { person_reading } => person_reading && name_before,
        Evidence::Common | Evidence::Unknown => capital && name_before,
        Evidence::Ambiguous | Evidence::Strong => name_before || name_after,
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
