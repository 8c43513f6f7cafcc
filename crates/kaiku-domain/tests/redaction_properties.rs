//! Properties of redaction over generated identifiers and look-alikes, in Finnish, Swedish and
//! English sentences (issue 21 item 2).
//!
//! Every identifier generated is one that must go: identity codes with every century sign and
//! a valid check character, written with and without separators, spaced (around the separator,
//! inside the date and number, before the check character), with Unicode dashes,
//! in lower case; phone numbers mobile and landline, national and international, with every
//! separator people use, alone, two in a row and at the end of a sentence; e-mail addresses
//! with "(at)", "[at]", " at ", "(a)", plus tags and subdomains. None of it, nor its digits,
//! may survive; the words around it must, and redacting again must change nothing. The
//! look-alikes (dates, times, prices, case numbers, years, scores, durations) must all survive.
//!
//! 10,500 cases in all (the `cases` of each block: 2,500 + 2,000 + 1,500 + 2,000 + 2,500); each
//! block takes 0.1-0.3 s in a debug build.

use kaiku_domain::redaction::redact;
use proptest::prelude::*;
use proptest::sample::select;

const CHECK_CHARACTERS: &[u8] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";

/// Checks that `value`, put into `sentence` at "{}", is gone from the redacted text with its
/// digits, that the rest of the sentence is intact, and that redacting again changes nothing.
/// The sentences have no digits of their own, so no digit at all may remain.
fn assert_removed(sentence: &str, value: &str, secrets: &[&str]) -> Result<(), TestCaseError> {
    let text = sentence.replace("{}", value);
    let redacted = redact(&text).text;
    let (before, after) = sentence.split_once("{}").unwrap_or((sentence, ""));
    prop_assert!(
        redacted.starts_with(before) && redacted.ends_with(after),
        "the sentence around {value:?} changed: {text:?} -> {redacted:?}"
    );
    prop_assert!(
        !redacted.chars().any(|c| c.is_ascii_digit()),
        "digits of {value:?} survived: {text:?} -> {redacted:?}"
    );
    for secret in secrets.iter().chain([&value]) {
        prop_assert!(
            !redacted.contains(secret),
            "{secret:?} survived: {text:?} -> {redacted:?}"
        );
    }
    prop_assert_eq!(redact(&redacted).text, redacted.clone(), "not idempotent");
    prop_assert!(!redact(&text).found.is_empty());
    Ok(())
}

/// The ASCII digits of `text`, in order.
fn digits_of(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

// ---- identity codes ----

const CODE_SENTENCES: &[&str] = &[
    "Henkilötunnukseni on {} ja asia koskee laskua",
    "Tässä hetu {}, soittakaa",
    "Hoitaja kysyi tunnustani {}.",
    "Mitt personnummer är {} tack",
    "Personbeteckning {}, ring mig.",
    "My personal identity code is {} thanks",
    "Code {}.",
];

/// Dashes that stand for the hyphen of the 1900s.
const DASHES: &[&str] = &[
    "\u{2010}", "\u{2011}", "\u{2012}", "–", "—", "―", "−", "\u{FE63}", "－",
];

/// Spaces around a separator.
const SPACES: &[&str] = &[" ", "\u{00A0}", "\u{202F}", "  "];

#[derive(Debug, Clone)]
enum CodeSeparator {
    /// The century sign, as officially written.
    Sign,
    /// The sign with a space on one or both sides.
    SpacedSign(&'static str, bool, bool),
    /// A Unicode dash for the hyphen of the 1900s, spaced or not.
    Dash(&'static str, Option<&'static str>),
    /// Nothing.
    Missing,
    /// A space alone.
    SpaceOnly(&'static str),
}

fn code_separator() -> impl Strategy<Value = CodeSeparator> {
    prop_oneof![
        Just(CodeSeparator::Sign),
        (select(SPACES), any::<bool>(), any::<bool>())
            .prop_map(|(space, left, right)| CodeSeparator::SpacedSign(space, left, right)),
        (select(DASHES), proptest::option::of(select(SPACES)))
            .prop_map(|(dash, space)| CodeSeparator::Dash(dash, space)),
        Just(CodeSeparator::Missing),
        select(SPACES).prop_map(CodeSeparator::SpaceOnly),
    ]
}

fn century(sign: char) -> i32 {
    match sign {
        '+' => 1800,
        'A'..='F' => 2000,
        _ => 1900,
    }
}

/// A valid identity code as someone might type it, and its digits.
fn identity_code() -> impl Strategy<Value = (String, String)> {
    (
        select("+-ABCDEFYXWVU".chars().collect::<Vec<_>>()),
        0i32..100,
        1u32..=12,
        1u32..=31,
        2u32..=899,
        code_separator(),
        any::<bool>(),
        0u8..6,
    )
        .prop_filter_map(
            "a real date",
            |(sign, year, month, day, number, separator, lower, spacing)| {
                chrono::NaiveDate::from_ymd_opt(century(sign) + year, month, day)?;
                // A dash stands for "-" only: with another sign's date it is another date.
                if matches!(separator, CodeSeparator::Dash(..)) && sign != '-' {
                    return None;
                }
                let digits = format!("{day:02}{month:02}{year:02}{number:03}");
                let check = CHECK_CHARACTERS
                    [usize::try_from(digits.parse::<u64>().ok()? % 31).ok()?]
                    as char;
                let sign = sign.to_string();
                let written = match separator {
                    CodeSeparator::Sign => sign,
                    CodeSeparator::SpacedSign(space, left, right) => format!(
                        "{}{sign}{}",
                        if left || !right { space } else { "" },
                        if right { space } else { "" }
                    ),
                    CodeSeparator::Dash(dash, space) => {
                        let space = space.unwrap_or("");
                        format!("{space}{dash}{space}")
                    }
                    CodeSeparator::Missing => String::new(),
                    CodeSeparator::SpaceOnly(space) => space.to_owned(),
                };
                // Spaced inside, as when read out or hidden: the date's parts, the check
                // character apart, or every character (half the codes are left as they are).
                let spaced =
                    |part: String| part.chars().map(String::from).collect::<Vec<_>>().join(" ");
                let code = match spacing {
                    0 => format!("{day:02} {month:02} {year:02}{written}{number:03}{check}"),
                    1 => format!("{day:02}{month:02}{year:02}{written}{number:03} {check}"),
                    2 => format!(
                        "{}{written}{} {check}",
                        spaced(format!("{day:02}{month:02}{year:02}")),
                        spaced(format!("{number:03}"))
                    ),
                    _ => format!("{day:02}{month:02}{year:02}{written}{number:03}{check}"),
                };
                let code = if lower { code.to_lowercase() } else { code };
                Some((code, digits))
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_500, ..ProptestConfig::default() })]

    #[test]
    fn no_identity_code_survives(
        (code, digits) in identity_code(),
        sentence in select(CODE_SENTENCES),
    ) {
        assert_removed(sentence, &code, &[&digits])?;
    }
}

// ---- phone numbers ----

const PHONE_SENTENCES: &[&str] = &[
    "Soittakaa minulle numeroon {} kiitos",
    "Numeroni on {}.",
    "Puh. {} tai sähköposti",
    "Ring mig på {} tack",
    "Mitt nummer är {}.",
    "Please call me at {} tomorrow",
    "My number is {}.",
];

const MOBILE_PREFIXES: &[&str] = &[
    "040", "041", "042", "043", "044", "045", "046", "049", "050", "0457",
];
const AREA_CODES: &[&str] = &[
    "02", "03", "05", "06", "08", "09", "013", "014", "015", "016", "017", "019",
];

#[derive(Debug, Clone, Copy)]
enum PhoneForm {
    /// 040 ...
    National,
    /// (040) ...
    Parenthesised,
    /// +358 40 ...
    Plus,
    /// +358 (0)40 ...
    PlusTrunk,
    /// 00358 40 ...
    DoubleZero,
}

/// Separators: after the area code, and between the subscriber number's groups. Full stops and
/// slashes as people use them: "040.123.4567", "040/123 4567".
const SEPARATORS: &[(&str, &str)] = &[
    (" ", " "),
    ("-", "-"),
    ("-", " "),
    ("–", " "),
    ("–", "–"),
    ("—", "—"),
    ("‑", "‑"),
    (" – ", " "),
    (" - ", " "),
    (".", "."),
    ("/", " "),
    ("/", ""),
    ("\u{00A0}", "\u{00A0}"),
    ("\u{202F}", "\u{202F}"),
    ("\u{2009}", "\u{2009}"),
    (" ", ""),
    ("", ""),
];

/// Splits `len` digits into groups of at least two: `cuts` are the sizes tried in turn, the
/// rest is the last group. With a full stop or slash the first group has three or more, as
/// "09.12.34.56" is a date and a time to any reader.
fn group_sizes(len: usize, cuts: &[usize], wide_first: bool) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut rest = len;
    for &cut in cuts {
        let cut = if sizes.is_empty() && wide_first {
            cut.max(3)
        } else {
            cut
        };
        if rest >= cut + 2 {
            sizes.push(cut);
            rest -= cut;
        }
    }
    sizes.push(rest);
    sizes
}

/// A phone number as someone might write it, and its digits.
fn phone() -> impl Strategy<Value = (String, String)> {
    let mobile = (select(MOBILE_PREFIXES), 6usize..=7)
        .prop_map(|(prefix, len)| (prefix, if prefix.len() == 4 { 7 } else { len }));
    let landline = (select(AREA_CODES), 5usize..=8);
    (
        prop_oneof![mobile, landline],
        "[1-9][0-9]{7}",
        prop::collection::vec(2usize..=4, 0..=3),
        select(SEPARATORS),
        prop_oneof![
            4 => Just(PhoneForm::National),
            1 => Just(PhoneForm::Parenthesised),
            3 => Just(PhoneForm::Plus),
            1 => Just(PhoneForm::PlusTrunk),
            1 => Just(PhoneForm::DoubleZero),
        ],
    )
        .prop_map(
            |((area, len), subscriber, cuts, (after_area, within), form)| {
                let subscriber = &subscriber[..len];
                let wide_first = [after_area, within].iter().any(|s| s.contains(['.', '/']));
                let mut groups = Vec::new();
                let mut at = 0;
                for size in group_sizes(len, &cuts, wide_first) {
                    groups.push(&subscriber[at..at + size]);
                    at += size;
                }
                let subscriber = groups.join(within);
                let national = &area[1..];
                let written = match form {
                    PhoneForm::National => format!("{area}{after_area}{subscriber}"),
                    PhoneForm::Parenthesised => format!("({area}) {subscriber}"),
                    PhoneForm::Plus => format!("+358 {national}{after_area}{subscriber}"),
                    PhoneForm::PlusTrunk => format!("+358 (0){national} {subscriber}"),
                    PhoneForm::DoubleZero => format!("00358 {national}{after_area}{subscriber}"),
                };
                let digits = digits_of(&written);
                (written, digits)
            },
        )
}

/// What comes between two numbers given in a row.
const BETWEEN_PHONES: &[&str] = &[
    " ", ", ", " / ", "/", " tai ", " eller ", " or ", "; ", " – ", "\u{00A0}",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn no_phone_number_survives(
        (phone, digits) in phone(),
        sentence in select(PHONE_SENTENCES),
    ) {
        assert_removed(sentence, &phone, &[&digits])?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_500, ..ProptestConfig::default() })]

    #[test]
    fn no_phone_number_given_in_a_row_survives(
        (first, first_digits) in phone(),
        (second, second_digits) in phone(),
        between in select(BETWEEN_PHONES),
        sentence in select(PHONE_SENTENCES),
    ) {
        let phones = format!("{first}{between}{second}");
        assert_removed(sentence, &phones, &[&first, &second, &first_digits, &second_digits])?;
        // What was written between them stays: they are two numbers, not one.
        let text = sentence.replace("{}", &phones);
        let redacted = redact(&text);
        prop_assert_eq!(redacted.found.len(), 2, "{:?} -> {:?}", text, redacted.text);
    }
}

// ---- e-mail addresses ----

const EMAIL_SENTENCES: &[&str] = &[
    "Vastatkaa osoitteeseen {} kiitos",
    "Sähköpostini on {}.",
    "Skriv till mig på {} tack",
    "Min e-post är {}.",
    "Contact me at {} please",
    "Reach me at {}.",
    "My address is {}",
];

const AT_SIGNS: &[&str] = &[
    "@", " @ ", "(at)", "[at]", "{at}", " at ", " AT ", "(a)", "[a]", " (at) ", " [at] ", "(AT)",
    "＠",
];

const TOP_LEVEL_DOMAINS: &[&str] = &["fi", "se", "com", "org", "net", "eu", "info", "ax"];

/// An e-mail address as someone might hide it, its mailbox and its domain.
fn email() -> impl Strategy<Value = (String, String, String)> {
    (
        "[a-z]{2,8}",
        select(&[".", "_", "-"][..]),
        "[a-zåäö]{2,8}[0-9]{0,2}",
        proptest::option::of("[a-z]{2,6}"),
        select(AT_SIGNS),
        prop::collection::vec("[a-z]{2,6}", 0..=2),
        "[a-z]{3,10}",
        select(TOP_LEVEL_DOMAINS),
        prop_oneof![5 => Just("."), 1 => Just("(dot)"), 1 => Just(" dot ")],
    )
        .prop_map(
            |(first, joiner, last, tag, at, subdomains, name, tld, dot)| {
                let tag = tag.map(|tag| format!("+{tag}")).unwrap_or_default();
                let mailbox = format!("{first}{joiner}{last}{tag}");
                let mut labels = subdomains;
                labels.push(name);
                labels.push(tld.to_owned());
                let domain = labels.join(dot);
                (format!("{mailbox}{at}{domain}"), mailbox, domain)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn no_email_address_survives(
        (address, mailbox, domain) in email(),
        sentence in select(EMAIL_SENTENCES),
    ) {
        assert_removed(sentence, &address, &[&mailbox, &domain])?;
    }
}

// ---- look-alikes ----

/// A date, time, price, case number, year, score, duration or ordinary number as feedback
/// writes them.
fn look_alike() -> impl Strategy<Value = String> {
    let date =
        (1u32..=28, 1u32..=12, 1990u32..=2030, 0usize..6).prop_map(
            |(d, m, y, style)| match style {
                0 => format!("{d}.{m}.{y}"),
                1 => format!("{d:02}.{m:02}.{y}"),
                2 => format!("{d:02}.{m:02}."),
                3 => format!("{y}-{m:02}-{d:02}"),
                4 => format!("{d:02}/{m:02}/{y}"),
                _ => format!("{d}.{m}.{:02}", y % 100),
            },
        );
    let time =
        (0u32..=23, 0u32..=59, 0u32..=23, 0usize..6).prop_map(|(h, m, h2, style)| match style {
            0 => format!("klo {h}.{m:02}"),
            1 => format!("{h:02}:{m:02}"),
            2 => format!("{h:02}.{m:02}"),
            3 => format!("{h:02}.{m:02}–{h2:02}.00"),
            4 => format!("{h:02}.{m:02}-{h2:02}.{m:02}"),
            _ => format!("klo {h}–{h2}"),
        });
    let price = (0u32..10_000, 0u32..100, 0u32..1000, 0usize..4).prop_map(
        |(euros, cents, thousands, style)| match style {
            0 => format!("{euros},{cents:02} €"),
            1 => format!("{euros} €"),
            2 => format!("0,{cents:02} €"),
            _ => format!("{} {thousands:03},{cents:02} €", euros % 1000 + 1),
        },
    );
    let case_number =
        (1u32..10_000, 1990u32..=2030, 0usize..4).prop_map(|(n, y, style)| match style {
            0 => format!("{y}/{n}"),
            1 => format!("{n}/{y}"),
            2 => format!("Dnro {n:04}/{y}"),
            _ => format!("THL/{n}/{y}"),
        });
    let year = (1900u32..=2100).prop_map(|y| y.to_string());
    let score = (0u32..=10, 0usize..3).prop_map(|(s, style)| match style {
        0 => format!("{s}/10"),
        1 => format!("{}/5", s % 6),
        _ => format!("{s} / 10"),
    });
    let duration = (0u32..=12, 0u32..=59, 0usize..3).prop_map(|(h, m, style)| match style {
        0 => format!("{h} h {m} min"),
        1 => format!("{h} h {m:02} min"),
        _ => format!("{m} min"),
    });
    let ordinary = (0u32..1_000_000, 0usize..3).prop_map(|(n, style)| match style {
        0 => n.to_string(),
        1 => format!("{:04}", n % 10_000),
        _ => format!("{n} %"),
    });
    prop_oneof![
        date,
        time,
        price,
        case_number,
        year,
        score,
        duration,
        ordinary
    ]
}

const WORDS: &[&str] = &[
    "odotin",
    "vastaanotolla",
    "kiitos",
    "maksoin",
    "sain",
    "ajan",
    "jonossa",
    "väntade",
    "betalade",
    "tack",
    "besöket",
    "waited",
    "paid",
    "thanks",
    "the",
    "visit",
    "at",
    "on",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_500, ..ProptestConfig::default() })]

    #[test]
    fn look_alikes_survive_unchanged(
        parts in prop::collection::vec((select(WORDS), look_alike()), 1..=3),
        last in select(WORDS),
        end in select(&["", ".", "!", ","][..]),
    ) {
        let mut text = String::new();
        for (word, value) in &parts {
            text.push_str(&format!("{word} {value} "));
        }
        text.push_str(last);
        text.push_str(end);
        let redacted = redact(&text);
        prop_assert_eq!(&redacted.text, &text);
        prop_assert!(redacted.found.is_empty());
    }
}
