//! The walking skeleton end to end: publish a survey, submit 200 answers with a known score
//! distribution over gRPC, and read the exact NPS back with the consistency token. No sleeps:
//! read-your-writes comes from min_sequence.

use kaiku_proto::analytics::v1::{GetNpsRequest, ResponseFilter};
use kaiku_proto::survey::v1::RespondentRole;
use kaiku_system_tests::{Stack, TestResult, nps_answer};

#[tokio::test]
async fn two_hundred_answers_give_the_exact_nps_with_read_your_writes() -> TestResult {
    let stack = Stack::start().await?;
    let survey_id = stack.publish_nps_survey(&["school-a", "school-b"]).await?;

    // 200 client answers: school-a gets 80 promoters, 30 passives, 10 detractors;
    // school-b gets 30 promoters, 20 passives, 30 detractors. Plus 7 guardian answers (all 0),
    // which must not move the client figure.
    let mut plan = Vec::new();
    plan.extend(std::iter::repeat_n(("school-a", 10), 40));
    plan.extend(std::iter::repeat_n(("school-a", 9), 40));
    plan.extend(std::iter::repeat_n(("school-a", 8), 30));
    plan.extend(std::iter::repeat_n(("school-a", 2), 10));
    plan.extend(std::iter::repeat_n(("school-b", 9), 30));
    plan.extend(std::iter::repeat_n(("school-b", 7), 20));
    plan.extend(std::iter::repeat_n(("school-b", 6), 15));
    plan.extend(std::iter::repeat_n(("school-b", 0), 15));
    assert_eq!(plan.len(), 200);
    let mut intake = stack.intake().await?;
    let mut last_sequence = 0;
    let mut first_request = None;
    for (unit, score) in plan {
        let request = nps_answer(&survey_id, unit, RespondentRole::Client, score);
        first_request.get_or_insert_with(|| request.clone());
        let reply = intake.submit_response(request).await?.into_inner();
        assert!(!reply.duplicate);
        assert!(reply.sequence > last_sequence, "sequences grow");
        last_sequence = reply.sequence;
    }
    // A channel adapter that lost the first reply retries with the same submission id: it gets
    // the original sequence back and the answer is not counted twice.
    let retry = first_request.ok_or("no first request")?;
    let again = intake.submit_response(retry).await?.into_inner();
    assert!(again.duplicate);
    assert!(again.sequence < last_sequence);
    for _ in 0..7 {
        let request = nps_answer(&survey_id, "school-a", RespondentRole::Guardian, 0);
        last_sequence = intake.submit_response(request).await?.into_inner().sequence;
    }

    let mut analytics = stack.analytics().await?;
    let nps = |unit_ids: Vec<String>, roles: Vec<i32>| GetNpsRequest {
        survey_id: survey_id.clone(),
        question_key: String::new(),
        filter: Some(ResponseFilter {
            unit_ids,
            respondent_roles: roles,
            ..Default::default()
        }),
        min_sequence: last_sequence,
        grouping: None,
    };

    let clients = vec![RespondentRole::Client as i32];
    // Asked without roles, analytics refuses, naming the field: a figure always says whose
    // answers it covers, never clients only by default (ADR 0015).
    let refused = analytics
        .get_nps(nps(vec![], vec![]))
        .await
        .expect_err("no roles named");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    let fields: Vec<String> = kaiku_grpc::bad_request_fields(&refused)
        .into_iter()
        .map(|(field, _)| field)
        .collect();
    assert_eq!(fields, vec!["filter.respondent_roles"]);
    let all = analytics
        .get_nps(nps(vec![], clients.clone()))
        .await?
        .into_inner();
    assert!(all.as_of_sequence >= last_sequence, "{}", stack.logs());
    let figure = all.figure.ok_or("figure missing")?;
    assert_eq!(
        (
            figure.n,
            figure.promoters,
            figure.passives,
            figure.detractors
        ),
        (200, 110, 50, 40)
    );
    assert_eq!(figure.nps, Some(35.0)); // (110 - 40) / 200

    let school_b = analytics
        .get_nps(nps(vec!["school-b".into()], clients.clone()))
        .await?
        .into_inner();
    let figure = school_b.figure.ok_or("figure missing")?;
    assert_eq!(
        (figure.n, figure.promoters, figure.detractors),
        (80, 30, 30)
    );
    assert_eq!(figure.nps, Some(0.0));

    // Guardians' answers are a separate figure, and 7 is above the minimum group size of 5.
    let guardians = analytics
        .get_nps(nps(vec![], vec![RespondentRole::Guardian as i32]))
        .await?
        .into_inner();
    let figure = guardians.figure.ok_or("figure missing")?;
    assert_eq!((figure.n, figure.detractors), (7, 7));
    assert_eq!(figure.nps, Some(-100.0));
    // Both roles named: counted together, as asked (200 clients + 7 guardians).
    let both = analytics
        .get_nps(nps(
            vec![],
            vec![
                RespondentRole::Client as i32,
                RespondentRole::Guardian as i32,
            ],
        ))
        .await?
        .into_inner();
    assert_eq!(both.figure.ok_or("figure missing")?.n, 207);
    // Every service did its work within its NATS permissions.
    assert_eq!(stack.nats_refusals(), Vec::<String>::new());
    Ok(())
}

#[tokio::test]
async fn a_group_below_the_minimum_size_is_suppressed() -> TestResult {
    let stack = Stack::start().await?;
    let survey_id = stack.publish_nps_survey(&["small-unit"]).await?;
    let answers = [10, 9, 3]
        .into_iter()
        .map(|score| nps_answer(&survey_id, "small-unit", RespondentRole::Client, score))
        .collect();
    let last = stack.submit_batch(answers).await?;
    let reply = stack
        .analytics()
        .await?
        .get_nps(GetNpsRequest {
            survey_id: survey_id.clone(),
            question_key: String::new(),
            filter: Some(kaiku_system_tests::clients()),
            min_sequence: last,
            grouping: None,
        })
        .await?
        .into_inner();
    assert!(reply.suppressed);
    assert_eq!(reply.figure, None);
    assert_eq!(reply.min_group_size, 5);
    assert!(reply.as_of_sequence >= last);
    Ok(())
}
