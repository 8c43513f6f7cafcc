//! The router, sign-in and sign-out. Results, reviews and reports are in `results_routes`,
//! survey set-up in `survey_routes`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::html;

use crate::error::ConsoleError;
use crate::layout::{CONSOLE_CSS, Section};
use crate::session::Staff;
use crate::web::{AppState, Context, SharedState, field, local_path, session_cookie};
use crate::{
    attention_routes, cases_routes, reports_routes, results_routes, survey_routes, units_routes,
};

pub fn router(state: SharedState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/static/console.css",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
                    CONSOLE_CSS,
                )
            }),
        )
        .route("/", get(|| async { Redirect::to("/results") }))
        .route("/login", get(show_login).post(login))
        .route("/login/oidc", get(oidc_begin))
        .route("/login/oidc/callback", get(oidc_callback))
        .route("/logout", post(logout))
        .route("/results", get(results_routes::results))
        .route("/review", get(results_routes::review))
        .route("/review/targets", post(results_routes::record_target))
        .route(
            "/review/targets/{target_id}/follow-up",
            post(results_routes::follow_up),
        )
        .route("/reports/results.pdf", get(results_routes::report_pdf))
        .route("/reports/results.csv", get(results_routes::report_csv))
        .route("/reports", get(reports_routes::list))
        .route(
            "/reports/files/{survey}/{period}/{file}",
            get(reports_routes::file),
        )
        .route(
            "/surveys",
            get(survey_routes::list).post(survey_routes::create),
        )
        .route("/surveys/{survey_id}", get(survey_routes::show))
        .route("/surveys/{survey_id}/links", get(survey_routes::links))
        // draft (texts), periods (one more) and publish.
        .route(
            "/surveys/{survey_id}/{change}",
            post(survey_routes::change_survey),
        )
        .route(
            "/cases",
            get(cases_routes::inbox).post(cases_routes::create),
        )
        .route("/attention", get(attention_routes::list))
        .route("/attention/erase", post(attention_routes::erase))
        .route("/cases/new", get(cases_routes::new_case))
        .route("/cases/report", get(cases_routes::report))
        .route("/cases/{case_id}", get(cases_routes::show))
        .route("/cases/{case_id}/{command}", post(cases_routes::act))
        .route("/units", get(units_routes::list).post(units_routes::create))
        .route("/units/{unit_id}", get(units_routes::show))
        .route("/units/{unit_id}/rename", post(units_routes::rename))
        .with_state(state)
}

fn login_page(
    context: &Context,
    state: &AppState,
    next: &str,
    failed: bool,
    status: StatusCode,
) -> Response {
    let t = context.texts;
    let oidc_href = format!(
        "/login/oidc?next={}",
        form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    let body = html! {
        div.login {
            h1 { (t.login_title) }
            p { (t.login_intro) }
            @if failed { div.problem role="alert" id="login-failed" { p { (t.login_failed) } } }
            @if state.oidc.is_some() {
                p { a.button id="sign-in-oidc" href=(oidc_href) { (t.sign_in_oidc) } }
            }
            @if !state.accounts.is_empty() {
            @if state.oidc.is_some() { h2 { (t.local_account) } }
            form method="post" action="/login" {
                input type="hidden" name="next" value=(next);
                div.field {
                    label for="username" { (t.username) }
                    input id="username" name="username" type="text" autocomplete="username" required;
                }
                div.field {
                    label for="password" { (t.password) }
                    input id="password" name="password" type="password" autocomplete="current-password" required;
                }
                button type="submit" { (t.sign_in) }
            }
            }
        }
    };
    context.render(t.login_title, Section::Login, status, body)
}

async fn show_login(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let context = Context::new(&state, &headers, "/login", &query);
    login_page(
        &context,
        &state,
        &local_path(query.get("next").map(String::as_str)),
        false,
        StatusCode::OK,
    )
}

async fn login(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let context = Context::new(&state, &headers, "/login", &HashMap::new());
    let next = local_path(field(&fields, "next"));
    let username = field(&fields, "username")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let password = field(&fields, "password").unwrap_or_default().to_owned();
    // Argon2 takes tens of milliseconds of CPU and 19 MiB: off the async workers, and only a
    // few at once, so a flood of sign-in attempts cannot exhaust the memory.
    let Ok(_permit) = state.password_checks.acquire().await else {
        return login_page(
            &context,
            &state,
            &next,
            true,
            StatusCode::SERVICE_UNAVAILABLE,
        );
    };
    let verifying = Arc::clone(&state);
    let staff = tokio::task::spawn_blocking(move || {
        verifying
            .accounts
            .verify(&username, &password)
            .map(|account| Staff {
                subject: account.username.clone(),
                name: account.name.clone(),
                role: account.role,
                units: account.units.clone(),
            })
    })
    .await
    .ok()
    .flatten();
    let Some(staff) = staff else {
        tracing::info!("sign-in refused");
        return login_page(&context, &state, &next, true, StatusCode::UNAUTHORIZED);
    };
    start_session(&state, staff, &next)
}

/// Signs `staff` in and sends them on to `next` (a 303: the browser fetches it with GET).
fn start_session(state: &AppState, staff: Staff, next: &str) -> Response {
    tracing::info!(subject = %staff.subject, role = ?staff.role, "signed in");
    let id = state.sessions.start(staff);
    let mut response = Redirect::to(next).into_response();
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Some(cookie) = session_cookie(state, &id, None) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The cookie that ties a sign-in at the provider to the browser that started it.
const OIDC_STATE_COOKIE: &str = "kaiku_console_oidc";

fn oidc_state_cookie(state: &AppState, value: &str, max_age: u64) -> Option<HeaderValue> {
    // Lax, not Strict: the provider's redirect back is a cross-site top-level navigation.
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{OIDC_STATE_COOKIE}={value}; Path=/login/oidc; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .ok()
}

async fn oidc_begin(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let context = Context::new(&state, &headers, "/login", &query);
    let next = local_path(query.get("next").map(String::as_str));
    let Some(oidc) = &state.oidc else {
        return context.error(&ConsoleError::NotFound(
            "sign-in through an identity provider".into(),
        ));
    };
    match oidc.begin(&next).await {
        Ok((url, oidc_state)) => {
            let mut response = Redirect::to(&url).into_response();
            let lifetime = crate::oidc::PENDING_LIFETIME.as_secs();
            if let Some(cookie) = oidc_state_cookie(&state, &oidc_state, lifetime) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(e) => context.error(&e.into()),
    }
}

async fn oidc_callback(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let context = Context::new(&state, &headers, "/login", &HashMap::new());
    let Some(oidc) = &state.oidc else {
        return context.error(&ConsoleError::NotFound(
            "sign-in through an identity provider".into(),
        ));
    };
    // The provider reports a refusal (e.g. the person cancelled) as `error`.
    if let Some(error) = query.get("error") {
        tracing::info!(%error, "the identity provider did not sign the person in");
        return login_page(&context, &state, "/results", true, StatusCode::UNAUTHORIZED);
    }
    let (Some(code), Some(oidc_state)) = (query.get("code"), query.get("state")) else {
        return context.error(&ConsoleError::BadRequest {
            field: "code".into(),
            problem: "the identity provider sent no code and state".into(),
        });
    };
    let kept = crate::web::cookie(&headers, OIDC_STATE_COOKIE);
    match oidc.complete(code, oidc_state, kept).await {
        Ok((staff, next)) => {
            // The session cookie is SameSite=Strict, and this request came from the provider's
            // site: a redirect from here would arrive without it. A page of our own that moves
            // on makes the next request same-site.
            tracing::info!(subject = %staff.subject, role = ?staff.role, "signed in");
            let id = state.sessions.start(staff);
            let t = context.texts;
            let body = html! {
                (maud::DOCTYPE)
                html lang=(t.tag) {
                    head {
                        meta charset="utf-8";
                        meta http-equiv="refresh" content={ "0;url=" (next) };
                        title { (t.login_title) " - Kaiku" }
                    }
                    body { main { p { a href=(next) { (t.nav_results) } } } }
                }
            };
            let mut response = Html(body.into_string()).into_response();
            for cookie in [
                session_cookie(&state, &id, None),
                oidc_state_cookie(&state, "", 0),
            ]
            .into_iter()
            .flatten()
            {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(e) => {
            tracing::warn!(error = %e, "sign-in through the identity provider refused");
            context.error(&e.into())
        }
    }
}

async fn logout(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let context = Context::new(&state, &headers, "/logout", &HashMap::new());
    if let Err(e) = context.check_csrf(field(&fields, "csrf")) {
        return context.error(&e);
    }
    if let Some((id, _)) = &context.session {
        state.sessions.end(id);
    }
    let mut response = Redirect::to("/login").into_response();
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Some(cookie) = session_cookie(&state, "", Some(0)) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}
