//! The survey file people write (kaikuctl, the templates): JSON with language codes and short names instead of protobuf
//! enum numbers, so a person can write one. See deploy/demo/nps-survey.json.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kaiku_domain::time::local_date;
use kaiku_proto::survey::v1 as pb;
use pb::question::Kind;
use pb::survey_content::Collection;
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum SurveyFileError {
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
}

fn invalid(path: impl Into<String>, reason: impl Into<String>) -> SurveyFileError {
    SurveyFileError::Invalid {
        path: path.into(),
        reason: reason.into(),
    }
}

/// Texts by language code: {"fi": "...", "sv": "...", "en": "..."}.
type Texts = BTreeMap<String, String>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyFile {
    #[serde(default)]
    titles: Texts,
    languages: Vec<String>,
    respondent_roles: Vec<String>,
    channels: Vec<String>,
    unit_ids: Vec<String>,
    #[serde(default)]
    professional_groups: Vec<GroupFile>,
    #[serde(default)]
    age_bands: Vec<AgeBandFile>,
    #[serde(default)]
    periods: Vec<PeriodFile>,
    questions: Vec<QuestionFile>,
    /// How long answers keep their open texts; the county's default when left out.
    #[serde(default)]
    retention: Option<RetentionFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetentionFile {
    /// Months; 0 = the county's default (ADR 0019).
    #[serde(default)]
    open_text_months: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupFile {
    key: String,
    #[serde(default)]
    names: Texts,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgeBandFile {
    key: String,
    min_age: u32,
    max_age: u32,
    /// The band's own title, introduction and thank-you text (a child's form speaks to a
    /// child); optional, all languages or none.
    #[serde(default)]
    titles: Texts,
    #[serde(default)]
    intros: Texts,
    #[serde(default)]
    thanks: Texts,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeriodFile {
    period_id: String,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
}

// Kind-specific settings sit beside `kind` rather than in a serde-tagged enum: serde cannot
// refuse unknown fields through `flatten`, and a misspelt setting must not pass silently.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionFile {
    key: String,
    kind: KindName,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    topic: Option<String>,
    #[serde(default)]
    texts: Texts,
    #[serde(default)]
    show_to_roles: Vec<String>,
    #[serde(default)]
    show_to_groups: Vec<String>,
    #[serde(default)]
    show_to_age_bands: Vec<String>,
    allow_dont_know: Option<bool>,
    faces: Option<u32>,
    multiple: Option<bool>,
    options: Option<Vec<OptionFile>>,
    max_chars: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum KindName {
    Nps,
    Statement,
    Smiley,
    Choice,
    OpenText,
}

impl QuestionFile {
    /// The settings given that do not belong to this question's kind.
    fn foreign_settings(&self) -> Vec<&'static str> {
        let given = [
            (
                "allow_dont_know",
                self.allow_dont_know.is_some(),
                KindName::Statement,
            ),
            ("faces", self.faces.is_some(), KindName::Smiley),
            ("multiple", self.multiple.is_some(), KindName::Choice),
            ("options", self.options.is_some(), KindName::Choice),
            ("max_chars", self.max_chars.is_some(), KindName::OpenText),
        ];
        given
            .into_iter()
            .filter(|(_, present, owner)| *present && *owner != self.kind)
            .map(|(name, _, _)| name)
            .collect()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionFile {
    key: String,
    #[serde(default)]
    texts: Texts,
}

pub fn parse(json: &str) -> Result<pb::SurveyContent, SurveyFileError> {
    let file: SurveyFile =
        serde_json::from_str(json).map_err(|e| invalid("survey file", e.to_string()))?;
    file.into_content()
}

impl SurveyFile {
    fn into_content(self) -> Result<pb::SurveyContent, SurveyFileError> {
        let languages = codes(&self.languages, "languages", language)?;
        let respondent_roles = codes(&self.respondent_roles, "respondent_roles", role)?;
        let channels = codes(&self.channels, "channels", channel)?;
        let mut questions = Vec::new();
        for (i, q) in self.questions.into_iter().enumerate() {
            let path = format!("questions[{i}]");
            if let Some(setting) = q.foreign_settings().first() {
                return Err(invalid(
                    format!("{path}.{setting}"),
                    format!("does not apply to a {:?} question", q.kind),
                ));
            }
            let kind = match q.kind {
                KindName::Nps => Kind::Nps(pb::NpsQuestion {}),
                KindName::Statement => Kind::Statement(pb::StatementQuestion {
                    allow_dont_know: q.allow_dont_know.unwrap_or(false),
                }),
                KindName::Smiley => Kind::Smiley(pb::SmileyQuestion {
                    faces: q.faces.ok_or_else(|| {
                        invalid(
                            format!("{path}.faces"),
                            "a smiley question needs 3 or 5 faces",
                        )
                    })?,
                }),
                KindName::OpenText => Kind::OpenText(pb::OpenTextQuestion {
                    max_chars: q.max_chars.unwrap_or(0),
                }),
                KindName::Choice => Kind::Choice(pb::ChoiceQuestion {
                    multiple: q.multiple.unwrap_or(false),
                    options: q
                        .options
                        .unwrap_or_default()
                        .into_iter()
                        .enumerate()
                        .map(|(j, o)| {
                            Ok(pb::ChoiceOption {
                                key: o.key,
                                texts: texts(&o.texts, &format!("{path}.options[{j}].texts"))?,
                            })
                        })
                        .collect::<Result<_, SurveyFileError>>()?,
                }),
            };
            let topic = match &q.topic {
                None => pb::ThlTopic::Unspecified,
                Some(t) => pb::ThlTopic::from_str_name(&format!("THL_TOPIC_{}", t.to_uppercase()))
                    .ok_or_else(|| {
                        invalid(format!("{path}.topic"), format!("unknown THL topic {t:?}"))
                    })?,
            };
            let has_condition = !(q.show_to_roles.is_empty()
                && q.show_to_groups.is_empty()
                && q.show_to_age_bands.is_empty());
            questions.push(pb::Question {
                key: q.key,
                kind: Some(kind),
                required: q.required,
                topic: topic as i32,
                texts: texts(&q.texts, &format!("{path}.texts"))?,
                condition: if has_condition {
                    Some(pb::Condition {
                        respondent_roles: codes(
                            &q.show_to_roles,
                            &format!("{path}.show_to_roles"),
                            role,
                        )?,
                        professional_groups: q.show_to_groups,
                        age_bands: q.show_to_age_bands,
                    })
                } else {
                    None
                },
            });
        }
        let collection = if self.periods.is_empty() {
            Collection::Continuous(pb::ContinuousCollection {})
        } else {
            Collection::Scheduled(pb::ScheduledCollection {
                periods: self
                    .periods
                    .into_iter()
                    .map(|p| pb::CollectionPeriod {
                        period_id: p.period_id,
                        starts_on: Some(local_date(p.starts_on)),
                        ends_on: Some(local_date(p.ends_on)),
                    })
                    .collect(),
            })
        };
        Ok(pb::SurveyContent {
            titles: texts(&self.titles, "titles")?,
            languages,
            respondent_roles,
            professional_groups: self
                .professional_groups
                .into_iter()
                .enumerate()
                .map(|(i, g)| {
                    Ok(pb::ProfessionalGroup {
                        key: g.key,
                        names: texts(&g.names, &format!("professional_groups[{i}].names"))?,
                    })
                })
                .collect::<Result<_, SurveyFileError>>()?,
            age_bands: self
                .age_bands
                .into_iter()
                .enumerate()
                .map(|(i, b)| {
                    let path = |name: &str| format!("age_bands[{i}].{name}");
                    Ok(pb::AgeBand {
                        key: b.key,
                        min_age: b.min_age,
                        max_age: b.max_age,
                        titles: texts(&b.titles, &path("titles"))?,
                        intros: texts(&b.intros, &path("intros"))?,
                        thanks: texts(&b.thanks, &path("thanks"))?,
                    })
                })
                .collect::<Result<_, SurveyFileError>>()?,
            channels,
            unit_ids: self.unit_ids,
            questions,
            collection: Some(collection),
            retention: self.retention.map(|r| pb::Retention {
                open_text_months: r.open_text_months,
            }),
        })
    }
}

fn texts(texts: &Texts, path: &str) -> Result<Vec<pb::LocalizedText>, SurveyFileError> {
    texts
        .iter()
        .map(|(code, text)| {
            Ok(pb::LocalizedText {
                language: language(code)
                    .ok_or_else(|| invalid(path, format!("unknown language {code:?}")))?
                    as i32,
                text: text.clone(),
            })
        })
        .collect()
}

fn codes<T: Copy + Into<i32>>(
    values: &[String],
    path: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<Vec<i32>, SurveyFileError> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            parse(v)
                .map(Into::into)
                .ok_or_else(|| invalid(format!("{path}[{i}]"), format!("unknown value {v:?}")))
        })
        .collect()
}

pub fn language(code: &str) -> Option<pb::Language> {
    match code {
        "fi" => Some(pb::Language::Fi),
        "sv" => Some(pb::Language::Sv),
        "en" => Some(pb::Language::En),
        _ => None,
    }
}

pub fn role(code: &str) -> Option<pb::RespondentRole> {
    match code {
        "client" => Some(pb::RespondentRole::Client),
        "guardian" => Some(pb::RespondentRole::Guardian),
        "relative" => Some(pb::RespondentRole::Relative),
        _ => None,
    }
}

pub fn channel(code: &str) -> Option<pb::Channel> {
    match code {
        "paper" => Some(pb::Channel::Paper),
        "qr" => Some(pb::Channel::Qr),
        "kiosk" => Some(pb::Channel::Kiosk),
        "sms" => Some(pb::Channel::Sms),
        "web_link" | "web-link" => Some(pb::Channel::WebLink),
        "api" => Some(pb::Channel::Api),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_survey_file_parses_into_a_publishable_survey() {
        let json = include_str!("../../../deploy/demo/nps-survey.json");
        let content = parse(json).expect("demo survey parses");
        kaiku_domain::content::validate_content(
            "draft",
            &content,
            kaiku_domain::content::Strictness::Publish,
        )
        .expect("demo survey is publishable");
    }

    #[test]
    fn an_unknown_channel_names_its_place() {
        let json = r#"{"languages":["fi"],"respondent_roles":["client"],"channels":["fax"],"unit_ids":["u"],"questions":[]}"#;
        let err = parse(json).expect_err("unknown channel");
        assert_eq!(err.to_string(), "channels[0]: unknown value \"fax\"");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let json = r#"{"languages":[],"respondent_roles":[],"channels":[],"unit_ids":[],"questions":[],"colour":"red"}"#;
        assert!(parse(json).is_err());
    }

    #[test]
    fn a_misspelt_question_setting_is_refused() {
        let json = r#"{"languages":["fi"],"respondent_roles":["client"],"channels":["qr"],"unit_ids":["u"],
            "questions":[{"key":"open","kind":"open_text","max_char":10,"texts":{"fi":"Kerro"}}]}"#;
        let error = parse(json).expect_err("misspelt setting");
        assert!(error.to_string().contains("max_char"), "{error}");
    }

    #[test]
    fn an_age_band_carries_its_own_title_intro_and_thanks() {
        let json = r#"{"languages":["fi","sv"],"respondent_roles":["client"],"channels":["kiosk"],"unit_ids":["u"],
            "age_bands":[{"key":"age_7_12","min_age":7,"max_age":12,
              "titles":{"fi":"Kerro meille","sv":"Berätta för oss"},
              "intros":{"fi":"Valitse kasvot.","sv":"Välj ett ansikte."},
              "thanks":{"fi":"Kiitos!","sv":"Tack!"}}],
            "questions":[{"key":"face","kind":"smiley","faces":3,"texts":{"fi":"Miltä tuntui?","sv":"Hur kändes det?"}}]}"#;
        let content = parse(json).expect("band texts parse");
        let band = &content.age_bands[0];
        let fi = |texts: &[pb::LocalizedText]| {
            texts
                .iter()
                .find(|t| t.language == pb::Language::Fi as i32)
                .map(|t| t.text.clone())
        };
        assert_eq!(fi(&band.titles).as_deref(), Some("Kerro meille"));
        assert_eq!(fi(&band.intros).as_deref(), Some("Valitse kasvot."));
        assert_eq!(fi(&band.thanks).as_deref(), Some("Kiitos!"));
        assert_eq!(band.titles.len(), 2);
    }

    #[test]
    fn an_age_band_text_in_an_unknown_language_names_its_place() {
        let json = r#"{"languages":["fi"],"respondent_roles":["client"],"channels":["kiosk"],"unit_ids":["u"],
            "age_bands":[{"key":"young","min_age":7,"max_age":12,"intros":{"se":"Vastaa"}}],
            "questions":[]}"#;
        let error = parse(json).expect_err("unknown language");
        assert_eq!(
            error.to_string(),
            "age_bands[0].intros: unknown language \"se\""
        );
    }

    #[test]
    fn a_survey_file_may_set_its_own_retention() {
        let json = r#"{"languages":["fi"],"respondent_roles":["client"],"channels":["qr"],"unit_ids":["u"],
            "questions":[],"retention":{"open_text_months":6}}"#;
        let content = parse(json).expect("retention parses");
        assert_eq!(
            content.retention.map(|r| r.open_text_months),
            Some(6),
            "its own months"
        );
        let json = r#"{"languages":["fi"],"respondent_roles":["client"],"channels":["qr"],"unit_ids":["u"],
            "questions":[],"retention":{"open_text_days":6}}"#;
        assert!(parse(json).is_err(), "a misspelt retention setting");
    }

    #[test]
    fn a_setting_of_another_kind_names_the_question_and_setting() {
        let json = r#"{"languages":["fi"],"respondent_roles":["client"],"channels":["qr"],"unit_ids":["u"],
            "questions":[{"key":"nps","kind":"nps","max_chars":10,"texts":{"fi":"Suosittelisitko?"}}]}"#;
        let error = parse(json).expect_err("foreign setting");
        assert!(
            error.to_string().contains("questions[0].max_chars"),
            "{error}"
        );
    }
}
