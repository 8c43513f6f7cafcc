//! Scoring a finder against the labelled sets in `testdata/`: token-level
//! precision and recall, and every word it got wrong. Used by the crate's test (which fails
//! below the thresholds) and by the `name-eval` binary.

use std::fmt;
use std::ops::Range;

/// The labelled set, compiled in so the test and `name-eval` run from any directory. Used
/// while the rules were developed.
pub const LABELLED_SET: &str = include_str!("../testdata/names_labelled.tsv");

/// Sentences written after the rules were finished and measured once: the honest figure.
pub const HELDOUT_SET: &str = include_str!("../testdata/names_heldout.tsv");

/// An outside tester's attempts to get names through (or ordinary words replaced), with more
/// sentences of the same kinds written before the finder was run on them.
pub const ADVERSARIAL_SET: &str = include_str!("../testdata/names_adversarial.tsv");

/// One labelled sentence: its language, its text without marks, and where the names are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labelled {
    pub line: usize,
    pub language: String,
    pub text: String,
    pub names: Vec<Range<usize>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("labelled set line {line}: {problem}")]
pub struct LabelError {
    pub line: usize,
    pub problem: String,
}

/// Reads `language<TAB>sentence` lines, names marked `[[Name]]`; `#` lines are comments.
pub fn parse(set: &str) -> Result<Vec<Labelled>, LabelError> {
    let mut sentences = Vec::new();
    for (index, line) in set.lines().enumerate() {
        let line_number = index + 1;
        let error = |problem: &str| LabelError {
            line: line_number,
            problem: problem.to_owned(),
        };
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((language, marked)) = line.split_once('\t') else {
            return Err(error("expected language<TAB>sentence"));
        };
        if !matches!(language, "fi" | "sv" | "en") {
            return Err(error("language must be fi, sv or en"));
        }
        let mut text = String::with_capacity(marked.len());
        let mut names = Vec::new();
        let mut rest = marked;
        while let Some(open) = rest.find("[[") {
            text.push_str(&rest[..open]);
            let after = &rest[open + 2..];
            let Some(close) = after.find("]]") else {
                return Err(error("[[ without ]]"));
            };
            let start = text.len();
            text.push_str(&after[..close]);
            names.push(start..text.len());
            rest = &after[close + 2..];
        }
        if rest.contains("]]") {
            return Err(error("]] without [["));
        }
        text.push_str(rest);
        sentences.push(Labelled {
            line: line_number,
            language: language.to_owned(),
            text,
            names,
        });
    }
    Ok(sentences)
}

/// A scoring token: a maximal run of letters and digits.
fn scoring_tokens(text: &str) -> Vec<Range<usize>> {
    let mut tokens = Vec::new();
    let mut start = None;
    for (index, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(index),
            (false, Some(s)) => {
                tokens.push(s..index);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        tokens.push(s..text.len());
    }
    tokens
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// One word the finder got wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miss {
    pub line: usize,
    pub language: String,
    pub word: String,
    pub sentence: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
}

impl Counts {
    /// Share of the words marked as names that are names; 1.0 when nothing was marked.
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    /// Share of the names that were marked; 1.0 when there were none.
    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub sentences: usize,
    pub sentences_without_names: usize,
    pub total: Counts,
    /// Per language, in the order fi, sv, en.
    pub by_language: Vec<(String, Counts)>,
    pub false_positives: Vec<Miss>,
    pub false_negatives: Vec<Miss>,
}

/// Scores `find` on every sentence of the set.
pub fn evaluate(sentences: &[Labelled], mut find: impl FnMut(&str) -> Vec<Range<usize>>) -> Report {
    let mut report = Report {
        sentences: sentences.len(),
        by_language: ["fi", "sv", "en"]
            .iter()
            .map(|l| ((*l).to_owned(), Counts::default()))
            .collect(),
        ..Report::default()
    };
    for sentence in sentences {
        if sentence.names.is_empty() {
            report.sentences_without_names += 1;
        }
        let found = find(&sentence.text);
        let mut counts = Counts::default();
        for token in scoring_tokens(&sentence.text) {
            let is_name = sentence.names.iter().any(|n| overlaps(n, &token));
            let was_found = found.iter().any(|f| overlaps(f, &token));
            let miss = || Miss {
                line: sentence.line,
                language: sentence.language.clone(),
                word: sentence.text[token.clone()].to_owned(),
                sentence: sentence.text.clone(),
            };
            match (is_name, was_found) {
                (true, true) => counts.true_positives += 1,
                (false, true) => {
                    counts.false_positives += 1;
                    report.false_positives.push(miss());
                }
                (true, false) => {
                    counts.false_negatives += 1;
                    report.false_negatives.push(miss());
                }
                (false, false) => {}
            }
        }
        add(&mut report.total, counts);
        if let Some((_, language)) = report
            .by_language
            .iter_mut()
            .find(|(l, _)| *l == sentence.language)
        {
            add(language, counts);
        }
    }
    report
}

fn add(total: &mut Counts, counts: Counts) {
    total.true_positives += counts.true_positives;
    total.false_positives += counts.false_positives;
    total.false_negatives += counts.false_negatives;
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} sentences, {} without names; {} name tokens",
            self.sentences,
            self.sentences_without_names,
            self.total.true_positives + self.total.false_negatives
        )?;
        writeln!(
            f,
            "all: precision {:.3}, recall {:.3} (tp {}, fp {}, fn {})",
            self.total.precision(),
            self.total.recall(),
            self.total.true_positives,
            self.total.false_positives,
            self.total.false_negatives
        )?;
        for (language, counts) in &self.by_language {
            writeln!(
                f,
                "{language}:  precision {:.3}, recall {:.3} (tp {}, fp {}, fn {})",
                counts.precision(),
                counts.recall(),
                counts.true_positives,
                counts.false_positives,
                counts.false_negatives
            )?;
        }
        for (heading, misses) in [
            ("false positives", &self.false_positives),
            ("false negatives", &self.false_negatives),
        ] {
            writeln!(f, "{heading} ({}):", misses.len())?;
            for miss in misses {
                writeln!(
                    f,
                    "  line {} [{}] {:?} in: {}",
                    miss.line, miss.language, miss.word, miss.sentence
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_removed_and_become_ranges() {
        let set = "# comment\nfi\tKiitos [[Matille]] ja [[Liisa]] [[Korhoselle]]!\n";
        let sentences = parse(set).expect("valid");
        assert_eq!(sentences.len(), 1);
        let sentence = &sentences[0];
        assert_eq!(sentence.text, "Kiitos Matille ja Liisa Korhoselle!");
        let names: Vec<&str> = sentence
            .names
            .iter()
            .map(|r| &sentence.text[r.clone()])
            .collect();
        assert_eq!(names, vec!["Matille", "Liisa", "Korhoselle"]);
    }

    #[test]
    fn an_unclosed_mark_is_an_error_with_its_line() {
        let error = parse("fi\tok\nfi\tKiitos [[Matti\n").expect_err("unclosed");
        assert_eq!(error.line, 2);
    }

    #[test]
    fn scoring_counts_words_not_spans() {
        let sentences = parse("fi\t[[Matti]] [[Virtanen]] ja Kela\n").expect("valid");
        // One span over both names and a wrong one over "Kela".
        let report = evaluate(&sentences, |_| vec![0..14, 18..22]);
        assert_eq!(
            report.total,
            Counts {
                true_positives: 2,
                false_positives: 1,
                false_negatives: 0
            }
        );
        assert_eq!(report.false_positives[0].word, "Kela");
    }

    #[test]
    fn the_labelled_set_parses_and_is_big_and_mixed_enough() {
        let sentences = parse(LABELLED_SET).expect("the labelled set is well formed");
        assert!(sentences.len() >= 250, "{} sentences", sentences.len());
        let without = sentences.iter().filter(|s| s.names.is_empty()).count();
        assert!(
            without * 10 >= sentences.len() * 4,
            "{without} of {} without names",
            sentences.len()
        );
        for language in ["fi", "sv", "en"] {
            assert!(sentences.iter().any(|s| s.language == language));
        }
    }

    #[test]
    fn the_held_out_and_adversarial_sets_parse_and_hold_every_language() {
        for set in [HELDOUT_SET, ADVERSARIAL_SET] {
            let sentences = parse(set).expect("the set is well formed");
            assert!(sentences.len() >= 30, "{} sentences", sentences.len());
            for language in ["fi", "sv", "en"] {
                assert!(sentences.iter().any(|s| s.language == language));
            }
        }
    }
}
