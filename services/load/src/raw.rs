//! The machine's raw limits, measured with the payloads intake and the projection really write:
//! acknowledged JetStream publishes of encoded `ResponseSubmitted` events to a stream configured
//! like KAIKU_RESPONSES, and batched inserts of the same responses' rows into copies of the
//! read model's `response` and `feedback_text` tables. Kaiku's own figures are reported as a
//! share of these.

use std::time::Duration;

use async_nats::HeaderMap;
use bytes::Bytes;
use chrono::Utc;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use kaiku_domain::codes::{channel_code_of, language_code_of, role_code_of};
use kaiku_domain::ids::SurveyId;
use kaiku_domain::time::{helsinki_date, to_timestamp};
use kaiku_eventstore::{EVENT_TYPE_HEADER, NatsLogin, StreamSettings, responses_stream_config};
use kaiku_proto::events::v1::{ResponseEvent, ResponseSubmitted, response_event::Kind};
use kaiku_proto::intake::v1::answer::Value;
use prost::Message;
use sqlx::PgPool;
use tokio::time::Instant;

use crate::LoadError;
use crate::stats::Percentiles;
use crate::workload::{Workload, load_form};

/// Where the raw JetStream measurement publishes; its own stream, deleted afterwards.
pub const RAW_STREAM: &str = "KAIKU_BENCH_RAW";
const RAW_SUBJECT_PREFIX: &str = "kaiku.bench.raw";

/// `count` submissions of the load workload as intake turns them into events: validated,
/// redacted and encoded. Their survey id is random; nothing here is sent anywhere.
pub fn submitted_events(count: usize, seed: u64) -> Result<Vec<ResponseSubmitted>, LoadError> {
    let units = ["raw-unit-1".to_owned(), "raw-unit-2".to_owned()];
    let survey_id = SurveyId::new_random();
    let form = load_form(survey_id, &units);
    let mut workload = Workload::new(&survey_id.to_string(), &units, seed);
    let now = Utc::now();
    (0..count)
        .map(|_| {
            let planned = workload.next_submission();
            kaiku_domain::submission::accept(&form, &planned.request, now)
                .map_err(|e| LoadError::Config(format!("load workload refused: {e}")))
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct RawReport {
    pub count: usize,
    pub elapsed: Duration,
    pub latency: Percentiles,
}

impl RawReport {
    pub fn per_second(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

/// Publishes every event with its message id and waits for each acknowledgement, keeping
/// `in_flight` unacknowledged at a time.
pub async fn jetstream_publish(
    nats_url: &str,
    login: Option<&NatsLogin>,
    events: &[ResponseSubmitted],
    in_flight: usize,
) -> Result<RawReport, LoadError> {
    let nats = |e: &dyn std::fmt::Display| LoadError::Nats(e.to_string());
    let mut options = async_nats::ConnectOptions::new().name("kaiku-load raw");
    if let Some(login) = login {
        options = options.user_and_password(login.user.clone(), login.password.clone());
    }
    let client = options.connect(nats_url).await.map_err(|e| nats(&e))?;
    let jetstream = async_nats::jetstream::new(client);
    let _ = jetstream.delete_stream(RAW_STREAM).await;
    let mut config = responses_stream_config(StreamSettings::default());
    config.name = RAW_STREAM.to_owned();
    config.subjects = vec![format!("{RAW_SUBJECT_PREFIX}.>")];
    jetstream
        .create_stream(config)
        .await
        .map_err(|e| nats(&e))?;

    let payloads: Vec<(String, Bytes)> = events
        .iter()
        .map(|submitted| {
            let event = ResponseEvent {
                event_id: submitted.submission_id.clone(),
                survey_id: "raw".to_owned(),
                occurred_at: Some(to_timestamp(Utc::now())),
                kind: Some(Kind::Submitted(submitted.clone())),
            };
            (
                submitted.submission_id.clone(),
                Bytes::from(event.encode_to_vec()),
            )
        })
        .collect();
    let started = Instant::now();
    let mut pending = FuturesUnordered::new();
    let mut latencies = Vec::with_capacity(payloads.len());
    for (message_id, payload) in payloads {
        while pending.len() >= in_flight.max(1) {
            if let Some(result) = pending.next().await {
                latencies.push(result?);
            }
        }
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", message_id.as_str());
        headers.insert(EVENT_TYPE_HEADER, "ResponseSubmitted");
        let subject = format!("{RAW_SUBJECT_PREFIX}.survey");
        let sent = Instant::now();
        let ack = jetstream
            .publish_with_headers(subject, headers, payload)
            .await
            .map_err(|e| nats(&e))?;
        pending.push(async move {
            ack.await
                .map(|_| sent.elapsed())
                .map_err(|e| LoadError::Nats(e.to_string()))
        });
    }
    while let Some(result) = pending.next().await {
        latencies.push(result?);
    }
    let elapsed = started.elapsed();
    let _ = jetstream.delete_stream(RAW_STREAM).await;
    Ok(RawReport {
        count: events.len(),
        elapsed,
        latency: Percentiles::of(&mut latencies),
    })
}

/// Inserts the events' response rows and open texts in batches of `batch`, one transaction per
/// batch, with the projection's statement shape, into copies (indexes and generated columns
/// included) of `response` and `feedback_text` in their own schema, `kaiku_bench_raw` (dropped
/// afterwards; named in literal SQL, as sqlx takes no other).
pub async fn postgres_inserts(
    pool: &PgPool,
    events: &[ResponseSubmitted],
    batch: usize,
) -> Result<RawReport, LoadError> {
    sqlx::raw_sql(
        "drop schema if exists kaiku_bench_raw cascade;
         create schema kaiku_bench_raw;
         create table kaiku_bench_raw.response (like public.response including all);
         create table kaiku_bench_raw.feedback_text (like public.feedback_text including all);",
    )
    .execute(pool)
    .await?;
    let survey_id = uuid::Uuid::new_v4();
    let received = Utc::now();
    let mut latencies = Vec::new();
    let started = Instant::now();
    for (batch_index, chunk) in events.chunks(batch.max(1)).enumerate() {
        let first_sequence = batch_index * batch.max(1) + 1;
        let sent = Instant::now();
        let mut tx = pool.begin().await?;
        let mut ids = Vec::with_capacity(chunk.len());
        let (mut units, mut channels, mut roles, mut languages, mut answers) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut text_ids, mut text_keys, mut text_languages, mut bodies) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for submitted in chunk {
            let id = uuid::Uuid::parse_str(&submitted.submission_id)
                .map_err(|_| LoadError::Config("generated submission id".into()))?;
            let context = submitted.context.clone().unwrap_or_default();
            let mut values = Vec::new();
            for answer in &submitted.answers {
                match &answer.value {
                    Some(Value::Nps(nps)) => {
                        values.push(format!("\"{}\":\"{}\"", answer.question_key, nps.score));
                    }
                    Some(Value::Statement(s)) => values.push(format!(
                        "\"{}\":\"{}\"",
                        answer.question_key,
                        if s.dont_know {
                            "dont_know".to_owned()
                        } else {
                            s.score.to_string()
                        }
                    )),
                    Some(Value::OpenText(text)) => {
                        text_ids.push(id);
                        text_keys.push(answer.question_key.clone());
                        text_languages.push(language_code_of(context.language));
                        bodies.push(text.text.clone());
                    }
                    _ => {}
                }
            }
            ids.push(id);
            units.push(context.unit_id.clone());
            channels.push(channel_code_of(context.channel));
            roles.push(role_code_of(context.respondent_role));
            languages.push(language_code_of(context.language));
            answers.push(format!("{{{}}}", values.join(",")));
        }
        let n = ids.len();
        let sequences: Vec<i64> = (0..n)
            .map(|i| i64::try_from(first_sequence + i).unwrap_or(i64::MAX))
            .collect();
        // The projection's own statements, aimed at the copies by the search path.
        sqlx::query("set local search_path to kaiku_bench_raw")
            .execute(&mut *tx)
            .await?;
        let _inserted: Vec<uuid::Uuid> = sqlx::query_scalar(projection::INSERT_RESPONSES)
            .bind(&ids)
            .bind(sequences)
            .bind(vec![survey_id; n])
            .bind(vec![1i32; n])
            .bind(units)
            .bind(channels)
            .bind(roles)
            .bind(vec![String::new(); n])
            .bind(vec![String::new(); n])
            .bind(languages)
            .bind(vec![String::new(); n])
            .bind(vec![received; n])
            .bind(vec![helsinki_date(received); n])
            .bind(vec![received; n])
            .bind(answers)
            .fetch_all(&mut *tx)
            .await?;
        if !text_ids.is_empty() {
            let t = text_ids.len();
            sqlx::query(projection::INSERT_FEEDBACK_TEXTS)
                .bind(text_ids)
                .bind(text_keys)
                .bind(text_languages)
                .bind(bodies)
                .bind(vec!["neutral"; t])
                .bind(vec![String::new(); t])
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        latencies.push(sent.elapsed());
    }
    let elapsed = started.elapsed();
    sqlx::raw_sql("drop schema kaiku_bench_raw cascade")
        .execute(pool)
        .await?;
    Ok(RawReport {
        count: events.len(),
        elapsed,
        latency: Percentiles::of(&mut latencies),
    })
}
