//! Validating one submission against the published version it names, and turning it into the
//! `ResponseSubmitted` event: every violation is reported with its field path, open texts are
//! redacted, and the collection period is resolved.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use kaiku_proto::events::v1::ResponseSubmitted;
use kaiku_proto::intake::v1::{
    Answer, AttentionFlag, OpenTextAnswer, ResponseContext, SubmitResponseRequest, answer::Value,
};
use kaiku_proto::survey::v1::{
    Channel, Language, Question, RespondentRole, question::Kind, survey_content::Collection,
};

use crate::attention::attention_flags;
use crate::catalogue::{Lookup, PublishedForm};
use crate::codes::language_code;
use crate::content::{MAX_OPEN_TEXT_CHARS, kind_name};
use crate::redaction::{NameSpans, NoNames, redact_with};
use crate::time::{LocalDateExt, from_timestamp, helsinki_date, to_timestamp};
use crate::{SubmissionId, SurveyId, Violations};

/// How far in the future `answered_at` may be, to allow for clock skew on kiosks and phones.
const CLOCK_SKEW: Duration = Duration::minutes(5);

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SubmissionError {
    #[error("invalid submission: {0}")]
    Invalid(Violations),
    /// The survey cannot take answers now (archived, not yet published, outside every period).
    #[error("{0}")]
    NotAccepting(String),
}

impl From<Violations> for SubmissionError {
    fn from(v: Violations) -> Self {
        SubmissionError::Invalid(v)
    }
}

/// The ids a request names, parsed before the catalogue is consulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubmissionTarget {
    pub submission_id: SubmissionId,
    pub survey_id: SurveyId,
    pub version: u32,
}

pub fn parse_target(request: &SubmitResponseRequest) -> Result<SubmissionTarget, Violations> {
    let mut v = Violations::new();
    let submission_id = SubmissionId::parse("submission_id", &request.submission_id)
        .map_err(|e| v.extend(e))
        .ok();
    let survey_id = SurveyId::parse("survey_id", &request.survey_id)
        .map_err(|e| v.extend(e))
        .ok();
    if request.survey_version == 0 {
        v.add(
            "survey_version",
            "is required: the published version the answers were given to",
        );
    }
    match (submission_id, survey_id) {
        (Some(submission_id), Some(survey_id)) if v.is_empty() => Ok(SubmissionTarget {
            submission_id,
            survey_id,
            version: request.survey_version,
        }),
        _ => Err(v),
    }
}

/// Turns what the catalogue knows into the form to validate against, or the reason there is none.
pub fn resolve_form(
    survey_id: SurveyId,
    version: u32,
    lookup: Lookup,
) -> Result<std::sync::Arc<PublishedForm>, SubmissionError> {
    match lookup {
        Lookup::Found(form) => Ok(form),
        Lookup::UnknownSurvey => {
            Err(Violations::single("survey_id", format!("no survey {} exists", survey_id)).into())
        }
        Lookup::UnknownVersion { latest } => Err(Violations::single(
            "survey_version",
            format!(
                "survey {} has no published version {}; published versions are 1..{latest}",
                survey_id, version
            ),
        )
        .into()),
        Lookup::NotPublished => Err(SubmissionError::NotAccepting(format!(
            "survey {} has no published version yet",
            survey_id
        ))),
        Lookup::Archived => Err(SubmissionError::NotAccepting(format!(
            "survey {} is archived and takes no answers",
            survey_id
        ))),
    }
}

/// Validates the context and answers against `form` and builds the event to append. Open
/// texts keep person names: for text that is stored, use [`accept_with`].
pub fn accept(
    form: &PublishedForm,
    request: &SubmitResponseRequest,
    received_at: DateTime<Utc>,
) -> Result<ResponseSubmitted, SubmissionError> {
    accept_with(form, request, received_at, &NoNames)
}

/// [`accept`], with the person names `names` finds in open texts redacted as well.
pub fn accept_with(
    form: &PublishedForm,
    request: &SubmitResponseRequest,
    received_at: DateTime<Utc>,
    names: &dyn NameSpans,
) -> Result<ResponseSubmitted, SubmissionError> {
    let mut v = Violations::new();
    let default_context = ResponseContext::default();
    let context = request.context.as_ref().unwrap_or_else(|| {
        v.add("context", "is required");
        &default_context
    });
    check_context(&mut v, form, context);

    let answered_at = match &request.answered_at {
        None => received_at,
        Some(ts) => match from_timestamp(ts) {
            None => {
                v.add("answered_at", "is not a valid timestamp");
                received_at
            }
            Some(t) if t > received_at + CLOCK_SKEW => {
                v.add("answered_at", format!("is in the future ({t})"));
                received_at
            }
            Some(t) => t,
        },
    };

    let (answers, redactions) = check_answers(&mut v, form, context, &request.answers, names);
    let attention_flags = attention_flags_of(&request.answers);
    if !v.is_empty() {
        return Err(SubmissionError::Invalid(v));
    }
    let period_id = resolve_period(form, answered_at)?;
    Ok(ResponseSubmitted {
        submission_id: request.submission_id.clone(),
        survey_version: form.version,
        context: Some(context.clone()),
        answers,
        answered_at: Some(to_timestamp(answered_at)),
        period_id,
        redactions,
        attention_flags: attention_flags.into_iter().map(|f| f as i32).collect(),
    })
}

/// The flags any open text raises, each once. Read from the text as written, before redaction.
fn attention_flags_of(answers: &[Answer]) -> Vec<AttentionFlag> {
    let mut flags: Vec<AttentionFlag> = answers
        .iter()
        .filter_map(|a| match &a.value {
            Some(Value::OpenText(text)) => Some(attention_flags(&text.text)),
            _ => None,
        })
        .flatten()
        .collect();
    flags.sort_by_key(|f| *f as i32);
    flags.dedup();
    flags
}

/// True when a retry carries the same response as the stored one. `answered_at` counts only when
/// the retry states it: otherwise it defaulted to the first receipt time.
pub fn is_same_response(
    stored: &ResponseSubmitted,
    retry: &ResponseSubmitted,
    retry_states_time: bool,
) -> bool {
    stored.submission_id == retry.submission_id
        && stored.survey_version == retry.survey_version
        && stored.context == retry.context
        && stored.answers == retry.answers
        && (!retry_states_time || stored.answered_at == retry.answered_at)
}

pub(crate) fn check_context(v: &mut Violations, form: &PublishedForm, context: &ResponseContext) {
    let content = &form.content;
    if context.unit_id.is_empty() {
        v.add("context.unit_id", "is required");
    } else if !content.unit_ids.contains(&context.unit_id) {
        v.add(
            "context.unit_id",
            format!(
                "unit {:?} is not targeted by this survey version",
                context.unit_id
            ),
        );
    }
    match Channel::try_from(context.channel) {
        Ok(Channel::Unspecified) | Err(_) => v.add(
            "context.channel",
            "is required: paper, qr, kiosk, sms, web_link or api",
        ),
        Ok(_) if !content.channels.contains(&context.channel) => {
            v.add("context.channel", "is not a channel of this survey version")
        }
        Ok(_) => {}
    }
    match RespondentRole::try_from(context.respondent_role) {
        Ok(RespondentRole::Unspecified) | Err(_) => v.add(
            "context.respondent_role",
            "is required: client, guardian or relative",
        ),
        Ok(_) if !content.respondent_roles.contains(&context.respondent_role) => v.add(
            "context.respondent_role",
            "is not a respondent role of this survey version",
        ),
        Ok(_) => {}
    }
    match Language::try_from(context.language) {
        Ok(Language::Unspecified) | Err(_) => {
            v.add("context.language", "is required: fi, sv or en")
        }
        Ok(language) if !content.languages.contains(&context.language) => v.add(
            "context.language",
            format!(
                "{} is not offered by this survey version",
                language_code(language)
            ),
        ),
        Ok(_) => {}
    }
    if !context.professional_group.is_empty()
        && !content
            .professional_groups
            .iter()
            .any(|g| g.key == context.professional_group)
    {
        v.add(
            "context.professional_group",
            format!(
                "{:?} is not a professional group of this survey",
                context.professional_group
            ),
        );
    }
    if !context.age_band.is_empty() && !content.age_bands.iter().any(|b| b.key == context.age_band)
    {
        v.add(
            "context.age_band",
            format!("{:?} is not an age band of this survey", context.age_band),
        );
    }
}

pub(crate) fn is_shown(question: &Question, context: &ResponseContext) -> bool {
    may_be_shown(
        question,
        context.respondent_role,
        Some(&context.professional_group),
        Some(&context.age_band),
    )
}

/// Whether some respondents of `role` (and of the group and age band, where given; None is any)
/// see `question`: the same condition the form applies, read for a slice of the results, so a
/// report never shows "no answers" for a question its respondents were not asked.
pub fn may_be_shown(
    question: &Question,
    role: i32,
    professional_group: Option<&str>,
    age_band: Option<&str>,
) -> bool {
    let Some(condition) = &question.condition else {
        return true;
    };
    let allows = |listed: &[String], value: Option<&str>| {
        listed.is_empty() || value.is_none_or(|v| listed.iter().any(|l| l == v))
    };
    (condition.respondent_roles.is_empty() || condition.respondent_roles.contains(&role))
        && allows(&condition.professional_groups, professional_group)
        && allows(&condition.age_bands, age_band)
}

fn check_answers(
    v: &mut Violations,
    form: &PublishedForm,
    context: &ResponseContext,
    answers: &[Answer],
    names: &dyn NameSpans,
) -> (Vec<Answer>, u32) {
    let questions = &form.content.questions;
    if answers.len() > questions.len() {
        v.add(
            "answers",
            format!(
                "holds {} answers but the survey has {} questions",
                answers.len(),
                questions.len()
            ),
        );
        return (vec![], 0);
    }
    let mut accepted = Vec::with_capacity(answers.len());
    let mut answered = HashSet::new();
    let mut redactions = 0u32;
    for (i, answer) in answers.iter().enumerate() {
        let field = format!("answers[{i}]");
        let Some(question) = questions.iter().find(|q| q.key == answer.question_key) else {
            v.add(
                format!("{field}.question_key"),
                format!(
                    "survey version {} has no question {:?}",
                    form.version, answer.question_key
                ),
            );
            continue;
        };
        if !answered.insert(answer.question_key.as_str()) {
            v.add(
                format!("{field}.question_key"),
                format!("{:?} is answered twice", answer.question_key),
            );
            continue;
        }
        if !is_shown(question, context) {
            v.add(
                format!("{field}.question_key"),
                format!(
                    "question {:?} is not asked of this respondent",
                    answer.question_key
                ),
            );
            continue;
        }
        match check_value(v, &field, question, answer.value.as_ref(), names) {
            Checked::Keep => accepted.push(answer.clone()),
            Checked::Blank => {
                if question.required {
                    v.add(
                        format!("{field}.open_text.text"),
                        "must not be blank: the question is required",
                    );
                }
            }
            Checked::Redacted(text, found) => {
                redactions += found;
                accepted.push(Answer {
                    question_key: answer.question_key.clone(),
                    value: Some(Value::OpenText(OpenTextAnswer { text })),
                });
            }
            Checked::Rejected => {}
        }
    }
    for question in questions {
        if question.required
            && is_shown(question, context)
            && !answered.contains(question.key.as_str())
        {
            v.add(
                "answers",
                format!("required question {:?} is not answered", question.key),
            );
        }
    }
    (accepted, redactions)
}

enum Checked {
    Keep,
    /// An open text with nothing in it: stored as no answer.
    Blank,
    Redacted(String, u32),
    Rejected,
}

fn check_value(
    v: &mut Violations,
    field: &str,
    question: &Question,
    value: Option<&Value>,
    names: &dyn NameSpans,
) -> Checked {
    let Some(kind) = &question.kind else {
        return Checked::Rejected;
    };
    let Some(value) = value else {
        v.add(
            format!("{field}.value"),
            format!("is required: {:?} is {}", question.key, kind_name(kind)),
        );
        return Checked::Rejected;
    };
    let before = v.iter().count();
    match (kind, value) {
        (Kind::Nps(_), Value::Nps(nps)) => {
            if crate::nps::bucket(nps.score).is_none() {
                v.add(
                    format!("{field}.nps.score"),
                    format!("must be 0..10, got {}", nps.score),
                );
            }
        }
        (Kind::Statement(statement), Value::Statement(answer)) => {
            if answer.dont_know {
                if !statement.allow_dont_know {
                    v.add(
                        format!("{field}.statement.dont_know"),
                        "this statement offers no \"don't know\"",
                    );
                } else if answer.score != 0 {
                    v.add(
                        format!("{field}.statement.score"),
                        "must be 0 with dont_know",
                    );
                }
            } else if !(1..=5).contains(&answer.score) {
                v.add(
                    format!("{field}.statement.score"),
                    format!("must be 1..5, got {}", answer.score),
                );
            }
        }
        (Kind::Smiley(smiley), Value::Smiley(answer)) => {
            if !(1..=smiley.faces).contains(&answer.face) {
                v.add(
                    format!("{field}.smiley.face"),
                    format!("must be 1..{}, got {}", smiley.faces, answer.face),
                );
            }
        }
        (Kind::Choice(choice), Value::Choice(answer)) => {
            let mut seen = HashSet::new();
            for (j, key) in answer.option_keys.iter().enumerate() {
                if !choice.options.iter().any(|o| o.key == *key) {
                    v.add(
                        format!("{field}.choice.option_keys[{j}]"),
                        format!("{key:?} is not an option"),
                    );
                } else if !seen.insert(key) {
                    v.add(
                        format!("{field}.choice.option_keys[{j}]"),
                        format!("{key:?} is chosen twice"),
                    );
                }
            }
            if answer.option_keys.is_empty() {
                v.add(
                    format!("{field}.choice.option_keys"),
                    "must choose at least one option",
                );
            } else if !choice.multiple && answer.option_keys.len() > 1 {
                v.add(
                    format!("{field}.choice.option_keys"),
                    "must choose exactly one option",
                );
            }
        }
        (Kind::OpenText(open), Value::OpenText(answer)) => {
            let limit = if open.max_chars == 0 {
                MAX_OPEN_TEXT_CHARS
            } else {
                open.max_chars
            };
            let text = answer.text.trim();
            if text.is_empty() {
                return Checked::Blank;
            }
            let chars = text.chars().count();
            if chars > limit as usize {
                v.add(
                    format!("{field}.open_text.text"),
                    format!("must be at most {limit} characters, got {chars}"),
                );
                return Checked::Rejected;
            }
            let redacted = redact_with(text, names);
            return Checked::Redacted(
                redacted.text,
                u32::try_from(redacted.found.len()).unwrap_or(u32::MAX),
            );
        }
        (kind, _) => v.add(
            format!("{field}.value"),
            format!(
                "{:?} is {}; answer with that kind of value",
                question.key,
                kind_name(kind)
            ),
        ),
    }
    if v.iter().count() == before {
        Checked::Keep
    } else {
        Checked::Rejected
    }
}

pub(crate) fn resolve_period(
    form: &PublishedForm,
    answered_at: DateTime<Utc>,
) -> Result<String, SubmissionError> {
    match &form.content.collection {
        None | Some(Collection::Continuous(_)) => Ok(String::new()),
        Some(Collection::Scheduled(scheduled)) => {
            let day = helsinki_date(answered_at);
            scheduled
                .periods
                .iter()
                .find(|p| {
                    let starts = p.starts_on.as_ref().and_then(|d| d.to_naive());
                    let ends = p.ends_on.as_ref().and_then(|d| d.to_naive());
                    matches!((starts, ends), (Some(s), Some(e)) if s <= day && day <= e)
                })
                .map(|p| p.period_id.clone())
                .ok_or_else(|| {
                    SubmissionError::NotAccepting(format!(
                        "survey {} version {} has no collection period open on {day} (Europe/Helsinki)",
                        form.survey_id, form.version
                    ))
                })
        }
    }
}

#[cfg(test)]
mod rules;
#[cfg(test)]
mod tests;
