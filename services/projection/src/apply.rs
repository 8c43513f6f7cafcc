//! Decodes events and applies them to the read models inside the batch's transaction.

use chrono::{DateTime, Utc};
use kaiku_domain::codes::{channel_code_of, language_code_of, role_code_of};
use kaiku_domain::nps::bucket;
use kaiku_domain::time::{from_timestamp, helsinki_date};
use kaiku_proto::events::v1::{
    ResponseEvent, ResponseRedacted, ResponseSubmitted, SurveyEvent, UnitEvent, response_event,
    survey_event, unit_event,
};
use kaiku_proto::intake::v1::answer::Value;
use kaiku_proto::survey::v1::{Language, SurveyContent, ThlTopic, UnitLevel, question::Kind};
use prost::Message;
use sqlx::{AssertSqlSafe, PgConnection, Postgres, Transaction};
use uuid::Uuid;

use crate::ProjectionError;
use crate::facts::{Facts, PendingResponse, Score, Text};
use crate::rollups::{Dimensions, Rollups};
use kaiku_domain::feedback::FeedbackDictionary;

/// Why an event was put in the dead-letter table instead of being applied.
#[derive(Debug, thiserror::Error)]
pub enum Rejected {
    #[error("undecodable: {0}")]
    Undecodable(String),
    #[error("inconsistent: {0}")]
    Inconsistent(String),
}

/// The outcome of applying one event: Ok(Err(..)) is an event to dead-letter, Err(..) a
/// database failure that aborts the batch.
pub type Applied = Result<Result<(), Rejected>, ProjectionError>;

pub async fn survey_event(
    tx: &mut Transaction<'_, Postgres>,
    subject: &str,
    payload: &[u8],
    sequence: u64,
) -> Applied {
    if subject.starts_with("kaiku.unit.") {
        return unit_event(tx, payload).await;
    }
    // Results reviews (development targets) are served by survey-definition from its own fold;
    // no read model needs them yet, so the projection only moves its checkpoint past them.
    if subject.starts_with("kaiku.review.") {
        return Ok(Ok(()));
    }
    let event = match SurveyEvent::decode(payload) {
        Ok(event) => event,
        Err(e) => return Ok(Err(Rejected::Undecodable(e.to_string()))),
    };
    let Ok(survey_id) = Uuid::parse_str(&event.survey_id) else {
        return Ok(Err(Rejected::Inconsistent(format!(
            "survey_id {:?} is not a UUID",
            event.survey_id
        ))));
    };
    let seq = to_i64(sequence);
    let conn: &mut PgConnection = tx;
    match event.kind {
        None => return Ok(Err(Rejected::Undecodable("event has no kind".into()))),
        Some(survey_event::Kind::Created(created)) => {
            let draft = created.draft.unwrap_or_default();
            sqlx::query(
                "insert into survey (survey_id, status, title_fi, title_sv, title_en, created_at, last_sequence)
                 values ($1, 'draft', $2, $3, $4, $5, $6) on conflict (survey_id) do nothing",
            )
            .bind(survey_id)
            .bind(title(&draft, Language::Fi))
            .bind(title(&draft, Language::Sv))
            .bind(title(&draft, Language::En))
            .bind(event.occurred_at.as_ref().and_then(from_timestamp))
            .bind(seq)
            .execute(&mut *conn)
            .await?;
        }
        Some(survey_event::Kind::DraftUpdated(_)) => {}
        Some(survey_event::Kind::VersionPublished(published)) => {
            let content = published.content.unwrap_or_default();
            let version = i32::try_from(published.version).unwrap_or(i32::MAX);
            sqlx::query(
                "update survey set status = 'published', latest_version = greatest(latest_version, $2),
                        title_fi = $3, title_sv = $4, title_en = $5, last_sequence = $6
                 where survey_id = $1",
            )
            .bind(survey_id)
            .bind(version)
            .bind(title(&content, Language::Fi))
            .bind(title(&content, Language::Sv))
            .bind(title(&content, Language::En))
            .bind(seq)
            .execute(&mut *conn)
            .await?;
            for (position, question) in content.questions.iter().enumerate() {
                let kind = question.kind.as_ref().map_or("unknown", kind_code);
                let topic = ThlTopic::try_from(question.topic)
                    .ok()
                    .filter(|t| *t != ThlTopic::Unspecified)
                    .map(|t| {
                        t.as_str_name()
                            .trim_start_matches("THL_TOPIC_")
                            .to_lowercase()
                    })
                    .unwrap_or_default();
                sqlx::query(
                    "insert into survey_question (survey_id, version, position, question_key, kind, topic, required, scale_points)
                     values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict do nothing",
                )
                .bind(survey_id)
                .bind(version)
                .bind(i32::try_from(position).unwrap_or(i32::MAX))
                .bind(&question.key)
                .bind(kind)
                .bind(topic)
                .bind(question.required)
                .bind(question.kind.as_ref().map_or(0, scale_points))
                .execute(&mut *conn)
                .await?;
            }
        }
        Some(survey_event::Kind::PeriodScheduled(_))
        | Some(survey_event::Kind::PeriodClosed(_)) => {}
        Some(survey_event::Kind::Archived(_)) => {
            sqlx::query(
                "update survey set status = 'archived', last_sequence = $2 where survey_id = $1",
            )
            .bind(survey_id)
            .bind(seq)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(Ok(()))
}

/// An event decoded outside the batch's transaction (while the previous batch is being
/// written). Survey-stream events are few and decoded inside it.
// Nearly every event is a submission: boxing it would only add an allocation per event.
#[allow(clippy::large_enum_variant)]
pub enum Prepared {
    /// A submitted response, ready for the batch's facts.
    Submitted(PendingResponse),
    /// Applied in order inside the transaction: it must see the batch's earlier rows. Carries
    /// what remains of the response, for when its submitted event was erased before this
    /// projection saw it (a rebuild, or a projection that was behind).
    Redacted {
        redacted: ResponseRedacted,
        remaining: Option<PendingResponse>,
    },
    /// Goes to the dead-letter table.
    Rejected(Rejected),
    /// A survey-stream event, decoded and applied inside the transaction.
    InTransaction,
}

/// Decodes a response-stream event and, for a submission, tags and shapes it; touches nothing.
pub fn prepare_response_event(
    dictionary: &FeedbackDictionary,
    payload: &[u8],
    sequence: u64,
) -> Prepared {
    let event = match ResponseEvent::decode(payload) {
        Ok(event) => event,
        Err(e) => return Prepared::Rejected(Rejected::Undecodable(e.to_string())),
    };
    let Ok(survey_id) = Uuid::parse_str(&event.survey_id) else {
        return Prepared::Rejected(Rejected::Inconsistent(format!(
            "survey_id {:?} is not a UUID",
            event.survey_id
        )));
    };
    let received_at = event.occurred_at.as_ref().and_then(from_timestamp);
    match event.kind {
        None => Prepared::Rejected(Rejected::Undecodable("event has no kind".into())),
        Some(response_event::Kind::Submitted(submitted)) => {
            match submitted_response(dictionary, survey_id, submitted, received_at, sequence) {
                Ok(response) => Prepared::Submitted(response),
                Err(rejected) => Prepared::Rejected(rejected),
            }
        }
        Some(response_event::Kind::Redacted(mut redacted)) => {
            // Remains that do not validate are not counted, but the texts still go.
            let remaining = redacted.remaining.take().and_then(|remaining| {
                submitted_response(dictionary, survey_id, remaining, received_at, sequence)
                    .map_err(|rejected| {
                        tracing::error!(sequence, %rejected, "redaction's remains not counted");
                    })
                    .ok()
            });
            Prepared::Redacted {
                redacted,
                remaining,
            }
        }
    }
}

/// Applies a redaction after writing the batch's earlier submissions, whose texts it may touch:
/// a response the read model has loses its erased texts; one it never saw (its submitted event
/// was erased first) is counted from what remains of it. The texts and any dead-lettered copy
/// of the erased event also go from `other_schemas` (a kept retired schema, a rebuild's), which
/// no one else would erase them from (ADR 0019).
pub async fn redaction(
    tx: &mut Transaction<'_, Postgres>,
    facts: &mut Facts,
    rollups: &mut Rollups,
    redacted: ResponseRedacted,
    remaining: Option<PendingResponse>,
    other_schemas: &[String],
) -> Applied {
    facts.flush(tx, rollups).await?;
    // A dead-lettered copy of the erased event would keep the text in its payload. First, so
    // that even a redaction this build cannot apply still removes it.
    if redacted.sequence > 0 {
        for schema in std::iter::once("").chain(other_schemas.iter().map(String::as_str)) {
            sqlx::query(AssertSqlSafe(format!(
                "delete from {}dead_letter where stream = $1 and sequence = $2",
                qualifier(schema)
            )))
            .bind(kaiku_eventstore::RESPONSES_STREAM)
            .bind(to_i64(redacted.sequence))
            .execute(&mut **tx)
            .await?;
        }
    }
    let Ok(submission_id) = Uuid::parse_str(&redacted.submission_id) else {
        return Ok(Err(Rejected::Inconsistent(format!(
            "submission_id {:?} is not a UUID",
            redacted.submission_id
        ))));
    };
    // Another schema may hold the response even when this one never saw it.
    for schema in other_schemas {
        erase_texts(tx, schema, submission_id, &redacted.question_keys).await?;
    }
    let known: bool =
        sqlx::query_scalar("select exists (select 1 from response where submission_id = $1)")
            .bind(submission_id)
            .fetch_one(&mut **tx)
            .await?;
    match remaining {
        Some(remaining) if !known => {
            crate::facts::count(rollups, &remaining, 1);
            facts.add(remaining, rollups);
        }
        _ => erase_texts(tx, "", submission_id, &redacted.question_keys).await?,
    }
    Ok(Ok(()))
}

/// `schema.` for another schema's tables ("" for the connection's own). Schema names come from
/// `schemas::others`, which passes only the rebuild's own digit-stamped names.
fn qualifier(schema: &str) -> String {
    if schema.is_empty() {
        String::new()
    } else {
        format!("{schema}.")
    }
}

async fn erase_texts(
    tx: &mut Transaction<'_, Postgres>,
    schema: &str,
    submission_id: Uuid,
    question_keys: &[String],
) -> Result<(), ProjectionError> {
    sqlx::query(AssertSqlSafe(format!(
        "delete from {}feedback_text where submission_id = $1 and question_key = any($2)",
        qualifier(schema)
    )))
    .bind(submission_id)
    .bind(question_keys)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Turns a submitted response into facts for the batch; nothing is written yet.
fn submitted_response(
    dictionary: &FeedbackDictionary,
    survey_id: Uuid,
    submitted: ResponseSubmitted,
    received_at: Option<DateTime<Utc>>,
    sequence: u64,
) -> Result<PendingResponse, Rejected> {
    let Ok(submission_id) = Uuid::parse_str(&submitted.submission_id) else {
        return Err(Rejected::Inconsistent(format!(
            "submission_id {:?} is not a UUID",
            submitted.submission_id
        )));
    };
    let Some(answered_at) = submitted.answered_at.as_ref().and_then(from_timestamp) else {
        return Err(Rejected::Inconsistent(
            "answered_at is missing or invalid".into(),
        ));
    };
    let context = submitted.context.unwrap_or_default();
    let language = language_code_of(context.language);
    let mut response = PendingResponse {
        submission_id,
        sequence: to_i64(sequence),
        survey_version: i32::try_from(submitted.survey_version).unwrap_or(i32::MAX),
        dimensions: Dimensions {
            survey_id,
            unit_id: context.unit_id.clone(),
            day: helsinki_date(answered_at),
            period_id: submitted.period_id.clone(),
            channel: channel_code_of(context.channel),
            respondent_role: role_code_of(context.respondent_role),
            professional_group: context.professional_group.clone(),
            age_band: context.age_band.clone(),
            language,
        },
        answered_at,
        received_at: received_at.unwrap_or(answered_at),
        scores: vec![],
        choices: vec![],
        texts: vec![],
    };
    for answer in submitted.answers {
        let key = answer.question_key;
        let score = |kind, score: Option<u32>| Score {
            question_key: key.clone(),
            kind,
            score: score.map(score_i16),
        };
        match answer.value {
            None => {}
            Some(Value::Nps(nps)) => {
                if bucket(nps.score).is_none() {
                    return Err(Rejected::Inconsistent(format!(
                        "NPS score {} out of range",
                        nps.score
                    )));
                }
                response.scores.push(score("nps", Some(nps.score)));
            }
            Some(Value::Statement(statement)) => {
                let value = (!statement.dont_know).then_some(statement.score);
                response.scores.push(score("statement", value));
            }
            Some(Value::Smiley(smiley)) => {
                response.scores.push(score("smiley", Some(smiley.face)));
            }
            Some(Value::Choice(choice)) => {
                for option in choice.option_keys {
                    response.choices.push((key.clone(), option));
                }
            }
            Some(Value::OpenText(text)) => {
                let (sentiment, themes) = dictionary.tag(&text.text, language);
                let attention = attention_codes(&text.text);
                response.texts.push(Text {
                    question_key: key,
                    body: text.text,
                    sentiment: sentiment.code(),
                    themes,
                    attention,
                });
            }
        }
    }
    Ok(response)
}

fn kind_code(kind: &Kind) -> &'static str {
    match kind {
        Kind::Nps(_) => "nps",
        Kind::Statement(_) => "statement",
        Kind::Smiley(_) => "smiley",
        Kind::Choice(_) => "choice",
        Kind::OpenText(_) => "open_text",
    }
}

/// The attention flags a text raises, as the codes `feedback_text.attention` stores.
pub fn attention_codes(text: &str) -> String {
    kaiku_domain::attention::attention_flags(text)
        .into_iter()
        .filter_map(kaiku_domain::attention::flag_code)
        .collect::<Vec<_>>()
        .join(",")
}

/// Points on a scored question's scale (analytics reports faces by it); 0 when unscored.
fn scale_points(kind: &Kind) -> i16 {
    match kind {
        Kind::Nps(_) => 11,
        Kind::Statement(_) => 5,
        Kind::Smiley(smiley) => i16::try_from(smiley.faces).unwrap_or(0),
        Kind::Choice(_) | Kind::OpenText(_) => 0,
    }
}

fn title(content: &SurveyContent, language: Language) -> String {
    content
        .titles
        .iter()
        .find(|t| t.language == language as i32)
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

/// Scores are 0-10 by validation; anything else is clamped rather than wrapped.
fn score_i16(score: u32) -> i16 {
    i16::try_from(score).unwrap_or(i16::MAX)
}

/// The unit tree, with each unit's path from the county down for subtree queries.
async fn unit_event(tx: &mut Transaction<'_, Postgres>, payload: &[u8]) -> Applied {
    let event = match UnitEvent::decode(payload) {
        Ok(event) => event,
        Err(e) => return Ok(Err(Rejected::Undecodable(e.to_string()))),
    };
    let conn: &mut PgConnection = tx;
    let unit_id = &event.unit_id;
    match event.kind {
        None => return Ok(Err(Rejected::Undecodable("event has no kind".into()))),
        Some(unit_event::Kind::Created(created)) => {
            let level = UnitLevel::try_from(created.level).unwrap_or(UnitLevel::Unspecified);
            sqlx::query(
                "insert into org_unit (unit_id, parent_unit_id, level, path)
                 values ($1, $2, $3,
                         coalesce((select path from org_unit where unit_id = $2), '{}') || $1)
                 on conflict (unit_id) do nothing",
            )
            .bind(unit_id)
            .bind(&created.parent_unit_id)
            .bind(level.as_str_name())
            .execute(&mut *conn)
            .await?;
        }
        Some(unit_event::Kind::Moved(moved)) => {
            // Every unit below (and the unit itself) keeps its path below the moved unit and
            // takes the new parent's path above it.
            sqlx::query(
                "update org_unit
                 set path = coalesce((select path from org_unit where unit_id = $2), '{}')
                            || path[array_position(path, $1):],
                     parent_unit_id = case when unit_id = $1 then $2 else parent_unit_id end
                 where $1 = any(path)",
            )
            .bind(unit_id)
            .bind(&moved.parent_unit_id)
            .execute(&mut *conn)
            .await?;
        }
        Some(unit_event::Kind::Closed(_)) => {
            sqlx::query("update org_unit set closed = true where unit_id = $1")
                .bind(unit_id)
                .execute(&mut *conn)
                .await?;
        }
        Some(unit_event::Kind::Renamed(_)) => {}
    }
    Ok(Ok(()))
}

/// Stream sequences fit in i64 for any stream a county will ever write (9.2e18 events).
pub fn to_i64(sequence: u64) -> i64 {
    i64::try_from(sequence).unwrap_or(i64::MAX)
}
