//! Splits feedback text into words with their byte ranges and what the rules need to know
//! about where each stands: at a sentence start, after which separator, capitalised or not.

use std::ops::Range;

/// Abbreviations whose full stop does not end a sentence ("Dr. Smith", "esim. Matti").
const ABBREVIATIONS: &[&str] = &[
    "dr", "mr", "mrs", "ms", "prof", "st", "tri", "esim", "mm", "ns", "ym", "yms", "jne", "ts",
    "klo", "n", "ca", "bl", "t",
];

/// How a word is joined to the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gap {
    /// The first word of the text.
    Start,
    /// Only spaces between ("Matti Virtanen").
    Space,
    /// A hyphen and nothing else ("Juha-Pekka", "Tuuli-hoitaja").
    Hyphen,
    /// A comma, with or without spaces ("Anni, Iida").
    Comma,
    /// A sentence boundary: . ! ? or a line break (not after an abbreviation).
    Sentence,
    /// Anything else: other punctuation, brackets, quotes, emoji.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'t> {
    pub text: &'t str,
    pub range: Range<usize>,
    /// How this word is joined to the previous one.
    pub gap: Gap,
    /// A full stop comes right after the word ("K." in "Anna K.").
    pub full_stop_after: bool,
}

impl Token<'_> {
    /// First letter upper case, the rest not all upper case: "Matti", "McDonald", not "HUS".
    pub fn is_capitalised(&self) -> bool {
        let mut letters = self.text.chars().filter(|c| c.is_alphabetic());
        let Some(first) = letters.next() else {
            return false;
        };
        first.is_uppercase() && !self.is_all_caps()
    }

    /// Two letters or more, all upper case: "HUS", "THL", "MATTI".
    pub fn is_all_caps(&self) -> bool {
        let letters: Vec<char> = self.text.chars().filter(|c| c.is_alphabetic()).collect();
        letters.len() >= 2 && letters.iter().all(|c| c.is_uppercase())
    }

    /// One capital letter followed by a full stop: "K." in "Anna K.".
    pub fn is_initial(&self) -> bool {
        let mut chars = self.text.chars();
        self.full_stop_after
            && chars.next().is_some_and(char::is_uppercase)
            && chars.next().is_none()
    }

    pub fn has_digit(&self) -> bool {
        self.text.chars().any(|c| c.is_ascii_digit())
    }

    /// The first word of a sentence, where capitals say nothing about names.
    pub fn starts_sentence(&self) -> bool {
        matches!(self.gap, Gap::Start | Gap::Sentence)
    }

    pub fn lowercase(&self) -> String {
        self.text.to_lowercase()
    }
}

/// The words of `text`. A word is a run of letters and digits; an apostrophe or a colon
/// inside it, followed by a letter, joins ("Mike'lle", "Anna's", "HUS:n"); a hyphen splits it
/// into parts ("Juha" and "Pekka"), each with [`Gap::Hyphen`].
pub fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut tokens: Vec<Token<'_>> = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut previous_end = 0;
    while let Some((start, c)) = chars.next() {
        if !c.is_alphanumeric() {
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(index, next)) = chars.peek() {
            let joins = next.is_alphanumeric()
                || (matches!(next, '\'' | '’' | ':')
                    && text[index + next.len_utf8()..]
                        .chars()
                        .next()
                        .is_some_and(char::is_alphabetic));
            if !joins {
                break;
            }
            end = index + next.len_utf8();
            chars.next();
        }
        let gap = match tokens.last() {
            None => Gap::Start,
            Some(last) => gap_between(last.text, &text[previous_end..start]),
        };
        tokens.push(Token {
            text: &text[start..end],
            range: start..end,
            gap,
            full_stop_after: text[end..].starts_with('.'),
        });
        previous_end = end;
    }
    tokens
}

fn gap_between(previous: &str, between: &str) -> Gap {
    let trimmed = between.trim_matches(|c: char| c == ' ' || c == '\t');
    if trimmed.is_empty() {
        return Gap::Space;
    }
    if trimmed == "-" && between == "-" {
        return Gap::Hyphen;
    }
    if trimmed == "," {
        return Gap::Comma;
    }
    if between.contains(['\n', '\r', '!', '?']) {
        return Gap::Sentence;
    }
    if between.contains('.') {
        let abbreviation = ABBREVIATIONS.contains(&previous.to_lowercase().as_str());
        if abbreviation && trimmed == "." {
            return Gap::Space;
        }
        return Gap::Sentence;
    }
    Gap::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<(&str, Gap)> {
        tokenize(text)
            .into_iter()
            .map(|t| (t.text, t.gap))
            .collect()
    }

    #[test]
    fn words_carry_their_byte_ranges() {
        let text = "Kiitos Äänelle!";
        let tokens = tokenize(text);
        assert_eq!(&text[tokens[1].range.clone()], "Äänelle");
    }

    #[test]
    fn a_hyphen_splits_a_double_name_into_joined_parts() {
        assert_eq!(
            words("Juha-Pekka oli"),
            vec![
                ("Juha", Gap::Start),
                ("Pekka", Gap::Hyphen),
                ("oli", Gap::Space)
            ]
        );
    }

    #[test]
    fn an_apostrophe_or_colon_ending_stays_in_the_word() {
        assert_eq!(
            words("Mike'lle ja HUS:n, Anna's"),
            vec![
                ("Mike'lle", Gap::Start),
                ("ja", Gap::Space),
                ("HUS:n", Gap::Space),
                ("Anna's", Gap::Comma)
            ]
        );
    }

    #[test]
    fn a_full_stop_starts_a_sentence_except_after_an_abbreviation() {
        assert_eq!(
            words("Kiitos. Dr. Smith"),
            vec![
                ("Kiitos", Gap::Start),
                ("Dr", Gap::Sentence),
                ("Smith", Gap::Space)
            ]
        );
    }

    #[test]
    fn a_colon_between_words_does_not_start_a_sentence() {
        assert_eq!(words("tässä: Laura")[1].1, Gap::Other);
    }

    #[test]
    fn a_capital_letter_before_a_full_stop_is_an_initial() {
        let tokens = tokenize("Anna K. ja B-rappu, Matti L");
        let initials: Vec<&str> = tokens
            .iter()
            .filter(|t| t.is_initial())
            .map(|t| t.text)
            .collect();
        assert_eq!(initials, vec!["K"]);
    }

    #[test]
    fn capitals_are_told_apart_from_all_caps() {
        let tokens = tokenize("Matti HUS matti 9B");
        assert!(tokens[0].is_capitalised());
        assert!(!tokens[1].is_capitalised() && tokens[1].is_all_caps());
        assert!(!tokens[2].is_capitalised());
        assert!(tokens[3].has_digit());
    }
}
