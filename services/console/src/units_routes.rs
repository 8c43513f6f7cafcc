//! Unit management (county staff): the tree, create, rename.

use std::collections::HashMap;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kaiku_proto::survey::v1::{CreateUnitRequest, LocalizedText, RenameUnitRequest, UnitLevel};

use crate::error::ConsoleError;
use crate::layout::Section;
use crate::survey_routes::{admin_clients, problem_lines, redirect, staff_units};
use crate::units_page::{LANGUAGES, unit_body, units_body};
use crate::web::{Context, SharedState, field};

fn names(fields: &[(String, String)]) -> Vec<LocalizedText> {
    LANGUAGES
        .iter()
        .filter_map(|l| {
            let code = kaiku_domain::codes::language_code(*l);
            field(fields, &format!("name_{code}"))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|text| LocalizedText {
                    language: *l as i32,
                    text: text.to_owned(),
                })
        })
        .collect()
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
        let units = staff_units(context, &mut clients).await?;
        Ok::<_, ConsoleError>(units_body(t, &units, &csrf, refused))
    };
    context.page(t.units_title, Section::Units, status, page.await)
}

pub async fn list(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let context = Context::new(&state, &headers, "/units", &query);
    if let Err(redirect) = context.require_session() {
        return redirect.into_response();
    }
    list_page(&context, &state, &[], StatusCode::OK).await
}

pub async fn create(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let context = Context::new(&state, &headers, "/units", &HashMap::new());
    let created = async {
        context.check_csrf(field(&fields, "csrf"))?;
        let (mut clients, _) = admin_clients(&context, &state)?;
        let level = field(&fields, "level")
            .and_then(UnitLevel::from_str_name)
            .ok_or_else(|| ConsoleError::BadRequest {
                field: "level".into(),
                problem: "choose one of the listed levels".into(),
            })?;
        clients
            .surveys
            .create_unit(CreateUnitRequest {
                unit_id: field(&fields, "unit_id")
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
                parent_unit_id: field(&fields, "parent").unwrap_or_default().to_owned(),
                level: level as i32,
                names: names(&fields),
            })
            .await?;
        Ok::<_, ConsoleError>(())
    };
    match created.await {
        Ok(()) => redirect("/units"),
        Err(ConsoleError::Forgery) => context.error(&ConsoleError::Forgery),
        Err(e) => list_page(&context, &state, &problem_lines(&e), e.status()).await,
    }
}

async fn unit_page(
    context: &Context,
    state: &crate::web::AppState,
    unit_id: &str,
    refused: &[String],
    status: StatusCode,
) -> Response {
    let t = context.texts;
    let page = async {
        let (mut clients, csrf) = admin_clients(context, state)?;
        let units = staff_units(context, &mut clients).await?;
        let unit = units
            .into_iter()
            .find(|u| u.unit.unit_id == unit_id)
            .ok_or_else(|| ConsoleError::NotFound(format!("unit {unit_id}")))?;
        Ok::<_, ConsoleError>(unit_body(t, &unit.unit, &csrf, refused))
    };
    context.page(t.units_title, Section::Units, status, page.await)
}

pub async fn show(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(unit_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let context = Context::new(&state, &headers, &format!("/units/{unit_id}"), &query);
    if let Err(redirect) = context.require_session() {
        return redirect.into_response();
    }
    unit_page(&context, &state, &unit_id, &[], StatusCode::OK).await
}

pub async fn rename(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(unit_id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let context = Context::new(
        &state,
        &headers,
        &format!("/units/{unit_id}"),
        &HashMap::new(),
    );
    let renamed = async {
        context.check_csrf(field(&fields, "csrf"))?;
        let (mut clients, _) = admin_clients(&context, &state)?;
        let expected_revision = crate::survey_routes::revision(&fields)?;
        clients
            .surveys
            .rename_unit(RenameUnitRequest {
                unit_id: unit_id.clone(),
                expected_revision,
                names: names(&fields),
            })
            .await?;
        Ok::<_, ConsoleError>(())
    };
    match renamed.await {
        Ok(()) => redirect("/units"),
        Err(ConsoleError::Forgery) => context.error(&ConsoleError::Forgery),
        Err(e) => unit_page(&context, &state, &unit_id, &problem_lines(&e), e.status()).await,
    }
}
