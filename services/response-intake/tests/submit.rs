//! response-intake against a real nats-server, with survey-definition publishing the survey.

use clap::Parser;
use kaiku_domain::fixtures::{NPS_KEY, OPEN_KEY, fixture_units, nps_survey};
use kaiku_eventstore::{EventStore, RESPONSES_STREAM};
use kaiku_grpc::{AuthorizedChannel, Shutdown, authorized};
use kaiku_proto::events::v1::{ResponseEvent, response_event};
use kaiku_proto::intake::v1::response_intake_client::ResponseIntakeClient;
use kaiku_proto::intake::v1::{
    Answer, AttentionFlag, NpsAnswer, OpenTextAnswer, ResponseContext, SubmitResponseRequest,
    answer::Value, submit_responses_item::Outcome,
};
use kaiku_proto::survey::v1::survey_definition_client::SurveyDefinitionClient;
use kaiku_proto::survey::v1::{
    Channel as ChannelKind, CollectionPeriod, CreateSurveyRequest, CreateUnitRequest, Language,
    LocalDate, PublishVersionRequest, RespondentRole, ScheduledCollection, SurveyContent,
    UnitLevel, survey_content::Collection,
};
use kaiku_test_support::{NatsServer, TestCredentials};
use prost::Message;
use tonic::Code;
use tonic::transport::Channel;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

struct TestApp {
    intake: ResponseIntakeClient<AuthorizedChannel>,
    surveys: SurveyDefinitionClient<AuthorizedChannel>,
    _credentials: TestCredentials,
    store: EventStore,
    _nats: NatsServer,
    shutdown: Shutdown,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

async fn spawn_app() -> TestResult<TestApp> {
    let nats = NatsServer::start().await?;
    let shutdown = Shutdown::new();
    let credentials = TestCredentials::new()?;
    let keys = credentials.api_keys_file().display().to_string();
    let args = |name: &str| {
        [
            name.to_owned(),
            "--listen-addr".into(),
            "127.0.0.1:0".into(),
            "--nats-url".into(),
            nats.url(),
            "--auth-api-keys".into(),
            keys.clone(),
        ]
    };
    let token = credentials.admin_token.clone();

    let surveys_app = survey_definition::Application::build(
        &survey_definition::Config::try_parse_from(args("survey-definition"))?,
    )
    .await?;
    let surveys_addr = surveys_app.local_addr().ok_or("no address")?;
    tokio::spawn(surveys_app.run(shutdown.clone()));

    let intake_app = response_intake::Application::build(&response_intake::Config::try_parse_from(
        args("response-intake"),
    )?)
    .await?;
    let intake_addr = intake_app.local_addr().ok_or("no address")?;
    tokio::spawn(intake_app.run(shutdown.clone()));

    Ok(TestApp {
        intake: ResponseIntakeClient::new(authorized(
            Channel::from_shared(format!("http://{intake_addr}"))?
                .connect()
                .await?,
            &token,
        )),
        surveys: SurveyDefinitionClient::new(authorized(
            Channel::from_shared(format!("http://{surveys_addr}"))?
                .connect()
                .await?,
            &token,
        )),
        _credentials: credentials,
        store: EventStore::connect(&nats.url(), "test").await?,
        _nats: nats,
        shutdown,
    })
}

impl TestApp {
    /// Creates and publishes the NPS fixture survey; returns its id.
    async fn published_survey(&mut self) -> TestResult<String> {
        self.publish(nps_survey(&["unit-1"])).await
    }

    async fn publish(&mut self, content: SurveyContent) -> TestResult<String> {
        for unit in fixture_units(&["unit-1"]) {
            self.surveys.create_unit(unit).await?;
        }
        let created = self
            .surveys
            .create_survey(CreateSurveyRequest {
                survey_id: String::new(),
                draft: Some(content),
            })
            .await?
            .into_inner()
            .survey
            .ok_or("survey")?;
        self.surveys
            .publish_version(PublishVersionRequest {
                survey_id: created.survey_id.clone(),
                expected_revision: created.revision,
            })
            .await?;
        Ok(created.survey_id)
    }

    async fn responses_stored(&self) -> TestResult<u64> {
        Ok(self.store.last_sequence(RESPONSES_STREAM).await?)
    }
}

fn nps(score: u32) -> Answer {
    Answer {
        question_key: NPS_KEY.into(),
        value: Some(Value::Nps(NpsAnswer { score })),
    }
}

fn submission(survey_id: &str, answers: Vec<Answer>) -> SubmitResponseRequest {
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

fn violated_fields(status: &tonic::Status) -> Vec<String> {
    kaiku_grpc::bad_request_fields(status)
        .into_iter()
        .map(|(f, _)| f)
        .collect()
}

#[tokio::test]
async fn an_answer_right_after_publishing_is_accepted_and_durable() -> TestResult {
    let mut app = spawn_app().await?;
    let survey_id = app.published_survey().await?;
    let reply = app
        .intake
        .submit_response(submission(&survey_id, vec![nps(9)]))
        .await?
        .into_inner();
    assert!(!reply.duplicate);
    assert_eq!(reply.sequence, app.responses_stored().await?);
    Ok(())
}

#[tokio::test]
async fn the_same_submission_id_twice_is_stored_once() -> TestResult {
    let mut app = spawn_app().await?;
    let survey_id = app.published_survey().await?;
    let request = submission(&survey_id, vec![nps(9)]);
    let first = app
        .intake
        .submit_response(request.clone())
        .await?
        .into_inner();
    let second = app.intake.submit_response(request).await?.into_inner();
    assert!(!first.duplicate);
    assert!(second.duplicate);
    assert_eq!(first.sequence, second.sequence);
    assert_eq!(app.responses_stored().await?, 1);
    Ok(())
}

#[tokio::test]
async fn a_reused_submission_id_with_other_answers_is_refused() -> TestResult {
    let mut app = spawn_app().await?;
    let survey_id = app.published_survey().await?;
    let request = submission(&survey_id, vec![nps(9)]);
    app.intake.submit_response(request.clone()).await?;
    let changed = SubmitResponseRequest {
        answers: vec![nps(1)],
        ..request
    };
    let status = app
        .intake
        .submit_response(changed)
        .await
        .expect_err("conflicting retry");
    assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
    assert_eq!(app.responses_stored().await?, 1);
    Ok(())
}

#[tokio::test]
async fn an_nps_of_eleven_is_invalid_naming_the_field_and_nothing_is_appended() -> TestResult {
    let mut app = spawn_app().await?;
    let survey_id = app.published_survey().await?;
    let status = app
        .intake
        .submit_response(submission(&survey_id, vec![nps(11)]))
        .await
        .expect_err("invalid");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["answers[0].nps.score"]);
    assert_eq!(app.responses_stored().await?, 0);
    Ok(())
}

#[tokio::test]
async fn an_unknown_question_is_invalid_naming_the_field_and_nothing_is_appended() -> TestResult {
    let mut app = spawn_app().await?;
    let survey_id = app.published_survey().await?;
    let unknown = Answer {
        question_key: "favourite_colour".into(),
        value: Some(Value::Nps(NpsAnswer { score: 3 })),
    };
    let status = app
        .intake
        .submit_response(submission(&survey_id, vec![nps(5), unknown]))
        .await
        .expect_err("invalid");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["answers[1].question_key"]);
    assert_eq!(app.responses_stored().await?, 0);
    Ok(())
}

#[tokio::test]
async fn a_wrong_survey_version_is_invalid_naming_the_field_and_nothing_is_appended() -> TestResult
{
    let mut app = spawn_app().await?;
    let survey_id = app.published_survey().await?;
    let request = SubmitResponseRequest {
        survey_version: 2,
        ..submission(&survey_id, vec![nps(5)])
    };
    let status = app
        .intake
        .submit_response(request)
        .await
        .expect_err("invalid");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["survey_version"]);
    assert_eq!(app.responses_stored().await?, 0);
    Ok(())
}

#[tokio::test]
async fn an_unknown_survey_is_invalid_naming_the_field() -> TestResult {
    let mut app = spawn_app().await?;
    app.published_survey().await?;
    let request = submission(&uuid::Uuid::new_v4().to_string(), vec![nps(5)]);
    let status = app
        .intake
        .submit_response(request)
        .await
        .expect_err("invalid");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["survey_id"]);
    assert_eq!(app.responses_stored().await?, 0);
    Ok(())
}

#[tokio::test]
async fn a_survey_with_no_published_version_takes_no_answers() -> TestResult {
    let mut app = spawn_app().await?;
    let created = app
        .surveys
        .create_survey(CreateSurveyRequest {
            survey_id: String::new(),
            draft: Some(nps_survey(&["unit-1"])),
        })
        .await?
        .into_inner()
        .survey
        .ok_or("survey")?;
    let status = app
        .intake
        .submit_response(submission(&created.survey_id, vec![nps(5)]))
        .await
        .expect_err("unpublished");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert_eq!(app.responses_stored().await?, 0);
    Ok(())
}

#[tokio::test]
async fn an_answer_outside_the_collection_period_is_refused_and_not_stored() -> TestResult {
    let mut app = spawn_app().await?;
    let mut content = nps_survey(&["unit-1"]);
    let date = |day| LocalDate {
        year: 2026,
        month: 5,
        day,
    };
    content.collection = Some(Collection::Scheduled(ScheduledCollection {
        periods: vec![CollectionPeriod {
            period_id: "may".into(),
            starts_on: Some(date(6)),
            ends_on: Some(date(26)),
        }],
    }));
    let survey_id = app.publish(content).await?;
    // A paper form filled in on 27 May at 00:30 Helsinki time (21:30 UTC on the 26th).
    let mut late = submission(&survey_id, vec![nps(7)]);
    late.answered_at = Some(prost_types::Timestamp {
        seconds: 1_779_831_000, // 2026-05-26T21:30:00Z
        nanos: 0,
    });
    let status = app
        .intake
        .submit_response(late)
        .await
        .expect_err("after the period");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(
        status.message().contains("2026-05-27"),
        "{}",
        status.message()
    );
    assert_eq!(app.responses_stored().await?, 0);

    // The same form dated one hour earlier, still 26 May in Helsinki, belongs to the period.
    let mut in_time = submission(&survey_id, vec![nps(7)]);
    in_time.answered_at = Some(prost_types::Timestamp {
        seconds: 1_779_827_400, // 2026-05-26T20:30:00Z
        nanos: 0,
    });
    let reply = app.intake.submit_response(in_time).await?.into_inner();
    let stored = app.store.get(RESPONSES_STREAM, reply.sequence).await?;
    let Some(response_event::Kind::Submitted(submitted)) =
        ResponseEvent::decode(stored.payload.as_ref())?.kind
    else {
        return Err("not a ResponseSubmitted".into());
    };
    assert_eq!(submitted.period_id, "may");
    Ok(())
}

#[tokio::test]
async fn a_survey_on_a_service_area_takes_answers_for_its_units_even_new_ones() -> TestResult {
    let mut app = spawn_app().await?;
    let unit = |id: &str, parent: &str, level: UnitLevel| CreateUnitRequest {
        unit_id: id.into(),
        parent_unit_id: parent.into(),
        level: level as i32,
        names: kaiku_domain::fixtures::texts(id, id, id),
    };
    for request in [
        unit("county", "", UnitLevel::County),
        unit("area", "county", UnitLevel::ServiceArea),
        unit("school-a", "area", UnitLevel::Unit),
        unit("elsewhere", "county", UnitLevel::Unit),
    ] {
        app.surveys.create_unit(request).await?;
    }
    let survey_id = app.publish(nps_survey(&["area"])).await?;
    let at = |unit_id: &str| {
        let mut request = submission(&survey_id, vec![nps(8)]);
        if let Some(context) = request.context.as_mut() {
            context.unit_id = unit_id.into();
        }
        request
    };
    app.intake.submit_response(at("school-a")).await?;
    // Created after publishing, answered at once: intake catches up before judging the unit.
    app.surveys
        .create_unit(unit("school-new", "area", UnitLevel::Unit))
        .await?;
    app.intake.submit_response(at("school-new")).await?;
    let before = app.responses_stored().await?;
    let outside = app
        .intake
        .submit_response(at("elsewhere"))
        .await
        .expect_err("not under the area");
    assert_eq!(violated_fields(&outside), vec!["context.unit_id"]);
    assert_eq!(app.responses_stored().await?, before);
    Ok(())
}

#[tokio::test]
async fn no_personal_data_in_open_text_reaches_the_stream() -> TestResult {
    let mut app = spawn_app().await?;
    let survey_id = app.published_survey().await?;
    // Real valid codes in every century form, one with a wrong check character, phone numbers
    // as Finns write them, and e-mail addresses.
    let personal_data = [
        "131052-308T",
        "010594Y9032",
        "020594X903P",
        "030516D9037",
        "020504B904H",
        "131052-308U",
        "040 123 4567",
        "+358 50 1234567",
        "(09) 310 1691",
        "0401234567",
        "maija.meikalainen@example.fi",
        "kalle+palaute@koulu.example.com",
    ];
    for item in personal_data {
        let text = Answer {
            question_key: OPEN_KEY.into(),
            value: Some(Value::OpenText(OpenTextAnswer {
                text: format!("Ottakaa yhteyttä: {item}, kiitos."),
            })),
        };
        let reply = app
            .intake
            .submit_response(submission(&survey_id, vec![nps(8), text]))
            .await?
            .into_inner();
        assert_eq!(reply.redactions, 1, "{item}");
        let stored = app.store.get(RESPONSES_STREAM, reply.sequence).await?;
        // Protobuf stores strings as plain UTF-8, so a match in the raw bytes would be a leak.
        let payload = String::from_utf8_lossy(&stored.payload);
        assert!(
            !payload.contains(item),
            "{item} reached the stream: {payload}"
        );
        // Nor the tail of a number written another way.
        let digits: String = item.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= 6 {
            assert!(!payload.contains(&digits[digits.len() - 6..]), "{item}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn person_names_in_open_text_never_reach_the_stream() -> TestResult {
    let mut app = spawn_app().await?;
    let survey_id = app.published_survey().await?;
    let text = Answer {
        question_key: OPEN_KEY.into(),
        value: Some(Value::OpenText(OpenTextAnswer {
            text: "Kiitos kuraattori Liisa Virtaselle ja Matille! Onni oli, että pääsin.".into(),
        })),
    };
    let reply = app
        .intake
        .submit_response(submission(&survey_id, vec![nps(9), text]))
        .await?
        .into_inner();
    // "Liisa Virtaselle" is one name, "Matille" another; the luck ("Onni oli") stays.
    assert_eq!(reply.redactions, 2);
    let stored = app.store.get(RESPONSES_STREAM, reply.sequence).await?;
    let payload = String::from_utf8_lossy(&stored.payload);
    for name in ["Liisa", "Virtaselle", "Matille"] {
        assert!(
            !payload.contains(name),
            "{name} reached the stream: {payload}"
        );
    }
    assert!(
        payload.contains("Kiitos kuraattori [nimi] ja [nimi]! Onni oli, että pääsin."),
        "{payload}"
    );
    Ok(())
}

#[tokio::test]
async fn text_needing_another_route_is_flagged_in_the_reply_and_the_event() -> TestResult {
    let mut app = spawn_app().await?;
    let survey_id = app.published_survey().await?;
    let text = Answer {
        question_key: OPEN_KEY.into(),
        value: Some(Value::OpenText(OpenTextAnswer {
            text: "Haluan tehdä muistutuksen. Isä lyö minua.".into(),
        })),
    };
    let reply = app
        .intake
        .submit_response(submission(&survey_id, vec![nps(2), text]))
        .await?
        .into_inner();
    let expected = vec![
        AttentionFlag::FormalObjection as i32,
        AttentionFlag::ChildProtectionConcern as i32,
    ];
    assert_eq!(reply.attention_flags, expected);
    let stored = app.store.get(RESPONSES_STREAM, reply.sequence).await?;
    let event = ResponseEvent::decode(stored.payload.as_ref())?;
    let Some(response_event::Kind::Submitted(submitted)) = event.kind else {
        return Err("not a ResponseSubmitted".into());
    };
    assert_eq!(submitted.attention_flags, expected);
    Ok(())
}

#[tokio::test]
async fn a_batch_stream_replies_to_each_submission_and_continues_past_a_rejection() -> TestResult {
    let mut app = spawn_app().await?;
    let survey_id = app.published_survey().await?;
    let batch = vec![
        submission(&survey_id, vec![nps(10)]),
        submission(&survey_id, vec![nps(42)]),
        submission(&survey_id, vec![nps(0)]),
    ];
    let mut replies = app
        .intake
        .submit_responses(tokio_stream::iter(batch))
        .await?
        .into_inner();
    let mut outcomes = Vec::new();
    while let Some(item) = replies.message().await? {
        outcomes.push(item.outcome.ok_or("outcome")?);
    }
    assert_eq!(outcomes.len(), 3);
    assert!(matches!(outcomes[0], Outcome::Accepted(_)));
    match &outcomes[1] {
        Outcome::Rejected(rejected) => {
            assert_eq!(rejected.code, Code::InvalidArgument as i32);
            assert_eq!(rejected.field_errors[0].field, "answers[0].nps.score");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert!(matches!(outcomes[2], Outcome::Accepted(_)));
    assert_eq!(app.responses_stored().await?, 2);
    Ok(())
}
