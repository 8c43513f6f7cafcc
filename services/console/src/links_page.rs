//! Respondent links and printouts for a published survey: the county's staff choose a unit,
//! channel, respondent role (and group, age band, language) and get the signed link, its QR
//! code, the poster and the paper form, all served by the web form.

use kaiku_domain::codes::{channel_code_of, language_code_of, role_code_of};
use kaiku_links::ChannelLinks;
use kaiku_proto::survey::v1::SurveyContent;
use maud::{Markup, PreEscaped, html};

use crate::figures::{VisibleUnit, text_in};
use crate::texts::Texts;

/// What a link is made for, as codes (`qr`, `client`, `fi`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkChoice {
    pub unit: String,
    pub channel: String,
    pub role: String,
    pub group: String,
    pub age_band: String,
    pub language: String,
}

fn select(id: &str, label: &str, options: &[(String, String)]) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            select id=(id) name=(id) {
                @for (value, text) in options { option value=(value) { (text) } }
            }
        }
    }
}

/// The form on a published survey's page.
pub fn links_form(
    t: &Texts,
    survey_id: &str,
    content: &SurveyContent,
    units: &[VisibleUnit],
    configured: bool,
) -> Markup {
    let language = t.language_enum;
    let none = || (String::new(), t.none.to_owned());
    let units: Vec<(String, String)> = units
        .iter()
        .map(|u| (u.unit.unit_id.clone(), u.name.clone()))
        .collect();
    let channels: Vec<(String, String)> = content
        .channels
        .iter()
        .map(|c| {
            let channel = kaiku_proto::survey::v1::Channel::try_from(*c).unwrap_or_default();
            (
                channel_code_of(*c).to_owned(),
                t.channel_name(channel).to_owned(),
            )
        })
        .collect();
    let roles: Vec<(String, String)> = content
        .respondent_roles
        .iter()
        .map(|r| {
            let role = kaiku_proto::survey::v1::RespondentRole::try_from(*r).unwrap_or_default();
            (role_code_of(*r).to_owned(), t.role(role).to_owned())
        })
        .collect();
    let groups: Vec<(String, String)> = std::iter::once(none())
        .chain(
            content
                .professional_groups
                .iter()
                .map(|g| (g.key.clone(), text_in(&g.names, language))),
        )
        .collect();
    let ages: Vec<(String, String)> = std::iter::once(none())
        .chain(content.age_bands.iter().map(|a| {
            (
                a.key.clone(),
                format!("{} ({}-{})", a.key, a.min_age, a.max_age),
            )
        }))
        .collect();
    let languages: Vec<(String, String)> = content
        .languages
        .iter()
        .map(|l| {
            let lang = kaiku_proto::survey::v1::Language::try_from(*l).unwrap_or_default();
            (
                language_code_of(*l).to_owned(),
                t.language_name(lang).to_owned(),
            )
        })
        .collect();
    html! {
        h2 id="links-heading" { (t.links_title) }
        p { (t.links_intro) }
        @if configured {
            form.filters method="get" action={ "/surveys/" (survey_id) "/links" } id="links" aria-labelledby="links-heading" {
                (select("unit", t.unit, &units))
                (select("channel", t.channel, &channels))
                (select("role", t.respondent_role, &roles))
                @if !content.professional_groups.is_empty() { (select("group", t.professional_group, &groups)) }
                @if !content.age_bands.is_empty() { (select("age", t.age_band, &ages)) }
                (select("language", t.language, &languages))
                input type="hidden" name="lang" value=(t.tag);
                button type="submit" { (t.make_links) }
            }
        } @else {
            p.problem { (t.links_not_configured) }
        }
    }
}

/// The links of one choice, with the QR code drawn inline.
pub fn links_body(
    t: &Texts,
    survey_title: &str,
    unit_name: &str,
    links: &ChannelLinks,
    qr_svg: Option<&str>,
) -> Markup {
    html! {
        h1 { (t.links_title) ": " (survey_title) }
        p { (t.unit) ": " (unit_name) }
        ul id="channel-links" {
            @if let Some(form) = &links.form { li { (t.respondent_link) ": " a href=(form) id="respondent-link" { (form) } } }
            @if let Some(poster) = &links.poster { li { a href=(poster) id="poster-link" { (t.poster) } } }
            li { a href=(links.paper_form) id="paper-form-link" { (t.paper_form) } }
            @if let Some(entry) = &links.paper_entry { li { a href=(entry) id="paper-entry-link" { (t.paper_entry) } } }
        }
        @if let Some(svg) = qr_svg {
            figure.qr {
                (PreEscaped(svg))
                figcaption { (t.qr_code) }
            }
        }
    }
}
