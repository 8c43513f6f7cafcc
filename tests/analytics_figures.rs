//! Every figure analytics serves, checked against figures computed here from the answers the
//! test itself submitted: NPS with its confidence interval per unit, statement means and
//! distributions per channel, response volumes per channel and week, a unit-subtree filter, and
//! small-group suppression including the complementary cell.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use kaiku_domain::fixtures::{all_kinds_survey, texts};
use kaiku_proto::analytics::v1::{
    Dimension, GetNpsRequest, GetResponseVolumeRequest, GetStatementSummaryRequest, Grouping,
    ResponseFilter, Scale, TimeBucket,
};
use kaiku_proto::intake::v1::{
    Answer, ChoiceAnswer, NpsAnswer, ResponseContext, StatementAnswer, SubmitResponseRequest,
    answer::Value,
};
use kaiku_proto::survey::v1::{
    Channel, CreateUnitRequest, Language, LocalDate, RespondentRole, UnitLevel,
};
use kaiku_system_tests::{Stack, TestResult};

const CHANNELS: [(Channel, &str); 3] = [
    (Channel::Qr, "qr"),
    (Channel::Kiosk, "kiosk"),
    (Channel::Paper, "paper"),
];

/// One submitted answer, as the test remembers it.
#[derive(Debug, Clone)]
struct Given {
    unit: &'static str,
    channel: &'static str,
    day: NaiveDate,
    nps: u32,
    /// None = "don't know".
    statement: Option<u32>,
}

/// 120 answers: school-3 gets 3 (a small group), the rest alternate between school-1 and
/// school-2; scores, channels and days follow fixed cycles of different lengths.
fn plan() -> Vec<Given> {
    let first_day = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap_or_default();
    (0..120u32)
        .map(|i| Given {
            unit: if i % 40 == 0 {
                "school-3"
            } else if i % 2 == 0 {
                "school-1"
            } else {
                "school-2"
            },
            channel: CHANNELS[(i % 3) as usize].1,
            day: first_day + Duration::days(i64::from(i % 21)),
            nps: (i * 7) % 11,
            statement: if i % 9 == 4 {
                None
            } else {
                Some(1 + (i * 3) % 5)
            },
        })
        .collect()
}

fn request(survey_id: &str, given: &Given) -> SubmitResponseRequest {
    let channel = CHANNELS
        .iter()
        .find(|(_, code)| *code == given.channel)
        .map_or(Channel::Api, |(channel, _)| *channel);
    // Noon in Helsinki (UTC+3 in early October).
    let answered_at = Utc.from_utc_datetime(&given.day.and_hms_opt(9, 0, 0).unwrap_or_default());
    SubmitResponseRequest {
        submission_id: uuid::Uuid::new_v4().to_string(),
        survey_id: survey_id.into(),
        survey_version: 1,
        context: Some(ResponseContext {
            unit_id: given.unit.into(),
            channel: channel as i32,
            respondent_role: RespondentRole::Client as i32,
            professional_group: String::new(),
            age_band: "age_13_17".into(),
            language: Language::Fi as i32,
        }),
        answers: vec![
            Answer {
                question_key: "nps".into(),
                value: Some(Value::Nps(NpsAnswer { score: given.nps })),
            },
            Answer {
                question_key: "kohtaaminen".into(),
                value: Some(Value::Statement(StatementAnswer {
                    score: given.statement.unwrap_or(0),
                    dont_know: given.statement.is_none(),
                })),
            },
            Answer {
                question_key: "visit".into(),
                value: Some(Value::Choice(ChoiceAnswer {
                    option_keys: vec!["first".into()],
                })),
            },
        ],
        answered_at: Some(kaiku_domain::time::to_timestamp(answered_at)),
    }
}

/// county > area-a > school-1, school-2; county > area-b > school-3
async fn setup(stack: &Stack) -> TestResult<(String, u64)> {
    let mut surveys = stack.surveys().await?;
    let unit = |id: &str, parent: &str, level: UnitLevel| CreateUnitRequest {
        unit_id: id.into(),
        parent_unit_id: parent.into(),
        level: level as i32,
        names: texts(id, id, id),
    };
    for request in [
        unit("county", "", UnitLevel::County),
        unit("area-a", "county", UnitLevel::ServiceArea),
        unit("area-b", "county", UnitLevel::ServiceArea),
        unit("school-1", "area-a", UnitLevel::Unit),
        unit("school-2", "area-a", UnitLevel::Unit),
        unit("school-3", "area-b", UnitLevel::Unit),
    ] {
        surveys.create_unit(request).await?;
    }
    let survey_id = stack.publish(all_kinds_survey(&["county"])).await?;
    let requests = plan()
        .iter()
        .map(|given| request(&survey_id, given))
        .collect();
    let last = stack.submit_batch(requests).await?;
    Ok((survey_id, last))
}

/// (promoters, passives, detractors)
fn buckets<'a>(answers: impl Iterator<Item = &'a Given>) -> (u64, u64, u64) {
    answers.fold((0, 0, 0), |(p, pa, d), g| match g.nps {
        9 | 10 => (p + 1, pa, d),
        7 | 8 => (p, pa + 1, d),
        _ => (p, pa, d + 1),
    })
}

/// NPS and its 95 % interval from the textbook formulas, to one decimal.
fn expected_nps((p, pa, d): (u64, u64, u64)) -> (f64, f64, f64) {
    let n = (p + pa + d) as f64;
    let (pp, pd) = (p as f64 / n, d as f64 / n);
    let nps = 100.0 * (pp - pd);
    let se = ((pp + pd - (pp - pd).powi(2)) / n).sqrt();
    let one = |x: f64| (x.clamp(-100.0, 100.0) * 10.0).round() / 10.0;
    (one(nps), one(nps - 196.0 * se), one(nps + 196.0 * se))
}

fn grouping(group_by: &[Dimension], bucket: TimeBucket) -> Option<Grouping> {
    Some(Grouping {
        group_by: group_by.iter().map(|d| *d as i32).collect(),
        bucket: bucket as i32,
    })
}

#[tokio::test]
async fn nps_per_unit_matches_the_answers_with_small_units_suppressed() -> TestResult {
    let stack = Stack::start().await?;
    let (survey_id, last) = setup(&stack).await?;
    let given = plan();
    let reply = stack
        .analytics()
        .await?
        .get_nps(GetNpsRequest {
            survey_id: survey_id.clone(),
            question_key: String::new(),
            filter: Some(kaiku_system_tests::clients()),
            min_sequence: last,
            grouping: grouping(&[Dimension::Unit], TimeBucket::None),
        })
        .await?
        .into_inner();

    let total = buckets(given.iter());
    let figure = reply.figure.ok_or("total figure")?;
    assert_eq!(
        (figure.promoters, figure.passives, figure.detractors),
        total
    );
    let (nps, low, high) = expected_nps(total);
    assert_eq!(
        (figure.nps, figure.ci_low, figure.ci_high),
        (Some(nps), Some(low), Some(high))
    );

    // school-3 has 3 answers: hidden. Its value would follow from the total minus the other two
    // schools, so the smaller of those is hidden as well.
    let rows: BTreeMap<String, _> = reply
        .rows
        .into_iter()
        .map(|row| (row.group.join("/"), row))
        .collect();
    assert_eq!(
        rows.keys().cloned().collect::<Vec<_>>(),
        ["school-1", "school-2", "school-3"]
    );
    let school_3 = &rows["school-3"];
    assert!(school_3.suppressed && school_3.figure.is_none());
    let (n1, n2) = (
        given.iter().filter(|g| g.unit == "school-1").count(),
        given.iter().filter(|g| g.unit == "school-2").count(),
    );
    let (complement, shown) = if n1 <= n2 {
        ("school-1", "school-2")
    } else {
        ("school-2", "school-1")
    };
    assert!(rows[complement].suppressed, "complementary suppression");
    let figure = rows[shown].figure.ok_or("shown school")?;
    let expected = buckets(given.iter().filter(|g| g.unit == shown));
    assert_eq!(
        (figure.promoters, figure.passives, figure.detractors),
        expected
    );
    assert_eq!(figure.nps, Some(expected_nps(expected).0));

    // The area-a subtree holds schools 1 and 2 only.
    let subtree = stack
        .analytics()
        .await?
        .get_nps(GetNpsRequest {
            survey_id,
            question_key: "nps".into(),
            filter: Some(ResponseFilter {
                unit_subtrees: vec!["area-a".into()],
                ..kaiku_system_tests::clients()
            }),
            min_sequence: last,
            grouping: None,
        })
        .await?
        .into_inner();
    let figure = subtree.figure.ok_or("subtree figure")?;
    let expected = buckets(given.iter().filter(|g| g.unit != "school-3"));
    assert_eq!(
        (figure.promoters, figure.passives, figure.detractors),
        expected
    );
    Ok(())
}

#[tokio::test]
async fn statement_summaries_and_volumes_match_the_answers() -> TestResult {
    let stack = Stack::start().await?;
    let (survey_id, last) = setup(&stack).await?;
    let given = plan();
    let mut analytics = stack.analytics().await?;

    let summary = analytics
        .get_statement_summary(GetStatementSummaryRequest {
            survey_id: survey_id.clone(),
            question_keys: vec!["kohtaaminen".into()],
            filter: Some(kaiku_system_tests::clients()),
            min_sequence: last,
            grouping: grouping(&[Dimension::Channel], TimeBucket::None),
        })
        .await?
        .into_inner();
    let expect = |answers: Vec<&Given>| {
        let mut distribution = vec![0u64; 5];
        let mut dont_know = 0;
        for g in answers {
            match g.statement {
                Some(score) => distribution[(score - 1) as usize] += 1,
                None => dont_know += 1,
            }
        }
        let n: u64 = distribution.iter().sum();
        let sum: u64 = distribution.iter().zip(1..).map(|(c, s)| c * s).sum();
        let mean = (sum as f64 / n as f64 * 100.0).round() / 100.0;
        (n, mean, distribution, dont_know)
    };
    assert_eq!(summary.rows.len(), 4, "total and three channels");
    for row in &summary.rows {
        assert_eq!(row.question_key, "kohtaaminen");
        let answers: Vec<&Given> = given
            .iter()
            .filter(|g| row.group.is_empty() || g.channel == row.group[0])
            .collect();
        let (n, mean, distribution, dont_know) = expect(answers);
        let figure = row.figure.clone().ok_or("statement figure")?;
        assert_eq!(
            (figure.n, figure.mean, figure.distribution, figure.dont_know),
            (n, Some(mean), distribution, dont_know),
            "{:?}",
            row.group
        );
    }

    let volume = analytics
        .get_response_volume(GetResponseVolumeRequest {
            survey_id: survey_id.clone(),
            filter: Some(kaiku_system_tests::clients()),
            min_sequence: last,
            grouping: grouping(&[Dimension::Channel], TimeBucket::Week),
        })
        .await?
        .into_inner();
    assert_eq!(volume.total, 120);
    let mut expected: BTreeMap<(String, NaiveDate), u64> = BTreeMap::new();
    for g in &given {
        let monday = g.day - Duration::days(i64::from(g.day.weekday().num_days_from_monday()));
        *expected.entry((g.channel.to_owned(), monday)).or_default() += 1;
    }
    let mut actual: BTreeMap<(String, NaiveDate), (u64, bool)> = BTreeMap::new();
    for row in volume.rows {
        let LocalDate { year, month, day } = row.bucket_start.ok_or("bucket")?;
        let monday = NaiveDate::from_ymd_opt(year, u32::try_from(month)?, u32::try_from(day)?)
            .ok_or("date")?;
        actual.insert(
            (row.group[0].clone(), monday),
            (row.responses, row.suppressed),
        );
    }
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (key, count) in &expected {
        let (shown, suppressed) = actual[key];
        if *count < 5 {
            assert!(suppressed, "{key:?} has {count}");
        } else if !suppressed {
            assert_eq!(shown, *count, "{key:?}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_period_comparison_reports_the_change_and_whether_it_is_noise() -> TestResult {
    use kaiku_domain::fixtures::{all_kinds_survey, fixture_units};
    use kaiku_proto::analytics::v1::ComparePeriodsRequest;
    use kaiku_proto::survey::v1::{
        CollectionPeriod, ScheduledCollection, survey_content::Collection,
    };

    let stack = Stack::start().await?;
    let mut surveys = stack.surveys().await?;
    for unit in fixture_units(&["school-1"]) {
        surveys.create_unit(unit).await?;
    }
    let date = |month, day| {
        Some(LocalDate {
            year: 2026,
            month,
            day,
        })
    };
    let mut content = all_kinds_survey(&["school-1"]);
    content.collection = Some(Collection::Scheduled(ScheduledCollection {
        periods: vec![
            CollectionPeriod {
                period_id: "spring".into(),
                starts_on: date(3, 1),
                ends_on: date(3, 21),
            },
            CollectionPeriod {
                period_id: "autumn".into(),
                starts_on: date(9, 1),
                ends_on: date(9, 21),
            },
        ],
    }));
    let survey_id = stack.publish(content).await?;
    let spring = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap_or_default();
    let autumn = NaiveDate::from_ymd_opt(2026, 9, 10).unwrap_or_default();
    // (day, NPS, statement, how many): spring 20 promoters, 10 passives, 30 detractors and
    // autumn 45, 10, 5; the statement "kohtaaminen" rises from mostly 2s and 3s to 4s and 5s,
    // with four "don't know" answers that count in no mean.
    let plan: Vec<(NaiveDate, u32, Option<u32>, usize)> = vec![
        (spring, 10, Some(4), 20),
        (spring, 8, Some(3), 10),
        (spring, 3, Some(2), 28),
        (spring, 3, None, 2),
        (autumn, 10, Some(5), 45),
        (autumn, 8, Some(4), 8),
        (autumn, 8, None, 2),
        (autumn, 3, Some(3), 5),
    ];
    let mut requests = Vec::new();
    for (day, nps, statement, count) in &plan {
        let given = Given {
            unit: "school-1",
            channel: "qr",
            day: *day,
            nps: *nps,
            statement: *statement,
        };
        requests.extend((0..*count).map(|_| request(&survey_id, &given)));
    }
    let last = stack.submit_batch(requests).await?;
    let compare = |earlier: &str, later: &str, statement_keys: Vec<String>| ComparePeriodsRequest {
        survey_id: survey_id.clone(),
        question_key: String::new(),
        filter: Some(kaiku_system_tests::clients()),
        min_sequence: last,
        earlier_period_id: earlier.into(),
        later_period_id: later.into(),
        statement_keys,
    };
    let reply = stack
        .analytics()
        .await?
        .compare_periods(compare("spring", "autumn", vec![]))
        .await?
        .into_inner();
    let (earlier, e_low, _) = expected_nps((20, 10, 30));
    let (later, _, l_high) = expected_nps((45, 10, 5));
    assert_eq!(reply.earlier.and_then(|f| f.nps), Some(earlier));
    assert_eq!(reply.later.and_then(|f| f.nps), Some(later));
    assert_eq!(
        reply.change,
        Some(((later - earlier) * 10.0).round() / 10.0)
    );
    assert!(reply.significant, "{reply:?}");
    assert_eq!(reply.earlier.and_then(|f| f.ci_low), Some(e_low));
    assert_eq!(reply.later.and_then(|f| f.ci_high), Some(l_high));

    // Statements and face questions: every one of the survey, in survey order, each with its
    // scale; only kohtaaminen was answered.
    let keys: Vec<(&str, i32, u32)> = reply
        .statements
        .iter()
        .map(|s| (s.question_key.as_str(), s.scale, s.points))
        .collect();
    let statement = |key| (key, Scale::Agreement as i32, 5);
    assert_eq!(
        keys,
        [
            ("face", Scale::Faces as i32, 3),
            statement("kohtaaminen"),
            statement("strict"),
            statement("kuraattori_help"),
            statement("guardian_info")
        ]
    );
    let scores = |day: NaiveDate| -> Vec<f64> {
        plan.iter()
            .filter(|(d, _, statement, _)| *d == day && statement.is_some())
            .flat_map(|(_, _, statement, count)| {
                std::iter::repeat_n(f64::from(statement.unwrap_or(0)), *count)
            })
            .collect()
    };
    // Welch's interval, computed here from the answers themselves.
    let mean_and_variance_of_mean = |xs: &[f64]| {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let variance = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, variance / n)
    };
    let (spring_mean, spring_v) = mean_and_variance_of_mean(&scores(spring));
    let (autumn_mean, autumn_v) = mean_and_variance_of_mean(&scores(autumn));
    let kohtaaminen = reply
        .statements
        .iter()
        .find(|s| s.question_key == "kohtaaminen")
        .ok_or("no kohtaaminen")?;
    let figure = |f: &Option<kaiku_proto::analytics::v1::StatementFigure>| {
        f.as_ref()
            .map(|f| (f.n, f.dont_know, f.distribution.clone()))
    };
    assert_eq!(
        figure(&kohtaaminen.earlier),
        Some((58, 2, vec![0, 28, 10, 20, 0]))
    );
    assert_eq!(
        figure(&kohtaaminen.later),
        Some((58, 2, vec![0, 0, 5, 8, 45]))
    );
    let round2 = |x: f64| (x * 100.0).round() / 100.0;
    assert_eq!(kohtaaminen.change, Some(round2(autumn_mean - spring_mean)));
    assert_eq!(
        kohtaaminen.margin,
        Some(round2(1.96 * (spring_v + autumn_v).sqrt()))
    );
    assert!(kohtaaminen.significant);
    let unanswered = reply
        .statements
        .iter()
        .find(|s| s.question_key == "strict")
        .ok_or("no strict")?;
    assert_eq!(
        (
            unanswered.change,
            unanswered.significant,
            unanswered.earlier_suppressed
        ),
        (None, false, false)
    );

    // Refused: the same period twice; a statement the survey does not have.
    for (request, field) in [
        (compare("spring", "spring", vec![]), "later_period_id"),
        (
            compare("spring", "autumn", vec!["kohtaaminen".into(), "nps".into()]),
            "statement_keys[1]",
        ),
    ] {
        let refused = stack
            .analytics()
            .await?
            .compare_periods(request)
            .await
            .expect_err("refused");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        let fields: Vec<String> = kaiku_grpc::bad_request_fields(&refused)
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert_eq!(fields, vec![field]);
    }
    Ok(())
}

#[tokio::test]
async fn the_export_has_a_row_per_response_and_a_column_per_question() -> TestResult {
    use kaiku_proto::analytics::v1::ExportResponsesRequest;

    let stack = Stack::start().await?;
    let (survey_id, last) = setup(&stack).await?;
    let given = plan();
    let mut analytics = stack.analytics().await?;
    let mut stream = analytics
        .export_responses(ExportResponsesRequest {
            survey_id: survey_id.clone(),
            filter: Some(kaiku_system_tests::clients()),
            min_sequence: last,
        })
        .await?
        .into_inner();
    let mut csv = Vec::new();
    while let Some(chunk) = stream.message().await? {
        csv.extend_from_slice(&chunk.csv);
    }
    let csv = String::from_utf8(csv)?;
    let lines: Vec<Vec<&str>> = csv
        .split("\r\n")
        .filter(|line| !line.is_empty())
        .map(|line| line.split(',').collect())
        .collect();
    let header = &lines[0];
    assert_eq!(
        header.iter().take(8).copied().collect::<Vec<_>>(),
        [
            "answered_on",
            "unit_id",
            "channel",
            "respondent_role",
            "professional_group",
            "age_band",
            "language",
            "period_id"
        ]
    );
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap_or(usize::MAX);
    assert_eq!(header.len(), 8 + 9, "one column per question of the survey");
    assert_eq!(lines.len(), 1 + given.len());
    // Responses of one stream are stored concurrently, so compare rows and plan as multisets.
    let mut exported: Vec<[String; 6]> = lines[1..]
        .iter()
        .map(|row| {
            [
                row[column("unit_id")].to_owned(),
                row[column("answered_on")].to_owned(),
                row[column("nps")].to_owned(),
                row[column("kohtaaminen")].to_owned(),
                row[column("visit")].to_owned(),
                row[column("face")].to_owned(),
            ]
        })
        .collect();
    let mut planned: Vec<[String; 6]> = given
        .iter()
        .map(|g| {
            [
                g.unit.to_owned(),
                g.day.to_string(),
                g.nps.to_string(),
                g.statement
                    .map_or("dont_know".to_owned(), |s| s.to_string()),
                "first".to_owned(),
                String::new(), // the face is not asked of 13-17-year-olds
            ]
        })
        .collect();
    exported.sort();
    planned.sort();
    assert_eq!(exported, planned);

    let small = analytics
        .export_responses(ExportResponsesRequest {
            survey_id,
            filter: Some(ResponseFilter {
                unit_ids: vec!["school-3".into()],
                ..kaiku_system_tests::clients()
            }),
            min_sequence: last,
        })
        .await;
    let status = match small {
        Err(status) => status,
        Ok(response) => match response.into_inner().message().await {
            Err(status) => status,
            Ok(_) => return Err("a 3-response export was not refused".into()),
        },
    };
    assert_eq!(status.code(), tonic::Code::FailedPrecondition, "{status:?}");
    Ok(())
}
