//! Fast entry of paper forms by unit staff: one table row per form, one short field per
//! question, keyboard only (Tab from field to field, Enter saves). The rows go to intake in one
//! streaming call with channel paper; a row intake refuses stays on the screen with its errors,
//! saved rows are cleared. Each row carries its own submission id from the moment the screen is
//! drawn, so saving the same screen twice (a double Enter, a retry after a timeout) stores each
//! form once.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{NaiveDate, TimeZone, Utc};
use kaiku_proto::intake::v1::{
    ResponseContext, SubmitResponseRequest, submit_responses_item::Outcome,
};
use kaiku_proto::survey::v1::{Channel, GetFormResponse, question::Kind};
use maud::{Markup, html};
use serde::Deserialize;

use crate::answers::{ValueSyntax, parse_answers, question_of_field};
use crate::error::WebError;
use crate::pages::layout;
use crate::routes::{Link, SharedState, chosen_language, error_page, page};
use crate::texts::{FI, UiTexts, fill, texts};

const DEFAULT_ROWS: usize = 10;
const MAX_ROWS: usize = 50;

/// One form being typed in: its id, the raw cells by question key, and what is wrong with it.
#[derive(Debug, Clone, Default)]
pub struct EntryRow {
    pub submission_id: String,
    pub cells: BTreeMap<String, String>,
    pub errors: Vec<String>,
}

impl EntryRow {
    fn fresh() -> Self {
        EntryRow {
            submission_id: uuid::Uuid::new_v4().to_string(),
            ..EntryRow::default()
        }
    }

    fn is_blank(&self) -> bool {
        self.cells.values().all(|v| v.trim().is_empty())
    }
}

/// Rows from posted fields named `r<i>.id` and `r<i>.<question key>`, in row order.
pub fn rows_from_fields(fields: &[(String, String)]) -> Vec<EntryRow> {
    let mut rows: BTreeMap<usize, EntryRow> = BTreeMap::new();
    for (name, value) in fields {
        let Some(rest) = name.strip_prefix('r') else {
            continue;
        };
        let Some((index, field)) = rest.split_once('.') else {
            continue;
        };
        let Ok(index) = index.parse::<usize>() else {
            continue;
        };
        if index >= MAX_ROWS {
            continue;
        }
        let row = rows.entry(index).or_default();
        if field == "id" {
            row.submission_id = value.clone();
        } else {
            row.cells.insert(field.to_owned(), value.clone());
        }
    }
    rows.into_values().collect()
}

#[derive(Deserialize, Default)]
pub struct EntryQuery {
    pub lang: Option<String>,
    pub rows: Option<usize>,
}

fn paper_link(app: &SharedState, token: &str) -> Result<Link, WebError> {
    let link = app.verify(token)?;
    // Only a paper-entry link opens this screen: a poster's QR link must not.
    if link.channel != Channel::Paper {
        return Err(WebError::InvalidLink("not a paper-entry link".into()));
    }
    Ok(link)
}

pub async fn show(
    State(app): State<SharedState>,
    Path(token): Path<String>,
    Query(query): Query<EntryQuery>,
) -> Response {
    let link = match paper_link(&app, &token) {
        Ok(link) => link,
        Err(e) => return error_page(&e, &FI),
    };
    let language = chosen_language(query.lang.as_deref(), &link);
    let (form, language) = match app.form_in(&link, language).await {
        Ok(found) => found,
        Err(e) => return error_page(&e, texts(language)),
    };
    let count = query.rows.unwrap_or(DEFAULT_ROWS).clamp(1, MAX_ROWS);
    let rows: Vec<EntryRow> = (0..count).map(|_| EntryRow::fresh()).collect();
    let today = helsinki_today();
    page(
        StatusCode::OK,
        entry_page(texts(language), &form, &token, &rows, &today, None),
    )
}

pub async fn submit(
    State(app): State<SharedState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let link = match paper_link(&app, &token) {
        Ok(link) => link,
        Err(e) => return error_page(&e, &FI),
    };
    let fields: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let language = chosen_language(field("lang").as_deref(), &link);
    let (form, language) = match app.form_in(&link, language).await {
        Ok(found) => found,
        Err(e) => return error_page(&e, texts(language)),
    };
    let t = texts(language);
    let answered_on = field("answered_on").unwrap_or_default();
    let all_rows = rows_from_fields(&fields);
    let row_count = all_rows.len().clamp(1, MAX_ROWS);
    let mut rows: Vec<EntryRow> = all_rows.into_iter().filter(|r| !r.is_blank()).collect();

    let today = Utc::now()
        .with_timezone(&chrono_tz::Europe::Helsinki)
        .date_naive();
    let answered_at = NaiveDate::parse_from_str(answered_on.trim(), "%Y-%m-%d")
        .ok()
        // Forms are typed in after they are filled in, never before.
        .filter(|day| *day <= today)
        .and_then(|day| day.and_hms_opt(12, 0, 0))
        .and_then(|noon| {
            chrono_tz::Europe::Helsinki
                .from_local_datetime(&noon)
                .single()
        })
        // Noon of the day written on the forms, or now when today's noon is still ahead.
        .map(|at| at.with_timezone(&Utc).min(Utc::now()));
    let date_error = answered_at
        .is_none()
        .then(|| fill(t.entry_error_value, &answered_on));

    // Parse each row; only rows without errors go to intake.
    let mut requests = Vec::new();
    let mut sent_rows = Vec::new();
    for (i, row) in rows.iter_mut().enumerate() {
        if uuid::Uuid::parse_str(&row.submission_id).is_err() {
            row.submission_id = uuid::Uuid::new_v4().to_string();
        }
        let parsed = parse_answers(
            &form.questions,
            |key| row.cells.get(key).cloned().into_iter().collect(),
            ValueSyntax::PaperEntry,
            t,
        );
        match (parsed, answered_at) {
            (Ok(answers), Some(at)) => {
                requests.push(SubmitResponseRequest {
                    submission_id: row.submission_id.clone(),
                    survey_id: link.context.survey_id.clone(),
                    survey_version: form.survey_version,
                    context: Some(ResponseContext {
                        language: language as i32,
                        ..link.response_context.clone()
                    }),
                    answers,
                    answered_at: Some(prost_types::Timestamp {
                        seconds: at.timestamp(),
                        nanos: 0,
                    }),
                });
                sent_rows.push(i);
            }
            (Err(errors), _) => {
                row.errors = errors
                    .iter()
                    .map(|(key, message)| {
                        if message == t.error_invalid {
                            value_error(t, &form, row, key)
                        } else {
                            format!("{}. {message}", question_label(&form, key))
                        }
                    })
                    .collect();
            }
            (Ok(_), None) => row.errors = date_error.iter().cloned().collect(),
        }
    }

    let mut saved = 0usize;
    if !requests.is_empty() {
        let answers_of: Vec<_> = requests.iter().map(|r| r.answers.clone()).collect();
        match app.backend.submit_batch(requests).await {
            Ok(items) => {
                for ((item, row_index), answers) in
                    items.into_iter().zip(&sent_rows).zip(&answers_of)
                {
                    let row = &mut rows[*row_index];
                    match item.outcome {
                        Some(Outcome::Accepted(_)) => {
                            saved += 1;
                            row.cells.clear();
                        }
                        Some(Outcome::Rejected(error)) => {
                            tracing::info!(code = error.code, message = %error.message, "intake refused a paper form");
                            row.errors = if error.code == tonic::Code::FailedPrecondition as i32 {
                                vec![t.entry_no_period.to_owned()]
                            } else if error.field_errors.is_empty() {
                                vec![error.message]
                            } else {
                                error
                                    .field_errors
                                    .iter()
                                    .map(|f| match question_of_field(&f.field, answers) {
                                        Some(key) => value_error(t, &form, row, key),
                                        None => format!("{}: {}", f.field, f.description),
                                    })
                                    .collect()
                            };
                        }
                        None => row.errors = vec![t.unavailable_body.to_owned()],
                    }
                }
            }
            Err(status) => {
                let error = WebError::from_backend(&status);
                tracing::warn!(error = %error, "paper entry batch failed; rows kept for a retry");
                for i in &sent_rows {
                    rows[*i].errors = vec![t.unavailable_body.to_owned()];
                }
            }
        }
    }
    tracing::info!(
        saved,
        waiting = rows.iter().filter(|r| !r.errors.is_empty()).count(),
        "paper entry batch"
    );

    // Rejected rows stay with their ids (a retry cannot double them); the rest are fresh.
    let mut shown: Vec<EntryRow> = rows
        .into_iter()
        .filter(|r| !r.cells.is_empty() && !r.is_blank())
        .collect();
    let waiting = shown.len();
    while shown.len() < row_count {
        shown.push(EntryRow::fresh());
    }
    let mut status = fill(t.entry_saved, saved);
    if waiting > 0 {
        status.push(' ');
        status.push_str(&fill(t.entry_rejected, waiting));
    }
    let http_status = if waiting > 0 {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    page(
        http_status,
        entry_page(t, &form, &token, &shown, &answered_on, Some(&status)),
    )
}

/// "3. Check the value: 7" for the row's cell of question `key`.
fn value_error(t: &UiTexts, form: &GetFormResponse, row: &EntryRow, key: &str) -> String {
    let value = row.cells.get(key).map(String::as_str).unwrap_or("");
    format!(
        "{}. {}",
        question_label(form, key),
        fill(t.entry_error_value, value)
    )
}

fn question_label(form: &GetFormResponse, key: &str) -> String {
    form.questions
        .iter()
        .position(|q| q.question.as_ref().is_some_and(|q| q.key == key))
        .map(|i| format!("{}", i + 1))
        .unwrap_or_else(|| key.to_owned())
}

fn helsinki_today() -> String {
    Utc::now()
        .with_timezone(&chrono_tz::Europe::Helsinki)
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

fn entry_page(
    t: &UiTexts,
    form: &GetFormResponse,
    token: &str,
    rows: &[EntryRow],
    answered_on: &str,
    status: Option<&str>,
) -> Markup {
    let keys: Vec<(&str, bool)> = form
        .questions
        .iter()
        .filter_map(|q| q.question.as_ref())
        .map(|q| (q.key.as_str(), matches!(q.kind, Some(Kind::OpenText(_)))))
        .collect();
    let title = format!("{} – {}", t.entry_title, form.title);
    layout(
        t,
        &title,
        &[],
        html! {},
        html! {
            h1 { (t.entry_title) }
            p { strong { (form.title) } " – " (t.unit_label) ": " (if form.unit_name.is_empty() { "" } else { &form.unit_name }) }
            @if let Some(status) = status {
                p role="status" id="entry-status" { (status) }
            }
            p id="entry-help" { (t.entry_help) }
            ol.questions-key {
                @for q in &form.questions {
                    li { (q.text)
                        @for (i, o) in q.options.iter().enumerate() {
                            " [" (i + 1) " = " (o.text) "]"
                        }
                    }
                }
            }
            form method="post" action={ "/paper/" (token) } autocomplete="off" {
                input type="hidden" name="lang" value=(t.tag);
                p {
                    label for="answered_on" { (t.entry_answered_on) }
                    " "
                    input type="date" id="answered_on" name="answered_on" value=(answered_on) required;
                }
                table.entry-table aria-describedby="entry-help" {
                    thead {
                        tr {
                            th scope="col" { (t.entry_form_label) }
                            @for (i, _) in keys.iter().enumerate() {
                                th scope="col" { (i + 1) }
                            }
                        }
                    }
                    tbody {
                        @for (r, row) in rows.iter().enumerate() {
                            tr class=[(!row.errors.is_empty()).then_some("rejected")] {
                                th scope="row" {
                                    (r + 1)
                                    input type="hidden" name={ "r" (r) ".id" } value=(row.submission_id);
                                }
                                @for (i, (key, is_text)) in keys.iter().enumerate() {
                                    td {
                                        input type="text" class=[is_text.then_some("text")]
                                            name={ "r" (r) "." (key) }
                                            inputmode=[(!is_text).then_some("numeric")]
                                            aria-label={ (t.entry_form_label) " " (r + 1) ", " (i + 1) }
                                            aria-describedby=[(!row.errors.is_empty()).then(|| format!("row-errors-{r}"))]
                                            value=(row.cells.get(*key).map(String::as_str).unwrap_or(""));
                                    }
                                }
                            }
                            @if !row.errors.is_empty() {
                                tr.rejected {
                                    td colspan=(keys.len() + 1) {
                                        p.error id={ "row-errors-" (r) } {
                                            (t.entry_form_label) " " (r + 1) ": " (row.errors.join("; "))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                p { button type="submit" { (t.entry_submit) } }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_read_in_order_and_out_of_range_rows_are_ignored() {
        let fields: Vec<(String, String)> = [
            ("r1.id", "b"),
            ("r0.id", "a"),
            ("r0.nps", "9"),
            ("r1.nps", ""),
            ("r99.nps", "1"),
            ("lang", "fi"),
            ("rx.nps", "3"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let rows = rows_from_fields(&fields);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].submission_id, "a");
        assert_eq!(rows[0].cells.get("nps").map(String::as_str), Some("9"));
        assert!(rows[1].is_blank());
    }
}
