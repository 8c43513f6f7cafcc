//! The finder's rules, one behaviour each, against the real libvoikko.

use std::sync::LazyLock;

use proptest::prelude::*;

use super::{NameFinder, NamesError};
use crate::voikko::Voikko;

static FINDER: LazyLock<NameFinder> =
    LazyLock::new(|| NameFinder::load().expect("libvoikko1 and voikko-fi are installed"));

fn names(text: &str) -> Vec<String> {
    FINDER
        .find(text)
        .into_iter()
        .map(|range| text[range].to_owned())
        .collect()
}

#[test]
fn a_first_name_is_found() {
    assert_eq!(names("Olen Matti 9B-luokalta."), vec!["Matti"]);
}

#[test]
fn an_inflected_first_name_is_found() {
    assert_eq!(
        names("Kiitos Matille ja Liisan äidille"),
        vec!["Matille", "Liisan"]
    );
}

#[test]
fn an_inflected_surname_is_found() {
    assert_eq!(names("Kuraattori Virtasen vastaanotolla"), vec!["Virtasen"]);
}

#[test]
fn a_first_name_and_surname_are_one_span() {
    assert_eq!(
        names("Terveydenhoitaja Liisa Korhonen auttoi."),
        vec!["Liisa Korhonen"]
    );
}

#[test]
fn a_lower_case_name_is_found() {
    assert_eq!(names("matti oli kiva"), vec!["matti"]);
}

#[test]
fn a_double_name_is_found_whole() {
    assert_eq!(names("Juha-Pekka oli mukava."), vec!["Juha-Pekka"]);
}

#[test]
fn a_swedish_genitive_is_found() {
    assert_eq!(names("Tack för Annas hjälp."), vec!["Annas"]);
}

#[test]
fn an_english_possessive_is_found() {
    assert_eq!(names("Sophie's mum here."), vec!["Sophie's"]);
}

#[test]
fn a_foreign_name_with_a_finnish_ending_is_found() {
    assert_eq!(
        names("Kiitos Kevinille ja Mike'lle!"),
        vec!["Kevinille", "Mike'lle"]
    );
}

#[test]
fn staff_titles_are_not_names() {
    assert!(
        names("Kuraattori ja terveydenhoitaja olivat paikalla. Nurse and kurator too.").is_empty()
    );
}

#[test]
fn a_capitalised_word_after_a_title_is_a_name() {
    assert_eq!(
        names("Kiitos tohtori Lahdelle ja Dr. Smith!"),
        vec!["Lahdelle", "Smith"]
    );
}

#[test]
fn a_place_in_a_local_case_is_not_a_name() {
    assert!(names("Kävin Kalliossa ja Tampereella, sitten Porissa.").is_empty());
}

#[test]
fn weekdays_and_months_are_not_names() {
    assert!(names("Maanantaina ja joulukuussa. On Friday in April. I januari.").is_empty());
}

#[test]
fn a_name_that_ends_like_a_month_is_still_a_name() {
    // "Julia" less a Finnish ending is "juli", Swedish for July, or "jul", Christmas.
    assert_eq!(
        names("Julia oli ihana, kiitos Julialle."),
        vec!["Julia", "Julialle"]
    );
}

#[test]
fn an_everyday_word_at_a_sentence_start_is_not_a_name() {
    assert!(names("Onni oli, että pääsin. Toivon että paranee. Lumi satoi.").is_empty());
}

#[test]
fn an_everyday_word_capitalised_mid_sentence_is_a_name() {
    assert_eq!(
        names("Poikamme Onni ja hoitaja Lumi auttoivat."),
        vec!["Onni", "Lumi"]
    );
}

#[test]
fn an_everyday_word_at_a_sentence_start_is_a_name_before_a_surname() {
    assert_eq!(names("Onni Virtanen kävi täällä."), vec!["Onni Virtanen"]);
}

#[test]
fn a_capitalised_ordinary_word_after_a_first_name_is_a_surname() {
    assert_eq!(
        names("Kiitos Maija Meikäläinen ja Liisa Kivi!"),
        vec!["Maija Meikäläinen", "Liisa Kivi"]
    );
}

#[test]
fn an_everyday_word_in_lower_case_is_not_a_name() {
    assert!(names("oli onni että toivo heräsi").is_empty());
}

#[test]
fn brands_and_services_are_not_names() {
    assert!(names("Viestit tulivat Wilmassa ja Kelalta, ei Teamsissa.").is_empty());
}

#[test]
fn a_nickname_is_found() {
    assert_eq!(names("Pekkis on paras!"), vec!["Pekkis"]);
}

#[test]
fn an_unknown_capitalised_word_in_finnish_mid_sentence_is_a_name() {
    assert_eq!(
        names("Olen Aleksi Lindroos kasiluokalta."),
        vec!["Aleksi Lindroos"]
    );
}

#[test]
fn english_greetings_and_nationalities_are_not_names() {
    assert_eq!(
        names("Thanks Anna, the Finnish system is hard."),
        vec!["Anna"]
    );
}

#[test]
fn placeholders_and_empty_text_give_nothing() {
    assert!(names("").is_empty());
    assert!(names("[puhelinnumero] [sähköposti] [henkilötunnus]").is_empty());
}

#[test]
fn a_listed_surname_with_a_genitive_ending_is_a_name_at_a_sentence_start() {
    assert_eq!(names("Johanssons mottagning var bra."), vec!["Johanssons"]);
    assert_eq!(names("Smith's office was tidy."), vec!["Smith's"]);
}

#[test]
fn a_lower_case_listed_surname_after_a_title_is_a_name() {
    assert_eq!(names("kurator lindqvist var bra"), vec!["lindqvist"]);
    assert_eq!(names("dr smith was kind"), vec!["smith"]);
}

#[test]
fn a_surname_that_is_an_everyday_word_stays_a_word_at_a_sentence_start() {
    assert!(names("Young people need help. White walls scare him.").is_empty());
}

#[test]
fn a_surname_that_is_an_everyday_word_is_a_name_after_an_honorific_or_with_a_possessive() {
    assert_eq!(names("dr brown was nice"), vec!["brown"]);
    assert_eq!(names("Brown's office was tidy."), vec!["Brown's"]);
    assert!(names("I miss brown bread").is_empty());
}

#[test]
fn a_hyphenated_name_is_removed_whole_whatever_its_parts_read_as_alone() {
    assert_eq!(names("Tack Maja-Stina för allt."), vec!["Maja-Stina"]);
    assert_eq!(
        names("thanks to mary-kate for listening"),
        vec!["mary-kate"]
    );
}

#[test]
fn a_title_or_a_lower_case_word_joined_to_a_name_by_a_hyphen_is_not_part_of_it() {
    assert_eq!(names("Poikani Matti-setä auttoi."), vec!["Matti"]);
    assert_eq!(names("Poikani Onni-kampanja oli kiva."), vec!["Onni"]);
}

#[test]
fn an_initial_after_a_first_name_is_part_of_the_name() {
    assert_eq!(names("Kiitos Anna K. auttoi meitä."), vec!["Anna K"]);
    assert_eq!(names("Mark B. was rude."), vec!["Mark B"]);
}

#[test]
fn a_single_letter_after_an_ordinary_word_is_not_an_initial() {
    assert!(names("We were in room B. It was cold.").is_empty());
    assert!(names("Olin ryhmässä C. Se oli kivaa.").is_empty());
}

#[test]
fn a_word_in_a_local_case_is_not_the_first_part_of_the_name_after_it() {
    assert_eq!(names("Aamulla Liisa soitti."), vec!["Liisa"]);
}

#[test]
fn a_sentence_of_nothing_but_everyday_word_names_keeps_them_names() {
    // Privacy first: two children's names alone in a sentence must not leak, so a motto
    // written the same way ("Rauha ja Ilo.") loses its words too.
    assert_eq!(names("Onni ja Lumi."), vec!["Onni", "Lumi"]);
    assert_eq!(names("Rauha ja Ilo."), vec!["Rauha", "Ilo"]);
}

#[test]
fn everyday_word_names_listed_in_a_sentence_with_more_words_are_names() {
    assert_eq!(
        names("Onni ja Lumi leikkivät pihalla."),
        vec!["Onni", "Lumi"]
    );
    // Ilo is a name rarely given, but listed after another capitalised word it is a name
    // even as the subject of a verb.
    assert_eq!(names("Onni ja Ilo leikkivät pihalla."), vec!["Onni", "Ilo"]);
    assert_eq!(names("Onni, Ilo leikkivät."), vec!["Onni", "Ilo"]);
}

#[test]
fn a_rare_everyday_word_name_as_the_subject_of_a_verb_is_the_word() {
    assert!(names("Odotin pitkään, mutta Aamu oli kaunis. Lähdimme kun Sade alkoi.").is_empty());
    // Joined to a clause, not listed with a capitalised word: still the word.
    assert!(names("Tuuli yltyi ja Sade kasteli meidät.").is_empty());
}

#[test]
fn a_rare_everyday_word_name_elsewhere_or_with_support_is_a_name() {
    assert_eq!(names("Kiitos Ilolle!"), vec!["Ilolle"]);
    assert_eq!(
        names("Lapseni Ilo ja Usko saivat apua."),
        vec!["Ilo", "Usko"]
    );
}

#[test]
fn a_capital_i_written_for_an_l_is_not_a_name() {
    assert!(names("Isäpuoli Iyö minua.").is_empty());
    assert_eq!(
        names("Kiitos Iidalle ja Ilkalle."),
        vec!["Iidalle", "Ilkalle"]
    );
}

#[test]
fn the_finder_can_be_shared_between_threads() {
    let finder = NameFinder::load().expect("libvoikko1 and voikko-fi are installed");
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..50 {
                    assert_eq!(finder.find("Kiitos Matille").len(), 1);
                }
            });
        }
    });
}

#[test]
fn a_missing_library_names_the_packages_to_install() {
    let Err(error) = Voikko::load_from("libvoikko-not-installed.so.1") else {
        panic!("a library that does not exist loaded");
    };
    assert!(
        matches!(error, NamesError::LibraryMissing { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("libvoikko1 and voikko-fi"),
        "{error}"
    );
}

#[test]
fn a_missing_dictionary_names_the_package_to_install() {
    let voikko = Voikko::load().expect("libvoikko1 is installed");
    // No dictionary exists for this language, as none would for Finnish without voikko-fi.
    let Err(error) = voikko.open(c"xx") else {
        panic!("a dictionary for xx opened");
    };
    assert!(matches!(error, NamesError::Dictionary { .. }), "{error}");
    assert!(error.to_string().contains("voikko-fi"), "{error}");
}

#[test]
fn voikko_reads_an_inflected_first_name_as_a_first_name() {
    let voikko = Voikko::load().expect("libvoikko1 is installed");
    let mut handle = voikko.open_finnish().expect("voikko-fi is installed");
    let readings = handle.analyze("Matille");
    assert!(
        readings
            .iter()
            .any(|r| r.class == "etunimi" && r.base_form == "Matti" && r.case == "ulkotulento"),
        "{readings:?}"
    );
    assert!(handle.analyze("xqzzy").is_empty());
    assert!(handle.analyze("nul\0byte").is_empty());
}

proptest! {
    #[test]
    fn any_text_gives_ordered_ranges_on_character_boundaries(
        text in "[A-Za-zÅÄÖåäö0-9 ,.!?:'’\\-\n]{0,120}|\\PC{0,60}",
    ) {
        let spans = FINDER.find(&text);
        let mut end = 0;
        for span in spans {
            prop_assert!(span.start >= end && span.start < span.end, "{span:?}");
            prop_assert!(text.get(span.clone()).is_some(), "{span:?} in {text:?}");
            end = span.end;
        }
    }
}
