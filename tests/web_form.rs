//! The respondent web form end to end: real survey-definition, intake, projection and analytics
//! on throwaway NATS and PostgreSQL, the web-form binary, and Debian's Chromium driven by the
//! scenarios in tests/browser (axe-core on every page, screenshots under
//! target/test-artifacts/browser/). Counts are read from analytics after a marker submission,
//! so "exactly" means exactly: everything sent before the marker has been projected.

use chrono::Utc;
use kaiku_domain::time::helsinki_date;
use kaiku_links::{LinkContext, LinkKeys};
use kaiku_proto::analytics::v1::{GetNpsRequest, GetResponseVolumeRequest, ResponseFilter};
use kaiku_proto::intake::v1::ResponseContext;
use kaiku_proto::survey::v1::{Channel, Language, RespondentRole};
use kaiku_system_tests::{
    Stack, TEST_LINK_KEYS, TestResult, WebForm, browser, post_form, student_welfare_units,
};
use serde_json::json;

// The kiosk warns 20 s before it empties a form (WCAG 2.2.1), so 22 s is the shortest idle time.
const KIOSK_IDLE_SECONDS: u32 = 22;

struct Fixture {
    stack: Stack,
    web: WebForm,
    survey_id: String,
}

/// The stack with min group size 1 (these tests count single answers), the unit tree, the
/// student-welfare survey open today, and the web form.
async fn fixture(web_env: &[(&'static str, String)]) -> TestResult<Fixture> {
    let stack = Stack::start_with_env(&[("KAIKU_MIN_GROUP_SIZE", "1".to_owned())]).await?;
    let mut surveys = stack.surveys().await?;
    for request in student_welfare_units() {
        surveys.create_unit(request).await?;
    }
    let survey_id = stack
        .publish_student_welfare("student-welfare", (-7, 13))
        .await?;
    let mut env = vec![("KAIKU_KIOSK_IDLE_SECONDS", KIOSK_IDLE_SECONDS.to_string())];
    env.extend(web_env.iter().cloned());
    let web = stack.start_web_form(&env).await?;
    Ok(Fixture {
        stack,
        web,
        survey_id,
    })
}

fn context(
    survey_id: &str,
    unit: &str,
    channel: &str,
    role: &str,
    age_band: &str,
    language: &str,
) -> LinkContext {
    LinkContext {
        survey_id: survey_id.into(),
        unit_id: unit.into(),
        channel: channel.into(),
        respondent_role: role.into(),
        professional_group: "kuraattori".into(),
        age_band: age_band.into(),
        language: language.into(),
    }
}

impl Fixture {
    fn link(
        &self,
        unit: &str,
        channel: &str,
        role: &str,
        age_band: &str,
        language: &str,
    ) -> TestResult<String> {
        let token = self.web.sign(&context(
            &self.survey_id,
            unit,
            channel,
            role,
            age_band,
            language,
        ))?;
        Ok(token)
    }

    fn form_url(&self, token: &str) -> String {
        format!("{}/f/{token}", self.web.url)
    }

    /// A marker answer: see Stack::student_welfare_marker.
    async fn marker(&self) -> TestResult<u64> {
        self.stack.student_welfare_marker(&self.survey_id).await
    }

    async fn volume(&self, filter: ResponseFilter, min_sequence: u64) -> TestResult<u64> {
        let reply = self
            .stack
            .analytics()
            .await?
            .get_response_volume(GetResponseVolumeRequest {
                survey_id: self.survey_id.clone(),
                filter: Some(filter),
                min_sequence,
                grouping: None,
            })
            .await?
            .into_inner();
        Ok(reply.total)
    }

    /// Responses in the read model once everything up to `marker` is projected.
    async fn responses_in_database(&self, marker: u64) -> TestResult<i64> {
        self.volume(kaiku_system_tests::clients(), marker).await?;
        let pool = self.stack.database().await?;
        let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM response")
            .fetch_one(&pool)
            .await?;
        Ok(count)
    }
}

fn filter(
    unit: &str,
    channel: Channel,
    role: RespondentRole,
    language: Option<Language>,
) -> ResponseFilter {
    ResponseFilter {
        unit_ids: vec![unit.into()],
        channels: vec![channel as i32],
        respondent_roles: vec![role as i32],
        languages: language.map(|l| l as i32).into_iter().collect(),
        ..Default::default()
    }
}

#[tokio::test]
async fn respondents_answer_in_finnish_and_swedish_as_clients_and_guardians() -> TestResult {
    let f = fixture(&[]).await?;
    let client_qr = f.link("school-1", "qr", "client", "age_13_17", "fi")?;
    let guardian_link = f.link("school-1", "web_link", "guardian", "adult", "fi")?;
    let child_qr = f.link("school-2", "qr", "client", "age_7_12", "fi")?;
    let paper_token = f.link("school-1", "paper", "client", "age_13_17", "fi")?;
    let closed_id = f
        .stack
        .publish_student_welfare("student-welfare", (-30, -10))
        .await?;
    let closed = f.web.sign(&context(
        &closed_id,
        "school-1",
        "qr",
        "client",
        "age_13_17",
        "sv",
    ))?;
    let mut tampered = client_qr.clone();
    tampered.replace_range(10..11, if &tampered[10..11] == "A" { "B" } else { "A" });

    let input = json!({
        "cases": [
            { "name": "client-fi", "url": f.form_url(&client_qr), "nps": 9, "text": "Kuraattori kuunteli ja auttoi." },
            { "name": "client-sv", "url": f.form_url(&client_qr), "choose_language": "sv", "nps": 6, "text": "Bra samtal." },
            { "name": "guardian-fi", "url": f.form_url(&guardian_link), "nps": 10, "text": "Hyvää yhteistyötä." },
            { "name": "guardian-sv", "url": f.form_url(&guardian_link), "choose_language": "sv", "nps": 3,
              "text": "Jag vill göra en anmärkning om bemötandet.", "expect_guidance": 1 },
            { "name": "child-fi-faces", "url": f.form_url(&child_qr), "nps": 0, "text": "Kiva käynti." },
        ],
        "pages": [
            { "name": "closed-period", "url": f.form_url(&closed), "status": 200, "expect_text": "Enkäten är inte öppen just nu" },
            { "name": "invalid-link", "url": f.form_url(&tampered), "status": 404, "expect_text": "Linkki ei kelpaa" },
            { "name": "paper-entry-1-empty", "url": format!("{}/paper/{paper_token}", f.web.url), "status": 200 },
        ],
        // A kuraattori's 13-17-year-old client has six fields per row: NPS, three statements,
        // the kuraattori's own statement, the open text.
        "paper_entry": { "url": format!("{}/paper/{paper_token}", f.web.url), "fields_per_row": 6,
                         "expect_status": "Tallennettu 1 lomaketta. 1 lomaketta odottaa korjausta." },
    });
    let result = browser("form.mjs", "form", input).await?;
    let answered = result["answered"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(answered, 5, "{result}");

    let marker = f.marker().await?;
    let mut analytics = f.stack.analytics().await?;
    // (link's unit, channel, role, language, the NPS the browser gave)
    let expected = [
        (Channel::Qr, RespondentRole::Client, Language::Fi, 9, 1, 0),
        (Channel::Qr, RespondentRole::Client, Language::Sv, 6, 0, 1),
        (
            Channel::WebLink,
            RespondentRole::Guardian,
            Language::Fi,
            10,
            1,
            0,
        ),
        (
            Channel::WebLink,
            RespondentRole::Guardian,
            Language::Sv,
            3,
            0,
            1,
        ),
    ];
    for (channel, role, language, score, promoters, detractors) in expected {
        let nps = analytics
            .get_nps(GetNpsRequest {
                survey_id: f.survey_id.clone(),
                question_key: "nps".into(),
                filter: Some(filter("school-1", channel, role, Some(language))),
                min_sequence: marker,
                grouping: None,
            })
            .await?
            .into_inner();
        let figure = nps.figure.ok_or("no figure")?;
        assert_eq!(
            (figure.n, figure.promoters, figure.detractors),
            (1, promoters, detractors),
            "{channel:?} {role:?} {language:?} answered {score}"
        );
    }
    // The child's faces form arrived too, on its own unit and channel.
    let children = f
        .volume(
            filter(
                "school-2",
                Channel::Qr,
                RespondentRole::Client,
                Some(Language::Fi),
            ),
            marker,
        )
        .await?;
    assert_eq!(children, 1);
    // The paper form typed in with the keyboard, as paper.
    let paper = f
        .volume(
            filter("school-1", Channel::Paper, RespondentRole::Client, None),
            marker,
        )
        .await?;
    assert_eq!(paper, 1);
    // Nothing else: 5 web answers, 1 paper form and the marker; the empty sends and the
    // wrong paper row stored nothing.
    assert_eq!(f.responses_in_database(marker).await?, 7, "{}", f.web.log());
    Ok(())
}

#[tokio::test]
async fn the_kiosk_resets_and_sends_answers_queued_offline_exactly_once() -> TestResult {
    let f = fixture(&[]).await?;
    let kiosk = f.link("school-1", "kiosk", "client", "age_13_17", "fi")?;
    let offline_kiosk = f.link("school-2", "kiosk", "client", "age_13_17", "fi")?;
    let input = json!({
        "kiosk_url": f.form_url(&kiosk),
        "offline_kiosk_url": f.form_url(&offline_kiosk),
        "idle_seconds": KIOSK_IDLE_SECONDS,
    });
    browser("kiosk.mjs", "kiosk", input).await?;

    let marker = f.marker().await?;
    let online = f
        .volume(
            filter("school-1", Channel::Kiosk, RespondentRole::Client, None),
            marker,
        )
        .await?;
    let offline = f
        .volume(
            filter("school-2", Channel::Kiosk, RespondentRole::Client, None),
            marker,
        )
        .await?;
    assert_eq!((online, offline), (1, 3), "{}", f.web.log());
    Ok(())
}

/// A new form load's answer: a fresh submission id and an NPS score.
async fn post_new_answer(
    client: &reqwest::Client,
    url: &str,
    nps: &str,
) -> TestResult<(u16, String)> {
    let id = uuid::Uuid::new_v4().to_string();
    post_form(client, url, &[("submission_id", &id), ("a.nps", nps)]).await
}

fn borrowed(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

fn no_redirects() -> TestResult<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

#[tokio::test]
async fn tampered_links_closed_periods_bad_answers_and_repeated_sends_store_nothing_extra()
-> TestResult {
    let f = fixture(&[]).await?;
    let client = no_redirects()?;
    let token = f.link("school-1", "qr", "client", "age_13_17", "fi")?;
    let url = f.form_url(&token);

    // A tampered link (context or signature altered, or signed by someone else) is refused.
    let (head, signature) = token.rsplit_once('.').ok_or("token without signature")?;
    let other_keys = LinkKeys::parse("test:b3RoZXItY291bnR5LXNlY3JldC0wMTIzNDU2Nzg5YWJjZGVm")?;
    let foreign = other_keys.sign(&context(
        &f.survey_id,
        "school-1",
        "qr",
        "client",
        "age_13_17",
        "fi",
    ))?;
    let regrouped = {
        let parts: Vec<&str> = head.split('.').collect();
        let mut altered = context(&f.survey_id, "school-1", "qr", "client", "age_13_17", "fi");
        altered.professional_group = "psykologi".into();
        let json = serde_json::to_vec(&altered)?;
        use base64::Engine;
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        format!("{}.{}.{encoded}.{signature}", parts[0], parts[1])
    };
    // One character of the signature changed (always a change, whatever the signature is).
    let resigned = {
        let first = if signature.starts_with('A') { 'B' } else { 'A' };
        format!("{head}.{first}{}", &signature[1..])
    };
    for bad in [resigned, regrouped, foreign, "v1.nonsense".into()] {
        let response = client.get(f.form_url(&bad)).send().await?;
        assert_eq!(response.status().as_u16(), 404, "{bad}");
        assert!(response.text().await?.contains("Linkki ei kelpaa"));
        let (status, _) = post_new_answer(&client, &f.form_url(&bad), "9").await?;
        assert_eq!(status, 404);
    }

    // A closed period shows its message, for viewing and for sending.
    let closed_id = f
        .stack
        .publish_student_welfare("student-welfare", (-30, -10))
        .await?;
    let closed = f.web.sign(&context(
        &closed_id,
        "school-1",
        "qr",
        "client",
        "age_13_17",
        "fi",
    ))?;
    let page = client.get(f.form_url(&closed)).send().await?.text().await?;
    assert!(
        page.contains("Kysely ei ole nyt avoinna") && !page.contains("<form"),
        "{page}"
    );
    let (status, page) = post_new_answer(&client, &f.form_url(&closed), "9").await?;
    assert_eq!(status, 200);
    assert!(page.contains("Kysely ei ole nyt avoinna"));

    // Wrong answers come back next to their question, in the form's language; nothing stored.
    let id = uuid::Uuid::new_v4().to_string();
    let (status, page) = post_form(
        &client,
        &url,
        &[
            ("submission_id", &id),
            ("lang", "sv"),
            ("a.nps", "11"),
            ("a.kohtaaminen", "4"),
        ],
    )
    .await?;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"error-nps\""), "{page}");
    assert!(page.contains("Svaret kunde inte godkännas"), "{page}");
    assert!(
        page.contains("value=\"4\" checked"),
        "the valid answer is kept: {page}"
    );
    let (status, page) = post_form(
        &client,
        &url,
        &[("submission_id", &id), ("a.kohtaaminen", "4")],
    )
    .await?;
    assert_eq!(status, 422);
    assert!(page.contains("Vastaa tähän kysymykseen."));
    // A form not loaded from us (no submission id) is shown again, not stored.
    let (status, _) = post_form(&client, &url, &[("a.nps", "9")]).await?;
    assert_eq!(status, 422);

    // 100 concurrent sends of one form load: stored once, every send sees the thank-you page.
    let sends = (0..100).map(|_| {
        let client = client.clone();
        let url = url.clone();
        let id = id.clone();
        async move {
            post_form(
                &client,
                &url,
                &[
                    ("submission_id", &id),
                    ("a.nps", "9"),
                    ("a.open_feedback", "Kiitos!"),
                ],
            )
            .await
        }
    });
    let outcomes = futures::future::join_all(sends).await;
    for outcome in outcomes {
        let (status, _) = outcome?;
        assert_eq!(status, 303);
    }
    let marker = f.marker().await?;
    let stored = f
        .volume(
            filter("school-1", Channel::Qr, RespondentRole::Client, None),
            marker,
        )
        .await?;
    assert_eq!(stored, 1);
    assert_eq!(
        f.responses_in_database(marker).await?,
        2,
        "one answer and the marker"
    );
    Ok(())
}

#[tokio::test]
async fn while_intake_is_down_the_form_keeps_the_answers_and_the_kiosk_retries() -> TestResult {
    let mut f = fixture(&[]).await?;
    let client = no_redirects()?;
    let url = f.form_url(&f.link("school-1", "qr", "client", "age_13_17", "fi")?);
    let kiosk = f.form_url(&f.link("school-1", "kiosk", "client", "age_13_17", "fi")?);
    let id = uuid::Uuid::new_v4().to_string();
    let kiosk_id = uuid::Uuid::new_v4().to_string();
    let kiosk_send = |id: String| {
        let client = client.clone();
        let kiosk = kiosk.clone();
        async move {
            let body = format!("submission_id={id}&a.nps=8");
            let response = client
                .post(&kiosk)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-kaiku-kiosk", "1")
                .body(body)
                .send()
                .await?;
            let status = response.status().as_u16();
            TestResult::Ok((status, response.text().await?))
        }
    };
    // The kiosk script's answers: invalid ones leave its queue (422), nothing stored.
    let (status, body) = kiosk_send("not-a-uuid".into()).await?;
    assert_eq!(status, 422, "{body}");

    // The same form load, sent while intake is down and again after it is back.
    let fields = [
        ("submission_id", id.as_str()),
        ("a.nps", "9"),
        ("a.open_feedback", "Hyvä"),
    ];
    let send_web = || post_form(&client, &url, &fields);
    f.stack.kill("response-intake").await?;
    let (status, page) = send_web().await?;
    assert_eq!(status, 503);
    assert!(
        page.contains("Palvelu ei ole juuri nyt käytettävissä"),
        "{page}"
    );
    assert!(
        page.contains("value=\"9\" checked") && page.contains(">Hyvä</textarea>"),
        "answers kept: {page}"
    );
    assert!(
        page.contains(&format!("value=\"{id}\"")),
        "the same id, so a resend is stored once"
    );
    let (status, body) = kiosk_send(kiosk_id.clone()).await?;
    assert_eq!((status, body.as_str()), (503, r#"{"outcome":"retry"}"#));

    f.stack.start_service("response-intake").await?;
    let (status, _) = send_web().await?;
    assert_eq!(status, 303);
    let (status, body) = kiosk_send(kiosk_id.clone()).await?;
    assert_eq!((status, body.as_str()), (200, r#"{"outcome":"stored"}"#));
    let (status, body) = kiosk_send(kiosk_id).await?;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"outcome":"duplicate"}"#),
        "the kiosk's retry after a lost reply"
    );
    let marker = f.marker().await?;
    assert_eq!(
        f.responses_in_database(marker).await?,
        3,
        "one web answer, one kiosk answer, the marker"
    );
    Ok(())
}

#[tokio::test]
async fn submissions_are_limited_per_link_not_per_address() -> TestResult {
    let f = fixture(&[
        ("KAIKU_LINK_SUBMISSION_BURST", "2".to_owned()),
        ("KAIKU_LINK_SUBMISSIONS_PER_MINUTE", "1".to_owned()),
    ])
    .await?;
    let client = no_redirects()?;
    let poster_a = f.form_url(&f.link("school-1", "qr", "client", "age_13_17", "fi")?);
    let poster_b = f.form_url(&f.link("school-2", "qr", "client", "age_13_17", "fi")?);
    let send = |url: String| {
        let client = client.clone();
        async move { post_new_answer(&client, &url, "7").await }
    };
    assert_eq!(send(poster_a.clone()).await?.0, 303);
    assert_eq!(send(poster_a.clone()).await?.0, 303);
    let (status, page) = send(poster_a.clone()).await?;
    assert_eq!(status, 429);
    assert!(page.contains("Vastauksia on tullut poikkeuksellisen paljon"));
    // The same address, another link: unaffected.
    assert_eq!(send(poster_b).await?.0, 303);
    let marker = f.marker().await?;
    assert_eq!(
        f.responses_in_database(marker).await?,
        4,
        "three answers and the marker; marker at {marker}"
    );
    Ok(())
}

async fn run_tool(program: &str, args: &[&str]) -> TestResult<String> {
    let output = tokio::process::Command::new(program)
        .args(args)
        .output()
        .await?;
    if !output.status.success() {
        return Err(format!(
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The link a QR code in `image` holds, read by zbarimg.
async fn decode_qr(image: &std::path::Path) -> TestResult<String> {
    let out = run_tool("zbarimg", &["--quiet", "--raw", &image.to_string_lossy()]).await?;
    Ok(out.trim().to_owned())
}

#[tokio::test]
async fn paper_forms_posters_and_qr_codes_print_the_questions_and_a_valid_signed_link() -> TestResult
{
    let f = fixture(&[]).await?;
    let keys = LinkKeys::parse(TEST_LINK_KEYS)?;
    let token = f.link("school-1", "paper", "guardian", "adult", "fi")?;
    let dir = tempfile::tempdir()?;
    let client = reqwest::Client::new();
    let get = |path: String| {
        let client = client.clone();
        async move {
            let response = client.get(path).send().await?;
            let status = response.status().as_u16();
            let bytes = response.bytes().await?;
            TestResult::Ok((status, bytes))
        }
    };

    // The paper form in Swedish: the questions as the guardian's Swedish form has them.
    let (status, pdf) = get(format!("{}/f/{token}/paper.pdf?lang=sv", f.web.url)).await?;
    assert_eq!(status, 200);
    let paper = dir.path().join("paper.pdf");
    std::fs::write(&paper, &pdf)?;
    let text = run_tool("pdftotext", &[&paper.to_string_lossy(), "-"]).await?;
    let form = f
        .stack
        .surveys()
        .await?
        .get_form(kaiku_proto::survey::v1::GetFormRequest {
            survey_id: f.survey_id.clone(),
            survey_version: 1,
            context: Some(ResponseContext {
                unit_id: "school-1".into(),
                channel: Channel::Paper as i32,
                respondent_role: RespondentRole::Guardian as i32,
                professional_group: "kuraattori".into(),
                age_band: "adult".into(),
                language: Language::Sv as i32,
            }),
        })
        .await?
        .into_inner();
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let text_flat = flat(&text);
    for question in &form.questions {
        assert!(
            text_flat.contains(&flat(&question.text)),
            "paper form lacks {:?}:\n{text}",
            question.text
        );
    }
    assert!(
        text_flat.contains("Enhet: Keskuskoulu (sv), Kurator"),
        "{text}"
    );
    assert!(text_flat.contains("helt av samma åsikt"), "{text}");
    // Its QR code opens the same form on the phone: channel qr, the same unit and role.
    run_tool(
        "pdftoppm",
        &[
            "-r",
            "150",
            "-png",
            &paper.to_string_lossy(),
            &dir.path().join("paper").to_string_lossy(),
        ],
    )
    .await?;
    let mut decoded = None;
    for entry in std::fs::read_dir(dir.path())? {
        let path = entry?.path();
        let is_page = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("paper-"));
        // zbarimg fails on pages without a code; the form's code is on its last page.
        if is_page
            && let Ok(link) = decode_qr(&path).await
            && !link.is_empty()
        {
            decoded = Some(link);
        }
    }
    let link = decoded.ok_or("no QR code found on the paper form")?;
    let phone_token = link
        .strip_prefix(&format!("{}/f/", f.web.url))
        .ok_or_else(|| format!("QR holds {link}"))?;
    let phone = keys.verify(phone_token)?;
    assert_eq!(
        (
            phone.channel.as_str(),
            phone.unit_id.as_str(),
            phone.respondent_role.as_str(),
            phone.language.as_str()
        ),
        ("qr", "school-1", "guardian", "sv")
    );

    // The poster: unit, group, instructions in every survey language, and the link's QR code.
    let qr_token = f.link("school-1", "qr", "client", "age_13_17", "fi")?;
    let (status, pdf) = get(format!("{}/f/{qr_token}/poster.pdf", f.web.url)).await?;
    assert_eq!(status, 200);
    let poster = dir.path().join("poster.pdf");
    std::fs::write(&poster, &pdf)?;
    let text = flat(&run_tool("pdftotext", &[&poster.to_string_lossy(), "-"]).await?);
    for expected in [
        "Anna palautetta",
        "Ge respons",
        "Give feedback",
        "Keskuskoulu, Kuraattori",
        "Skanna koden",
    ] {
        assert!(text.contains(expected), "poster lacks {expected}: {text}");
    }
    run_tool(
        "pdftoppm",
        &[
            "-r",
            "100",
            "-png",
            &poster.to_string_lossy(),
            &dir.path().join("poster").to_string_lossy(),
        ],
    )
    .await?;
    let decoded = decode_qr(&dir.path().join("poster-1.png")).await?;
    assert_eq!(decoded, f.form_url(&qr_token));
    keys.verify(&qr_token)?;

    // The QR code alone, as PNG and SVG.
    let (status, png) = get(format!("{}/f/{qr_token}/qr.png", f.web.url)).await?;
    assert_eq!(status, 200);
    let png_path = dir.path().join("qr.png");
    std::fs::write(&png_path, &png)?;
    assert_eq!(decode_qr(&png_path).await?, f.form_url(&qr_token));
    let (status, svg) = get(format!("{}/f/{qr_token}/qr.svg", f.web.url)).await?;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&svg).starts_with("<svg"));
    // A tampered link prints nothing.
    let (status, _) = get(format!("{}/f/{qr_token}x/poster.pdf", f.web.url)).await?;
    assert_eq!(status, 404);
    Ok(())
}

#[tokio::test]
async fn paper_entry_saves_good_rows_in_one_batch_and_keeps_bad_ones_with_errors() -> TestResult {
    let f = fixture(&[]).await?;
    let client = no_redirects()?;
    let token = f.link("school-1", "paper", "client", "age_13_17", "fi")?;
    let url = format!("{}/paper/{token}", f.web.url);
    let today = helsinki_date(Utc::now()).format("%Y-%m-%d").to_string();
    let ids: Vec<String> = (0..4).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let fields: Vec<(String, String)> = vec![
        ("lang".into(), "fi".into()),
        ("answered_on".into(), today.clone()),
        ("r0.id".into(), ids[0].clone()),
        ("r0.nps".into(), "9".into()),
        ("r0.kohtaaminen".into(), "5".into()),
        ("r0.open_feedback".into(), "Hyvä".into()),
        ("r1.id".into(), ids[1].clone()),
        ("r1.nps".into(), "2".into()),
        ("r1.kohtaaminen".into(), "x".into()),
        ("r2.id".into(), ids[2].clone()),
        ("r2.nps".into(), "12".into()),
        ("r3.id".into(), ids[3].clone()),
        ("r3.nps".into(), "10".into()),
        ("r4.id".into(), uuid::Uuid::new_v4().to_string()),
        ("r4.nps".into(), "".into()),
    ];
    let pairs = borrowed(&fields);
    let (status, page) = post_form(&client, &url, &pairs).await?;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("Tallennettu 3 lomaketta. 1 lomaketta odottaa korjausta."),
        "{page}"
    );
    assert!(
        page.contains(&format!("value=\"{}\"", ids[2])),
        "the bad row keeps its id"
    );
    assert!(page.contains("value=\"12\""), "the bad row keeps its value");
    assert!(page.contains("Lomake 1: 1. Tarkista arvo: 12"), "{page}");

    // Saving the same screen again (a double Enter) stores nothing new.
    let (_, page) = post_form(&client, &url, &pairs).await?;
    assert!(page.contains("Tallennettu 3 lomaketta."), "{page}");

    // One valid row dated `days` from today, sent alone.
    let dated_row = |days: i64| {
        let client = client.clone();
        let url = url.clone();
        async move {
            let day = (helsinki_date(Utc::now()) + chrono::Duration::days(days))
                .format("%Y-%m-%d")
                .to_string();
            let row_id = uuid::Uuid::new_v4().to_string();
            let fields = [
                ("lang", "fi"),
                ("answered_on", day.as_str()),
                ("r0.id", row_id.as_str()),
                ("r0.nps", "5"),
            ];
            let (status, page) = post_form(&client, &url, &fields).await?;
            TestResult::Ok((status, page, day))
        }
    };
    // A date still ahead is refused before intake; nothing stored.
    let (status, page, day) = dated_row(2).await?;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("Tallennettu 0 lomaketta. 1 lomaketta odottaa korjausta."),
        "{page}"
    );
    assert!(page.contains(&format!("Tarkista arvo: {day}")), "{page}");
    // Forms dated before the collection period: intake refuses them, the row says why.
    let (status, page, _) = dated_row(-20).await?;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("Lomake 1: Kyselyssä ei ollut keräysjaksoa auki sinä päivänä."),
        "{page}"
    );

    // A QR link does not open the entry screen.
    let qr = f.link("school-1", "qr", "client", "age_13_17", "fi")?;
    assert_eq!(
        client
            .get(format!("{}/paper/{qr}", f.web.url))
            .send()
            .await?
            .status()
            .as_u16(),
        404
    );

    let marker = f.marker().await?;
    let paper = f
        .volume(
            filter("school-1", Channel::Paper, RespondentRole::Client, None),
            marker,
        )
        .await?;
    assert_eq!(paper, 3);
    Ok(())
}

/// The text in Finnish of a template's texts.
fn finnish(texts: &[kaiku_proto::survey::v1::LocalizedText]) -> TestResult<String> {
    texts
        .iter()
        .find(|t| t.language == Language::Fi as i32)
        .map(|t| t.text.clone())
        .ok_or_else(|| "no Finnish text".into())
}

#[tokio::test]
async fn children_and_young_people_get_forms_thanks_and_help_that_fit_their_age() -> TestResult {
    // The kiosk's thanks returns to a fresh form after 5 s here (10 s by default).
    let return_seconds = 5;
    let f = fixture(&[("KAIKU_KIOSK_RETURN_SECONDS", return_seconds.to_string())]).await?;
    let kiosk = f.link("school-1", "kiosk", "client", "age_7_12", "fi")?;
    let phone = f.link("school-2", "qr", "client", "age_13_17", "fi")?;
    let template = kaiku_templates::template("student-welfare")
        .ok_or("no student-welfare template")?
        .content()?;
    let band = |key: &str| {
        template
            .age_bands
            .iter()
            .find(|b| b.key == key)
            .cloned()
            .ok_or(format!("no age band {key}"))
    };
    let (child, young) = (band("age_7_12")?, band("age_13_17")?);
    let input = json!({
        "kiosk_url": f.form_url(&kiosk),
        "phone_url": f.form_url(&phone),
        "return_seconds": return_seconds,
        "survey_title": finnish(&template.titles)?,
        "child_title": finnish(&child.titles)?,
        "child_intro": finnish(&child.intros)?,
        "child_thanks": finnish(&child.thanks)?,
        "young_title": finnish(&young.titles)?,
        "young_thanks": finnish(&young.thanks)?,
        // Reads as a child-protection concern: an adult would be shown the adults' text.
        "worry": "Pelkään kotona, kun isä huutaa.",
        "legal_words": ["henkilötun", "muistutu", "lapsen turvallisuudesta", "asiavastaava"],
    });
    let result = browser("ages.mjs", "ages", input).await?;
    assert_eq!(result["phone"]["nps_rows"], 1, "{result}");

    // The child's two kiosk answers and the young person's phone answer were all stored.
    let marker = f.marker().await?;
    let kiosk_answers = f
        .volume(
            filter("school-1", Channel::Kiosk, RespondentRole::Client, None),
            marker,
        )
        .await?;
    let phone_answers = f
        .volume(
            filter("school-2", Channel::Qr, RespondentRole::Client, None),
            marker,
        )
        .await?;
    assert_eq!((kiosk_answers, phone_answers), (2, 1), "{}", f.web.log());
    Ok(())
}

#[tokio::test]
async fn the_kiosk_keeps_an_answer_on_the_tablet_only_while_it_cannot_be_sent() -> TestResult {
    let f = fixture(&[]).await?;
    let kiosk = f.link("school-1", "kiosk", "client", "age_13_17", "fi")?;
    let input = json!({ "kiosk_url": f.form_url(&kiosk), "keep_seconds": 7 * 24 * 60 * 60 });
    let result = browser("kiosk-storage.mjs", "kiosk-storage", input).await?;
    let marker = f.marker().await?;
    let stored = f
        .volume(
            filter("school-1", Channel::Kiosk, RespondentRole::Client, None),
            marker,
        )
        .await?;
    // The offline answer once sent, the online one and yesterday's kept one; never the
    // 8-day-old one.
    assert_eq!(stored, 3, "{result}\n{}", f.web.log());
    Ok(())
}
