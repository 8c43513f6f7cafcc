//! Every respondent counted: the student-welfare survey answered through the web form as
//! 7-12-year-olds on the kiosk (faces), 13-17-year-olds by QR code and guardians by web link,
//! then each question's figures for each role found in analytics, on the console's results and
//! review pages (Chromium, axe-core on every page), in the PDF report (pdftotext) and the CSV,
//! equal to this test's own count of what it sent.

use std::collections::BTreeMap;

use kaiku_auth::Scope;
use kaiku_domain::nps::NpsCounts;
use kaiku_links::LinkContext;
use kaiku_proto::analytics::v1::{
    GetNpsRequest, GetStatementSummaryRequest, ResponseFilter, Scale,
};
use kaiku_proto::survey::v1::RespondentRole;
use kaiku_system_tests::console_client::{pdftotext, sign_in};
use kaiku_system_tests::{
    Console, ConsoleAccount, Stack, TEST_LINK_KEYS, TestResult, WebForm, browser,
    console_trust_env, database_text, files_bytes, post_form, student_welfare_units,
};
use kaiku_test_support::Grant;
use serde_json::{Value as Json, json};

/// What the children answered on the kiosk: (how did the visit feel, did they listen), faces 1-3.
const CHILDREN: [(u32, u32); 6] = [(3, 3), (3, 2), (3, 2), (3, 3), (2, 1), (1, 3)];
/// 13-17-year-olds by QR code: NPS and "I was listened to" (None = don't know).
const TEENAGERS: [(u32, Option<u32>); 6] = [
    (10, Some(5)),
    (9, Some(4)),
    (9, Some(4)),
    (8, Some(5)),
    (6, Some(3)),
    (3, None),
];
/// Guardians by web link: NPS and "I received enough information about my child's situation".
const GUARDIANS: [(u32, u32); 6] = [(10, 4), (10, 4), (9, 5), (9, 2), (7, 3), (2, 4)];

/// Counts of 1..=points.
fn distribution(answers: impl Iterator<Item = u32>, points: u32) -> Vec<u64> {
    let mut counts = vec![0u64; points as usize];
    for answer in answers {
        if let Some(count) = counts.get_mut(answer as usize - 1) {
            *count += 1;
        }
    }
    counts
}

fn nps_of(scores: impl Iterator<Item = u32>) -> NpsCounts {
    let mut counts = NpsCounts::default();
    for score in scores {
        match score {
            9..=10 => counts.promoters += 1,
            7..=8 => counts.passives += 1,
            _ => counts.detractors += 1,
        }
    }
    counts
}

fn mean(counts: &[u64]) -> f64 {
    let n: u64 = counts.iter().sum();
    let sum: u64 = counts.iter().zip(1u64..).map(|(c, p)| c * p).sum();
    (sum as f64 / n as f64 * 100.0).round() / 100.0
}

fn best_share(counts: &[u64]) -> f64 {
    let n: u64 = counts.iter().sum();
    (counts.last().copied().unwrap_or(0) as f64 / n as f64 * 1000.0).round() / 10.0
}

/// What this test sent, per role and question: the figures every view must show.
fn expected() -> Json {
    let overall = distribution(CHILDREN.iter().map(|c| c.0), 3);
    let listened = distribution(CHILDREN.iter().map(|c| c.1), 3);
    let heard = distribution(TEENAGERS.iter().filter_map(|t| t.1), 5);
    let informed = distribution(GUARDIANS.iter().map(|g| g.1), 5);
    let face = |counts: &[u64]| json!({ "n": counts.iter().sum::<u64>(), "counts": counts, "best_share": best_share(counts) });
    let statement = |counts: &[u64], dont_know: usize| json!({ "n": counts.iter().sum::<u64>(), "mean": mean(counts), "counts": counts, "dont_know": dont_know });
    let nps = |counts: NpsCounts| {
        json!({ "n": counts.n(), "nps": format!("{:.1}", counts.score().unwrap_or_default()),
                "promoters": counts.promoters, "detractors": counts.detractors })
    };
    json!({
        "client": {
            "responses": CHILDREN.len() + TEENAGERS.len(),
            "nps": nps(nps_of(TEENAGERS.iter().map(|t| t.0))),
            "faces": { "child_overall": face(&overall), "child_listened": face(&listened) },
            "statements": { "kohtaaminen": statement(&heard, TEENAGERS.iter().filter(|t| t.1.is_none()).count()) },
        },
        "guardian": {
            "responses": GUARDIANS.len(),
            "nps": nps(nps_of(GUARDIANS.iter().map(|g| g.0))),
            "faces": {},
            "statements": { "guardian_informed": statement(&informed, 0) },
        },
    })
}

/// A kuraattori's respondent link in school-1, in Finnish.
fn link(survey_id: &str, channel: &str, role: &str, age_band: &str) -> LinkContext {
    LinkContext {
        survey_id: survey_id.to_owned(),
        unit_id: "school-1".into(),
        channel: channel.into(),
        respondent_role: role.into(),
        professional_group: "kuraattori".into(),
        age_band: age_band.into(),
        language: "fi".into(),
    }
}

struct Fixture {
    stack: Stack,
    web: WebForm,
    survey_id: String,
}

impl Fixture {
    /// Sends one answer through the web form's link for `channel`, `role` and `age_band`.
    async fn answer(
        &self,
        channel: &str,
        role: &str,
        age_band: &str,
        answers: &[(&str, String)],
    ) -> TestResult {
        let token = self
            .web
            .sign(&link(&self.survey_id, channel, role, age_band))?;
        let id = uuid::Uuid::new_v4().to_string();
        let mut fields: Vec<(&str, &str)> = vec![("submission_id", &id)];
        fields.extend(answers.iter().map(|(k, v)| (*k, v.as_str())));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let (status, body) =
            post_form(&client, &format!("{}/f/{token}", self.web.url), &fields).await?;
        if status != 303 {
            return Err(format!("{role} {age_band} on {channel}: {status}\n{body}").into());
        }
        Ok(())
    }

    /// A marker answer: see Stack::student_welfare_marker.
    async fn marker(&self) -> TestResult<u64> {
        self.stack.student_welfare_marker(&self.survey_id).await
    }
}

fn school_1(role: RespondentRole) -> ResponseFilter {
    ResponseFilter {
        unit_ids: vec!["school-1".into()],
        respondent_roles: vec![role as i32],
        ..ResponseFilter::default()
    }
}

/// Analytics' figures for each role equal what was sent; faces are rows with their scale.
async fn check_analytics(f: &Fixture, marker: u64, expected: &Json) -> TestResult {
    let mut analytics = f.stack.analytics().await?;
    for (role, code) in [
        (RespondentRole::Client, "client"),
        (RespondentRole::Guardian, "guardian"),
    ] {
        let want = &expected[code];
        let nps = analytics
            .get_nps(GetNpsRequest {
                survey_id: f.survey_id.clone(),
                filter: Some(school_1(role)),
                min_sequence: marker,
                ..GetNpsRequest::default()
            })
            .await?
            .into_inner()
            .figure
            .ok_or(format!("no {code} NPS"))?;
        assert_eq!(Json::from(nps.n), want["nps"]["n"], "{code} NPS n");
        assert_eq!(
            Json::from(format!("{:.1}", nps.nps.unwrap_or_default())),
            want["nps"]["nps"],
            "{code} NPS"
        );
        let rows = analytics
            .get_statement_summary(GetStatementSummaryRequest {
                survey_id: f.survey_id.clone(),
                filter: Some(school_1(role)),
                min_sequence: marker,
                ..GetStatementSummaryRequest::default()
            })
            .await?
            .into_inner()
            .rows;
        let totals: BTreeMap<&str, _> = rows
            .iter()
            .filter(|r| r.group.is_empty())
            .map(|r| (r.question_key.as_str(), r))
            .collect();
        for (key, face) in want["faces"].as_object().into_iter().flatten() {
            let row = totals.get(key.as_str()).ok_or(format!("no row {key}"))?;
            assert_eq!((row.scale, row.points), (Scale::Faces as i32, 3), "{key}");
            let figure = row.figure.as_ref().ok_or(format!("{key} suppressed"))?;
            assert_eq!(
                Json::from(figure.distribution.clone()),
                face["counts"],
                "{key}"
            );
            assert_eq!(Json::from(figure.best_share), face["best_share"], "{key}");
        }
        for (key, statement) in want["statements"].as_object().into_iter().flatten() {
            let row = totals.get(key.as_str()).ok_or(format!("no row {key}"))?;
            assert_eq!(
                (row.scale, row.points),
                (Scale::Agreement as i32, 5),
                "{key}"
            );
            let figure = row.figure.as_ref().ok_or(format!("{key} suppressed"))?;
            assert_eq!(
                Json::from(figure.distribution.clone()),
                statement["counts"],
                "{key}"
            );
            assert_eq!(
                Json::from(figure.dont_know),
                statement["dont_know"],
                "{key}"
            );
        }
        if code == "guardian" {
            // A guardian is never asked the children's faces: the survey's row, with nobody.
            let faces = totals.get("child_overall").and_then(|r| r.figure.as_ref());
            assert_eq!(faces.map(|f| f.n), Some(0), "{totals:?}");
        }
    }
    Ok(())
}

/// The CSV's lines as (respondents, section, label) -> (n, value).
fn csv_figures(csv: &str) -> BTreeMap<(String, String, String), (String, String)> {
    csv.lines()
        .skip(1)
        .filter_map(|line| {
            let cells: Vec<String> = line
                .split(',')
                .map(|c| c.trim_matches('"').to_owned())
                .collect();
            match cells.as_slice() {
                [_, _, role, _, section, label, n, value, ..] => Some((
                    (role.clone(), section.clone(), label.clone()),
                    (n.clone(), value.clone()),
                )),
                _ => None,
            }
        })
        .collect()
}

/// The stack (trusting the console's tokens, with `keys`), the student-welfare units, the
/// survey open today, and the web form.
async fn fixture(keys: &[(&str, &[Scope], Grant)]) -> TestResult<(Fixture, Vec<String>)> {
    let mut env = console_trust_env();
    // Three respondents' texts must be enough to read them in the review of these tests.
    env.push(("KAIKU_MIN_GROUP_SIZE", "3".to_owned()));
    let (stack, tokens) = Stack::start_with_keys(&env, keys).await?;
    let mut surveys = stack.surveys().await?;
    for request in student_welfare_units() {
        surveys.create_unit(request).await?;
    }
    let survey_id = stack
        .publish_student_welfare("student-welfare", (-7, 13))
        .await?;
    let web = stack.start_web_form(&[]).await?;
    Ok((
        Fixture {
            stack,
            web,
            survey_id,
        },
        tokens,
    ))
}

/// The manager of student welfare, signed in with a password.
async fn console(f: &Fixture) -> TestResult<Console> {
    f.stack
        .start_console(
            &[ConsoleAccount {
                username: "maija",
                name: "Maija Esihenkilö",
                password: "maija-salasana-1",
                role: "unit-manager",
                units: &["student-welfare"],
            }],
            &[
                ("KAIKU_LINK_KEYS", TEST_LINK_KEYS.to_owned()),
                ("KAIKU_WEB_FORM_URL", f.web.url.clone()),
            ],
        )
        .await
}

#[tokio::test]
async fn children_teenagers_and_guardians_each_find_their_answers_in_every_view() -> TestResult {
    let (f, _) = fixture(&[]).await?;
    for (overall, listened) in CHILDREN {
        f.answer(
            "kiosk",
            "client",
            "age_7_12",
            &[
                ("a.child_overall", overall.to_string()),
                ("a.child_listened", listened.to_string()),
            ],
        )
        .await?;
    }
    for (nps, heard) in TEENAGERS {
        let heard = heard.map_or_else(|| "dk".to_owned(), |h| h.to_string());
        f.answer(
            "qr",
            "client",
            "age_13_17",
            &[("a.nps", nps.to_string()), ("a.kohtaaminen", heard)],
        )
        .await?;
    }
    for (nps, informed) in GUARDIANS {
        f.answer(
            "web_link",
            "guardian",
            "adult",
            &[
                ("a.nps", nps.to_string()),
                ("a.guardian_informed", informed.to_string()),
            ],
        )
        .await?;
    }
    let marker = f.marker().await?;
    let expected = expected();
    check_analytics(&f, marker, &expected).await?;

    let console = console(&f).await?;
    let query = format!("survey={}&unit=school-1&period=period", f.survey_id);
    browser(
        "respondents.mjs",
        "respondents",
        json!({
            "url": console.url,
            "query": query,
            "username": "maija",
            "password": "maija-salasana-1",
            "expected": expected,
        }),
    )
    .await
    .map_err(|e| format!("{e}\nconsole log:\n{}", console.log()))?;

    // The PDF: a section per role that says whose answers it covers, and each figure.
    let maija = sign_in(&console.url, "maija", "maija-salasana-1").await?;
    let (status, _, pdf) = maija
        .get_bytes(&format!("/reports/results.pdf?{query}&lang=en"))
        .await?;
    assert_eq!(status, 200);
    let text = pdftotext(&pdf)?;
    let artifacts = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/test-artifacts/browser/respondents"
    );
    std::fs::create_dir_all(artifacts)?;
    std::fs::write(format!("{artifacts}/report.pdf"), &pdf)?;
    for (role, heading) in [("client", "Clients"), ("guardian", "Guardians")] {
        let want = &expected[role];
        for wanted in [
            format!("Respondents: {heading} · Age group: all age groups"),
            format!(
                "NPS {}, n = {}",
                want["nps"]["nps"].as_str().unwrap_or("?"),
                want["nps"]["n"]
            ),
            format!("Responses: {}", want["responses"]),
        ] {
            assert!(text.contains(&wanted), "the PDF lacks {wanted:?}:\n{text}");
        }
    }
    assert!(
        text.contains("NPS is asked only of the age groups 13-17, 18-120"),
        "{text}"
    );
    for (question, key) in [
        ("How did the visit feel?", "child_overall"),
        ("How did it feel to talk?", "child_listened"),
    ] {
        let face = &expected["client"]["faces"][key];
        let line = text
            .lines()
            .find(|l| l.contains(question))
            .ok_or(format!("no {question:?} in the PDF:\n{text}"))?;
        let numbers: Vec<&str> = line
            .split(question)
            .nth(1)
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        let mut wanted = vec![
            format!("{:.1}", face["best_share"].as_f64().unwrap_or(-1.0)),
            face["n"].to_string(),
        ];
        wanted.extend(
            face["counts"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| c.to_string()),
        );
        assert_eq!(numbers, wanted, "{question} in the PDF: {line}");
    }

    // The CSV: the same figures, each line naming its respondents.
    let (status, _, csv) = maija
        .get_bytes(&format!("/reports/results.csv?{query}&lang=en"))
        .await?;
    assert_eq!(status, 200);
    let csv = String::from_utf8(csv)?;
    let figures = csv_figures(&csv);
    let get = |role: &str, section: &str, label: &str| {
        figures
            .get(&(role.to_owned(), section.to_owned(), label.to_owned()))
            .cloned()
            .ok_or(format!("no {role} {section} {label} in\n{csv}"))
    };
    for role in ["client", "guardian"] {
        let want = &expected[role];
        let (n, nps) = get(role, "nps", "total")?;
        assert_eq!(
            (n, format!("{:.1}", nps.parse::<f64>()?)),
            (
                want["nps"]["n"].to_string(),
                want["nps"]["nps"].as_str().unwrap_or_default().to_owned()
            )
        );
        assert_eq!(
            get(role, "responses", "total")?.0,
            want["responses"].to_string()
        );
        assert_eq!(
            get(role, "responses_by_role", role)?.0,
            want["responses"].to_string()
        );
        for (key, statement) in want["statements"].as_object().into_iter().flatten() {
            let (n, mean) = get(role, "statement_mean", key)?;
            assert_eq!(n, statement["n"].to_string(), "{key}");
            assert_eq!(
                mean.parse::<f64>()?,
                statement["mean"].as_f64().unwrap_or(-1.0),
                "{key}"
            );
        }
        for (key, face) in want["faces"].as_object().into_iter().flatten() {
            let (n, share) = get(role, "face_best_share", key)?;
            assert_eq!(n, face["n"].to_string(), "{key}");
            assert_eq!(
                share.parse::<f64>()?,
                face["best_share"].as_f64().unwrap_or(-1.0)
            );
            for (i, count) in face["counts"].as_array().into_iter().flatten().enumerate() {
                assert_eq!(
                    get(role, "face_count", &format!("{key}:{}", i + 1))?.0,
                    count.to_string()
                );
            }
        }
    }
    assert!(
        csv.lines()
            .skip(1)
            .all(|l| l.contains("\"all age groups\"")),
        "{csv}"
    );
    Ok(())
}

/// What a pupil wrote that must reach the manager, and nobody else.
const CONCERN: &str = "Kotona isäpuoli lyö minua, en uskalla mennä kotiin.";
/// Ordinary feedback beside it, for the shared review: five, so that the review's readers
/// see a group of at least the minimum (ADR 0018).
const ORDINARY: [&str; 5] = [
    "Kuraattori kuunteli ja auttoi, kiitos!",
    "Ajan saaminen kesti liian kauan.",
    "Hyvä että koulussa on kuraattori.",
    "Sain apua nopeasti.",
    "Juttelu auttoi jaksamaan.",
];

fn school_1_texts(
    survey_id: &str,
    marker: u64,
) -> kaiku_proto::analytics::v1::ListFeedbackTextsRequest {
    kaiku_proto::analytics::v1::ListFeedbackTextsRequest {
        survey_id: survey_id.to_owned(),
        filter: Some(school_1(RespondentRole::Client)),
        min_sequence: marker,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_worrying_comment_reaches_the_manager_only_and_is_erased_when_asked() -> TestResult {
    let (f, tokens) = fixture(&[
        (
            "bi-reader",
            &[Scope::AnalyticsRead, Scope::Export],
            Grant {
                unit_subtrees: vec!["student-welfare".into()],
                ..Grant::default()
            },
        ),
        (
            "other-handler",
            &[Scope::Handle],
            Grant {
                unit_subtrees: vec!["school-2".into()],
                ..Grant::default()
            },
        ),
    ])
    .await?;
    let (reader, other_handler) = (&tokens[0], &tokens[1]);
    for (i, text) in ORDINARY.iter().enumerate() {
        f.answer(
            "qr",
            "client",
            "age_13_17",
            &[
                ("a.nps", (6 + i).to_string()),
                ("a.open_feedback", (*text).to_owned()),
            ],
        )
        .await?;
    }
    // The pupil writes the concern in Chromium, on a phone.
    let token = f
        .web
        .sign(&link(&f.survey_id, "qr", "client", "age_13_17"))?;
    browser(
        "attention.mjs",
        "attention",
        json!({
            "phase": "respond",
            "form_url": format!("{}/f/{token}?lang=fi", f.web.url),
            "concern": CONCERN,
        }),
    )
    .await
    .map_err(|e| format!("{e}\nweb form log:\n{}", f.web.log()))?;
    let marker = f.marker().await?;

    // Readers of figures and texts never see it: not in the texts, not in the export.
    let mut analytics = f.stack.analytics().await?;
    let listed: Vec<String> = analytics
        .list_feedback_texts(school_1_texts(&f.survey_id, marker))
        .await?
        .into_inner()
        .texts
        .into_iter()
        .map(|t| t.text)
        .collect();
    assert_eq!(listed.len(), ORDINARY.len(), "{listed:?}");
    assert!(!listed.iter().any(|t| t == CONCERN), "{listed:?}");
    let mut export = analytics
        .export_responses(kaiku_proto::analytics::v1::ExportResponsesRequest {
            survey_id: f.survey_id.clone(),
            filter: Some(school_1(RespondentRole::Client)),
            min_sequence: marker,
        })
        .await?
        .into_inner();
    let mut csv = Vec::new();
    while let Some(chunk) = export.message().await? {
        csv.extend_from_slice(&chunk.csv);
    }
    let csv = String::from_utf8(csv)?;
    assert!(
        csv.contains(ORDINARY[0]) && !csv.contains("isäpuoli"),
        "{csv}"
    );
    // A reader of the area's figures may not list concerns: that is for those who handle them.
    let mut as_reader = kaiku_proto::analytics::v1::analytics_client::AnalyticsClient::new(
        f.stack.channel_as("analytics", reader).await?,
    );
    let attention = |min_sequence| kaiku_proto::analytics::v1::ListAttentionTextsRequest {
        survey_id: f.survey_id.clone(),
        unit_subtrees: vec!["school-1".into()],
        min_sequence,
        ..Default::default()
    };
    let refused = as_reader
        .list_attention_texts(attention(marker))
        .await
        .expect_err("a reader lists no concerns");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let concerns = analytics
        .list_attention_texts(attention(marker))
        .await?
        .into_inner()
        .texts;
    assert_eq!(concerns.len(), 1, "{concerns:?}");
    assert_eq!(concerns[0].text, CONCERN);
    assert_eq!(
        concerns[0].attention_flags,
        vec![kaiku_proto::intake::v1::AttentionFlag::ChildProtectionConcern as i32]
    );
    let sequence = concerns[0].sequence;
    // Another unit's handler may not erase it.
    let mut as_other = kaiku_proto::intake::v1::response_intake_client::ResponseIntakeClient::new(
        f.stack.channel_as("response-intake", other_handler).await?,
    );
    let refused = as_other
        .redact_response(kaiku_proto::intake::v1::RedactResponseRequest {
            survey_id: f.survey_id.clone(),
            sequence,
            reason: kaiku_proto::intake::v1::ErasureReason::Other as i32,
        })
        .await
        .expect_err("another unit's handler");
    // As for any sequence one may not erase: nothing said of whose it is.
    assert_eq!(refused.code(), tonic::Code::NotFound, "{refused:?}");

    // The manager: not in the review or the PDF; in the attention list with what to do; erased.
    let console = console(&f).await?;
    let query = format!("survey={}&unit=school-1&period=period", f.survey_id);
    let maija = sign_in(&console.url, "maija", "maija-salasana-1").await?;
    let (status, _, pdf) = maija
        .get_bytes(&format!("/reports/results.pdf?{query}&lang=fi"))
        .await?;
    assert_eq!(status, 200);
    assert!(!pdftotext(&pdf)?.contains("isäpuoli"));
    browser(
        "attention.mjs",
        "attention",
        json!({
            "phase": "manage",
            "url": console.url,
            "query": query,
            "username": "maija",
            "password": "maija-salasana-1",
            "concern": CONCERN,
            "ordinary": ORDINARY,
        }),
    )
    .await
    .map_err(|e| format!("{e}\nconsole log:\n{}", console.log()))?;

    // Erased: gone from the stream's stored bytes and from every table; the rest stays.
    let concerns = analytics
        .list_attention_texts(attention(0))
        .await?
        .into_inner()
        .texts;
    assert!(concerns.is_empty(), "{concerns:?}");
    let mut store = Vec::new();
    files_bytes(f.stack.nats.store_dir(), &mut store)?;
    let store = String::from_utf8_lossy(&store);
    let rows = database_text(&f.stack.database_url).await?;
    assert!(store.contains(ORDINARY[0]) && rows.contains(ORDINARY[0]));
    assert!(
        !store.contains("isäpuoli"),
        "the concern is in the JetStream store"
    );
    assert!(!rows.contains("isäpuoli"), "the concern is in the database");
    Ok(())
}
