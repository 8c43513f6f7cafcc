//! The retention sweep against a real nats-server, with survey-definition publishing the
//! surveys and the sweep's clock set ahead: texts past their survey's retention (or the county
//! default) are erased through the redaction path a bounded pass at a time, each pass audited;
//! texts within retention stay; a redaction left by a crash before its secure erase is finished
//! without a second redaction; further passes change nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use bytes::Bytes;
use clap::Parser;
use kaiku_domain::fixtures::{NPS_KEY, OPEN_KEY, fixture_units, nps_survey};
use kaiku_eventstore::{
    AUDIT_STREAM, EventStore, EventStoreError, NewEvent, RESPONSES_STREAM, response_subject,
};
use kaiku_grpc::{AuthorizedChannel, Shutdown, authorized};
use kaiku_proto::events::v1::{AuditEvent, ResponseEvent, ResponseRedacted, response_event};
use kaiku_proto::intake::v1::response_intake_client::ResponseIntakeClient;
use kaiku_proto::intake::v1::{
    Answer, ErasureReason, NpsAnswer, OpenTextAnswer, ResponseContext, SubmitResponseRequest,
    answer::Value,
};
use kaiku_proto::survey::v1::survey_definition_client::SurveyDefinitionClient;
use kaiku_proto::survey::v1::{
    Channel as ChannelKind, CreateSurveyRequest, Language, PublishVersionRequest, RespondentRole,
    Retention,
};
use kaiku_test_support::{NatsServer, TestCredentials};
use prost::Message;
use tonic::transport::Channel;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// A running response-intake; dropping it stops it.
struct RunningIntake {
    client: ResponseIntakeClient<AuthorizedChannel>,
    shutdown: Shutdown,
    task: tokio::task::JoinHandle<Result<(), response_intake::IntakeError>>,
}

impl RunningIntake {
    async fn stop(self) -> TestResult {
        // The client's connection would hold the graceful shutdown until its grace.
        drop(self.client);
        self.shutdown.trigger();
        self.task.await??;
        Ok(())
    }
}

fn args(name: &str, nats: &NatsServer, keys: &str) -> Vec<String> {
    [
        name,
        "--listen-addr",
        "127.0.0.1:0",
        "--nats-url",
        &nats.url(),
        "--auth-api-keys",
        keys,
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

async fn start_intake(
    nats: &NatsServer,
    credentials: &TestCredentials,
    settings: &[&str],
) -> TestResult<RunningIntake> {
    let keys = credentials.api_keys_file().display().to_string();
    let mut argv = args("response-intake", nats, &keys);
    argv.extend(settings.iter().map(|s| (*s).to_owned()));
    let app = response_intake::Application::build(&response_intake::Config::try_parse_from(argv)?)
        .await?;
    let addr = app.local_addr().ok_or("no address")?;
    let shutdown = Shutdown::new();
    let task = tokio::spawn(app.run(shutdown.clone()));
    let channel = Channel::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    Ok(RunningIntake {
        client: ResponseIntakeClient::new(authorized(channel, &credentials.admin_token)),
        shutdown,
        task,
    })
}

async fn publish(
    surveys: &mut SurveyDefinitionClient<AuthorizedChannel>,
    months: Option<u32>,
) -> TestResult<String> {
    let mut content = nps_survey(&["unit-1"]);
    content.retention = months.map(|open_text_months| Retention { open_text_months });
    let created = surveys
        .create_survey(CreateSurveyRequest {
            survey_id: String::new(),
            draft: Some(content),
        })
        .await?
        .into_inner()
        .survey
        .ok_or("survey")?;
    surveys
        .publish_version(PublishVersionRequest {
            survey_id: created.survey_id.clone(),
            expected_revision: created.revision,
        })
        .await?;
    Ok(created.survey_id)
}

fn answer(survey_id: &str, score: u32, text: Option<&str>) -> SubmitResponseRequest {
    let mut answers = vec![Answer {
        question_key: NPS_KEY.into(),
        value: Some(Value::Nps(NpsAnswer { score })),
    }];
    if let Some(text) = text {
        answers.push(Answer {
            question_key: OPEN_KEY.into(),
            value: Some(Value::OpenText(OpenTextAnswer { text: text.into() })),
        });
    }
    SubmitResponseRequest {
        submission_id: uuid::Uuid::new_v4().to_string(),
        survey_id: survey_id.to_owned(),
        survey_version: 1,
        context: Some(ResponseContext {
            unit_id: "unit-1".into(),
            channel: ChannelKind::Paper as i32,
            respondent_role: RespondentRole::Client as i32,
            language: Language::Fi as i32,
            ..Default::default()
        }),
        answers,
        answered_at: None,
    }
}

/// Every response event in the stream now, by sequence.
async fn responses(store: &EventStore) -> TestResult<BTreeMap<u64, ResponseEvent>> {
    let mut out = BTreeMap::new();
    for stored in store.read_all(RESPONSES_STREAM, "kaiku.response.>").await? {
        out.insert(
            stored.stream_sequence,
            ResponseEvent::decode(stored.payload.as_ref())?,
        );
    }
    Ok(out)
}

fn texts_of(events: &BTreeMap<u64, ResponseEvent>, survey_id: &str) -> Vec<u64> {
    events
        .iter()
        .filter(|(_, e)| e.survey_id == survey_id)
        .filter(|(_, e)| match &e.kind {
            Some(response_event::Kind::Submitted(s)) => s
                .answers
                .iter()
                .any(|a| matches!(a.value, Some(Value::OpenText(_)))),
            _ => false,
        })
        .map(|(seq, _)| *seq)
        .collect()
}

/// survey-definition in this process, and a client of it with the admin key.
async fn start_survey_definition(
    nats: &NatsServer,
    credentials: &TestCredentials,
) -> TestResult<(
    SurveyDefinitionClient<kaiku_grpc::AuthorizedChannel>,
    Shutdown,
)> {
    let keys = credentials.api_keys_file().display().to_string();
    let app = survey_definition::Application::build(&survey_definition::Config::try_parse_from(
        args("survey-definition", nats, &keys),
    )?)
    .await?;
    let addr = app.local_addr().ok_or("no address")?;
    let shutdown = Shutdown::new();
    tokio::spawn(app.run(shutdown.clone()));
    let client = SurveyDefinitionClient::new(authorized(
        Channel::from_shared(format!("http://{addr}"))?
            .connect()
            .await?,
        &credentials.admin_token,
    ));
    Ok((client, shutdown))
}

#[tokio::test]
async fn texts_past_retention_are_erased_a_bounded_pass_at_a_time_and_the_rest_are_kept()
-> TestResult {
    let nats = NatsServer::start().await?;
    let credentials = TestCredentials::new()?;
    let (mut surveys, surveys_shutdown) = start_survey_definition(&nats, &credentials).await?;
    for unit in fixture_units(&["unit-1"]) {
        surveys.create_unit(unit).await?;
    }
    // Six months of its own, the county's default (set to 12 below), 36 months of its own.
    let short = publish(&mut surveys, Some(6)).await?;
    let default = publish(&mut surveys, None).await?;
    let long = publish(&mut surveys, Some(36)).await?;

    // Answers, with the sweep off.
    let mut first =
        start_intake(&nats, &credentials, &["--retention-sweep-interval", "0s"]).await?;
    let mut submitted = BTreeMap::new();
    for (survey, score, text) in [
        (&short, 9, Some("Lyhyt 1")),
        (&short, 8, Some("Lyhyt 2")),
        (&short, 7, None),
        (&short, 6, Some("Lyhyt 3")),
        (&short, 5, Some("Lyhyt 4")),
        (&short, 4, Some("Lyhyt 5")),
        (&default, 10, Some("Oletus 1")),
        (&default, 3, Some("Oletus 2")),
        (&long, 9, Some("Pitkä 1")),
        (&long, 2, Some("Pitkä 2")),
    ] {
        let request = answer(survey, score, text);
        let reply = first
            .client
            .submit_response(request.clone())
            .await?
            .into_inner();
        submitted.insert(reply.sequence, request);
    }
    let store = EventStore::connect(&nats.url(), "test").await?;
    let before = responses(&store).await?;
    let due: BTreeSet<u64> = texts_of(&before, &short)
        .into_iter()
        .chain(texts_of(&before, &default))
        .collect();
    assert_eq!(due.len(), 7);
    let kept = texts_of(&before, &long);

    // A crash after an erasure's redaction event was stored and before the secure erase: the
    // redaction is there, the original too.
    let crashed = *due.iter().next().ok_or("a due response")?;
    let Some(response_event::Kind::Submitted(original)) = before[&crashed].kind.clone() else {
        return Err("not a submission".into());
    };
    let (remaining, question_keys) =
        kaiku_domain::erasure::without_open_texts(&original).ok_or("its text")?;
    let redaction = ResponseEvent {
        event_id: format!("redaction-{}-{crashed}", original.submission_id),
        survey_id: short.clone(),
        occurred_at: before[&crashed].occurred_at,
        kind: Some(response_event::Kind::Redacted(ResponseRedacted {
            submission_id: original.submission_id.clone(),
            question_keys,
            reason: String::new(),
            remaining: Some(remaining),
            sequence: crashed,
            erasure_reason: ErasureReason::Retention as i32,
        })),
    };
    store
        .append(NewEvent {
            subject: response_subject(&short),
            message_id: redaction.event_id.clone(),
            event_type: "ResponseRedacted",
            payload: Bytes::from(redaction.encode_to_vec()),
            expected_last_subject_sequence: None,
        })
        .await?;
    first.stop().await?;

    // The sweep, 400 days ahead, the county default 12 months, two erasures per pass.
    let started = std::time::Instant::now();
    let second = start_intake(
        &nats,
        &credentials,
        &[
            "--retention-sweep-interval",
            "100ms",
            "--retention-pass-limit",
            "2",
            "--retention-clock-offset",
            "400days",
            "--retention-open-text-months",
            "12",
        ],
    )
    .await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let after = loop {
        let now = responses(&store).await?;
        if texts_of(&now, &short).is_empty() && texts_of(&now, &default).is_empty() {
            break now;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "texts still stored: {:?}",
            texts_of(&now, &short)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    eprintln!("seven erasures in {:?}", started.elapsed());

    // Within retention: untouched.
    assert_eq!(texts_of(&after, &long), kept);
    for sequence in &due {
        assert!(matches!(
            store.get(RESPONSES_STREAM, *sequence).await,
            Err(EventStoreError::NotFound { .. })
        ));
    }
    // One redaction per erased response (the crashed one's stored once), each with its
    // response's score and the code.
    let redactions: Vec<&ResponseRedacted> = after
        .values()
        .filter_map(|e| match &e.kind {
            Some(response_event::Kind::Redacted(r)) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(redactions.len(), due.len(), "{redactions:?}");
    for redacted in &redactions {
        assert!(due.contains(&redacted.sequence));
        assert_eq!(redacted.erasure_reason, ErasureReason::Retention as i32);
        let remaining = redacted.remaining.as_ref().ok_or("remains")?;
        let score = submitted[&redacted.sequence].answers[0].clone();
        assert_eq!(remaining.answers, vec![score]);
    }
    // The answer without text is as it was.
    assert!(after.values().filter(|e| e.survey_id == short).any(
        |e| matches!(&e.kind, Some(response_event::Kind::Submitted(s)) if s.answers.len() == 1)
    ));

    // The audit: one record per survey and pass, at most two erasures in each, together every
    // erasure (the crashed one's too: the sweep finished it).
    let audits: Vec<AuditEvent> = store
        .read_all(AUDIT_STREAM, "kaiku.audit.response-intake")
        .await?
        .iter()
        .map(|e| AuditEvent::decode(e.payload.as_ref()))
        .collect::<Result<_, _>>()?;
    let sweeps: Vec<&AuditEvent> = audits
        .iter()
        .filter(|a| a.method == "retention-sweep")
        .collect();
    let mut on_record = BTreeSet::new();
    for audit in &sweeps {
        assert_eq!(audit.erasure_reason, ErasureReason::Retention as i32);
        assert_eq!(audit.reason, "retention");
        assert_eq!(audit.caller, "service:response-intake");
        assert!(
            audit.response_sequences.len() <= 2,
            "a pass erased more than its limit: {audit:?}"
        );
        assert!(
            audit.object == format!("survey:{short}")
                || audit.object == format!("survey:{default}")
        );
        on_record.extend(audit.response_sequences.iter().copied());
    }
    assert_eq!(on_record, due);
    assert!(sweeps.len() >= 4, "7 erasures at 2 a pass: {sweeps:?}");

    // Later passes find nothing more to do.
    let last = store.last_sequence(RESPONSES_STREAM).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(store.last_sequence(RESPONSES_STREAM).await?, last);
    second.stop().await?;
    surveys_shutdown.trigger();
    Ok(())
}

/// GET /metrics over plain HTTP/1.0; the value of one counter.
async fn counter(addr: &str, name: &str) -> TestResult<u64> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        .await?;
    let mut body = String::new();
    stream.read_to_string(&mut body).await?;
    Ok(body
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0))
}

/// What the sweep costs: erasing (the first pass after texts fall due) and walking a subject
/// whose texts are already gone (every restart, the cursors being in memory). Prints its
/// figures; `cargo nextest run -p response-intake --test retention --run-ignored only
/// --no-capture`. ADR 0019 records them.
#[tokio::test]
#[ignore = "a measurement, minutes long"]
async fn measure_the_sweep() -> TestResult {
    const RESPONSES: usize = 20_000;
    let nats = NatsServer::start().await?;
    let credentials = TestCredentials::new()?;
    let (mut surveys, surveys_shutdown) = start_survey_definition(&nats, &credentials).await?;
    for unit in fixture_units(&["unit-1"]) {
        surveys.create_unit(unit).await?;
    }
    let survey = publish(&mut surveys, Some(6)).await?;
    let mut loader =
        start_intake(&nats, &credentials, &["--retention-sweep-interval", "0s"]).await?;
    // Three in ten with a text, as in `kaikuctl dataset`.
    let requests: Vec<SubmitResponseRequest> = (0..RESPONSES)
        .map(|i| {
            answer(
                &survey,
                (i % 11) as u32,
                (i % 10 < 3).then_some("Hyvä palvelu"),
            )
        })
        .collect();
    let texts = requests.iter().filter(|r| r.answers.len() == 2).count();
    let mut replies = loader
        .client
        .submit_responses(tokio_stream::iter(requests))
        .await?
        .into_inner();
    while replies.message().await?.is_some() {}
    loader.stop().await?;
    let store = EventStore::connect(&nats.url(), "test").await?;
    let stored = store.last_sequence(RESPONSES_STREAM).await?;

    let metrics = format!("127.0.0.1:{}", kaiku_test_support::free_port()?);
    let sweep = [
        "--retention-sweep-interval",
        "1h",
        "--retention-clock-offset",
        "200days",
        "--metrics-addr",
        &metrics,
    ];
    // Unbounded passes first, for the raw rate; the default limit paces it (ADR 0019).
    let mut unbounded = sweep.to_vec();
    unbounded.extend(["--retention-pass-limit", "1000000"]);
    let started = std::time::Instant::now();
    let first = start_intake(&nats, &credentials, &unbounded).await?;
    while store.last_sequence(RESPONSES_STREAM).await? < stored + texts as u64 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let erasing = started.elapsed();
    first.stop().await?;
    println!(
        "erased {texts} texts among {RESPONSES} responses in {erasing:.1?}: {:.0} erasures/s",
        texts as f64 / erasing.as_secs_f64()
    );

    // A restart walks the whole subject again: every answer, none with a text left, and the
    // redactions (as many events as before the erasures).
    let started = std::time::Instant::now();
    let second = start_intake(&nats, &credentials, &sweep).await?;
    let events = stored;
    while counter(&metrics, "kaiku_retention_read_total").await? < events {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let walking = started.elapsed();
    println!(
        "walked {events} events after a restart in {walking:.1?}: {:.0} events/s",
        events as f64 / walking.as_secs_f64()
    );
    second.stop().await?;
    surveys_shutdown.trigger();
    Ok(())
}
