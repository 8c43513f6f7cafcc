//! The results review: the page a unit's staff go through together after a period. Headline
//! figures and changes first, then positive feedback highlighted, then the rest by theme, then
//! the development targets: earlier ones to follow up and a form for new ones.

use std::collections::BTreeMap;

use kaiku_proto::analytics::v1::{FeedbackText, Sentiment};
use kaiku_proto::survey::v1::{DevelopmentTarget, RespondentRole, SurveyContent, TargetProgress};
use maud::{Markup, html};

use crate::error::ConsoleError;
use crate::figures::{Cell, Results, ResultsSet, Selection, VisibleUnit, period_label};
use crate::layout::{decimal, figure};
use crate::results_page::{
    SurveyChoice, ages_label, charts, coverage_line, filters_form, headline, period_value,
    section_id,
};
use crate::texts::{Texts, with_min};

pub struct ReviewPage<'a> {
    pub texts: &'static Texts,
    pub surveys: &'a [SurveyChoice],
    pub units: &'a [VisibleUnit],
    pub content: &'a SurveyContent,
    pub selection: &'a Selection,
    pub unit_name: &'a str,
    pub results: &'a ResultsSet,
    /// Each chosen role's open feedback; None when it is suppressed.
    pub feedback: &'a [(RespondentRole, Option<Vec<FeedbackText>>)],
    pub targets: &'a [DevelopmentTarget],
    pub csrf: &'a str,
    pub saved: bool,
}

/// Positive texts first; the rest grouped by their first theme, the unthemed last.
pub fn split_feedback(
    texts: &[FeedbackText],
) -> (Vec<&FeedbackText>, BTreeMap<String, Vec<&FeedbackText>>) {
    let positive = texts
        .iter()
        .filter(|t| t.sentiment == Sentiment::Positive as i32)
        .collect();
    let mut by_theme: BTreeMap<String, Vec<&FeedbackText>> = BTreeMap::new();
    for text in texts
        .iter()
        .filter(|t| t.sentiment != Sentiment::Positive as i32)
    {
        let theme = text.themes.first().cloned().unwrap_or_default();
        by_theme.entry(theme).or_default().push(text);
    }
    (positive, by_theme)
}

fn changes(results: &Results, t: &Texts) -> Markup {
    let Some((_, compared)) = &results.previous else {
        return html! { p { (t.no_previous_period) } };
    };
    let statement_text = |key: &str| {
        results
            .statements
            .iter()
            .find(|s| s.key == key)
            .map_or_else(|| key.to_owned(), |s| s.text.clone())
    };
    html! {
        table id=(section_id(results.role, "changes")) {
            thead { tr { th scope="col" { (t.statement) } th.number scope="col" { (t.previous_period) } th.number scope="col" { (t.period) } th.number scope="col" { (t.change) } } }
            tbody {
                @for s in &compared.statements {
                    tr {
                        th scope="row" { (statement_text(&s.question_key)) }
                        td.number { (s.earlier.as_ref().filter(|_| !s.earlier_suppressed).and_then(|f| f.mean).map_or_else(|| "-".to_owned(), |m| decimal(m, t, 2))) }
                        td.number { (s.later.as_ref().filter(|_| !s.later_suppressed).and_then(|f| f.mean).map_or_else(|| "-".to_owned(), |m| decimal(m, t, 2))) }
                        td.number {
                            @if let Some(change) = s.change {
                                @if change > 0.0 { "+" } (decimal(change, t, 2))
                                @if s.significant { " *" }
                            } @else { "-" }
                        }
                    }
                }
            }
        }
    }
}

fn feedback_list(class: &str, texts: &[&FeedbackText]) -> Markup {
    html! {
        ul.feedback.(class) {
            @for text in texts {
                li lang=(kaiku_domain::codes::language_code_of(text.language)) { (text.text) }
            }
        }
    }
}

fn progress_select(t: &Texts, id: &str, current: i32) -> Markup {
    let options = [
        TargetProgress::Chosen,
        TargetProgress::InProgress,
        TargetProgress::Achieved,
        TargetProgress::Dropped,
    ];
    html! {
        select id=(id) name="progress" {
            @for p in options {
                @if p as i32 == current {
                    option value=(p.as_str_name()) selected { (t.progress_name(p)) }
                } @else {
                    option value=(p.as_str_name()) { (t.progress_name(p)) }
                }
            }
        }
    }
}

/// One role's part of the review: whose answers, the headline, changes, the children's faces
/// and the open feedback, positive first.
fn role_review(
    page: &ReviewPage<'_>,
    results: &Results,
    feedback: Option<&[FeedbackText]>,
) -> Result<Markup, ConsoleError> {
    let t = page.texts;
    let code = kaiku_domain::codes::role_code(results.role);
    let id = |name: &str| section_id(results.role, name);
    // The answers to each statement and face question, as on the results page.
    let mut scored = Vec::new();
    for (chart_id, chart, table) in charts(results, t)? {
        if chart_id == id("chart-statements") || chart_id == id("chart-faces") {
            scored.push((
                chart.title().to_owned(),
                figure(&chart_id, &chart.to_svg()?, table, t),
            ));
        }
    }
    let coverage = coverage_line(
        t,
        results.role,
        &ages_label(t, page.content, page.selection),
        &period_label(t, page.content, &page.selection.period),
    );
    Ok(html! {
        section.role id={ "role-" (code) } aria-labelledby={ "role-" (code) "-heading" } data-role=(code) {
            h2 id={ "role-" (code) "-heading" } { (t.role_section(results.role)) }
            p.coverage data-coverage=(code) { (coverage) }
            h3 { (t.headline) }
            (headline(results, t))
            h3 { (t.changes) }
            (changes(results, t))
            @for (title, rendered) in scored {
                h3 { (title) }
                (rendered)
            }
            @match feedback {
                None => {
                    h3 { (t.positive_feedback) }
                    p.suppressed id=(id("feedback-suppressed")) { (with_min(t.feedback_suppressed, results.min_group_size)) }
                }
                Some(texts) => {
                    @let (positive, by_theme) = split_feedback(texts);
                    h3 id=(id("positive-heading")) { (t.positive_feedback) }
                    @if positive.is_empty() { p { (t.no_feedback) } } @else { (feedback_list("positive", &positive)) }
                    h3 { (t.other_feedback) }
                    @if by_theme.is_empty() { p { (t.no_feedback) } }
                    @for (theme, texts) in &by_theme {
                        h4 { @if theme.is_empty() { (t.no_theme) } @else { (theme) } " (" (texts.len()) ")" }
                        (feedback_list("other", texts))
                    }
                }
            }
        }
    })
}

pub fn review_body(page: &ReviewPage<'_>) -> Result<Markup, ConsoleError> {
    let t = page.texts;
    let selection = page.selection;
    let period = period_value(&selection.period);
    let hidden = html! {
        input type="hidden" name="csrf" value=(page.csrf);
        input type="hidden" name="survey" value=(selection.survey_id);
        input type="hidden" name="unit" value=(selection.unit_id);
        input type="hidden" name="period" value=(period);
        @for role in &selection.roles {
            input type="hidden" name="role" value=(kaiku_domain::codes::role_code(*role));
        }
    };
    let mut sections = Vec::new();
    for results in &page.results.roles {
        let feedback = page
            .feedback
            .iter()
            .find(|(role, _)| *role == results.role)
            .and_then(|(_, texts)| texts.as_deref());
        sections.push(role_review(page, results, feedback)?);
    }
    Ok(html! {
        h1 { (t.review_title) ": " (page.unit_name) }
        (filters_form(t, "/review", page.surveys, page.units, page.content, selection, false))
        p { (t.review_intro) }
        @for section in sections { (section) }
        h2 id="targets" { (t.targets_title) }
        // Where the page returns after a save (#targets): the confirmation is read there.
        @if page.saved { p.notice role="status" tabindex="-1" id="saved" { (t.saved) } }
        p { (t.targets_intro) }
        @if page.targets.is_empty() { p { (t.no_targets) } }
        @for (i, target) in page.targets.iter().enumerate() {
            div.target data-target=(target.target_id) {
                p id={ "target-" (i) } { strong { (target.text) } }
                p { (t.chosen_in) ": " (if target.period_id.is_empty() { t.continuous } else { target.period_id.as_str() })
                    " · " (t.progress) ": " span data-progress=(TargetProgress::try_from(target.progress).unwrap_or_default().as_str_name()) { (t.progress_name(TargetProgress::try_from(target.progress).unwrap_or_default())) }
                    @if !target.follow_up_note.is_empty() { " · " (target.follow_up_note) }
                }
                form method="post" action={ "/review/targets/" (target.target_id) "/follow-up" } {
                    (hidden)
                    div.field {
                        label for={ "progress-" (i) } { (t.progress) }
                        (progress_select(t, &format!("progress-{i}"), target.progress))
                    }
                    div.field {
                        label for={ "note-" (i) } { (t.follow_up_note) }
                        input id={ "note-" (i) } name="note" type="text" maxlength="1000" value=(target.follow_up_note);
                    }
                    button type="submit" aria-describedby={ "target-" (i) } { (t.save_follow_up) }
                }
            }
        }
        form method="post" action="/review/targets" id="new-target" {
            (hidden)
            div.field {
                label for="target-text" { (t.target_text) }
                textarea id="target-text" name="text" rows="3" maxlength="500" required {}
            }
            p { button type="submit" { (t.record_target) } }
        }
    })
}

/// The NPS headline as a short line for lists ("NPS 45.5, n = 12").
pub fn nps_line(cell: &Cell<kaiku_proto::analytics::v1::NpsFigure>, t: &Texts, min: u32) -> String {
    match cell {
        Cell::Suppressed => with_min(t.suppressed, min),
        Cell::Shown(f) => format!(
            "{} {}, {} = {}",
            t.nps,
            crate::results_page::nps_text(f, t),
            t.n,
            f.n
        ),
    }
}
