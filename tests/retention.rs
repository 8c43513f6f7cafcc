//! Retention per survey (ADR 0019): response-intake's sweep, its clock set 25 months ahead,
//! erases the open texts of answers past their survey's retention through the redaction path.
//! The texts are then gone from the JetStream store's files, from every read-model schema (the
//! live one, a retired one kept by `--rebuild --keep-old`, a crashed rebuild's leftover) and
//! from the dead letters; the figures are what they were; the audit record names each erasure
//! with code RETENTION; texts within their retention stay, and a rebuild brings nothing back.

use std::time::Duration;

use kaiku_domain::fixtures::{OPEN_KEY, fixture_units, nps_survey};
use kaiku_eventstore::{AUDIT_STREAM, EventStore, NewEvent, RESPONSES_STREAM, response_subject};
use kaiku_proto::analytics::v1::{
    Dimension, GetNpsRequest, GetResponseVolumeRequest, Grouping, ListFeedbackTextsRequest,
    TimeBucket,
};
use kaiku_proto::events::v1::{AuditEvent, ResponseEvent, ResponseSubmitted, response_event};
use kaiku_proto::intake::v1::{
    Answer, ErasureReason, NpsAnswer, OpenTextAnswer, ResponseContext, SubmitResponseRequest,
    answer::Value,
};
use kaiku_proto::survey::v1::{
    Channel, Language, PublishVersionRequest, RespondentRole, Retention, SurveyContent,
    UpdateDraftRequest,
};
use kaiku_system_tests::{Stack, TestResult, clients, database_text, files_bytes, nps_answer};
use prost::Message;

/// Texts of the survey whose retention is shortened: erased once it is.
const DUE: [&str; 4] = [
    "Odotusaula oli ahdas",
    "Vastaanotto venyi pitkaan",
    "Parkkipaikkoja oli liian vahan",
    "Kahvia ei ollut tarjolla",
];
/// A text in an event the projection cannot apply (an NPS of 11): it sits in dead_letter.
const DEAD_LETTERED: &str = "Lomake jumittui kesken";
/// Texts within their retention: the county default (36 months here) and 120 months.
const KEPT: [&str; 2] = ["Hoitaja kuunteli tarkasti", "Selkeat ohjeet kotiin"];

fn with_text(survey_id: &str, score: u32, text: &str) -> SubmitResponseRequest {
    let mut request = nps_answer(survey_id, "school-a", RespondentRole::Client, score);
    request.answers.push(Answer {
        question_key: OPEN_KEY.into(),
        value: Some(Value::OpenText(OpenTextAnswer { text: text.into() })),
    });
    request
}

fn survey(months: Option<u32>) -> SurveyContent {
    let mut content = nps_survey(&["school-a"]);
    content.retention = months.map(|open_text_months| Retention { open_text_months });
    content
}

/// NPS and volume by day, as an admin (kaiku.export) sees them; without the sequence they
/// were read at.
async fn figures(stack: &Stack, survey_id: &str, min_sequence: u64) -> TestResult<String> {
    let grouping = Some(Grouping {
        group_by: vec![Dimension::Unit as i32],
        bucket: TimeBucket::Day as i32,
    });
    let mut analytics = stack.analytics().await?;
    let mut nps = analytics
        .get_nps(GetNpsRequest {
            survey_id: survey_id.to_owned(),
            filter: Some(clients()),
            min_sequence,
            grouping: grouping.clone(),
            ..Default::default()
        })
        .await?
        .into_inner();
    nps.as_of_sequence = 0;
    let mut volume = analytics
        .get_response_volume(GetResponseVolumeRequest {
            survey_id: survey_id.to_owned(),
            filter: Some(clients()),
            min_sequence,
            grouping,
        })
        .await?
        .into_inner();
    volume.as_of_sequence = 0;
    Ok(format!("{nps:?}\n{volume:?}"))
}

async fn listed_texts(
    stack: &Stack,
    survey_id: &str,
    min_sequence: u64,
) -> TestResult<Vec<String>> {
    let mut texts: Vec<String> = stack
        .analytics()
        .await?
        .list_feedback_texts(ListFeedbackTextsRequest {
            survey_id: survey_id.to_owned(),
            min_sequence,
            filter: Some(clients()),
            ..Default::default()
        })
        .await?
        .into_inner()
        .texts
        .into_iter()
        .map(|t| t.text)
        .collect();
    texts.sort();
    Ok(texts)
}

/// The read models' schemas other than public.
async fn old_schemas(stack: &Stack) -> TestResult<Vec<String>> {
    let pool = stack.database().await?;
    Ok(sqlx::query_scalar(
        "select nspname::text from pg_namespace
         where nspname like 'rebuild\\_%' or nspname like 'retired\\_%' order by 1",
    )
    .fetch_all(&pool)
    .await?)
}

/// Every row of every table, and the dead letters' payloads readable (database_text shows a
/// bytea as hex; `escape` keeps its ASCII as it is).
async fn read_models_text(stack: &Stack) -> TestResult<String> {
    let mut all = database_text(&stack.database_url).await?;
    let pool = stack.database().await?;
    let schemas: Vec<String> = sqlx::query_scalar(
        "select table_schema::text from information_schema.tables where table_name = 'dead_letter'",
    )
    .fetch_all(&pool)
    .await?;
    for schema in schemas {
        let payloads: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select encode(payload, 'escape') from \"{schema}\".dead_letter"
        )))
        .fetch_all(&pool)
        .await?;
        all.push_str(&payloads.join("\n"));
    }
    Ok(all)
}

fn store_text(stack: &Stack) -> TestResult<String> {
    let mut bytes = Vec::new();
    files_bytes(stack.nats.store_dir(), &mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn texts_past_retention_are_erased_everywhere_and_the_figures_stay() -> TestResult {
    let mut stack = Stack::start_with_env(&[
        ("KAIKU_MIN_GROUP_SIZE", "1".to_owned()),
        // The sweep looks often and judges as if 25 months had passed; the county default is
        // 36 months, so nothing is due until a survey asks for less.
        ("KAIKU_RETENTION_SWEEP_INTERVAL", "200ms".to_owned()),
        ("KAIKU_RETENTION_CLOCK_OFFSET", "25months".to_owned()),
        ("KAIKU_RETENTION_OPEN_TEXT_MONTHS", "36".to_owned()),
    ])
    .await?;
    let mut surveys = stack.surveys().await?;
    for unit in fixture_units(&["school-a"]) {
        surveys.create_unit(unit).await?;
    }
    let shortened = stack.publish(survey(Some(60))).await?;
    let default = stack.publish(survey(None)).await?;
    let long = stack.publish(survey(Some(120))).await?;

    let mut requests = vec![
        nps_answer(&shortened, "school-a", RespondentRole::Client, 10),
        nps_answer(&shortened, "school-a", RespondentRole::Client, 2),
        with_text(&default, 9, KEPT[0]),
        with_text(&long, 7, KEPT[1]),
    ];
    for (text, score) in DUE.iter().zip([9, 6, 3, 10]) {
        requests.push(with_text(&shortened, score, text));
    }
    stack.submit_batch(requests).await?;
    // An answer that reached the stream without intake's checks (an NPS of 11): the projection
    // dead-letters it, with its text in the payload.
    let admin = EventStore::connect(&stack.nats.url(), "test").await?;
    let poison = ResponseEvent {
        event_id: uuid::Uuid::new_v4().to_string(),
        survey_id: shortened.clone(),
        occurred_at: Some(kaiku_domain::time::to_timestamp(chrono::Utc::now())),
        kind: Some(response_event::Kind::Submitted(ResponseSubmitted {
            submission_id: uuid::Uuid::new_v4().to_string(),
            survey_version: 1,
            context: Some(ResponseContext {
                unit_id: "school-a".into(),
                channel: Channel::Qr as i32,
                respondent_role: RespondentRole::Client as i32,
                language: Language::Fi as i32,
                ..Default::default()
            }),
            answers: vec![
                Answer {
                    question_key: kaiku_domain::fixtures::NPS_KEY.into(),
                    value: Some(Value::Nps(NpsAnswer { score: 11 })),
                },
                Answer {
                    question_key: OPEN_KEY.into(),
                    value: Some(Value::OpenText(OpenTextAnswer {
                        text: DEAD_LETTERED.into(),
                    })),
                },
            ],
            answered_at: Some(kaiku_domain::time::to_timestamp(chrono::Utc::now())),
            ..Default::default()
        })),
    };
    let poisoned = admin
        .append(NewEvent {
            subject: response_subject(&shortened),
            message_id: poison.event_id.clone(),
            event_type: "ResponseSubmitted",
            payload: poison.encode_to_vec().into(),
            expected_last_subject_sequence: None,
        })
        .await?
        .sequence;

    let before = [
        figures(&stack, &shortened, poisoned).await?,
        figures(&stack, &default, poisoned).await?,
        figures(&stack, &long, poisoned).await?,
    ];
    assert!(before[0].contains("n: 6"), "{}", before[0]);
    assert_eq!(listed_texts(&stack, &shortened, poisoned).await?.len(), 4);
    let rows = read_models_text(&stack).await?;
    assert!(
        DUE.iter().chain(&[DEAD_LETTERED]).all(|t| rows.contains(t)),
        "the texts and the dead letter are in the read models"
    );

    // A rebuild that keeps the old schema (for a comparison, say): it holds every text too.
    let (ok, stdout, stderr) = stack
        .run_command(
            "projection",
            &["--rebuild", "--keep-old"],
            Duration::from_secs(120),
        )
        .await?;
    assert!(ok, "rebuild failed:\n{stdout}\n{stderr}");
    let retired = stdout
        .lines()
        .find_map(|l| l.strip_prefix("retired_as="))
        .ok_or("the retired schema's name")?
        .to_owned();
    // And a rebuild that died, as the owner leaves it: a copy of the texts and dead letters.
    let crashed = "rebuild_20200101000000";
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "create schema {crashed};
         create table {crashed}.feedback_text as select * from public.feedback_text;
         create table {crashed}.dead_letter as select * from public.dead_letter;
         grant usage on schema {crashed} to kaiku_writer;
         grant select, delete on all tables in schema {crashed} to kaiku_writer;"
    )))
    .execute(&stack.database().await?)
    .await?;
    assert_eq!(
        old_schemas(&stack).await?,
        vec![crashed.to_owned(), retired.clone()]
    );
    let rows = read_models_text(&stack).await?;
    assert_eq!(rows.matches(DUE[0]).count(), 3, "public, retired, crashed");
    assert_eq!(
        rows.matches(DEAD_LETTERED).count(),
        3,
        "dead-lettered in public, retired, crashed"
    );

    // The survey's retention is shortened to 6 months: 25 months on, its texts are due.
    let current = surveys
        .get_survey(kaiku_proto::survey::v1::GetSurveyRequest {
            survey_id: shortened.clone(),
        })
        .await?
        .into_inner()
        .survey
        .ok_or("the survey")?;
    let updated = surveys
        .update_draft(UpdateDraftRequest {
            survey_id: shortened.clone(),
            expected_revision: current.revision,
            draft: Some(survey(Some(6))),
        })
        .await?
        .into_inner()
        .survey
        .ok_or("the draft")?;
    let erasing = std::time::Instant::now();
    surveys
        .publish_version(PublishVersionRequest {
            survey_id: shortened.clone(),
            expected_revision: updated.revision,
        })
        .await?;

    // Every due text goes from the stream, then from every schema.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let store = store_text(&stack)?;
        let rows = read_models_text(&stack).await?;
        let left: Vec<&str> = DUE
            .iter()
            .chain(&[DEAD_LETTERED])
            .copied()
            .filter(|t| store.contains(t) || rows.contains(t))
            .collect();
        if left.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still stored: {left:?}\n{}",
            stack.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("five texts erased everywhere in {:?}", erasing.elapsed());
    let last = admin.last_sequence(RESPONSES_STREAM).await?;

    // Kept: the texts within their retention, in the stream and every schema that had them.
    let store = store_text(&stack)?;
    let rows = read_models_text(&stack).await?;
    for text in KEPT {
        assert!(store.contains(text), "{text} kept in the stream");
        assert_eq!(
            rows.matches(text).count(),
            3,
            "{text} kept in the read models"
        );
    }
    assert_eq!(listed_texts(&stack, &default, last).await?, vec![KEPT[0]]);
    assert_eq!(listed_texts(&stack, &long, last).await?, vec![KEPT[1]]);
    assert_eq!(
        listed_texts(&stack, &shortened, last).await?,
        Vec::<String>::new()
    );
    assert_eq!(
        old_schemas(&stack).await?,
        vec![crashed.to_owned(), retired.clone()],
        "the kept schema stays, erased"
    );
    // The figures are what they were.
    let after = [
        figures(&stack, &shortened, last).await?,
        figures(&stack, &default, last).await?,
        figures(&stack, &long, last).await?,
    ];
    assert_eq!(after, before);

    // The audit names each erasure, by survey and sequence, with the code.
    let erased_sequences: Vec<u64> = admin
        .read_all(RESPONSES_STREAM, &response_subject(&shortened))
        .await?
        .iter()
        .filter_map(
            |e| match ResponseEvent::decode(e.payload.as_ref()).ok()?.kind? {
                response_event::Kind::Redacted(r) => {
                    assert_eq!(r.erasure_reason, ErasureReason::Retention as i32);
                    Some(r.sequence)
                }
                response_event::Kind::Submitted(_) => None,
            },
        )
        .collect();
    assert_eq!(
        erased_sequences.len(),
        DUE.len() + 1,
        "{erased_sequences:?}"
    );
    let mut audited: Vec<u64> = Vec::new();
    for event in admin
        .read_all(AUDIT_STREAM, "kaiku.audit.response-intake")
        .await?
    {
        let audit = AuditEvent::decode(event.payload.as_ref())?;
        if audit.method == "retention-sweep" {
            assert_eq!(audit.erasure_reason, ErasureReason::Retention as i32);
            assert_eq!(audit.object, format!("survey:{shortened}"));
            assert_eq!(audit.code, "Ok");
            audited.extend(audit.response_sequences);
        }
    }
    audited.sort_unstable();
    let mut expected = erased_sequences.clone();
    expected.sort_unstable();
    assert_eq!(audited, expected);

    // A rebuild replays the stream: nothing comes back, the figures stay, and its retired
    // schema is dropped (the one kept before stays until someone drops it).
    let (ok, stdout, stderr) = stack
        .run_command("projection", &["--rebuild"], Duration::from_secs(120))
        .await?;
    assert!(ok, "rebuild failed:\n{stdout}\n{stderr}");
    assert_eq!(
        old_schemas(&stack).await?,
        vec![retired],
        "the crashed rebuild's leftover dropped before, this rebuild's retired schema after"
    );
    let rows = read_models_text(&stack).await?;
    assert!(
        DUE.iter()
            .chain(&[DEAD_LETTERED])
            .all(|t| !rows.contains(t))
    );
    let rebuilt = [
        figures(&stack, &shortened, last).await?,
        figures(&stack, &default, last).await?,
        figures(&stack, &long, last).await?,
    ];
    assert_eq!(rebuilt, before);
    assert_eq!(stack.nats_refusals(), Vec::<String>::new());
    stack.kill("response-intake").await?;
    Ok(())
}
