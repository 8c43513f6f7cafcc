//! Redaction proven on what is stored, not on what a function returns: several hundred
//! identity codes, phone numbers and e-mail addresses, generated deterministically in the ways
//! people type them (the forms of crates/kaiku-domain/tests/redaction_properties.rs), are
//! written into Finnish, Swedish and English sentences and answered through every way a text
//! reaches intake: SubmitResponses, SubmitResponse, the web form (QR link), its paper entry and
//! the SMS gateway's reply path. Then every byte of the JetStream store, every row of every
//! table (bytea columns as their bytes) of the read-model database and of the SMS gateway's
//! database are searched for each value, for the bare digits of codes and numbers, and for the
//! mailboxes and domains of addresses: none may be there. Each sentence must be there, with
//! the value's placeholder where the value was, so the test cannot pass by storing nothing;
//! and no stored open text may have a digit left, as the sentences have none of their own.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::Utc;
use kaiku_domain::fixtures::OPEN_KEY;
use kaiku_domain::redaction::{PersonalDataKind, redact};
use kaiku_links::LinkContext;
use kaiku_proto::analytics::v1::GetNpsRequest;
use kaiku_proto::intake::v1::answer::Value as AnswerValue;
use kaiku_proto::intake::v1::{Answer, OpenTextAnswer, SubmitResponseRequest};
use kaiku_proto::survey::v1::{Language, RespondentRole};
use kaiku_system_tests::{
    Stack, TestResult, WebForm, database_text, files_bytes, nps_answer, post_form,
};
use kaiku_test_support::{ServiceProcess, free_port};
use serde_json::{Value as Json, json};

const UNIT: &str = "school-a";

// ---- a deterministic generator ----

/// SplitMix64: the same values on every run, without a random-number crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `range`.
    fn in_range(&mut self, range: std::ops::RangeInclusive<u32>) -> u32 {
        let span = u64::from(range.end() - range.start()) + 1;
        range.start() + u32::try_from(self.next() % span).unwrap_or(0)
    }

    /// One of `items`, which are never empty here.
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        let len = u64::try_from(items.len()).unwrap_or(1).max(1);
        items[usize::try_from(self.next() % len).unwrap_or(0)]
    }

    fn letters(&mut self, min: u32, max: u32) -> String {
        (0..self.in_range(min..=max))
            .map(|_| char::from(b'a' + u8::try_from(self.in_range(0..=25)).unwrap_or(0)))
            .collect()
    }

    /// A domain label: letters, never a word that hides an "@" or a dot ("at", "dot").
    fn label(&mut self, min: u32, max: u32) -> String {
        loop {
            let label = self.letters(min, max);
            if !["a", "at", "dot", "piste", "punkt"].contains(&label.as_str()) {
                return label;
            }
        }
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = usize::try_from(self.next() % (i as u64 + 1)).unwrap_or(0);
            items.swap(i, j);
        }
    }
}

// ---- what is generated ----

/// One generated identifier: as written into the text, and every string that must not be
/// stored (the value itself first, then its digits, normal forms, mailbox and domain).
#[derive(Debug, Clone)]
struct Secret {
    kind: PersonalDataKind,
    written: String,
    needles: Vec<String>,
}

/// One open-text answer: the text sent, the text that must be stored, and its identifiers.
#[derive(Debug, Clone)]
struct Case {
    text: String,
    stored: String,
    language: Language,
    secrets: Vec<Secret>,
}

fn digits_of(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// The runs of 7 or more consecutive ASCII digits in `text`.
fn digit_runs(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|run| run.len() >= 7)
        .map(str::to_owned)
        .collect()
}

/// `value` and each of `also`, once each, in order.
fn needles(value: &str, also: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut all = vec![value.to_owned()];
    for needle in also {
        if !all.contains(&needle) {
            all.push(needle);
        }
    }
    all
}

/// A sentence with "{}" where the value goes, and its language.
type Sentence = (Language, &'static str);

/// Sentences have no digits, quotes or backslashes of their own: a digit in a stored text is
/// what is left of a value, and a sentence is found as it is in a row's text.
const CODE_SENTENCES: &[Sentence] = &[
    (
        Language::Fi,
        "Henkilötunnukseni on {} ja asia koskee laskua",
    ),
    (Language::Fi, "Tässä hetu {}, soittakaa"),
    (Language::Fi, "Hoitaja kysyi tunnustani {}."),
    (Language::Fi, "Lapseni tunnus on {} ja hän odotti kauan"),
    (Language::Sv, "Mitt personnummer är {} tack"),
    (Language::Sv, "Personbeteckning {}, ring mig."),
    (Language::Sv, "Barnets personbeteckning är {}."),
    (Language::En, "My personal identity code is {} thanks"),
    (Language::En, "The nurse wrote down {} twice."),
];

const PHONE_SENTENCES: &[Sentence] = &[
    (Language::Fi, "Soittakaa minulle numeroon {} kiitos"),
    (Language::Fi, "Numeroni on {}."),
    (Language::Fi, "Puh. {} tai sähköposti"),
    (Language::Fi, "Tavoitatte minut iltaisin numerosta {}."),
    (Language::Sv, "Ring mig på {} tack"),
    (Language::Sv, "Mitt nummer är {}."),
    (Language::En, "Please call me at {} tomorrow"),
    (Language::En, "My number is {}."),
];

const EMAIL_SENTENCES: &[Sentence] = &[
    (Language::Fi, "Vastatkaa osoitteeseen {} kiitos"),
    (Language::Fi, "Sähköpostini on {}."),
    (Language::Sv, "Skriv till mig på {} tack"),
    (Language::Sv, "Min e-post är {}."),
    (Language::En, "Contact me at {} please"),
    (Language::En, "Reach me at {}."),
    (Language::En, "My address is {}"),
];

// ---- identity codes ----

const CHECK_CHARACTERS: &[u8] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";
/// Every century sign: + for the 1800s, - and U-Y for the 1900s, A-F for the 2000s.
const CENTURY_SIGNS: [char; 13] = [
    '+', '-', 'U', 'V', 'W', 'X', 'Y', 'A', 'B', 'C', 'D', 'E', 'F',
];
/// Dashes that stand for the hyphen: hyphen, non-breaking hyphen, figure dash, en and em dash,
/// horizontal bar, minus sign, small and full-width hyphen-minus.
const DASHES: [&str; 9] = [
    "\u{2010}", "\u{2011}", "\u{2012}", "\u{2013}", "\u{2014}", "\u{2015}", "\u{2212}", "\u{FE63}",
    "\u{FF0D}",
];
/// Spaces around or instead of a separator: ordinary, no-break, narrow no-break, two.
const SPACES: [&str; 4] = [" ", "\u{00A0}", "\u{202F}", "  "];

fn century(sign: char) -> i32 {
    match sign {
        '+' => 1800,
        'A'..='F' => 2000,
        _ => 1900,
    }
}

#[derive(Debug, Clone, Copy)]
enum CodeForm {
    /// As officially written: "131052-308T".
    Official,
    /// "131052a308t".
    Lower,
    /// "131052308T".
    NoSeparator,
    NoSeparatorLower,
    /// "131052 308T".
    SpaceOnly,
    /// The sign with a space on the left, the right or both sides: "131052 A 308T".
    SpacedSign {
        left: bool,
        right: bool,
    },
    /// A Unicode dash for the hyphen, spaced or not: "131052–308T", "131052 – 308T".
    Dash(&'static str, bool),
}

/// A valid identity code with `sign`'s century, written in `form`.
fn identity_code(rng: &mut Rng, sign: char, form: CodeForm) -> Secret {
    let (day, month, year) = loop {
        let (day, month, year) = (
            rng.in_range(1..=31),
            rng.in_range(1..=12),
            rng.in_range(0..=99),
        );
        let full_year = century(sign) + i32::try_from(year).unwrap_or(0);
        if chrono::NaiveDate::from_ymd_opt(full_year, month, day).is_some() {
            break (day, month, year);
        }
    };
    let number = rng.in_range(2..=899);
    let digits = format!("{day:02}{month:02}{year:02}{number:03}");
    let remainder = digits.parse::<u64>().unwrap_or(0) % 31;
    let check = char::from(CHECK_CHARACTERS[usize::try_from(remainder).unwrap_or(0)]);
    let space = rng.pick(&SPACES);
    let separator = match form {
        CodeForm::Official | CodeForm::Lower => sign.to_string(),
        CodeForm::NoSeparator | CodeForm::NoSeparatorLower => String::new(),
        CodeForm::SpaceOnly => space.to_owned(),
        CodeForm::SpacedSign { left, right } => format!(
            "{}{sign}{}",
            if left { space } else { "" },
            if right { space } else { "" }
        ),
        CodeForm::Dash(dash, spaced) => {
            let space = if spaced { space } else { "" };
            format!("{space}{dash}{space}")
        }
    };
    let date = format!("{day:02}{month:02}{year:02}");
    let written = format!("{date}{separator}{number:03}{check}");
    let written = match form {
        CodeForm::Lower | CodeForm::NoSeparatorLower => written.to_lowercase(),
        _ => written,
    };
    let mut also = vec![
        format!("{date}{sign}{number:03}{check}"),
        format!("{date}{number:03}{check}"),
        digits,
    ];
    also.extend(digit_runs(&written));
    Secret {
        kind: PersonalDataKind::PersonalIdentityCode,
        needles: needles(&written, also),
        written,
    }
}

fn identity_codes(rng: &mut Rng) -> Vec<Secret> {
    let mut codes = Vec::new();
    for sign in CENTURY_SIGNS {
        for form in [
            CodeForm::Official,
            CodeForm::Lower,
            CodeForm::NoSeparator,
            CodeForm::NoSeparatorLower,
            CodeForm::SpaceOnly,
            CodeForm::SpacedSign {
                left: true,
                right: true,
            },
            CodeForm::SpacedSign {
                left: true,
                right: false,
            },
            CodeForm::SpacedSign {
                left: false,
                right: true,
            },
        ] {
            codes.push(identity_code(rng, sign, form));
        }
    }
    // A dash stands for the hyphen, so only with a date of the 1900s.
    for dash in DASHES {
        for spaced in [false, true] {
            codes.push(identity_code(rng, '-', CodeForm::Dash(dash, spaced)));
        }
    }
    codes
}

// ---- phone numbers ----

const MOBILE_PREFIXES: [&str; 10] = [
    "040", "041", "042", "043", "044", "045", "046", "049", "050", "0457",
];
const AREA_CODES: [&str; 12] = [
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

const PHONE_FORMS: [PhoneForm; 5] = [
    PhoneForm::National,
    PhoneForm::Parenthesised,
    PhoneForm::Plus,
    PhoneForm::PlusTrunk,
    PhoneForm::DoubleZero,
];

/// Separators after the area code and between the subscriber number's groups: spaces of every
/// kind, hyphens, dashes, full stops, slashes and none.
const SEPARATORS: [(&str, &str); 17] = [
    (" ", " "),
    ("-", "-"),
    ("-", " "),
    ("\u{2013}", " "),
    ("\u{2013}", "\u{2013}"),
    ("\u{2014}", "\u{2014}"),
    ("\u{2011}", "\u{2011}"),
    (" \u{2013} ", " "),
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

/// What comes between two numbers given in a row.
const BETWEEN_PHONES: [&str; 10] = [
    " ",
    ", ",
    " / ",
    "/",
    " tai ",
    " eller ",
    " or ",
    "; ",
    " \u{2013} ",
    "\u{00A0}",
];

/// Splits `len` digits into groups of at least two, as the property tests do: with a full stop
/// or slash the first group has three or more ("09.12.34.56" is a date and a time to anyone).
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

fn phone(
    rng: &mut Rng,
    mobile: bool,
    (after_area, within): (&str, &str),
    form: PhoneForm,
) -> Secret {
    let (area, len) = if mobile {
        let prefix = rng.pick(&MOBILE_PREFIXES);
        (
            prefix,
            if prefix.len() == 4 {
                7
            } else {
                6 + rng.in_range(0..=1)
            },
        )
    } else {
        (rng.pick(&AREA_CODES), 5 + rng.in_range(0..=3))
    };
    let len = usize::try_from(len).unwrap_or(7);
    let subscriber: String = std::iter::once(char::from(
        b'1' + u8::try_from(rng.in_range(0..=8)).unwrap_or(0),
    ))
    .chain((1..len).map(|_| char::from(b'0' + u8::try_from(rng.in_range(0..=9)).unwrap_or(0))))
    .collect();
    let cuts: Vec<usize> = (0..rng.in_range(0..=3))
        .map(|_| usize::try_from(rng.in_range(2..=4)).unwrap_or(3))
        .collect();
    let wide_first = [after_area, within].iter().any(|s| s.contains(['.', '/']));
    let mut groups = Vec::new();
    let mut at = 0;
    for size in group_sizes(len, &cuts, wide_first) {
        groups.push(subscriber.get(at..at + size).unwrap_or_default());
        at += size;
    }
    let grouped = groups.join(within);
    let national = area.get(1..).unwrap_or_default();
    let written = match form {
        PhoneForm::National => format!("{area}{after_area}{grouped}"),
        PhoneForm::Parenthesised => format!("({area}) {grouped}"),
        PhoneForm::Plus => format!("+358 {national}{after_area}{grouped}"),
        PhoneForm::PlusTrunk => format!("+358 (0){national} {grouped}"),
        PhoneForm::DoubleZero => format!("00358 {national}{after_area}{grouped}"),
    };
    let mut also = vec![
        digits_of(&written),
        format!("{area}{subscriber}"),
        format!("358{national}{subscriber}"),
        format!("+358{national}{subscriber}"),
    ];
    also.extend(digit_runs(&written));
    Secret {
        kind: PersonalDataKind::PhoneNumber,
        needles: needles(&written, also),
        written,
    }
}

/// Every separator in every form, mobile and landline in turn; then pairs given in a row.
fn phones(rng: &mut Rng) -> (Vec<Secret>, Vec<(Secret, &'static str, Secret)>) {
    let mut single = Vec::new();
    for (i, separators) in SEPARATORS.into_iter().enumerate() {
        for (j, form) in PHONE_FORMS.into_iter().enumerate() {
            single.push(phone(rng, (i + j) % 2 == 0, separators, form));
        }
    }
    let mut pairs = Vec::new();
    for k in 0..20 {
        let one = |rng: &mut Rng, mobile| {
            let separators = rng.pick(&SEPARATORS);
            let form = rng.pick(&PHONE_FORMS);
            phone(rng, mobile, separators, form)
        };
        let first = one(rng, k % 3 != 0);
        let second = one(rng, k % 2 == 0);
        pairs.push((first, BETWEEN_PHONES[k % BETWEEN_PHONES.len()], second));
    }
    (single, pairs)
}

// ---- e-mail addresses ----

const AT_SIGNS: [&str; 13] = [
    "@", " @ ", "(at)", "[at]", "{at}", " at ", " AT ", "(a)", "[a]", " (at) ", " [at] ", "(AT)",
    "\u{FF20}",
];
const FIRST_NAMES: [&str; 8] = [
    "matti", "anna", "liisa", "jörgen", "aino", "erik", "sofia", "juha",
];
const LAST_NAMES: [&str; 8] = [
    "virtanen",
    "korhonen",
    "åberg",
    "nieminen",
    "lindqvist",
    "mäkinen",
    "öhman",
    "laine",
];
const TOP_LEVEL_DOMAINS: [&str; 8] = ["fi", "se", "com", "org", "net", "eu", "info", "ax"];

fn email(rng: &mut Rng, at: &str, variant: usize) -> Secret {
    let joiner = rng.pick(&[".", "_", "-"]);
    let digits = if variant % 4 == 3 {
        rng.in_range(1..=99).to_string()
    } else {
        String::new()
    };
    let tag = if variant % 2 == 1 {
        format!("+{}", rng.letters(2, 6))
    } else {
        String::new()
    };
    let mailbox = format!(
        "{}{joiner}{}{digits}{tag}",
        rng.pick(&FIRST_NAMES),
        rng.pick(&LAST_NAMES)
    );
    let mut labels: Vec<String> = (0..variant % 3).map(|_| rng.label(2, 6)).collect();
    labels.push(rng.label(3, 10));
    labels.push(rng.pick(&TOP_LEVEL_DOMAINS).to_owned());
    let dot = match variant {
        5 => "(dot)",
        6 => " dot ",
        _ => ".",
    };
    let domain = labels.join(dot);
    let written = format!("{mailbox}{at}{domain}");
    let canonical = format!("{mailbox}@{}", labels.join("."));
    Secret {
        kind: PersonalDataKind::EmailAddress,
        needles: needles(&written, [canonical, mailbox, domain]),
        written,
    }
}

fn emails(rng: &mut Rng) -> Vec<Secret> {
    AT_SIGNS
        .into_iter()
        .flat_map(|at| (0..8).map(move |variant| (at, variant)))
        .map(|(at, variant)| email(rng, at, variant))
        .collect()
}

// ---- the answers ----

fn case(sentence: Sentence, secrets: Vec<Secret>, between: &str) -> Case {
    let (language, template) = sentence;
    let value = secrets
        .iter()
        .map(|s| s.written.as_str())
        .collect::<Vec<_>>()
        .join(between);
    let placeholders = secrets
        .iter()
        .map(|s| s.kind.placeholder())
        .collect::<Vec<_>>()
        .join(between);
    Case {
        text: template.replace("{}", &value),
        stored: template.replace("{}", &placeholders),
        language,
        secrets,
    }
}

/// Every generated value in its sentence, shuffled so each way in gets all kinds.
fn cases() -> Vec<Case> {
    let mut rng = Rng(0x6B61_696B_7520_3033);
    let mut all = Vec::new();
    for (i, code) in identity_codes(&mut rng).into_iter().enumerate() {
        all.push(case(
            CODE_SENTENCES[i % CODE_SENTENCES.len()],
            vec![code],
            "",
        ));
    }
    let (single, pairs) = phones(&mut rng);
    for (i, phone) in single.into_iter().enumerate() {
        all.push(case(
            PHONE_SENTENCES[i % PHONE_SENTENCES.len()],
            vec![phone],
            "",
        ));
    }
    for (i, (first, between, second)) in pairs.into_iter().enumerate() {
        all.push(case(
            PHONE_SENTENCES[(i * 3) % PHONE_SENTENCES.len()],
            vec![first, second],
            between,
        ));
    }
    for (i, address) in emails(&mut rng).into_iter().enumerate() {
        all.push(case(
            EMAIL_SENTENCES[i % EMAIL_SENTENCES.len()],
            vec![address],
            "",
        ));
    }
    rng.shuffle(&mut all);
    all
}

fn language_code(language: Language) -> &'static str {
    match language {
        Language::Sv => "sv",
        Language::En => "en",
        _ => "fi",
    }
}

fn with_text(survey_id: &str, case: &Case, score: u32) -> SubmitResponseRequest {
    let mut request = nps_answer(survey_id, UNIT, RespondentRole::Client, score);
    if let Some(context) = request.context.as_mut() {
        context.language = case.language as i32;
    }
    request.answers.push(Answer {
        question_key: OPEN_KEY.into(),
        value: Some(AnswerValue::OpenText(OpenTextAnswer {
            text: case.text.clone(),
        })),
    });
    request
}

fn link(survey_id: &str, channel: &str, language: Language) -> LinkContext {
    LinkContext {
        survey_id: survey_id.to_owned(),
        unit_id: UNIT.into(),
        channel: channel.into(),
        respondent_role: "client".into(),
        professional_group: String::new(),
        age_band: String::new(),
        language: language_code(language).into(),
    }
}

/// Each case answered on the web form's page, as a respondent with a QR link does.
async fn through_web_form(web: &WebForm, survey_id: &str, cases: &[Case]) -> TestResult {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    for (i, case) in cases.iter().enumerate() {
        let token = web.sign(&link(survey_id, "qr", case.language))?;
        let id = uuid::Uuid::new_v4().to_string();
        let score = (i % 11).to_string();
        let fields = [
            ("submission_id", id.as_str()),
            ("a.nps", score.as_str()),
            ("a.open_feedback", case.text.as_str()),
        ];
        let (status, page) = post_form(&client, &format!("{}/f/{token}", web.url), &fields).await?;
        if status != 303 {
            return Err(format!("web form answered {status} to {:?}:\n{page}", case.text).into());
        }
    }
    Ok(())
}

/// All cases typed in on one paper-entry screen, one row each.
async fn through_paper_entry(web: &WebForm, survey_id: &str, cases: &[Case]) -> TestResult {
    let client = reqwest::Client::new();
    let token = web.sign(&link(survey_id, "paper", Language::Fi))?;
    let today = kaiku_domain::time::helsinki_date(Utc::now())
        .format("%Y-%m-%d")
        .to_string();
    let mut fields: Vec<(String, String)> =
        vec![("lang".into(), "fi".into()), ("answered_on".into(), today)];
    for (i, case) in cases.iter().enumerate() {
        fields.push((format!("r{i}.id"), uuid::Uuid::new_v4().to_string()));
        fields.push((format!("r{i}.nps"), (i % 11).to_string()));
        fields.push((format!("r{i}.{OPEN_KEY}"), case.text.clone()));
    }
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, page) = post_form(&client, &format!("{}/paper/{token}", web.url), &pairs).await?;
    let saved = format!("Tallennettu {} lomaketta.", cases.len());
    if status != 200 || !page.contains(&saved) || page.contains("odottaa korjausta") {
        return Err(format!("paper entry answered {status}:\n{page}").into());
    }
    Ok(())
}

// ---- the SMS gateway, with a provider stub ----

const VISITS_TOKEN: &str = "visits-token-0123456789";
const WEBHOOK_TOKEN: &str = "webhook-token-0123456789";
const PROVIDER_TOKEN: &str = "provider-token";

type Outbox = Arc<Mutex<usize>>;

/// A local SMS provider: counts the messages it is asked to send.
async fn start_provider_stub() -> TestResult<(String, Outbox)> {
    let outbox: Outbox = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/send", listener.local_addr()?);
    let app = axum::Router::new()
        .route(
            "/send",
            post(|State(outbox): State<Outbox>| async move {
                if let Ok(mut sent) = outbox.lock() {
                    *sent += 1;
                }
                StatusCode::ACCEPTED
            }),
        )
        .with_state(outbox.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, outbox))
}

struct SmsGateway {
    url: String,
    process: ServiceProcess,
    database_url: String,
    http: reqwest::Client,
}

impl SmsGateway {
    async fn start(stack: &Stack, survey_id: &str) -> TestResult<(SmsGateway, Outbox)> {
        let (provider_url, outbox) = start_provider_stub().await?;
        let database_url = stack.postgres.create_database().await?;
        let port = free_port()?;
        let env = vec![
            ("KAIKU_SMS_LISTEN_ADDR", format!("127.0.0.1:{port}")),
            ("DATABASE_URL", database_url.clone()),
            (
                "KAIKU_SURVEY_DEFINITION_URL",
                stack.address("survey-definition"),
            ),
            ("KAIKU_INTAKE_URL", stack.address("response-intake")),
            ("KAIKU_SMS_SURVEY_ID", survey_id.to_owned()),
            ("KAIKU_SERVICE_TOKEN", stack.service_token.clone()),
            (
                "KAIKU_SMS_SECRET",
                "a2Fpa3Utc21zLXRlc3Qtc2VjcmV0LTAxMjM0NTY3ODlhYmNkZWY=".to_owned(),
            ),
            ("KAIKU_SMS_PROVIDER_URL", provider_url),
            ("KAIKU_SMS_PROVIDER_TOKEN", PROVIDER_TOKEN.to_owned()),
            ("KAIKU_SMS_VISITS_TOKEN", VISITS_TOKEN.to_owned()),
            ("KAIKU_SMS_WEBHOOK_TOKEN", WEBHOOK_TOKEN.to_owned()),
            // Any hour, so the test does not depend on the time of day it runs at.
            ("KAIKU_SMS_SENDING_HOURS", "0-24".to_owned()),
            ("KAIKU_SMS_POLL_INTERVAL", "200ms".to_owned()),
            ("RUST_LOG", "info".to_owned()),
        ];
        let process = ServiceProcess::start("sms-gateway", &[], &env).await?;
        process.wait_for_port(port, Duration::from_secs(30)).await?;
        Ok((
            SmsGateway {
                url: format!("http://127.0.0.1:{port}"),
                process,
                database_url,
                http: reqwest::Client::new(),
            },
            outbox,
        ))
    }

    async fn post(&self, path: &str, header: (&str, &str), body: Json) -> TestResult<Json> {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .header(header.0, header.1)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        if status != 200 {
            return Err(format!("{path} answered {status}: {text}\n{}", self.process.log()).into());
        }
        Ok(serde_json::from_str(&text)?)
    }

    async fn reply(&self, from: &str, text: &str) -> TestResult<String> {
        let body = self
            .post(
                "/webhook",
                ("x-kaiku-webhook-token", WEBHOOK_TOKEN),
                json!({ "from": from, "text": text }),
            )
            .await?;
        Ok(body["outcome"].as_str().unwrap_or_default().to_owned())
    }
}

/// The numbers the SMS respondents answer from: theirs, not generated values, but no more to
/// be stored than those.
fn sms_sender(i: usize) -> String {
    format!("045 {:03} {:04}", 610 + i, 3907 + 13 * i)
}

/// Each case as the text after a score in an SMS conversation: a visit, the invitation, the
/// score, the text. Returns the senders' numbers and the gateway's database.
async fn through_sms(
    stack: &Stack,
    survey_id: &str,
    cases: &[Case],
) -> TestResult<(Vec<String>, String)> {
    let (gateway, outbox) = SmsGateway::start(stack, survey_id).await?;
    let visited_at = (Utc::now() - chrono::Duration::days(2)).to_rfc3339();
    let senders: Vec<String> = (0..cases.len()).map(sms_sender).collect();
    let visits: Vec<Json> = cases
        .iter()
        .zip(&senders)
        .enumerate()
        .map(|(i, (case, phone))| {
            json!({
                "visit_id": format!("visit-{i}"),
                "unit_id": UNIT,
                "visited_at": visited_at,
                "age": 40 + i,
                "phone": phone,
                "language": language_code(case.language),
                "sms_consent": true,
                "non_disclosure": false,
            })
        })
        .collect();
    let bearer = format!("Bearer {VISITS_TOKEN}");
    let body = gateway
        .post(
            "/visits",
            ("authorization", &bearer),
            json!({ "visits": visits }),
        )
        .await?;
    let scheduled = body["results"]
        .as_array()
        .map(|results| {
            results
                .iter()
                .filter(|r| r["outcome"] == "scheduled")
                .count()
        })
        .unwrap_or_default();
    if scheduled != cases.len() {
        return Err(format!("{scheduled} of {} visits scheduled: {body}", cases.len()).into());
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let sent = outbox.lock().map(|sent| *sent).unwrap_or_default();
        if sent >= cases.len() {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("{sent} of {} invitations sent", cases.len()).into());
        }
        // The gateway sends on its own timer (KAIKU_SMS_POLL_INTERVAL).
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (i, (case, from)) in cases.iter().zip(&senders).enumerate() {
        let score = gateway.reply(from, &(i % 11).to_string()).await?;
        let text = gateway.reply(from, &case.text).await?;
        if (score.as_str(), text.as_str()) != ("ScoreRecorded", "Submitted") {
            return Err(format!("SMS conversation {i}: {score}, {text}").into());
        }
    }
    // Submitted right after the text, unless intake answered otherwise: then by the rounds.
    let pool = sqlx::PgPool::connect(&gateway.database_url).await?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (open,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM invitation WHERE state <> 'done'")
                .fetch_one(&pool)
                .await?;
        if open == 0 {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{open} SMS answers not submitted:\n{}",
                gateway.process.log()
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The gateway's rows are searched with the rest; the process may stop.
    Ok((senders, gateway.database_url))
}

// ---- searching what is stored ----

/// Where each needle first occurs in `haystack`, found in one pass: candidates are looked up by
/// their first four bytes (after a two-byte filter), as several hundred separate searches of a
/// few megabytes each would take long in a debug build.
fn first_occurrences(haystack: &[u8], needles: &[&[u8]]) -> HashMap<usize, usize> {
    const KEY: usize = 4;
    let mut by_key: HashMap<&[u8], Vec<usize>> = HashMap::new();
    let mut first_two = vec![false; 1 << 16];
    let mut found = HashMap::new();
    for (i, needle) in needles.iter().enumerate() {
        match needle.get(..KEY) {
            Some(key) => {
                by_key.entry(key).or_default().push(i);
                first_two[(usize::from(key[0]) << 8) | usize::from(key[1])] = true;
            }
            // Too short to index (none of the generated ones are): searched on its own.
            None => {
                if let Some(at) = haystack
                    .windows(needle.len().max(1))
                    .position(|w| w == *needle)
                {
                    found.insert(i, at);
                }
            }
        }
    }
    for at in 0..haystack.len().saturating_sub(KEY - 1) {
        if !first_two[(usize::from(haystack[at]) << 8) | usize::from(haystack[at + 1])] {
            continue;
        }
        let Some(candidates) = by_key.get(&haystack[at..at + KEY]) else {
            continue;
        };
        for &i in candidates {
            if !found.contains_key(&i) && haystack[at..].starts_with(needles[i]) {
                found.insert(i, at);
            }
        }
    }
    found
}

/// Up to 80 bytes either side of `at`, for a report.
fn context(haystack: &[u8], at: usize, len: usize) -> String {
    let start = at.saturating_sub(80);
    let end = (at + len + 80).min(haystack.len());
    format!("{:?}", String::from_utf8_lossy(&haystack[start..end]))
}

/// Every bytea value of every table, as its bytes: database_text shows them as hex, where no
/// text would be found.
async fn bytea_bytes(url: &str) -> TestResult<Vec<u8>> {
    let pool = sqlx::PgPool::connect(url).await?;
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_schema::text, table_name::text, column_name::text FROM information_schema.columns \
         WHERE data_type = 'bytea' AND table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_all(&pool)
    .await?;
    let mut all = Vec::new();
    for (schema, table, column) in columns {
        let values: Vec<(Vec<u8>,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT \"{column}\" FROM \"{schema}\".\"{table}\" WHERE \"{column}\" IS NOT NULL"
        )))
        .fetch_all(&pool)
        .await?;
        for (value,) in values {
            all.extend(value);
            all.push(b'\n');
        }
    }
    Ok(all)
}

/// A database's rows as text, then its bytea values as bytes.
async fn database_bytes(url: &str) -> TestResult<Vec<u8>> {
    let mut bytes = database_text(url).await?.into_bytes();
    bytes.extend(bytea_bytes(url).await?);
    Ok(bytes)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Route {
    Sms,
    WebForm,
    PaperEntry,
    SubmitResponse,
    SubmitResponses,
}

#[tokio::test]
async fn no_generated_identity_code_phone_number_or_address_is_stored_by_any_way_in() -> TestResult
{
    let started = Instant::now();
    let cases = cases();
    let secrets: Vec<&Secret> = cases.iter().flat_map(|c| &c.secrets).collect();
    let count = |kind| secrets.iter().filter(|s| s.kind == kind).count();
    let (codes, phones, emails) = (
        count(PersonalDataKind::PersonalIdentityCode),
        count(PersonalDataKind::PhoneNumber),
        count(PersonalDataKind::EmailAddress),
    );
    assert!(secrets.len() >= 300, "{} values", secrets.len());
    assert!(
        cases
            .iter()
            .all(|c| !c.stored.chars().any(|ch| ch.is_ascii_digit())),
        "the sentences have no digits of their own"
    );

    let stack = Stack::start().await?;
    let survey_id = stack.publish_nps_survey(&[UNIT]).await?;
    let web = stack.start_web_form(&[]).await?;
    let ready = started.elapsed();

    // The ways in, each with its share of the shuffled cases.
    let mut routes = Vec::new();
    let mut rest: &[Case] = &cases;
    for (route, n) in [
        (Route::Sms, 8),
        (Route::WebForm, 12),
        (Route::PaperEntry, 40),
        (Route::SubmitResponse, 20),
    ] {
        let (these, others) = rest.split_at(n.min(rest.len()));
        routes.push((route, these));
        rest = others;
    }
    routes.push((Route::SubmitResponses, rest));
    // The way each case went in, by its position.
    let route_of: Vec<Route> = routes
        .iter()
        .flat_map(|(route, these)| these.iter().map(|_| *route))
        .collect();

    let (mut senders, mut sms_url) = (Vec::new(), None);
    let mut last = 0;
    for (route, these) in &routes {
        match route {
            Route::Sms => {
                let (numbers, url) = through_sms(&stack, &survey_id, these).await?;
                senders = numbers;
                sms_url = Some(url);
            }
            Route::WebForm => through_web_form(&web, &survey_id, these).await?,
            Route::PaperEntry => through_paper_entry(&web, &survey_id, these).await?,
            Route::SubmitResponse => {
                let mut intake = stack.intake().await?;
                for (i, case) in these.iter().enumerate() {
                    let score = u32::try_from(i % 11).unwrap_or(0);
                    intake
                        .submit_response(with_text(&survey_id, case, score))
                        .await?;
                }
            }
            Route::SubmitResponses => {
                let requests = these
                    .iter()
                    .enumerate()
                    .map(|(i, case)| {
                        with_text(&survey_id, case, u32::try_from(i % 11).unwrap_or(0))
                    })
                    .collect();
                last = stack.submit_batch(requests).await?;
            }
        }
    }
    // The batch went in last: once analytics has applied it, the read model has everything.
    let mut analytics = stack.analytics().await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let figure = loop {
        let reply = analytics
            .get_nps(GetNpsRequest {
                survey_id: survey_id.clone(),
                min_sequence: last,
                filter: Some(kaiku_system_tests::clients()),
                ..Default::default()
            })
            .await;
        match reply {
            Ok(reply) => break reply.into_inner().figure.ok_or("no NPS figure")?,
            // Analytics waits a while for the projection, then asks to be asked again.
            Err(status) if Instant::now() < deadline => {
                eprintln!("waiting for the projection: {}", status.message());
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(status) => return Err(status.into()),
        }
    };
    assert_eq!(
        figure.n,
        u64::try_from(cases.len())?,
        "every answer counted"
    );
    let submitted = started.elapsed();

    // What is stored: the stream's files, the read models' rows, the SMS gateway's rows.
    let mut store = Vec::new();
    files_bytes(stack.nats.store_dir(), &mut store)?;
    let rows = database_bytes(&stack.database_url).await?;
    let sms_url = sms_url.ok_or("no SMS database")?;
    let sms_rows = database_bytes(&sms_url).await?;

    let mut needles: Vec<(&[u8], String)> = Vec::new();
    for (case, route) in cases.iter().zip(&route_of) {
        for secret in &case.secrets {
            for needle in &secret.needles {
                needles.push((
                    needle.as_bytes(),
                    format!(
                        "{:?} {:?} (written {:?}) sent by {route:?} in {:?}",
                        secret.kind, needle, secret.written, case.text
                    ),
                ));
            }
        }
    }
    let sender_needles: Vec<(String, String)> = senders
        .iter()
        .flat_map(|phone| {
            let national = digits_of(phone);
            let international = format!("358{}", national.get(1..).unwrap_or_default());
            [phone.clone(), national, international]
                .map(|n| (n, format!("SMS sender number {phone:?}")))
        })
        .collect();
    for (needle, label) in &sender_needles {
        needles.push((needle.as_bytes(), label.clone()));
    }
    let needle_bytes: Vec<&[u8]> = needles.iter().map(|(n, _)| *n).collect();

    let mut findings = Vec::new();
    for (place, haystack) in [
        ("the JetStream store", &store),
        ("the read-model database", &rows),
        ("the SMS gateway's database", &sms_rows),
    ] {
        let mut found: Vec<(usize, usize)> = first_occurrences(haystack, &needle_bytes)
            .into_iter()
            .collect();
        found.sort_unstable();
        for (i, at) in found {
            let (needle, label) = &needles[i];
            findings.push(format!(
                "STORED in {place}: {label}\n    at byte {at}: {}",
                context(haystack, at, needle.len())
            ));
        }
    }

    // The sentences are stored, each with its placeholders where its values were.
    let stored: Vec<&[u8]> = cases.iter().map(|c| c.stored.as_bytes()).collect();
    let in_store = first_occurrences(&store, &stored);
    let in_rows = first_occurrences(&rows, &stored);
    for (i, case) in cases.iter().enumerate() {
        if !in_store.contains_key(&i) || !in_rows.contains_key(&i) {
            findings.push(format!(
                "NOT STORED as expected (in the stream: {}, in the database: {}), sent by {:?}:\n    sent     {:?}\n    expected {:?}\n    redact() {:?}",
                in_store.contains_key(&i),
                in_rows.contains_key(&i),
                route_of.get(i),
                case.text,
                case.stored,
                redact(&case.text).text
            ));
        }
    }
    // Nothing of a value is left beside its placeholder: no stored text has a digit.
    let pool = stack.database().await?;
    let bodies: Vec<(String,)> = sqlx::query_as("SELECT body FROM feedback_text")
        .fetch_all(&pool)
        .await?;
    for (body,) in &bodies {
        if body.chars().any(|c| c.is_ascii_digit()) {
            findings.push(format!("DIGITS LEFT in a stored text: {body:?}"));
        }
    }
    let expected: HashSet<&str> = cases.iter().map(|c| c.stored.as_str()).collect();
    for (body,) in &bodies {
        if !expected.contains(body.as_str()) {
            findings.push(format!("UNEXPECTED stored text: {body:?}"));
        }
    }
    assert_eq!(bodies.len(), cases.len(), "one stored text per answer");

    let by_route: Vec<String> = routes
        .iter()
        .map(|(route, these)| format!("{route:?} {}", these.len()))
        .collect();
    let distinct: HashSet<&[u8]> = needle_bytes.iter().copied().collect();
    eprintln!(
        "{} values ({codes} identity codes, {phones} phone numbers, {emails} e-mail addresses) \
         in {} answers ({}); {} strings searched for in {} bytes of stream files, {} of \
         read-model rows and {} of SMS gateway rows; stack ready {ready:?}, answers stored \
         {submitted:?}, searched {:?}",
        secrets.len(),
        cases.len(),
        by_route.join(", "),
        distinct.len(),
        store.len(),
        rows.len(),
        sms_rows.len(),
        started.elapsed()
    );
    assert!(
        findings.is_empty(),
        "{} findings:\n{}",
        findings.len(),
        findings.join("\n")
    );
    Ok(())
}
