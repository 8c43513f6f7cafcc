//! Survey set-up (county staff): list, create from a template, edit the texts, publish.

use std::collections::HashMap;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, NaiveDate};
use kaiku_proto::survey::v1::{
    CollectionPeriod, ContinuousCollection, CreateSurveyRequest, Language, ListTemplatesRequest,
    LocalDate, LocalizedText, PublishVersionRequest, ScheduledCollection, SurveyContent,
    UpdateDraftRequest, survey_content,
};

use crate::error::ConsoleError;
use crate::figures::{self, VisibleUnit};
use crate::layout::Section;
use crate::links_page::{LinkChoice, links_body, links_form};
use crate::surveys_page::{survey_body, surveys_body};
use crate::web::{Context, SharedState, field};

const LANGUAGES: [Language; 3] = [Language::Fi, Language::Sv, Language::En];

/// Only county staff set up surveys; the services would refuse the rest anyway.
fn require_admin(context: &Context) -> Result<(), ConsoleError> {
    match &context.session {
        Some((_, s)) if s.staff.role.sets_up_surveys() => Ok(()),
        _ => Err(ConsoleError::Forbidden(
            "survey set-up is for the county's customer-experience staff".into(),
        )),
    }
}

/// The clients and the form token of a survey set-up page.
pub fn admin_clients(
    context: &Context,
    state: &crate::web::AppState,
) -> Result<(crate::backend::Clients, String), ConsoleError> {
    require_admin(context)?;
    let csrf = context
        .session
        .as_ref()
        .map(|(_, s)| s.csrf.clone())
        .unwrap_or_default();
    Ok((context.clients(state)?, csrf))
}

pub fn redirect(to: &str) -> Response {
    let mut response = Redirect::to(to).into_response();
    *response.status_mut() = StatusCode::SEE_OTHER;
    response
}

/// The units the signed-in person may see.
pub async fn staff_units(
    context: &Context,
    clients: &mut crate::backend::Clients,
) -> Result<Vec<VisibleUnit>, ConsoleError> {
    let staff = context
        .session
        .as_ref()
        .map(|(_, s)| s.staff.clone())
        .ok_or_else(|| ConsoleError::Forbidden("not signed in".into()))?;
    figures::visible_units(clients, &staff, context.texts.language_enum).await
}

/// The units a survey takes answers for: its targets and every unit below them.
pub fn covered_units(units: &[VisibleUnit], content: &SurveyContent) -> Vec<VisibleUnit> {
    let parent = |id: &str| {
        units
            .iter()
            .find(|u| u.unit.unit_id == id)
            .map(|u| u.unit.parent_unit_id.clone())
            .unwrap_or_default()
    };
    units
        .iter()
        .filter(|u| {
            let mut current = u.unit.unit_id.clone();
            for _ in 0..=units.len() {
                if content.unit_ids.contains(&current) {
                    return true;
                }
                current = parent(&current);
                if current.is_empty() {
                    break;
                }
            }
            false
        })
        .cloned()
        .collect()
}

/// The problems of a refused request, one per field when the service named them.
pub fn problem_lines(error: &ConsoleError) -> Vec<String> {
    match error {
        ConsoleError::Backend { message, .. } => message.split("; ").map(str::to_owned).collect(),
        other => vec![other.to_string()],
    }
}

async fn list_page(
    context: &Context,
    state: &crate::web::AppState,
    refused: &[String],
    status: StatusCode,
) -> Response {
    let t = context.texts;
    let page = async {
        let (mut clients, csrf) = admin_clients(context, state)?;
        let surveys = figures::surveys(&mut clients).await?;
        let templates = clients
            .surveys
            .list_templates(ListTemplatesRequest {})
            .await?
            .into_inner()
            .templates;
        let units = staff_units(context, &mut clients).await?;
        Ok::<_, ConsoleError>(surveys_body(
            t, &surveys, &templates, &units, &csrf, refused,
        ))
    };
    context.page(t.surveys_title, Section::Surveys, status, page.await)
}

pub async fn list(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let context = Context::new(&state, &headers, "/surveys", &query);
    if let Err(redirect) = context.require_session() {
        return redirect.into_response();
    }
    list_page(&context, &state, &[], StatusCode::OK).await
}

fn date(field_name: &str, value: Option<&str>) -> Result<LocalDate, ConsoleError> {
    let value = value.unwrap_or_default();
    let parsed =
        NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| ConsoleError::BadRequest {
            field: field_name.to_owned(),
            problem: format!("must be a date (YYYY-MM-DD), got {value:?}"),
        })?;
    Ok(LocalDate {
        year: parsed.year(),
        month: parsed.month() as i32,
        day: parsed.day() as i32,
    })
}

/// Titles from `title_fi`, `title_sv`, `title_en`; the template's where a field is empty.
fn titles(fields: &[(String, String)], fallback: &[LocalizedText]) -> Vec<LocalizedText> {
    LANGUAGES
        .iter()
        .filter_map(|l| {
            let code = kaiku_domain::codes::language_code(*l);
            let given = field(fields, &format!("title_{code}"))
                .map(str::trim)
                .filter(|s| !s.is_empty());
            given
                .map(str::to_owned)
                .or_else(|| {
                    fallback
                        .iter()
                        .find(|t| t.language == *l as i32)
                        .map(|t| t.text.clone())
                })
                .map(|text| LocalizedText {
                    language: *l as i32,
                    text,
                })
        })
        .collect()
}

/// The period the form names, its dates checked here (the survey checks the rest).
fn period_from(fields: &[(String, String)]) -> Result<CollectionPeriod, ConsoleError> {
    Ok(CollectionPeriod {
        period_id: field(fields, "period_id")
            .unwrap_or_default()
            .trim()
            .to_owned(),
        starts_on: Some(date("starts_on", field(fields, "starts_on"))?),
        ends_on: Some(date("ends_on", field(fields, "ends_on"))?),
    })
}

/// The draft with `period` scheduled too; a continuous survey becomes a scheduled one.
fn with_period(mut draft: SurveyContent, period: CollectionPeriod) -> SurveyContent {
    let mut periods = match draft.collection.take() {
        Some(survey_content::Collection::Scheduled(scheduled)) => scheduled.periods,
        _ => Vec::new(),
    };
    periods.push(period);
    draft.collection = Some(survey_content::Collection::Scheduled(ScheduledCollection {
        periods,
    }));
    draft
}

fn new_survey_content(
    template: SurveyContent,
    fields: &[(String, String)],
) -> Result<SurveyContent, ConsoleError> {
    let mut content = template;
    content.titles = titles(fields, &content.titles);
    content.unit_ids = fields
        .iter()
        .filter(|(k, _)| k == "unit")
        .map(|(_, v)| v.clone())
        .collect();
    content.collection = Some(match field(fields, "collection") {
        Some("period") => survey_content::Collection::Scheduled(ScheduledCollection {
            periods: vec![CollectionPeriod {
                period_id: field(fields, "period_id")
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
                starts_on: Some(date("starts_on", field(fields, "starts_on"))?),
                ends_on: Some(date("ends_on", field(fields, "ends_on"))?),
            }],
        }),
        _ => survey_content::Collection::Continuous(ContinuousCollection {}),
    });
    Ok(content)
}

pub async fn create(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let context = Context::new(&state, &headers, "/surveys", &HashMap::new());
    let created = async {
        context.check_csrf(field(&fields, "csrf"))?;
        require_admin(&context)?;
        let mut clients = context.clients(&state)?;
        let key = field(&fields, "template").unwrap_or_default();
        let template = clients
            .surveys
            .list_templates(ListTemplatesRequest {})
            .await?
            .into_inner()
            .templates
            .into_iter()
            .find(|t| t.key == key)
            .and_then(|t| t.content)
            .ok_or_else(|| ConsoleError::BadRequest {
                field: "template".into(),
                problem: format!("there is no template {key:?}"),
            })?;
        let draft = new_survey_content(template, &fields)?;
        let survey = clients
            .surveys
            .create_survey(CreateSurveyRequest {
                survey_id: String::new(),
                draft: Some(draft),
            })
            .await?
            .into_inner()
            .survey
            .ok_or_else(|| ConsoleError::Backend {
                code: tonic::Code::Internal,
                message: "no survey in the reply".into(),
                reason: String::new(),
            })?;
        Ok::<_, ConsoleError>(survey.survey_id)
    };
    match created.await {
        Ok(id) => redirect(&format!("/surveys/{id}")),
        Err(ConsoleError::Forgery) => context.error(&ConsoleError::Forgery),
        Err(e) => list_page(&context, &state, &problem_lines(&e), e.status()).await,
    }
}

async fn survey_page(
    context: &Context,
    state: &crate::web::AppState,
    survey_id: &str,
    refused: &[String],
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let t = context.texts;
    let page = async {
        let (mut clients, csrf) = admin_clients(context, state)?;
        let survey = figures::survey(&mut clients, survey_id).await?;
        let links_form = if survey.versions.is_empty() {
            None
        } else {
            let units = staff_units(context, &mut clients).await?;
            let content = figures::current_content(&survey);
            let covered = covered_units(&units, &content);
            Some(links_form(
                t,
                survey_id,
                &content,
                &covered,
                state.links.is_some(),
            ))
        };
        Ok::<_, ConsoleError>(survey_body(t, &survey, &csrf, refused, notice, links_form))
    };
    context.page(t.surveys_title, Section::Surveys, status, page.await)
}

pub async fn show(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(survey_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let context = Context::new(&state, &headers, &format!("/surveys/{survey_id}"), &query);
    if let Err(redirect) = context.require_session() {
        return redirect.into_response();
    }
    let notice = query
        .contains_key("published")
        .then_some(context.texts.published_notice);
    survey_page(&context, &state, &survey_id, &[], notice, StatusCode::OK).await
}

pub fn revision(fields: &[(String, String)]) -> Result<u64, ConsoleError> {
    let value = field(fields, "revision").unwrap_or_default();
    value.parse().map_err(|_| ConsoleError::BadRequest {
        field: "revision".into(),
        problem: format!("must be a number, got {value:?}"),
    })
}

/// The two changes the survey page posts.
enum SurveyChange {
    /// Titles and question texts from the form, onto the draft.
    Texts,
    /// One more scheduled collection period in the draft (published with the next version).
    AddPeriod,
    Publish,
}

/// POST /surveys/{id}/draft, /periods or /publish.
pub async fn change_survey(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path((survey_id, change_name)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let change_kind = match change_name.as_str() {
        "draft" => SurveyChange::Texts,
        "periods" => SurveyChange::AddPeriod,
        "publish" => SurveyChange::Publish,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    change(state, headers, survey_id, fields, change_kind).await
}

/// The draft with the form's titles and question texts; an emptied text is removed (and
/// publishing then names what is missing).
fn edited_draft(mut draft: SurveyContent, fields: &[(String, String)]) -> SurveyContent {
    draft.titles = titles(fields, &[]);
    for question in &mut draft.questions {
        question.texts = LANGUAGES
            .iter()
            .filter_map(|l| {
                let code = kaiku_domain::codes::language_code(*l);
                field(fields, &format!("q_{}_{code}", question.key))
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|text| LocalizedText {
                        language: *l as i32,
                        text: text.to_owned(),
                    })
            })
            .collect();
    }
    draft
}

async fn change(
    state: SharedState,
    headers: HeaderMap,
    survey_id: String,
    fields: Vec<(String, String)>,
    change: SurveyChange,
) -> Response {
    let context = Context::new(
        &state,
        &headers,
        &format!("/surveys/{survey_id}"),
        &HashMap::new(),
    );
    let changed = async {
        context.check_csrf(field(&fields, "csrf"))?;
        require_admin(&context)?;
        let expected_revision = revision(&fields)?;
        let mut clients = context.clients(&state)?;
        match change {
            SurveyChange::Texts | SurveyChange::AddPeriod => {
                let survey = figures::survey(&mut clients, &survey_id).await?;
                let draft = match change {
                    SurveyChange::Texts => edited_draft(survey.draft.unwrap_or_default(), &fields),
                    _ => with_period(survey.draft.unwrap_or_default(), period_from(&fields)?),
                };
                clients
                    .surveys
                    .update_draft(UpdateDraftRequest {
                        survey_id: survey_id.clone(),
                        expected_revision,
                        draft: Some(draft),
                    })
                    .await?;
                Ok::<_, ConsoleError>(format!("/surveys/{survey_id}"))
            }
            SurveyChange::Publish => {
                clients
                    .surveys
                    .publish_version(PublishVersionRequest {
                        survey_id: survey_id.clone(),
                        expected_revision,
                    })
                    .await?;
                Ok(format!("/surveys/{survey_id}?published=1"))
            }
        }
    };
    match changed.await {
        Ok(next) => redirect(&next),
        Err(ConsoleError::Forgery) => context.error(&ConsoleError::Forgery),
        Err(e) => {
            survey_page(
                &context,
                &state,
                &survey_id,
                &problem_lines(&e),
                None,
                e.status(),
            )
            .await
        }
    }
}

/// The signed link of one choice and its printouts.
pub async fn links(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(survey_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let context = Context::new(
        &state,
        &headers,
        &format!("/surveys/{survey_id}/links"),
        &query,
    );
    if let Err(redirect) = context.require_session() {
        return redirect.into_response();
    }
    let t = context.texts;
    let page = async {
        let (mut clients, _) = admin_clients(&context, &state)?;
        let signer = state
            .links
            .as_ref()
            .ok_or_else(|| ConsoleError::Config(t.links_not_configured.to_owned()))?;
        let survey = figures::survey(&mut clients, &survey_id).await?;
        let content = figures::current_content(&survey);
        let units = covered_units(&staff_units(&context, &mut clients).await?, &content);
        let choice = link_choice(&query, &content, &units)?;
        let token = signer
            .keys
            .sign(&kaiku_links::LinkContext {
                survey_id: survey_id.clone(),
                unit_id: choice.unit.clone(),
                channel: choice.channel.clone(),
                respondent_role: choice.role.clone(),
                professional_group: choice.group.clone(),
                age_band: choice.age_band.clone(),
                language: choice.language.clone(),
            })
            .map_err(|e| ConsoleError::BadRequest {
                field: "unit".into(),
                problem: e.to_string(),
            })?;
        let links = kaiku_links::ChannelLinks::new(
            &signer.web_form_url,
            &token,
            &choice.channel,
            &choice.language,
        );
        let title = figures::text_in(&content.titles, t.language_enum);
        let qr = match &links.form {
            Some(form) => Some(
                kaiku_print::QrMatrix::encode(form)?.to_svg(&format!("{}: {title}", t.qr_code)),
            ),
            None => None,
        };
        let unit_name = units
            .iter()
            .find(|u| u.unit.unit_id == choice.unit)
            .map(|u| u.name.clone())
            .unwrap_or_default();
        Ok::<_, ConsoleError>(links_body(t, &title, &unit_name, &links, qr.as_deref()))
    };
    context.page(t.links_title, Section::Surveys, StatusCode::OK, page.await)
}

/// The choice in the query, each value one the survey offers, or the field that is not.
fn link_choice(
    query: &HashMap<String, String>,
    content: &SurveyContent,
    units: &[VisibleUnit],
) -> Result<LinkChoice, ConsoleError> {
    let value = |name: &str| query.get(name).cloned().unwrap_or_default();
    let offered = |field: &str, value: &str, options: Vec<String>, optional: bool| {
        if (optional && value.is_empty()) || options.iter().any(|o| o == value) {
            Ok(())
        } else {
            Err(ConsoleError::BadRequest {
                field: field.to_owned(),
                problem: format!("the survey does not offer {value:?}"),
            })
        }
    };
    use kaiku_domain::codes::{channel_code_of, language_code_of, role_code_of};
    let choice = LinkChoice {
        unit: value("unit"),
        channel: value("channel"),
        role: value("role"),
        group: value("group"),
        age_band: value("age"),
        language: value("language"),
    };
    offered(
        "unit",
        &choice.unit,
        units.iter().map(|u| u.unit.unit_id.clone()).collect(),
        false,
    )?;
    offered(
        "channel",
        &choice.channel,
        content
            .channels
            .iter()
            .map(|c| channel_code_of(*c).to_owned())
            .collect(),
        false,
    )?;
    offered(
        "role",
        &choice.role,
        content
            .respondent_roles
            .iter()
            .map(|r| role_code_of(*r).to_owned())
            .collect(),
        false,
    )?;
    offered(
        "group",
        &choice.group,
        content
            .professional_groups
            .iter()
            .map(|g| g.key.clone())
            .collect(),
        true,
    )?;
    offered(
        "age",
        &choice.age_band,
        content.age_bands.iter().map(|a| a.key.clone()).collect(),
        true,
    )?;
    offered(
        "language",
        &choice.language,
        content
            .languages
            .iter()
            .map(|l| language_code_of(*l).to_owned())
            .collect(),
        false,
    )?;
    Ok(choice)
}
