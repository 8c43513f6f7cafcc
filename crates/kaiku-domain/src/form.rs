//! The form one respondent sees: the questions of a published version that apply to their
//! context, with texts in their language. Channel adapters render it; intake later accepts
//! exactly these questions, because both use the same context check and the same
//! `is_shown` rule.

use chrono::{DateTime, Utc};
use kaiku_proto::intake::v1::ResponseContext;
use kaiku_proto::survey::v1::{
    FormOption, FormQuestion, GetFormResponse, LocalizedText, question::Kind,
};

use crate::Violations;
use crate::catalogue::PublishedForm;
use crate::submission::{SubmissionError, check_context, is_shown, resolve_period};

/// Resolves `form` for `context` at `now`. An invalid context is an error naming each field;
/// a survey with no period open today is a form with `accepting = false` and the reason, so a
/// channel can say so instead of showing questions.
pub fn respondent_form(
    form: &PublishedForm,
    context: &ResponseContext,
    now: DateTime<Utc>,
) -> Result<GetFormResponse, Violations> {
    let mut v = Violations::new();
    check_context(&mut v, form, context);
    if !v.is_empty() {
        return Err(v);
    }
    let language = context.language;
    let questions = form
        .content
        .questions
        .iter()
        .filter(|q| is_shown(q, context))
        .map(|question| FormQuestion {
            question: Some(question.clone()),
            text: text_in(&question.texts, language),
            options: match &question.kind {
                Some(Kind::Choice(choice)) => choice
                    .options
                    .iter()
                    .map(|o| FormOption {
                        key: o.key.clone(),
                        text: text_in(&o.texts, language),
                    })
                    .collect(),
                _ => Vec::new(),
            },
        })
        .collect();
    let (accepting, closed_reason, period_id) = match resolve_period(form, now) {
        Ok(period_id) => (true, String::new(), period_id),
        Err(SubmissionError::NotAccepting(reason)) => (false, reason, String::new()),
        Err(SubmissionError::Invalid(violations)) => return Err(violations),
    };
    Ok(GetFormResponse {
        survey_id: form.survey_id.to_string(),
        survey_version: form.version,
        title: text_in(&form.content.titles, language),
        questions,
        accepting,
        closed_reason,
        period_id,
        languages: form.content.languages.clone(),
        unit_name: String::new(),
        professional_group_name: form
            .content
            .professional_groups
            .iter()
            .find(|g| g.key == context.professional_group)
            .map(|g| text_in(&g.names, language))
            .unwrap_or_default(),
    })
}

/// The text in `language`; publishing guarantees every offered language has one.
pub fn text_in(texts: &[LocalizedText], language: i32) -> String {
    texts
        .iter()
        .find(|t| t.language == language)
        .map(|t| t.text.clone())
        .unwrap_or_default()
}
