//! The periodic results report of one unit: the dashboard's figures and charts as a PDF a
//! manager can share, and the same figures as CSV.

use kaiku_print::{Report, ReportBlock};

use crate::error::ConsoleError;
use crate::figures::{AskedOf, Cell, Results, ResultsSet};
use crate::layout::decimal;
use crate::results_page::{charts, coverage_line, nps_text, role_chart};
use crate::review_page::nps_line;
use crate::texts::{Texts, with_min};

/// What the report is about, as the reader sees it.
pub struct ReportSubject<'a> {
    pub survey_title: &'a str,
    pub unit_name: &'a str,
    pub period_label: &'a str,
    /// The age bands the figures cover ("all age groups", "7-12").
    pub ages: &'a str,
    pub generated: &'a str,
}

pub fn pdf(
    t: &Texts,
    subject: &ReportSubject<'_>,
    set: &ResultsSet,
) -> Result<Vec<u8>, ConsoleError> {
    let (_, chart, _) = role_chart(set, t);
    let mut blocks = vec![
        ReportBlock::Heading(chart.title().to_owned()),
        ReportBlock::Chart(chart.to_raster()?),
    ];
    for results in &set.roles {
        blocks.extend(role_blocks(t, subject, results)?);
    }
    let report = Report {
        language: t.tag.to_owned(),
        title: format!("{}: {}", t.report_title, subject.unit_name),
        facts: vec![
            (t.unit.to_owned(), subject.unit_name.to_owned()),
            (t.period.to_owned(), subject.period_label.to_owned()),
            (
                t.respondents.to_owned(),
                set.roles
                    .iter()
                    .map(|r| t.role_section(r.role))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (t.age_band.to_owned(), subject.ages.to_owned()),
            (t.survey.to_owned(), subject.survey_title.to_owned()),
            (t.generated.to_owned(), subject.generated.to_owned()),
        ],
        blocks,
    };
    Ok(kaiku_print::report_pdf(&report)?)
}

/// One role's part of the PDF, headed by whose answers it covers.
fn role_blocks(
    t: &Texts,
    subject: &ReportSubject<'_>,
    results: &Results,
) -> Result<Vec<ReportBlock>, ConsoleError> {
    let min = results.min_group_size;
    let nps = match &results.nps_asked_of {
        AskedOf::Nobody => t.nps_not_asked.to_owned(),
        AskedOf::Everyone => nps_line(&results.nps, t, min),
        AskedOf::Only(bands) => format!(
            "{} ({} {})",
            nps_line(&results.nps, t, min),
            t.nps_asked_only,
            bands.join(", ")
        ),
    };
    let mut blocks = vec![
        ReportBlock::Heading(t.role_section(results.role).to_owned()),
        ReportBlock::Paragraph(coverage_line(
            t,
            results.role,
            subject.ages,
            subject.period_label,
        )),
        ReportBlock::Paragraph(nps),
        ReportBlock::Paragraph(match &results.responses {
            Cell::Shown(n) => format!("{}: {n}", t.responses),
            Cell::Suppressed => format!("{}: {}", t.responses, with_min(t.suppressed, min)),
        }),
    ];
    if let Some((name, cell)) = &results.parent {
        blocks.push(ReportBlock::Paragraph(format!(
            "{} ({name}): {}",
            t.parent_unit,
            nps_line(cell, t, min)
        )));
    }
    match &results.previous {
        Some((period, compared)) => {
            let change = match (compared.change, compared.margin) {
                (Some(change), Some(margin)) => format!(
                    ", {} {}{} ± {} ({})",
                    t.change,
                    if change > 0.0 { "+" } else { "" },
                    decimal(change, t, 1),
                    decimal(margin, t, 1),
                    if compared.significant {
                        t.significant
                    } else {
                        t.not_significant
                    }
                ),
                _ => String::new(),
            };
            let earlier = match (&compared.earlier, compared.earlier_suppressed) {
                (_, true) => with_min(t.suppressed, min),
                (Some(f), false) => format!("{} {}, {} = {}", t.nps, nps_text(f, t), t.n, f.n),
                (None, false) => t.no_answers.to_owned(),
            };
            blocks.push(ReportBlock::Paragraph(format!(
                "{} ({}): {earlier}{change}",
                t.previous_period, period.period_id
            )));
        }
        None if results.nps_asked_of == AskedOf::Nobody => {}
        None => blocks.push(ReportBlock::Paragraph(t.no_previous_period.to_owned())),
    }
    for (_, chart, _) in charts(results, t)? {
        blocks.push(ReportBlock::Heading(chart.title().to_owned()));
        blocks.push(ReportBlock::Chart(chart.to_raster()?));
    }
    if !results.statements.is_empty() {
        blocks.push(ReportBlock::Table {
            header: vec![
                t.statement.into(),
                t.mean.into(),
                t.n.into(),
                t.dont_know.into(),
            ],
            rows: results
                .statements
                .iter()
                .enumerate()
                .map(|(i, s)| match &s.figure {
                    Cell::Shown(f) => vec![
                        format!("{}. {}", i + 1, s.text),
                        f.mean.map_or_else(|| "-".to_owned(), |m| decimal(m, t, 2)),
                        f.n.to_string(),
                        f.dont_know.to_string(),
                    ],
                    Cell::Suppressed => vec![
                        format!("{}. {}", i + 1, s.text),
                        t.suppressed_short.to_owned(),
                        "-".into(),
                        "-".into(),
                    ],
                })
                .collect(),
        });
    }
    if !results.faces.is_empty() {
        let points = results.faces.iter().map(|f| f.points).max().unwrap_or(3);
        let mut header = vec![
            t.question.to_owned(),
            t.best_face_share.to_owned(),
            t.n.to_owned(),
        ];
        header.extend((1..=points).map(|p| p.to_string()));
        blocks.push(ReportBlock::Table {
            header,
            rows: results
                .faces
                .iter()
                .enumerate()
                .map(|(i, face)| {
                    let mut row = vec![format!("{}. {}", i + 1, face.text)];
                    match &face.figure {
                        Cell::Shown(f) => {
                            row.push(
                                f.best_share
                                    .map_or_else(|| "-".to_owned(), |b| decimal(b, t, 1)),
                            );
                            row.push(f.n.to_string());
                            row.extend((0..points as usize).map(|p| {
                                f.distribution
                                    .get(p)
                                    .map_or_else(|| "-".to_owned(), u64::to_string)
                            }));
                        }
                        Cell::Suppressed => {
                            row.push(t.suppressed_short.to_owned());
                            row.extend((0..=points).map(|_| "-".to_owned()));
                        }
                    }
                    row
                })
                .collect(),
        });
    }
    if !results.by_unit.is_empty() {
        blocks.push(ReportBlock::Heading(t.units_table.to_owned()));
        blocks.push(ReportBlock::Table {
            header: vec![t.unit.into(), t.nps.into(), t.n.into()],
            rows: results
                .by_unit
                .iter()
                .map(|(_, name, cell)| match cell {
                    Cell::Shown(f) => vec![name.clone(), nps_text(f, t), f.n.to_string()],
                    Cell::Suppressed => {
                        vec![name.clone(), t.suppressed_short.to_owned(), "-".into()]
                    }
                })
                .collect(),
        });
    }
    Ok(blocks)
}

fn csv_field(text: &str) -> String {
    // Quoted always; a leading formula character is defused so a spreadsheet shows it as text.
    let defused = if text.starts_with(['=', '+', '-', '@']) && text.parse::<f64>().is_err() {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    format!("\"{}\"", defused.replace('"', "\"\""))
}

/// One CSV line of figures.
struct CsvRow<'a> {
    /// The respondent role whose answers the line counts.
    role: &'static str,
    section: &'static str,
    label: &'a str,
    n: Option<u64>,
    value: Option<f64>,
    interval: (Option<f64>, Option<f64>),
    suppressed: bool,
}

impl<'a> CsvRow<'a> {
    fn nps(
        role: &'static str,
        section: &'static str,
        label: &'a str,
        cell: &Cell<kaiku_proto::analytics::v1::NpsFigure>,
    ) -> Self {
        match cell {
            Cell::Shown(f) => CsvRow {
                n: Some(f.n),
                value: f.nps,
                interval: (f.ci_low, f.ci_high),
                ..CsvRow::blank(role, section, label)
            },
            Cell::Suppressed => CsvRow::suppressed(role, section, label),
        }
    }

    fn count(role: &'static str, section: &'static str, label: &'a str, cell: &Cell<u64>) -> Self {
        match cell {
            Cell::Shown(n) => CsvRow {
                n: Some(*n),
                ..CsvRow::blank(role, section, label)
            },
            Cell::Suppressed => CsvRow::suppressed(role, section, label),
        }
    }

    fn blank(role: &'static str, section: &'static str, label: &'a str) -> Self {
        CsvRow {
            role,
            section,
            label,
            n: None,
            value: None,
            interval: (None, None),
            suppressed: false,
        }
    }

    fn suppressed(role: &'static str, section: &'static str, label: &'a str) -> Self {
        CsvRow {
            suppressed: true,
            ..CsvRow::blank(role, section, label)
        }
    }
}

/// One role's lines: NPS (unless not asked), responses, trend, units, channels, statements and
/// faces (the happiest face's share, then each face's count as `key:face`).
fn role_rows<'a>(results: &'a Results, face_labels: &'a [(String, u64)]) -> Vec<CsvRow<'a>> {
    let role = kaiku_domain::codes::role_code(results.role);
    let mut rows = Vec::new();
    if results.nps_asked_of != AskedOf::Nobody {
        rows.push(CsvRow::nps(role, "nps", "total", &results.nps));
    }
    rows.push(CsvRow::count(
        role,
        "responses",
        "total",
        &results.responses,
    ));
    rows.extend(
        results
            .trend
            .iter()
            .map(|(month, cell)| CsvRow::nps(role, "nps_by_month", month, cell)),
    );
    rows.extend(
        results
            .by_unit
            .iter()
            .map(|(id, _, cell)| CsvRow::nps(role, "nps_by_unit", id, cell)),
    );
    rows.extend(results.by_channel.iter().map(|(channel, cell)| {
        CsvRow::count(
            role,
            "responses_by_channel",
            kaiku_domain::codes::channel_code(*channel),
            cell,
        )
    }));
    rows.extend(results.statements.iter().map(|s| match &s.figure {
        Cell::Shown(f) => CsvRow {
            n: Some(f.n),
            value: f.mean,
            ..CsvRow::blank(role, "statement_mean", &s.key)
        },
        Cell::Suppressed => CsvRow::suppressed(role, "statement_mean", &s.key),
    }));
    rows.extend(results.faces.iter().map(|face| match &face.figure {
        Cell::Shown(f) => CsvRow {
            n: Some(f.n),
            value: f.best_share,
            ..CsvRow::blank(role, "face_best_share", &face.key)
        },
        Cell::Suppressed => CsvRow::suppressed(role, "face_best_share", &face.key),
    }));
    rows.extend(face_labels.iter().map(|(label, count)| CsvRow {
        n: Some(*count),
        ..CsvRow::blank(role, "face_count", label)
    }));
    rows
}

/// `key:face` and its count for every shown face question of one role.
fn face_counts(results: &Results) -> Vec<(String, u64)> {
    results
        .faces
        .iter()
        .filter_map(|face| match &face.figure {
            Cell::Shown(f) => Some(
                f.distribution
                    .iter()
                    .zip(1..)
                    .map(|(count, point)| (format!("{}:{point}", face.key), *count))
                    .collect::<Vec<_>>(),
            ),
            Cell::Suppressed => None,
        })
        .flatten()
        .collect()
}

/// One line per figure: unit, period, the respondents (role) and ages it covers, section,
/// label, n, value, interval, suppressed. Decimal points, not commas, so every spreadsheet
/// reads the numbers the same way.
pub fn csv(subject: &ReportSubject<'_>, set: &ResultsSet) -> String {
    let face_labels: Vec<Vec<(String, u64)>> = set.roles.iter().map(face_counts).collect();
    let mut rows: Vec<CsvRow> = set
        .by_role
        .iter()
        .map(|(role, cell)| {
            let code = kaiku_domain::codes::role_code(*role);
            CsvRow::count(code, "responses_by_role", code, cell)
        })
        .collect();
    for (results, labels) in set.roles.iter().zip(&face_labels) {
        rows.extend(role_rows(results, labels));
    }
    let number = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let mut text = String::from(
        "unit,period,respondents,ages,section,label,n,value,ci_low,ci_high,suppressed\r\n",
    );
    for row in rows {
        let line = [
            csv_field(subject.unit_name),
            csv_field(subject.period_label),
            csv_field(row.role),
            csv_field(subject.ages),
            csv_field(row.section),
            csv_field(row.label),
            row.n.map(|n| n.to_string()).unwrap_or_default(),
            number(row.value),
            number(row.interval.0),
            number(row.interval.1),
            row.suppressed.to_string(),
        ]
        .join(",");
        text.push_str(&line);
        text.push_str("\r\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_formula_in_a_name_is_defused_and_quotes_are_doubled() {
        assert_eq!(csv_field("=SUM(A1)"), "\"'=SUM(A1)\"");
        assert_eq!(csv_field("-5"), "\"-5\"");
        assert_eq!(csv_field("Koulu \"A\""), "\"Koulu \"\"A\"\"\"");
    }
}
