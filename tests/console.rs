//! The staff console against the real services: a unit manager and county staff sign in with
//! local accounts in headless Chromium (tests/browser/console.mjs) and see exactly their units'
//! figures, as analytics gives them; the manager walks the results review and records and
//! follows up a development target; county staff create and publish a survey from the THL
//! template; axe-core checks every page and screenshots are kept. The PDF report is read back
//! with pdftotext. Refusals (wrong password, missing CSRF token, another unit, set-up as a
//! manager, malformed input) are checked over plain HTTP and leave nothing behind.

use chrono::{Duration as Days, NaiveDate, TimeZone, Utc};
use kaiku_auth::Scope;
use kaiku_domain::time::{helsinki_date, local_date};
use kaiku_proto::analytics::v1::analytics_client::AnalyticsClient;
use kaiku_proto::analytics::v1::{
    Dimension, GetNpsRequest, GetNpsResponse, Grouping, NpsFigure, ResponseFilter,
};
use kaiku_proto::intake::v1::{
    Answer, NpsAnswer, OpenTextAnswer, ResponseContext, StatementAnswer, SubmitResponseRequest,
    answer::Value,
};
use kaiku_proto::survey::v1::{
    Channel, CollectionPeriod, GetSurveyRequest, Language, ListDevelopmentTargetsRequest,
    ListSurveysRequest, ListUnitsRequest, RespondentRole, ScheduledCollection, SurveyStatus,
    TargetProgress, UnitLevel, survey_content,
};
use kaiku_system_tests::console_client::{pdftotext, plain_client, sign_in};
use kaiku_system_tests::{
    Console, ConsoleAccount, Stack, TEST_LINK_KEYS, TestResult, WebForm, browser,
    console_trust_env, unit,
};
use kaiku_test_support::Grant;
use serde_json::json;

const STATEMENTS: [&str; 7] = [
    "thl_saatavuus",
    "thl_kohtaaminen",
    "thl_osallistuminen",
    "thl_turvallisuus",
    "thl_tiedon_saanti",
    "thl_tiedon_ymmarrettavyys",
    "thl_hyodyllisyys",
];
const POSITIVE: &str = "Kuraattori oli ystävällinen ja kuunteli, kiitos";
const WAITING: &str = "Jouduin odottamaan aikaa liian kauan";

fn today() -> NaiveDate {
    helsinki_date(Utc::now())
}

fn answer(
    survey_id: &str,
    unit_id: &str,
    role: RespondentRole,
    day: NaiveDate,
    nps: u32,
    text: Option<&str>,
) -> SubmitResponseRequest {
    let mut answers = vec![Answer {
        question_key: "nps".into(),
        value: Some(Value::Nps(NpsAnswer { score: nps })),
    }];
    for (i, key) in STATEMENTS.iter().enumerate() {
        answers.push(Answer {
            question_key: (*key).into(),
            value: Some(Value::Statement(StatementAnswer {
                score: 3 + (nps + i as u32) % 3,
                dont_know: false,
            })),
        });
    }
    if let Some(text) = text {
        answers.push(Answer {
            question_key: "open_feedback".into(),
            value: Some(Value::OpenText(OpenTextAnswer { text: text.into() })),
        });
    }
    let noon = day.and_hms_opt(10, 0, 0).map(|t| Utc.from_utc_datetime(&t));
    SubmitResponseRequest {
        submission_id: uuid::Uuid::new_v4().to_string(),
        survey_id: survey_id.into(),
        survey_version: 1,
        context: Some(ResponseContext {
            unit_id: unit_id.into(),
            channel: Channel::Paper as i32,
            respondent_role: role as i32,
            language: Language::Fi as i32,
            ..ResponseContext::default()
        }),
        answers,
        answered_at: noon.map(kaiku_domain::time::to_timestamp),
    }
}

/// County > areas A and B > schools A1, A2 (area A) and B1 (area B); the THL survey for the
/// whole county with an autumn and a spring period, answered in both.
async fn organisation_and_answers(stack: &Stack) -> TestResult<(String, u64)> {
    let mut surveys = stack.surveys().await?;
    for request in [
        unit("county", "", UnitLevel::County, "Hyvinvointialue"),
        unit("area-a", "county", UnitLevel::ServiceArea, "Alue A"),
        unit("area-b", "county", UnitLevel::ServiceArea, "Alue B"),
        unit("school-a1", "area-a", UnitLevel::Unit, "Koulu A1"),
        unit("school-a2", "area-a", UnitLevel::Unit, "Koulu A2"),
        unit("school-b1", "area-b", UnitLevel::Unit, "Koulu B1"),
    ] {
        surveys.create_unit(request).await?;
    }
    let today = today();
    let mut content = kaiku_templates::template("thl-national")
        .ok_or("no THL template")?
        .content()?;
    content.unit_ids = vec!["county".into()];
    content.collection = Some(survey_content::Collection::Scheduled(ScheduledCollection {
        periods: vec![
            CollectionPeriod {
                period_id: "autumn".into(),
                starts_on: Some(local_date(today - Days::days(70))),
                ends_on: Some(local_date(today - Days::days(40))),
            },
            CollectionPeriod {
                period_id: "spring".into(),
                starts_on: Some(local_date(today - Days::days(20))),
                ends_on: Some(local_date(today + Days::days(10))),
            },
        ],
    }));
    let survey_id = stack.publish(content).await?;
    let autumn = today - Days::days(50);
    let spring = today - Days::days(5);
    let client = RespondentRole::Client;
    let mut requests = Vec::new();
    for nps in [10, 10, 9, 8, 5, 9] {
        requests.push(answer(&survey_id, "school-a1", client, autumn, nps, None));
    }
    for (i, nps) in [10, 9, 9, 9, 10, 7, 6, 10].into_iter().enumerate() {
        let text = match i {
            0 => Some(POSITIVE),
            6 => Some(WAITING),
            _ => None,
        };
        requests.push(answer(&survey_id, "school-a1", client, spring, nps, text));
    }
    for nps in [9, 10] {
        requests.push(answer(
            &survey_id,
            "school-a1",
            RespondentRole::Guardian,
            spring,
            nps,
            None,
        ));
    }
    // Three answers: below the minimum group size of 5, so school A2 is suppressed.
    for nps in [3, 10, 8] {
        requests.push(answer(&survey_id, "school-a2", client, spring, nps, None));
    }
    for nps in [10, 10, 9, 2, 6, 8, 9] {
        requests.push(answer(&survey_id, "school-b1", client, spring, nps, None));
    }
    let last = stack.submit_batch(requests).await?;
    Ok((survey_id, last))
}

/// What analytics answers the test's admin key for a unit subtree in the spring period,
/// grouped by unit or not.
async fn spring_nps(
    stack: &Stack,
    as_reader: Option<&str>,
    survey_id: &str,
    unit: &str,
    sequence: u64,
    by_unit: bool,
) -> TestResult<GetNpsResponse> {
    period_nps(
        stack, as_reader, survey_id, unit, "spring", sequence, by_unit,
    )
    .await
}

/// What analytics answers for a unit subtree in `period`, grouped by unit or not: to the
/// test's admin key (kaiku.export: exact figures, as county staff see them), or to a reader's
/// key (as a unit manager sees them, ADR 0018).
async fn period_nps(
    stack: &Stack,
    as_reader: Option<&str>,
    survey_id: &str,
    unit: &str,
    period: &str,
    sequence: u64,
    by_unit: bool,
) -> TestResult<GetNpsResponse> {
    let mut analytics = match as_reader {
        Some(token) => AnalyticsClient::new(stack.channel_as("analytics", token).await?),
        None => stack.analytics().await?,
    };
    Ok(analytics
        .get_nps(GetNpsRequest {
            survey_id: survey_id.into(),
            filter: Some(ResponseFilter {
                unit_subtrees: vec![unit.into()],
                period_ids: vec![period.into()],
                ..kaiku_system_tests::clients()
            }),
            // A reader asks with no sequence (ADR 0020); the fixture waited for the release.
            min_sequence: if as_reader.is_some() { 0 } else { sequence },
            grouping: by_unit.then(|| Grouping {
                group_by: vec![Dimension::Unit as i32],
                bucket: 0,
            }),
            ..GetNpsRequest::default()
        })
        .await?
        .into_inner())
}

/// The figure of a unit subtree in spring.
async fn nps_of(
    stack: &Stack,
    as_reader: Option<&str>,
    survey_id: &str,
    unit: &str,
    sequence: u64,
) -> TestResult<serde_json::Value> {
    let reply = spring_nps(stack, as_reader, survey_id, unit, sequence, false).await?;
    Ok(figure_json(reply.figure, reply.suppressed))
}

/// The per-unit rows of `top`'s subtree in spring (with analytics' secondary suppression).
async fn unit_rows(
    stack: &Stack,
    as_reader: Option<&str>,
    survey_id: &str,
    top: &str,
    sequence: u64,
) -> TestResult<serde_json::Value> {
    let reply = spring_nps(stack, as_reader, survey_id, top, sequence, true).await?;
    let mut rows = serde_json::Map::new();
    for row in reply.rows {
        let unit = row.group.first().cloned().unwrap_or_default();
        rows.insert(unit, figure_json(row.figure, row.suppressed));
    }
    Ok(serde_json::Value::Object(rows))
}

/// How the console shows a figure: NPS with one decimal (English) and n, or suppressed.
fn figure_json(figure: Option<NpsFigure>, suppressed: bool) -> serde_json::Value {
    match (figure, suppressed) {
        (_, true) => json!({ "suppressed": true }),
        (Some(f), false) => json!({ "nps": f.nps.map(|n| format!("{n:.1}")), "n": f.n }),
        (None, false) => json!({ "n": 0 }),
    }
}

/// The stack with the organisation and answers, and a console with a unit manager of area A
/// (anna) and county staff (kalle).
struct Fixture {
    stack: Stack,
    /// A reader's key with anna's grant (area A): what analytics answers her.
    reader: String,
    survey_id: String,
    sequence: u64,
    console: Console,
    /// The web form the console's links point at; it stops when dropped, so tests keep it.
    _web_form: WebForm,
    /// Where the console writes its scheduled reports.
    reports: tempfile::TempDir,
}

async fn stack_with_console() -> TestResult<Fixture> {
    let (stack, keys) = Stack::start_with_keys(
        &console_trust_env(),
        &[(
            "area-a-reader",
            &[Scope::AnalyticsRead],
            Grant {
                unit_subtrees: vec!["area-a".into()],
                ..Grant::default()
            },
        )],
    )
    .await?;
    let reader = keys.first().cloned().ok_or("no reader key")?;
    let (survey_id, sequence) = organisation_and_answers(&stack).await?;
    // The console reads as its signed-in staff, unit managers as readers (ADR 0020).
    stack.wait_released(&survey_id, sequence).await?;
    // The web form the console's links and printouts point at, with the same link keys.
    let web_form = stack.start_web_form(&[]).await?;
    let reports = tempfile::tempdir()?;
    let console_env = [
        ("KAIKU_LINK_KEYS", TEST_LINK_KEYS.to_owned()),
        ("KAIKU_WEB_FORM_URL", web_form.url.clone()),
        (
            "KAIKU_CONSOLE_REPORT_DIR",
            reports.path().display().to_string(),
        ),
        ("KAIKU_CONSOLE_REPORT_INTERVAL", "1s".to_owned()),
        ("KAIKU_CONSOLE_REPORT_LANGUAGE", "en".to_owned()),
    ];
    let console = stack
        .start_console(
            &[
                ConsoleAccount {
                    username: "anna",
                    name: "Anna Esihenkilö",
                    password: "anna-salasana-1",
                    role: "unit-manager",
                    units: &["area-a"],
                },
                ConsoleAccount {
                    username: "kalle",
                    name: "Kalle Kehittäjä",
                    password: "kalle-salasana-1",
                    role: "county-staff",
                    units: &[],
                },
            ],
            &console_env,
        )
        .await?;
    Ok(Fixture {
        stack,
        reader,
        survey_id,
        sequence,
        console,
        _web_form: web_form,
        reports,
    })
}

#[tokio::test]
async fn staff_see_their_units_review_results_and_set_up_surveys_in_the_browser() -> TestResult {
    let Fixture {
        stack,
        reader,
        survey_id,
        sequence,
        console,
        _web_form,
        ..
    } = stack_with_console().await?;

    // What each must see: the default view is their top unit in the current (spring) period.
    let mut expected_units = serde_json::Map::new();
    for unit in [
        "county",
        "area-a",
        "area-b",
        "school-a1",
        "school-a2",
        "school-b1",
    ] {
        expected_units.insert(
            unit.into(),
            nps_of(&stack, None, &survey_id, unit, sequence).await?,
        );
    }
    // The manager is a reader: her figures are what analytics answers a reader of area A.
    let mut manager_units = serde_json::Map::new();
    for unit in ["area-a", "school-a1", "school-a2"] {
        manager_units.insert(
            unit.into(),
            nps_of(&stack, Some(&reader), &survey_id, unit, sequence).await?,
        );
    }
    let input = json!({
        "url": console.url,
        "survey_id": survey_id,
        "manager": { "username": "anna", "password": "anna-salasana-1", "top": "area-a",
                     "units": ["area-a", "school-a1", "school-a2"],
                     "figures": manager_units,
                     "unit_rows": unit_rows(&stack, Some(&reader), &survey_id, "area-a", sequence).await?,
                     "foreign_unit": "school-b1" },
        "staff": { "username": "kalle", "password": "kalle-salasana-1", "top": "county",
                   "units": ["county", "area-a", "area-b", "school-a1", "school-a2", "school-b1"],
                   "figures": expected_units,
                   "unit_rows": unit_rows(&stack, None, &survey_id, "county", sequence).await? },
        "review": { "unit": "school-a1", "period": "spring", "positive": POSITIVE, "other": WAITING,
                    "target": "Lyhyemmät jonotusajat kuraattorille", "note": "Ajanvaraus verkossa käyttöön" },
        "new_survey": { "title": "Kokeilukysely", "unit": "school-b1",
                        "period": { "id": "kevat-2027", "starts_on": "2027-03-01", "ends_on": "2027-03-21" } },
        "new_unit": { "id": "school-b2", "parent": "area-b", "name": "Koulu B2", "renamed": "Koulu B2 uusi nimi" },
    });
    let result = browser("console.mjs", "console", input)
        .await
        .map_err(|e| format!("{e}\nconsole log:\n{}", console.log()))?;

    // The target is an event in survey-definition, recorded by the manager, followed up.
    let targets = stack
        .surveys()
        .await?
        .list_development_targets(ListDevelopmentTargetsRequest {
            unit_id: "school-a1".into(),
            survey_id: survey_id.clone(),
        })
        .await?
        .into_inner()
        .targets;
    assert_eq!(targets.len(), 1, "{targets:?}");
    assert_eq!(targets[0].text, "Lyhyemmät jonotusajat kuraattorille");
    assert_eq!(targets[0].period_id, "spring");
    assert_eq!(targets[0].recorded_by, "anna");
    assert_eq!(targets[0].progress, TargetProgress::InProgress as i32);
    assert_eq!(targets[0].follow_up_note, "Ajanvaraus verkossa käyttöön");

    // The survey county staff made is published from the THL template for school B1.
    let created = result["created_survey"]
        .as_str()
        .ok_or("no created survey id")?
        .to_owned();
    let survey = stack
        .surveys()
        .await?
        .get_survey(GetSurveyRequest { survey_id: created })
        .await?
        .into_inner()
        .survey
        .ok_or("no survey")?;
    assert_eq!(survey.status, SurveyStatus::Published as i32);
    let version = survey
        .versions
        .last()
        .and_then(|v| v.content.clone())
        .ok_or("no version")?;
    assert_eq!(version.unit_ids, ["school-b1"]);
    assert!(
        version.titles.iter().any(|t| t.text == "Kokeilukysely"),
        "{:?}",
        version.titles
    );
    assert!(version.questions.iter().any(|q| q.key == "nps"));
    assert_eq!(version.questions.len(), 9);
    let periods: Vec<&str> = match &version.collection {
        Some(survey_content::Collection::Scheduled(s)) => {
            s.periods.iter().map(|p| p.period_id.as_str()).collect()
        }
        _ => Vec::new(),
    };
    assert_eq!(periods, ["kevat-2027"]);

    // The unit made in the browser, under area B, with its new Finnish name.
    let units = stack
        .surveys()
        .await?
        .list_units(ListUnitsRequest::default())
        .await?
        .into_inner()
        .units;
    let b2 = units
        .iter()
        .filter_map(|u| u.unit.as_ref())
        .find(|u| u.unit_id == "school-b2")
        .ok_or("no unit school-b2")?;
    assert_eq!(b2.parent_unit_id, "area-b");
    assert!(
        b2.names.iter().any(|n| n.text == "Koulu B2 uusi nimi"),
        "{:?}",
        b2.names
    );
    Ok(())
}

/// A form that must be refused: path, fields, the HTTP status, and the field the page names.
type Refusal<'a> = (&'a str, &'a [(&'a str, &'a str)], u16, &'a str);

#[tokio::test]
async fn the_report_says_unit_period_nps_and_n_and_every_refusal_leaves_nothing_behind()
-> TestResult {
    let Fixture {
        stack,
        reader,
        survey_id,
        sequence,
        console,
        reports,
        _web_form,
    } = stack_with_console().await?;
    let base = console.url.clone();

    // Not signed in: every page sends to the login page; a wrong password gets no session.
    let anonymous = plain_client()?;
    let reply = anonymous.get(format!("{base}/results")).send().await?;
    assert_eq!(reply.status(), 303);
    assert!(
        reply
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|l| l.starts_with("/login"))
    );
    let reply = anonymous
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=anna&password=wrong")
        .send()
        .await?;
    assert_eq!(reply.status(), 401);
    assert!(reply.headers().get("set-cookie").is_none());

    let anna = sign_in(&base, "anna", "anna-salasana-1").await?;
    let query = format!("survey={survey_id}&unit=school-a1&period=spring&lang=en");

    // The PDF report of school A1 in spring, read back as text.
    let (status, content_type, pdf) = anna
        .get_bytes(&format!("/reports/results.pdf?{query}"))
        .await?;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(content_type, "application/pdf");
    let text = pdftotext(&pdf)?;
    // anna is a reader: the report says what analytics answers a reader of area A.
    let expected = nps_of(&stack, Some(&reader), &survey_id, "school-a1", sequence).await?;
    let nps = expected["nps"].as_str().ok_or("school A1 has no NPS")?;
    let n = expected["n"].as_u64().ok_or("school A1 has no n")?;
    for wanted in [
        "Koulu A1 (en)",
        "spring",
        &format!("NPS {nps}"),
        &format!("n = {n}"),
    ] {
        assert!(
            text.contains(wanted),
            "the report lacks {wanted:?}:\n{text}"
        );
    }
    std::fs::create_dir_all(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/test-artifacts/browser/console"
    ))?;
    std::fs::write(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../target/test-artifacts/browser/console/report.pdf"
        ),
        &pdf,
    )?;

    // The same figures as CSV.
    let (status, content_type, csv) = anna
        .get_bytes(&format!("/reports/results.csv?{query}"))
        .await?;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "text/csv; charset=utf-8")
    );
    let csv = String::from_utf8(csv)?;
    let total = format!("\"nps\",\"total\",{n},{}", nps.trim_end_matches(".0"));
    assert!(
        csv.lines().any(|l| l.contains(&total)),
        "no {total:?} in\n{csv}"
    );

    // Another area's unit, set-up pages, an unknown period: refused, naming the problem.
    let (status, body) = anna
        .get(&format!("/results?survey={survey_id}&unit=school-b1"))
        .await?;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("school-b1"));
    let (status, _) = anna
        .get(&format!(
            "/reports/results.pdf?survey={survey_id}&unit=area-b"
        ))
        .await?;
    assert_eq!(status, 404);
    assert_eq!(anna.get("/surveys").await?.0, 403);
    let (status, body) = anna
        .get(&format!("/results?survey={survey_id}&period=winter"))
        .await?;
    assert_eq!(status, 400);
    assert!(body.contains("period"), "{body}");
    let (status, body) = anna
        .get(&format!("/results?survey={survey_id}&channel=fax"))
        .await?;
    assert_eq!(status, 400);
    assert!(body.contains("channel"), "{body}");

    // Development targets: without the form's token, for another area's unit, or empty.
    let target = |unit: &str, text: &str, csrf: bool| {
        let fields = [
            ("survey", survey_id.as_str()),
            ("unit", unit),
            ("period", "spring"),
            ("text", text),
        ];
        let fields: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let anna = &anna;
        async move {
            let refs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            anna.post("/review/targets", &refs, csrf).await
        }
    };
    assert_eq!(
        target("school-a1", "Ilman tunnistetta", false).await?.0,
        403
    );
    let (status, body) = target("school-b1", "Toisen alueen yksikkö", true).await?;
    assert_eq!(status, 403, "{body}");
    let (status, body) = target("school-a1", "   ", true).await?;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("text"), "{body}");
    let (status, body) = anna
        .post(
            "/review/targets/nope/follow-up",
            &[("unit", "school-a1"), ("progress", "FINISHED")],
            true,
        )
        .await?;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("progress"), "{body}");
    let mut surveys = stack.surveys().await?;
    for unit in ["school-a1", "school-b1"] {
        let targets = surveys
            .list_development_targets(ListDevelopmentTargetsRequest {
                unit_id: unit.into(),
                survey_id: String::new(),
            })
            .await?
            .into_inner()
            .targets;
        assert!(targets.is_empty(), "{unit}: {targets:?}");
    }

    // Set-up: a malformed date or no template is refused and no survey is made.
    let kalle = sign_in(&base, "kalle", "kalle-salasana-1").await?;
    let before = surveys
        .list_surveys(ListSurveysRequest::default())
        .await?
        .into_inner()
        .surveys
        .len();
    let (status, body) = kalle
        .post(
            "/surveys",
            &[
                ("template", "thl-national"),
                ("unit", "school-b1"),
                ("collection", "period"),
                ("period_id", "spring-2027"),
                ("starts_on", "31.2.2027"),
                ("ends_on", "2027-03-21"),
            ],
            true,
        )
        .await?;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("starts_on"), "{body}");
    let (status, body) = kalle
        .post("/surveys", &[("template", "no-such-template")], true)
        .await?;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("template"), "{body}");
    assert_eq!(
        kalle
            .post("/surveys", &[("template", "thl-national")], false)
            .await?
            .0,
        403
    );
    let after = surveys
        .list_surveys(ListSurveysRequest::default())
        .await?
        .into_inner()
        .surveys
        .len();
    assert_eq!(before, after);

    // Links and printouts for school A1's QR poster: the poster comes from the web form and
    // names the unit; a value the survey does not offer is refused by name, and managers get none.
    let (status, page) = kalle
        .get(&format!(
            "/surveys/{survey_id}/links?unit=school-a1&channel=qr&role=client&language=fi&lang=en"
        ))
        .await?;
    assert_eq!(status, 200, "{page}");
    let poster = page
        .split("<a href=\"")
        .find(|part| part.contains("/poster.pdf"))
        .and_then(|part| part.split('"').next())
        .ok_or("no poster link on the links page")?
        .to_owned();
    let reply = plain_client()?.get(&poster).send().await?;
    assert_eq!(reply.status(), 200, "{poster}");
    let poster_text = pdftotext(&reply.bytes().await?)?;
    assert!(
        poster_text.contains("Koulu A1"),
        "the poster does not name the unit:\n{poster_text}"
    );
    for (query, field) in [
        (
            "unit=school-a1&channel=fax&role=client&language=fi",
            "channel",
        ),
        ("unit=nowhere&channel=qr&role=client&language=fi", "unit"),
        (
            "unit=school-a1&channel=qr&role=client&language=de",
            "language",
        ),
    ] {
        let (status, body) = kalle
            .get(&format!("/surveys/{survey_id}/links?{query}"))
            .await?;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body.contains(field), "{query}: {body}");
    }

    // Units: a malformed id, no level, a stale revision; periods: a malformed date. Managers
    // manage no units.
    let periods = format!("/surveys/{survey_id}/periods");
    let refusals: [Refusal; 4] = [
        (
            "/units",
            &[
                ("unit_id", "bad id"),
                ("parent", "area-b"),
                ("level", "UNIT_LEVEL_UNIT"),
                ("name_fi", "X"),
            ],
            422,
            "unit_id",
        ),
        (
            "/units",
            &[
                ("unit_id", "school-x"),
                ("parent", "area-b"),
                ("name_fi", "X"),
            ],
            400,
            "level",
        ),
        (
            "/units/school-a1/rename",
            &[("revision", "1"), ("name_fi", "Uusi")],
            409,
            "",
        ),
        (
            &periods,
            &[
                ("revision", "1"),
                ("period_id", "p"),
                ("starts_on", "2027-02-30"),
                ("ends_on", "2027-03-01"),
            ],
            400,
            "starts_on",
        ),
    ];
    for (path, fields, expected, named) in refusals {
        let (status, body) = kalle.post(path, fields, true).await?;
        assert_eq!(status, expected, "{path}: {body}");
        assert!(body.contains(named), "{path} does not name {named}: {body}");
    }
    // The phone-call form: a malformed day or time is found by the console, a time in the
    // future or no kind by the handling service; each is told in Finnish by what to fix, the
    // typed message comes back, nothing opens.
    let call = |day: &'static str, time: &'static str, kind: &'static str| {
        [
            ("case_id", ""),
            ("unit", "school-a1"),
            ("kind", kind),
            ("language", "fi"),
            ("received_on", day),
            ("received_time", time),
            ("message", "Kysyi aukioloajoista."),
        ]
    };
    let phone_refusals: [(_, u16, &str); 4] = [
        (
            call("2026-02-30", "09:30", "question"),
            400,
            "Anna saapumispäivä",
        ),
        (
            call("2026-03-02", "9.30", "question"),
            400,
            "Anna kellonaika",
        ),
        (
            call("2999-03-02", "09:30", "question"),
            422,
            "Saapumisaika ei voi olla",
        ),
        (
            call("2026-03-02", "09:30", ""),
            422,
            "Valitse palautteen laji",
        ),
    ];
    for (fields, expected, named) in phone_refusals {
        let (status, body) = anna.post("/cases", &fields, true).await?;
        assert_eq!(status, expected, "{fields:?}: {body}");
        assert!(
            body.contains(named),
            "{fields:?} does not name {named}: {body}"
        );
        assert!(
            body.contains("Kysyi aukioloajoista."),
            "the message was not kept"
        );
    }
    let (status, inbox) = anna.get("/cases?view=all").await?;
    assert_eq!(status, 200, "{inbox}");
    assert!(
        !inbox.contains("data-case="),
        "a refused call opened a case: {inbox}"
    );

    assert_eq!(anna.get("/units").await?.0, 403);
    let units = surveys
        .list_units(ListUnitsRequest::default())
        .await?
        .into_inner()
        .units;
    assert!(
        units
            .iter()
            .filter_map(|u| u.unit.as_ref())
            .all(|u| u.unit_id != "school-x" && u.unit_id != "bad id")
    );

    // The scheduled reports: the autumn period has ended, so each unit has its report, with
    // analytics' figure; managers list and fetch only their units' reports.
    let autumn = period_nps(
        &stack,
        None,
        &survey_id,
        "school-a1",
        "autumn",
        sequence,
        false,
    )
    .await?;
    let autumn = autumn.figure.ok_or("school A1 has no autumn figure")?;
    let autumn_dir = reports.path().join(&survey_id).join("autumn");
    let report = autumn_dir.join("school-a1.pdf");
    // One round writes every unit's report in turn: wait for the last one asserted below too.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    for written in [&report, &autumn_dir.join("school-b1.pdf")] {
        while !written.exists() {
            if std::time::Instant::now() > deadline {
                return Err(format!(
                    "no scheduled report at {} within 60 s:\n{}",
                    written.display(),
                    console.log()
                )
                .into());
            }
            // Polling a directory: the console tells nobody when a report is written.
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
    let text = pdftotext(&std::fs::read(&report)?)?;
    let wanted_nps = format!("NPS {:.1}", autumn.nps.ok_or("no NPS")?);
    for wanted in [
        "Koulu A1 (en)",
        "autumn",
        wanted_nps.as_str(),
        &format!("n = {}", autumn.n),
    ] {
        assert!(
            text.contains(wanted),
            "the scheduled report lacks {wanted:?}:\n{text}"
        );
    }
    assert!(
        reports
            .path()
            .join(&survey_id)
            .join("autumn")
            .join("school-b1.pdf")
            .exists()
    );
    let (status, list) = anna.get("/reports?lang=en").await?;
    assert_eq!(status, 200);
    assert!(
        list.contains(&format!("data-report=\"{survey_id}/autumn/school-a1\"")),
        "{list}"
    );
    assert!(!list.contains("school-b1"), "{list}");
    let (status, _, pdf) = anna
        .get_bytes(&format!("/reports/files/{survey_id}/autumn/school-a1.pdf"))
        .await?;
    assert_eq!(status, 200);
    assert!(pdf.starts_with(b"%PDF-"));
    for path in [
        format!("/reports/files/{survey_id}/autumn/school-b1.pdf"),
        format!("/reports/files/{survey_id}/autumn/school-a1.exe"),
        format!("/reports/files/{survey_id}/..%2Fautumn/school-a1.pdf"),
    ] {
        assert_eq!(anna.get(&path).await?.0, 404, "{path}");
    }

    // Signing out ends the session.
    let (status, _) = anna
        .get(&format!(
            "/surveys/{survey_id}/links?unit=school-a1&channel=qr&role=client&language=fi"
        ))
        .await?;
    assert_eq!(status, 403);
    let (status, _) = anna.post("/logout", &[], true).await?;
    assert_eq!(status, 303);
    assert_eq!(anna.get("/results").await?.0, 303);
    Ok(())
}

/// One GET without following redirects: status, Location, the name=value of each Set-Cookie,
/// and the body.
async fn get_once(
    client: &reqwest::Client,
    url: &str,
    cookie: Option<&str>,
) -> TestResult<(u16, String, Vec<String>, String)> {
    let mut request = client.get(url);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let reply = request.send().await?;
    let status = reply.status().as_u16();
    let location = reply
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let cookies = reply
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| c.split(';').next().map(str::to_owned))
        .collect();
    Ok((status, location, cookies, reply.text().await?))
}

/// The session cookie among `cookies`, if one was set (not cleared).
fn session_of(cookies: &[String]) -> Option<String> {
    cookies
        .iter()
        .find(|c| {
            c.starts_with("kaiku_console_session=") && c.len() > "kaiku_console_session=".len()
        })
        .cloned()
}

/// What one sign-in through the provider ended in: the callback's status and body, the session
/// cookie if one was set, the callback URL and the state cookie.
type OidcSignIn = (u16, String, Option<String>, String, String);

/// console -> provider -> console; `same_browser` brings the state cookie back.
async fn oidc_sign_in(
    client: &reqwest::Client,
    base: &str,
    next: &str,
    same_browser: bool,
) -> TestResult<OidcSignIn> {
    let (status, to_provider, cookies, _) =
        get_once(client, &format!("{base}/login/oidc?next={next}"), None).await?;
    assert_eq!(status, 303);
    assert!(
        to_provider.contains("code_challenge_method=S256") && to_provider.contains("nonce="),
        "{to_provider}"
    );
    let state_cookie = cookies
        .into_iter()
        .find(|c| c.starts_with("kaiku_console_oidc="))
        .ok_or("no state cookie")?;
    let (status, back, _, _) = get_once(client, &to_provider, None).await?;
    assert_eq!(status, 303);
    assert!(
        back.starts_with(&format!("{base}/login/oidc/callback?")),
        "{back}"
    );
    let kept = same_browser.then_some(state_cookie.as_str());
    let (status, _, cookies, body) = get_once(client, &back, kept).await?;
    Ok((status, body, session_of(&cookies), back, state_cookie))
}

#[tokio::test]
async fn staff_sign_in_through_the_identity_provider_and_see_the_units_its_claims_grant()
-> TestResult {
    let stack = Stack::start_with_env(&console_trust_env()).await?;
    let (survey_id, _) = organisation_and_answers(&stack).await?;
    let idp = kaiku_system_tests::idp::TestIdp::start().await?;
    let console = stack.start_console(&[], &idp.console_env()).await?;
    let base = console.url.clone();
    let client = plain_client()?;

    // A unit manager of area B: console -> provider -> console, then area B's units only.
    idp.sign_in_as(json!({ "sub": "idp-user-7", "name": "Bertta Esihenkilö", "kaiku_role": "unit-manager", "kaiku_units": ["area-b"] }));
    let sign_in =
        |next: &'static str, same_browser: bool| oidc_sign_in(&client, &base, next, same_browser);
    // A unit manager of area B: signed in, moved on to /review by a page of the console's own
    // (the Strict session cookie would not come with a redirect the provider started).
    let (status, body, cookie, callback, state_cookie) = sign_in("/review", true).await?;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("url=/review"), "{body}");
    let cookie = cookie.ok_or("no session after the provider's sign-in")?;
    let page = client
        .get(format!(
            "{base}/results?survey={survey_id}&period=spring&lang=en"
        ))
        .header("cookie", &cookie)
        .send()
        .await?
        .text()
        .await?;
    assert!(page.contains("Bertta Esihenkilö"), "{page}");
    assert!(
        page.contains("<option value=\"area-b\"") && page.contains("<option value=\"school-b1\"")
    );
    assert!(
        !page.contains("<option value=\"school-a1\""),
        "area A is offered to area B's manager"
    );

    // The same callback again (its state is used up): refused, no session.
    let (status, _, cookies, _) = get_once(&client, &callback, Some(&state_cookie)).await?;
    assert_eq!((status, session_of(&cookies)), (400, None));
    // A callback from a sign-in another browser started (login CSRF): refused.
    let (status, _, cookie, _, _) = sign_in("/results", false).await?;
    assert_eq!((status, cookie), (400, None));
    // A state the console never made.
    let (status, _, cookies, _) = get_once(
        &client,
        &format!("{base}/login/oidc/callback?code=x&state=forged"),
        Some("kaiku_console_oidc=forged"),
    )
    .await?;
    assert_eq!((status, session_of(&cookies)), (400, None));
    // No Kaiku role, or a manager without units: not signed in.
    idp.sign_in_as(json!({ "sub": "idp-user-8", "name": "Ei Roolia" }));
    let (status, _, cookie, _, _) = sign_in("/results", true).await?;
    assert_eq!((status, cookie), (403, None));
    idp.sign_in_as(json!({ "sub": "idp-user-9", "kaiku_role": "unit-manager" }));
    let (status, _, cookie, _, _) = sign_in("/results", true).await?;
    assert_eq!((status, cookie), (403, None));

    // A county whose provider makes `sub` opaque (Entra ID) names people by their user name,
    // which handlers can type when assigning a case; a token without one signs nobody in.
    let by_user_name = stack
        .start_console(
            &[],
            &[
                idp.console_env(),
                vec![(
                    "KAIKU_CONSOLE_OIDC_SUBJECT_CLAIM",
                    "preferred_username".to_owned(),
                )],
            ]
            .concat(),
        )
        .await?;
    let opaque = "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ";
    idp.sign_in_as(json!({ "sub": opaque, "kaiku_role": "county-staff" }));
    let (status, _, cookie, _, _) =
        oidc_sign_in(&client, &by_user_name.url, "/results", true).await?;
    assert_eq!((status, cookie), (403, None));
    idp.sign_in_as(json!({ "sub": opaque, "preferred_username": "maija.manninen@hyvinvointialue.fi", "kaiku_role": "county-staff" }));
    let (status, body, cookie, _, _) =
        oidc_sign_in(&client, &by_user_name.url, "/results", true).await?;
    assert_eq!(status, 200, "{body}");
    assert!(cookie.is_some(), "no session for a token with a user name");
    let log = by_user_name.log();
    assert!(
        log.contains("maija.manninen@hyvinvointialue.fi") && !log.contains(opaque),
        "the person is known by the user name, not sub:\n{log}"
    );

    // An ID token signed by another key than the provider's.
    idp.sign_in_as(json!({ "sub": "idp-user-10", "kaiku_role": "county-staff" }));
    idp.forge_with("attacker-rsa.key");
    let (status, _, cookie, _, _) = sign_in("/results", true).await?;
    assert_eq!((status, cookie), (401, None));
    Ok(())
}
