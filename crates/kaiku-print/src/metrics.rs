//! Text in the standard Helvetica fonts: WinAnsi encoding (which covers Finnish and Swedish) and
//! advance widths for line wrapping.
//!
//! The widths are Helvetica's (in 1/1000 em) for the characters the forms use; anything else is
//! counted as a wide glyph, so an unusual character can only make a line wrap early, never run
//! past the margin. Bold is treated as 20 % wider than regular: Helvetica-Bold's narrow letters
//! (i, l, t) are up to a quarter wider than their regular forms, its wide ones about a tenth, so
//! the estimate stays on the long side.

/// Advance width of `c` in 1/1000 em.
fn regular_width(c: char) -> u16 {
    match base_letter(c) {
        ' ' | '.' | ',' | ':' | ';' | '!' | '/' | '\\' | '[' | ']' | 'I' | 'f' | 't' => 278,
        'i' | 'j' | 'l' | '\'' => 222,
        '|' => 260,
        '(' | ')' | '-' | 'r' | '`' => 333,
        '"' => 355,
        '*' => 389,
        '^' => 469,
        'c' | 'k' | 's' | 'v' | 'x' | 'y' | 'z' | 'J' => 500,
        'a'
        | 'b'
        | 'd'
        | 'e'
        | 'g'
        | 'h'
        | 'n'
        | 'o'
        | 'p'
        | 'q'
        | 'u'
        | 'L'
        | '_'
        | '?'
        | '$'
        | '#'
        | '0'..='9' => 556,
        '+' | '<' | '=' | '>' | '~' => 584,
        'F' | 'T' | 'Z' => 611,
        'A' | 'B' | 'E' | 'K' | 'P' | 'S' | 'V' | 'X' | 'Y' | '&' => 667,
        'C' | 'D' | 'H' | 'N' | 'R' | 'U' | 'w' => 722,
        'G' | 'O' | 'Q' => 778,
        'm' | 'M' => 833,
        '%' => 889,
        'W' => 944,
        '@' => 1015,
        '\u{2013}' => 556,
        '\u{2014}' | '\u{2026}' => 1000,
        '\u{2019}' | '\u{2018}' => 222,
        '\u{201C}' | '\u{201D}' => 333,
        _ => 1000,
    }
}

/// The unaccented letter whose width an accented Latin letter shares.
fn base_letter(c: char) -> char {
    match c {
        'ä' | 'å' | 'á' | 'à' | 'â' => 'a',
        'Ä' | 'Å' | 'Á' | 'À' | 'Â' => 'A',
        'ö' | 'ó' | 'ò' | 'ô' | 'õ' => 'o',
        'Ö' | 'Ó' | 'Ò' | 'Ô' | 'Õ' => 'O',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'É' | 'È' | 'Ê' | 'Ë' => 'E',
        'ü' | 'ú' | 'ù' | 'û' => 'u',
        'Ü' | 'Ú' | 'Ù' | 'Û' => 'U',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        _ => c,
    }
}

/// Width of `text` in points at `size`.
pub(crate) fn text_width(text: &str, size: f32, bold: bool) -> f32 {
    let units: u32 = text.chars().map(|c| u32::from(regular_width(c))).sum();
    let factor = if bold { 1.2 } else { 1.0 };
    units as f32 * size / 1000.0 * factor
}

/// Breaks `text` into lines no wider than `width` points, at spaces; a single word wider than
/// the line is broken between characters.
pub(crate) fn wrap(text: &str, size: f32, bold: bool, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if text_width(&candidate, size, bold) <= width {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        // The word alone: split it if it still does not fit.
        for c in word.chars() {
            let mut next = line.clone();
            next.push(c);
            if !line.is_empty() && text_width(&next, size, bold) > width {
                lines.push(std::mem::take(&mut line));
                line.push(c);
            } else {
                line = next;
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// `text` in WinAnsiEncoding; characters it lacks become '?'.
pub(crate) fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7E}' => c as u8,
            '\u{A0}'..='\u{FF}' => c as u32 as u8,
            '\u{20AC}' => 0x80,
            '\u{2026}' => 0x85,
            '\u{2018}' => 0x91,
            '\u{2019}' => 0x92,
            '\u{201C}' => 0x93,
            '\u{201D}' => 0x94,
            '\u{2022}' => 0x95,
            '\u{2013}' => 0x96,
            '\u{2014}' => 0x97,
            _ => b'?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_word_and_every_line_inside_the_width() {
        let text = "Kuinka todennäköisesti suosittelisit saamaasi palvelua ystävällesi tai \
                    perheenjäsenellesi, jos hän tarvitsisi vastaavia palveluja?";
        let lines = wrap(text, 14.0, true, 200.0);
        assert!(lines.len() > 2);
        assert!(lines.iter().all(|l| text_width(l, 14.0, true) <= 200.0));
        assert_eq!(
            lines.join(" "),
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }

    #[test]
    fn a_word_longer_than_the_line_is_split() {
        let lines = wrap(&"W".repeat(40), 10.0, false, 100.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), "W".repeat(40));
    }

    #[test]
    fn finnish_and_swedish_letters_encode_to_win_ansi() {
        assert_eq!(
            win_ansi("äöåÄÖÅ–"),
            vec![0xE4, 0xF6, 0xE5, 0xC4, 0xD6, 0xC5, 0x96]
        );
        assert_eq!(win_ansi("€ 😀"), vec![0x80, b' ', b'?']);
    }
}
