//! A realistic data set for development and benchmarks, loaded through the real services: a
//! county with service areas and units, the THL national form (continuous) and the
//! student-welfare survey (two three-week periods a year for the last two years), and any
//! number of responses in time order with plausible distributions and Finnish and Swedish open
//! feedback.
//! Everything goes through survey-definition and intake, so every answer is validated, redacted
//! and tagged exactly as a real one. Deterministic for a given --seed.

use std::collections::HashMap;
use std::time::Instant;

use chrono::{Datelike, Duration as Days, NaiveDate, TimeZone, Utc};
use kaiku_domain::fixtures::SplitMix64;
use kaiku_domain::time::{helsinki_date, local_date, to_timestamp};
use kaiku_grpc::AuthorizedChannel as GrpcChannel;
use kaiku_proto::intake::v1::response_intake_client::ResponseIntakeClient;
use kaiku_proto::intake::v1::submit_responses_item::Outcome;
use kaiku_proto::intake::v1::{
    Answer, ChoiceAnswer, NpsAnswer, OpenTextAnswer, ResponseContext, SmileyAnswer,
    StatementAnswer, SubmitResponseRequest, answer::Value,
};
use kaiku_proto::survey::v1::survey_definition_client::SurveyDefinitionClient;
use kaiku_proto::survey::v1::{
    Channel, CollectionPeriod, CreateSurveyRequest, CreateUnitRequest, GetFormRequest,
    GetFormResponse, Language, ListTemplatesRequest, LocalizedText, PublishVersionRequest,
    RespondentRole, ScheduledCollection, SurveyContent, UnitLevel, question::Kind,
    survey_content::Collection,
};

use crate::commands::{CliError, connect};

/// Open feedback to draw from: the labelled evaluation sentences (fi, sv).
const PHRASES: &str = include_str!("../../../crates/kaiku-domain/testdata/feedback_labelled.tsv");

const AREAS: usize = 4;
const BATCH: usize = 500;

pub struct DatasetArgs {
    pub responses: u64,
    pub units_per_area: usize,
    pub seed: u64,
    /// Concurrent submit streams.
    pub streams: usize,
}

type Rng = SplitMix64;

fn names(fi: &str, sv: &str, en: &str) -> Vec<LocalizedText> {
    [(Language::Fi, fi), (Language::Sv, sv), (Language::En, en)]
        .into_iter()
        .map(|(language, text)| LocalizedText {
            language: language as i32,
            text: text.to_owned(),
        })
        .collect()
}

struct Survey {
    id: String,
    units: Vec<String>,
    periods: Vec<(NaiveDate, NaiveDate)>,
    student_welfare: bool,
}

pub async fn load(survey_addr: &str, intake_addr: &str, args: DatasetArgs) -> Result<(), CliError> {
    let mut surveys = SurveyDefinitionClient::new(connect(survey_addr).await?);
    let intake = ResponseIntakeClient::new(connect(intake_addr).await?);
    let started = Instant::now();

    // Units: ds-county > ds-area-1..4 > ds-unit-<area>-<n>
    let unit = |id: String, parent: &str, level: UnitLevel| CreateUnitRequest {
        names: names(&id, &id, &id),
        unit_id: id,
        parent_unit_id: parent.to_owned(),
        level: level as i32,
    };
    surveys
        .create_unit(unit("ds-county".into(), "", UnitLevel::County))
        .await?;
    let mut units_by_area = Vec::new();
    for area in 1..=AREAS {
        let area_id = format!("ds-area-{area}");
        surveys
            .create_unit(unit(area_id.clone(), "ds-county", UnitLevel::ServiceArea))
            .await?;
        let mut units = Vec::new();
        for n in 1..=args.units_per_area {
            let id = format!("ds-unit-{area}-{n}");
            surveys
                .create_unit(unit(id.clone(), &area_id, UnitLevel::Unit))
                .await?;
            units.push(id);
        }
        units_by_area.push((area_id, units));
    }

    let templates = surveys
        .list_templates(ListTemplatesRequest {})
        .await?
        .into_inner()
        .templates;
    let template = |key: &str| {
        templates
            .iter()
            .find(|t| t.key == key)
            .and_then(|t| t.content.clone())
            .ok_or_else(|| CliError::Usage(format!("survey-definition has no template {key}")))
    };
    let today = helsinki_date(Utc::now());
    let periods = past_periods(today);
    let welfare_areas = &units_by_area[..AREAS / 2];
    let thl_areas = &units_by_area[AREAS / 2..];
    let mut welfare = template("student-welfare")?;
    welfare.unit_ids = welfare_areas.iter().map(|(id, _)| id.clone()).collect();
    welfare.collection = Some(Collection::Scheduled(ScheduledCollection {
        periods: periods
            .iter()
            .map(|(starts, ends)| CollectionPeriod {
                period_id: format!("p_{}_{:02}", starts.year(), starts.month()),
                starts_on: Some(local_date(*starts)),
                ends_on: Some(local_date(*ends)),
            })
            .collect(),
    }));
    let mut thl = template("thl-national")?;
    thl.unit_ids = thl_areas.iter().map(|(id, _)| id.clone()).collect();
    let two_years = vec![(today - Days::days(730), today - Days::days(1))];
    let all = [
        Survey {
            id: publish(&mut surveys, thl).await?,
            units: thl_areas.iter().flat_map(|(_, u)| u.clone()).collect(),
            periods: two_years,
            student_welfare: false,
        },
        Survey {
            id: publish(&mut surveys, welfare).await?,
            units: welfare_areas.iter().flat_map(|(_, u)| u.clone()).collect(),
            periods,
            student_welfare: true,
        },
    ];
    for survey in &all {
        println!("survey_id={}", survey.id);
    }

    let phrases: Vec<(&str, &str)> = PHRASES
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let columns: Vec<&str> = l.split('\t').collect();
            (columns.len() == 4).then(|| (columns[0], columns[3]))
        })
        .collect();
    let mut rng = Rng::new(args.seed);
    let mut forms: HashMap<String, GetFormResponse> = HashMap::new();
    // Submitters: one stream each, fed batches round-robin.
    let streams = args.streams.max(1);
    let mut senders = Vec::with_capacity(streams);
    let mut workers = Vec::with_capacity(streams);
    for _ in 0..streams {
        let (sender, receiver) = tokio::sync::mpsc::channel::<Vec<SubmitResponseRequest>>(2);
        senders.push(sender);
        workers.push(tokio::spawn(submit_batches(intake.clone(), receiver)));
    }
    // Responses arrive in time order, as they do in a real stream: response i of n is given
    // on day i/n of the two years. A day inside a student-welfare period brings mostly its
    // answers; the THL form takes answers every day.
    let first_day = today - Days::days(730);
    let mut sent = 0u64;
    let mut next_worker = 0usize;
    while sent < args.responses {
        let mut batch = Vec::with_capacity(BATCH);
        while batch.len() < BATCH && sent < args.responses {
            let offset =
                i64::try_from(sent.saturating_mul(730) / args.responses.max(1)).unwrap_or(0);
            let day = first_day + Days::days(offset);
            let in_period = all[1].periods.iter().any(|(s, e)| *s <= day && day <= *e);
            let survey = &all[usize::from(in_period && rng.chance(70))];
            let context = context(&mut rng, survey);
            // The questions depend on role, group, age band and language only.
            let key = format!(
                "{}|{}|{}|{}|{}",
                survey.id,
                context.respondent_role,
                context.professional_group,
                context.age_band,
                context.language
            );
            if !forms.contains_key(&key) {
                let form = surveys
                    .get_form(GetFormRequest {
                        survey_id: survey.id.clone(),
                        survey_version: 1,
                        context: Some(context.clone()),
                    })
                    .await?
                    .into_inner();
                forms.insert(key.clone(), form);
            }
            let Some(form) = forms.get(&key) else {
                continue;
            };
            let at = Utc.from_utc_datetime(
                &day.and_hms_opt(6 + rng.below(10) as u32, rng.below(60) as u32, 0)
                    .unwrap_or_default(),
            );
            batch.push(SubmitResponseRequest {
                submission_id: uuid::Uuid::new_v4().to_string(),
                survey_id: survey.id.clone(),
                survey_version: 1,
                answers: answers(&mut rng, form, &context, &phrases),
                context: Some(context),
                answered_at: Some(to_timestamp(at)),
            });
            sent += 1;
        }
        if senders[next_worker].send(batch).await.is_err() {
            break; // that submitter failed: its error is reported below
        }
        next_worker = (next_worker + 1) % streams;
        if sent % 100_000 < BATCH as u64 {
            eprintln!("{sent} responses generated");
        }
    }
    drop(senders);
    let mut last = 0u64;
    for worker in workers {
        let sequence = worker
            .await
            .map_err(|e| CliError::Usage(format!("a submitter panicked: {e}")))??;
        last = last.max(sequence);
    }
    let seconds = started.elapsed().as_secs_f64();
    println!("responses={sent}");
    println!("sequence={last}");
    println!("seconds={seconds:.1}");
    Ok(())
}

/// Submits each batch as one stream and checks that every response was accepted; returns the
/// highest sequence acknowledged.
async fn submit_batches(
    mut intake: ResponseIntakeClient<GrpcChannel>,
    mut batches: tokio::sync::mpsc::Receiver<Vec<SubmitResponseRequest>>,
) -> Result<u64, CliError> {
    let mut last = 0u64;
    while let Some(batch) = batches.recv().await {
        let mut replies = intake
            .submit_responses(tokio_stream::iter(batch))
            .await?
            .into_inner();
        while let Some(item) = replies.message().await? {
            match item.outcome {
                Some(Outcome::Accepted(reply)) => last = last.max(reply.sequence),
                other => {
                    return Err(CliError::Usage(format!(
                        "generated response {} was refused: {other:?}",
                        item.submission_id
                    )));
                }
            }
        }
    }
    Ok(last)
}

/// Two three-week periods a year (March and November), the last four that have ended.
fn past_periods(today: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
    let mut periods = Vec::new();
    for year in (today.year() - 3)..=today.year() {
        for month in [3, 11] {
            if let Some(starts) = NaiveDate::from_ymd_opt(year, month, 2) {
                let ends = starts + Days::days(20);
                if ends < today {
                    periods.push((starts, ends));
                }
            }
        }
    }
    let keep = periods.len().saturating_sub(4);
    periods.split_off(keep)
}

fn context(rng: &mut Rng, survey: &Survey) -> ResponseContext {
    let unit = survey.units[rng.below(survey.units.len())].clone();
    let guardian = rng.chance(20);
    let (group, age_band) = if survey.student_welfare {
        let group = if rng.chance(60) {
            "kuraattori"
        } else {
            "psykologi"
        };
        let age = if guardian {
            "adult"
        } else if rng.chance(35) {
            "age_7_12"
        } else {
            "age_13_17"
        };
        (group, age)
    } else {
        ("", "")
    };
    let channels: &[Channel] = if survey.student_welfare {
        &[
            Channel::Paper,
            Channel::Qr,
            Channel::Kiosk,
            Channel::WebLink,
        ]
    } else {
        &[
            Channel::Sms,
            Channel::Sms,
            Channel::Qr,
            Channel::Kiosk,
            Channel::WebLink,
            Channel::Paper,
        ]
    };
    let language = match rng.below(100) {
        0..=79 => Language::Fi,
        80..=94 => Language::Sv,
        _ => Language::En,
    };
    ResponseContext {
        unit_id: unit,
        channel: channels[rng.below(channels.len())] as i32,
        respondent_role: if guardian {
            RespondentRole::Guardian
        } else {
            RespondentRole::Client
        } as i32,
        professional_group: group.to_owned(),
        age_band: age_band.to_owned(),
        language: language as i32,
    }
}

/// Plausible answers: each unit has its own mood (units differ, as in real results), scores
/// scatter around it, about a third leave open feedback.
fn answers(
    rng: &mut Rng,
    form: &GetFormResponse,
    context: &ResponseContext,
    phrases: &[(&str, &str)],
) -> Vec<Answer> {
    let unit_mood = context
        .unit_id
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        % 4;
    let mut out = Vec::new();
    for item in &form.questions {
        let Some(question) = &item.question else {
            continue;
        };
        if !question.required && rng.chance(10) {
            continue;
        }
        let value = match &question.kind {
            Some(Kind::Nps(_)) => {
                // Finnish services average NPS around 60-70: most answers are 8-10.
                let base = 8 + unit_mood as usize;
                Value::Nps(NpsAnswer {
                    score: (base + rng.below(3))
                        .saturating_sub(rng.below(4) + rng.below(3))
                        .min(10) as u32,
                })
            }
            Some(Kind::Statement(s)) => {
                if s.allow_dont_know && rng.chance(6) {
                    Value::Statement(StatementAnswer {
                        score: 0,
                        dont_know: true,
                    })
                } else {
                    let score =
                        (3 + unit_mood as usize / 2 + rng.below(3)).saturating_sub(rng.below(3));
                    Value::Statement(StatementAnswer {
                        score: score.clamp(1, 5) as u32,
                        dont_know: false,
                    })
                }
            }
            Some(Kind::Smiley(s)) => Value::Smiley(SmileyAnswer {
                face: 1 + (rng.below(s.faces.max(1) as usize) as u32),
            }),
            Some(Kind::Choice(c)) => Value::Choice(ChoiceAnswer {
                option_keys: c
                    .options
                    .get(rng.below(c.options.len()))
                    .map(|o| vec![o.key.clone()])
                    .unwrap_or_default(),
            }),
            Some(Kind::OpenText(_)) => {
                if !rng.chance(30) {
                    continue;
                }
                let language = if context.language == Language::Sv as i32 {
                    "sv"
                } else {
                    "fi"
                };
                let pool: Vec<&str> = phrases
                    .iter()
                    .filter(|(l, _)| *l == language)
                    .map(|(_, text)| *text)
                    .collect();
                Value::OpenText(OpenTextAnswer {
                    text: pool
                        .get(rng.below(pool.len()))
                        .copied()
                        .unwrap_or_default()
                        .to_owned(),
                })
            }
            None => continue,
        };
        out.push(Answer {
            question_key: question.key.clone(),
            value: Some(value),
        });
    }
    out
}

async fn publish(
    client: &mut SurveyDefinitionClient<GrpcChannel>,
    content: SurveyContent,
) -> Result<String, CliError> {
    let created = client
        .create_survey(CreateSurveyRequest {
            survey_id: String::new(),
            draft: Some(content),
        })
        .await?
        .into_inner()
        .survey
        .unwrap_or_default();
    client
        .publish_version(PublishVersionRequest {
            survey_id: created.survey_id.clone(),
            expected_revision: created.revision,
        })
        .await?;
    Ok(created.survey_id)
}
