//! Sentiment and themes of open feedback, for the results review: positive feedback first,
//! the rest by theme. A dictionary of word stems per language (data, replaceable per county)
//! drives both; a stem matches at the start of a word, which covers Finnish and Swedish
//! inflection ("odot" finds odotus, odotuksen, odotusta) without a morphological analyser.
//!
//! Sentiment counts positive and negative stems; a negator among the three words before a match
//! flips it ("ei kuunneltu", "inte bra"). More positive than negative is positive, the reverse
//! negative, otherwise neutral.

use std::collections::BTreeMap;

use serde::Deserialize;

/// How many words before a sentiment stem a negator flips it: "ei ollut mitään hyötyä".
const NEGATION_WINDOW: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sentiment {
    Positive,
    Neutral,
    Negative,
}

impl Sentiment {
    pub fn code(self) -> &'static str {
        match self {
            Sentiment::Positive => "positive",
            Sentiment::Neutral => "neutral",
            Sentiment::Negative => "negative",
        }
    }
}

/// Stems per language code ("fi", "sv", "en").
type ByLanguage = BTreeMap<String, Vec<String>>;

#[derive(Debug, Clone, Deserialize)]
pub struct FeedbackDictionary {
    negators: ByLanguage,
    positive: ByLanguage,
    negative: ByLanguage,
    themes: BTreeMap<String, ByLanguage>,
}

#[derive(Debug, thiserror::Error)]
#[error("feedback dictionary: {0}")]
pub struct DictionaryError(String);

impl FeedbackDictionary {
    /// The dictionary shipped with Kaiku.
    pub fn builtin() -> Self {
        // Parsed and tested at build time of the tests; a broken file fails them all.
        Self::from_json(include_str!("feedback/dictionary.json"))
            .unwrap_or_else(|e| panic!("built-in feedback dictionary is invalid: {e}"))
    }

    pub fn from_json(json: &str) -> Result<Self, DictionaryError> {
        let mut dictionary: Self =
            serde_json::from_str(json).map_err(|e| DictionaryError(e.to_string()))?;
        let lower = |by: &mut ByLanguage| {
            for stems in by.values_mut() {
                for stem in stems.iter_mut() {
                    *stem = stem.to_lowercase();
                }
            }
        };
        lower(&mut dictionary.negators);
        lower(&mut dictionary.positive);
        lower(&mut dictionary.negative);
        dictionary.themes.values_mut().for_each(lower);
        Ok(dictionary)
    }

    pub fn theme_keys(&self) -> impl Iterator<Item = &str> {
        self.themes.keys().map(String::as_str)
    }

    /// The text's sentiment and themes (theme keys in dictionary order). Stems of the text's
    /// language are used, and for Finnish and Swedish texts also English ones (mixed writing
    /// is common).
    pub fn tag<'a>(&'a self, text: &str, language: &str) -> (Sentiment, Vec<String>) {
        let lowered = text.to_lowercase();
        let words = words(&lowered);
        let languages = [language, "en"];
        // Borrowed, not cloned: the projection tags every open text it replays.
        fn stems<'a>(by: &'a ByLanguage, languages: &[&str]) -> Vec<&'a str> {
            languages
                .iter()
                .filter_map(|l| by.get(*l))
                .flatten()
                .map(String::as_str)
                .collect()
        }
        let stems = |by: &'a ByLanguage| stems(by, &languages);
        let negators = stems(&self.negators);
        let mut score = 0i32;
        for (sign, list) in [(1, stems(&self.positive)), (-1, stems(&self.negative))] {
            for stem in &list {
                for position in matches(&words, stem) {
                    let negated = position.saturating_sub(NEGATION_WINDOW);
                    let flipped = words[negated..position]
                        .iter()
                        .any(|w| negators.contains(w));
                    score += if flipped { -sign } else { sign };
                }
            }
        }
        let sentiment = match score {
            s if s > 0 => Sentiment::Positive,
            s if s < 0 => Sentiment::Negative,
            _ => Sentiment::Neutral,
        };
        let themes = self
            .themes
            .iter()
            .filter(|(_, by)| {
                stems(by)
                    .iter()
                    .any(|stem| !matches(&words, stem).is_empty())
            })
            .map(|(key, _)| key.clone())
            .collect();
        (sentiment, themes)
    }
}

fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .collect()
}

/// Word positions where `stem` (one or more words, the last a prefix) starts.
fn matches(words: &[&str], stem: &str) -> Vec<usize> {
    // Most stems are one word: no splitting, and no allocation unless it is found.
    if !stem.contains(char::is_whitespace) {
        return (0..words.len())
            .filter(|&i| words[i].starts_with(stem))
            .collect();
    }
    let parts: Vec<&str> = stem.split_whitespace().collect();
    let Some((last, whole)) = parts.split_last() else {
        return vec![];
    };
    (0..words.len())
        .filter(|&i| {
            i + parts.len() <= words.len()
                && whole.iter().enumerate().all(|(j, w)| words[i + j] == *w)
                && words[i + whole.len()].starts_with(last)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(text: &str, language: &str) -> (Sentiment, Vec<String>) {
        FeedbackDictionary::builtin().tag(text, language)
    }

    #[test]
    fn inflected_forms_find_their_theme() {
        for text in [
            "Odotus oli pitkä",
            "Odotuksen jälkeen",
            "Jouduin odottamaan",
            "Liikaa odotusta",
        ] {
            assert!(tag(text, "fi").1.contains(&"waiting".to_owned()), "{text}");
        }
        assert!(
            tag("Väntetiden var lång", "sv")
                .1
                .contains(&"waiting".to_owned())
        );
    }

    #[test]
    fn sentiment_follows_the_words_and_their_negation() {
        assert_eq!(
            tag("Kuraattori kuunteli ja auttoi, kiitos!", "fi").0,
            Sentiment::Positive
        );
        assert_eq!(
            tag("Minua ei kuunneltu lainkaan", "fi").0,
            Sentiment::Negative
        );
        assert_eq!(tag("Det var inte bra", "sv").0, Sentiment::Negative);
        assert_eq!(tag("Tapaaminen oli tiistaina", "fi").0, Sentiment::Neutral);
    }

    #[test]
    fn a_county_dictionary_replaces_the_builtin_one() {
        let dictionary = FeedbackDictionary::from_json(
            r#"{"negators":{},"positive":{"fi":["Loista"]},"negative":{},"themes":{"food":{"fi":["ruok"]}}}"#,
        )
        .expect("valid");
        assert_eq!(
            dictionary.tag("Loistavaa ruokaa", "fi"),
            (Sentiment::Positive, vec!["food".to_owned()])
        );
        assert!(FeedbackDictionary::from_json("{").is_err());
    }
}

/// Precision on the labelled set in `testdata/feedback_labelled.tsv` (120 Finnish and Swedish
/// sentences annotated by hand, with traps such as "odotustila" = premises, not waiting). Run
/// with `--nocapture` to see the figures; the floors catch a dictionary change that makes
/// tagging worse.
#[cfg(test)]
mod evaluation {
    use std::collections::BTreeMap;

    use super::*;

    struct Labelled {
        language: String,
        sentiment: Sentiment,
        themes: Vec<String>,
        text: String,
    }

    fn labelled(source: &str) -> Vec<Labelled> {
        source
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(|line| {
                let columns: Vec<&str> = line.split('\t').collect();
                assert_eq!(columns.len(), 4, "{line}");
                let sentiment = match columns[1] {
                    "positive" => Sentiment::Positive,
                    "negative" => Sentiment::Negative,
                    "neutral" => Sentiment::Neutral,
                    other => panic!("label {other:?}"),
                };
                let themes = match columns[2] {
                    "-" => vec![],
                    list => list.split(',').map(|t| t.trim().to_owned()).collect(),
                };
                Labelled {
                    language: columns[0].to_owned(),
                    sentiment,
                    themes,
                    text: columns[3].to_owned(),
                }
            })
            .collect()
    }

    struct Scores {
        report: String,
        positive: f64,
        negative: f64,
        themes: f64,
    }

    fn evaluate(name: &str, set: &[Labelled]) -> Scores {
        let dictionary = FeedbackDictionary::builtin();
        assert!(set.len() >= 100, "{name}");
        // predicted sentiment -> (predictions, correct)
        let mut sentiment: BTreeMap<Sentiment, (u32, u32)> = BTreeMap::new();
        let (mut theme_predictions, mut theme_correct, mut theme_labels, mut theme_found) =
            (0u32, 0u32, 0u32, 0u32);
        let mut accurate = 0u32;
        for item in set {
            let (predicted, themes) = dictionary.tag(&item.text, &item.language);
            let entry = sentiment.entry(predicted).or_default();
            entry.0 += 1;
            if predicted == item.sentiment {
                entry.1 += 1;
                accurate += 1;
            }
            theme_predictions += themes.len() as u32;
            theme_correct += themes.iter().filter(|t| item.themes.contains(t)).count() as u32;
            theme_labels += item.themes.len() as u32;
            theme_found += item.themes.iter().filter(|t| themes.contains(t)).count() as u32;
        }
        let ratio = |a: u32, b: u32| {
            if b == 0 {
                0.0
            } else {
                f64::from(a) / f64::from(b)
            }
        };
        let precision = |s: Sentiment| {
            let (predicted, correct) = sentiment.get(&s).copied().unwrap_or_default();
            ratio(correct, predicted)
        };
        let report = format!(
            "{name}: sentences {}, sentiment accuracy {:.2}, precision positive {:.2} negative {:.2} neutral {:.2}; themes precision {:.2} recall {:.2}",
            set.len(),
            ratio(accurate, set.len() as u32),
            precision(Sentiment::Positive),
            precision(Sentiment::Negative),
            precision(Sentiment::Neutral),
            ratio(theme_correct, theme_predictions),
            ratio(theme_found, theme_labels),
        );
        println!("{report}");
        Scores {
            report,
            positive: precision(Sentiment::Positive),
            negative: precision(Sentiment::Negative),
            themes: ratio(theme_correct, theme_predictions),
        }
    }

    #[test]
    fn tagging_precision_on_the_labelled_set() {
        let tuned = evaluate(
            "tuning set",
            &labelled(include_str!("../testdata/feedback_labelled.tsv")),
        );
        assert!(tuned.positive >= FLOOR_POSITIVE, "{}", tuned.report);
        assert!(tuned.negative >= FLOOR_NEGATIVE, "{}", tuned.report);
        assert!(tuned.themes >= FLOOR_THEMES, "{}", tuned.report);
    }

    /// Sentences written without sight of the dictionary and never used to tune it: the
    /// honest figure.
    #[test]
    fn tagging_precision_on_the_held_out_set() {
        let held_out = evaluate(
            "held-out set",
            &labelled(include_str!("../testdata/feedback_heldout.tsv")),
        );
        assert!(
            held_out.positive >= HELD_OUT_FLOOR_POSITIVE,
            "{}",
            held_out.report
        );
        assert!(
            held_out.negative >= HELD_OUT_FLOOR_NEGATIVE,
            "{}",
            held_out.report
        );
        assert!(
            held_out.themes >= HELD_OUT_FLOOR_THEMES,
            "{}",
            held_out.report
        );
    }

    // Measured 2026-11-25 on 100 held-out sentences: precision positive 0.66, negative 0.73,
    // neutral 0.20 (accuracy 0.39); themes precision 0.64, recall 0.43. Far below the tuning
    // set: the stem lists do not generalise well yet. Never tune the dictionary on this file,
    // or these numbers stop meaning anything.
    const HELD_OUT_FLOOR_POSITIVE: f64 = 0.6;
    const HELD_OUT_FLOOR_NEGATIVE: f64 = 0.65;
    const HELD_OUT_FLOOR_THEMES: f64 = 0.55;
    const FLOOR_POSITIVE: f64 = 0.9;
    const FLOOR_NEGATIVE: f64 = 0.85;
    const FLOOR_THEMES: f64 = 0.7;
}
