//! The scheduled reports as staff find them: a list of the written reports of the units they
//! may see, and the files themselves. Path parts come from the request, so each is checked to
//! be a plain name and the unit to be in the person's grant before anything is read.

use std::collections::HashMap;
use std::path::Path as FsPath;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;

use crate::error::ConsoleError;
use crate::layout::Section;
use crate::web::{Context, SharedState};

/// A directory or file name made only of the characters ids use (no separators, no "..").
fn plain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn names(dir: &FsPath) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// (survey, period, unit) of every written report of a unit the person may see.
async fn visible_reports(
    context: &Context,
    state: &crate::web::AppState,
    dir: &FsPath,
) -> Result<Vec<(String, String, String, String)>, ConsoleError> {
    let mut clients = context.clients(state)?;
    let units = crate::survey_routes::staff_units(context, &mut clients).await?;
    let mut found = Vec::new();
    for survey in names(dir).into_iter().filter(|n| plain(n)) {
        for period in names(&dir.join(&survey)).into_iter().filter(|n| plain(n)) {
            for file in names(&dir.join(&survey).join(&period)) {
                let Some(unit_id) = file.strip_suffix(".pdf") else {
                    continue;
                };
                if let Some(unit) = units.iter().find(|u| u.unit.unit_id == unit_id) {
                    found.push((
                        survey.clone(),
                        period.clone(),
                        unit_id.to_owned(),
                        unit.name.clone(),
                    ));
                }
            }
        }
    }
    Ok(found)
}

pub async fn list(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let context = Context::new(&state, &headers, "/reports", &query);
    if let Err(redirect) = context.require_session() {
        return redirect.into_response();
    }
    let t = context.texts;
    let page = async {
        let reports = match &state.report_dir {
            Some(dir) => visible_reports(&context, &state, dir).await?,
            None => Vec::new(),
        };
        Ok::<_, ConsoleError>(html! {
            h1 { (t.reports_title) }
            p { (t.reports_intro) }
            @if reports.is_empty() { p { (t.no_reports) } }
            table id="reports" {
                thead { tr { th scope="col" { (t.unit) } th scope="col" { (t.period) } th scope="col" { (t.survey) } th scope="col" { "PDF" } th scope="col" { "CSV" } } }
                tbody {
                    @for (survey, period, unit, name) in &reports {
                        tr data-report={ (survey) "/" (period) "/" (unit) } {
                            th scope="row" { (name) }
                            td { (period) }
                            td { (survey) }
                            td { a href={ "/reports/files/" (survey) "/" (period) "/" (unit) ".pdf" } { (t.report_pdf) } }
                            td { a href={ "/reports/files/" (survey) "/" (period) "/" (unit) ".csv" } { (t.report_csv) } }
                        }
                    }
                }
            }
        })
    };
    context.page(
        t.reports_title,
        Section::Reports,
        StatusCode::OK,
        page.await,
    )
}

pub async fn file(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path((survey, period, file)): Path<(String, String, String)>,
) -> Response {
    let here = format!("/reports/files/{survey}/{period}/{file}");
    let context = Context::new(&state, &headers, &here, &HashMap::new());
    if let Err(redirect) = context.require_session() {
        return redirect.into_response();
    }
    let served = async {
        let not_found = || ConsoleError::NotFound(format!("report {survey}/{period}/{file}"));
        let dir = state.report_dir.as_ref().ok_or_else(not_found)?;
        let (unit, extension, content_type) = match file.rsplit_once('.') {
            Some((unit, "pdf")) => (unit, "pdf", "application/pdf"),
            Some((unit, "csv")) => (unit, "csv", "text/csv; charset=utf-8"),
            _ => return Err(not_found()),
        };
        if ![survey.as_str(), period.as_str(), unit]
            .iter()
            .all(|n| plain(n))
        {
            return Err(not_found());
        }
        let mut clients = context.clients(&state)?;
        let units = crate::survey_routes::staff_units(&context, &mut clients).await?;
        if !units.iter().any(|u| u.unit.unit_id == unit) {
            return Err(not_found());
        }
        let path = crate::scheduled_reports::report_path(dir, &survey, &period, unit)
            .with_extension(extension);
        let bytes = tokio::fs::read(&path).await.map_err(|_| not_found())?;
        Ok((content_type, bytes))
    };
    match served.await {
        Ok((content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, "no-store"),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => context.error(&e),
    }
}
