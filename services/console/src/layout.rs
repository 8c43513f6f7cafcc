//! The frame of every page: language, title, skip link, the signed-in person with the main
//! navigation and sign-out, the language choice, and the main landmark. Accessibility (WCAG 2.1
//! AA) lives in the markup: landmarks, one h1 per page, labelled forms, tables with headers,
//! charts with names and their figures as tables, and visible focus (console.css).

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::session::Session;
use crate::texts::{ALL, Texts};

pub const CONSOLE_CSS: &str = include_str!("../static/console.css");

/// Which navigation entry the page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Login,
    Results,
    Review,
    Surveys,
    Units,
    Reports,
    Cases,
    Attention,
}

pub struct Frame<'a> {
    pub texts: &'static Texts,
    pub title: &'a str,
    pub section: Section,
    pub session: Option<&'a Session>,
    /// The current path and query without `lang`, for the language links.
    pub here: &'a str,
}

fn language_href(here: &str, tag: &str) -> String {
    let separator = if here.contains('?') { '&' } else { '?' };
    format!("{here}{separator}lang={tag}")
}

pub fn page(frame: &Frame<'_>, body: Markup) -> Markup {
    let t = frame.texts;
    let nav = |section: Section, href: &str, label: &str| {
        html! {
            li {
                @if frame.section == section {
                    a href=(href) aria-current="page" { (label) }
                } @else {
                    a href=(href) { (label) }
                }
            }
        }
    };
    html! {
        (DOCTYPE)
        html lang=(t.tag) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (frame.title) " - Kaiku" }
                link rel="stylesheet" href="/static/console.css";
            }
            body {
                a.skip href="#main" { (t.skip_to_content) }
                header.top {
                    p.product { "Kaiku" }
                    @if let Some(session) = frame.session {
                        nav aria-label=(t.nav_label) {
                            ul.nav {
                                (nav(Section::Results, "/results", t.nav_results))
                                (nav(Section::Review, "/review", t.nav_review))
                                (nav(Section::Reports, "/reports", t.reports_title))
                                (nav(Section::Cases, "/cases", crate::case_texts::case_texts(t.tag).nav))
                                (nav(Section::Attention, "/attention", crate::attention_texts::attention_texts(t.tag).nav))
                                @if session.staff.role.sets_up_surveys() {
                                    (nav(Section::Surveys, "/surveys", t.nav_surveys))
                                    (nav(Section::Units, "/units", t.units_title))
                                }
                            }
                        }
                        div.who {
                            span { (t.signed_in_as) " " strong { (session.staff.name) } }
                            form method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(session.csrf);
                                button.link type="submit" { (t.sign_out) }
                            }
                        }
                    }
                    nav aria-label=(t.language_choice) {
                        ul.languages {
                            @for other in ALL {
                                li {
                                    @if other.tag == t.tag {
                                        a href=(language_href(frame.here, other.tag)) lang=(other.tag) hreflang=(other.tag) aria-current="true" { (other.name) }
                                    } @else {
                                        a href=(language_href(frame.here, other.tag)) lang=(other.tag) hreflang=(other.tag) { (other.name) }
                                    }
                                }
                            }
                        }
                    }
                }
                main id="main" tabindex="-1" { (body) }
            }
        }
    }
}

/// A chart: its SVG, then the same figures as a table a screen reader (and a test) reads.
pub fn figure(id: &str, svg: &str, table: Markup, texts: &Texts) -> Markup {
    html! {
        figure.chart id=(id) {
            (PreEscaped(svg))
            details {
                summary { (texts.figures_as_table) }
                (table)
            }
        }
    }
}

/// One-decimal number with the locale's decimal separator.
pub fn decimal(value: f64, texts: &Texts, places: usize) -> String {
    let text = format!("{value:.places$}");
    if texts.tag == "en" {
        text
    } else {
        text.replace('.', ",")
    }
}
