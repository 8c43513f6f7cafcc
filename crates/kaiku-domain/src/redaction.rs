//! Removes direct identifiers from open feedback before it is stored anywhere.
//!
//! Respondents write things like "soittakaa 040 123 4567" or their personal identity code into
//! the open question. Feedback is anonymous statistics, so such text is replaced by a
//! placeholder that says what was there ("[puhelinnumero]") and the original never reaches the
//! event stream. Contact requests belong to feedback handling, which keeps contact details
//! apart from the statistics.
//!
//! Identity codes are recognised by their shape and a real calendar date (century from the
//! sign, every sign including those added in 2023). The check character is validated by
//! [`is_valid_personal_identity_code`] but not required for redaction: a code with one digit
//! mistyped still identifies a person. Phone numbers err the same way.
//!
//! Person names need a morphological analyser (Finnish inflects them: "Matille",
//! "Virtasen"), which this pure crate does not link: the caller passes one as [`NameSpans`]
//! to [`redact_with`] (response-intake passes kaiku-names' finder, which uses libvoikko).
//! [`redact`] alone leaves names in place (see ADR 0003).

use std::ops::Range;
use std::sync::LazyLock;

use regex::{Captures, Regex};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonalDataKind {
    /// Finnish personal identity code (henkilötunnus), e.g. 131052-308T.
    PersonalIdentityCode,
    PhoneNumber,
    EmailAddress,
    /// A person's first name or surname, in any inflected form.
    PersonName,
}

impl PersonalDataKind {
    /// The placeholder left in the text. Finnish, as most feedback is; readers of Swedish and
    /// English feedback see the same token, so counts and searches stay uniform.
    pub fn placeholder(self) -> &'static str {
        match self {
            Self::PersonalIdentityCode => "[henkilötunnus]",
            Self::PhoneNumber => "[puhelinnumero]",
            Self::EmailAddress => "[sähköposti]",
            Self::PersonName => "[nimi]",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    pub text: String,
    /// One entry per identifier removed, in the order they were found by kind.
    pub found: Vec<PersonalDataKind>,
}

// Date part, century sign (- + A, and since 2023 also B-F and U-Y), individual number, check
// character. Not anchored to a valid check character on purpose: see the module comment.
// Note `[-+A-FU-Y]`: written `[+-A]` it would be a range.
static IDENTITY_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(0[1-9]|[12][0-9]|3[01])(0[1-9]|1[0-2])([0-9]{2})([-+A-FU-Y])([0-9]{3})[0-9A-Y]\b",
    )
    .expect("identity code pattern is valid")
});

/// The birth date an identity-code match encodes, if it is a real date.
fn birth_date(captures: &Captures) -> Option<chrono::NaiveDate> {
    let century = match captures[4].to_ascii_uppercase().as_str() {
        "+" => 1800,
        "-" | "U" | "V" | "W" | "X" | "Y" => 1900,
        _ => 2000, // A-F
    };
    let year = century + captures[3].parse::<i32>().ok()?;
    let month = captures[2].parse().ok()?;
    let day = captures[1].parse().ok()?;
    chrono::NaiveDate::from_ymd_opt(year, month, day)
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9][A-Za-z0-9\-]*(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
        .expect("e-mail pattern is valid")
});

// Finnish numbers in the ways people write them: 040 123 4567, 040-1234567, (09) 123 4567,
// +358 40 123 4567, 00358401234567. Digit count is checked separately. No word boundary at
// the end: "040 1234567kiitos" is still a phone number.
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+|\b00)358[ \-]?\(?0?[0-9]{1,3}\)?(?:[ \-]?[0-9]{1,4}){1,4}|(?:\b|\()0[0-9]{1,3}\)?(?:[ \-]?[0-9]{1,4}){1,4}")
        .expect("phone pattern is valid")
});

// Shortest Finnish subscriber number with area code, longest with 00358 in front.
const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 7..=15;

/// Finds person names in text, for [`redact_with`].
pub trait NameSpans {
    /// Byte ranges of the names in `text`, on character boundaries. Ranges that are out of
    /// bounds, split a character or overlap an earlier one are ignored.
    fn name_spans(&self, text: &str) -> Vec<Range<usize>>;
}

/// Any function from text to name ranges (tests, simple word lists).
impl<F: Fn(&str) -> Vec<Range<usize>>> NameSpans for F {
    fn name_spans(&self, text: &str) -> Vec<Range<usize>> {
        self(text)
    }
}

/// Recognises no names: what [`redact`] uses.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNames;

impl NameSpans for NoNames {
    fn name_spans(&self, _text: &str) -> Vec<Range<usize>> {
        Vec::new()
    }
}

/// Replaces personal identity codes, e-mail addresses and phone numbers with placeholders.
/// Names stay: use [`redact_with`] wherever text is stored.
pub fn redact(text: &str) -> Redacted {
    redact_with(text, &NoNames)
}

/// Replaces identity codes, e-mail addresses and phone numbers, then the person names `names`
/// finds in what remains. Names come last so that a placeholder's own word ("[nimi]",
/// "[puhelinnumero]") is never taken for a name, and an e-mail address is one placeholder
/// rather than a name inside one.
pub fn redact_with(text: &str, names: &dyn NameSpans) -> Redacted {
    let Redacted { text, mut found } = redact_identifiers(text);
    let placeholders = placeholder_ranges(&text);
    let mut spans: Vec<Range<usize>> = names
        .name_spans(&text)
        .into_iter()
        .filter(|span| span.start < span.end && text.get(span.clone()).is_some())
        .filter(|span| !placeholders.iter().any(|p| overlaps(p, span)))
        .collect();
    spans.sort_by_key(|span| span.start);
    let mut redacted = String::with_capacity(text.len());
    let mut copied = 0;
    for span in spans {
        if span.start < copied {
            continue;
        }
        redacted.push_str(&text[copied..span.start]);
        redacted.push_str(PersonalDataKind::PersonName.placeholder());
        found.push(PersonalDataKind::PersonName);
        copied = span.end;
    }
    redacted.push_str(&text[copied..]);
    Redacted {
        text: redacted,
        found,
    }
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// Where the identifier placeholders already in `text` are.
fn placeholder_ranges(text: &str) -> Vec<Range<usize>> {
    [
        PersonalDataKind::PersonalIdentityCode,
        PersonalDataKind::PhoneNumber,
        PersonalDataKind::EmailAddress,
    ]
    .iter()
    .flat_map(|kind| {
        let placeholder = kind.placeholder();
        text.match_indices(placeholder)
            .map(move |(start, _)| start..start + placeholder.len())
    })
    .collect()
}

fn redact_identifiers(text: &str) -> Redacted {
    let mut found = Vec::new();
    // Identity codes first: their digits would otherwise look like a phone number to the
    // later patterns.
    let text = IDENTITY_CODE.replace_all(text, |captures: &Captures| {
        if birth_date(captures).is_some() {
            found.push(PersonalDataKind::PersonalIdentityCode);
            PersonalDataKind::PersonalIdentityCode
                .placeholder()
                .to_owned()
        } else {
            captures[0].to_owned()
        }
    });
    let text = EMAIL.replace_all(&text, |_: &Captures| {
        found.push(PersonalDataKind::EmailAddress);
        PersonalDataKind::EmailAddress.placeholder()
    });
    let text = PHONE.replace_all(&text, |captures: &Captures| {
        let candidate = &captures[0];
        let digits = candidate.chars().filter(char::is_ascii_digit).count();
        if PHONE_DIGITS.contains(&digits) {
            found.push(PersonalDataKind::PhoneNumber);
            PersonalDataKind::PhoneNumber.placeholder().to_owned()
        } else {
            candidate.to_owned()
        }
    });
    Redacted {
        text: text.into_owned(),
        found,
    }
}

/// Whether `code` is a well-formed personal identity code with the right check character.
pub fn is_valid_personal_identity_code(code: &str) -> bool {
    const CHECK_CHARACTERS: &[u8] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";
    let Some(captures) = IDENTITY_CODE.captures(code) else {
        return false;
    };
    if captures[0].len() != code.len() || birth_date(&captures).is_none() {
        return false;
    }
    let number = format!(
        "{}{}{}{}",
        &captures[1], &captures[2], &captures[3], &captures[5]
    );
    let Ok(number) = number.parse::<u64>() else {
        return false;
    };
    let Ok(index) = usize::try_from(number % 31) else {
        return false;
    };
    code.as_bytes()
        .last()
        .is_some_and(|check| check.to_ascii_uppercase() == CHECK_CHARACTERS[index])
}

#[cfg(test)]
mod tests {
    use super::PersonalDataKind::*;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn identity_codes_are_removed_in_every_century_form() {
        for code in [
            "131052-308T",
            "131052A308T",
            "010594Y9032",
            "010594B9032",
            "131052+308t",
        ] {
            let redacted = redact(&format!("hetuni on {code}."));
            assert_eq!(redacted.text, "hetuni on [henkilötunnus].", "{code}");
            assert_eq!(redacted.found, vec![PersonalIdentityCode]);
        }
    }

    #[test]
    fn phone_numbers_are_removed_as_people_write_them() {
        for phone in [
            "040 123 4567",
            "040-1234567",
            "0401234567",
            "+358 40 123 4567",
            "+358401234567",
            "00358 40 1234567",
            "(09) 123 4567",
            "09 8765 4321",
        ] {
            let redacted = redact(&format!("Soittakaa {phone} kiitos"));
            assert_eq!(redacted.text, "Soittakaa [puhelinnumero] kiitos", "{phone}");
            assert_eq!(redacted.found, vec![PhoneNumber], "{phone}");
        }
    }

    #[test]
    fn email_addresses_are_removed() {
        let redacted = redact("Mejla mig: anna.k-svensson+kaiku@exempel.fi, tack");
        assert_eq!(redacted.text, "Mejla mig: [sähköposti], tack");
        assert_eq!(redacted.found, vec![EmailAddress]);
    }

    #[test]
    fn several_identifiers_are_all_counted() {
        let redacted = redact("Soittakaa 040 123 4567, hetu 131052-308T, posti a@b.fi");
        assert_eq!(
            redacted.text,
            "Soittakaa [puhelinnumero], hetu [henkilötunnus], posti [sähköposti]"
        );
        assert_eq!(redacted.found.len(), 3);
    }

    #[test]
    fn ordinary_feedback_with_numbers_is_left_alone() {
        for text in [
            "Kuraattori oli paikalla 3 kertaa viikossa, kiitos!",
            "Odotin 45 minuuttia 12.3.2025 klo 14.30",
            "Vuonna 2024 palvelu parani 10 %",
            "Huone 0123 oli kylmä",
            "Sain ajan 2 viikossa",
        ] {
            let redacted = redact(text);
            assert_eq!(redacted.text, text);
            assert!(redacted.found.is_empty(), "{text}");
        }
    }

    fn finds(words: &'static [&'static str]) -> impl Fn(&str) -> Vec<Range<usize>> {
        move |text: &str| {
            words
                .iter()
                .flat_map(|word| {
                    text.match_indices(word)
                        .map(|(start, _)| start..start + word.len())
                        .collect::<Vec<_>>()
                })
                .collect()
        }
    }

    #[test]
    fn names_are_replaced_after_the_other_identifiers() {
        let redacted = redact_with(
            "Olen Matti 9B-luokalta, soita 040 123 4567 tai kysy Liisa Virtaselta",
            &finds(&["Matti", "Liisa Virtaselta"]),
        );
        assert_eq!(
            redacted.text,
            "Olen [nimi] 9B-luokalta, soita [puhelinnumero] tai kysy [nimi]"
        );
        assert_eq!(redacted.found, vec![PhoneNumber, PersonName, PersonName]);
    }

    #[test]
    fn a_name_inside_a_placeholder_or_address_is_not_replaced_again() {
        let redacted = redact_with(
            "Posti matti.virtanen@esimerkki.fi, puhelinnumero alla",
            &finds(&["matti", "virtanen", "puhelinnumero", "sähköposti"]),
        );
        assert_eq!(redacted.text, "Posti [sähköposti], [nimi] alla");
        assert_eq!(redacted.found, vec![EmailAddress, PersonName]);
    }

    #[test]
    fn spans_out_of_bounds_inside_a_character_or_overlapping_are_ignored() {
        let spans = |_: &str| vec![0..2, 1..3, 5..99, 7..8];
        // "Äiti" is five bytes and starts with a two-byte letter: 1..3 splits it, 5..99 and
        // 7..8 run past its end.
        let redacted = redact_with("Äiti", &spans);
        assert_eq!(redacted.text, "[nimi]iti");
        assert_eq!(redacted.found, vec![PersonName]);
    }

    #[test]
    fn redact_alone_keeps_names() {
        assert_eq!(redact("Kiitos Matille").text, "Kiitos Matille");
    }

    #[test]
    fn check_character_validation() {
        assert!(is_valid_personal_identity_code("131052-308T"));
        assert!(is_valid_personal_identity_code("131052A308T"));
        assert!(!is_valid_personal_identity_code("131052-308U"));
        assert!(!is_valid_personal_identity_code("321052-308T"));
        assert!(!is_valid_personal_identity_code("x131052-308T"));
    }

    proptest! {
        #[test]
        fn no_phone_number_survives(
            prefix in "[a-zåäö ]{0,20}",
            operator in prop::sample::select(vec!["040", "041", "044", "045", "046", "050", "09"]),
            number in 1_000_000u32..9_999_999,
            separator in prop::sample::select(vec![" ", "-", ""]),
            suffix in "[a-zåäö ,.!]{0,20}",
        ) {
            let digits = number.to_string();
            let text = format!("{prefix} {operator}{separator}{digits}{suffix}");
            let redacted = redact(&text);
            prop_assert!(!redacted.text.contains(&digits), "{}", redacted.text);
        }

        #[test]
        fn text_without_digits_or_at_signs_is_unchanged(text in "[^0-9@]{0,200}") {
            let redacted = redact(&text);
            prop_assert_eq!(redacted.text, text);
        }
    }
}
