//! The HTML pages, server-rendered so they work without JavaScript on any phone. Accessibility
//! (WCAG 2.1 AA) is built into the markup: every radio group is a fieldset with a legend, every
//! hint and error is tied to its question with aria-describedby, errors are listed at the top
//! with links to the questions, the page language is set, and the kiosk's script only adds to a
//! form that works without it.

use std::collections::HashMap;

use kaiku_proto::intake::v1::AttentionFlag;
use kaiku_proto::survey::v1::{FormQuestion, GetFormResponse, question::Kind};
use maud::{DOCTYPE, Markup, html};

use crate::answers::{MAX_OPEN_TEXT_CHARS, QuestionErrors};
use crate::texts::{UiTexts, face_labels, fill};

/// A link to the same page in another language.
pub struct LanguageLink {
    pub tag: &'static str,
    pub name: &'static str,
    pub href: String,
    pub current: bool,
}

pub struct KioskSettings {
    pub idle_seconds: u32,
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
    /// The way to feedback that asks for a reply (not anonymous), when offered.
    pub offer: Option<Markup>,
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
        p { (texts.anonymous_note) }
        p { (texts.required_note) }
        form method="post" action=(page.action) novalidate autocomplete="off"
            data-kiosk=[page.kiosk.as_ref().map(|_| "true")]
            data-idle-seconds=[page.kiosk.as_ref().map(|k| k.idle_seconds)]
            data-error-required=(texts.error_required)
            data-error-summary=(texts.error_summary)
            data-thanks-title=(texts.thanks_title)
            data-thanks-body=(texts.thanks_body)
            data-next=(texts.kiosk_next)
            data-idle-warning=(texts.kiosk_idle_warning)
            data-continue=(texts.kiosk_continue)
            data-guidance=(kiosk_guidance(texts)) {
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
                            div.option {
                                input type=(input_type) id={ "input-" (key) "-" (i) } name=(name) value=(value)
                                    checked[is_chosen(value)];
                                label for={ "input-" (key) "-" (i) } { (label) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Both "where to turn" texts for the kiosk's thank-you screen, as JSON. The kiosk shows them
/// after every answer: an answer queued offline gets its attention flags only later, when the
/// respondent has gone, so the kiosk cannot wait for them.
fn kiosk_guidance(texts: &UiTexts) -> String {
    serde_json::json!([
        [texts.formal_objection_title, texts.formal_objection_body],
        [texts.child_protection_title, texts.child_protection_body],
        [texts.self_harm_title, texts.self_harm_body],
    ])
    .to_string()
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
        svg.face viewBox="0 0 100 100" width="56" height="56" aria-hidden="true" focusable="false" {
            circle cx="50" cy="50" r="45" fill="#ffd84d" stroke="#1a1a1a" stroke-width="4" {}
            circle cx="35" cy="40" r="6" fill="#1a1a1a" {}
            circle cx="65" cy="40" r="6" fill="#1a1a1a" {}
            path d=(path) fill="none" stroke="#1a1a1a" stroke-width="5" stroke-linecap="round" {}
        }
    }
}

pub struct ThanksPage<'a> {
    pub texts: &'static UiTexts,
    pub title: &'a str,
    pub flags: &'a [AttentionFlag],
    pub languages: &'a [LanguageLink],
    /// Kiosks return to a fresh form by themselves.
    pub kiosk_return: Option<(&'a str, u32)>,
    /// The way to ask to be contacted, when offered.
    pub offer: Option<Markup>,
}

pub fn thanks_page(page: &ThanksPage<'_>) -> Markup {
    let texts = page.texts;
    let head = html! {
        // Back to a fresh form by itself, unless there is guidance to read (no time limit on
        // that text: WCAG 2.2.1).
        @if let (Some((href, seconds)), true) = (page.kiosk_return, page.flags.is_empty()) {
            meta http-equiv="refresh" content={ (seconds) ";url=" (href) };
        }
    };
    let body = html! {
        h1 { (texts.thanks_title) }
        p { (texts.thanks_body) }
        (guidance(texts, page.flags))
        @if let Some(offer) = &page.offer { (offer) }
        @if let Some((href, _)) = page.kiosk_return {
            p { a.button href=(href) { (texts.kiosk_next) } }
        }
    };
    layout(
        texts,
        &format!("{} – {}", texts.thanks_title, page.title),
        page.languages,
        head,
        body,
    )
}

/// Where to turn when the open text reads as a formal objection or a child-protection concern.
pub fn guidance(texts: &UiTexts, flags: &[AttentionFlag]) -> Markup {
    html! {
        @for flag in flags {
            @match flag {
                AttentionFlag::FormalObjection => {
                    section.guidance aria-labelledby="guidance-objection" {
                        h2 id="guidance-objection" { (texts.formal_objection_title) }
                        p { (texts.formal_objection_body) }
                    }
                }
                AttentionFlag::ChildProtectionConcern => {
                    section.guidance aria-labelledby="guidance-child" {
                        h2 id="guidance-child" { (texts.child_protection_title) }
                        p { (texts.child_protection_body) }
                    }
                }
                AttentionFlag::SelfHarm => {
                    section.guidance aria-labelledby="guidance-self-harm" {
                        h2 id="guidance-self-harm" { (texts.self_harm_title) }
                        p { (texts.self_harm_body) }
                    }
                }
                AttentionFlag::Unspecified => {}
            }
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
