//! The thank-you page, and the kiosk's thank-you screen: the thanks for the respondent's age,
//! and where to turn for it (`guidance`).

use kaiku_proto::intake::v1::AttentionFlag;
use kaiku_proto::survey::v1::GetFormResponse;
use maud::{Markup, html};

use crate::guidance::{Audience, Level, Moment, guidance_markup, topics};
use crate::help::HelpContacts;
use crate::pages::{LanguageLink, layout};
use crate::texts::UiTexts;

/// The thank-you text: the age band's own, else the common one.
pub fn thanks_body<'a>(texts: &'a UiTexts, form: &'a GetFormResponse) -> &'a str {
    if form.thanks.is_empty() {
        texts.thanks_body
    } else {
        &form.thanks
    }
}

pub struct ThanksPage<'a> {
    pub texts: &'static UiTexts,
    /// The respondent's form, when it could be read: its title, thanks and age band.
    pub form: Option<&'a GetFormResponse>,
    pub flags: &'a [AttentionFlag],
    pub help: &'a HelpContacts,
    pub languages: &'a [LanguageLink],
    /// Kiosks return to a fresh form by themselves.
    pub kiosk_return: Option<(&'a str, u32)>,
    /// The way to ask to be contacted, when offered.
    pub offer: Option<Markup>,
}

pub fn thanks_page(page: &ThanksPage<'_>) -> Markup {
    let texts = page.texts;
    let audience = Audience::of(page.form.and_then(|f| f.age_band.as_ref()));
    let topics = topics(audience, Moment::Flagged(page.flags));
    let head = html! {
        // Back to a fresh form by itself, unless there is guidance to read (no time limit on
        // that text: WCAG 2.2.1).
        @if let (Some((href, seconds)), true) = (page.kiosk_return, topics.is_empty()) {
            meta http-equiv="refresh" content={ (seconds) ";url=" (href) };
        }
    };
    let body = html! {
        h1 { (texts.thanks_title) }
        p { (page.form.map_or(texts.thanks_body, |f| thanks_body(texts, f))) }
        (guidance_markup(texts.language, page.help, &topics, Level::H2))
        @if let Some(offer) = &page.offer { (offer) }
        @if let Some((href, _)) = page.kiosk_return {
            p { a.button href=(href) { (texts.kiosk_next) } }
        }
    };
    let title = match page.form {
        Some(form) if !form.title.is_empty() => format!("{} – {}", texts.thanks_title, form.title),
        _ => texts.thanks_title.to_owned(),
    };
    layout(texts, &title, page.languages, head, body)
}

/// The kiosk's thank-you screen, drawn here and shown by its script (an inert template until
/// then): the thanks for the respondent's age and where to turn for it. The kiosk shows the
/// guidance after every answer: an answer queued offline gets its attention flags only later,
/// when the respondent has gone, so the kiosk cannot wait for them.
pub fn kiosk_thanks(texts: &UiTexts, form: &GetFormResponse, help: &HelpContacts) -> Markup {
    let audience = Audience::of(form.age_band.as_ref());
    html! {
        template id="kiosk-thanks-content" {
            h2 { (texts.thanks_title) }
            p { (thanks_body(texts, form)) }
            (guidance_markup(texts.language, help, &topics(audience, Moment::EveryAnswer), Level::H3))
            p.kiosk-return-note { (texts.kiosk_return_note) }
        }
    }
}
