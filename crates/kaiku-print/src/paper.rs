//! The paper form: one survey, role and language on A4, in large type with tick boxes, the unit
//! printed at the top and a QR code for those who would rather answer on their phone.

use crate::PrintError;
use crate::pdf::{CONTENT_WIDTH, Document, MARGIN, PAGE_WIDTH, Weight};
use crate::qr::QrMatrix;

/// Body text size: large type for readers with low vision (12 pt is the usual minimum; forms
/// for the public aim higher).
const BODY: f32 = 14.0;
const SMALL: f32 = 12.0;
const BOX: f32 = 18.0;

/// How a question is answered on paper.
#[derive(Debug, Clone)]
pub enum AnswerLayout {
    /// 0-10 in boxes with the meaning of both ends.
    Nps { low: String, high: String },
    /// Five boxes with the scale texts, and a "don't know" box when the question allows it.
    Statement {
        scale: [String; 5],
        dont_know: Option<String>,
    },
    /// Faces from saddest to happiest, each with its text.
    Faces { labels: Vec<String> },
    /// One box per option; `hint` says whether one or several may be ticked.
    Choice { options: Vec<String>, hint: String },
    /// Ruled lines for handwriting.
    OpenText { lines: u32 },
}

#[derive(Debug, Clone)]
pub struct PrintQuestion {
    pub text: String,
    pub layout: AnswerLayout,
}

/// Everything printed on a paper form, already in its language.
#[derive(Debug, Clone)]
pub struct PaperForm {
    /// BCP 47 tag of the texts.
    pub language: String,
    pub title: String,
    /// E.g. "Yksikkö: Keskuskoulu, kuraattori".
    pub unit_line: String,
    /// How to fill in the form, and that no name or other personal data belongs on it.
    pub instructions: String,
    pub questions: Vec<PrintQuestion>,
    /// A signed link to the same form on the web.
    pub phone_link: String,
    pub phone_caption: String,
    /// How to return the form (the envelope).
    pub return_note: String,
}

pub fn paper_form_pdf(form: &PaperForm) -> Result<Vec<u8>, PrintError> {
    let qr = QrMatrix::encode(&form.phone_link)?;
    let mut doc = Document::new(&form.title, &form.language);

    doc.paragraph(&form.title, 22.0, Weight::Bold, 0.0);
    doc.gap(4.0);
    doc.paragraph(&form.unit_line, BODY, Weight::Bold, 0.0);
    doc.gap(6.0);
    doc.paragraph(&form.instructions, BODY, Weight::Regular, 0.0);
    doc.gap(14.0);

    for (i, question) in form.questions.iter().enumerate() {
        let heading = format!("{}. {}", i + 1, question.text);
        let heading_lines = Document::wrapped(&heading, BODY, Weight::Bold, CONTENT_WIDTH);
        // Keep a question's text together with its answer boxes.
        let answer_height = answer_height(&question.layout);
        doc.ensure_space(heading_lines.len() as f32 * BODY * 1.3 + answer_height);
        doc.paragraph(&heading, BODY, Weight::Bold, 0.0);
        doc.gap(8.0);
        draw_answer(&mut doc, &question.layout);
        doc.gap(18.0);
    }

    // The phone alternative and the return note, kept together at the end.
    let qr_size = 120.0;
    doc.ensure_space(qr_size + 40.0);
    doc.gap(6.0);
    let top = doc.y;
    doc.qr(&qr, MARGIN, top - qr_size, qr_size);
    let text_x = MARGIN + qr_size + 16.0;
    let text_width = PAGE_WIDTH - MARGIN - text_x;
    let mut baseline = top - 24.0;
    for (text, weight) in [
        (&form.phone_caption, Weight::Bold),
        (&form.return_note, Weight::Regular),
    ] {
        for line in Document::wrapped(text, BODY, weight, text_width) {
            doc.text_at(text_x, baseline, BODY, weight, &line);
            baseline -= BODY * 1.3;
        }
        baseline -= 8.0;
    }
    doc.y = (top - qr_size).min(baseline);
    Ok(doc.finish())
}

fn answer_height(layout: &AnswerLayout) -> f32 {
    match layout {
        AnswerLayout::Nps { .. } => BOX + 2.0 * SMALL * 1.4 + 10.0,
        AnswerLayout::Statement { dont_know, .. } => {
            (5 + usize::from(dont_know.is_some())) as f32 * (BOX + 6.0)
        }
        AnswerLayout::Faces { .. } => 60.0 + SMALL * 2.8,
        AnswerLayout::Choice { options, .. } => (options.len() + 1) as f32 * (BOX + 6.0),
        AnswerLayout::OpenText { lines } => *lines as f32 * 26.0,
    }
}

fn draw_answer(doc: &mut Document, layout: &AnswerLayout) {
    match layout {
        AnswerLayout::Nps { low, high } => {
            // Eleven numbered boxes across the page.
            let step = CONTENT_WIDTH / 11.0;
            let box_y = doc.y - BOX - SMALL - 4.0;
            for n in 0..=10 {
                let x = MARGIN + n as f32 * step + (step - BOX) / 2.0;
                let label = n.to_string();
                let label_x = x + (BOX - Document::width_of(&label, SMALL, Weight::Bold)) / 2.0;
                doc.text_at(label_x, doc.y - SMALL, SMALL, Weight::Bold, &label);
                doc.tick_box(x, box_y, BOX);
            }
            doc.y = box_y - 6.0;
            doc.paragraph(
                &format!("0 = {low}   10 = {high}"),
                SMALL,
                Weight::Regular,
                0.0,
            );
        }
        AnswerLayout::Statement { scale, dont_know } => {
            let rows = scale
                .iter()
                .enumerate()
                .map(|(i, text)| format!("{} {}", i + 1, text))
                .chain(dont_know.iter().cloned());
            for row in rows {
                box_row(doc, &row);
            }
        }
        AnswerLayout::Faces { labels } => {
            let count = labels.len().max(1);
            let step = CONTENT_WIDTH / count as f32;
            let d = 44.0_f32.min(step - 10.0);
            let centre_y = doc.y - d / 2.0 - 2.0;
            for (i, label) in labels.iter().enumerate() {
                let cx = MARGIN + step * (i as f32 + 0.5);
                let mood = if count > 1 {
                    -1.0 + 2.0 * i as f32 / (count - 1) as f32
                } else {
                    0.0
                };
                doc.face(cx, centre_y, d, mood);
                let box_y = centre_y - d / 2.0 - BOX - 4.0;
                doc.tick_box(cx - BOX / 2.0, box_y, BOX);
                let mut baseline = box_y - SMALL - 2.0;
                for line in Document::wrapped(label, SMALL, Weight::Regular, step - 6.0) {
                    let w = Document::width_of(&line, SMALL, Weight::Regular);
                    doc.text_at(cx - w / 2.0, baseline, SMALL, Weight::Regular, &line);
                    baseline -= SMALL * 1.2;
                }
            }
            doc.y = centre_y - d / 2.0 - BOX - 4.0 - SMALL * 2.8;
        }
        AnswerLayout::Choice { options, hint } => {
            doc.paragraph(hint, SMALL, Weight::Regular, 0.0);
            doc.gap(4.0);
            for option in options {
                box_row(doc, option);
            }
        }
        AnswerLayout::OpenText { lines } => {
            for _ in 0..*lines {
                doc.gap(26.0);
                let y = doc.y;
                doc.rule(MARGIN, y, CONTENT_WIDTH);
            }
        }
    }
}

/// A tick box followed by its text (wrapped beside the box).
fn box_row(doc: &mut Document, text: &str) {
    let indent = BOX + 10.0;
    let lines = Document::wrapped(text, BODY, Weight::Regular, CONTENT_WIDTH - indent);
    doc.ensure_space(BOX + 6.0);
    let top = doc.y;
    doc.tick_box(MARGIN, top - BOX, BOX);
    let mut baseline = top - BOX + 4.0;
    for line in &lines {
        doc.text_at(MARGIN + indent, baseline, BODY, Weight::Regular, line);
        baseline -= BODY * 1.3;
    }
    doc.y = (top - BOX - 6.0).min(baseline + BODY * 1.3 - 6.0 - 4.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(questions: usize) -> PaperForm {
        PaperForm {
            language: "fi".into(),
            title: "Asiakaspalaute".into(),
            unit_line: "Yksikkö: Keskuskoulu".into(),
            instructions: "Rastita yksi vaihtoehto.".into(),
            questions: (0..questions)
                .map(|i| PrintQuestion {
                    text: format!("Kysymys {i}"),
                    layout: AnswerLayout::Statement {
                        scale: ["a", "b", "c", "d", "e"].map(String::from),
                        dont_know: Some("En osaa sanoa".into()),
                    },
                })
                .collect(),
            phone_link: "https://kaiku.example/f/v1.k1.e30.sig".into(),
            phone_caption: "Vastaa puhelimella".into(),
            return_note: "Palauta kirjekuoressa".into(),
        }
    }

    #[test]
    fn a_long_form_flows_onto_more_pages() {
        let short = paper_form_pdf(&form(1)).expect("pdf");
        let long = paper_form_pdf(&form(12)).expect("pdf");
        let pages = |pdf: &[u8]| {
            let text = String::from_utf8_lossy(pdf);
            text.matches("/Type /Page").count() - text.matches("/Type /Pages").count()
        };
        assert!(short.starts_with(b"%PDF-"));
        assert_eq!(pages(&short), 1);
        assert!(pages(&long) >= 3, "12 statements take several pages");
    }
}
