//! The router, sign-in and sign-out. Results, reviews and reports are in `results_routes`,
//! survey set-up in `survey_routes`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::html;

use crate::layout::{CONSOLE_CSS, Section};
use crate::session::Staff;
use crate::web::{Context, SharedState, field, local_path, session_cookie};
use crate::{results_routes, survey_routes};

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
        .route(
            "/surveys",
            get(survey_routes::list).post(survey_routes::create),
        )
        .route("/surveys/{survey_id}", get(survey_routes::show))
        .route(
            "/surveys/{survey_id}/draft",
            post(survey_routes::update_draft),
        )
        .route("/surveys/{survey_id}/publish", post(survey_routes::publish))
        .with_state(state)
}

fn login_page(context: &Context, next: &str, failed: bool, status: StatusCode) -> Response {
    let t = context.texts;
    let body = html! {
        div.login {
            h1 { (t.login_title) }
            p { (t.login_intro) }
            @if failed { div.problem role="alert" id="login-failed" { p { (t.login_failed) } } }
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
    // Argon2 takes tens of milliseconds of CPU: off the async workers.
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
        return login_page(&context, &next, true, StatusCode::UNAUTHORIZED);
    };
    tracing::info!(subject = %staff.subject, "signed in");
    let id = state.sessions.start(staff);
    let mut response = Redirect::to(&next).into_response();
    // A 303: the browser fetches the next page with GET.
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Some(cookie) = session_cookie(&state, &id, None) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
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
