//! Printed and scannable material for Kaiku's respondent channels: QR codes as SVG and PNG, and
//! PDFs for the premises (a poster per unit and group, a paper form per survey, role and
//! language), and results reports for managers.
//!
//! Everything here is a plain function of its input: the caller (web-form) resolves the form,
//! signs the link and picks the texts in the right language; this crate only lays them out. The
//! PDFs use the standard Helvetica fonts (no embedded font files), so they stay small and any
//! reader, printer and `pdftotext` handles them.

mod metrics;
mod paper;
mod pdf;
mod poster;
mod qr;
mod report;

pub use paper::{AnswerLayout, PaperForm, PrintQuestion, paper_form_pdf};
pub use poster::{Poster, PosterSection, poster_pdf};
pub use qr::QrMatrix;
pub use report::{RasterChart, Report, ReportBlock, report_pdf};

/// Why something could not be printed.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("the link is too long for a QR code ({0} bytes)")]
    TooLongForQr(usize),
    #[error("PNG encoding failed: {0}")]
    Png(String),
    #[error("cannot lay out the report: {0}")]
    Image(String),
}
