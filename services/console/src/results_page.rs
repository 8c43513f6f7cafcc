//! The results dashboard: filters for every analytics dimension, the headline figures with the
//! previous period and the parent unit beside them, and the charts, each with its table.

use kaiku_proto::analytics::v1::NpsFigure;
use kaiku_proto::survey::v1::{Channel, Language, RespondentRole, SurveyContent};
use maud::{Markup, html};

use crate::charts::{BarChart, Chart, NpsTrend};
use crate::error::ConsoleError;
use crate::figures::{
    AskedOf, Cell, Results, ResultsSet, ScoredResult, Selection, VisibleUnit, age_band_label,
    periods, survey_roles, text_in,
};
use crate::layout::{decimal, figure};
use crate::texts::{Texts, with_min};

/// A survey the person may choose: id and title.
pub struct SurveyChoice {
    pub survey_id: String,
    pub title: String,
}

pub fn period_value(period: &Option<String>) -> String {
    match period {
        None => "all".to_owned(),
        Some(p) if p.is_empty() => "continuous".to_owned(),
        Some(p) => p.clone(),
    }
}

/// The query string that selects `selection` (for links between pages).
pub fn selection_query(selection: &Selection) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("survey", &selection.survey_id);
    query.append_pair("unit", &selection.unit_id);
    query.append_pair("period", &period_value(&selection.period));
    if let Some(c) = selection.channel {
        query.append_pair("channel", kaiku_domain::codes::channel_code(c));
    }
    for role in &selection.roles {
        query.append_pair("role", kaiku_domain::codes::role_code(*role));
    }
    if let Some(g) = &selection.professional_group {
        query.append_pair("group", g);
    }
    if let Some(a) = &selection.age_band {
        query.append_pair("age", a);
    }
    if let Some(l) = selection.language {
        query.append_pair("language", kaiku_domain::codes::language_code(l));
    }
    query.finish()
}

pub(crate) fn select(
    name: &str,
    label: &str,
    options: &[(String, String)],
    chosen: &str,
) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field {
            label for=(id) { (label) }
            select id=(id) name=(name) {
                @for (value, text) in options {
                    @if value == chosen {
                        option value=(value) selected { (text) }
                    } @else {
                        option value=(value) { (text) }
                    }
                }
            }
        }
    }
}

pub fn filters_form(
    t: &Texts,
    action: &str,
    surveys: &[SurveyChoice],
    units: &[VisibleUnit],
    content: &SurveyContent,
    selection: &Selection,
    all_dimensions: bool,
) -> Markup {
    let language = t.language_enum;
    let survey_options: Vec<(String, String)> = surveys
        .iter()
        .map(|s| (s.survey_id.clone(), s.title.clone()))
        .collect();
    let unit_options: Vec<(String, String)> = units
        .iter()
        .map(|u| {
            // Indented by depth with no-break spaces, so the tree shows in the list.
            let indent = "\u{a0}\u{a0}\u{a0}".repeat(u.depth);
            (u.unit.unit_id.clone(), format!("{indent}{}", u.name))
        })
        .collect();
    let mut period_options = vec![("all".to_owned(), t.all_periods.to_owned())];
    for p in periods(content) {
        let dates = match (&p.starts_on, &p.ends_on) {
            (Some(s), Some(e)) => format!(
                " ({}.{}.{}-{}.{}.{})",
                s.day, s.month, s.year, e.day, e.month, e.year
            ),
            _ => String::new(),
        };
        period_options.push((p.period_id.clone(), format!("{}{dates}", p.period_id)));
    }
    period_options.push(("continuous".to_owned(), t.continuous.to_owned()));
    let any = || ("".to_owned(), t.any.to_owned());
    let mut channel_options = vec![any()];
    for c in kaiku_domain::codes::ALL_CHANNELS {
        channel_options.push((
            kaiku_domain::codes::channel_code(c).to_owned(),
            t.channel_name(c).to_owned(),
        ));
    }
    let mut group_options = vec![any()];
    for g in &content.professional_groups {
        group_options.push((g.key.clone(), text_in(&g.names, language)));
    }
    let mut age_options = vec![any()];
    for a in &content.age_bands {
        age_options.push((
            a.key.clone(),
            format!("{} ({}-{})", a.key, a.min_age, a.max_age),
        ));
    }
    let mut language_options = vec![any()];
    for l in [Language::Fi, Language::Sv, Language::En] {
        language_options.push((
            kaiku_domain::codes::language_code(l).to_owned(),
            t.language_name(l).to_owned(),
        ));
    }
    let code = |v: Option<&'static str>| v.unwrap_or("").to_owned();
    html! {
        form.filters method="get" action=(action) {
            fieldset {
                legend.visually-hidden { (t.filters) }
                (select("survey", t.survey, &survey_options, &selection.survey_id))
                (select("unit", t.unit, &unit_options, &selection.unit_id))
                (select("period", t.period, &period_options, &period_value(&selection.period)))
                (role_checkboxes(t, content, selection))
                @if all_dimensions {
                    (select("channel", t.channel, &channel_options, &code(selection.channel.map(kaiku_domain::codes::channel_code))))
                    @if !content.professional_groups.is_empty() {
                        (select("group", t.professional_group, &group_options, selection.professional_group.as_deref().unwrap_or("")))
                    }
                    @if !content.age_bands.is_empty() {
                        (select("age", t.age_band, &age_options, selection.age_band.as_deref().unwrap_or("")))
                    }
                    (select("language", t.language, &language_options, &code(selection.language.map(kaiku_domain::codes::language_code))))
                }
                button type="submit" { (t.show) }
            }
        }
    }
}

/// One checkbox per respondent role of the survey: each chosen role gets a section of its own.
fn role_checkboxes(t: &Texts, content: &SurveyContent, selection: &Selection) -> Markup {
    html! {
        fieldset.roles {
            legend { (t.respondents) }
            @for role in survey_roles(content) {
                @let code = kaiku_domain::codes::role_code(role);
                @let id = format!("f-role-{code}");
                div.check {
                    @if selection.roles.contains(&role) {
                        input type="checkbox" id=(id) name="role" value=(code) checked;
                    } @else {
                        input type="checkbox" id=(id) name="role" value=(code);
                    }
                    label for=(id) { (t.role_section(role)) }
                }
            }
        }
    }
}

/// The age bands a selection covers, as people read them.
pub fn ages_label(t: &Texts, content: &SurveyContent, selection: &Selection) -> String {
    selection
        .age_band
        .as_deref()
        .map_or_else(|| t.all_ages.to_owned(), |a| age_band_label(content, a))
}

/// Whose answers a section's figures cover, in words: respondents, ages and period. Every
/// page, PDF and CSV says it beside the figures.
pub fn coverage_line(t: &Texts, role: RespondentRole, ages: &str, period: &str) -> String {
    format!(
        "{}: {} · {}: {ages} · {}: {period}",
        t.respondents,
        t.role_section(role),
        t.age_band,
        t.period,
    )
}

/// The id prefix of a role's section ("guardian-").
pub fn section_id(role: RespondentRole, id: &str) -> String {
    format!("{}-{id}", kaiku_domain::codes::role_code(role))
}

pub fn nps_text(figure: &NpsFigure, t: &Texts) -> String {
    figure
        .nps
        .map_or_else(|| "-".to_owned(), |nps| decimal(nps, t, 1))
}

fn ci_text(figure: &NpsFigure, t: &Texts) -> String {
    match (figure.ci_low, figure.ci_high) {
        (Some(low), Some(high)) => format!(
            "{}: {} ... {}",
            t.ci,
            decimal(low, t, 1),
            decimal(high, t, 1)
        ),
        _ => String::new(),
    }
}

/// The NPS card: value, n and interval, or why it is not shown.
pub fn nps_card(label: &str, id: &str, cell: &Cell<NpsFigure>, t: &Texts, min: u32) -> Markup {
    html! {
        div.card id=(id) {
            p.label { (label) }
            @match cell {
                Cell::Suppressed => p.detail.suppressed data-suppressed="true" { (with_min(t.suppressed, min)) },
                Cell::Shown(f) if f.n == 0 => p.detail { (t.no_answers) },
                Cell::Shown(f) => {
                    p.value data-nps=(nps_text(f, t)) { (t.nps) " " (nps_text(f, t)) }
                    p.detail data-n=(f.n) { (t.n) " = " (f.n) }
                    p.detail { (ci_text(f, t)) }
                }
            }
        }
    }
}

pub fn count_card(label: &str, id: &str, cell: &Cell<u64>, t: &Texts, min: u32) -> Markup {
    html! {
        div.card id=(id) {
            p.label { (label) }
            @match cell {
                Cell::Suppressed => p.detail.suppressed data-suppressed="true" { (with_min(t.suppressed, min)) },
                Cell::Shown(n) => p.value data-count=(n) { (n) },
            }
        }
    }
}

/// The previous-period comparison card.
pub fn change_card(results: &Results, t: &Texts) -> Markup {
    html! {
        div.card id=(section_id(results.role, "previous-period")) {
            p.label { (t.previous_period) }
            @match &results.previous {
                None => p.detail { (t.no_previous_period) },
                Some((period, compared)) => {
                    p.detail { (period.period_id) }
                    @if compared.earlier_suppressed {
                        p.detail.suppressed { (with_min(t.suppressed, results.min_group_size)) }
                    } @else if let Some(earlier) = &compared.earlier {
                        p.detail { (t.nps) " " (nps_text(earlier, t)) " (" (t.n) " = " (earlier.n) ")" }
                    }
                    @if let (Some(change), Some(margin)) = (compared.change, compared.margin) {
                        p.value { (t.change) " " @if change > 0.0 { "+" } (decimal(change, t, 1)) }
                        p.detail {
                            "± " (decimal(margin, t, 1)) ", "
                            @if compared.significant { (t.significant) } @else { (t.not_significant) }
                        }
                    }
                }
            }
        }
    }
}

pub fn headline(results: &Results, t: &Texts) -> Markup {
    let min = results.min_group_size;
    let id = |name: &str| section_id(results.role, name);
    html! {
        div.cards {
            @match &results.nps_asked_of {
                AskedOf::Nobody => div.card id=(id("nps")) data-nps-not-asked="true" {
                    p.label { (t.nps) }
                    p.detail { (t.nps_not_asked) }
                },
                AskedOf::Everyone => (nps_card(t.nps, &id("nps"), &results.nps, t, min)),
                AskedOf::Only(bands) => div.card-group {
                    (nps_card(t.nps, &id("nps"), &results.nps, t, min))
                    p.detail data-nps-asked-of=(bands.join(",")) { (t.nps_asked_only) " " (bands.join(", ")) "." }
                },
            }
            (count_card(t.responses, &id("responses"), &results.responses, t, min))
            @if results.nps_asked_of != AskedOf::Nobody {
                (change_card(results, t))
            }
            @if let Some((name, cell)) = &results.parent {
                (nps_card(&format!("{}: {name}", t.parent_unit), &id("parent-unit"), cell, t, min))
            }
        }
    }
}

/// A bar's label, marked when its group is too small to show.
fn suppressed_label(label: &str, cell: &Cell<u64>, min: u32) -> String {
    match cell {
        Cell::Shown(_) => label.to_owned(),
        Cell::Suppressed => format!("{label} (<{min})"),
    }
}

fn cell_value(cell: &Cell<u64>) -> Option<f64> {
    match cell {
        Cell::Shown(n) => Some(*n as f64),
        Cell::Suppressed => None,
    }
}

/// A bar chart of counts with its table (responses by channel or by role).
fn volume_chart(
    t: &Texts,
    min: u32,
    title: &str,
    dimension: &str,
    rows: Vec<(String, Cell<u64>)>,
) -> (Chart, Markup) {
    let suppressed = || html! { span.suppressed { (t.suppressed_short) " (<" (min) ")" } };
    let max = rows
        .iter()
        .filter_map(|(_, c)| cell_value(c))
        .fold(1.0, f64::max);
    let chart = BarChart {
        title: title.to_owned(),
        labels: rows
            .iter()
            .map(|(l, c)| suppressed_label(l, c, min))
            .collect(),
        values: rows.iter().map(|(_, c)| cell_value(c)).collect(),
        range: (0.0, (max * 1.15).ceil()),
    };
    let table = html! {
        table {
            thead { tr { th scope="col" { (dimension) } th.number scope="col" { (t.responses) } } }
            tbody {
                @for (label, cell) in &rows {
                    tr {
                        th scope="row" { (label) }
                        @match cell {
                            Cell::Shown(n) => td.number data-count=(n) { (n) },
                            Cell::Suppressed => td data-suppressed="true" { (suppressed()) },
                        }
                    }
                }
            }
        }
    };
    (Chart::Bars(chart), table)
}

/// Responses per respondent role: the one chart above the roles' sections.
pub fn role_chart(set: &ResultsSet, t: &Texts) -> (&'static str, Chart, Markup) {
    let roles: Vec<(String, Cell<u64>)> = set
        .by_role
        .iter()
        .map(|(r, cell)| (t.role_section(*r).to_owned(), cell.clone()))
        .collect();
    let (chart, table) = volume_chart(
        t,
        set.min_group_size,
        t.chart_volume_role,
        t.respondent_role,
        roles,
    );
    ("chart-volume-role", chart, table)
}

/// The faces' column headings: "1 (saddest)", "2", "3 (happiest)".
fn face_columns(points: u32, t: &Texts) -> Vec<String> {
    (1..=points)
        .map(|p| match p {
            1 => format!("1 ({})", t.face_saddest),
            p if p == points => format!("{p} ({})", t.face_happiest),
            p => p.to_string(),
        })
        .collect()
}

/// The children's face questions: the happiest face's share as bars, and every count.
fn faces_chart(faces: &[ScoredResult], t: &Texts, min: u32) -> (Chart, Markup) {
    let suppressed = || html! { span.suppressed { (t.suppressed_short) " (<" (min) ")" } };
    let points = faces.iter().map(|f| f.points).max().unwrap_or(3);
    let chart = BarChart {
        title: t.chart_faces.to_owned(),
        labels: faces
            .iter()
            .enumerate()
            .map(|(i, f)| match f.figure {
                Cell::Suppressed => format!("{} (<{min})", i + 1),
                Cell::Shown(_) => format!("{}", i + 1),
            })
            .collect(),
        values: faces
            .iter()
            .map(|f| match &f.figure {
                Cell::Shown(figure) => figure.best_share,
                Cell::Suppressed => None,
            })
            .collect(),
        range: (0.0, 100.0),
    };
    let table = html! {
        table {
            thead { tr {
                th scope="col" { "#" } th scope="col" { (t.question) } th.number scope="col" { (t.best_face_share) } th.number scope="col" { (t.n) }
                @for label in face_columns(points, t) { th.number scope="col" { (label) } }
            } }
            tbody {
                @for (i, face) in faces.iter().enumerate() {
                    tr data-question=(face.key) {
                        td { (i + 1) }
                        th scope="row" { (face.text) }
                        @match &face.figure {
                            Cell::Shown(f) => {
                                td.number data-best-share=(f.best_share.map_or_else(String::new, |b| b.to_string())) { (f.best_share.map_or_else(|| "-".to_owned(), |b| decimal(b, t, 1))) }
                                td.number data-n=(f.n) { (f.n) }
                                @for p in 0..points as usize {
                                    @match f.distribution.get(p) {
                                        Some(count) => td.number data-face=(p + 1) { (count) },
                                        None => td.number { "-" },
                                    }
                                }
                            }
                            Cell::Suppressed => td colspan=(points + 2) data-suppressed="true" { (suppressed()) },
                        }
                    }
                }
            }
        }
    };
    (Chart::Bars(chart), table)
}

/// Every chart of one role's results, in page order, with its id and table.
pub fn charts(results: &Results, t: &Texts) -> Result<Vec<(String, Chart, Markup)>, ConsoleError> {
    let min = results.min_group_size;
    let suppressed = || html! { span.suppressed { (t.suppressed_short) " (<" (min) ")" } };
    let id = |name: &str| section_id(results.role, name);
    let mut charts = Vec::new();
    let asks_nps = results.nps_asked_of != AskedOf::Nobody;

    let trend = NpsTrend {
        title: t.chart_nps_over_time.to_owned(),
        labels: results
            .trend
            .iter()
            .map(|(label, _)| label.clone())
            .collect(),
        points: results
            .trend
            .iter()
            .map(|(_, cell)| match cell {
                Cell::Shown(f) => match (f.nps, f.ci_low, f.ci_high) {
                    (Some(n), Some(l), Some(h)) => Some((n, l, h)),
                    _ => None,
                },
                Cell::Suppressed => None,
            })
            .collect(),
    };
    let trend_table = html! {
        table {
            thead { tr { th scope="col" { (t.month) } th.number scope="col" { (t.nps) } th.number scope="col" { (t.n) } th scope="col" { (t.ci) } } }
            tbody {
                @for (label, cell) in &results.trend {
                    tr {
                        th scope="row" { (label) }
                        @match cell {
                            Cell::Shown(f) => { td.number { (nps_text(f, t)) } td.number { (f.n) } td { (ci_text(f, t)) } }
                            Cell::Suppressed => { td colspan="3" { (suppressed()) } }
                        }
                    }
                }
            }
        }
    };
    if asks_nps {
        charts.push((id("chart-nps-trend"), Chart::Trend(trend), trend_table));
    }

    if let Cell::Shown(f) = &results.nps
        && f.n > 0
    {
        let share = |count: u64| 100.0 * count as f64 / f.n as f64;
        let rows = [
            (t.promoters, f.promoters),
            (t.passives, f.passives),
            (t.detractors, f.detractors),
        ];
        let chart = BarChart {
            title: t.chart_nps_distribution.to_owned(),
            labels: rows.iter().map(|(l, _)| (*l).to_owned()).collect(),
            values: rows.iter().map(|(_, c)| Some(share(*c))).collect(),
            range: (0.0, 100.0),
        };
        let table = html! {
            table {
                thead { tr { th scope="col" { (t.nps) } th.number scope="col" { (t.n) } th.number scope="col" { (t.share) " %" } } }
                tbody { @for (label, count) in rows { tr { th scope="row" { (label) } td.number { (count) } td.number { (decimal(share(count), t, 1)) } } } }
            }
        };
        charts.push((id("chart-nps-distribution"), Chart::Bars(chart), table));
    }

    if !results.statements.is_empty() {
        let chart = BarChart {
            title: t.chart_statements.to_owned(),
            labels: results
                .statements
                .iter()
                .enumerate()
                .map(|(i, s)| match s.figure {
                    Cell::Suppressed => format!("{} (<{min})", i + 1),
                    Cell::Shown(_) => format!("{}", i + 1),
                })
                .collect(),
            values: results
                .statements
                .iter()
                .map(|s| match &s.figure {
                    Cell::Shown(f) => f.mean,
                    Cell::Suppressed => None,
                })
                .collect(),
            range: (0.0, 5.0),
        };
        let table = html! {
            table {
                thead { tr {
                    th scope="col" { "#" } th scope="col" { (t.statement) } th.number scope="col" { (t.mean) } th.number scope="col" { (t.n) }
                    @for s in t.scale { th.number scope="col" { (s) } }
                    th.number scope="col" { (t.dont_know) }
                } }
                tbody {
                    @for (i, s) in results.statements.iter().enumerate() {
                        tr data-question=(s.key) {
                            td { (i + 1) }
                            th scope="row" { (s.text) }
                            @match &s.figure {
                                Cell::Shown(f) => {
                                    td.number data-mean=(f.mean.map_or_else(String::new, |m| m.to_string())) { (f.mean.map_or_else(|| "-".to_owned(), |m| decimal(m, t, 2))) }
                                    td.number data-n=(f.n) { (f.n) }
                                    @for count in &f.distribution { td.number { (count) } }
                                    td.number { (f.dont_know) }
                                }
                                Cell::Suppressed => td colspan="8" { (suppressed()) },
                            }
                        }
                    }
                }
            }
        };
        charts.push((id("chart-statements"), Chart::Bars(chart), table));
    }

    if !results.faces.is_empty() {
        let (chart, table) = faces_chart(&results.faces, t, min);
        charts.push((id("chart-faces"), chart, table));
    }

    let channels: Vec<(String, Cell<u64>)> = results
        .by_channel
        .iter()
        .map(|(c, cell)| (t.channel_name(*c).to_owned(), cell.clone()))
        .collect();
    let (chart, table) = volume_chart(t, min, t.chart_volume_channel, t.channel, channels);
    charts.push((id("chart-volume-channel"), chart, table));
    Ok(charts)
}

pub fn units_table(results: &Results, t: &Texts) -> Markup {
    let min = results.min_group_size;
    let heading = section_id(results.role, "units-heading");
    html! {
        h3 id=(heading) { (t.units_table) }
        table id=(section_id(results.role, "units")) aria-labelledby=(heading) {
            thead { tr { th scope="col" { (t.unit) } th.number scope="col" { (t.nps) } th.number scope="col" { (t.n) } } }
            tbody {
                @for (id, name, cell) in &results.by_unit {
                    tr data-unit=(id) {
                        th scope="row" { (name) }
                        @match cell {
                            Cell::Shown(f) => { td.number data-nps=(nps_text(f, t)) { (nps_text(f, t)) } td.number data-n=(f.n) { (f.n) } }
                            Cell::Suppressed => { td colspan="2" data-suppressed="true" { span.suppressed { (t.suppressed_short) " (<" (min) ")" } } }
                        }
                    }
                }
            }
        }
    }
}

pub struct ResultsPage<'a> {
    pub texts: &'static Texts,
    pub surveys: &'a [SurveyChoice],
    pub units: &'a [VisibleUnit],
    pub content: &'a SurveyContent,
    pub selection: &'a Selection,
    pub results: &'a ResultsSet,
}

/// A chart with its table, under its own heading: a page's (h2) or a role section's (h3).
fn chart_figure(
    id: &str,
    chart: &Chart,
    table: Markup,
    in_section: bool,
    t: &Texts,
) -> Result<Markup, ConsoleError> {
    let svg = chart.to_svg()?;
    Ok(html! {
        @if in_section { h3 { (chart.title()) } } @else { h2 { (chart.title()) } }
        (figure(id, &svg, table, t))
    })
}

/// One role's section: whose answers it covers, the headline, charts and units.
fn role_section(page: &ResultsPage<'_>, results: &Results) -> Result<Markup, ConsoleError> {
    let t = page.texts;
    let mut rendered = Vec::new();
    for (id, chart, table) in charts(results, t)? {
        rendered.push(chart_figure(&id, &chart, table, true, t)?);
    }
    let code = kaiku_domain::codes::role_code(results.role);
    Ok(html! {
        section.role id={ "role-" (code) } aria-labelledby={ "role-" (code) "-heading" } data-role=(code) {
            h2 id={ "role-" (code) "-heading" } { (t.role_section(results.role)) }
            p.coverage data-coverage=(code) { (coverage_line(t, results.role, &ages_label(t, page.content, page.selection), &crate::figures::period_label(t, page.content, &page.selection.period))) }
            (headline(results, t))
            @for chart in rendered { (chart) }
            @if results.nps_asked_of != AskedOf::Nobody { (units_table(results, t)) }
        }
    })
}

pub fn results_body(page: &ResultsPage<'_>) -> Result<Markup, ConsoleError> {
    let t = page.texts;
    let query = selection_query(page.selection);
    let mut sections = Vec::new();
    for results in &page.results.roles {
        sections.push(role_section(page, results)?);
    }
    let (id, chart, table) = role_chart(page.results, t);
    let roles_chart = chart_figure(id, &chart, table, false, t)?;
    Ok(html! {
        h1 { (t.results_title) }
        (filters_form(t, "/results", page.surveys, page.units, page.content, page.selection, true))
        div.links {
            a href={ "/review?" (query) } { (t.open_review) }
            a href={ "/reports/results.pdf?" (query) "&lang=" (t.tag) } { (t.report_pdf) }
            a href={ "/reports/results.csv?" (query) "&lang=" (t.tag) } { (t.report_csv) }
        }
        (roles_chart)
        @for section in sections { (section) }
    })
}

/// The channel, role or language named by a code in a query, or the problem with it.
pub fn parse_code<T>(
    field: &str,
    value: Option<&String>,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, ConsoleError> {
    match value.map(String::as_str) {
        None | Some("") => Ok(None),
        Some(code) => parse(code)
            .map(Some)
            .ok_or_else(|| ConsoleError::BadRequest {
                field: field.to_owned(),
                problem: format!("{code:?} is not one of the known values"),
            }),
    }
}

/// Unused channels in the filter still parse: every channel code is known.
pub fn channel_from_query(value: Option<&String>) -> Result<Option<Channel>, ConsoleError> {
    parse_code("channel", value, kaiku_domain::codes::channel_from_code)
}
