//! The word lists kept as data files in `data/`, compiled into the binary so that a
//! deployment cannot lose them. See each file's header for what it holds and why.

use std::collections::HashSet;

/// A set of lower-case words read from one data file.
#[derive(Debug, Default)]
pub struct WordSet(HashSet<String>);

impl WordSet {
    fn parse(files: &[&str]) -> Self {
        Self(
            files
                .iter()
                .flat_map(|file| file.lines())
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with('#'))
                .map(str::to_lowercase)
                .collect(),
        )
    }

    pub fn contains(&self, word: &str) -> bool {
        self.0.contains(word)
    }

    #[cfg(test)]
    fn entries(&self) -> usize {
        self.0.len()
    }

    /// Whether a listed word of four letters or more begins with `prefix` (nicknames).
    pub fn any_starts_with(&self, prefix: &str) -> bool {
        self.0
            .iter()
            .any(|entry| entry.chars().count() >= 4 && entry.starts_with(prefix))
    }

    /// A Finnish compound ending in one of the words: "koulukuraattori" ends in
    /// "kuraattori". Only entries of five letters or more, so "isä" does not match "lisä".
    pub fn ends_a_compound(&self, word: &str) -> bool {
        self.0
            .iter()
            .any(|entry| entry.chars().count() >= 5 && word.ends_with(entry.as_str()))
    }
}

/// Every list the finder consults.
#[derive(Debug)]
pub struct Lists {
    /// Finnish first names: a second source behind Voikko.
    pub first_names_fi: WordSet,
    /// Swedish, English and immigrant-community first names.
    pub first_names_other: WordSet,
    pub surnames: WordSet,
    /// Listed surnames that are also everyday Swedish or English words ("Brown", "Berg").
    pub homographs_surnames: WordSet,
    /// Finnish surnames only: overrides Voikko's place-only readings ("Nieminen").
    pub surnames_fi: WordSet,
    /// Finnish first names that are also everyday Finnish words.
    pub homographs_fi: WordSet,
    /// Everyday-word Finnish names rare as a name: a capital alone does not make them one.
    pub homographs_fi_rare: WordSet,
    /// Swedish and English first names that are also words of those languages.
    pub homographs_other: WordSet,
    /// Finnish titles and kinship words (base forms, also as the end of a compound).
    pub titles_fi: WordSet,
    /// Swedish and English titles and kinship words, as written.
    pub titles_other: WordSet,
    /// "tohtori", "Dr", "fru": always followed by a name.
    pub honorifics: WordSet,
    pub calendar: WordSet,
    pub not_names: WordSet,
}

impl Lists {
    pub fn load() -> Self {
        Self {
            first_names_fi: WordSet::parse(&[include_str!("../data/first_names_fi.txt")]),
            first_names_other: WordSet::parse(&[
                include_str!("../data/first_names_sv.txt"),
                include_str!("../data/first_names_en.txt"),
                include_str!("../data/first_names_other.txt"),
            ]),
            surnames: WordSet::parse(&[
                include_str!("../data/surnames_fi.txt"),
                include_str!("../data/surnames_sv.txt"),
                include_str!("../data/surnames_en.txt"),
                include_str!("../data/surnames_other.txt"),
            ]),
            homographs_surnames: WordSet::parse(&[include_str!("../data/homographs_surnames.txt")]),
            surnames_fi: WordSet::parse(&[include_str!("../data/surnames_fi.txt")]),
            homographs_fi: WordSet::parse(&[include_str!("../data/homographs_fi.txt")]),
            homographs_fi_rare: WordSet::parse(&[include_str!("../data/homographs_fi_rare.txt")]),
            homographs_other: WordSet::parse(&[
                include_str!("../data/homographs_sv.txt"),
                include_str!("../data/homographs_en.txt"),
            ]),
            titles_fi: WordSet::parse(&[include_str!("../data/titles_fi.txt")]),
            titles_other: WordSet::parse(&[include_str!("../data/titles_sv_en.txt")]),
            honorifics: WordSet::parse(&[include_str!("../data/honorifics.txt")]),
            calendar: WordSet::parse(&[include_str!("../data/calendar.txt")]),
            not_names: WordSet::parse(&[include_str!("../data/not_names.txt")]),
        }
    }

    /// A first name in Finnish text: any list, the homographs included.
    pub fn is_first_name_in_finnish(&self, word: &str) -> bool {
        self.first_names_fi.contains(word)
            || self.homographs_fi.contains(word)
            || self.is_first_name_in_other(word)
    }

    /// A first name in Swedish or English text, the Finnish list left out: in lower case
    /// "ville" is Swedish for "wanted" (capitalised, the caller also asks `first_names_fi`).
    pub fn is_first_name_in_other(&self, word: &str) -> bool {
        self.first_names_other.contains(word) || self.homographs_other.contains(word)
    }

    /// A listed surname that is no everyday word: a name wherever it stands ("johansson",
    /// "smith", "lindqvist"), unlike "brown" or "berg".
    pub fn is_plain_surname(&self, word: &str) -> bool {
        self.surnames.contains(word) && !self.homographs_surnames.contains(word)
    }

    /// Whether `word` is a name that is also an everyday word of the text's language.
    pub fn is_homograph(&self, word: &str, finnish: bool) -> bool {
        if finnish {
            self.homographs_fi.contains(word)
        } else {
            self.homographs_other.contains(word)
        }
    }
}

/// Finnish case endings a foreign or unlisted name takes ("Kevinille", "Ahmedilta",
/// "Jonskun"), longest first. Voikko inflects the names it knows; these are for the rest.
const FINNISH_ENDINGS: &[&str] = &[
    "ille", "illa", "illä", "ilta", "iltä", "issa", "issä", "ista", "istä", "iksi", "lle", "lla",
    "llä", "lta", "ltä", "ssa", "ssä", "sta", "stä", "ksi", "iin", "ina", "inä", "in", "ia", "iä",
    "na", "nä", "ta", "tä", "n", "a", "ä",
];

/// The forms of `word` (lower case) to look up in the lists: the word itself, the part
/// before an apostrophe or colon ("mike'lle", "hus:n", "anna's"), the word without a
/// Swedish or English genitive -s, and in Finnish text (`finnish`) the word without each
/// Finnish case ending. Swedish and English words take no Finnish endings.
pub fn stems(word: &str, finnish: bool) -> Vec<String> {
    let mut stems = vec![word.to_owned()];
    if let Some(position) = word.find(['\'', '’', ':']) {
        stems.push(word[..position].to_owned());
        return stems;
    }
    if let Some(stem) = word.strip_suffix('s') {
        stems.push(stem.to_owned());
    }
    if !finnish {
        return stems;
    }
    for ending in FINNISH_ENDINGS {
        if let Some(stem) = word.strip_suffix(ending)
            && stem.chars().count() >= 2
        {
            stems.push(stem.to_owned());
        }
    }
    stems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_has_entries() {
        let lists = Lists::load();
        assert!(lists.first_names_fi.entries() > 150);
        assert!(lists.first_names_other.entries() > 250);
        assert!(lists.surnames.entries() > 150);
        assert!(lists.homographs_fi.entries() > 0);
        assert!(lists.homographs_surnames.entries() > 0);
        assert!(lists.titles_fi.contains("kuraattori"));
        assert!(lists.honorifics.contains("dr"));
        assert!(lists.calendar.contains("friday"));
    }

    #[test]
    fn a_surname_ending_like_a_swedish_title_is_not_a_title() {
        // "Laaksonen" ends in "sonen" (Swedish: the son); Swedish titles match only whole.
        let lists = Lists::load();
        assert!(!lists.titles_fi.ends_a_compound("laaksonen"));
        assert!(!lists.titles_other.contains("laaksonen"));
    }

    #[test]
    fn every_everyday_word_surname_is_a_listed_surname() {
        let lists = Lists::load();
        for word in &lists.homographs_surnames.0 {
            assert!(
                lists.surnames.contains(word),
                "{word} is not in surnames_*.txt"
            );
        }
        assert!(lists.is_plain_surname("johansson") && !lists.is_plain_surname("brown"));
    }

    #[test]
    fn every_rare_everyday_word_name_is_an_everyday_word_name() {
        let lists = Lists::load();
        assert!(lists.homographs_fi_rare.entries() > 0);
        for word in &lists.homographs_fi_rare.0 {
            assert!(
                lists.homographs_fi.contains(word),
                "{word} is not in homographs_fi.txt"
            );
        }
    }

    #[test]
    fn a_foreign_name_is_found_under_its_finnish_case_ending() {
        assert!(stems("kevinille", true).contains(&"kevin".to_owned()));
        assert!(stems("ahmedilta", true).contains(&"ahmed".to_owned()));
    }

    #[test]
    fn the_part_before_an_apostrophe_or_colon_is_the_stem() {
        assert_eq!(stems("mike'lle", true), vec!["mike'lle", "mike"]);
        assert_eq!(stems("anna's", false), vec!["anna's", "anna"]);
    }

    #[test]
    fn a_swedish_word_is_not_stripped_of_finnish_endings() {
        assert_eq!(stems("annan", false), vec!["annan"]);
    }

    #[test]
    fn a_swedish_genitive_s_is_removed() {
        assert_eq!(stems("eriks", false), vec!["eriks", "erik"]);
    }

    #[test]
    fn a_compound_title_ends_in_a_listed_title_but_a_short_one_needs_an_exact_match() {
        let lists = Lists::load();
        assert!(lists.titles_fi.ends_a_compound("koulukuraattori"));
        assert!(!lists.titles_fi.ends_a_compound("lisä"));
    }
}
