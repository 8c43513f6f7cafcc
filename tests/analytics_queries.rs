//! GetNps through the real stack: the date range filter, and every way a query is refused.

use std::time::Duration;

use kaiku_proto::analytics::v1::{
    Dimension, GetNpsRequest, GetResponseVolumeRequest, GetStatementSummaryRequest, Grouping,
    ResponseFilter,
};
use kaiku_proto::survey::v1::{LocalDate, RespondentRole};
use kaiku_system_tests::{Stack, TestResult, nps_answer};
use tonic::Code;

fn date(year: i32, month: i32, day: i32) -> Option<LocalDate> {
    Some(LocalDate { year, month, day })
}

fn between(from: Option<LocalDate>, to: Option<LocalDate>) -> Option<ResponseFilter> {
    Some(ResponseFilter {
        from_date: from,
        to_date: to,
        ..kaiku_system_tests::clients()
    })
}

fn fields(status: &tonic::Status) -> Vec<String> {
    kaiku_grpc::bad_request_fields(status)
        .into_iter()
        .map(|(field, _)| field)
        .collect()
}

#[tokio::test]
async fn a_date_range_counts_answers_by_their_helsinki_answer_date() -> TestResult {
    let stack = Stack::start().await?;
    let survey_id = stack.publish_nps_survey(&["unit-1"]).await?;
    // Paper forms filled in on 15 September and typed in later, and 5 answers given today.
    // 21:30 UTC on 14 September is 00:30 on 15 September in Helsinki (UTC+3 in summer).
    let september_15 = prost_types::Timestamp {
        seconds: 1_789_421_400, // 2026-09-14T21:30:00Z
        nanos: 0,
    };
    let mut answers = Vec::new();
    for score in [10, 10, 10, 9, 5, 0] {
        let mut answer = nps_answer(&survey_id, "unit-1", RespondentRole::Client, score);
        answer.answered_at = Some(september_15);
        answers.push(answer);
    }
    for score in [0, 0, 0, 0, 0] {
        answers.push(nps_answer(
            &survey_id,
            "unit-1",
            RespondentRole::Client,
            score,
        ));
    }
    let last = stack.submit_batch(answers).await?;

    let mut analytics = stack.analytics().await?;
    let query = |filter| GetNpsRequest {
        survey_id: survey_id.clone(),
        question_key: String::new(),
        filter,
        min_sequence: last,
        grouping: None,
    };
    let september = analytics
        .get_nps(query(between(date(2026, 9, 15), date(2026, 9, 15))))
        .await?
        .into_inner();
    let figure = september.figure.ok_or("figure missing")?;
    assert_eq!((figure.n, figure.promoters, figure.detractors), (6, 4, 2));
    assert_eq!(figure.nps, Some(33.3)); // (4 - 2) / 6, one decimal

    let before = analytics
        .get_nps(query(between(None, date(2026, 9, 14))))
        .await?
        .into_inner();
    let figure = before.figure.ok_or("an empty figure is not suppressed")?;
    assert_eq!((figure.n, figure.nps), (0, None));

    let everything = analytics
        .get_nps(query(Some(kaiku_system_tests::clients())))
        .await?
        .into_inner();
    assert_eq!(everything.figure.ok_or("figure missing")?.n, 11);
    Ok(())
}

#[tokio::test]
async fn refused_queries_say_what_is_wrong() -> TestResult {
    let stack = Stack::start().await?;
    let survey_id = stack.publish_nps_survey(&["unit-1"]).await?;
    let last = stack
        .submit_batch(vec![nps_answer(
            &survey_id,
            "unit-1",
            RespondentRole::Client,
            7,
        )])
        .await?;
    let mut analytics = stack.analytics().await?;
    let query = |survey_id: &str, filter| GetNpsRequest {
        survey_id: survey_id.to_owned(),
        question_key: String::new(),
        filter,
        min_sequence: last,
        grouping: None,
    };

    let malformed = analytics
        .get_nps(query("not-a-uuid", Some(kaiku_system_tests::clients())))
        .await
        .expect_err("malformed survey id");
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert_eq!(fields(&malformed), vec!["survey_id"]);

    let reversed = analytics
        .get_nps(query(
            &survey_id,
            between(date(2026, 9, 2), date(2026, 9, 1)),
        ))
        .await
        .expect_err("reversed range");
    assert_eq!(reversed.code(), Code::InvalidArgument);
    assert_eq!(fields(&reversed), vec!["filter.to_date"]);

    let impossible = analytics
        .get_nps(query(&survey_id, between(date(2026, 2, 30), None)))
        .await
        .expect_err("30 February");
    assert_eq!(impossible.code(), Code::InvalidArgument);
    assert_eq!(fields(&impossible), vec!["filter.from_date"]);

    let unknown = analytics
        .get_nps(query(
            &uuid::Uuid::new_v4().to_string(),
            Some(kaiku_system_tests::clients()),
        ))
        .await
        .expect_err("unknown survey");
    assert_eq!(unknown.code(), Code::NotFound);

    let unknown_question = analytics
        .get_nps(GetNpsRequest {
            question_key: "no_such_question".into(),
            ..query(&survey_id, Some(kaiku_system_tests::clients()))
        })
        .await
        .expect_err("unknown question");
    assert_eq!(unknown_question.code(), Code::InvalidArgument);
    assert_eq!(fields(&unknown_question), vec!["question_key"]);

    let not_nps = analytics
        .get_nps(GetNpsRequest {
            question_key: kaiku_domain::fixtures::OPEN_KEY.into(),
            ..query(&survey_id, Some(kaiku_system_tests::clients()))
        })
        .await
        .expect_err("open-text question");
    assert_eq!(not_nps.code(), Code::InvalidArgument);
    assert_eq!(fields(&not_nps), vec!["question_key"]);

    let bad_grouping = analytics
        .get_nps(GetNpsRequest {
            grouping: Some(Grouping {
                group_by: vec![Dimension::Unit as i32, Dimension::Unit as i32],
                bucket: 42,
            }),
            ..query(&survey_id, Some(kaiku_system_tests::clients()))
        })
        .await
        .expect_err("repeated dimension, unknown bucket");
    assert_eq!(
        fields(&bad_grouping),
        vec!["grouping.group_by[1]", "grouping.bucket"]
    );

    let not_a_statement = analytics
        .get_statement_summary(GetStatementSummaryRequest {
            survey_id: survey_id.clone(),
            question_keys: vec!["nps".into()],
            filter: Some(kaiku_system_tests::clients()),
            min_sequence: last,
            grouping: None,
        })
        .await
        .expect_err("nps is not a statement");
    assert_eq!(fields(&not_a_statement), vec!["question_keys[0]"]);

    let unknown_volume = analytics
        .get_response_volume(GetResponseVolumeRequest {
            survey_id: uuid::Uuid::new_v4().to_string(),
            filter: Some(kaiku_system_tests::clients()),
            min_sequence: last,
            grouping: None,
        })
        .await
        .expect_err("unknown survey");
    assert_eq!(unknown_volume.code(), Code::NotFound);

    // A consistency token the read model has not reached: the caller hears so before its own
    // deadline, with how far the read model has got.
    let mut ahead = tonic::Request::new(GetNpsRequest {
        min_sequence: last + 1_000,
        ..query(&survey_id, Some(kaiku_system_tests::clients()))
    });
    ahead.set_timeout(Duration::from_secs(2));
    let not_yet = analytics.get_nps(ahead).await.expect_err("token ahead");
    assert_eq!(not_yet.code(), Code::Unavailable, "{not_yet:?}");
    assert!(
        not_yet.message().contains(&format!("up to {last}")),
        "{}",
        not_yet.message()
    );
    Ok(())
}
