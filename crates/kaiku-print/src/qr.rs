//! QR codes as a module matrix, drawn as SVG, PNG or into a PDF by the same matrix.

use qrcode::{Color, EcLevel, QrCode};

use crate::PrintError;

/// The light margin every QR reader needs around the code, in modules (ISO/IEC 18004).
pub const QUIET_ZONE: usize = 4;

/// A QR code's dark and light modules, without the quiet zone.
#[derive(Debug, Clone)]
pub struct QrMatrix {
    width: usize,
    dark: Vec<bool>,
}

impl QrMatrix {
    /// Encodes `data` with error correction level M (15 %): a poster or a paper form survives a
    /// crease or a coffee stain, and a signed link still fits a code phones read from a metre.
    pub fn encode(data: &str) -> Result<QrMatrix, PrintError> {
        let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
            .map_err(|_| PrintError::TooLongForQr(data.len()))?;
        let dark = code
            .to_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect();
        Ok(QrMatrix {
            width: code.width(),
            dark,
        })
    }

    /// Modules per side, without the quiet zone.
    pub fn width(&self) -> usize {
        self.width
    }

    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.width && self.dark[y * self.width + x]
    }

    /// Runs of dark modules per row as (x, y, length): one rectangle per run keeps SVGs and
    /// PDFs small and free of hairline gaps between neighbouring modules.
    pub(crate) fn dark_runs(&self) -> Vec<(usize, usize, usize)> {
        let mut runs = Vec::new();
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if self.is_dark(x, y) {
                    let start = x;
                    while x < self.width && self.is_dark(x, y) {
                        x += 1;
                    }
                    runs.push((start, y, x - start));
                } else {
                    x += 1;
                }
            }
        }
        runs
    }

    /// A scalable image with the quiet zone; `title` is its accessible name.
    pub fn to_svg(&self, title: &str) -> String {
        let side = self.width + 2 * QUIET_ZONE;
        let mut path = String::new();
        for (x, y, len) in self.dark_runs() {
            path.push_str(&format!(
                "M{} {}h{}v1h-{}z",
                x + QUIET_ZONE,
                y + QUIET_ZONE,
                len,
                len
            ));
        }
        format!(
            concat!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" "#,
                r#"role="img" aria-label="{title}" shape-rendering="crispEdges">"#,
                r#"<title>{title}</title>"#,
                r##"<rect width="{side}" height="{side}" fill="#fff"/>"##,
                r##"<path fill="#000" d="{path}"/></svg>"##
            ),
            side = side,
            title = escape_xml(title),
            path = path
        )
    }

    /// A black-and-white PNG with the quiet zone, `module_px` pixels per module.
    pub fn to_png(&self, module_px: u32) -> Result<Vec<u8>, PrintError> {
        let module_px = module_px.max(1) as usize;
        let side = (self.width + 2 * QUIET_ZONE) * module_px;
        let side_u32 =
            u32::try_from(side).map_err(|_| PrintError::Png("image too large".into()))?;
        let mut pixels = vec![255u8; side * side];
        for y in 0..self.width {
            for x in 0..self.width {
                if self.is_dark(x, y) {
                    for py in 0..module_px {
                        let row = (y + QUIET_ZONE) * module_px + py;
                        let start = row * side + (x + QUIET_ZONE) * module_px;
                        pixels[start..start + module_px].fill(0);
                    }
                }
            }
        }
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, side_u32, side_u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .map_err(|e| PrintError::Png(e.to_string()))?;
        writer
            .write_image_data(&pixels)
            .map_err(|e| PrintError::Png(e.to_string()))?;
        writer
            .finish()
            .map_err(|e| PrintError::Png(e.to_string()))?;
        Ok(out)
    }
}

pub(crate) fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finder_patterns_sit_in_three_corners() {
        let qr = QrMatrix::encode("https://kaiku.example/f/v1.k1.abc.def").expect("encodes");
        let w = qr.width();
        // A finder pattern: a dark 7x7 ring with a dark 3x3 centre.
        for (ox, oy) in [(0, 0), (w - 7, 0), (0, w - 7)] {
            assert!(qr.is_dark(ox, oy) && qr.is_dark(ox + 6, oy + 6));
            assert!(!qr.is_dark(ox + 1, oy + 1));
            assert!(qr.is_dark(ox + 3, oy + 3));
        }
        assert!(!qr.is_dark(w - 1, w - 1) || !qr.is_dark(w - 7, w - 7));
    }

    #[test]
    fn svg_and_png_carry_the_matrix_with_a_quiet_zone() {
        let qr = QrMatrix::encode("https://kaiku.example/f/x").expect("encodes");
        let svg = qr.to_svg("QR <code>");
        assert!(svg.contains("QR &lt;code&gt;"));
        assert!(svg.contains(&format!("viewBox=\"0 0 {0} {0}\"", qr.width() + 8)));
        let png = qr.to_png(4).expect("png");
        assert_eq!(&png[1..4], b"PNG");
    }

    #[test]
    fn too_much_data_is_an_error_not_a_panic() {
        let long = "x".repeat(4000);
        assert!(matches!(
            QrMatrix::encode(&long),
            Err(PrintError::TooLongForQr(4000))
        ));
    }
}
