//! The HTML pages, server-rendered so they work without JavaScript on any phone. Accessibility
//! (WCAG 2.1 AA) is built into the markup: every radio group is a fieldset with a legend, every
//! hint and error is tied to its question with aria-describedby, errors are listed at the top
//! with links to the questions, the page language is set, and the kiosk's script only adds to a
//! form that works without it.

use std::collections::HashMap;

use kaiku_proto::survey::v1::{FormQuestion, GetFormResponse, question::Kind};
use maud::{DOCTYPE, Markup, html};

use crate::answers::{MAX_OPEN_TEXT_CHARS, QuestionErrors};
use crate::guidance::Audience;
use crate::help::HelpContacts;
use crate::texts::{UiTexts, face_labels, fill};
use crate::thanks::kiosk_thanks;

/// A link to the same page in another language.
pub struct LanguageLink {
    pub tag: &'static str,
    pub name: &'static str,
    pub href: String,
    pub current: bool,
}

pub struct KioskSettings {
    pub idle_seconds: u32,
    /// The thank-you screen returns to a fresh form after this long.
    pub return_seconds: u32,
    /// How long the server takes an answer after it was given: the script deletes an answer it
    /// could not send once it is older.
    pub keep_seconds: i64,
}

pub struct FormPage<'a> {
    pub texts: &'static UiTexts,
    pub form: &'a GetFormResponse,
    pub action: &'a str,
    pub submission_id: &'a str,
    pub languages: &'a [LanguageLink],
    /// Values to show again after an error, by question key.
    pub values: &'a HashMap<String, Vec<String>>,
    pub errors: &'a QuestionErrors,
    /// A problem with the whole submission (e.g. the service was unavailable).
    pub banner: Option<(&'a str, &'a str)>,
    pub kiosk: Option<KioskSettings>,
    /// The county's places to turn to, for the kiosk's thank-you screen.
    pub help: &'a HelpContacts,
    /// The way to feedback that asks for a reply (not anonymous), when offered.
    pub offer: Option<Markup>,
}

/// The form's introduction: the age band's own, else the anonymity note in words for the
/// respondent's age (a child's form carries no legal terms).
pub fn intro<'a>(texts: &'a UiTexts, form: &'a GetFormResponse) -> &'a str {
    if !form.intro.is_empty() {
        &form.intro
    } else if Audience::of(form.age_band.as_ref()) == Audience::Young {
        texts.young_note
    } else {
        texts.anonymous_note
    }
}

/// The frame of every page: language, title, style, the language choice and the main landmark.
pub fn layout(
    texts: &UiTexts,
    title: &str,
    languages: &[LanguageLink],
    head_extra: Markup,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(texts.tag) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href="/static/style.css";
                (head_extra)
            }
            body {
                @if languages.len() > 1 {
                    header {
                        nav aria-label=(texts.language_choice) {
                            ul.languages {
                                @for l in languages {
                                    li {
                                        @if l.current {
                                            a href=(l.href) lang=(l.tag) hreflang=(l.tag) aria-current="page" { (l.name) }
                                        } @else {
                                            a href=(l.href) lang=(l.tag) hreflang=(l.tag) { (l.name) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                main id="main" { (body) }
            }
        }
    }
}

pub fn form_page(page: &FormPage<'_>) -> Markup {
    let texts = page.texts;
    let form = page.form;
    let has_errors = !page.errors.is_empty();
    let title = if has_errors {
        format!("{} – {}", texts.error_summary, form.title)
    } else {
        form.title.clone()
    };
    let head = html! {
        @if page.kiosk.is_some() { script src="/static/kiosk.js" defer {} }
    };
    let body = html! {
        h1 { (form.title) }
        @if let Some((heading, body)) = page.banner {
            div.banner role="alert" {
                h2 { (heading) }
                p { (body) }
            }
        }
        @if has_errors {
            div.error-summary role="alert" aria-labelledby="error-summary-title" tabindex="-1" {
                h2 id="error-summary-title" { (texts.error_summary) }
                ul {
                    @for fq in &form.questions {
                        @if let Some(q) = &fq.question {
                            @if let Some(message) = page.errors.get(&q.key) {
                                li { a href={ "#q-" (q.key) } { (fq.text) ": " (message) } }
                            }
                        }
                    }
                }
            }
        }
        p.intro { (intro(texts, form)) }
        p { (texts.required_note) }
        @if page.kiosk.is_some() { (kiosk_thanks(texts, form, page.help)) }
        form method="post" action=(page.action) novalidate autocomplete="off"
            data-kiosk=[page.kiosk.as_ref().map(|_| "true")]
            data-idle-seconds=[page.kiosk.as_ref().map(|k| k.idle_seconds)]
            data-return-seconds=[page.kiosk.as_ref().map(|k| k.return_seconds)]
            data-keep-seconds=[page.kiosk.as_ref().map(|k| k.keep_seconds)]
            data-error-required=(texts.error_required)
            data-error-summary=(texts.error_summary)
            data-next=(texts.kiosk_next)
            data-stay=(texts.kiosk_stay)
            data-idle-warning=(texts.kiosk_idle_warning)
            data-continue=(texts.kiosk_continue) {
            input type="hidden" name="submission_id" value=(page.submission_id);
            input type="hidden" name="lang" value=(texts.tag);
            @for (i, fq) in form.questions.iter().enumerate() {
                (question(texts, i + 1, fq, page.values, page.errors))
            }
            button type="submit" { (texts.submit) }
        }
        @if let Some(offer) = &page.offer { (offer) }
    };
    layout(texts, &title, page.languages, head, body)
}

fn question(
    texts: &UiTexts,
    number: usize,
    fq: &FormQuestion,
    values: &HashMap<String, Vec<String>>,
    errors: &QuestionErrors,
) -> Markup {
    let Some(q) = &fq.question else {
        return html! {};
    };
    let key = q.key.as_str();
    let id = format!("q-{key}");
    let name = format!("a.{key}");
    let hint_id = format!("hint-{key}");
    let error_id = format!("error-{key}");
    let error = errors.get(key);
    let chosen: &[String] = values.get(key).map(Vec::as_slice).unwrap_or(&[]);
    let is_chosen = |v: &str| chosen.iter().any(|c| c == v);
    let describedby = |hint: bool| {
        let mut ids = Vec::new();
        if hint {
            ids.push(hint_id.clone());
        }
        if error.is_some() {
            ids.push(error_id.clone());
        }
        ids.join(" ")
    };
    let legend = html! {
        span.number { (number) ". " }
        (fq.text)
        @if q.required {
            " " abbr.required title=(texts.required_marker) { "*" }
            span.visually-hidden { " (" (texts.required_marker) ")" }
        }
    };
    let error_markup = html! {
        @if let Some(message) = error {
            p.error id=(error_id) { (message) }
        }
    };
    let class = if error.is_some() {
        "question has-error"
    } else {
        "question"
    };
    match &q.kind {
        Some(Kind::OpenText(open)) => {
            let max = match open.max_chars {
                0 => MAX_OPEN_TEXT_CHARS,
                n => n.min(MAX_OPEN_TEXT_CHARS),
            };
            let text = chosen.first().map(String::as_str).unwrap_or("");
            html! {
                div class=(class) id=(id) data-question=(key) data-required=[q.required.then_some("true")] {
                    label for={ "input-" (key) } { (legend) }
                    p.hint id=(hint_id) { (fill(texts.max_chars, max)) }
                    (error_markup)
                    textarea id={ "input-" (key) } name=(name) rows="5" maxlength=(max)
                        aria-describedby=(describedby(true))
                        aria-invalid=[error.map(|_| "true")] { (text) }
                }
            }
        }
        kind => {
            let (options, hint, multiple, scale_class): (
                Vec<(String, Markup)>,
                Option<String>,
                bool,
                &str,
            ) = match kind {
                Some(Kind::Nps(_)) => (
                    (0..=10).map(|n| (n.to_string(), html! { (n) })).collect(),
                    Some(format!("0 = {}, 10 = {}", texts.nps_low, texts.nps_high)),
                    false,
                    "scale nps",
                ),
                Some(Kind::Statement(statement)) => {
                    let mut options: Vec<(String, Markup)> = texts
                        .scale
                        .iter()
                        .enumerate()
                        .map(|(i, label)| {
                            (
                                (i + 1).to_string(),
                                html! { span.score { (i + 1) } " " (label) },
                            )
                        })
                        .collect();
                    if statement.allow_dont_know {
                        options.push(("dk".to_owned(), html! { (texts.dont_know) }));
                    }
                    (options, None, false, "scale statement")
                }
                Some(Kind::Smiley(smiley)) => {
                    let labels = face_labels(texts, smiley.faces);
                    let count = labels.len();
                    let options = labels
                        .iter()
                        .enumerate()
                        .map(|(i, label)| {
                            let mood = if count > 1 {
                                -1.0 + 2.0 * i as f32 / (count - 1) as f32
                            } else {
                                0.0
                            };
                            (
                                (i + 1).to_string(),
                                html! { (face_svg(mood)) span.face-label { (label) } },
                            )
                        })
                        .collect();
                    (options, None, false, "scale faces")
                }
                Some(Kind::Choice(choice)) => (
                    fq.options
                        .iter()
                        .map(|o| (o.key.clone(), html! { (o.text) }))
                        .collect(),
                    Some(if choice.multiple {
                        texts.choose_any.to_owned()
                    } else {
                        texts.choose_one.to_owned()
                    }),
                    choice.multiple,
                    "choice",
                ),
                _ => (Vec::new(), None, false, "choice"),
            };
            let input_type = if multiple { "checkbox" } else { "radio" };
            let tiles = matches!(kind, Some(Kind::Nps(_)) | Some(Kind::Smiley(_)));
            html! {
                fieldset class=(class) id=(id) data-question=(key) data-required=[q.required.then_some("true")]
                    aria-describedby=[Some(describedby(hint.is_some())).filter(|d| !d.is_empty())] {
                    legend { (legend) }
                    @if let Some(hint) = &hint {
                        p.hint id=(hint_id) { (hint) }
                    }
                    (error_markup)
                    div class=(scale_class) {
                        @for (i, (value, label)) in options.iter().enumerate() {
                            @let input_id = format!("input-{key}-{i}");
                            @if tiles {
                                // The whole tile is the label, so a tap anywhere on the face or
                                // number chooses it; the radio inside stays for keyboards and
                                // screen readers, and the tile shows its state (style.css).
                                div.option {
                                    label.tile-label for=(input_id) {
                                        input.tile-input type=(input_type) id=(input_id) name=(name) value=(value)
                                            checked[is_chosen(value)];
                                        span.tile { (label) }
                                    }
                                }
                            } @else {
                                div.option {
                                    input type=(input_type) id=(input_id) name=(name) value=(value)
                                        checked[is_chosen(value)];
                                    label for=(input_id) { (label) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A face for the children's scale; the text label beside it carries the meaning.
fn face_svg(mood: f32) -> Markup {
    let mouth_y = 64.0;
    let bend = mood * 14.0;
    let path = format!(
        "M30 {:.1} C42 {:.1} 58 {:.1} 70 {:.1}",
        mouth_y - bend * 0.3,
        mouth_y + bend,
        mouth_y + bend,
        mouth_y - bend * 0.3
    );
    html! {
        svg.face viewBox="0 0 100 100" width="72" height="72" aria-hidden="true" focusable="false" {
            circle cx="50" cy="50" r="45" fill="#ffd84d" stroke="#1a1a1a" stroke-width="4" {}
            circle cx="35" cy="40" r="6" fill="#1a1a1a" {}
            circle cx="65" cy="40" r="6" fill="#1a1a1a" {}
            path d=(path) fill="none" stroke="#1a1a1a" stroke-width="5" stroke-linecap="round" {}
        }
    }
}

/// A page that says one thing: closed survey, invalid link, too many answers, unavailable.
pub fn message_page(
    texts: &UiTexts,
    title: &str,
    body: &str,
    languages: &[LanguageLink],
) -> Markup {
    layout(
        texts,
        title,
        languages,
        html! {},
        html! {
            h1 { (title) }
            p { (body) }
        },
    )
}

/// The kiosk's script, and the style sheet, served as static files.
pub const KIOSK_JS: &str = include_str!("../static/kiosk.js");
pub const STYLE_CSS: &str = include_str!("../static/style.css");

#[cfg(test)]
mod tests;
