//! Removes direct identifiers from open feedback before it is stored anywhere.
//!
//! Respondents write things like "soittakaa 040 123 4567" or their personal identity code into
//! the open question. Feedback is anonymous statistics, so such text is replaced by a
//! placeholder that says what was there ("[puhelinnumero]") and the original never reaches the
//! event stream. Contact requests belong to feedback handling, which keeps contact details
//! apart from the statistics.
//!
//! Identifiers are matched in the forms people (and their phones and word processors) type
//! them, not only the official ones: identity codes without their separator, with spaces
//! around it, with an en dash or another Unicode dash for the hyphen, in lower case; phone
//! numbers grouped with spaces, no-break spaces, hyphens, dashes, full stops or slashes, several
//! in a row; e-mail addresses written "matti(at)example.fi", "[at]", " at " or "(a)". Look-alikes
//! that feedback is full of (dates, clock times, prices, case numbers, scores, durations) stay.
//!
//! Identity codes are recognised by their shape and a real calendar date (century from the
//! sign, every sign including those added in 2023). Written with its own separator (a century
//! sign, or a dash standing for the hyphen) a code is removed even when its check character is
//! wrong: a code with one digit mistyped still identifies a person. Without a separator, or
//! with spaces only or a spaced letter, the check character must match, or any ten-character
//! reference number would go (the reasons are at `Separator::needs_check`). Phone numbers err
//! on the side of removal the same way.
//!
//! Person names need a morphological analyser (Finnish inflects them: "Matille",
//! "Virtasen"), which this pure crate does not link: the caller passes one as [`NameSpans`]
//! to [`redact_with`] (response-intake passes kaiku-names' finder, which uses libvoikko).
//! [`redact`] alone leaves names in place (see ADR 0003).

use std::cmp::Reverse;
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

// ---- characters people put between the parts of an identifier ----

/// Spaces inside an identifier, as a regex class: the ordinary one and those that phones and
/// word processors insert (no-break U+00A0, figure U+2007, thin U+2009, narrow no-break
/// U+202F). Never a line break: an identifier does not continue on the next line.
const SPACE_CLASS: &str = r"[ \u{00A0}\u{2007}\u{2009}\u{202F}]";

/// The dashes that stand in for a hyphen-minus, as a regex class: hyphen and non-breaking
/// hyphen, figure dash, en and em dash, horizontal bar (U+2010-U+2015), minus sign, small and
/// full-width hyphen-minus. Word processors turn " - " into " – ", phones "--" into "—".
const DASH_CLASS: &str = r"[\u{2010}-\u{2015}\u{2212}\u{FE58}\u{FE63}\u{FF0D}]";

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\u{00A0}' | '\u{2007}' | '\u{2009}' | '\u{202F}')
}

/// The hyphen-minus or one of the dashes of [`DASH_CLASS`].
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}'
    )
}

// ---- personal identity codes ----

// Date part, separator, individual number, check character. The separator is a century sign
// (- + A, and since 2023 also B-F and U-Y; written `[-+A-FU-Y]`, as `[+-A]` would be a range),
// a dash for the hyphen, up to two spaces on either side, or nothing. Which of these it is
// decides the century and whether the check character must match: see [`Separator`]. The code
// may follow a letter ("hetu131052-308T", typed in a hurry) but not a digit, which would make
// it the tail of a longer number. A single space may also come between any two characters of the
// date part or the number, or before the check character ("13 10 52-308T", "1 3 1 0 5 2 - 3 0 8
// T", "131052-308 T"), as when a code is read out or spaced to hide it; such a match must have
// the right check character, like a code without its separator.
static IDENTITY_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)(?:^|[^0-9])(?P<code>(?P<day>0{S}[1-9]|[12]{S}[0-9]|3{S}[01]){S}(?P<month>0{S}[1-9]|1{S}[0-2]){S}(?P<year>[0-9]{S}[0-9])(?P<separator>{SPACE_CLASS}{{0,2}}(?:[-+A-FU-Y]|{DASH_CLASS}|[./])?{SPACE_CLASS}{{0,2}})(?P<number>[0-9]{S}[0-9]{S}[0-9])(?P<before_check>{S})(?P<check>[0-9A-Y]))\b",
        S = format!("{SPACE_CLASS}?"),
    ))
    .expect("identity code pattern is valid")
});

/// How the date part and the individual number of a code are separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Separator {
    /// A century sign alone, as the code is written officially: "131052-308T", "010594Y9032".
    Sign(char),
    /// A hyphen with spaces around it, or any other dash: "131052 - 308T", "131052–308T".
    Dash,
    /// A century letter or plus with spaces around it: "131052 A 308T".
    SpacedSign(char),
    /// Nothing, or spaces only: "131052308T", "131052 308T".
    Missing,
    /// A full stop or a slash, as some type it: "131052.308T", "131052/308T".
    Odd,
}

impl Separator {
    fn of(separator: &str) -> Self {
        let spaced = separator.chars().any(is_space);
        match separator.chars().find(|c| !is_space(*c)) {
            None => Self::Missing,
            Some('.' | '/') => Self::Odd,
            Some('-') if !spaced => Self::Sign('-'),
            Some(c) if is_dash(c) => Self::Dash,
            Some(c) if spaced => Self::SpacedSign(c.to_ascii_uppercase()),
            Some(c) => Self::Sign(c.to_ascii_uppercase()),
        }
    }

    /// The first year of the century the separator names; None when it names none.
    fn century(self) -> Option<i32> {
        match self {
            Self::Sign(sign) | Self::SpacedSign(sign) => Some(match sign {
                '+' => 1800,
                'A'..='F' => 2000,
                _ => 1900, // - and U-Y
            }),
            // A dash is a hyphen typed by other means: the 1900s.
            Self::Dash => Some(1900),
            Self::Missing | Self::Odd => None,
        }
    }

    /// Whether a match must have the right check character to be taken for a code.
    ///
    /// Without a separator (or with spaces only) the shape is ten characters that any
    /// reference number, product code or run of digits can take, so the check character (one
    /// chance in 31 by accident) is what tells a code apart. A spaced letter or plus is as rare
    /// in real text as a mistyped code, so it is held to the same test. A dash is different:
    /// it is the code's own hyphen after a word processor (" - " becomes " – ") or a phone
    /// keyboard got to it, "DDMMYY–NNNC" with a real date is as distinctive as with a hyphen,
    /// and requiring the check there would let a code with one wrong digit through on a path
    /// where the same code with a plain hyphen is caught. So dashes are treated as the hyphen.
    fn needs_check(self) -> bool {
        matches!(self, Self::SpacedSign(_) | Self::Missing | Self::Odd)
    }
}

/// The birth date an identity-code match encodes, if it is a real date. A code without a
/// century is dated in the 2000s: the date part is valid there whenever it is in any century
/// (29 February of a year 00 exists only in 2000).
fn birth_date(captures: &Captures, separator: Separator) -> Option<chrono::NaiveDate> {
    let year =
        separator.century().unwrap_or(2000) + digits(&captures["year"]).parse::<i32>().ok()?;
    let month = digits(&captures["month"]).parse().ok()?;
    let day = digits(&captures["day"]).parse().ok()?;
    chrono::NaiveDate::from_ymd_opt(year, month, day)
}

/// Whether the match's check character is the one its date part and number give.
fn check_character_matches(captures: &Captures) -> bool {
    const CHECK_CHARACTERS: &[u8] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";
    let number = format!(
        "{}{}{}{}",
        digits(&captures["day"]),
        digits(&captures["month"]),
        digits(&captures["year"]),
        digits(&captures["number"])
    );
    let Ok(number) = number.parse::<u64>() else {
        return false;
    };
    let Ok(index) = usize::try_from(number % 31) else {
        return false;
    };
    captures["check"]
        .bytes()
        .next()
        .is_some_and(|check| check.to_ascii_uppercase() == CHECK_CHARACTERS[index])
}

/// A part of a match without the spaces inside it.
fn digits(part: &str) -> String {
    part.chars().filter(char::is_ascii_digit).collect()
}

/// Whether a match has a space inside its date part or number, or before its check character.
fn spaced_inside(captures: &Captures) -> bool {
    ["day", "month", "year", "number", "before_check"]
        .iter()
        .any(|part| {
            captures
                .name(part)
                .is_some_and(|m| m.as_str().chars().any(is_space))
        })
        || captures
            .name("code")
            .zip(captures.name("separator"))
            .is_some_and(|(code, separator)| {
                // Between day and month, or month and year.
                code.as_str()[..separator.start() - code.start()]
                    .chars()
                    .any(is_space)
            })
}

/// Whether an identity-code match is to be removed.
fn is_identity_code(captures: &Captures) -> bool {
    let separator = Separator::of(&captures["separator"]);
    birth_date(captures, separator).is_some()
        && (!(separator.needs_check() || spaced_inside(captures))
            || check_character_matches(captures))
}

/// Whether `code` is a well-formed personal identity code, written officially (a century sign
/// between date and number, no spaces), with the right check character.
pub fn is_valid_personal_identity_code(code: &str) -> bool {
    let Some(captures) = IDENTITY_CODE.captures(code) else {
        return false;
    };
    let separator = Separator::of(&captures["separator"]);
    captures["code"].len() == code.len()
        && matches!(separator, Separator::Sign(_))
        && !spaced_inside(&captures)
        && birth_date(&captures, separator).is_some()
        && check_character_matches(&captures)
}

// ---- e-mail addresses ----

/// The part before the at sign. Letters of any script: "jörgen@" must not leave "jö" behind.
const LOCAL_PART: &str = r"[\p{L}\p{N}_][\p{L}\p{N}._%+\-]*";

/// A domain with at least two labels and a top-level domain of letters; a dot may be written
/// "(dot)", "[piste]" or " dot " by someone hiding the address from harvesters, or have spaces
/// before it ("example .fi"; not after, where a sentence would go on).
static DOMAIN: LazyLock<String> = LazyLock::new(|| {
    let label = r"[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?";
    let dot = format!(
        r"(?:\.|{SPACE_CLASS}+\.|{SPACE_CLASS}*[(\[{{<]{SPACE_CLASS}*(?i:dot|piste|punkt){SPACE_CLASS}*[)\]}}>]{SPACE_CLASS}*|{SPACE_CLASS}+(?i:dot){SPACE_CLASS}+)"
    );
    format!(r"{label}(?:{dot}{label})*{dot}\p{{L}}{{2,}}")
});

// An address with an at sign, or one written "(at)", "[at]", "{at}", "<at>", "(a)", "(ät)",
// spaces allowed around it. None of these is how a sentence reads, so every match is removed.
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    let at = format!(
        r"{SPACE_CLASS}*(?:@|＠|[(\[{{<]{SPACE_CLASS}*(?i:at|ät|a|@){SPACE_CLASS}*[)\]}}>]){SPACE_CLASS}*"
    );
    Regex::new(&format!("{LOCAL_PART}{at}{}", *DOMAIN)).expect("e-mail pattern is valid")
});

// An address written with the word: "matti at example.fi". English sentences use the same
// word ("look at kela.fi"), so matches go through [`bare_at_spans`].
static EMAIL_WITH_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?P<local>{LOCAL_PART}){SPACE_CLASS}+(?i:at){SPACE_CLASS}+(?P<domain>{})",
        *DOMAIN
    ))
    .expect("e-mail pattern is valid")
});

/// English words that come before "at" in a sentence and are nobody's mailbox: "me at
/// kela.fi" is a web address in "write to me at kela.fi", as is "log in at omakanta.fi". A
/// heuristic: another word before "at" and a domain ("she teaches at kela.fi") is taken for an
/// address, which costs the sentence two words rather than let "matti at example.fi" through.
const NOT_MAILBOXES: &str = "me us you him her them it am is are was were be been in on up \
    out look looked looking arrive arrived work works worked working live lives lived stay \
    stayed meet met apply applied book booked find found online available";

/// Whether `local`, before the word "at", can be a mailbox: not a word of [`NOT_MAILBOXES`],
/// and with a letter in it ("9.30 at kela.fi" is a time).
fn may_be_mailbox(local: &str) -> bool {
    local.chars().any(char::is_alphabetic)
        && !NOT_MAILBOXES
            .split_whitespace()
            .any(|word| word.eq_ignore_ascii_case(local))
}

/// The addresses written with the word "at". A match whose domain is itself followed by " at
/// <domain>" is the word "at" and the start of an address ("me at matti.k at example.fi"):
/// the search goes on from its domain, as it does after what cannot be a mailbox.
fn bare_at_spans(text: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(captures) = EMAIL_WITH_WORD.captures_at(text, from) {
        let (Some(whole), Some(local), Some(domain)) = (
            captures.get(0),
            captures.name("local"),
            captures.name("domain"),
        ) else {
            break;
        };
        let word = !may_be_mailbox(local.as_str());
        let continues = EMAIL_WITH_WORD
            .find_at(text, domain.start())
            .is_some_and(|next| next.start() == domain.start());
        if word || continues {
            from = domain.start();
        } else {
            spans.push(whole.range());
            from = whole.end();
        }
    }
    spans
}

// ---- phone numbers ----

// Finnish numbers in the ways people write them: 040 123 4567, 040-1234567, 040.123.4567,
// 040/123 4567, (09) 123 4567, +358 40 123 4567, +358 (0)40 123 4567, 00358401234567, with any
// of the spaces and dashes above, and foreign numbers after a +. Letters right after a number
// do not end it: "040 1234567kiitos" is still a phone number.
//
// A single regex cannot tell two numbers in a row ("040 123 4567 050 765 4321") from one, nor
// "06.12.2026" from "06 12 2026", so digit groups are read one by one: see [`Run`].

/// Fewest digits a number has (a short landline number with its area code), not counting a
/// leading + or 00.
const MIN_PHONE_DIGITS: usize = 7;
/// Most digits a number written in the national form has, trunk prefix 0 included.
const MAX_NATIONAL_DIGITS: usize = 12;
/// Most digits an international number has (E.164), country code included.
const MAX_INTERNATIONAL_DIGITS: usize = 15;

static DIGITS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("[0-9]+").expect("digits pattern is valid"));

/// How the text between two digit groups joins them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gap {
    /// A space or a parenthesis, or a dash with spaces around it: "040 123", "(09) 123",
    /// "+358 (0)40", "040 - 123".
    Space,
    /// A dash (or an underscore) alone: "040-1234567", "2026-12-06", "040_123_4567".
    Dash,
    /// A full stop alone: "040.123.4567", "6.12.2026", "14.30".
    Dot,
    /// A slash alone: "040/1234567", "2025/1234", "9/10".
    Slash,
}

/// How `between` joins the digit groups on either side of it, if it does. At most a closing
/// parenthesis, a space, a dash, a space and an opening parenthesis, in that order, or a full
/// stop or slash alone: ". " ends a sentence, and a comma or a word ends a number.
fn gap(between: &str) -> Option<Gap> {
    match between {
        "" => return None,
        "." => return Some(Gap::Dot),
        "/" => return Some(Gap::Slash),
        // "040_123_4567": an underscore is no sentence's punctuation; read it as a dash.
        "_" => return Some(Gap::Dash),
        _ => {}
    }
    let mut chars = between.chars().peekable();
    chars.next_if_eq(&')');
    let space_before = chars.next_if(|c| is_space(*c)).is_some();
    let dash = chars.next_if(|c| is_dash(*c)).is_some();
    let space_after = dash && chars.next_if(|c| is_space(*c)).is_some();
    chars.next_if_eq(&'(');
    if chars.next().is_some() {
        return None;
    }
    Some(if dash && !space_before && !space_after {
        Gap::Dash
    } else {
        Gap::Space
    })
}

/// How a number is written: nationally with the trunk prefix 0, or internationally after a +
/// or 00.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefix {
    National,
    International,
}

impl Prefix {
    fn max_digits(self) -> usize {
        match self {
            Self::National => MAX_NATIONAL_DIGITS,
            Self::International => MAX_INTERNATIONAL_DIGITS,
        }
    }
}

/// A phone number being read: groups `first..=last` of a run.
#[derive(Debug, Clone, Copy)]
struct Number {
    first: usize,
    last: usize,
    prefix: Prefix,
    /// Digits counted against the limits (a leading 00 is not).
    digits: usize,
}

impl Number {
    fn groups(&self) -> usize {
        self.last - self.first + 1
    }

    fn is_valid(&self) -> bool {
        (MIN_PHONE_DIGITS..=self.prefix.max_digits()).contains(&self.digits)
    }
}

/// Digit groups joined by [`Gap`]s: where phone numbers, dates and the like are looked for.
struct Run<'t> {
    text: &'t str,
    groups: Vec<Range<usize>>,
    /// How each group joins the one before it; None for the first.
    gaps: Vec<Option<Gap>>,
}

/// The runs of digit groups in `text`.
fn runs(text: &str) -> Vec<Run<'_>> {
    let mut runs: Vec<Run> = Vec::new();
    for group in DIGITS.find_iter(text).map(|m| m.range()) {
        let joined = runs
            .last()
            .and_then(|run| run.groups.last())
            .and_then(|last| gap(&text[last.end..group.start]));
        match (runs.last_mut(), joined) {
            (Some(run), Some(gap)) => {
                run.groups.push(group);
                run.gaps.push(Some(gap));
            }
            _ => runs.push(Run {
                text,
                groups: vec![group],
                gaps: vec![None],
            }),
        }
    }
    runs
}

impl Run<'_> {
    fn digits(&self, i: usize) -> &str {
        &self.text[self.groups[i].clone()]
    }

    fn value(&self, i: usize) -> u32 {
        self.digits(i).parse().unwrap_or(u32::MAX)
    }

    fn gap(&self, i: usize) -> Option<Gap> {
        self.gaps.get(i).copied().flatten()
    }

    fn is_year(&self, i: usize) -> bool {
        let digits = self.digits(i);
        digits.len() == 4 && (digits.starts_with("19") || digits.starts_with("20"))
    }

    /// The phone numbers in the run, as byte ranges of the text.
    ///
    /// Of all the ways to read the run as numbers, the one that covers the most digits, and
    /// of those the one with the fewest numbers: "040 123 4567 050 765 4321" is two numbers
    /// (one cannot have 20 digits), "040 1000 01 040 100000" two as well (ending the first at
    /// "1000", as the 01 could begin a number, would leave the 01 behind), "040 123 0567" one.
    /// Runs are short and a number has at most 15 digits, so trying every number at every
    /// group is cheap.
    fn phone_numbers(&self) -> Vec<Range<usize>> {
        let blocked = self.look_alikes();
        let n = self.groups.len();
        // best[i]: digits covered and numbers used (fewer is better) reading groups i..;
        // chosen[i]: the last group of the number that begins at i in that reading, if any.
        let mut best = vec![(0, Reverse(0)); n + 1];
        let mut chosen = vec![None; n + 1];
        for i in (0..n).rev() {
            best[i] = best[i + 1];
            for number in self.numbers_from(i, &blocked) {
                let (covered, Reverse(count)) = best[number.last + 1];
                let reading = (covered + number.digits, Reverse(count + 1));
                if reading > best[i] {
                    best[i] = reading;
                    chosen[i] = Some(number);
                }
            }
        }
        let mut found = Vec::new();
        let mut i = 0;
        while i < n {
            match chosen[i] {
                Some(number) => {
                    found.extend(self.span(&number));
                    i = number.last + 1;
                }
                None => i += 1,
            }
        }
        found
    }

    /// Every valid number that begins at group `i`, shortest first.
    fn numbers_from(&self, i: usize, blocked: &[bool]) -> Vec<Number> {
        let Some(prefix) = (!blocked[i]).then(|| self.prefix(i)).flatten() else {
            return Vec::new();
        };
        let mut number = self.start(i, prefix);
        let mut numbers = Vec::new();
        loop {
            if number.is_valid() {
                numbers.push(number);
            }
            let next = number.last + 1;
            match self.fits(&number, next) {
                Some(digits) if !blocked[next] => {
                    number.last = next;
                    number.digits = digits;
                }
                _ => return numbers,
            }
        }
    }

    /// Whether group `i` can begin a number, and how it is written. A number begins with its
    /// trunk prefix 0 (or 00) or after a +, at the start of the run or after a space or slash:
    /// after a full stop or dash it is the rest of a date or of the number before. Not inside a
    /// word ("ABC0401234567"), not a lone 0 (the "(0)" of "+358 (0)40", or just zero), nor
    /// zeros alone ("1 000 000 000").
    fn prefix(&self, i: usize) -> Option<Prefix> {
        let digits = self.digits(i);
        let before = &self.text[..self.groups[i].start];
        match self.gap(i) {
            None => {
                let opened = before.strip_suffix(['+', '(']).unwrap_or(before);
                if opened
                    .chars()
                    .next_back()
                    .is_some_and(char::is_alphanumeric)
                {
                    return None;
                }
                if before.ends_with('+') {
                    return Some(Prefix::International);
                }
            }
            Some(Gap::Space | Gap::Slash) => {}
            Some(Gap::Dot | Gap::Dash) => return None,
        }
        if !digits.starts_with('0') || digits.bytes().all(|b| b == b'0') {
            None
        } else if digits.starts_with("00") {
            Some(Prefix::International)
        } else {
            Some(Prefix::National)
        }
    }

    fn start(&self, i: usize, prefix: Prefix) -> Number {
        let digits = self.digits(i).len();
        let digits = match (prefix, self.digits(i).starts_with("00")) {
            (Prefix::International, true) => digits - 2,
            _ => digits,
        };
        Number {
            first: i,
            last: i,
            prefix,
            digits,
        }
    }

    /// The number's digits with group `i` added, if it can take it: within the length limit;
    /// a single digit only among the first three groups ("+358 (0)9 123 4567"), so that
    /// "040 123 4567 2 kertaa" keeps its 2; and in the national form not a second group that
    /// begins with 0, as a subscriber number never does ("06 040 123 4567" is a 06 and a
    /// number).
    fn fits(&self, number: &Number, i: usize) -> Option<usize> {
        let group = self.groups.get(i)?;
        let len = group.len();
        let digits = number.digits + len;
        let single = len < 2 && number.groups() >= 3;
        let second_from_zero = number.prefix == Prefix::National
            && number.groups() == 1
            && self.digits(i).starts_with('0');
        (digits <= number.prefix.max_digits() && !single && !second_from_zero).then_some(digits)
    }

    /// Where a valid number lies in the text, with the + or the opening parenthesis before it
    /// ("(09) 123 4567") when there is one.
    fn span(&self, number: &Number) -> Option<Range<usize>> {
        if !number.is_valid() {
            return None;
        }
        let first = &self.groups[number.first];
        let before = &self.text[..first.start];
        let closes = self.text[first.end..].starts_with(')');
        let start = if before.ends_with('+') || (before.ends_with('(') && closes) {
            first.start - 1
        } else {
            first.start
        };
        Some(start..self.groups[number.last].end)
    }

    /// Which groups belong to a date, a clock time or a case number, and so to no phone number.
    fn look_alikes(&self) -> Vec<bool> {
        let mut blocked = vec![false; self.groups.len()];
        for i in 0..self.groups.len() {
            let width = self.look_alike_at(i);
            for flag in blocked.iter_mut().skip(i).take(width) {
                *flag = true;
            }
        }
        blocked
    }

    /// How many groups from `i` on form a look-alike: a date (2026-12-06, 06/12/2026,
    /// 06.12.2026), a clock time (09.30, 09.00–16.00) or a case number (0123/2025). Only from
    /// the start of one: not after a full stop or slash, where `i` is the middle of something.
    fn look_alike_at(&self, i: usize) -> usize {
        if matches!(self.gap(i), Some(Gap::Dot | Gap::Slash)) {
            return 0;
        }
        if self.is_iso_date(i) || self.is_slashed_date(i) {
            3
        } else if self.is_clock_or_day_and_month(i) || self.is_case_number(i) {
            2
        } else {
            0
        }
    }

    /// The values of the `n` groups from `i` on, if there are that many and each has one or
    /// two digits.
    fn short_values(&self, i: usize, n: usize) -> Option<Vec<u32>> {
        (i..i + n)
            .map(|j| (j < self.groups.len() && self.digits(j).len() <= 2).then(|| self.value(j)))
            .collect()
    }

    /// 2026-12-06, standing apart: in "02-1900-01-01" the year-like group is a number's.
    fn is_iso_date(&self, i: usize) -> bool {
        i + 2 < self.groups.len()
            && self.gap(i) != Some(Gap::Dash)
            && self.is_year(i)
            && self.gap(i + 1) == Some(Gap::Dash)
            && self.gap(i + 2) == Some(Gap::Dash)
            && self
                .short_values(i + 1, 2)
                .is_some_and(|v| (1..=12).contains(&v[0]) && (1..=31).contains(&v[1]))
    }

    /// 06/12/2026 or 6/12/26, standing apart.
    fn is_slashed_date(&self, i: usize) -> bool {
        i + 2 < self.groups.len()
            && self.gap(i) != Some(Gap::Dash)
            && self.gap(i + 1) == Some(Gap::Slash)
            && self.gap(i + 2) == Some(Gap::Slash)
            && (self.digits(i + 2).len() == 2 || self.is_year(i + 2))
            && self
                .short_values(i, 2)
                .is_some_and(|v| (1..=31).contains(&v[0]) && (1..=12).contains(&v[1]))
    }

    /// 09.30 (hour and minutes) or 06.12 (day and month, a year may follow).
    fn is_clock_or_day_and_month(&self, i: usize) -> bool {
        if self.gap(i + 1) != Some(Gap::Dot) {
            return false;
        }
        let Some(v) = self.short_values(i, 2) else {
            return false;
        };
        let clock = self.digits(i + 1).len() == 2 && v[0] <= 23 && v[1] <= 59;
        let day_and_month = (1..=31).contains(&v[0]) && (1..=12).contains(&v[1]);
        clock || day_and_month
    }

    /// 0123/2025 or 2025/0123: a number and a year joined by a slash at the start of the run,
    /// alone in it or followed by another number ("Dnro 0123/2025 040 123 4567"). Not an area
    /// code and a subscriber number that begins like a year ("040/1900 0123", "040/1987 00").
    fn is_case_number(&self, i: usize) -> bool {
        if i != 0 {
            return false;
        }
        let alone = self.groups.len() == 2;
        let before_a_number = self.gap(2) == Some(Gap::Space) && self.prefix(2).is_some();
        let first = self.digits(0);
        let area_code = first.starts_with('0') && first.len() <= 3;
        self.gap(1) == Some(Gap::Slash)
            && (self.is_year(0) || self.is_year(1))
            && (alone || (before_a_number && !area_code))
    }
}

/// The phone numbers in `text`, as byte ranges in order.
fn phone_spans(text: &str) -> Vec<Range<usize>> {
    runs(text)
        .iter()
        .flat_map(|run| {
            let mut found = run.phone_numbers();
            for spelled in run.spelled_out_numbers() {
                if !found.iter().any(|f| overlaps(f, &spelled)) {
                    found.push(spelled);
                }
            }
            found.sort_by_key(|r| r.start);
            found
        })
        .collect()
}

impl Run<'_> {
    /// Numbers written a digit at a time with single spaces, as when read out or hidden from
    /// harvesters ("0 4 0 1 2 3 4 5 6 7"): at least [`MIN_PHONE_DIGITS`] one-digit groups in a
    /// row that begin with the trunk prefix 0 and a digit other than 0 (or 00 and one), at
    /// most as long as a number can be. Nobody lists seven digits beginning with 0 otherwise.
    fn spelled_out_numbers(&self) -> Vec<Range<usize>> {
        let single = |i: usize| self.groups[i].len() == 1;
        let spaced = |i: usize| {
            self.gap(i) == Some(Gap::Space)
                && self.text[self.groups[i - 1].end..self.groups[i].start].len() == 1
        };
        let mut found = Vec::new();
        let mut i = 0;
        while i < self.groups.len() {
            if !single(i) {
                i += 1;
                continue;
            }
            let mut end = i + 1;
            while end < self.groups.len() && single(end) && spaced(end) {
                end += 1;
            }
            let digits: String = (i..end).map(|j| self.digits(j)).collect();
            let (prefix, skip) = if digits.starts_with("00") {
                (Prefix::International, 2)
            } else {
                (Prefix::National, 0)
            };
            // The digit after the trunk prefix 0 (or after 00) begins an area or country code.
            let begins_right = digits.starts_with('0')
                && digits
                    .as_bytes()
                    .get(skip.max(1))
                    .is_some_and(|b| *b != b'0');
            let count = (digits.len() - skip).min(prefix.max_digits());
            if begins_right && count >= MIN_PHONE_DIGITS {
                found.push(self.groups[i].start..self.groups[i + skip + count - 1].end);
            }
            i = end;
        }
        found
    }
}

// ---- putting it together ----

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
    let text = normalise(text);
    let Redacted { text, mut found } = redact_identifiers(&text);
    let placeholders = placeholder_ranges(&text);
    let spans: Vec<Range<usize>> = names
        .name_spans(&text)
        .into_iter()
        .filter(|span| span.start < span.end && text.get(span.clone()).is_some())
        .filter(|span| !placeholders.iter().any(|p| overlaps(p, span)))
        .collect();
    let text = replace_spans(&text, spans, PersonalDataKind::PersonName, &mut found);
    Redacted { text, found }
}

/// What a reader sees, as the patterns can match it: invisible characters removed (a zero-width
/// space inside "131052\u{200b}-308T" or an address looks like nothing on screen and would
/// hide it from every pattern) and full-width letters, digits and signs ("１３１０５２-３０８Ｔ",
/// "＠") turned into their ordinary forms. Neither has a use in feedback worth keeping; the
/// stored text is the normalised one, so redaction stays idempotent.
fn normalise(text: &str) -> String {
    let chars: Vec<char> = text
        .chars()
        .filter(|c| {
            !matches!(
                c,
                '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
            )
        })
        .map(|c| match c {
            // Full-width forms of ASCII '!'..='~' are at a fixed offset from it.
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFF01 + 0x21).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect();
    // A letter O between two digits is a zero typed to hide a number ("131O52-3O8T"); no word
    // has it there.
    let digit_at = |i: Option<usize>| {
        i.and_then(|i| chars.get(i))
            .is_some_and(char::is_ascii_digit)
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| match c {
            'O' | 'o' if digit_at(i.checked_sub(1)) && digit_at(Some(i + 1)) => '0',
            _ => *c,
        })
        .collect()
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

/// `text` with each of `spans` (on character boundaries) replaced by `kind`'s placeholder and
/// counted in `found`; a span overlapping an earlier one is skipped.
fn replace_spans(
    text: &str,
    mut spans: Vec<Range<usize>>,
    kind: PersonalDataKind,
    found: &mut Vec<PersonalDataKind>,
) -> String {
    spans.sort_by_key(|span| span.start);
    let mut replaced = String::with_capacity(text.len());
    let mut copied = 0;
    for span in spans {
        if span.start < copied {
            continue;
        }
        replaced.push_str(&text[copied..span.start]);
        replaced.push_str(kind.placeholder());
        found.push(kind);
        copied = span.end;
    }
    replaced.push_str(&text[copied..]);
    replaced
}

// A UUID: the ids of cases, submissions and surveys that staff paste into texts and that the
// audit record names. One whose first segments are all digits ("01973456-7890-7…", as a
// UUIDv7 of today often is) reads as a phone number, and a mangled id is of no use to anyone.
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}\b")
        .expect("UUID pattern is valid")
});

/// `spans` without those that touch a UUID in `text`.
fn outside_uuids(text: &str, spans: Vec<Range<usize>>) -> Vec<Range<usize>> {
    let uuids: Vec<Range<usize>> = UUID.find_iter(text).map(|m| m.range()).collect();
    spans
        .into_iter()
        .filter(|span| !uuids.iter().any(|uuid| overlaps(uuid, span)))
        .collect()
}

/// The identity codes in `text`, as byte ranges in order. A match that a phone number reaches
/// past is part of that number, not a code: in "040 120345 – 0457 123 456" the middle reads
/// as a code, and taking it would leave "040" and "123 456" behind.
fn identity_code_spans(text: &str) -> Vec<Range<usize>> {
    let phones = phone_spans(text);
    let inside_a_phone_number = |code: &Range<usize>| {
        phones.iter().any(|phone| {
            overlaps(phone, code) && (phone.start < code.start || phone.end > code.end)
        })
    };
    IDENTITY_CODE
        .captures_iter(text)
        .filter(is_identity_code)
        .filter_map(|captures| captures.name("code").map(|m| m.range()))
        .filter(|code| !inside_a_phone_number(code))
        .collect()
}

fn redact_identifiers(text: &str) -> Redacted {
    let mut found = Vec::new();
    // Identity codes first: their digits would otherwise look like a phone number to the
    // later patterns. E-mail addresses before phone numbers, whose digits they may contain.
    let codes = outside_uuids(text, identity_code_spans(text));
    let text = replace_spans(
        text,
        codes,
        PersonalDataKind::PersonalIdentityCode,
        &mut found,
    );
    let addresses = EMAIL.find_iter(&text).map(|m| m.range()).collect();
    let text = replace_spans(&text, addresses, PersonalDataKind::EmailAddress, &mut found);
    let text = replace_spans(
        &text,
        bare_at_spans(&text),
        PersonalDataKind::EmailAddress,
        &mut found,
    );
    let phones = outside_uuids(&text, phone_spans(&text));
    let text = replace_spans(&text, phones, PersonalDataKind::PhoneNumber, &mut found);
    Redacted { text, found }
}

#[cfg(test)]
mod normalising_tests {
    use super::*;

    #[test]
    fn a_zero_width_character_inside_a_code_or_address_does_not_hide_it() {
        for text in [
            "Hetuni 131052\u{200b}-308T.",
            "Kirjoita matti.meikalainen\u{200b}@example.fi kiitos",
            "Soita 040\u{2060}123\u{feff}4567",
        ] {
            let out = redact(text);
            assert!(
                !out.text.contains("308T")
                    && !out.text.contains("example")
                    && !out.text.contains("4567"),
                "{text:?} -> {:?}",
                out.text
            );
            assert_eq!(redact(&out.text).text, out.text, "idempotent");
        }
    }

    #[test]
    fn a_code_with_a_full_stop_or_slash_is_caught_when_its_check_character_matches() {
        for text in ["Hetu 131052.308T kiitos", "hetu 131052/308T."] {
            let out = redact(text);
            assert!(!out.text.contains("308T"), "{text:?} -> {:?}", out.text);
        }
        // Ten characters of that shape with a wrong check character are something else.
        assert_eq!(redact("tilaus 131052/308A").text, "tilaus 131052/308A");
    }

    #[test]
    fn full_width_digits_and_signs_are_read_as_ordinary_ones() {
        let out = redact("Tunnus １３１０５２-３０８Ｔ ja posti matti＠example．fi");
        assert!(
            !out.text.contains("308") && !out.text.contains("example"),
            "{:?}",
            out.text
        );
        assert_eq!(redact(&out.text).text, out.text, "idempotent");
    }
}

#[cfg(test)]
mod tests {
    use super::PersonalDataKind::*;
    use super::*;
    use proptest::prelude::*;

    /// Asserts that `value`, put into each of `sentences` at "{}", is replaced by `kind`'s
    /// placeholder and nothing else changes.
    fn assert_replaced(value: &str, kind: PersonalDataKind, sentences: &[&str]) {
        for sentence in sentences {
            let redacted = redact(&sentence.replace("{}", value));
            assert_eq!(
                redacted.text,
                sentence.replace("{}", kind.placeholder()),
                "{value:?} in {sentence:?}"
            );
            assert_eq!(redacted.found, vec![kind], "{value:?} in {sentence:?}");
        }
    }

    /// Asserts that `text` comes out of redaction as it went in.
    fn assert_kept(text: &str) {
        let redacted = redact(text);
        assert_eq!(redacted.text, text);
        assert!(redacted.found.is_empty(), "{text:?}: {:?}", redacted.found);
    }

    const CODE_SENTENCES: &[&str] = &[
        "Henkilötunnukseni on {}, tarkistakaa.",
        "Mitt personbeteckning är {} och jag väntar.",
        "My identity code is {}.",
    ];

    const PHONE_SENTENCES: &[&str] = &[
        "Soittakaa numeroon {} kiitos",
        "Ring mig på {} tack",
        "Please call {}.",
    ];

    const EMAIL_SENTENCES: &[&str] = &[
        "Vastatkaa osoitteeseen {} kiitos",
        "Mejla mig: {}, tack",
        "Write to {} please.",
    ];

    // ---- identity codes ----

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
        // The check character does not depend on the sign: one date, every sign.
        for sign in "+-ABCDEFYXWVU".chars() {
            assert_replaced(
                &format!("131052{sign}308T"),
                PersonalIdentityCode,
                CODE_SENTENCES,
            );
        }
    }

    #[test]
    fn identity_code_without_separator_is_removed() {
        assert_replaced("131052308T", PersonalIdentityCode, CODE_SENTENCES);
        assert_replaced("010594 9032", PersonalIdentityCode, CODE_SENTENCES);
    }

    #[test]
    fn identity_code_with_spaced_separator_is_removed() {
        for code in [
            "131052 - 308T",
            "131052 -308T",
            "131052- 308T",
            "131052 A 308T",
            "131052\u{00A0}-\u{00A0}308T",
        ] {
            assert_replaced(code, PersonalIdentityCode, CODE_SENTENCES);
        }
    }

    #[test]
    fn identity_code_with_unicode_dash_is_removed() {
        // En dash, em dash, minus sign, non-breaking hyphen, figure dash, full-width hyphen.
        for dash in ['–', '—', '−', '\u{2011}', '\u{2012}', '－'] {
            assert_replaced(
                &format!("131052{dash}308T"),
                PersonalIdentityCode,
                CODE_SENTENCES,
            );
            assert_replaced(
                &format!("131052 {dash} 308T"),
                PersonalIdentityCode,
                CODE_SENTENCES,
            );
        }
    }

    #[test]
    fn identity_code_right_after_a_word_is_removed() {
        for (text, expected) in [
            ("hetu131052-308T kiitos", "hetu[henkilötunnus] kiitos"),
            ("HETU:131052308T.", "HETU:[henkilötunnus]."),
        ] {
            assert_eq!(redact(text).text, expected, "{text:?}");
        }
        // After a digit it is the tail of a longer number.
        assert_kept("Viite 9131052308T");
    }

    #[test]
    fn identity_code_in_lower_case_is_removed() {
        for code in ["131052a308t", "131052-308t", "131052308t", "010594y9032"] {
            assert_replaced(code, PersonalIdentityCode, CODE_SENTENCES);
        }
    }

    #[test]
    fn identity_code_with_its_separator_is_removed_even_with_a_wrong_check_character() {
        for code in ["131052-308U", "131052A308U", "131052–308U", "131052 - 308U"] {
            assert_replaced(code, PersonalIdentityCode, CODE_SENTENCES);
        }
    }

    #[test]
    fn ten_characters_without_a_separator_and_a_valid_check_character_are_kept() {
        for text in [
            "Tilausnumero 131052308U on väärä",
            "Referens 131052 308U, tack",
            "Reference 131052 A 308U please",
            // Not a date.
            "Koodi 321052308T ja 311352-308T",
        ] {
            assert_kept(text);
        }
    }

    #[test]
    fn check_character_validation() {
        assert!(is_valid_personal_identity_code("131052-308T"));
        assert!(is_valid_personal_identity_code("131052A308T"));
        assert!(!is_valid_personal_identity_code("131052-308U"));
        assert!(!is_valid_personal_identity_code("321052-308T"));
        assert!(!is_valid_personal_identity_code("x131052-308T"));
        // Redacted, but not how a code is written.
        assert!(!is_valid_personal_identity_code("131052308T"));
        assert!(!is_valid_personal_identity_code("131052 - 308T"));
    }

    // ---- phone numbers ----

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
            "+358 (0)40 123 4567",
            "+358 9 1234 5678",
            "040-123 4567",
            "+46 70 123 45 67",
        ] {
            let redacted = redact(&format!("Soittakaa {phone} kiitos"));
            assert_eq!(redacted.text, "Soittakaa [puhelinnumero] kiitos", "{phone}");
            assert_eq!(redacted.found, vec![PhoneNumber], "{phone}");
        }
    }

    #[test]
    fn two_phone_numbers_in_a_row_are_both_removed() {
        for (phones, between) in [
            ("040 123 4567 050 765 4321", " "),
            ("0401234567 0507654321", " "),
            ("+358 40 123 4567 +358 50 765 4321", " "),
            ("00358 40 123 4567 00358 50 765 4321", " "),
            ("09 123 4567 040 123 4567", " "),
            ("040 123 4567, 050 765 4321", ", "),
            ("040-1234567/050-7654321", "/"),
            ("040 123 4567 – 050 765 4321", " – "),
        ] {
            let expected = format!("[puhelinnumero]{between}[puhelinnumero]");
            for sentence in PHONE_SENTENCES {
                let redacted = redact(&sentence.replace("{}", phones));
                assert_eq!(
                    redacted.text,
                    sentence.replace("{}", &expected),
                    "{phones:?}"
                );
                assert_eq!(redacted.found, vec![PhoneNumber, PhoneNumber], "{phones:?}");
            }
        }
    }

    #[test]
    fn phone_numbers_with_dashes_dots_and_slashes_are_removed() {
        for phone in [
            "040–123 4567",
            "040–1234567",
            "040 – 123 4567",
            "040—123—4567",
            "040‑123‑4567",
            "040.123.4567",
            "09.123.4567",
            "+358.40.123.4567",
            "040/123 4567",
            "040/1234567",
            "09/123 4567",
        ] {
            assert_replaced(phone, PhoneNumber, PHONE_SENTENCES);
        }
    }

    #[test]
    fn phone_numbers_whose_groups_look_like_years_or_begin_with_zero_are_removed() {
        for phone in [
            "040/1900 00",
            "040/1987 0123",
            "+358 40/1900 00",
            "040 123 0567",
            "02-1900-01-01",
        ] {
            assert_replaced(phone, PhoneNumber, PHONE_SENTENCES);
        }
        let redacted = redact("Numerot 040-1000 01 – 040 100000 kiitos");
        assert_eq!(
            redacted.text,
            "Numerot [puhelinnumero] – [puhelinnumero] kiitos"
        );
    }

    #[test]
    fn phone_numbers_with_no_break_spaces_are_removed() {
        for space in ['\u{00A0}', '\u{202F}', '\u{2009}', '\u{2007}'] {
            assert_replaced(
                &format!("040{space}123{space}4567"),
                PhoneNumber,
                PHONE_SENTENCES,
            );
            assert_replaced(
                &format!("+358{space}40{space}123{space}4567"),
                PhoneNumber,
                PHONE_SENTENCES,
            );
        }
    }

    #[test]
    fn phone_number_at_the_end_of_a_sentence_keeps_its_full_stop() {
        let redacted = redact("Soittakaa numeroon 040 123 4567. Kiitos!");
        assert_eq!(redacted.text, "Soittakaa numeroon [puhelinnumero]. Kiitos!");
        let redacted = redact("Ring 09 123 4567. Numret 050 765 4321.");
        assert_eq!(
            redacted.text,
            "Ring [puhelinnumero]. Numret [puhelinnumero]."
        );
    }

    #[test]
    fn a_small_number_after_a_phone_number_is_kept() {
        let redacted = redact("Soitin 040 123 4567 2 kertaa");
        assert_eq!(redacted.text, "Soitin [puhelinnumero] 2 kertaa");
    }

    #[test]
    fn a_look_alike_next_to_a_phone_number_is_kept() {
        for (text, expected) in [
            (
                "6.12.2026 soitin 040 123 4567",
                "6.12.2026 soitin [puhelinnumero]",
            ),
            ("06.12.2026 040 123 4567", "06.12.2026 [puhelinnumero]"),
            ("2026-12-06 040 123 4567", "2026-12-06 [puhelinnumero]"),
            ("klo 09.30 040 123 4567", "klo 09.30 [puhelinnumero]"),
            (
                "040 123 4567 klo 09.00–16.00",
                "[puhelinnumero] klo 09.00–16.00",
            ),
            (
                "Dnro 0123/2025 040 123 4567",
                "Dnro 0123/2025 [puhelinnumero]",
            ),
        ] {
            assert_eq!(redact(text).text, expected, "{text:?}");
        }
    }

    #[test]
    fn a_code_shape_inside_phone_numbers_is_read_as_the_numbers() {
        // "120345 – 0457" reads as an identity code with a dash; the numbers reach past it.
        let redacted = redact("Soita 040 120345 – 0457 123 456");
        assert_eq!(redacted.text, "Soita [puhelinnumero] – [puhelinnumero]");
        assert_eq!(redacted.found, vec![PhoneNumber, PhoneNumber]);
        // A code that a number does not reach past is a code, whatever its digits.
        let redacted = redact("Soita 040 123 4567 010594-9032");
        assert_eq!(redacted.text, "Soita [puhelinnumero] [henkilötunnus]");
    }

    // ---- e-mail addresses ----

    #[test]
    fn email_addresses_are_removed() {
        let redacted = redact("Mejla mig: anna.k-svensson+kaiku@exempel.fi, tack");
        assert_eq!(redacted.text, "Mejla mig: [sähköposti], tack");
        assert_eq!(redacted.found, vec![EmailAddress]);
    }

    #[test]
    fn obfuscated_email_addresses_are_removed() {
        for address in [
            "matti(at)example.fi",
            "matti[at]example.fi",
            "matti at example.fi",
            "matti AT example.fi",
            "matti(a)example.fi",
            "matti (at) example.fi",
            "matti [at] example.fi",
            "matti{at}example.fi",
            "matti @ example.fi",
            "matti(at)example(dot)fi",
            "matti at example dot fi",
            "matti.virtanen[at]posti.example.fi",
        ] {
            assert_replaced(address, EmailAddress, EMAIL_SENTENCES);
        }
    }

    #[test]
    fn an_address_with_spaces_before_a_dot_is_removed() {
        for address in [
            "matti@example .fi",
            "matti @ example .fi",
            "matti(at)posti .example.fi",
        ] {
            assert_replaced(address, EmailAddress, EMAIL_SENTENCES);
        }
    }

    #[test]
    fn identity_codes_spaced_inside_are_removed_when_their_check_character_matches() {
        for code in [
            "13 10 52-308T",
            "131052-308 T",
            "1 3 1 0 5 2 - 3 0 8 T",
            "13 10 52 308 T",
            "131052-3 0 8T",
        ] {
            let redacted = redact(&format!("Hetuni on {code}, kiitos."));
            assert_eq!(
                redacted.text, "Hetuni on [henkilötunnus], kiitos.",
                "{code}"
            );
        }
        // Spaced inside, the check character must match: here it does not.
        for kept in ["13 10 52-308U", "131052-308 X"] {
            let text = format!("Viite {kept} kiitos");
            assert_eq!(redact(&text).text, text, "{kept}");
        }
        assert!(!is_valid_personal_identity_code("13 10 52-308T"));
    }

    #[test]
    fn a_letter_o_for_a_zero_hides_no_identity_code() {
        let redacted = redact("Tunnus 131O52-3O8T ja toinen 131o52-3o8T.");
        assert_eq!(
            redacted.text,
            "Tunnus [henkilötunnus] ja toinen [henkilötunnus]."
        );
        // Words keep their o's.
        assert_eq!(redact("Ovi 3 oli auki").text, "Ovi 3 oli auki");
    }

    #[test]
    fn a_phone_number_spelled_out_digit_by_digit_is_removed() {
        assert_replaced("0 4 0 1 2 3 4 5 6 7", PhoneNumber, PHONE_SENTENCES);
        assert_replaced("0 9 8 7 6 5 4 3", PhoneNumber, PHONE_SENTENCES);
        // Scores listed one by one are not a number.
        assert_kept("Annoin pisteet 1 2 3 4 5 6 7 8 9 eri kohtiin.");
        assert_kept("Vastasin 0 0 0 0 0 0 0 kertaa.");
    }

    #[test]
    fn a_phone_number_with_underscores_is_removed() {
        assert_replaced("040_123_4567", PhoneNumber, PHONE_SENTENCES);
    }

    #[test]
    fn email_addresses_with_plus_tags_and_subdomains_are_removed() {
        for address in [
            "matti.virtanen+palaute@example.fi",
            "matti+kaiku(at)mail.example.fi",
            "anna_k+1 at posti.kunta.example.fi",
            "jörgen.åberg@exempel.se",
            "m.v@a.b.c.example.co.uk",
        ] {
            assert_replaced(address, EmailAddress, EMAIL_SENTENCES);
        }
    }

    #[test]
    fn the_word_at_before_a_web_address_is_not_an_address() {
        assert_kept("I looked at omakanta.fi and it was down");
        assert_kept("Log in at omakanta.fi at 9.30 at the latest");
        let redacted = redact("Write to me at matti.k at example.fi thanks");
        assert_eq!(redacted.text, "Write to me at [sähköposti] thanks");
        let redacted = redact("Reach me at matti(at)example.fi.");
        assert_eq!(redacted.text, "Reach me at [sähköposti].");
    }

    // ---- look-alikes that stay ----

    #[test]
    fn dates_are_kept() {
        for text in [
            "Kävin 6.12.2026 vastaanotolla",
            "Kävin 06.12.2026 vastaanotolla",
            "Besöket 2026-12-06 var bra",
            "Visit on 06/12/2026 was fine",
            "Ajalla 6.–8.12.2026 ja 06.12.",
            "Aika 01.01.26 peruttiin",
        ] {
            assert_kept(text);
        }
    }

    #[test]
    fn times_are_kept() {
        for text in [
            "Odotin klo 14.30 asti",
            "Tiden 14:30 passade",
            "Aukioloaika klo 09.00–16.00, ma-pe 08.00-15.30",
            "Open 09.30 - 16.30 every day",
            "klo 8–16",
        ] {
            assert_kept(text);
        }
    }

    #[test]
    fn prices_are_kept() {
        for text in [
            "Maksoin 12,50 € käynnistä",
            "Avgiften 0,50 € är för hög",
            "It cost 1 200 € and 1 000 000 000 € in total",
        ] {
            assert_kept(text);
        }
    }

    #[test]
    fn case_numbers_are_kept() {
        for text in [
            "Asianumero 2025/1234 on kesken",
            "Dnro 0123/2025 käsiteltiin",
            "Ärende THL/1234/2025 pågår",
        ] {
            assert_kept(text);
        }
    }

    #[test]
    fn years_are_kept() {
        for text in [
            "Vuonna 2024 palvelu parani",
            "Sedan 1998 och 2025",
            "In 2026.",
        ] {
            assert_kept(text);
        }
    }

    #[test]
    fn scores_are_kept() {
        for text in ["Annan 9/10", "Betyg 0/10 och 10/10", "Score 7 / 10"] {
            assert_kept(text);
        }
    }

    #[test]
    fn durations_are_kept() {
        for text in [
            "Odotin 2 h 30 min",
            "Väntade 1 h 05 min",
            "Waited 45 min, then 0 h 50 min",
        ] {
            assert_kept(text);
        }
    }

    #[test]
    fn ordinary_feedback_with_numbers_is_left_alone() {
        for text in [
            "Kuraattori oli paikalla 3 kertaa viikossa, kiitos!",
            "Odotin 45 minuuttia 12.3.2025 klo 14.30",
            "Vuonna 2024 palvelu parani 10 %",
            "Huone 0123 oli kylmä",
            "Sain ajan 2 viikossa",
            "Postinumero 00100 Helsinki",
            "Jonossa oli 1 000 ihmistä ja 12 345 soittoa",
            "9B-luokalta 3 oppilasta",
        ] {
            assert_kept(text);
        }
    }

    #[test]
    fn uuids_are_kept() {
        for text in [
            "case:01973456-7890-7123-8123-0123456789ab",
            "Katso tapaus 01973456-7890-7abc-8def-040123456789.",
            "Ärende 0197A3C4-0401-7234-9876-543210FEDCBA",
        ] {
            assert_kept(text);
        }
    }

    // ---- everything together ----

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
    fn redacting_twice_changes_nothing() {
        for text in [
            "Soittakaa 040 123 4567 050 765 4321, hetu 131052308T, posti matti(at)example.fi",
            "06.12.2026 040 123 4567 klo 09.30 2026-12-06 0123/2025",
            "+358 (0)40 123 4567 tai (09) 123 4567.",
        ] {
            let once = redact(text).text;
            assert_eq!(redact(&once).text, once, "{text:?}");
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

        // Without digits there is no code or number, and without an at sign, a bracket or the
        // word "at" no address. (Invisible and full-width characters are normalised away.)
        #[test]
        fn text_without_digits_or_addresses_is_unchanged(
            text in "[^0-9@＠()\\[\\]{}<>\\x{00AD}\\x{200B}-\\x{200D}\\x{2060}\\x{FEFF}\\x{3000}\\x{FF01}-\\x{FF5E}]{0,200}",
        ) {
            prop_assume!(!text.to_lowercase().contains("at"));
            let redacted = redact(&text);
            prop_assert_eq!(redacted.text, text);
        }
    }
}
