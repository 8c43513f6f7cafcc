//! HTTP handlers. Each one verifies the signed link first: the survey, unit, channel, role,
//! group and age band come only from the link, never from the request, so a respondent cannot
//! answer as another unit or group.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use kaiku_domain::codes::{channel_from_code, language_code, language_from_code, role_from_code};
use kaiku_links::{LinkContext, LinkKeys};
use kaiku_proto::intake::v1::{AttentionFlag, ResponseContext, SubmitResponseRequest};
use kaiku_proto::survey::v1::{Channel, GetFormResponse, Language};
use maud::Markup;
use serde::Deserialize;

use crate::answers::{QuestionErrors, ValueSyntax, parse_answers, question_of_field};
use crate::backend::Backend;
use crate::error::WebError;
use crate::help::HelpContacts;
use crate::limits::LinkLimiter;
use crate::pages::{
    FormPage, KIOSK_JS, KioskSettings, LanguageLink, STYLE_CSS, form_page, message_page,
};
use crate::texts::{EN, FI, SV, UiTexts, texts};
use crate::thanks::{ThanksPage, thanks_page};
use crate::{contact, paper_entry, print};

pub struct AppState {
    pub keys: LinkKeys,
    /// Where respondents reach this service, e.g. https://palaute.example.fi; links and QR
    /// codes point here.
    pub public_url: String,
    pub backend: Backend,
    pub limiter: LinkLimiter,
    pub kiosk_idle_seconds: u32,
    pub kiosk_return_seconds: u32,
    /// The county's places to turn to, shown by age on the thank-you pages.
    pub help: HelpContacts,
}

pub type SharedState = Arc<AppState>;

/// How long after it was given a kiosk's answer is still taken: a week is the most a kiosk can
/// have been offline and still count. The kiosk's script gets it too (`data-keep-seconds`), so an
/// answer the tablet could not send is deleted from it once it could never be stored.
pub const KIOSK_ANSWER_WINDOW: chrono::Duration = chrono::Duration::days(7);

pub fn router(state: SharedState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/static/style.css",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
                    STYLE_CSS,
                )
            }),
        )
        .route(
            "/static/kiosk.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    KIOSK_JS,
                )
            }),
        )
        .route("/f/{token}", get(show_form).post(submit_form))
        .route("/f/{token}/thanks", get(show_thanks))
        .route(
            "/f/{token}/feedback",
            get(contact::show_feedback).post(contact::submit_feedback),
        )
        .route("/f/{token}/feedback/sent", get(contact::show_sent))
        .route("/f/{token}/qr.svg", get(print::qr_svg))
        .route("/f/{token}/qr.png", get(print::qr_png))
        .route("/f/{token}/poster.pdf", get(print::poster))
        .route("/f/{token}/paper.pdf", get(print::paper_form))
        .route(
            "/paper/{token}",
            get(paper_entry::show).post(paper_entry::submit),
        )
        .with_state(state)
}

/// A verified link: what it was signed with, and the intake context it stands for.
pub struct Link {
    pub token: String,
    pub context: LinkContext,
    pub response_context: ResponseContext,
    pub channel: Channel,
    pub language: Language,
}

impl AppState {
    pub fn verify(&self, token: &str) -> Result<Link, WebError> {
        let context = self
            .keys
            .verify(token)
            .map_err(|e| WebError::InvalidLink(e.to_string()))?;
        let bad = |what: &str, value: &str| {
            WebError::InvalidLink(format!("{what} {value:?} is not known"))
        };
        let channel =
            channel_from_code(&context.channel).ok_or_else(|| bad("channel", &context.channel))?;
        let role = role_from_code(&context.respondent_role)
            .ok_or_else(|| bad("respondent role", &context.respondent_role))?;
        let language = language_from_code(&context.language)
            .ok_or_else(|| bad("language", &context.language))?;
        let response_context = ResponseContext {
            unit_id: context.unit_id.clone(),
            channel: channel as i32,
            respondent_role: role as i32,
            professional_group: context.professional_group.clone(),
            age_band: context.age_band.clone(),
            language: language as i32,
        };
        Ok(Link {
            token: token.to_owned(),
            context,
            response_context,
            channel,
            language,
        })
    }

    pub fn link_url(&self, token: &str) -> String {
        format!("{}/f/{token}", self.public_url.trim_end_matches('/'))
    }

    /// The same form in `language`; a language the survey does not offer falls back to the
    /// link's own.
    pub async fn form_in(
        &self,
        link: &Link,
        language: Language,
    ) -> Result<(GetFormResponse, Language), WebError> {
        let mut context = link.response_context.clone();
        context.language = language as i32;
        match self.backend.form(&link.context.survey_id, &context).await {
            Ok(form) => Ok((form, language)),
            Err(status)
                if status.code() == tonic::Code::InvalidArgument && language != link.language =>
            {
                context.language = link.language as i32;
                self.backend
                    .form(&link.context.survey_id, &context)
                    .await
                    .map(|form| (form, link.language))
                    .map_err(|s| WebError::from_backend(&s))
            }
            Err(status) => Err(WebError::from_backend(&status)),
        }
    }
}

#[derive(Deserialize, Default)]
pub struct LanguageQuery {
    pub lang: Option<String>,
    pub attention: Option<String>,
}

/// The respondent's choice, else the link's default.
pub fn chosen_language(choice: Option<&str>, link: &Link) -> Language {
    choice.and_then(language_from_code).unwrap_or(link.language)
}

pub fn language_links(form: &GetFormResponse, current: Language, path: &str) -> Vec<LanguageLink> {
    form.languages()
        .map(|language| {
            let t = texts(language);
            LanguageLink {
                tag: t.tag,
                name: t.name,
                href: format!("{path}?lang={}", language_code(language)),
                current: language == current,
            }
        })
        .collect()
}

/// An HTML page with a status, never cached: a shared kiosk or a phone's back button must not
/// bring back someone's answers.
pub fn page(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        markup.into_string(),
    )
        .into_response()
}

/// The page for an error, in `texts`' language (an invalid link, trusted for nothing, says it
/// in every language).
pub fn error_page(error: &WebError, texts: &'static UiTexts) -> Response {
    match error {
        WebError::InvalidLink(reason) => {
            tracing::info!(reason = %reason, "refused a link");
            page(error.status(), invalid_link_page())
        }
        WebError::RateLimited => page(
            error.status(),
            message_page(texts, texts.too_many_title, texts.too_many_body, &[]),
        ),
        WebError::Closed(reason) => {
            tracing::info!(reason = %reason, "a closed survey's link");
            page(
                StatusCode::OK,
                message_page(texts, texts.closed_title, texts.closed_body, &[]),
            )
        }
        WebError::Unavailable(_) | WebError::Config(_) | WebError::Print(_) => {
            tracing::warn!(error = %error, "could not serve a respondent page");
            page(
                error.status(),
                message_page(texts, texts.unavailable_title, texts.unavailable_body, &[]),
            )
        }
    }
}

fn invalid_link_page() -> Markup {
    maud::html! {
        (maud::DOCTYPE)
        html lang="fi" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (FI.invalid_link_title) " | " (SV.invalid_link_title) " | " (EN.invalid_link_title) }
                link rel="stylesheet" href="/static/style.css";
            }
            body {
                main id="main" {
                    @for t in [&FI, &SV, &EN] {
                        section lang=(t.tag) {
                            h1 { (t.invalid_link_title) }
                            p { (t.invalid_link_body) }
                        }
                    }
                }
            }
        }
    }
}

async fn show_form(
    State(app): State<SharedState>,
    Path(token): Path<String>,
    Query(query): Query<LanguageQuery>,
) -> Response {
    let link = match app.verify(&token) {
        Ok(link) => link,
        Err(e) => return error_page(&e, &FI),
    };
    let language = chosen_language(query.lang.as_deref(), &link);
    let (form, language) = match app.form_in(&link, language).await {
        Ok(found) => found,
        Err(e) => return error_page(&e, texts(language)),
    };
    // A new submission id per form load: sending the same load twice stores it once.
    FormReply {
        app: &app,
        link: &link,
        language,
        form: &form,
        submission_id: uuid::Uuid::new_v4().to_string(),
        values: HashMap::new(),
    }
    .page(&QuestionErrors::new(), None, StatusCode::OK)
}

/// One respondent's form as it is drawn again: fresh, or after a send with its values kept.
struct FormReply<'a> {
    app: &'a AppState,
    link: &'a Link,
    language: Language,
    form: &'a GetFormResponse,
    submission_id: String,
    values: HashMap<String, Vec<String>>,
}

impl FormReply<'_> {
    fn page(
        &self,
        errors: &QuestionErrors,
        banner: Option<(&str, &str)>,
        status: StatusCode,
    ) -> Response {
        let t = texts(self.language);
        let path = format!("/f/{}", self.link.token);
        let languages = language_links(self.form, self.language, &path);
        if !self.form.accepting {
            return page(
                StatusCode::OK,
                message_page(t, t.closed_title, t.closed_body, &languages),
            );
        }
        let kiosk = (self.link.channel == Channel::Kiosk).then_some(KioskSettings {
            idle_seconds: self.app.kiosk_idle_seconds,
            return_seconds: self.app.kiosk_return_seconds,
            keep_seconds: KIOSK_ANSWER_WINDOW.num_seconds(),
        });
        page(
            status,
            form_page(&FormPage {
                texts: t,
                form: self.form,
                action: &path,
                submission_id: &self.submission_id,
                languages: &languages,
                values: &self.values,
                errors,
                banner,
                kiosk,
                help: &self.app.help,
                offer: contact::offered(self.app, self.link).then(|| {
                    contact::offer_markup(
                        &contact::offer(&self.link.token, self.language, false),
                        self.language,
                        false,
                    )
                }),
            }),
        )
    }

    fn invalid(&self, errors: &QuestionErrors) -> Response {
        self.page(errors, None, StatusCode::UNPROCESSABLE_ENTITY)
    }
}

async fn submit_form(
    State(app): State<SharedState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let from_kiosk_script = headers.contains_key("x-kaiku-kiosk");
    let link = match app.verify(&token) {
        Ok(link) => link,
        Err(e) => return kiosk_or_page(from_kiosk_script, &e, &FI),
    };
    let fields: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let language = chosen_language(field("lang"), &link);
    if !app.limiter.try_take(link_key(&token)) {
        return kiosk_or_page(from_kiosk_script, &WebError::RateLimited, texts(language));
    }
    let (form, language) = match app.form_in(&link, language).await {
        Ok(found) => found,
        Err(e) => return kiosk_or_page(from_kiosk_script, &e, texts(language)),
    };
    let t = texts(language);
    let values: HashMap<String, Vec<String>> = fields
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("a.").map(|key| (key.to_owned(), v.clone())))
        .fold(HashMap::new(), |mut map, (k, v)| {
            map.entry(k).or_default().push(v);
            map
        });
    let posted_id = field("submission_id").and_then(|s| uuid::Uuid::parse_str(s).ok());
    let reply = FormReply {
        app: &app,
        link: &link,
        language,
        form: &form,
        submission_id: posted_id.unwrap_or_else(uuid::Uuid::new_v4).to_string(),
        values,
    };
    // A missing or malformed id is a form not loaded from us: show it afresh, store nothing.
    if posted_id.is_none() {
        return reply.invalid(&QuestionErrors::new());
    }
    if !form.accepting {
        return if from_kiosk_script {
            kiosk_json(StatusCode::UNPROCESSABLE_ENTITY, "closed")
        } else {
            reply.page(&QuestionErrors::new(), None, StatusCode::OK)
        };
    }
    let answers = match parse_answers(
        &form.questions,
        |key| reply.values.get(key).cloned().unwrap_or_default(),
        ValueSyntax::WebForm,
        t,
    ) {
        Ok(answers) => answers,
        Err(_) if from_kiosk_script => {
            return kiosk_json(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        }
        Err(errors) => return reply.invalid(&errors),
    };
    // A kiosk's queued answer carries the time it was given (it may be sent hours later, once
    // the network is back), within KIOSK_ANSWER_WINDOW.
    let answered_at = match (from_kiosk_script, field("answered_at")) {
        (true, Some(raw)) => match kiosk_answer_time(raw, chrono::Utc::now()) {
            Some(at) => Some(at),
            None => return kiosk_json(StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        },
        _ => None,
    };
    let request = SubmitResponseRequest {
        submission_id: reply.submission_id.clone(),
        survey_id: link.context.survey_id.clone(),
        survey_version: form.survey_version,
        context: Some(ResponseContext {
            language: language as i32,
            ..link.response_context.clone()
        }),
        answers: answers.clone(),
        answered_at,
    };
    let thanks = |flags: &[i32], duplicate: bool| {
        if from_kiosk_script {
            return kiosk_json(
                StatusCode::OK,
                if duplicate { "duplicate" } else { "stored" },
            );
        }
        let attention: Vec<&str> = flags
            .iter()
            .filter_map(|f| AttentionFlag::try_from(*f).ok())
            .filter_map(kaiku_domain::attention::flag_code)
            .collect();
        let mut location = format!("/f/{token}/thanks?lang={}", language_code(language));
        if !attention.is_empty() {
            location.push_str(&format!("&attention={}", attention.join(",")));
        }
        Redirect::to(&location).into_response()
    };
    match app.backend.submit(request).await {
        Ok(stored) => {
            tracing::info!(submission_id = %reply.submission_id, sequence = stored.sequence, duplicate = stored.duplicate, "response stored");
            thanks(&stored.attention_flags, stored.duplicate)
        }
        // The same form load was stored before with other answers (the respondent went back
        // and changed them): the first answers stand, as intake promises.
        Err(status) if status.code() == tonic::Code::AlreadyExists => thanks(&[], true),
        // The period closed between loading and sending; a kiosk's queued answer can never be
        // stored now, so it is dropped from the queue (422).
        Err(status) if status.code() == tonic::Code::FailedPrecondition => {
            if from_kiosk_script {
                kiosk_json(StatusCode::UNPROCESSABLE_ENTITY, "closed")
            } else {
                page(
                    StatusCode::OK,
                    message_page(t, t.closed_title, t.closed_body, &[]),
                )
            }
        }
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            let mut errors = QuestionErrors::new();
            for (field, description) in kaiku_grpc::bad_request_fields(&status) {
                tracing::info!(field = %field, description = %description, "intake refused an answer");
                if let Some(key) = question_of_field(&field, &answers) {
                    errors.insert(key.to_owned(), t.error_invalid.to_owned());
                }
            }
            if from_kiosk_script {
                kiosk_json(StatusCode::UNPROCESSABLE_ENTITY, "invalid")
            } else if errors.is_empty() {
                error_page(&WebError::InvalidLink(status.message().to_owned()), t)
            } else {
                reply.invalid(&errors)
            }
        }
        Err(status) => {
            let error = WebError::from_backend(&status);
            if from_kiosk_script {
                kiosk_json(error.status(), "retry")
            } else {
                // Keep what they wrote: the same id may be sent again safely.
                reply.page(
                    &QuestionErrors::new(),
                    Some((t.unavailable_title, t.unavailable_body)),
                    StatusCode::SERVICE_UNAVAILABLE,
                )
            }
        }
    }
}

/// The time a kiosk says an answer was given, if it is one and lies between
/// [`KIOSK_ANSWER_WINDOW`] ago and a few minutes ahead (a tablet's clock drifts).
pub fn kiosk_answer_time(
    raw: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<prost_types::Timestamp> {
    let at = chrono::DateTime::parse_from_rfc3339(raw.trim())
        .ok()?
        .with_timezone(&chrono::Utc);
    let window = (now - KIOSK_ANSWER_WINDOW)..=(now + chrono::Duration::minutes(5));
    window.contains(&at).then(|| prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    })
}

/// The part of a token that identifies the link for limits: its signature.
pub fn link_key(token: &str) -> &str {
    token.rsplit('.').next().unwrap_or(token)
}

fn kiosk_or_page(from_kiosk_script: bool, error: &WebError, t: &'static UiTexts) -> Response {
    if from_kiosk_script {
        let outcome = match error {
            WebError::InvalidLink(_) => "invalid",
            WebError::Closed(_) => "closed",
            _ => "retry",
        };
        kiosk_json(error.status(), outcome)
    } else {
        error_page(error, t)
    }
}

/// The kiosk script's answer: 200 stored, 422 never storable, anything else retry later.
fn kiosk_json(status: StatusCode, outcome: &str) -> Response {
    let body = serde_json::json!({ "outcome": outcome }).to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn show_thanks(
    State(app): State<SharedState>,
    Path(token): Path<String>,
    Query(query): Query<LanguageQuery>,
) -> Response {
    let link = match app.verify(&token) {
        Ok(link) => link,
        Err(e) => return error_page(&e, &FI),
    };
    let language = chosen_language(query.lang.as_deref(), &link);
    // The respondent's form again, for the thanks and the help that fit their age. The answer is
    // already stored: if the form cannot be read now, the common thanks will do.
    let form = match app.form_in(&link, language).await {
        Ok((form, _)) => Some(form),
        Err(e) => {
            tracing::warn!(error = %e, "thank-you page without the respondent's form");
            None
        }
    };
    let t = texts(language);
    let flags: Vec<AttentionFlag> = query
        .attention
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter_map(kaiku_domain::attention::flag_from_code)
        .collect();
    let form_href = format!("/f/{token}?lang={}", language_code(language));
    let kiosk_return =
        (link.channel == Channel::Kiosk).then_some((form_href.as_str(), app.kiosk_return_seconds));
    page(
        StatusCode::OK,
        thanks_page(&ThanksPage {
            texts: t,
            form: form.as_ref(),
            flags: &flags,
            help: &app.help,
            languages: &[],
            kiosk_return,
            offer: contact::offered(&app, &link).then(|| {
                contact::offer_markup(&contact::offer(&token, language, true), language, true)
            }),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kiosk_answer_time_counts_from_a_week_ago_to_five_minutes_ahead() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .map(|t| t.with_timezone(&chrono::Utc))
            .expect("time");
        let at = |raw: &str| kiosk_answer_time(raw, now).map(|t| t.seconds);
        assert_eq!(at("2026-11-26T09:59:00.123Z"), Some(now.timestamp() - 60));
        assert!(at("2026-11-19T10:00:00Z").is_some());
        assert!(at("2026-11-26T10:05:00+00:00").is_some());
        assert_eq!(at("2026-11-19T09:59:59Z"), None, "older than a week");
        assert_eq!(at("2026-11-26T10:05:01Z"), None, "ahead of the clock");
        assert_eq!(at("yesterday"), None);
    }

    #[test]
    fn the_limit_key_is_the_links_signature() {
        assert_eq!(link_key("v1.k1.e30.c2ln"), "c2ln");
    }
}
