//! Feedback that asks for a reply: after answering, a respondent may ask to be contacted, and
//! anyone with a link may give free-form feedback (praise, complaint, suggestion, question). It
//! goes to feedback-handling as a case for the link's unit, never to the anonymous answers: the
//! answer is already stored, and the case does not name it (ADR 0013). Not offered on kiosks,
//! whose screen the next person sees.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kaiku_domain::codes::{channel_code, language_code};
use kaiku_proto::handling::v1::{CaseOrigin, ContactDetails, OpenCaseRequest};
use kaiku_proto::survey::v1::{Channel, Language};
use maud::{Markup, html};
use serde::Deserialize;

use crate::error::WebError;
use crate::pages::{LanguageLink, layout, message_page};
use crate::routes::{AppState, Link, SharedState, chosen_language, error_page, link_key, page};
use crate::texts::{FI, texts};

pub struct ContactTexts {
    pub title: &'static str,
    pub intro_after_answer: &'static str,
    pub intro: &'static str,
    pub not_anonymous: &'static str,
    pub objection_note: &'static str,
    pub kind_legend: &'static str,
    pub kinds: [(&'static str, &'static str); 4],
    pub message_label: &'static str,
    pub contact_me: &'static str,
    pub contact_legend: &'static str,
    pub error_name: &'static str,
    pub error_unticked: &'static str,
    pub name_label: &'static str,
    pub email_label: &'static str,
    pub phone_label: &'static str,
    pub contact_hint: &'static str,
    pub send: &'static str,
    pub sent_title: &'static str,
    pub sent_body: &'static str,
    pub reply_by: &'static str,
    /// Sent again with changes after an earlier sending had in fact gone through.
    pub sent_earlier: &'static str,
    pub offer_after_answer: &'static str,
    pub offer: &'static str,
    pub error_kind: &'static str,
    pub error_message: &'static str,
    pub error_email: &'static str,
    pub error_phone: &'static str,
    pub error_contact: &'static str,
}

const CONTACT_FI: ContactTexts = ContactTexts {
    title: "Palaute, johon toivot vastausta",
    intro_after_answer: "Vastauksesi on tallennettu nimettömänä. Jos haluat, että sinuun otetaan yhteyttä, kirjoita asiasi ja yhteystietosi tähän.",
    intro: "Voit antaa yksikölle palautetta myös kyselyn ulkopuolella: kiitosta, moitetta, kehitysehdotuksen tai kysymyksen.",
    not_anonymous: "Tämä palaute ei ole nimetön: viestisi ja yhteystietosi menevät yksikön esihenkilölle. Yhteystiedot säilytetään vain palautteen käsittelyn ajan.",
    objection_note: "Muistutus (potilaslaki 10 § tai sosiaalihuollon asiakaslaki 23 §) tehdään kirjallisesti yksikön kirjaamoon; potilas- ja sosiaaliasiavastaava neuvoo.",
    kind_legend: "Palautteen laji",
    kinds: [
        ("praise", "Kiitos"),
        ("complaint", "Moite"),
        ("suggestion", "Kehitysehdotus"),
        ("question", "Kysymys"),
    ],
    message_label: "Viestisi",
    contact_me: "Haluan, että minuun otetaan yhteyttä",
    contact_legend: "Yhteystiedot",
    error_name: "Nimi on liian pitkä (enintään 200 merkkiä).",
    error_unticked: "Valitse \"Haluan, että minuun otetaan yhteyttä\" tai tyhjennä yhteystiedot.",
    name_label: "Nimi",
    email_label: "Sähköposti",
    phone_label: "Puhelinnumero",
    contact_hint: "Anna sähköposti tai puhelinnumero, tai molemmat.",
    send: "Lähetä palaute",
    sent_title: "Kiitos palautteestasi",
    sent_body: "Palautteesi on välitetty yksikölle.",
    reply_by: "Sinuun otetaan yhteyttä viimeistään",
    sent_earlier: "Palautteesi oli jo tallentunut aiemmalla lähetyksellä. Sen jälkeen tekemäsi muutokset eivät tallentuneet; voit lähettää ne uutena palautteena.",
    offer_after_answer: "Haluatko, että sinuun otetaan yhteyttä?",
    offer: "Anna palautetta, johon toivot vastausta",
    error_kind: "Valitse palautteen laji.",
    error_message: "Kirjoita viesti (enintään 4000 merkkiä).",
    error_email: "Tarkista sähköpostiosoite, esimerkiksi nimi@esimerkki.fi.",
    error_phone: "Tarkista puhelinnumero, esimerkiksi 040 123 4567.",
    error_contact: "Anna sähköposti tai puhelinnumero, jotta sinuun voidaan ottaa yhteyttä.",
};

const CONTACT_SV: ContactTexts = ContactTexts {
    title: "Respons som du vill ha svar på",
    intro_after_answer: "Dina svar har sparats anonymt. Om du vill bli kontaktad, skriv ditt ärende och dina kontaktuppgifter här.",
    intro: "Du kan ge enheten respons också utanför enkäten: beröm, klagomål, förbättringsförslag eller en fråga.",
    not_anonymous: "Denna respons är inte anonym: ditt meddelande och dina kontaktuppgifter går till enhetens chef. Kontaktuppgifterna sparas bara medan responsen behandlas.",
    objection_note: "En anmärkning (patientlagen 10 § eller klientlagen inom socialvården 23 §) görs skriftligen till enhetens registratur; patient- och socialombudet hjälper.",
    kind_legend: "Typ av respons",
    kinds: [
        ("praise", "Beröm"),
        ("complaint", "Klagomål"),
        ("suggestion", "Förbättringsförslag"),
        ("question", "Fråga"),
    ],
    message_label: "Ditt meddelande",
    contact_me: "Jag vill bli kontaktad",
    contact_legend: "Kontaktuppgifter",
    error_name: "Namnet är för långt (högst 200 tecken).",
    error_unticked: "Kryssa i \"Jag vill bli kontaktad\" eller töm kontaktuppgifterna.",
    name_label: "Namn",
    email_label: "E-post",
    phone_label: "Telefonnummer",
    contact_hint: "Ange e-post eller telefonnummer, eller båda.",
    send: "Skicka respons",
    sent_title: "Tack för din respons",
    sent_body: "Din respons har skickats till enheten.",
    reply_by: "Du blir kontaktad senast",
    sent_earlier: "Din respons hade redan sparats när du skickade den första gången. Ändringar som du gjort efter det sparades inte; du kan skicka dem som ny respons.",
    offer_after_answer: "Vill du bli kontaktad?",
    offer: "Ge respons som du vill ha svar på",
    error_kind: "Välj typ av respons.",
    error_message: "Skriv ett meddelande (högst 4000 tecken).",
    error_email: "Kontrollera e-postadressen, till exempel namn@exempel.fi.",
    error_phone: "Kontrollera telefonnumret, till exempel 040 123 4567.",
    error_contact: "Ange e-post eller telefonnummer så att vi kan kontakta dig.",
};

const CONTACT_EN: ContactTexts = ContactTexts {
    title: "Feedback you would like a reply to",
    intro_after_answer: "Your answers have been saved anonymously. If you would like to be contacted, write your matter and contact details here.",
    intro: "You can also give the unit feedback outside the survey: praise, a complaint, a suggestion or a question.",
    not_anonymous: "This feedback is not anonymous: your message and contact details go to the unit's manager. Contact details are kept only while your feedback is being handled.",
    objection_note: "A formal objection (muistutus; Patients' Act section 10 or Social Welfare Clients' Act section 23) is made in writing to the unit's registry; the patient and social welfare ombudsman can help.",
    kind_legend: "Kind of feedback",
    kinds: [
        ("praise", "Praise"),
        ("complaint", "Complaint"),
        ("suggestion", "Suggestion"),
        ("question", "Question"),
    ],
    message_label: "Your message",
    contact_me: "I would like to be contacted",
    contact_legend: "Contact details",
    error_name: "The name is too long (at most 200 characters).",
    error_unticked: "Tick \"I would like to be contacted\", or clear the contact details.",
    name_label: "Name",
    email_label: "E-mail",
    phone_label: "Phone number",
    contact_hint: "Give an e-mail address or a phone number, or both.",
    send: "Send feedback",
    sent_title: "Thank you for your feedback",
    sent_body: "Your feedback has been passed on to the unit.",
    reply_by: "You will be contacted by",
    sent_earlier: "Your feedback had already been saved when you first sent it. Changes you made after that were not saved; you can send them as new feedback.",
    offer_after_answer: "Would you like to be contacted?",
    offer: "Give feedback you would like a reply to",
    error_kind: "Choose the kind of feedback.",
    error_message: "Write a message (at most 4000 characters).",
    error_email: "Check the e-mail address, for example name@example.fi.",
    error_phone: "Check the phone number, for example 040 123 4567.",
    error_contact: "Give an e-mail address or a phone number so that we can contact you.",
};

pub fn contact_texts(language: Language) -> &'static ContactTexts {
    match language {
        Language::Sv => &CONTACT_SV,
        Language::En => &CONTACT_EN,
        Language::Fi | Language::Unspecified => &CONTACT_FI,
    }
}

/// Whether a link may offer this page: a case service is configured and the channel is one a
/// person uses alone (not a shared kiosk, not paper entry).
pub fn offered(app: &AppState, link: &Link) -> bool {
    app.backend.takes_cases() && !matches!(link.channel, Channel::Kiosk | Channel::Paper)
}

/// The link to this page, for the form (`after_answer` false) and the thank-you page.
pub fn offer(link_token: &str, language: Language, after_answer: bool) -> String {
    let after = if after_answer { "&after=answer" } else { "" };
    format!(
        "/f/{link_token}/feedback?lang={}{after}",
        language_code(language)
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct FeedbackQuery {
    pub lang: Option<String>,
    pub after: Option<String>,
}

/// What the respondent filled in, to show again after an error.
#[derive(Debug, Default)]
struct Entered {
    case_id: String,
    after_answer: bool,
    kind: String,
    message: String,
    contact_requested: bool,
    name: String,
    email: String,
    phone: String,
}

/// Field -> message, for the fields the case service refused.
type FieldErrors = HashMap<&'static str, &'static str>;

fn feedback_page(
    language: Language,
    action: &str,
    entered: &Entered,
    errors: &FieldErrors,
    banner: Option<(&str, &str)>,
) -> Markup {
    let ui = texts(language);
    let t = contact_texts(language);
    let title = if errors.is_empty() {
        t.title.to_owned()
    } else {
        format!("{} – {}", ui.error_summary, t.title)
    };
    let error = |field: &str| errors.get(field).copied();
    let described = |field: &str, hint: Option<&str>| {
        let mut ids: Vec<String> = hint.into_iter().map(str::to_owned).collect();
        if errors.contains_key(field) {
            ids.push(format!("error-{field}"));
        }
        (!ids.is_empty()).then(|| ids.join(" "))
    };
    // Each error's summary link goes to the control itself, so following it puts focus there.
    let order = [
        ("kind", "kind-praise"),
        ("message", "message"),
        ("contact", "contact-requested"),
        ("name", "contact-name"),
        ("email", "contact-email"),
        ("phone", "contact-phone"),
    ];
    let invalid = |field: &str| errors.contains_key(field).then_some("true");
    let body = html! {
        h1 { (t.title) }
        @if let Some((heading, text)) = banner {
            div.banner role="alert" { h2 { (heading) } p { (text) } }
        }
        @if !errors.is_empty() {
            div.error-summary role="alert" aria-labelledby="error-summary-title" tabindex="-1" {
                h2 id="error-summary-title" { (ui.error_summary) }
                ul {
                    @for (field, control) in order {
                        @if let Some(message) = error(field) {
                            li { a href={ "#" (control) } { (message) } }
                        }
                    }
                }
            }
        }
        p { (if entered.after_answer { t.intro_after_answer } else { t.intro }) }
        p { strong { (t.not_anonymous) } }
        p.hint { (t.objection_note) }
        form method="post" action=(action) novalidate {
            input type="hidden" name="case_id" value=(entered.case_id);
            input type="hidden" name="lang" value=(ui.tag);
            @if entered.after_answer { input type="hidden" name="after" value="answer"; }
            fieldset.question.has-error[error("kind").is_some()] id="field-kind"
                aria-describedby=[described("kind", None)] {
                legend { (t.kind_legend) }
                @if let Some(message) = error("kind") { p.error id="error-kind" { (message) } }
                @for (code, label) in t.kinds {
                    div.choice {
                        input type="radio" name="kind" id={ "kind-" (code) } value=(code)
                            checked[entered.kind == code] aria-invalid=[invalid("kind")];
                        label for={ "kind-" (code) } { (label) }
                    }
                }
            }
            div.question.has-error[error("message").is_some()] id="field-message" {
                label for="message" { (t.message_label) }
                @if let Some(message) = error("message") { p.error id="error-message" { (message) } }
                textarea id="message" name="message" rows="6" maxlength="4000"
                    aria-invalid=[invalid("message")]
                    aria-describedby=[described("message", None)] { (entered.message) }
            }
            fieldset.question.has-error[error("contact").is_some()] id="field-contact"
                aria-describedby=[described("contact", Some("contact-hint"))] {
                legend { (t.contact_legend) }
                p.hint id="contact-hint" { (t.contact_hint) }
                @if let Some(message) = error("contact") { p.error id="error-contact" { (message) } }
                div.choice {
                    input type="checkbox" name="contact_requested" id="contact-requested" value="yes"
                        checked[entered.contact_requested] aria-invalid=[invalid("contact")];
                    label for="contact-requested" { (t.contact_me) }
                }
                div.field.has-error[error("name").is_some()] id="field-name" {
                    label for="contact-name" { (t.name_label) }
                    @if let Some(message) = error("name") { p.error id="error-name" { (message) } }
                    input type="text" id="contact-name" name="name" autocomplete="name" maxlength="200"
                        aria-invalid=[invalid("name")]
                        aria-describedby=[described("name", None)] value=(entered.name);
                }
                div.field.has-error[error("email").is_some()] id="field-email" {
                    label for="contact-email" { (t.email_label) }
                    @if let Some(message) = error("email") { p.error id="error-email" { (message) } }
                    input type="email" id="contact-email" name="email" autocomplete="email" maxlength="254"
                        aria-invalid=[invalid("email")]
                        aria-describedby=[described("email", None)] value=(entered.email);
                }
                div.field.has-error[error("phone").is_some()] id="field-phone" {
                    label for="contact-phone" { (t.phone_label) }
                    @if let Some(message) = error("phone") { p.error id="error-phone" { (message) } }
                    input type="tel" id="contact-phone" name="phone" autocomplete="tel" maxlength="30"
                        aria-invalid=[invalid("phone")]
                        aria-describedby=[described("phone", None)] value=(entered.phone);
                }
            }
            button type="submit" { (t.send) }
        }
    };
    layout(ui, &title, &[], html! {}, body)
}

pub async fn show_feedback(
    State(app): State<SharedState>,
    Path(token): Path<String>,
    Query(query): Query<FeedbackQuery>,
) -> Response {
    let link = match app.verify(&token) {
        Ok(link) => link,
        Err(e) => return error_page(&e, &FI),
    };
    let language = chosen_language(query.lang.as_deref(), &link);
    if !offered(&app, &link) {
        return error_page(
            &WebError::InvalidLink("no feedback page on this link".into()),
            texts(language),
        );
    }
    let entered = Entered {
        // A new case id per page load: sending the same page twice opens one case.
        case_id: uuid::Uuid::new_v4().to_string(),
        after_answer: query.after.as_deref() == Some("answer"),
        contact_requested: query.after.as_deref() == Some("answer"),
        ..Entered::default()
    };
    page(
        StatusCode::OK,
        feedback_page(
            language,
            &format!("/f/{token}/feedback"),
            &entered,
            &FieldErrors::new(),
            None,
        ),
    )
}

pub async fn submit_feedback(
    State(app): State<SharedState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let link = match app.verify(&token) {
        Ok(link) => link,
        Err(e) => return error_page(&e, &FI),
    };
    let fields: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let language = chosen_language(fields.get("lang").map(String::as_str), &link);
    let ui = texts(language);
    if !offered(&app, &link) {
        return error_page(
            &WebError::InvalidLink("no feedback page on this link".into()),
            ui,
        );
    }
    if !app.limiter.try_take(link_key(&token)) {
        return error_page(&WebError::RateLimited, ui);
    }
    let t = contact_texts(language);
    let action = format!("/f/{token}/feedback");
    let posted_id = uuid::Uuid::parse_str(&field("case_id")).ok();
    let entered = Entered {
        case_id: posted_id.unwrap_or_else(uuid::Uuid::new_v4).to_string(),
        after_answer: field("after") == "answer",
        kind: field("kind"),
        message: field("message"),
        contact_requested: field("contact_requested") == "yes",
        name: field("name"),
        email: field("email"),
        phone: field("phone"),
    };
    // A page not loaded from us: show it afresh, open nothing.
    if posted_id.is_none() {
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            feedback_page(language, &action, &entered, &FieldErrors::new(), None),
        );
    }
    let contact_requested = entered.contact_requested;
    // Details typed in with the box unticked: asked, not guessed (they may expect a reply).
    let typed = [&entered.name, &entered.email, &entered.phone]
        .iter()
        .any(|value| !value.trim().is_empty());
    if typed && !contact_requested {
        let errors = FieldErrors::from([("contact", t.error_unticked)]);
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            feedback_page(language, &action, &entered, &errors, None),
        );
    }
    let request = OpenCaseRequest {
        case_id: entered.case_id.clone(),
        unit_id: link.response_context.unit_id.clone(),
        kind: kaiku_domain::handling::kind_from_code(&entered.kind) as i32,
        origin: if entered.after_answer && contact_requested {
            CaseOrigin::ContactRequest
        } else {
            CaseOrigin::FreeForm
        } as i32,
        channel: channel_code(link.channel).to_owned(),
        language: language_code(language).to_owned(),
        message: entered.message.clone(),
        contact_requested,
        contact: contact_requested.then(|| ContactDetails {
            name: entered.name.clone(),
            email: entered.email.clone(),
            phone: entered.phone.clone(),
        }),
        received_at: None,
    };
    match app.backend.open_case(request).await {
        Ok(case) => {
            tracing::info!(case_id = %case.case_id, "feedback case opened");
            let mut location = format!("/f/{token}/feedback/sent?lang={}", language_code(language));
            if contact_requested {
                location.push_str(&format!("&due={}", case.reply_due_on));
            }
            Redirect::to(&location).into_response()
        }
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            let mut errors = FieldErrors::new();
            for (field, description) in kaiku_grpc::bad_request_fields(&status) {
                tracing::info!(field = %field, description = %description, "feedback refused");
                let (key, message) = match field.as_str() {
                    "kind" => ("kind", t.error_kind),
                    "message" => ("message", t.error_message),
                    "contact.email" => ("email", t.error_email),
                    "contact.phone" => ("phone", t.error_phone),
                    "contact.name" => ("name", t.error_name),
                    "contact" | "contact_requested" => ("contact", t.error_contact),
                    // The link's own unit or channel: not the respondent's to fix.
                    _ => {
                        return error_page(&WebError::InvalidLink(status.message().to_owned()), ui);
                    }
                };
                errors.insert(key, message);
            }
            page(
                StatusCode::UNPROCESSABLE_ENTITY,
                feedback_page(language, &action, &entered, &errors, None),
            )
        }
        // An earlier sending under this case id went through (its answer was lost, so the
        // respondent saw an error) and this one was changed since: say the feedback is in, and
        // that the changes are not.
        Err(status) if status.code() == tonic::Code::AlreadyExists => {
            tracing::info!("feedback sent again with changes after it was stored");
            let location = format!(
                "/f/{token}/feedback/sent?lang={}&earlier=1",
                language_code(language)
            );
            Redirect::to(&location).into_response()
        }
        Err(status) => {
            kaiku_grpc::log_server_fault(&status);
            // Keep what they wrote: the same case id may be sent again safely.
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                feedback_page(
                    language,
                    &action,
                    &entered,
                    &FieldErrors::new(),
                    Some((ui.unavailable_title, ui.unavailable_body)),
                ),
            )
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SentQuery {
    pub lang: Option<String>,
    pub due: Option<String>,
    /// Set when the feedback had been stored by an earlier sending (`1`).
    pub earlier: Option<String>,
}

pub async fn show_sent(
    State(app): State<SharedState>,
    Path(token): Path<String>,
    Query(query): Query<SentQuery>,
) -> Response {
    let link = match app.verify(&token) {
        Ok(link) => link,
        Err(e) => return error_page(&e, &FI),
    };
    let language = chosen_language(query.lang.as_deref(), &link);
    let t = contact_texts(language);
    // Only a date is shown back; anything else in the parameter is ignored.
    let due = query
        .due
        .as_deref()
        .and_then(|d| d.parse::<chrono::NaiveDate>().ok())
        .map(|d| d.format("%-d.%-m.%Y").to_string());
    let mut body = match due {
        Some(due) => format!("{} {} {due}.", t.sent_body, t.reply_by),
        None => t.sent_body.to_owned(),
    };
    if query.earlier.as_deref() == Some("1") {
        body.push(' ');
        body.push_str(t.sent_earlier);
    }
    page(
        StatusCode::OK,
        message_page(texts(language), t.sent_title, &body, &[] as &[LanguageLink]),
    )
}

/// The offer shown under the form and on the thank-you page.
pub fn offer_markup(href: &str, language: Language, after_answer: bool) -> Markup {
    let t = contact_texts(language);
    html! {
        section.contact-offer aria-labelledby="contact-offer-title" {
            h2 id="contact-offer-title" {
                (if after_answer { t.offer_after_answer } else { t.offer })
            }
            p { a href=(href) { (t.offer) } }
        }
    }
}
