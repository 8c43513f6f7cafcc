//! The form one respondent sees: the questions of a published version that apply to their
//! context, with texts in their language, and the title, introduction and thanks of their age
//! band when it has its own. Channel adapters render it; intake later accepts exactly these
//! questions, because both use the same context check and the same `is_shown` rule.

use chrono::{DateTime, Utc};
use kaiku_proto::intake::v1::ResponseContext;
use kaiku_proto::survey::v1::{
    AgeBand, FormOption, FormQuestion, GetFormResponse, LocalizedText, question::Kind,
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
    let band = form
        .content
        .age_bands
        .iter()
        .find(|b| !context.age_band.is_empty() && b.key == context.age_band);
    // A band's own text when it has one in this language: publishing requires all or none.
    let band_text = |texts: fn(&AgeBand) -> &[LocalizedText]| {
        band.map(|b| text_in(texts(b), language))
            .filter(|t| !t.is_empty())
    };
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
        title: band_text(|b| &b.titles).unwrap_or_else(|| text_in(&form.content.titles, language)),
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
        intro: band_text(|b| &b.intros).unwrap_or_default(),
        thanks: band_text(|b| &b.thanks).unwrap_or_default(),
        age_band: band.cloned(),
    })
}

/// The age from which a respondent is an adult: younger ones get a child's or young person's
/// help (the school kuraattori or nurse, the children's and young people's helpline), adults the
/// county's social emergency service and the formal-objection route.
pub const ADULT_AGE: u32 = 18;

/// Whether everyone in `band` is under 18.
pub fn is_young(band: &AgeBand) -> bool {
    band.max_age < ADULT_AGE
}

/// The text in `language`; publishing guarantees every offered language has one.
pub fn text_in(texts: &[LocalizedText], language: i32) -> String {
    texts
        .iter()
        .find(|t| t.language == language)
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use kaiku_proto::survey::v1::{Channel, Language, RespondentRole};

    use super::*;
    use crate::SurveyId;
    use crate::fixtures::{all_kinds_survey, texts};

    fn form_with_child_texts() -> PublishedForm {
        let mut content = all_kinds_survey(&["school-1"]);
        let child = &mut content.age_bands[0];
        child.titles = texts("Lasten otsikko", "Barnens rubrik", "Children's title");
        child.intros = texts("Lasten johdanto", "Barnens ingress", "Children's intro");
        child.thanks = texts(
            "Kiitos, kun kerroit",
            "Tack för att du berättade",
            "Thanks for telling",
        );
        PublishedForm {
            survey_id: SurveyId::new_random(),
            version: 1,
            content,
        }
    }

    fn context(age_band: &str, language: Language) -> ResponseContext {
        ResponseContext {
            unit_id: "school-1".into(),
            channel: Channel::Kiosk as i32,
            respondent_role: RespondentRole::Client as i32,
            professional_group: String::new(),
            age_band: age_band.into(),
            language: language as i32,
        }
    }

    fn resolve(age_band: &str, language: Language) -> GetFormResponse {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 26, 10, 0, 0)
            .single()
            .expect("time");
        respondent_form(&form_with_child_texts(), &context(age_band, language), now)
            .expect("a valid context")
    }

    #[test]
    fn a_child_gets_the_bands_title_intro_and_thanks_in_their_language() {
        let form = resolve("age_7_12", Language::Sv);
        assert_eq!(
            (
                form.title.as_str(),
                form.intro.as_str(),
                form.thanks.as_str()
            ),
            (
                "Barnens rubrik",
                "Barnens ingress",
                "Tack för att du berättade"
            )
        );
        assert_eq!(form.age_band.map(|b| b.key), Some("age_7_12".to_owned()));
    }

    #[test]
    fn a_band_without_texts_gets_the_surveys_title_and_no_intro() {
        let form = resolve("adult", Language::Fi);
        assert_eq!(form.title, "Asiakaspalaute");
        assert_eq!((form.intro.as_str(), form.thanks.as_str()), ("", ""));
        assert_eq!(form.age_band.map(|b| b.max_age), Some(120));
    }

    #[test]
    fn a_context_without_an_age_band_has_none() {
        let form = resolve("", Language::En);
        assert_eq!(form.title, "Customer feedback");
        assert!(form.age_band.is_none());
    }

    #[test]
    fn only_bands_wholly_under_eighteen_are_young() {
        let band = |min_age, max_age| AgeBand {
            min_age,
            max_age,
            ..AgeBand::default()
        };
        assert!(is_young(&band(7, 12)));
        assert!(is_young(&band(13, 17)));
        assert!(!is_young(&band(15, 18)));
        assert!(!is_young(&band(18, 120)));
    }
}
