//! The attention list: open feedback that raised a concern (a child-protection concern, a
//! formal objection, thoughts of self-harm), for the unit's manager and county staff only, with
//! what to do about each, and a request to erase a text for good (ResponseIntake.RedactResponse
//! as the signed-in person, audited there). Such texts never reach the results review or the
//! reports: analytics lists them only here (ListAttentionTexts, ADR 0016).

use std::collections::HashMap;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kaiku_domain::erasure::{REQUESTABLE_REASONS, reason_code, requestable_reason};
use kaiku_proto::analytics::v1::{FeedbackText, ListAttentionTextsRequest};
use kaiku_proto::intake::v1::{AttentionFlag, RedactResponseRequest};
use maud::{Markup, html};

use crate::attention_texts::{AttentionTexts, attention_texts};
use crate::error::ConsoleError;
use crate::figures::VisibleUnit;
use crate::layout::Section;
use crate::results_page::{SurveyChoice, select};
use crate::results_routes::{load, query_map};
use crate::texts::Texts;
use crate::web::{Context, SharedState, field};

/// Most texts shown at once; concerns are few, and the newest come first.
const LIMIT: u32 = 200;

pub async fn list(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let query: HashMap<String, String> = query_map(&pairs);
    let context = Context::new(&state, &headers, "/attention", &query);
    let session = match context.require_session() {
        Ok(session) => session.clone(),
        Err(redirect) => return redirect.into_response(),
    };
    let t = context.texts;
    let a = attention_texts(t.tag);
    let erased: Option<u64> = query.get("erased").and_then(|s| s.parse().ok());
    let page = async {
        let Some(mut loaded) = load(&context, &state, &pairs).await? else {
            return Ok(html! { h1 { (a.title) } p { (t.no_surveys) } });
        };
        let texts = loaded
            .clients
            .analytics
            .list_attention_texts(ListAttentionTextsRequest {
                survey_id: loaded.selection.survey_id.clone(),
                unit_subtrees: vec![loaded.selection.unit_id.clone()],
                // After an erasure, the list that no longer has the text.
                min_sequence: erased.unwrap_or(0),
                page_size: LIMIT,
                page_token: String::new(),
            })
            .await?
            .into_inner()
            .texts;
        Ok::<_, ConsoleError>(body(&AttentionPage {
            texts: t,
            words: a,
            surveys: &loaded.surveys,
            units: &loaded.units,
            content: &loaded.content,
            survey_id: &loaded.selection.survey_id,
            unit_id: &loaded.selection.unit_id,
            feedback: &texts,
            csrf: &session.csrf,
            erased: erased.is_some(),
        }))
    };
    context.page(a.title, Section::Attention, StatusCode::OK, page.await)
}

/// Erases one response's open texts as the signed-in person, then shows the list without it.
pub async fn erase(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let context = Context::new(&state, &headers, "/attention", &HashMap::new());
    let result = async {
        context.check_csrf(field(&fields, "csrf"))?;
        let survey_id = field(&fields, "survey").unwrap_or_default().to_owned();
        let sequence = field(&fields, "sequence")
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| ConsoleError::BadRequest {
                field: "sequence".into(),
                problem: "is not a response of the list".into(),
            })?;
        // A code from the list, never the manager's own words: those would be kept on record,
        // and could quote the very text being erased.
        let reason = field(&fields, "reason")
            .and_then(requestable_reason)
            .ok_or_else(|| ConsoleError::BadRequest {
                field: "reason".into(),
                problem: attention_texts(context.texts.tag).choose_reason.into(),
            })?;
        let mut clients = context.clients(&state)?;
        let reply = clients
            .intake
            .redact_response(RedactResponseRequest {
                survey_id: survey_id.clone(),
                sequence,
                reason: reason as i32,
            })
            .await?
            .into_inner();
        Ok::<_, ConsoleError>((survey_id, reply.redaction_sequence))
    };
    match result.await {
        Ok((survey_id, redaction_sequence)) => {
            let mut query = form_urlencoded::Serializer::new(String::new());
            query.append_pair("survey", &survey_id);
            query.append_pair("unit", field(&fields, "unit").unwrap_or_default());
            query.append_pair("erased", &redaction_sequence.to_string());
            let mut response =
                Redirect::to(&format!("/attention?{}", query.finish())).into_response();
            *response.status_mut() = StatusCode::SEE_OTHER;
            response
        }
        Err(e) => context.error(&e),
    }
}

struct AttentionPage<'a> {
    texts: &'static Texts,
    words: &'static AttentionTexts,
    surveys: &'a [SurveyChoice],
    units: &'a [VisibleUnit],
    content: &'a kaiku_proto::survey::v1::SurveyContent,
    survey_id: &'a str,
    unit_id: &'a str,
    feedback: &'a [FeedbackText],
    csrf: &'a str,
    erased: bool,
}

fn flag_codes(text: &FeedbackText) -> Vec<&'static str> {
    text.attention_flags
        .iter()
        .filter_map(|f| AttentionFlag::try_from(*f).ok())
        .filter_map(kaiku_domain::attention::flag_code)
        .collect()
}

fn body(page: &AttentionPage<'_>) -> Markup {
    let (t, a) = (page.texts, page.words);
    let survey_options: Vec<(String, String)> = page
        .surveys
        .iter()
        .map(|s| (s.survey_id.clone(), s.title.clone()))
        .collect();
    let unit_options: Vec<(String, String)> = page
        .units
        .iter()
        .map(|u| (u.unit.unit_id.clone(), u.name.clone()))
        .collect();
    let unit_name = |id: &str| {
        page.units
            .iter()
            .find(|u| u.unit.unit_id == id)
            .map_or_else(|| id.to_owned(), |u| u.name.clone())
    };
    html! {
        h1 { (a.title) }
        p { (a.intro) }
        form.filters method="get" action="/attention" {
            fieldset {
                legend.visually-hidden { (t.filters) }
                (select("survey", t.survey, &survey_options, page.survey_id))
                (select("unit", t.unit, &unit_options, page.unit_id))
                button type="submit" { (t.show) }
            }
        }
        @if page.erased { p.notice role="status" id="erased" { (a.erased) } }
        p { (a.anonymous) }
        @if page.feedback.is_empty() { p id="no-attention" { (a.none) } }
        @for (i, text) in page.feedback.iter().enumerate() {
            @let codes = flag_codes(text);
            @let heading = format!("attention-{i}");
            article.attention id={ "attention-" (text.sequence) "-" (text.question_key) } aria-labelledby=(heading) data-sequence=(text.sequence) data-flags=(codes.join(",")) {
                h2 id=(heading) {
                    (codes.iter().filter_map(|c| a.flag(c)).map(|(name, _)| name).collect::<Vec<_>>().join(" · "))
                }
                dl {
                    dt { (a.unit) } dd { (unit_name(&text.unit_id)) }
                    dt { (a.answered_on) } dd {
                        @if let Some(d) = &text.answered_on { (d.day) "." (d.month) "." (d.year) }
                    }
                    dt { (a.respondent) } dd {
                        (kaiku_proto::survey::v1::RespondentRole::try_from(text.respondent_role).map_or("-", |r| t.role(r)))
                        @if !text.age_band.is_empty() { " (" (crate::figures::age_band_label(page.content, &text.age_band)) ")" }
                    }
                    dt { (a.channel) } dd {
                        (kaiku_proto::survey::v1::Channel::try_from(text.channel).map_or("-", |c| t.channel_name(c)))
                    }
                }
                blockquote.feedback lang=(kaiku_domain::codes::language_code_of(text.language)) { p { (text.text) } }
                h3 { (a.what_to_do) }
                @for code in &codes {
                    @if let Some((name, guidance)) = a.flag(code) {
                        p.guidance data-guidance=(code) { strong { (name) ": " } (guidance) }
                    }
                }
                details.erase {
                    summary { (a.erase_title) }
                    p { (a.erase_intro) }
                    form method="post" action="/attention/erase" {
                        input type="hidden" name="csrf" value=(page.csrf);
                        input type="hidden" name="survey" value=(page.survey_id);
                        input type="hidden" name="unit" value=(page.unit_id);
                        input type="hidden" name="sequence" value=(text.sequence);
                        div.field {
                            label for={ "reason-" (i) } { (a.reason) }
                            select id={ "reason-" (i) } name="reason" required {
                                option value="" { (a.choose_reason) }
                                @for reason in REQUESTABLE_REASONS {
                                    @let code = reason_code(reason);
                                    @if let Some(label) = a.reason_label(code) {
                                        option value=(code) { (label) }
                                    }
                                }
                            }
                        }
                        button type="submit" { (a.erase) }
                    }
                }
            }
        }
    }
}
