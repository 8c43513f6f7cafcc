//! QR codes, posters and paper forms for a link, built from the same resolved form the web form
//! shows, so print and screen never disagree.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kaiku_domain::codes::{channel_code, language_code};
use kaiku_print::{AnswerLayout, PaperForm, Poster, PosterSection, PrintQuestion, QrMatrix};
use kaiku_proto::survey::v1::{Channel, GetFormResponse, Language, question::Kind};

use crate::error::WebError;
use crate::routes::{LanguageQuery, Link, SharedState, chosen_language, error_page, link_key};
use crate::texts::{FI, SV, UiTexts, face_labels, texts};

/// Pixels per QR module in the PNG: about 400 px for a typical link, sharp when printed small.
const PNG_MODULE_PX: u32 = 8;

/// The link, verified, within its allowance: printing signs new links (the paper form's QR
/// code), so it is limited per link like sending is.
fn verified(app: &SharedState, token: &str) -> Result<Link, Box<Response>> {
    let link = app
        .verify(token)
        .map_err(|e| Box::new(error_page(&e, &FI)))?;
    if !app.limiter.try_take(&format!("print:{}", link_key(token))) {
        return Err(Box::new(error_page(&WebError::RateLimited, &FI)));
    }
    Ok(link)
}

fn file(content_type: &'static str, name: &str, bytes: Vec<u8>) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

fn qr_title(link: &Link) -> String {
    format!(
        "{} / {} / {}",
        FI.poster_heading, SV.poster_heading, link.context.unit_id
    )
}

pub async fn qr_svg(State(app): State<SharedState>, Path(token): Path<String>) -> Response {
    let link = match verified(&app, &token) {
        Ok(link) => link,
        Err(response) => return *response,
    };
    match QrMatrix::encode(&app.link_url(&token)) {
        Ok(qr) => file(
            "image/svg+xml",
            "kaiku-qr.svg",
            qr.to_svg(&qr_title(&link)).into_bytes(),
        ),
        Err(e) => error_page(&WebError::from(e), &FI),
    }
}

pub async fn qr_png(State(app): State<SharedState>, Path(token): Path<String>) -> Response {
    if let Err(response) = verified(&app, &token) {
        return *response;
    }
    match QrMatrix::encode(&app.link_url(&token)).and_then(|qr| qr.to_png(PNG_MODULE_PX)) {
        Ok(png) => file("image/png", "kaiku-qr.png", png),
        Err(e) => error_page(&WebError::from(e), &FI),
    }
}

/// "Keskuskoulu, kuraattori": the unit and group as printed.
fn unit_line(form: &GetFormResponse, link: &Link) -> String {
    let unit = if form.unit_name.is_empty() {
        link.context.unit_id.clone()
    } else {
        form.unit_name.clone()
    };
    if form.professional_group_name.is_empty() {
        unit
    } else {
        format!("{unit}, {}", form.professional_group_name)
    }
}

/// A poster for the link's unit and group with instructions in every language of the survey.
pub async fn poster(State(app): State<SharedState>, Path(token): Path<String>) -> Response {
    let link = match verified(&app, &token) {
        Ok(link) => link,
        Err(response) => return *response,
    };
    let result = async {
        let (first, _) = app.form_in(&link, link.language).await?;
        let languages: Vec<Language> = first.languages().collect();
        let mut sections = Vec::new();
        for language in &languages {
            let t = texts(*language);
            sections.push(PosterSection {
                heading: t.poster_heading.to_owned(),
                instructions: t.poster_instructions.to_owned(),
            });
        }
        let t = texts(link.language);
        let bytes = kaiku_print::poster_pdf(&Poster {
            language: t.tag.to_owned(),
            title: format!("{} – {}", t.poster_heading, first.title),
            unit_line: unit_line(&first, &link),
            sections,
            link: app.link_url(&token),
        })?;
        Ok::<_, WebError>(bytes)
    }
    .await;
    match result {
        Ok(bytes) => file("application/pdf", "kaiku-poster.pdf", bytes),
        Err(e) => error_page(&e, texts(link.language)),
    }
}

/// The paper form for the link's survey, role, group and age band in the chosen language, with
/// a QR code to the same form on the web (channel qr, so phone answers count as such).
pub async fn paper_form(
    State(app): State<SharedState>,
    Path(token): Path<String>,
    Query(query): Query<LanguageQuery>,
) -> Response {
    let link = match verified(&app, &token) {
        Ok(link) => link,
        Err(response) => return *response,
    };
    let language = chosen_language(query.lang.as_deref(), &link);
    let result = async {
        let (form, language) = app.form_in(&link, language).await?;
        let t = texts(language);
        let mut phone_context = link.context.clone();
        phone_context.channel = channel_code(Channel::Qr).to_owned();
        phone_context.language = language_code(language).to_owned();
        let phone_token = app
            .keys
            .sign(&phone_context)
            .map_err(|e| WebError::Config(e.to_string()))?;
        let paper = PaperForm {
            language: t.tag.to_owned(),
            title: form.title.clone(),
            unit_line: format!("{}: {}", t.unit_label, unit_line(&form, &link)),
            instructions: t.paper_instructions.to_owned(),
            questions: printable_questions(&form, t),
            phone_link: app.link_url(&phone_token),
            phone_caption: t.paper_phone_caption.to_owned(),
            return_note: t.paper_return_note.to_owned(),
        };
        Ok::<_, WebError>(kaiku_print::paper_form_pdf(&paper)?)
    }
    .await;
    match result {
        Ok(bytes) => file("application/pdf", "kaiku-paper-form.pdf", bytes),
        Err(e) => error_page(&e, texts(language)),
    }
}

pub fn printable_questions(form: &GetFormResponse, t: &UiTexts) -> Vec<PrintQuestion> {
    form.questions
        .iter()
        .filter_map(|fq| {
            let question = fq.question.as_ref()?;
            let layout = match question.kind.as_ref()? {
                Kind::Nps(_) => AnswerLayout::Nps {
                    low: t.nps_low.to_owned(),
                    high: t.nps_high.to_owned(),
                },
                Kind::Statement(statement) => AnswerLayout::Statement {
                    scale: t.scale.map(str::to_owned),
                    dont_know: statement.allow_dont_know.then(|| t.dont_know.to_owned()),
                },
                Kind::Smiley(smiley) => AnswerLayout::Faces {
                    labels: face_labels(t, smiley.faces)
                        .into_iter()
                        .map(str::to_owned)
                        .collect(),
                },
                Kind::Choice(choice) => AnswerLayout::Choice {
                    options: fq.options.iter().map(|o| o.text.clone()).collect(),
                    hint: if choice.multiple {
                        t.choose_any
                    } else {
                        t.choose_one
                    }
                    .to_owned(),
                },
                Kind::OpenText(_) => AnswerLayout::OpenText { lines: 6 },
            };
            let marker = if question.required { " *" } else { "" };
            Some(PrintQuestion {
                text: format!("{}{marker}", fq.text),
                layout,
            })
        })
        .collect()
}
