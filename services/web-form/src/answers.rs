//! Turning posted form fields into intake answers, with the respondent's errors in their own
//! language next to the question. The web form and the paper entry screen differ only in how a
//! value is written (`ValueSyntax`); the rules are the same, and response-intake checks them
//! again with the survey's own validation.

use std::collections::BTreeMap;

use kaiku_proto::intake::v1::{
    Answer, ChoiceAnswer, NpsAnswer, OpenTextAnswer, SmileyAnswer, StatementAnswer, answer::Value,
};
use kaiku_proto::survey::v1::{FormQuestion, question::Kind};

use crate::texts::{UiTexts, fill};

/// The service-wide longest open answer (response-intake refuses longer ones).
pub const MAX_OPEN_TEXT_CHARS: u32 = 4000;

/// How values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueSyntax {
    /// The web form's own inputs: numbers, "dk" for don't know, option keys.
    WebForm,
    /// Typed by staff from paper: numbers, "x" for don't know, 1-based option numbers
    /// separated by commas.
    PaperEntry,
}

/// Errors by question key, already in the respondent's language.
pub type QuestionErrors = BTreeMap<String, String>;

/// The answers of one respondent, or why some of them cannot be accepted.
pub fn parse_answers(
    questions: &[FormQuestion],
    values_of: impl Fn(&str) -> Vec<String>,
    syntax: ValueSyntax,
    texts: &UiTexts,
) -> Result<Vec<Answer>, QuestionErrors> {
    let mut answers = Vec::new();
    let mut errors = QuestionErrors::new();
    for form_question in questions {
        let Some(question) = &form_question.question else {
            continue;
        };
        let values: Vec<String> = values_of(&question.key)
            .into_iter()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            if question.required {
                errors.insert(question.key.clone(), texts.error_required.to_owned());
            }
            continue;
        }
        match answer_value(form_question, &values, syntax, texts) {
            Ok(value) => answers.push(Answer {
                question_key: question.key.clone(),
                value: Some(value),
            }),
            Err(message) => {
                errors.insert(question.key.clone(), message);
            }
        }
    }
    if errors.is_empty() {
        Ok(answers)
    } else {
        Err(errors)
    }
}

fn answer_value(
    form_question: &FormQuestion,
    values: &[String],
    syntax: ValueSyntax,
    texts: &UiTexts,
) -> Result<Value, String> {
    let invalid = || texts.error_invalid.to_owned();
    let question = form_question.question.as_ref().ok_or_else(invalid)?;
    let single = || match values {
        [one] => Ok(one.as_str()),
        _ => Err(invalid()),
    };
    match &question.kind {
        Some(Kind::Nps(_)) => {
            let score = number_in(single()?, 0, 10).ok_or_else(invalid)?;
            Ok(Value::Nps(NpsAnswer { score }))
        }
        Some(Kind::Statement(statement)) => {
            let raw = single()?;
            let dont_know_code = match syntax {
                ValueSyntax::WebForm => "dk",
                ValueSyntax::PaperEntry => "x",
            };
            if raw.eq_ignore_ascii_case(dont_know_code) && statement.allow_dont_know {
                return Ok(Value::Statement(StatementAnswer {
                    score: 0,
                    dont_know: true,
                }));
            }
            let score = number_in(raw, 1, 5).ok_or_else(invalid)?;
            Ok(Value::Statement(StatementAnswer {
                score,
                dont_know: false,
            }))
        }
        Some(Kind::Smiley(smiley)) => {
            let face = number_in(single()?, 1, smiley.faces).ok_or_else(invalid)?;
            Ok(Value::Smiley(SmileyAnswer { face }))
        }
        Some(Kind::Choice(choice)) => {
            let keys: Vec<String> = match syntax {
                ValueSyntax::WebForm => values.to_vec(),
                ValueSyntax::PaperEntry => values
                    .iter()
                    .flat_map(|v| v.split([',', ' ']))
                    .filter(|v| !v.is_empty())
                    .map(|n| {
                        let count = u32::try_from(form_question.options.len()).unwrap_or(0);
                        number_in(n, 1, count)
                            .and_then(|i| form_question.options.get(i as usize - 1))
                            .map(|o| o.key.clone())
                            .ok_or_else(invalid)
                    })
                    .collect::<Result<_, _>>()?,
            };
            let known = keys
                .iter()
                .all(|k| form_question.options.iter().any(|o| &o.key == k));
            if !known || (!choice.multiple && keys.len() > 1) {
                return Err(invalid());
            }
            Ok(Value::Choice(ChoiceAnswer { option_keys: keys }))
        }
        Some(Kind::OpenText(open)) => {
            // Browsers send line breaks as CRLF but count them as one character in maxlength;
            // count (and store) them as one too.
            let text = values.join(" ").replace("\r\n", "\n");
            let max = match open.max_chars {
                0 => MAX_OPEN_TEXT_CHARS,
                n => n.min(MAX_OPEN_TEXT_CHARS),
            };
            if text.chars().count() > max as usize {
                return Err(fill(texts.error_too_long, max));
            }
            Ok(Value::OpenText(OpenTextAnswer { text }))
        }
        None => Err(invalid()),
    }
}

fn number_in(raw: &str, min: u32, max: u32) -> Option<u32> {
    raw.parse::<u32>().ok().filter(|n| (min..=max).contains(n))
}

/// Which question an intake field path such as `answers[3].statement.score` is about.
pub fn question_of_field<'a>(field: &str, answers: &'a [Answer]) -> Option<&'a str> {
    let index = field.strip_prefix("answers[")?.split(']').next()?;
    let index: usize = index.parse().ok()?;
    answers.get(index).map(|a| a.question_key.as_str())
}

#[cfg(test)]
mod tests {
    use kaiku_proto::survey::v1::{
        ChoiceQuestion, FormOption, NpsQuestion, OpenTextQuestion, Question, SmileyQuestion,
        StatementQuestion,
    };

    use super::*;
    use crate::texts::{EN, FI};

    fn question(key: &str, kind: Kind, required: bool) -> FormQuestion {
        let options = match &kind {
            Kind::Choice(c) => c
                .options
                .iter()
                .map(|o| FormOption {
                    key: o.key.clone(),
                    text: o.key.to_uppercase(),
                })
                .collect(),
            _ => Vec::new(),
        };
        FormQuestion {
            question: Some(Question {
                key: key.into(),
                kind: Some(kind),
                required,
                ..Question::default()
            }),
            text: key.into(),
            options,
        }
    }

    fn questions() -> Vec<FormQuestion> {
        let option = |key: &str| kaiku_proto::survey::v1::ChoiceOption {
            key: key.into(),
            texts: Vec::new(),
        };
        vec![
            question("nps", Kind::Nps(NpsQuestion {}), true),
            question(
                "kohtaaminen",
                Kind::Statement(StatementQuestion {
                    allow_dont_know: true,
                }),
                false,
            ),
            question("faces", Kind::Smiley(SmileyQuestion { faces: 3 }), false),
            question(
                "reasons",
                Kind::Choice(ChoiceQuestion {
                    multiple: true,
                    options: vec![option("a"), option("b"), option("c")],
                }),
                false,
            ),
            question(
                "visit",
                Kind::Choice(ChoiceQuestion {
                    multiple: false,
                    options: vec![option("first"), option("later")],
                }),
                false,
            ),
            question(
                "open",
                Kind::OpenText(OpenTextQuestion { max_chars: 10 }),
                false,
            ),
        ]
    }

    fn parse(fields: &[(&str, &str)], syntax: ValueSyntax) -> Result<Vec<Answer>, QuestionErrors> {
        parse_answers(
            &questions(),
            |key| {
                fields
                    .iter()
                    .filter(|(k, _)| *k == key)
                    .map(|(_, v)| (*v).to_owned())
                    .collect()
            },
            syntax,
            &FI,
        )
    }

    #[test]
    fn web_form_values_become_answers_and_blank_optional_questions_are_skipped() {
        let answers = parse(
            &[
                ("nps", "9"),
                ("kohtaaminen", "dk"),
                ("faces", "3"),
                ("reasons", "a"),
                ("reasons", "c"),
                ("open", "  Hyvä  "),
                ("visit", ""),
            ],
            ValueSyntax::WebForm,
        )
        .expect("valid");
        let keys: Vec<&str> = answers.iter().map(|a| a.question_key.as_str()).collect();
        assert_eq!(keys, ["nps", "kohtaaminen", "faces", "reasons", "open"]);
        assert_eq!(
            answers[1].value,
            Some(Value::Statement(StatementAnswer {
                score: 0,
                dont_know: true
            }))
        );
        assert_eq!(
            answers[4].value,
            Some(Value::OpenText(OpenTextAnswer {
                text: "Hyvä".into()
            }))
        );
    }

    #[test]
    fn paper_entry_values_use_option_numbers_and_x_for_dont_know() {
        let answers = parse(
            &[
                ("nps", "10"),
                ("kohtaaminen", "X"),
                ("reasons", "1,3"),
                ("visit", "2"),
            ],
            ValueSyntax::PaperEntry,
        )
        .expect("valid");
        assert_eq!(
            answers[2].value,
            Some(Value::Choice(ChoiceAnswer {
                option_keys: vec!["a".into(), "c".into()]
            }))
        );
        assert_eq!(
            answers[3].value,
            Some(Value::Choice(ChoiceAnswer {
                option_keys: vec!["later".into()]
            }))
        );
    }

    /// Every way a respondent or a typist can get a question wrong, and what they are told.
    #[test]
    fn each_wrong_value_is_an_error_on_its_question_in_the_respondents_language() {
        type Case<'a> = (&'a [(&'a str, &'a str)], ValueSyntax, &'a str, &'a str);
        let cases: &[Case] = &[
            (&[], ValueSyntax::WebForm, "nps", FI.error_required),
            (
                &[("nps", " ")],
                ValueSyntax::WebForm,
                "nps",
                FI.error_required,
            ),
            (
                &[("nps", "11")],
                ValueSyntax::WebForm,
                "nps",
                FI.error_invalid,
            ),
            (
                &[("nps", "-1")],
                ValueSyntax::WebForm,
                "nps",
                FI.error_invalid,
            ),
            (
                &[("nps", "seven")],
                ValueSyntax::WebForm,
                "nps",
                FI.error_invalid,
            ),
            (
                &[("nps", "1"), ("nps", "2")],
                ValueSyntax::WebForm,
                "nps",
                FI.error_invalid,
            ),
            (
                &[("nps", "5"), ("kohtaaminen", "0")],
                ValueSyntax::WebForm,
                "kohtaaminen",
                FI.error_invalid,
            ),
            (
                &[("nps", "5"), ("kohtaaminen", "6")],
                ValueSyntax::WebForm,
                "kohtaaminen",
                FI.error_invalid,
            ),
            (
                &[("nps", "5"), ("kohtaaminen", "x")],
                ValueSyntax::WebForm,
                "kohtaaminen",
                FI.error_invalid,
            ),
            (
                &[("nps", "5"), ("kohtaaminen", "dk")],
                ValueSyntax::PaperEntry,
                "kohtaaminen",
                FI.error_invalid,
            ),
            (
                &[("nps", "5"), ("faces", "4")],
                ValueSyntax::WebForm,
                "faces",
                FI.error_invalid,
            ),
            (
                &[("nps", "5"), ("reasons", "z")],
                ValueSyntax::WebForm,
                "reasons",
                FI.error_invalid,
            ),
            (
                &[("nps", "5"), ("reasons", "4")],
                ValueSyntax::PaperEntry,
                "reasons",
                FI.error_invalid,
            ),
            (
                &[("nps", "5"), ("visit", "first"), ("visit", "later")],
                ValueSyntax::WebForm,
                "visit",
                FI.error_invalid,
            ),
            (
                &[("nps", "5"), ("open", "01234567890")],
                ValueSyntax::WebForm,
                "open",
                "Vastaus on liian pitkä: enintään 10 merkkiä.",
            ),
        ];
        for (fields, syntax, key, message) in cases {
            let errors = parse(fields, *syntax).expect_err("refused");
            assert_eq!(
                errors.get(*key).map(String::as_str),
                Some(*message),
                "{fields:?} ({syntax:?})"
            );
            assert_eq!(
                errors.len(),
                1,
                "{fields:?}: only {key} is wrong: {errors:?}"
            );
        }
    }

    #[test]
    fn a_line_break_counts_as_one_character() {
        let answers = parse(
            &[("nps", "5"), ("open", "1234\r\n6789")],
            ValueSyntax::WebForm,
        )
        .expect("10 characters with the line break");
        assert_eq!(
            answers[1].value,
            Some(Value::OpenText(OpenTextAnswer {
                text: "1234\n6789".into()
            }))
        );
    }

    #[test]
    fn errors_follow_the_language() {
        let errors = parse_answers(&questions(), |_| Vec::new(), ValueSyntax::WebForm, &EN)
            .expect_err("nps is required");
        assert_eq!(
            errors.get("nps").map(String::as_str),
            Some(EN.error_required)
        );
    }

    #[test]
    fn intake_field_paths_name_the_answered_question() {
        let answers = parse(&[("nps", "9"), ("open", "x")], ValueSyntax::WebForm).expect("valid");
        assert_eq!(
            question_of_field("answers[1].open_text.text", &answers),
            Some("open")
        );
        assert_eq!(question_of_field("answers[7].nps.score", &answers), None);
        assert_eq!(question_of_field("context.unit_id", &answers), None);
    }
}
