//! The feedback-handling pages: the inbox with the overview of open and late cases per unit,
//! one case with its content, history and the forms to work it, the phone-call entry, and the
//! handling report. Server-rendered forms like the rest of the console (no JavaScript needed).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Europe::Helsinki;
use kaiku_domain::time::from_timestamp;
use kaiku_proto::analytics::v1::HandlingRow;
use kaiku_proto::handling::v1::{Case, CaseState};
use maud::{Markup, html};

use crate::case_texts::{KIND_CODES, METHOD_CODES};
use crate::figures::VisibleUnit;
use crate::layout::decimal;
use crate::texts::Texts;

/// "26.11.2026 14.05" on the Helsinki clock.
pub fn local_time(at: Option<&prost_types::Timestamp>) -> String {
    at.and_then(from_timestamp)
        .map(|at: DateTime<Utc>| {
            at.with_timezone(&Helsinki)
                .format("%-d.%-m.%Y %H.%M")
                .to_string()
        })
        .unwrap_or_else(|| "-".to_owned())
}

/// "3.12.2026" from "2026-12-03".
pub fn local_day(day: &str) -> String {
    day.parse::<chrono::NaiveDate>()
        .map(|d| d.format("%-d.%-m.%Y").to_string())
        .unwrap_or_else(|_| day.to_owned())
}

fn unit_name<'a>(units: &'a [VisibleUnit], unit_id: &'a str) -> &'a str {
    units
        .iter()
        .find(|u| u.unit.unit_id == unit_id)
        .map_or(unit_id, |u| u.name.as_str())
}

pub struct InboxPage<'a> {
    pub texts: &'static Texts,
    pub cases: &'a [Case],
    /// Every open case of the person's units, for the overview.
    pub open_cases: &'a [Case],
    pub units: &'a [VisibleUnit],
    pub view: &'a str,
}

pub fn inbox_body(page: &InboxPage<'_>) -> Markup {
    let c = crate::case_texts::case_texts(page.texts.tag);
    let mut by_unit: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for case in page.open_cases {
        let entry = by_unit.entry(case.unit_id.as_str()).or_default();
        entry.0 += 1;
        if case.overdue {
            entry.1 += 1;
        }
    }
    html! {
        h1 { (c.inbox_title) }
        p { (c.inbox_intro) }
        p.links {
            a href="/cases/new" { (c.new_case) }
            a href="/cases/report" { (c.report_title) }
        }
        h2 { (c.overview) }
        @if by_unit.is_empty() {
            p { (c.no_cases) }
        } @else {
            table id="overview" {
                thead { tr { th scope="col" { (c.unit) } th.number scope="col" { (c.open) } th.number scope="col" { (c.overdue) } } }
                tbody {
                    @for (unit, (open, overdue)) in &by_unit {
                        tr {
                            th scope="row" { (unit_name(page.units, unit)) }
                            td.number { (open) }
                            td.number { (overdue) }
                        }
                    }
                }
            }
        }
        h2 id="cases-heading" { (c.show) }
        form method="get" action="/cases" {
            div.field {
                label for="view" { (c.show) }
                select id="view" name="view" {
                    @for (code, label) in c.views {
                        option value=(code) selected[page.view == code] { (label) }
                    }
                }
            }
            button type="submit" { (c.apply) }
        }
        @if page.cases.is_empty() {
            p id="no-cases" { (c.no_cases) }
        } @else {
            table id="cases" aria-labelledby="cases-heading" {
                thead {
                    tr {
                        th scope="col" { (c.received) }
                        th scope="col" { (c.unit) }
                        th scope="col" { (c.kind) }
                        th scope="col" { (c.state) }
                        th scope="col" { (c.assignee) }
                        th scope="col" { (c.due) }
                    }
                }
                tbody {
                    @for case in page.cases {
                        tr data-case=(case.case_id) {
                            th scope="row" {
                                a href={ "/cases/" (case.case_id) } { (local_time(case.received_at.as_ref())) }
                            }
                            td { (unit_name(page.units, &case.unit_id)) }
                            td { (c.kind_name(case.kind)) }
                            td { (c.state_name(case.state)) }
                            td { @if case.assignee.is_empty() { (c.nobody) } @else { (case.assignee) } }
                            td {
                                (local_day(&case.reply_due_on))
                                @if case.overdue { " " strong.late { "(" (c.late) ")" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub struct CasePage<'a> {
    pub texts: &'static Texts,
    pub case: &'a Case,
    pub units: &'a [VisibleUnit],
    pub csrf: &'a str,
    pub saved: bool,
    pub refused: &'a [String],
    /// The command that was refused and the text typed for it, to fill the form again.
    pub typed: Option<(&'a str, &'a str)>,
}

fn hidden(page: &CasePage<'_>) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(page.csrf);
        input type="hidden" name="revision" value=(page.case.revision);
    }
}

pub fn case_body(page: &CasePage<'_>) -> Markup {
    let c = crate::case_texts::case_texts(page.texts.tag);
    let typed = |command: &str| match page.typed {
        Some((refused, text)) if refused == command => text,
        _ => "",
    };
    let case = page.case;
    let action = |what: &str| format!("/cases/{}/{what}", case.case_id);
    let closed = case.state == CaseState::Closed as i32;
    html! {
        h1 { (c.case_title) ": " (c.kind_name(case.kind)) ", " (unit_name(page.units, &case.unit_id)) }
        @if page.saved { p.notice role="status" id="saved" { (c.saved) } }
        @if !page.refused.is_empty() {
            div.problem role="alert" id="refused" {
                p { (c.refused) }
                ul { @for line in page.refused { li { (line) } } }
            }
        }
        dl.case-facts {
            dt { (c.state) } dd id="case-state" { (c.state_name(case.state)) }
            dt { (c.received) } dd { (local_time(case.received_at.as_ref())) ", " (c.origin_name(case.origin)) " (" (case.channel) ")" }
            dt { (c.due) } dd id="case-due" {
                (local_day(&case.reply_due_on)) " (" (c.promise) ": " (c.promise_text(&case.promise)) ")"
                @if case.overdue { " " strong.late { (c.late) } }
                @if case.escalated { ", " (c.escalated_to) " " (unit_name(page.units, &case.escalated_to_unit_id)) }
            }
            dt { (c.assignee) } dd id="case-assignee" { @if case.assignee.is_empty() { (c.nobody) } @else { (case.assignee) } }
        }
        h2 { (c.message) }
        @match &case.content {
            Some(content) => {
                blockquote id="case-message" lang=(case.language) { (content.message) }
                h2 { (c.contact) }
                @match &content.contact {
                    Some(contact) if case.contact_requested => {
                        dl id="case-contact" {
                            dt { (c.name) } dd { (contact.name) }
                            dt { (c.email) } dd { (contact.email) }
                            dt { (c.phone) } dd { (contact.phone) }
                        }
                    }
                    _ => { p { (c.no_contact) } }
                }
            }
            None if case.content_erased => { p id="case-erased" { (c.content_erased) } }
            None => { p id="case-missing" { (c.content_missing) } }
        }
        h2 { (c.history) }
        ol id="case-history" {
            @for entry in &case.history {
                li {
                    (local_time(entry.at.as_ref())) " " strong { (c.what_name(&entry.what)) }
                    @if !entry.recorded_by.is_empty() { " (" (entry.recorded_by) ")" }
                    @if !entry.assignee.is_empty() { ": " (entry.assignee) }
                    @if !entry.unit_id.is_empty() && entry.what != "opened" { ", " (unit_name(page.units, &entry.unit_id)) }
                    @if !entry.text.is_empty() { p { (entry.text) } }
                }
            }
        }
        @if closed {
            p { (c.closed_note) }
        } @else {
            p.hint { (c.notes_warning) }
            section aria-labelledby="assign-heading" {
                h2 id="assign-heading" { (c.assign_title) }
                form method="post" action=(action("assign")) {
                    (hidden(page))
                    div.field {
                        label for="assignee" { (c.assignee) }
                        p.hint id="assignee-hint" { (c.assignee_hint) }
                        // Empty, not the current handler: the hint says to leave it empty on a
                        // move, and a pre-filled name would go along to a unit it may not see.
                        input id="assignee" name="assignee" type="text" aria-describedby="assignee-hint";
                    }
                    div.field {
                        label for="unit" { (c.move_to) }
                        select id="unit" name="unit" {
                            option value="" { (c.keep_unit) }
                            @for unit in page.units {
                                @if unit.unit.unit_id != case.unit_id {
                                    option value=(unit.unit.unit_id) { (unit.name) }
                                }
                            }
                        }
                    }
                    button type="submit" { (c.save_assignment) }
                }
                @if case.state != CaseState::InProgress as i32 && case.state != CaseState::Replied as i32 {
                    form method="post" action=(action("start")) {
                        (hidden(page))
                        button type="submit" { (c.start) }
                    }
                }
            }
            section aria-labelledby="reply-heading" {
                h2 id="reply-heading" { (c.reply_title) }
                form method="post" action=(action("reply")) {
                    (hidden(page))
                    div.field {
                        label for="reply-text" { (c.reply_text) }
                        textarea id="reply-text" name="text" rows="4" maxlength="4000" { (typed("reply")) }
                    }
                    fieldset {
                        legend { (c.reply_method) }
                        @for (i, code) in METHOD_CODES.iter().enumerate() {
                            div {
                                input type="radio" name="method" id={ "method-" (code) } value=(code) checked[i == 0];
                                label for={ "method-" (code) } { (c.methods[i]) }
                            }
                        }
                    }
                    button type="submit" { (c.record_reply) }
                }
            }
            section aria-labelledby="note-heading" {
                h2 id="note-heading" { (c.note_title) " / " (c.action_title) }
                form method="post" action=(action("note")) {
                    (hidden(page))
                    div.field {
                        label for="note-text" { (c.note_title) }
                        textarea id="note-text" name="text" rows="3" maxlength="4000" { (typed("note")) }
                    }
                    button type="submit" { (c.add_note) }
                }
                form method="post" action=(action("action")) {
                    (hidden(page))
                    div.field {
                        label for="action-text" { (c.action_title) }
                        textarea id="action-text" name="text" rows="3" maxlength="4000" { (typed("action")) }
                    }
                    button type="submit" { (c.record_action) }
                }
            }
            section aria-labelledby="close-heading" {
                h2 id="close-heading" { (c.close_title) }
                form method="post" action=(action("close")) {
                    (hidden(page))
                    div.field {
                        label for="resolution" { (c.resolution) }
                        textarea id="resolution" name="text" rows="2" maxlength="4000" { (typed("close")) }
                    }
                    button type="submit" { (c.close) }
                }
            }
        }
    }
}

/// The phone-call form; after a refusal `posted` holds what was sent (the same case id, so a
/// second send opens one case, and the typed values).
pub fn new_case_body(
    t: &'static Texts,
    units: &[VisibleUnit],
    csrf: &str,
    now: chrono::DateTime<chrono_tz::Tz>,
    refused: &[String],
    posted: &[(String, String)],
) -> Markup {
    // The call's day and time default to now on the Helsinki clock (a later time would be
    // refused as in the future).
    let today = now.format("%Y-%m-%d").to_string();
    let time_now = now.format("%H:%M").to_string();
    let c = crate::case_texts::case_texts(t.tag);
    let value = |name: &str| {
        posted
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let case_id = value("case_id").unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let language = value("language").unwrap_or_else(|| t.tag.to_owned());
    let languages = [("fi", "suomi"), ("sv", "svenska"), ("en", "English")];
    html! {
        h1 { (c.new_case) }
        p { (c.new_case_intro) }
        @if !refused.is_empty() {
            div.problem role="alert" id="refused" {
                p { (c.refused) }
                ul { @for line in refused { li { (line) } } }
            }
        }
        form method="post" action="/cases" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="case_id" value=(case_id);
            div.field {
                label for="unit" { (c.unit) }
                select id="unit" name="unit" {
                    @for unit in units {
                        option value=(unit.unit.unit_id) selected[value("unit").as_deref() == Some(unit.unit.unit_id.as_str())] { (unit.name) }
                    }
                }
            }
            // No kind chosen beforehand: a default would tilt the reports towards it.
            fieldset {
                legend { (c.kind) }
                @for (i, code) in KIND_CODES.iter().enumerate() {
                    div {
                        input type="radio" name="kind" id={ "kind-" (code) } value=(code) checked[value("kind").as_deref() == Some(*code)];
                        label for={ "kind-" (code) } { (c.kinds[i]) }
                    }
                }
            }
            div.field {
                label for="language" { (c.language) }
                select id="language" name="language" {
                    @for (code, name) in languages {
                        option value=(code) lang=(code) selected[language == code] { (name) }
                    }
                }
            }
            div.field {
                label for="received-on" { (c.received_on) }
                input id="received-on" name="received_on" type="date" value=(value("received_on").unwrap_or(today));
            }
            div.field {
                label for="received-time" { (c.received_time) }
                input id="received-time" name="received_time" type="time" value=(value("received_time").unwrap_or(time_now));
            }
            div.field {
                label for="message" { (c.message) }
                textarea id="message" name="message" rows="5" maxlength="4000" { (value("message").unwrap_or_default()) }
            }
            fieldset {
                legend { (c.contact) }
                div {
                    input type="checkbox" id="contact-requested" name="contact_requested" value="yes" checked[value("contact_requested").is_some()];
                    label for="contact-requested" { (c.contact_requested) }
                }
                div.field { label for="contact-name" { (c.name) } input id="contact-name" name="name" type="text" autocomplete="off" value=(value("name").unwrap_or_default()); }
                div.field { label for="contact-email" { (c.email) } input id="contact-email" name="email" type="email" autocomplete="off" value=(value("email").unwrap_or_default()); }
                div.field { label for="contact-phone" { (c.phone) } input id="contact-phone" name="phone" type="tel" autocomplete="off" value=(value("phone").unwrap_or_default()); }
            }
            button type="submit" { (c.save_case) }
        }
    }
}

pub fn report_body(
    t: &'static Texts,
    rows: &[HandlingRow],
    units: &[VisibleUnit],
    from: &str,
    to: &str,
) -> Markup {
    let c = crate::case_texts::case_texts(t.tag);
    let share = |row: &HandlingRow| {
        row.on_time_share.map_or_else(
            || "-".to_owned(),
            |s| format!("{} %", decimal(s * 100.0, t, 0)),
        )
    };
    let hours = |row: &HandlingRow| {
        row.median_hours_to_handle
            .map_or_else(|| "-".to_owned(), |h| decimal(h, t, 1))
    };
    html! {
        h1 { (c.report_title) }
        p { (c.report_intro) }
        form method="get" action="/cases/report" {
            div.field {
                label for="from" { (c.received_from) }
                input id="from" name="from" type="date" value=(from);
            }
            div.field {
                label for="to" { (c.received_to) }
                input id="to" name="to" type="date" value=(to);
            }
            button type="submit" { (c.apply) }
        }
        table id="handling-report" {
            thead {
                tr {
                    th scope="col" { (c.unit) }
                    th scope="col" { (c.kind) }
                    th.number scope="col" { (c.received) }
                    th.number scope="col" { (c.replied) }
                    th.number scope="col" { (c.closed) }
                    th.number scope="col" { (c.open) }
                    th.number scope="col" { (c.overdue) }
                    th.number scope="col" { (c.on_time) }
                    th.number scope="col" { (c.on_time_share) }
                    th.number scope="col" { (c.median_hours) }
                    th.number scope="col" { (c.escalated) }
                }
            }
            tbody {
                @for row in rows {
                    tr data-unit=(row.unit_id) data-kind=(row.kind) {
                        th scope="row" {
                            @if row.unit_id.is_empty() { (c.total) } @else { (unit_name(units, &row.unit_id)) }
                        }
                        td { (c.kind_name_of_code(&row.kind)) }
                        td.number { (row.received) }
                        td.number { (row.replied) }
                        td.number { (row.closed) }
                        td.number { (row.open) }
                        td.number { (row.overdue) }
                        td.number { (row.handled_on_time) }
                        td.number { (share(row)) }
                        td.number { (hours(row)) }
                        td.number { (row.escalated) }
                    }
                }
            }
        }
    }
}
