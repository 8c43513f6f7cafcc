//! The poster for the premises: a large QR code with the unit and short instructions in every
//! language the survey offers.

use crate::PrintError;
use crate::pdf::{Document, PAGE_WIDTH, Weight};
use crate::qr::QrMatrix;

#[derive(Debug, Clone)]
pub struct PosterSection {
    pub heading: String,
    pub instructions: String,
}

#[derive(Debug, Clone)]
pub struct Poster {
    /// BCP 47 tag of the first section's language (the document language).
    pub language: String,
    pub title: String,
    /// E.g. "Keskuskoulu, kuraattori".
    pub unit_line: String,
    /// One per language, in the survey's order.
    pub sections: Vec<PosterSection>,
    /// The signed link the QR code holds; printed too, for typing by hand.
    pub link: String,
}

pub fn poster_pdf(poster: &Poster) -> Result<Vec<u8>, PrintError> {
    let qr = QrMatrix::encode(&poster.link)?;
    let mut doc = Document::new(&poster.title, &poster.language);
    let headings: Vec<&str> = poster.sections.iter().map(|s| s.heading.as_str()).collect();
    doc.centred(&headings.join(" | "), 30.0, Weight::Bold);
    doc.gap(8.0);
    doc.centred(&poster.unit_line, 18.0, Weight::Bold);
    doc.gap(16.0);

    let qr_size = 260.0;
    let top = doc.y;
    doc.qr(&qr, (PAGE_WIDTH - qr_size) / 2.0, top - qr_size, qr_size);
    doc.y = top - qr_size - 16.0;

    for section in &poster.sections {
        doc.centred(&section.instructions, 15.0, Weight::Regular);
        doc.gap(10.0);
    }
    doc.gap(6.0);
    doc.centred(&poster.link, 9.0, Weight::Regular);
    Ok(doc.finish())
}
