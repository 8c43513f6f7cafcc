//! Feedback handling through the screens people use, in headless Chromium
//! (tests/browser/cases.mjs): a respondent answers on the web form and asks to be contacted; the
//! unit manager finds the case in the console's inbox, reads it, assigns, starts, notes,
//! replies, records an action and closes it, enters a phone call from before Easter (due
//! 10.4.2026, shown late) and opens the handling report. axe-core checks every page. The test
//! then reads both cases back over gRPC.

use kaiku_domain::calendar::deadline;
use kaiku_domain::time::helsinki_date;
use kaiku_proto::handling::v1::{CaseState, GetCaseRequest};
use kaiku_system_tests::{
    ConsoleAccount, Stack, TestResult, browser, console_trust_env, two_areas,
};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_handles_a_contact_request_and_a_phone_call_in_the_console() -> TestResult {
    let mut env = console_trust_env();
    env.push(("KAIKU_HANDLING_PROMISE", "5wd".to_owned()));
    let stack = Stack::start_with_env(&env).await?;
    let mut surveys = stack.surveys().await?;
    for request in two_areas() {
        surveys.create_unit(request).await?;
    }
    let survey_id = stack
        .publish(kaiku_domain::fixtures::nps_survey(&["school-a1"]))
        .await?;
    let web = stack.start_web_form(&[]).await?;
    let token = web.sign(&kaiku_links::LinkContext {
        survey_id,
        unit_id: "school-a1".into(),
        channel: "qr".into(),
        respondent_role: "client".into(),
        professional_group: String::new(),
        age_band: String::new(),
        language: "fi".into(),
    })?;
    let password = "anna-salasana-9";
    let console = stack
        .start_console(
            &[ConsoleAccount {
                username: "anna",
                name: "Anna Esihenkilö",
                password,
                role: "unit-manager",
                units: &["area-a"],
            }],
            &[],
        )
        .await?;
    let due = deadline(helsinki_date(chrono::Utc::now()), 5);
    let message = "Odotin tunnin. Soittakaa minulle, kiitos.";
    let result = browser(
        "cases.mjs",
        "cases",
        json!({
            "form_url": format!("{}/f/{token}?lang=fi", web.url),
            "console_url": console.url,
            "manager": { "username": "anna", "password": password },
            "message": message,
            "due_fi": due.format("%-d.%-m.%Y").to_string(),
        }),
    )
    .await
    .map_err(|e| format!("{e}\n{}\n{}", console.log(), stack.logs()))?;

    let mut handling = stack.handling().await?;
    let case_id = result["case_id"].as_str().ok_or("no case id")?;
    let case = handling
        .get_case(GetCaseRequest {
            case_id: case_id.into(),
        })
        .await?
        .into_inner()
        .case
        .ok_or("no case")?;
    assert_eq!(case.state(), CaseState::Closed);
    assert_eq!(case.unit_id, "school-a1");
    assert_eq!(case.reply_due_on, due.to_string());
    assert_eq!(case.content.unwrap_or_default().message, message);
    let whats: Vec<(&str, &str)> = case
        .history
        .iter()
        .map(|h| (h.what.as_str(), h.recorded_by.as_str()))
        .collect();
    assert_eq!(
        whats,
        [
            ("opened", "api-key:channel-adapter"),
            ("assigned", "anna"),
            ("started", "anna"),
            ("note", "anna"),
            ("replied", "anna"),
            ("action", "anna"),
            ("closed", "anna"),
        ]
    );
    let phone_id = result["phone_case_id"].as_str().ok_or("no phone case")?;
    let phone = handling
        .get_case(GetCaseRequest {
            case_id: phone_id.into(),
        })
        .await?
        .into_inner()
        .case
        .ok_or("no phone case")?;
    assert_eq!(phone.reply_due_on, "2026-04-10");
    assert!(phone.overdue);
    assert_eq!(
        phone
            .content
            .and_then(|c| c.contact)
            .unwrap_or_default()
            .phone,
        "040 765 4321"
    );
    assert_eq!(
        result["report_total"].as_array().map(Vec::len),
        Some(10),
        "the report's total row"
    );
    Ok(())
}
