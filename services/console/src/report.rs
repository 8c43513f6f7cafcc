//! The periodic results report of one unit: the dashboard's figures and charts as a PDF a
//! manager can share, and the same figures as CSV.

use kaiku_print::{Report, ReportBlock};

use crate::error::ConsoleError;
use crate::figures::{Cell, Results};
use crate::layout::decimal;
use crate::results_page::{charts, nps_text};
use crate::review_page::nps_line;
use crate::texts::{Texts, with_min};

/// What the report is about, as the reader sees it.
pub struct ReportSubject<'a> {
    pub survey_title: &'a str,
    pub unit_name: &'a str,
    pub period_label: &'a str,
    pub generated: &'a str,
}

pub fn pdf(
    t: &Texts,
    subject: &ReportSubject<'_>,
    results: &Results,
) -> Result<Vec<u8>, ConsoleError> {
    let min = results.min_group_size;
    let mut blocks = vec![
        ReportBlock::Heading(t.headline.to_owned()),
        ReportBlock::Paragraph(nps_line(&results.nps, t, min)),
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
                    Cell::Shown((n, mean, _, dont_know)) => vec![
                        format!("{}. {}", i + 1, s.text),
                        mean.map_or_else(|| "-".to_owned(), |m| decimal(m, t, 2)),
                        n.to_string(),
                        dont_know.to_string(),
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
    let report = Report {
        language: t.tag.to_owned(),
        title: format!("{}: {}", t.report_title, subject.unit_name),
        facts: vec![
            (t.unit.to_owned(), subject.unit_name.to_owned()),
            (t.period.to_owned(), subject.period_label.to_owned()),
            (t.survey.to_owned(), subject.survey_title.to_owned()),
            (t.generated.to_owned(), subject.generated.to_owned()),
        ],
        blocks,
    };
    Ok(kaiku_print::report_pdf(&report)?)
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
    section: &'a str,
    label: &'a str,
    n: Option<u64>,
    value: Option<f64>,
    interval: (Option<f64>, Option<f64>),
    suppressed: bool,
}

impl<'a> CsvRow<'a> {
    fn nps(
        section: &'a str,
        label: &'a str,
        cell: &Cell<kaiku_proto::analytics::v1::NpsFigure>,
    ) -> Self {
        match cell {
            Cell::Shown(f) => CsvRow {
                section,
                label,
                n: Some(f.n),
                value: f.nps,
                interval: (f.ci_low, f.ci_high),
                suppressed: false,
            },
            Cell::Suppressed => CsvRow::suppressed(section, label),
        }
    }

    fn count(section: &'a str, label: &'a str, cell: &Cell<u64>) -> Self {
        match cell {
            Cell::Shown(n) => CsvRow {
                section,
                label,
                n: Some(*n),
                value: None,
                interval: (None, None),
                suppressed: false,
            },
            Cell::Suppressed => CsvRow::suppressed(section, label),
        }
    }

    fn suppressed(section: &'a str, label: &'a str) -> Self {
        CsvRow {
            section,
            label,
            n: None,
            value: None,
            interval: (None, None),
            suppressed: true,
        }
    }
}

/// One line per figure: section, label, n, value, interval, suppressed. Decimal points, not
/// commas, so every spreadsheet reads the numbers the same way.
pub fn csv(subject: &ReportSubject<'_>, results: &Results) -> String {
    let mut rows = vec![
        CsvRow::nps("nps", "total", &results.nps),
        CsvRow::count("responses", "total", &results.responses),
    ];
    rows.extend(
        results
            .trend
            .iter()
            .map(|(month, cell)| CsvRow::nps("nps_by_month", month, cell)),
    );
    rows.extend(
        results
            .by_unit
            .iter()
            .map(|(id, _, cell)| CsvRow::nps("nps_by_unit", id, cell)),
    );
    rows.extend(results.by_channel.iter().map(|(channel, cell)| {
        CsvRow::count(
            "responses_by_channel",
            kaiku_domain::codes::channel_code(*channel),
            cell,
        )
    }));
    rows.extend(results.by_role.iter().map(|(role, cell)| {
        CsvRow::count(
            "responses_by_role",
            kaiku_domain::codes::role_code(*role),
            cell,
        )
    }));
    rows.extend(results.statements.iter().map(|s| match &s.figure {
        Cell::Shown((n, mean, _, _)) => CsvRow {
            section: "statement_mean",
            label: &s.key,
            n: Some(*n),
            value: *mean,
            interval: (None, None),
            suppressed: false,
        },
        Cell::Suppressed => CsvRow::suppressed("statement_mean", &s.key),
    }));
    let number = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let mut text = String::from("unit,period,section,label,n,value,ci_low,ci_high,suppressed\r\n");
    for row in rows {
        let line = [
            csv_field(subject.unit_name),
            csv_field(subject.period_label),
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
