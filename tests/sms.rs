//! The SMS channel end to end: the sms-gateway binary with its own database, the real services on
//! throwaway NATS and PostgreSQL, and a local SMS provider stub over HTTP (the provider is the
//! one outside party; NATS and PostgreSQL are real). Visits go in, invitations reach only the
//! eligible, replies come back through the webhook, and the answers are in analytics with
//! channel sms. Then every byte of the JetStream store and every row of both databases is
//! searched for the phone numbers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::Utc;
use kaiku_proto::analytics::v1::{GetNpsRequest, GetResponseVolumeRequest, ResponseFilter};
use kaiku_proto::survey::v1::{Channel, ListTemplatesRequest, UnitLevel};
use kaiku_system_tests::{Stack, TestResult, unit};
use kaiku_test_support::{ServiceProcess, free_port};
use serde_json::{Value, json};

const VISITS_TOKEN: &str = "visits-token-0123456789";
const WEBHOOK_TOKEN: &str = "webhook-token-0123456789";
const PROVIDER_TOKEN: &str = "provider-token";

/// What the stub provider was asked to send.
#[derive(Debug, Clone)]
struct Sent {
    to: String,
    text: String,
}

type Outbox = Arc<Mutex<Vec<Sent>>>;

async fn provider_send(
    State(outbox): State<Outbox>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {PROVIDER_TOKEN}"));
    if !authorized {
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(message) = serde_json::from_str::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let sent = Sent {
        to: message["to"].as_str().unwrap_or_default().to_owned(),
        text: message["text"].as_str().unwrap_or_default().to_owned(),
    };
    if let Ok(mut outbox) = outbox.lock() {
        outbox.push(sent);
    }
    StatusCode::ACCEPTED
}

/// A local SMS provider: records each message it is asked to send.
async fn start_provider_stub() -> TestResult<(String, Outbox)> {
    let outbox: Outbox = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/send", listener.local_addr()?);
    let app = axum::Router::new()
        .route("/send", post(provider_send))
        .with_state(outbox.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, outbox))
}

fn sent(outbox: &Outbox) -> Vec<Sent> {
    outbox.lock().map(|o| o.clone()).unwrap_or_default()
}

async fn wait_for_messages(outbox: &Outbox, count: usize) -> TestResult<Vec<Sent>> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let messages = sent(outbox);
        if messages.len() >= count {
            return Ok(messages);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(
                format!("{} of {count} messages sent: {messages:?}", messages.len()).into(),
            );
        }
        // Waiting for the gateway's send round, which runs on its own timer.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

struct Gateway {
    url: String,
    process: ServiceProcess,
    http: reqwest::Client,
}

impl Gateway {
    async fn post(
        &self,
        path: &str,
        token: (&str, &str),
        content_type: &str,
        body: String,
    ) -> TestResult<(u16, Value)> {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .header(token.0, token.1)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, body))
    }

    async fn visits(&self, visits: Value) -> TestResult<(u16, Value)> {
        let bearer = format!("Bearer {VISITS_TOKEN}");
        self.post(
            "/visits",
            ("authorization", &bearer),
            "application/json",
            json!({ "visits": visits }).to_string(),
        )
        .await
    }

    async fn reply(&self, from: &str, text: &str) -> TestResult<Value> {
        let (status, body) = self
            .post(
                "/webhook",
                ("x-kaiku-webhook-token", WEBHOOK_TOKEN),
                "application/json",
                json!({ "from": from, "text": text }).to_string(),
            )
            .await?;
        if status != 200 {
            return Err(
                format!("webhook answered {status}: {body}\n{}", self.process.log()).into(),
            );
        }
        Ok(body)
    }
}

fn visit(id: &str, phone: &str, age: u32, language: &str, days_ago: i64) -> Value {
    json!({
        "visit_id": id,
        "unit_id": "hc-1",
        "visited_at": (Utc::now() - chrono::Duration::days(days_ago)).to_rfc3339(),
        "age": age,
        "phone": phone,
        "language": language,
        "sms_consent": true,
        "non_disclosure": false,
    })
}

fn with(mut visit: Value, field: &str, value: Value) -> Value {
    visit[field] = value;
    visit
}

#[tokio::test]
async fn sms_invitations_reach_only_eligible_visits_and_replies_become_answers_without_numbers()
-> TestResult {
    let stack = Stack::start_with_env(&[("KAIKU_MIN_GROUP_SIZE", "1".to_owned())]).await?;
    let mut surveys = stack.surveys().await?;
    for request in [
        unit("county", "", UnitLevel::County, "Hyvinvointialue"),
        unit(
            "primary-care",
            "county",
            UnitLevel::ServiceArea,
            "Perusterveydenhuolto",
        ),
        unit(
            "hc-1",
            "primary-care",
            UnitLevel::Unit,
            "Keskustan terveysasema",
        ),
    ] {
        surveys.create_unit(request).await?;
    }
    let mut content = surveys
        .list_templates(ListTemplatesRequest {})
        .await?
        .into_inner()
        .templates
        .into_iter()
        .find(|t| t.key == "thl-national")
        .and_then(|t| t.content)
        .ok_or("no thl-national template")?;
    content.unit_ids = vec!["primary-care".into()];
    let survey_id = stack.publish(content).await?;

    let (provider_url, outbox) = start_provider_stub().await?;
    let sms_database = stack.postgres.create_database().await?;
    let port = free_port()?;
    let env = vec![
        ("KAIKU_SMS_LISTEN_ADDR", format!("127.0.0.1:{port}")),
        ("DATABASE_URL", sms_database.clone()),
        (
            "KAIKU_SURVEY_DEFINITION_URL",
            stack.address("survey-definition"),
        ),
        ("KAIKU_INTAKE_URL", stack.address("response-intake")),
        ("KAIKU_SMS_SURVEY_ID", survey_id.clone()),
        ("KAIKU_SERVICE_TOKEN", stack.service_token.clone()),
        (
            "KAIKU_SMS_SECRET",
            "a2Fpa3Utc21zLXRlc3Qtc2VjcmV0LTAxMjM0NTY3ODlhYmNkZWY=".to_owned(),
        ),
        ("KAIKU_SMS_PROVIDER_URL", provider_url),
        ("KAIKU_SMS_PROVIDER_TOKEN", PROVIDER_TOKEN.to_owned()),
        ("KAIKU_SMS_VISITS_TOKEN", VISITS_TOKEN.to_owned()),
        ("KAIKU_SMS_WEBHOOK_TOKEN", WEBHOOK_TOKEN.to_owned()),
        // Any hour, so the test does not depend on the time of day it runs at.
        ("KAIKU_SMS_SENDING_HOURS", "0-24".to_owned()),
        ("KAIKU_SMS_TEXT_WAIT", "2s".to_owned()),
        ("KAIKU_SMS_POLL_INTERVAL", "200ms".to_owned()),
        ("KAIKU_SMS_NAME_UNIT", "true".to_owned()),
        ("RUST_LOG", "info".to_owned()),
    ];
    let process = ServiceProcess::start("sms-gateway", &[], &env).await?;
    process.wait_for_port(port, Duration::from_secs(30)).await?;
    let gateway = Gateway {
        url: format!("http://127.0.0.1:{port}"),
        process,
        http: reqwest::Client::new(),
    };

    // Refused whole: without the token, and a batch with one bad visit (nothing of it stored).
    let (status, _) = gateway
        .post(
            "/visits",
            ("authorization", "Bearer wrong"),
            "application/json",
            json!({ "visits": [visit("x", "040 999 0000", 40, "fi", 2)] }).to_string(),
        )
        .await?;
    assert_eq!(status, 401);
    let (status, body) = gateway
        .visits(json!([
            visit("bad-0", "040 999 0001", 40, "fi", 2),
            visit("bad-1", "12", 40, "fi", 2)
        ]))
        .await?;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["field"], "visits[1].phone", "{body}");
    let elsewhere = with(
        visit("far-1", "040 999 0003", 40, "fi", 2),
        "unit_id",
        json!("dental-9"),
    );
    let (status, body) = gateway
        .visits(json!([
            visit("ok-1", "040 999 0004", 40, "fi", 2),
            elsewhere
        ]))
        .await?;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["field"], "visits[1].unit_id", "{body}");
    let (status, body) = gateway
        .post("/visits.csv", ("authorization", &format!("Bearer {VISITS_TOKEN}")), "text/csv",
            "visit_id,unit_id,visited_at,age,phone,language,sms_consent,non_disclosure\nc-1,hc-1,2026-11-24T12:00:00+02:00,old,040 999 0002,fi,1,0\n".to_owned())
        .await?;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["field"], "line 2: age", "{body}");

    let gateway_pool = sqlx::PgPool::connect(&sms_database).await?;
    let (stored,): (i64,) = sqlx::query_as("SELECT count(*) FROM invitation")
        .fetch_one(&gateway_pool)
        .await?;
    assert_eq!(stored, 0, "refused batches store nothing");

    // The phones: A fi, B sv, C de (-> en), H via CSV; the rest are never invited.
    let (a, b, c, h) = (
        "040 111 2233",
        "+358 50 444 5566",
        "045 777 8899",
        "044 321 6540",
    );
    let (status, body) = gateway
        .visits(json!([
            visit("v-a", a, 34, "fi", 2),
            visit("v-b", b, 70, "sv", 2),
            visit("v-c", c, 45, "de", 2),
            visit("v-d", "040 000 1616", 16, "fi", 2),
            with(
                visit("v-e", "040 000 1717", 30, "fi", 2),
                "sms_consent",
                json!(false)
            ),
            with(
                visit("v-f", "040 000 1818", 30, "fi", 2),
                "non_disclosure",
                json!(true)
            ),
            visit("v-a2", a, 34, "fi", 1),
            visit("v-a", a, 34, "fi", 2),
            visit("v-g", "040 000 1919", 50, "fi", 10),
        ]))
        .await?;
    assert_eq!(status, 200, "{body}");
    let outcomes: Vec<String> = body["results"]
        .as_array()
        .ok_or("no results")?
        .iter()
        .map(|r| {
            format!(
                "{}{}",
                r["outcome"].as_str().unwrap_or_default(),
                r["reason"]
                    .as_str()
                    .map(|r| format!(":{r}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            "scheduled",
            "scheduled",
            "scheduled",
            "skipped:minor",
            "skipped:no_consent",
            "skipped:non_disclosure",
            "skipped:invited_recently",
            "duplicate",
            "skipped:visit_too_old"
        ]
    );
    let two_days_ago = (Utc::now() - chrono::Duration::days(2)).to_rfc3339();
    let (status, body) = gateway
        .post("/visits.csv", ("authorization", &format!("Bearer {VISITS_TOKEN}")), "text/csv",
            format!("visit_id;unit_id;visited_at;age;phone;language;sms_consent;non_disclosure\nv-h;hc-1;{two_days_ago};58;{h};fi;kyllä;ei\n"))
        .await?;
    assert_eq!(
        (status, body["results"][0]["outcome"].as_str()),
        (200, Some("scheduled")),
        "{body}"
    );

    // Invitations go out to the four eligible numbers only, each in its language.
    let messages = wait_for_messages(&outbox, 4).await?;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let messages_after = sent(&outbox);
    assert_eq!(
        messages_after.len(),
        4,
        "only eligible visits are invited: {messages_after:?}"
    );
    let to = international;
    let text_to = |number: &str| {
        messages
            .iter()
            .find(|m| m.to == to(number))
            .map(|m| m.text.clone())
            .unwrap_or_default()
    };
    assert!(
        text_to(a).starts_with("Kiitos käynnistäsi (Keskustan terveysasema)."),
        "{messages:?}"
    );
    assert!(
        text_to(b).contains("Svara på detta meddelande"),
        "{messages:?}"
    );
    assert!(text_to(c).contains("Reply to this message"), "{messages:?}");
    assert!(text_to(h).contains("Vastaa tähän viestiin"), "{messages:?}");

    // Nothing answered yet: no SMS answers (and a figure of zero, not an error).
    let volume = stack
        .analytics()
        .await?
        .get_response_volume(GetResponseVolumeRequest {
            survey_id: survey_id.clone(),
            filter: Some(ResponseFilter {
                channels: vec![Channel::Sms as i32],
                ..kaiku_system_tests::clients()
            }),
            min_sequence: 0,
            grouping: None,
        })
        .await?
        .into_inner();
    assert_eq!((volume.total, volume.total_suppressed), (0, false));

    // Replies: A gives 9 and a text with a phone number in it; B needs a second try and gives
    // no text; C gives 10 and a text; an unknown number is ignored; a wrong token is refused.
    assert_eq!(gateway.reply(a, "9").await?["outcome"], "ScoreRecorded");
    assert_eq!(
        gateway
            .reply(a, "Tosi hyvä palvelu, soita minulle 040 111 2233")
            .await?["outcome"],
        "Submitted"
    );
    assert_eq!(
        gateway.reply(b, "kanske").await?["outcome"],
        "AskedForScore"
    );
    // Asked again only once: an auto-responder gets no endless exchange.
    assert_eq!(
        gateway.reply(b, "Jag är på semester").await?["outcome"],
        "AskedForScore"
    );
    assert_eq!(gateway.reply(b, "4").await?["outcome"], "ScoreRecorded");
    assert_eq!(gateway.reply(c, "10").await?["outcome"], "ScoreRecorded");
    assert_eq!(
        gateway.reply(c, "Great service").await?["outcome"],
        "Submitted"
    );
    assert_eq!(
        gateway.reply("040 555 0000", "10").await?["outcome"],
        "Ignored"
    );
    let (status, _) = gateway
        .post(
            "/webhook",
            ("x-kaiku-webhook-token", "wrong"),
            "application/json",
            json!({ "from": a, "text": "1" }).to_string(),
        )
        .await?;
    assert_eq!(status, 401);
    for bad in [
        "not json".to_owned(),
        json!({ "from": "operator", "text": "9" }).to_string(),
    ] {
        let (status, body) = gateway
            .post(
                "/webhook",
                ("x-kaiku-webhook-token", WEBHOOK_TOKEN),
                "application/json",
                bad,
            )
            .await?;
        assert_eq!(status, 400, "{body}");
    }
    let replies_to_b: Vec<String> = sent(&outbox)
        .into_iter()
        .filter(|m| m.to == to(b))
        .map(|m| m.text)
        .collect();
    assert_eq!(
        replies_to_b.len(),
        3,
        "invitation, ask again, ask for text: {replies_to_b:?}"
    );
    assert_eq!(replies_to_b[1], "Svara med endast ett tal 0-10.");

    // Three answers with channel sms (B's after its text wait); the NPS from 9, 4 and 10.
    let mut analytics = stack.analytics().await?;
    let sms_only = ResponseFilter {
        channels: vec![Channel::Sms as i32],
        ..kaiku_system_tests::clients()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let volume = analytics
            .get_response_volume(GetResponseVolumeRequest {
                survey_id: survey_id.clone(),
                filter: Some(sms_only.clone()),
                min_sequence: 0,
                grouping: None,
            })
            .await?
            .into_inner();
        if volume.total >= 3 {
            assert_eq!(volume.total, 3);
            break;
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!(
                "{} SMS answers in analytics after 30 s\n{}",
                volume.total,
                gateway.process.log()
            )
            .into());
        }
        // Waiting for B's text wait and the projection, both on their own timers.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let nps = analytics
        .get_nps(GetNpsRequest {
            survey_id: survey_id.clone(),
            question_key: String::new(),
            filter: Some(sms_only),
            min_sequence: 0,
            grouping: None,
        })
        .await?
        .into_inner()
        .figure
        .ok_or("no NPS figure")?;
    assert_eq!((nps.n, nps.promoters, nps.detractors), (3, 2, 1));

    // No phone number anywhere: not in any stream's stored bytes, not in any row of either
    // database (by the last seven digits, however the number was written).
    let mut store = Vec::new();
    kaiku_system_tests::files_bytes(stack.nats.store_dir(), &mut store)?;
    let store = String::from_utf8_lossy(&store);
    let read_models = kaiku_system_tests::database_text(&stack.database_url).await?;
    let gateway_rows = kaiku_system_tests::database_text(&sms_database).await?;
    assert!(
        read_models.contains("Tosi hyvä palvelu"),
        "the search reads the real rows"
    );
    for number in [
        a,
        b,
        c,
        h,
        "040 000 1616",
        "040 000 1717",
        "040 000 1818",
        "040 000 1919",
    ] {
        let digits: String = number.chars().filter(char::is_ascii_digit).collect();
        let tail = &digits[digits.len() - 7..];
        assert!(!store.contains(tail), "{number} is in the JetStream store");
        assert!(
            !read_models.contains(tail),
            "{number} is in the read models"
        );
        assert!(
            !gateway_rows.contains(tail),
            "{number} is in the gateway's database"
        );
    }
    Ok(())
}

/// The international form the gateway sends to ("040 111 2233" -> "+358401112233").
fn international(number: &str) -> String {
    let digits: String = number
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    match digits.strip_prefix('0') {
        Some(rest) => format!("+358{rest}"),
        None => digits,
    }
}
