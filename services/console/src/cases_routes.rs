//! Feedback handling in the console: the inbox and overview, a case and the commands on it, the
//! phone-call entry and the handling report. Every call goes to feedback-handling (and the
//! report to analytics) as the signed-in person, so their unit grant decides what they see.

use std::collections::HashMap;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Helsinki;
use kaiku_domain::time::to_timestamp;
use kaiku_proto::analytics::v1::GetHandlingReportRequest;
use kaiku_proto::handling::v1::{
    AddNoteRequest, AssignCaseRequest, CaseOrigin, CloseCaseRequest, ContactDetails,
    GetCaseRequest, ListCasesRequest, OpenCaseRequest, RecordActionRequest, RecordReplyRequest,
    StartCaseRequest,
};

use crate::backend::Clients;
use crate::case_texts::case_texts;
use crate::cases_page::{CasePage, InboxPage, case_body, inbox_body, new_case_body, report_body};
use crate::error::ConsoleError;
use crate::layout::Section;
use crate::survey_routes::{problem_lines, redirect, staff_units};
use crate::web::{AppState, Context, SharedState, field};

/// The person's clients and their form token.
fn staff_clients(context: &Context, state: &AppState) -> Result<(Clients, String), ConsoleError> {
    let csrf = context
        .session
        .as_ref()
        .map(|(_, s)| s.csrf.clone())
        .ok_or_else(|| ConsoleError::Forbidden("not signed in".into()))?;
    Ok((context.clients(state)?, csrf))
}

fn subject(context: &Context) -> String {
    context
        .session
        .as_ref()
        .map(|(_, s)| s.staff.subject.clone())
        .unwrap_or_default()
}

pub async fn inbox(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let context = Context::new(&state, &headers, "/cases", &query);
    if let Err(redirect) = context.require_session() {
        return redirect.into_response();
    }
    let t = context.texts;
    let view = query.get("view").map_or("open", String::as_str);
    let page = async {
        let (mut clients, _) = staff_clients(&context, &state)?;
        let units = staff_units(&context, &mut clients).await?;
        let list = |request: ListCasesRequest| {
            let mut handling = clients.handling.clone();
            async move { Ok::<_, ConsoleError>(handling.list_cases(request).await?.into_inner().cases) }
        };
        let open_cases = list(ListCasesRequest {
            open_only: true,
            ..ListCasesRequest::default()
        })
        .await?;
        let cases = match view {
            "overdue" => open_cases.iter().filter(|c| c.overdue).cloned().collect(),
            "mine" => {
                let me = subject(&context);
                open_cases
                    .iter()
                    .filter(|c| c.assignee == me)
                    .cloned()
                    .collect()
            }
            "all" => list(ListCasesRequest::default()).await?,
            _ => open_cases.clone(),
        };
        Ok::<_, ConsoleError>(inbox_body(&InboxPage {
            texts: t,
            cases: &cases,
            open_cases: &open_cases,
            units: &units,
            view,
        }))
    };
    let title = case_texts(t.tag).inbox_title;
    context.page(title, Section::Cases, StatusCode::OK, page.await)
}

async fn case_page(
    context: &Context,
    state: &AppState,
    case_id: &str,
    saved: bool,
    refused: &[String],
    typed: Option<(&str, &str)>,
    status: StatusCode,
) -> Response {
    let t = context.texts;
    let page = async {
        let (mut clients, csrf) = staff_clients(context, state)?;
        let units = staff_units(context, &mut clients).await?;
        let case = clients
            .handling
            .get_case(GetCaseRequest {
                case_id: case_id.to_owned(),
            })
            .await?
            .into_inner()
            .case
            .ok_or_else(|| ConsoleError::NotFound(format!("case {case_id}")))?;
        Ok::<_, ConsoleError>(case_body(&CasePage {
            texts: t,
            case: &case,
            units: &units,
            csrf: &csrf,
            saved,
            refused,
            typed,
        }))
    };
    context.page(
        case_texts(t.tag).case_title,
        Section::Cases,
        status,
        page.await,
    )
}

pub async fn show(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(case_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let context = Context::new(&state, &headers, &format!("/cases/{case_id}"), &query);
    if let Err(redirect) = context.require_session() {
        return redirect.into_response();
    }
    let saved = query.contains_key("saved");
    case_page(&context, &state, &case_id, saved, &[], None, StatusCode::OK).await
}

/// One command on a case from its page's forms.
pub async fn act(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path((case_id, what)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let context = Context::new(
        &state,
        &headers,
        &format!("/cases/{case_id}"),
        &HashMap::new(),
    );
    let text = || field(&fields, "text").unwrap_or_default().to_owned();
    let done = async {
        context.check_csrf(field(&fields, "csrf"))?;
        let (clients, _) = staff_clients(&context, &state)?;
        let mut handling = clients.handling;
        let expected_revision = field(&fields, "revision")
            .and_then(|r| r.parse().ok())
            .unwrap_or(0);
        let case_id = case_id.clone();
        let moved = match what.as_str() {
            "assign" => {
                let unit_id = field(&fields, "unit").unwrap_or_default().to_owned();
                handling
                    .assign_case(AssignCaseRequest {
                        case_id,
                        assignee: field(&fields, "assignee").unwrap_or_default().to_owned(),
                        unit_id: unit_id.clone(),
                        expected_revision,
                    })
                    .await?;
                !unit_id.is_empty()
            }
            "start" => {
                handling
                    .start_case(StartCaseRequest {
                        case_id,
                        expected_revision,
                    })
                    .await?;
                false
            }
            "note" => {
                handling
                    .add_note(AddNoteRequest {
                        case_id,
                        text: text(),
                        expected_revision,
                    })
                    .await?;
                false
            }
            "reply" => {
                handling
                    .record_reply(RecordReplyRequest {
                        case_id,
                        text: text(),
                        method: field(&fields, "method").unwrap_or_default().to_owned(),
                        expected_revision,
                    })
                    .await?;
                false
            }
            "action" => {
                handling
                    .record_action(RecordActionRequest {
                        case_id,
                        text: text(),
                        expected_revision,
                    })
                    .await?;
                false
            }
            "close" => {
                handling
                    .close_case(CloseCaseRequest {
                        case_id,
                        resolution: text(),
                        expected_revision,
                    })
                    .await?;
                false
            }
            other => return Err(ConsoleError::NotFound(format!("no case command {other:?}"))),
        };
        Ok::<_, ConsoleError>(moved)
    };
    match done.await {
        // Moved to another unit: it may be out of this person's sight now.
        Ok(true) => redirect("/cases?saved=1"),
        Ok(false) => redirect(&format!("/cases/{case_id}?saved=1#saved")),
        Err(ConsoleError::Forgery) => context.error(&ConsoleError::Forgery),
        Err(e) => {
            let status = e.status();
            let typed = Some((what.as_str(), field(&fields, "text").unwrap_or_default()));
            case_page(
                &context,
                &state,
                &case_id,
                false,
                &case_problem_lines(context.texts.tag, &e),
                typed,
                status,
            )
            .await
        }
    }
}

pub async fn new_case(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let context = Context::new(&state, &headers, "/cases/new", &query);
    if let Err(redirect) = context.require_session() {
        return redirect.into_response();
    }
    new_case_page(&context, &state, &[], &[], StatusCode::OK).await
}

async fn new_case_page(
    context: &Context,
    state: &AppState,
    refused: &[String],
    posted: &[(String, String)],
    status: StatusCode,
) -> Response {
    let t = context.texts;
    let page = async {
        let (mut clients, csrf) = staff_clients(context, state)?;
        let units = staff_units(context, &mut clients).await?;
        let now = Utc::now().with_timezone(&Helsinki);
        Ok::<_, ConsoleError>(new_case_body(t, &units, &csrf, now, refused, posted))
    };
    context.page(
        case_texts(t.tag).new_case,
        Section::Cases,
        status,
        page.await,
    )
}

/// A case form's refusal, line by line, in the page's language: a refusal about the case's
/// state by its code, a field the form has by what to fix there; anything else (a service
/// failure, a field the form does not have) as the service said it.
fn case_problem_lines(language: &str, error: &ConsoleError) -> Vec<String> {
    let c = case_texts(language);
    let state = match error {
        ConsoleError::Backend {
            code: tonic::Code::Aborted,
            ..
        } => c.state_problem("STALE"),
        ConsoleError::Backend { reason, .. } => c.state_problem(reason),
        _ => None,
    };
    if let Some(problem) = state {
        return vec![problem.to_owned()];
    }
    problem_lines(error)
        .into_iter()
        .map(|line| {
            line.split_once(": ")
                .and_then(|(field, _)| c.field_problem(field))
                .map_or(line, str::to_owned)
        })
        .collect()
}

/// When a phone call came, from the form's day and time on the Helsinki clock.
fn received_at(fields: &[(String, String)]) -> Result<prost_types::Timestamp, ConsoleError> {
    let bad = |field: &str, problem: &str| ConsoleError::BadRequest {
        field: field.into(),
        problem: problem.into(),
    };
    let day: NaiveDate = field(fields, "received_on")
        .unwrap_or_default()
        .parse()
        .map_err(|_| bad("received_on", "give the day as YYYY-MM-DD"))?;
    let time =
        NaiveTime::parse_from_str(field(fields, "received_time").unwrap_or_default(), "%H:%M")
            .map_err(|_| bad("received_time", "give the time as HH:MM"))?;
    let local = Helsinki
        .from_local_datetime(&day.and_time(time))
        .earliest()
        .ok_or_else(|| {
            bad(
                "received_time",
                "that time does not exist on the Helsinki clock",
            )
        })?;
    Ok(to_timestamp(local.with_timezone(&Utc)))
}

pub async fn create(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let context = Context::new(&state, &headers, "/cases/new", &HashMap::new());
    let created = async {
        context.check_csrf(field(&fields, "csrf"))?;
        let (clients, _) = staff_clients(&context, &state)?;
        let contact_requested = field(&fields, "contact_requested") == Some("yes");
        let get = |name: &str| field(&fields, name).unwrap_or_default().to_owned();
        let case = clients
            .handling
            .clone()
            .open_case(OpenCaseRequest {
                case_id: get("case_id"),
                unit_id: get("unit"),
                kind: kaiku_domain::handling::kind_from_code(&get("kind")) as i32,
                origin: CaseOrigin::Phone as i32,
                channel: "phone".into(),
                language: get("language"),
                message: get("message"),
                contact_requested,
                contact: contact_requested.then(|| ContactDetails {
                    name: get("name"),
                    email: get("email"),
                    phone: get("phone"),
                }),
                received_at: Some(received_at(&fields)?),
            })
            .await?
            .into_inner()
            .case
            .unwrap_or_default();
        Ok::<_, ConsoleError>(case)
    };
    match created.await {
        Ok(case) => redirect(&format!("/cases/{}?saved=1#saved", case.case_id)),
        Err(ConsoleError::Forgery) => context.error(&ConsoleError::Forgery),
        Err(e) => {
            let refused = case_problem_lines(context.texts.tag, &e);
            new_case_page(&context, &state, &refused, &fields, e.status()).await
        }
    }
}

pub async fn report(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let context = Context::new(&state, &headers, "/cases/report", &query);
    if let Err(redirect) = context.require_session() {
        return redirect.into_response();
    }
    let t = context.texts;
    let from = query.get("from").cloned().unwrap_or_default();
    let to = query.get("to").cloned().unwrap_or_default();
    let page = async {
        let (mut clients, _) = staff_clients(&context, &state)?;
        let units = staff_units(&context, &mut clients).await?;
        let rows = clients
            .analytics
            .get_handling_report(GetHandlingReportRequest {
                unit_id: String::new(),
                received_from: from.clone(),
                received_to: to.clone(),
                min_sequence: 0,
            })
            .await?
            .into_inner()
            .rows;
        Ok::<_, ConsoleError>(report_body(t, &rows, &units, &from, &to))
    };
    context.page(
        case_texts(t.tag).report_title,
        Section::Cases,
        StatusCode::OK,
        page.await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_of_case_forms_say_what_to_fix_in_the_pages_language() {
        let invalid = ConsoleError::Backend {
            code: tonic::Code::InvalidArgument,
            message: "kind: must be one of PRAISE, got 0; contact.email: not an address".into(),
            reason: String::new(),
        };
        assert_eq!(
            case_problem_lines("fi", &invalid),
            ["Valitse palautteen laji.", "Tarkista sähköpostiosoite."]
        );
        assert_eq!(
            case_problem_lines("sv", &invalid),
            ["Välj typ av respons.", "Kontrollera e-postadressen."]
        );
        let time = ConsoleError::BadRequest {
            field: "received_time".into(),
            problem: "give the time as HH:MM".into(),
        };
        assert_eq!(case_problem_lines("en", &time), ["Give the time as hh:mm."]);
        // The case's state, by its code; someone else's change first; a failure as it was.
        let state = |code: tonic::Code, reason: &str| ConsoleError::Backend {
            code,
            message: "case 1: as the service said it".into(),
            reason: reason.into(),
        };
        assert_eq!(
            case_problem_lines(
                "en",
                &state(tonic::Code::FailedPrecondition, "REPLY_REQUIRED")
            ),
            ["The respondent asked to be contacted: record the reply before closing the case."]
        );
        assert!(
            case_problem_lines("fi", &state(tonic::Code::Aborted, ""))[0]
                .starts_with("Joku muu tallensi")
        );
        assert_eq!(
            case_problem_lines("fi", &state(tonic::Code::Unavailable, "")),
            ["case 1: as the service said it"]
        );
    }

    #[test]
    fn every_language_tells_the_same_fields_and_states() {
        let keys = |pairs: &[(&'static str, &'static str)]| -> Vec<&'static str> {
            pairs.iter().map(|(key, _)| *key).collect()
        };
        let [fi, sv, en] = ["fi", "sv", "en"].map(case_texts);
        assert_eq!(keys(&fi.field_problems), keys(&sv.field_problems));
        assert_eq!(keys(&fi.field_problems), keys(&en.field_problems));
        assert_eq!(keys(&fi.state_problems), keys(&sv.state_problems));
        assert_eq!(keys(&fi.state_problems), keys(&en.state_problems));
        use kaiku_domain::handling::{CLOSED_CODE, CONTENT_GRACE_MINUTES, NotNow};
        for code in NotNow::ALL
            .map(NotNow::code)
            .into_iter()
            .chain([CLOSED_CODE])
        {
            assert!(fi.state_problem(code).is_some(), "{code} not told");
        }
        // The texts say the grace the service keeps.
        let grace = format!("{CONTENT_GRACE_MINUTES} min");
        for c in [fi, sv, en] {
            let told = c.state_problem("CONTENT_NOT_ARRIVED").unwrap_or_default();
            assert!(told.contains(&grace), "{told}");
            assert!(c.content_missing.contains(&grace), "{}", c.content_missing);
        }
    }
}
