#![doc = include_str!("../README.md")]

pub mod survey_file;

use kaiku_proto::survey::v1::SurveyContent;

pub use survey_file::{SurveyFileError, parse};

/// A built-in starting point for a survey: content without target units, which the county
/// fills in (and adjusts periods and texts) before publishing.
#[derive(Debug, Clone, Copy)]
pub struct Template {
    /// Stable key, e.g. `thl-national`.
    pub key: &'static str,
    pub description: &'static str,
    source: &'static str,
}

impl Template {
    /// The template's content, parsed from its JSON.
    pub fn content(&self) -> Result<SurveyContent, SurveyFileError> {
        parse(self.source)
    }

    /// The JSON a person can copy, edit and load with `kaikuctl survey create --file`.
    pub fn source(&self) -> &'static str {
        self.source
    }
}

pub const TEMPLATES: [Template; 2] = [
    Template {
        key: "thl-national",
        description: "THL national customer feedback: NPS, the seven topic statements with \"don't know\", open feedback; continuous collection",
        source: include_str!("../templates/thl-national.json"),
    },
    Template {
        key: "student-welfare",
        description: "Student welfare (kuraattori, psykologi): client and guardian forms, faces for ages 7-12, group questions, two three-week periods",
        source: include_str!("../templates/student-welfare.json"),
    },
];

pub fn template(key: &str) -> Option<Template> {
    TEMPLATES.into_iter().find(|t| t.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kaiku_domain::content::{Strictness, validate_content};
    use kaiku_proto::survey::v1::{Language, question::Kind};

    #[test]
    fn every_template_is_publishable_once_it_targets_a_unit() {
        for template in TEMPLATES {
            let mut content = template.content().expect(template.key);
            content.unit_ids.push("unit-1".into());
            if let Err(violations) = validate_content("draft", &content, Strictness::Publish) {
                panic!("{}: {violations}", template.key);
            }
        }
    }

    #[test]
    fn the_thl_form_has_nps_the_seven_topics_and_open_feedback_in_order() {
        let content = template("thl-national")
            .and_then(|t| t.content().ok())
            .expect("thl-national parses");
        let topics: Vec<i32> = content.questions.iter().map(|q| q.topic).collect();
        assert_eq!(
            content.questions.first().map(|q| q.key.as_str()),
            Some("nps")
        );
        assert_eq!(
            content.questions.last().map(|q| q.key.as_str()),
            Some("open_feedback")
        );
        assert_eq!(topics[1..8], [1, 2, 3, 4, 5, 6, 7]);
    }

    fn student_welfare() -> SurveyContent {
        template("student-welfare")
            .and_then(|t| t.content().ok())
            .expect("student-welfare parses")
    }

    #[test]
    fn children_and_young_people_get_their_own_title_intro_and_thanks_without_legal_text() {
        let content = student_welfare();
        let young: Vec<_> = content
            .age_bands
            .iter()
            .filter(|b| kaiku_domain::form::is_young(b))
            .collect();
        assert_eq!(young.len(), 2, "7-12 and 13-17");
        let legal = [
            "henkilötun",
            "muistutu",
            "personbeteckning",
            "anmärkning",
            "identity code",
            "formal objection",
        ];
        for band in young {
            for (name, texts) in [
                ("titles", &band.titles),
                ("intros", &band.intros),
                ("thanks", &band.thanks),
            ] {
                assert_eq!(texts.len(), 3, "{} {name}: fi, sv and en", band.key);
                for text in texts {
                    let lowered = text.text.to_lowercase();
                    assert!(
                        legal.iter().all(|word| !lowered.contains(word)),
                        "{} {name}: legal text in {:?}",
                        band.key,
                        text.text
                    );
                }
            }
        }
    }

    /// A face answers "how was it" (bad .. good), not "did it happen" (yes or no). Finnish asks
    /// yes or no with -ko/-kö on the first word, English with an auxiliary verb first.
    #[test]
    fn face_questions_ask_how_it_was_not_yes_or_no() {
        let auxiliaries = [
            "did", "do", "does", "was", "were", "is", "are", "can", "could", "have", "has",
        ];
        for question in student_welfare().questions {
            if !matches!(question.kind, Some(Kind::Smiley(_))) {
                continue;
            }
            for text in &question.texts {
                let first = text
                    .text
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_lowercase();
                let yes_or_no = match text.language {
                    l if l == Language::Fi as i32 => first.ends_with("ko") || first.ends_with("kö"),
                    l if l == Language::En as i32 => auxiliaries.contains(&first.as_str()),
                    _ => false,
                };
                assert!(!yes_or_no, "{}: {:?}", question.key, text.text);
            }
        }
    }

    #[test]
    fn an_unknown_template_is_none() {
        assert!(template("nope").is_none());
    }
}
