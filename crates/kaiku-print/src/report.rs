//! A results report for managers: a title, the facts it is about (unit, period, survey), then
//! blocks of headings, paragraphs, tables and charts in order. The console decides what goes in
//! and in which language; this lays it out on A4 pages.

use crate::PrintError;
use crate::pdf::{CONTENT_WIDTH, Document, MARGIN, Weight};

/// A chart as pixels (8-bit RGB, row by row), drawn by the caller's charting library.
#[derive(Debug, Clone)]
pub struct RasterChart {
    pub rgb: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone)]
pub enum ReportBlock {
    Heading(String),
    Paragraph(String),
    /// Column headings, then rows of the same length.
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    Chart(RasterChart),
}

#[derive(Debug, Clone)]
pub struct Report {
    /// BCP 47 tag of the report's language.
    pub language: String,
    pub title: String,
    /// "Label: value" lines under the title (unit, period, survey, when made).
    pub facts: Vec<(String, String)>,
    pub blocks: Vec<ReportBlock>,
}

const TABLE_SIZE: f32 = 9.5;
const ROW_HEIGHT: f32 = 14.0;

pub fn report_pdf(report: &Report) -> Result<Vec<u8>, PrintError> {
    let mut doc = Document::new(&report.title, &report.language);
    doc.paragraph(&report.title, 20.0, Weight::Bold, 0.0);
    doc.gap(6.0);
    for (label, value) in &report.facts {
        doc.paragraph(&format!("{label}: {value}"), 11.0, Weight::Regular, 0.0);
    }
    for block in &report.blocks {
        match block {
            ReportBlock::Heading(text) => {
                // Keep a heading with at least a few lines of what follows it.
                doc.ensure_space(80.0);
                doc.gap(12.0);
                doc.paragraph(text, 14.0, Weight::Bold, 0.0);
                doc.gap(4.0);
            }
            ReportBlock::Paragraph(text) => {
                doc.paragraph(text, 10.5, Weight::Regular, 0.0);
                doc.gap(4.0);
            }
            ReportBlock::Table { header, rows } => table(&mut doc, header, rows)?,
            ReportBlock::Chart(chart) => {
                if chart.rgb.len() != (chart.width as usize) * (chart.height as usize) * 3 {
                    return Err(PrintError::Image(format!(
                        "a {}x{} RGB chart needs {} bytes, got {}",
                        chart.width,
                        chart.height,
                        chart.width as usize * chart.height as usize * 3,
                        chart.rgb.len()
                    )));
                }
                doc.gap(4.0);
                doc.image(&chart.rgb, chart.width, chart.height, CONTENT_WIDTH);
                doc.gap(6.0);
            }
        }
    }
    Ok(doc.finish())
}

/// Columns share the width equally, except the first, which gets twice a share (labels).
fn table(doc: &mut Document, header: &[String], rows: &[Vec<String>]) -> Result<(), PrintError> {
    if header.is_empty() {
        return Ok(());
    }
    if let Some(bad) = rows.iter().find(|r| r.len() != header.len()) {
        return Err(PrintError::Image(format!(
            "a table row has {} cells for {} columns",
            bad.len(),
            header.len()
        )));
    }
    let share = CONTENT_WIDTH / (header.len() as f32 + 1.0);
    let columns: Vec<(f32, f32)> = (0..header.len())
        .map(|i| {
            if i == 0 {
                (MARGIN, 2.0 * share)
            } else {
                (MARGIN + (i as f32 + 1.0) * share, share)
            }
        })
        .collect();
    let row = |doc: &mut Document, cells: &[String], weight: Weight| {
        doc.ensure_space(ROW_HEIGHT);
        doc.y -= ROW_HEIGHT;
        for (cell, (x, width)) in cells.iter().zip(&columns) {
            let text = fit(cell, width - 4.0, weight);
            doc.text_at(*x, doc.y + 3.5, TABLE_SIZE, weight, &text);
        }
    };
    row(doc, header, Weight::Bold);
    let y = doc.y + 1.0;
    doc.rule(MARGIN, y, CONTENT_WIDTH);
    for cells in rows {
        row(doc, cells, Weight::Regular);
    }
    doc.gap(6.0);
    Ok(())
}

/// The text, cut with an ellipsis when it is wider than `width`.
fn fit(text: &str, width: f32, weight: Weight) -> String {
    if Document::width_of(text, TABLE_SIZE, weight) <= width {
        return text.to_owned();
    }
    let mut cut: String = text.to_owned();
    while !cut.is_empty() && Document::width_of(&format!("{cut}..."), TABLE_SIZE, weight) > width {
        cut.pop();
    }
    format!("{cut}...")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_with_a_table_and_a_chart_is_a_pdf() {
        let report = Report {
            language: "en".into(),
            title: "Results".into(),
            facts: vec![("Unit".into(), "School 1".into())],
            blocks: vec![
                ReportBlock::Heading("NPS".into()),
                ReportBlock::Table {
                    header: vec!["Group".into(), "n".into()],
                    rows: vec![vec!["Clients".into(), "12".into()]],
                },
                ReportBlock::Chart(RasterChart {
                    rgb: vec![255; 4 * 2 * 3],
                    width: 4,
                    height: 2,
                }),
            ],
        };
        let pdf = report_pdf(&report).expect("renders");
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.windows(6).any(|w| w == b"/Image"));
    }

    #[test]
    fn a_chart_of_the_wrong_size_is_refused() {
        let report = Report {
            language: "en".into(),
            title: "Results".into(),
            facts: Vec::new(),
            blocks: vec![ReportBlock::Chart(RasterChart {
                rgb: vec![0; 5],
                width: 4,
                height: 2,
            })],
        };
        assert!(matches!(report_pdf(&report), Err(PrintError::Image(_))));
    }
}
