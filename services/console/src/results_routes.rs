//! Results, the results review and the reports: each reads the selection from the query, checks
//! it against what the person may see, and reads the figures as that person.

use std::collections::HashMap;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use kaiku_domain::codes::{language_from_code, role_from_code};
use kaiku_proto::survey::v1::{
    FollowUpDevelopmentTargetRequest, ListDevelopmentTargetsRequest,
    RecordDevelopmentTargetRequest, SurveyContent, SurveyStatus, TargetProgress,
};
use maud::html;

use crate::backend::Clients;
use crate::error::ConsoleError;
use crate::figures::{self, Selection, VisibleUnit, current_content, periods, text_in};

use crate::layout::Section;
use crate::report::{self, ReportSubject};
use crate::results_page::{
    ResultsPage, SurveyChoice, channel_from_query, parse_code, results_body,
};
use crate::review_page::{ReviewPage, review_body};
use crate::web::{Context, SharedState, field};

/// Everything a results page starts from.
pub(crate) struct Loaded {
    pub(crate) clients: Clients,
    pub(crate) surveys: Vec<SurveyChoice>,
    pub(crate) units: Vec<VisibleUnit>,
    pub(crate) content: SurveyContent,
    pub(crate) selection: Selection,
}

impl Loaded {
    async fn results(
        &mut self,
        language: kaiku_proto::survey::v1::Language,
    ) -> Result<figures::ResultsSet, ConsoleError> {
        figures::results(
            &mut self.clients,
            &self.selection,
            &self.content,
            &self.units,
            language,
        )
        .await
    }

    fn unit_name(&self) -> String {
        self.units
            .iter()
            .find(|u| u.unit.unit_id == self.selection.unit_id)
            .map_or_else(|| self.selection.unit_id.clone(), |u| u.name.clone())
    }

    fn survey_title(&self, context: &Context) -> String {
        text_in(&self.content.titles, context.texts.language_enum)
    }

    fn period_label(&self, context: &Context) -> String {
        figures::period_label(context.texts, &self.content, &self.selection.period)
    }
}

/// The period shown when none is asked for: the latest that has started, else all of them.
fn default_period(content: &SurveyContent) -> Option<String> {
    let today = figures::today();
    periods(content)
        .into_iter()
        .rfind(|p| {
            p.starts_on
                .as_ref()
                .is_some_and(|d| (d.year, d.month, d.day) <= today)
        })
        .map(|p| p.period_id)
}

/// The query as pairs (a checkbox per role repeats `role`) and as a map for the rest.
pub(crate) fn query_map(pairs: &[(String, String)]) -> HashMap<String, String> {
    pairs
        .iter()
        .filter(|(name, _)| name != "role")
        .cloned()
        .collect()
}

/// The roles asked for by `role=` (repeated), each a role of the survey; every role of the
/// survey when none is named, so nobody's answers are left out unseen.
fn chosen_roles(
    pairs: &[(String, String)],
    content: &SurveyContent,
) -> Result<Vec<kaiku_proto::survey::v1::RespondentRole>, ConsoleError> {
    let offered = figures::survey_roles(content);
    let mut roles = Vec::new();
    for (_, code) in pairs
        .iter()
        .filter(|(name, value)| name == "role" && !value.is_empty())
    {
        let role = parse_code("role", Some(code), role_from_code)?
            .filter(|r| offered.contains(r))
            .ok_or_else(|| ConsoleError::BadRequest {
                field: "role".into(),
                problem: format!("the survey has no respondents of role {code:?}"),
            })?;
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    // In the survey's order, whatever order the query had.
    roles.sort_by_key(|r| offered.iter().position(|o| o == r));
    Ok(if roles.is_empty() { offered } else { roles })
}

pub(crate) async fn load(
    context: &Context,
    state: &crate::web::AppState,
    pairs: &[(String, String)],
) -> Result<Option<Loaded>, ConsoleError> {
    let query = &query_map(pairs);
    let mut clients = context.clients(state)?;
    let staff = context
        .session
        .as_ref()
        .map(|(_, s)| s.staff.clone())
        .ok_or_else(|| ConsoleError::Forbidden("not signed in".into()))?;
    let language = context.texts.language_enum;
    let surveys: Vec<SurveyChoice> = figures::surveys(&mut clients)
        .await?
        .into_iter()
        .filter(|s| s.status == SurveyStatus::Published as i32)
        .map(|s| SurveyChoice {
            survey_id: s.survey_id,
            title: text_in(&s.titles, language),
        })
        .collect();
    let survey_id = match query.get("survey").filter(|s| !s.is_empty()) {
        Some(id) => {
            if !surveys.iter().any(|s| &s.survey_id == id) {
                return Err(ConsoleError::NotFound(format!("survey {id}")));
            }
            id.clone()
        }
        None => match surveys.first() {
            Some(first) => first.survey_id.clone(),
            None => return Ok(None),
        },
    };
    let survey = figures::survey(&mut clients, &survey_id).await?;
    let content = current_content(&survey);
    let units = figures::visible_units(&mut clients, &staff, language).await?;
    let unit_id = match query.get("unit").filter(|u| !u.is_empty()) {
        Some(unit) if units.iter().any(|u| &u.unit.unit_id == unit) => unit.clone(),
        Some(unit) => return Err(ConsoleError::NotFound(format!("unit {unit}"))),
        None => units
            .first()
            .map(|u| u.unit.unit_id.clone())
            .ok_or_else(|| ConsoleError::NotFound("no unit is yours to see".into()))?,
    };
    let period = match query.get("period").map(String::as_str) {
        None | Some("") => default_period(&content),
        Some("all") => None,
        Some("continuous") => Some(String::new()),
        Some(p) if periods(&content).iter().any(|x| x.period_id == p) => Some(p.to_owned()),
        Some(p) => {
            return Err(ConsoleError::BadRequest {
                field: "period".into(),
                problem: format!("the survey has no collection period {p:?}"),
            });
        }
    };
    let known = |field: &str, value: Option<&String>, options: Vec<String>| match value
        .filter(|v| !v.is_empty())
    {
        None => Ok(None),
        Some(v) if options.contains(v) => Ok(Some(v.clone())),
        Some(v) => Err(ConsoleError::BadRequest {
            field: field.to_owned(),
            problem: format!("the survey has no {v:?}"),
        }),
    };
    let selection = Selection {
        survey_id,
        unit_id,
        period,
        channel: channel_from_query(query.get("channel"))?,
        roles: chosen_roles(pairs, &content)?,
        professional_group: known(
            "group",
            query.get("group"),
            content
                .professional_groups
                .iter()
                .map(|g| g.key.clone())
                .collect(),
        )?,
        age_band: known(
            "age",
            query.get("age"),
            content.age_bands.iter().map(|a| a.key.clone()).collect(),
        )?,
        language: parse_code("language", query.get("language"), language_from_code)?,
    };
    Ok(Some(Loaded {
        clients,
        surveys,
        units,
        content,
        selection,
    }))
}

fn no_surveys(context: &Context, title: &str, section: Section) -> Response {
    let t = context.texts;
    context.render(
        title,
        section,
        StatusCode::OK,
        html! { h1 { (title) } p { (t.no_surveys) } },
    )
}

pub async fn results(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let query = query_map(&pairs);
    let context = Context::new(&state, &headers, "/results", &query);
    if let Err(redirect) = context.require_session() {
        return redirect.into_response();
    }
    let t = context.texts;
    let page = async {
        let Some(mut loaded) = load(&context, &state, &pairs).await? else {
            return Ok(None);
        };
        let results = loaded.results(t.language_enum).await?;
        results_body(&ResultsPage {
            texts: t,
            surveys: &loaded.surveys,
            units: &loaded.units,
            content: &loaded.content,
            selection: &loaded.selection,
            results: &results,
        })
        .map(Some)
    };
    match page.await {
        Ok(Some(body)) => context.render(t.results_title, Section::Results, StatusCode::OK, body),
        Ok(None) => no_surveys(&context, t.results_title, Section::Results),
        Err(e) => context.error(&e),
    }
}

pub async fn review(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let query = query_map(&pairs);
    let context = Context::new(&state, &headers, "/review", &query);
    let session = match context.require_session() {
        Ok(session) => session.clone(),
        Err(redirect) => return redirect.into_response(),
    };
    let t = context.texts;
    let page = async {
        let Some(mut loaded) = load(&context, &state, &pairs).await? else {
            return Ok(None);
        };
        let results = loaded.results(t.language_enum).await?;
        let mut feedback = Vec::new();
        for role in loaded.selection.roles.clone() {
            let texts =
                figures::feedback(&mut loaded.clients, &loaded.selection, role, 400).await?;
            feedback.push((role, texts));
        }
        let targets = loaded
            .clients
            .surveys
            .list_development_targets(ListDevelopmentTargetsRequest {
                unit_id: loaded.selection.unit_id.clone(),
                survey_id: loaded.selection.survey_id.clone(),
            })
            .await?
            .into_inner()
            .targets;
        let unit_name = loaded.unit_name();
        review_body(&ReviewPage {
            texts: t,
            surveys: &loaded.surveys,
            units: &loaded.units,
            content: &loaded.content,
            selection: &loaded.selection,
            unit_name: &unit_name,
            results: &results,
            feedback: &feedback,
            targets: &targets,
            csrf: &session.csrf,
            saved: query.contains_key("saved"),
        })
        .map(Some)
    };
    match page.await {
        Ok(Some(body)) => context.render(t.review_title, Section::Review, StatusCode::OK, body),
        Ok(None) => no_surveys(&context, t.review_title, Section::Review),
        Err(e) => context.error(&e),
    }
}

/// Back to the review of the same selection, saying it was saved (Post/Redirect/Get).
fn back_to_review(fields: &[(String, String)]) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for name in ["survey", "unit", "period"] {
        query.append_pair(name, field(fields, name).unwrap_or_default());
    }
    for (_, role) in fields.iter().filter(|(name, _)| name == "role") {
        query.append_pair("role", role);
    }
    query.append_pair("saved", "1");
    let mut response = Redirect::to(&format!("/review?{}#targets", query.finish())).into_response();
    *response.status_mut() = StatusCode::SEE_OTHER;
    response
}

/// The period a target is for: "" for continuous collection (or all periods).
fn target_period(fields: &[(String, String)]) -> String {
    match field(fields, "period") {
        None | Some("all") | Some("continuous") => String::new(),
        Some(p) => p.to_owned(),
    }
}

/// What the review page's forms post.
enum ReviewChange {
    RecordTarget,
    FollowUp { target_id: String },
}

pub async fn record_target(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    review_change(state, headers, fields, ReviewChange::RecordTarget).await
}

pub async fn follow_up(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(target_id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    review_change(state, headers, fields, ReviewChange::FollowUp { target_id }).await
}

async fn review_change(
    state: SharedState,
    headers: HeaderMap,
    fields: Vec<(String, String)>,
    change: ReviewChange,
) -> Response {
    let context = Context::new(&state, &headers, "/review", &HashMap::new());
    let result = async {
        context.check_csrf(field(&fields, "csrf"))?;
        let unit_id = field(&fields, "unit").unwrap_or_default().to_owned();
        let mut clients = context.clients(&state)?;
        match change {
            ReviewChange::RecordTarget => {
                clients
                    .surveys
                    .record_development_target(RecordDevelopmentTargetRequest {
                        unit_id,
                        survey_id: field(&fields, "survey").unwrap_or_default().to_owned(),
                        period_id: target_period(&fields),
                        text: field(&fields, "text").unwrap_or_default().to_owned(),
                        target_id: String::new(),
                    })
                    .await?;
            }
            ReviewChange::FollowUp { target_id } => {
                let progress = field(&fields, "progress")
                    .and_then(TargetProgress::from_str_name)
                    .ok_or_else(|| ConsoleError::BadRequest {
                        field: "progress".into(),
                        problem: "choose one of the listed values".into(),
                    })?;
                clients
                    .surveys
                    .follow_up_development_target(FollowUpDevelopmentTargetRequest {
                        unit_id,
                        target_id,
                        progress: progress as i32,
                        note: field(&fields, "note").unwrap_or_default().to_owned(),
                        period_id: target_period(&fields),
                    })
                    .await?;
            }
        }
        Ok::<_, ConsoleError>(())
    };
    match result.await {
        Ok(()) => back_to_review(&fields),
        Err(e) => context.error(&e),
    }
}

fn report_subject_parts(loaded: &Loaded, context: &Context) -> (String, String, String, String) {
    (
        loaded.survey_title(context),
        loaded.unit_name(),
        loaded.period_label(context),
        kaiku_domain::time::helsinki_date(Utc::now())
            .format("%Y-%m-%d")
            .to_string(),
    )
}

async fn report(
    state: SharedState,
    headers: HeaderMap,
    pairs: Vec<(String, String)>,
    pdf: bool,
) -> Response {
    let query = query_map(&pairs);
    let path = if pdf {
        "/reports/results.pdf"
    } else {
        "/reports/results.csv"
    };
    let context = Context::new(&state, &headers, path, &query);
    if let Err(redirect) = context.require_session() {
        return redirect.into_response();
    }
    let t = context.texts;
    let made = async {
        let mut loaded = load(&context, &state, &pairs)
            .await?
            .ok_or_else(|| ConsoleError::NotFound("no published survey".into()))?;
        let results = loaded.results(t.language_enum).await?;
        let (survey_title, unit_name, period_label, generated) =
            report_subject_parts(&loaded, &context);
        let ages = crate::results_page::ages_label(t, &loaded.content, &loaded.selection);
        let subject = ReportSubject {
            survey_title: &survey_title,
            unit_name: &unit_name,
            period_label: &period_label,
            ages: &ages,
            generated: &generated,
        };
        let file = format!(
            "kaiku-{}-{}",
            loaded.selection.unit_id,
            crate::results_page::period_value(&loaded.selection.period)
        );
        if pdf {
            Ok::<_, ConsoleError>((
                report::pdf(t, &subject, &results)?,
                "application/pdf",
                format!("{file}.pdf"),
            ))
        } else {
            Ok((
                report::csv(&subject, &results).into_bytes(),
                "text/csv; charset=utf-8",
                format!("{file}.csv"),
            ))
        }
    };
    match made.await {
        Ok((bytes, content_type, file)) => (
            [
                (header::CONTENT_TYPE, content_type.to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("inline; filename=\"{file}\""),
                ),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => context.error(&e),
    }
}

pub async fn report_pdf(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    report(state, headers, pairs, true).await
}

pub async fn report_csv(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    report(state, headers, pairs, false).await
}
