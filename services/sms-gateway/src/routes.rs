//! HTTP: visit events in (JSON or CSV, from the record system, with a bearer token), SMS replies
//! in (the provider's webhook, with its own token), health.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use kaiku_domain::Violations;
use serde::Deserialize;
use serde_json::json;

use crate::gateway::{Gateway, GatewayError, VisitOutcome};
use crate::phone::PhoneNumber;
use crate::provider::SmsProvider;
use crate::visits::{VisitEvent, check_all, parse_csv};

pub struct Tokens {
    pub visits: String,
    pub webhook: String,
}

pub struct AppState<P> {
    pub gateway: Gateway<P>,
    pub tokens: Tokens,
}

pub fn router<P: SmsProvider>(state: Arc<AppState<P>>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/visits", post(visits_json::<P>))
        .route("/visits.csv", post(visits_csv::<P>))
        .route("/webhook", post(webhook::<P>))
        .with_state(state)
}

/// Compares without leaking where the first difference is.
fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn bearer(headers: &HeaderMap) -> &str {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
}

fn json_reply(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn unauthorized() -> Response {
    json_reply(
        StatusCode::UNAUTHORIZED,
        json!({ "error": "missing or wrong token" }),
    )
}

fn invalid(violations: &Violations) -> Response {
    let errors: Vec<_> = violations
        .iter()
        .map(|v| json!({ "field": v.field, "description": v.description }))
        .collect();
    json_reply(StatusCode::BAD_REQUEST, json!({ "errors": errors }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VisitBatch {
    visits: Vec<VisitEvent>,
}

async fn visits_json<P: SmsProvider>(
    State(app): State<Arc<AppState<P>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !same_secret(bearer(&headers), &app.tokens.visits) {
        return unauthorized();
    }
    let batch: VisitBatch = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(e) => {
            return invalid(&Violations::single(
                "body",
                format!("is not a visit batch: {e}"),
            ));
        }
    };
    take(&app, &batch.visits).await
}

async fn visits_csv<P: SmsProvider>(
    State(app): State<Arc<AppState<P>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !same_secret(bearer(&headers), &app.tokens.visits) {
        return unauthorized();
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return invalid(&Violations::single("csv", "is not UTF-8 text"));
    };
    match parse_csv(text) {
        Ok(events) => take(&app, &events).await,
        Err(violations) => invalid(&violations),
    }
}

async fn take<P: SmsProvider>(app: &AppState<P>, events: &[VisitEvent]) -> Response {
    let visits = match check_all(events) {
        Ok(visits) => visits,
        Err(violations) => return invalid(&violations),
    };
    match app.gateway.take_visits(&visits, Utc::now()).await {
        Ok(outcomes) => {
            let results: Vec<_> = outcomes
                .iter()
                .enumerate()
                .map(|(i, o)| outcome_json(i, o))
                .collect();
            json_reply(StatusCode::OK, json!({ "results": results }))
        }
        Err(GatewayError::Invalid(violations)) => invalid(&violations),
        Err(e) => {
            tracing::error!(error = %e, "visits not taken");
            json_reply(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "error": "not stored; send the batch again" }),
            )
        }
    }
}

pub fn outcome_json(index: usize, outcome: &VisitOutcome) -> serde_json::Value {
    match outcome {
        VisitOutcome::Scheduled { send_at } => {
            json!({ "index": index, "outcome": "scheduled", "send_at": send_at.to_rfc3339() })
        }
        VisitOutcome::Skipped(skip) => {
            json!({ "index": index, "outcome": "skipped", "reason": skip.code() })
        }
        VisitOutcome::Duplicate => json!({ "index": index, "outcome": "duplicate" }),
        VisitOutcome::NoAgeBand => {
            json!({ "index": index, "outcome": "skipped", "reason": "no_age_band" })
        }
    }
}

#[derive(Deserialize)]
struct Reply {
    from: String,
    text: String,
}

async fn webhook<P: SmsProvider>(
    State(app): State<Arc<AppState<P>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = headers
        .get("x-kaiku-webhook-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !same_secret(token, &app.tokens.webhook) {
        return unauthorized();
    }
    let reply: Reply = match serde_json::from_slice(&body) {
        Ok(reply) => reply,
        Err(e) => {
            return invalid(&Violations::single(
                "body",
                format!("is not an SMS reply {{from, text}}: {e}"),
            ));
        }
    };
    let Ok(from) = PhoneNumber::parse(&reply.from) else {
        return invalid(&Violations::single("from", "is not a phone number"));
    };
    match app.gateway.take_reply(&from, &reply.text, Utc::now()).await {
        Ok(outcome) => json_reply(StatusCode::OK, json!({ "outcome": format!("{outcome:?}") })),
        Err(e) => {
            tracing::error!(error = %e, "reply not taken");
            // The provider retries a webhook that fails.
            json_reply(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "error": "try again" }),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abd", "abc"));
        assert!(!same_secret("ab", "abc"));
        assert!(!same_secret("", "abc"));
    }
}
