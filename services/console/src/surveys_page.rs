//! Survey set-up for the county's customer-experience staff: the surveys, a new one from a
//! template (THL national or student welfare) with its title, units and collection, the question
//! texts in every language, and publishing.

use kaiku_proto::survey::v1::{
    Language, Survey, SurveyStatus, SurveySummary, SurveyTemplate, question,
};
use maud::{Markup, html};

use crate::figures::{VisibleUnit, text_in};
use crate::texts::Texts;

const LANGUAGES: [Language; 3] = [Language::Fi, Language::Sv, Language::En];

pub fn status_name(t: &Texts, status: i32) -> &'static str {
    match SurveyStatus::try_from(status).unwrap_or_default() {
        SurveyStatus::Published => t.published,
        SurveyStatus::Archived => t.archived,
        SurveyStatus::Draft | SurveyStatus::Unspecified => t.draft,
    }
}

/// Problems of a refused form, each naming its field.
pub fn problems(t: &Texts, problems: &[String]) -> Markup {
    html! {
        @if !problems.is_empty() {
            div.problem role="alert" id="problems" {
                p { strong { (t.error_summary) } }
                ul { @for p in problems { li { (p) } } }
            }
        }
    }
}

pub fn surveys_body(
    t: &'static Texts,
    surveys: &[SurveySummary],
    templates: &[SurveyTemplate],
    units: &[VisibleUnit],
    csrf: &str,
    refused: &[String],
) -> Markup {
    let language = t.language_enum;
    html! {
        h1 { (t.surveys_title) }
        table id="surveys" {
            thead { tr { th scope="col" { (t.survey) } th scope="col" { (t.status) } th.number scope="col" { (t.version) } } }
            tbody {
                @for s in surveys {
                    tr data-survey=(s.survey_id) {
                        th scope="row" { a href={ "/surveys/" (s.survey_id) } { (text_in(&s.titles, language)) } }
                        td data-status=(SurveyStatus::try_from(s.status).unwrap_or_default().as_str_name()) { (status_name(t, s.status)) }
                        td.number { (s.latest_version) }
                    }
                }
            }
        }
        h2 id="new-survey-heading" { (t.new_survey) }
        (problems(t, refused))
        form method="post" action="/surveys" id="new-survey" aria-labelledby="new-survey-heading" {
            input type="hidden" name="csrf" value=(csrf);
            div.field {
                label for="template" { (t.template) }
                select id="template" name="template" {
                    @for template in templates {
                        option value=(template.key) { (template.key) " - " (template.description) }
                    }
                }
            }
            @for l in LANGUAGES {
                @let code = kaiku_domain::codes::language_code(l);
                div.field {
                    label for={ "title-" (code) } { (t.title_in) " (" (t.language_name(l)) ")" }
                    input id={ "title-" (code) } name={ "title_" (code) } type="text" maxlength="200";
                }
            }
            fieldset {
                legend { (t.target_units) }
                @for (i, u) in units.iter().enumerate() {
                    div {
                        input type="checkbox" id={ "unit-" (i) } name="unit" value=(u.unit.unit_id);
                        " "
                        label for={ "unit-" (i) } { (u.name) }
                    }
                }
            }
            fieldset {
                legend { (t.collection) }
                div {
                    input type="radio" id="collection-continuous" name="collection" value="continuous" checked;
                    " " label for="collection-continuous" { (t.collection_continuous) }
                }
                div {
                    input type="radio" id="collection-period" name="collection" value="period";
                    " " label for="collection-period" { (t.collection_period) }
                }
                div.field { label for="period-id" { (t.period_id) } input id="period-id" name="period_id" type="text" maxlength="64"; }
                div.field { label for="starts-on" { (t.starts_on) } input id="starts-on" name="starts_on" type="date"; }
                div.field { label for="ends-on" { (t.ends_on) } input id="ends-on" name="ends_on" type="date"; }
            }
            p { button type="submit" { (t.create_draft) } }
        }
    }
}

pub fn survey_body(
    t: &'static Texts,
    survey: &Survey,
    csrf: &str,
    refused: &[String],
    notice: Option<&str>,
    links_form: Option<Markup>,
) -> Markup {
    let language = t.language_enum;
    let draft = survey.draft.clone().unwrap_or_default();
    let title = text_in(&draft.titles, language);
    let published =
        SurveyStatus::try_from(survey.status).unwrap_or_default() == SurveyStatus::Published;
    html! {
        h1 { (title) }
        p { (t.status) ": " span id="status" data-status=(SurveyStatus::try_from(survey.status).unwrap_or_default().as_str_name()) { (status_name(t, survey.status)) }
            " · " (t.version) ": " span id="version" { (survey.versions.last().map_or(0, |v| v.version)) } }
        @if let Some(notice) = notice { p.notice role="status" { (notice) } }
        (problems(t, refused))
        h2 { (t.questions) }
        form method="post" action={ "/surveys/" (survey.survey_id) "/draft" } id="draft" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="revision" value=(survey.revision);
            @for l in LANGUAGES {
                @let code = kaiku_domain::codes::language_code(l);
                div.field {
                    label for={ "title-" (code) } { (t.title_in) " (" (t.language_name(l)) ")" }
                    input id={ "title-" (code) } name={ "title_" (code) } type="text" maxlength="200" value=(draft.titles.iter().find(|x| x.language == l as i32).map(|x| x.text.as_str()).unwrap_or(""));
                }
            }
            @for (i, q) in draft.questions.iter().enumerate() {
                fieldset {
                    legend { (i + 1) ". " (question_kind(q)) " (" (q.key) ")" }
                    @for l in LANGUAGES {
                        @let code = kaiku_domain::codes::language_code(l);
                        div.field {
                            label for={ "q-" (i) "-" (code) } { (t.question_text_in) " (" (t.language_name(l)) ")" }
                            textarea id={ "q-" (i) "-" (code) } name={ "q_" (q.key) "_" (code) } rows="2" {
                                (q.texts.iter().find(|x| x.language == l as i32).map(|x| x.text.as_str()).unwrap_or(""))
                            }
                        }
                    }
                }
            }
            p { button type="submit" { (t.save_draft) } }
        }
        h2 { (t.periods_title) }
        @let periods = crate::figures::periods(&draft);
        @if periods.is_empty() { p { (t.collection_continuous) } }
        ul id="periods" {
            @for p in &periods {
                li data-period=(p.period_id) {
                    (p.period_id)
                    @if let (Some(s), Some(e)) = (&p.starts_on, &p.ends_on) {
                        " " (s.day) "." (s.month) "." (s.year) "-" (e.day) "." (e.month) "." (e.year)
                    }
                }
            }
        }
        form.filters method="post" action={ "/surveys/" (survey.survey_id) "/periods" } id="add-period" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="revision" value=(survey.revision);
            div.field { label for="period-id" { (t.period_id) } input id="period-id" name="period_id" type="text" maxlength="64" required; }
            div.field { label for="starts-on" { (t.starts_on) } input id="starts-on" name="starts_on" type="date" required; }
            div.field { label for="ends-on" { (t.ends_on) } input id="ends-on" name="ends_on" type="date" required; }
            button type="submit" { (t.add_period) }
        }
        form method="post" action={ "/surveys/" (survey.survey_id) "/publish" } id="publish" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="revision" value=(survey.revision);
            p { button type="submit" { (t.publish) } }
        }
        @if published {
            p { a href={ "/results?survey=" (survey.survey_id) } { (t.nav_results) } }
        }
        @if let Some(form) = links_form { (form) }
    }
}

fn question_kind(q: &kaiku_proto::survey::v1::Question) -> &'static str {
    match q.kind {
        Some(question::Kind::Nps(_)) => "NPS 0-10",
        Some(question::Kind::Statement(_)) => "1-5",
        Some(question::Kind::Smiley(_)) => ":-)",
        Some(question::Kind::Choice(_)) => "( )",
        Some(question::Kind::OpenText(_)) => "...",
        None => "?",
    }
}
