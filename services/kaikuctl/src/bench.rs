//! `kaikuctl bench-queries`: the latency of the analytics queries a results review makes,
//! measured against a loaded data set (see `kaikuctl dataset`). Each query shape the system
//! tests use runs a number of times in sequence on the largest surveys, and the percentiles are
//! printed as a Markdown table for BENCHMARKS.md.

use std::time::{Duration, Instant};

use chrono::{Days, Utc};
use kaiku_domain::time::{helsinki_date, local_date};
use kaiku_grpc::AuthorizedChannel as GrpcChannel;
use kaiku_proto::analytics::v1::analytics_client::AnalyticsClient;
use kaiku_proto::analytics::v1::{
    Dimension, GetNpsRequest, GetStatementSummaryRequest, Grouping, ResponseFilter, TimeBucket,
};
use kaiku_proto::survey::v1::{Channel, RespondentRole};

use crate::commands::{CliError, connect};

pub struct BenchArgs {
    pub survey_ids: Vec<String>,
    pub subtree: String,
    pub iterations: usize,
}

/// One query shape: a name for the table and the filter and grouping it sends.
struct Shape {
    name: &'static str,
    filter: ResponseFilter,
    grouping: Option<Grouping>,
}

fn grouping(by: &[Dimension], bucket: TimeBucket) -> Option<Grouping> {
    Some(Grouping {
        group_by: by.iter().map(|d| *d as i32).collect(),
        bucket: bucket as i32,
    })
}

/// The filters and groupings of tests/analytics_*.rs, tests/end_to_end.rs and
/// tests/templates_end_to_end.rs, over the whole data set.
fn shapes(subtree: &str) -> Vec<Shape> {
    let today = helsinki_date(Utc::now());
    // A range that starts and ends inside months, so both grains are read.
    let from = today - Days::new(400);
    let to = today - Days::new(45);
    // Clients' figures, as the console's first section reads them.
    let none = ResponseFilter {
        respondent_roles: vec![RespondentRole::Client as i32],
        ..ResponseFilter::default()
    };
    vec![
        Shape {
            name: "total",
            filter: none.clone(),
            grouping: None,
        },
        Shape {
            name: "by unit",
            filter: none.clone(),
            grouping: grouping(&[Dimension::Unit], TimeBucket::None),
        },
        Shape {
            name: "unit subtree",
            filter: ResponseFilter {
                unit_subtrees: vec![subtree.to_owned()],
                ..none.clone()
            },
            grouping: None,
        },
        Shape {
            name: "by channel",
            filter: none.clone(),
            grouping: grouping(&[Dimension::Channel], TimeBucket::None),
        },
        Shape {
            name: "by channel and week",
            filter: none.clone(),
            grouping: grouping(&[Dimension::Channel], TimeBucket::Week),
        },
        Shape {
            name: "by month",
            filter: none.clone(),
            grouping: grouping(&[], TimeBucket::Month),
        },
        Shape {
            name: "date range (ragged ends)",
            filter: ResponseFilter {
                from_date: Some(local_date(from)),
                to_date: Some(local_date(to)),
                ..none.clone()
            },
            grouping: None,
        },
        Shape {
            name: "guardians and clients by role",
            filter: ResponseFilter {
                respondent_roles: vec![
                    RespondentRole::Client as i32,
                    RespondentRole::Guardian as i32,
                ],
                ..none.clone()
            },
            grouping: grouping(&[Dimension::RespondentRole], TimeBucket::None),
        },
        Shape {
            name: "SMS in a subtree by unit and period",
            filter: ResponseFilter {
                channels: vec![Channel::Sms as i32, Channel::Qr as i32],
                unit_subtrees: vec![subtree.to_owned()],
                ..none.clone()
            },
            grouping: grouping(&[Dimension::Unit, Dimension::Period], TimeBucket::None),
        },
        Shape {
            name: "by language, age band and group",
            filter: none,
            grouping: grouping(
                &[
                    Dimension::Language,
                    Dimension::AgeBand,
                    Dimension::ProfessionalGroup,
                ],
                TimeBucket::None,
            ),
        },
    ]
}

pub async fn run(analytics_addr: &str, args: BenchArgs) -> Result<(), CliError> {
    let mut client = AnalyticsClient::new(connect(analytics_addr).await?);
    let iterations = args.iterations.max(1);
    println!("| survey | query | shape | n | p50 ms | p95 ms | p99 ms | max ms |");
    println!("|---|---|---|---:|---:|---:|---:|---:|");
    let mut worst_p95 = Duration::ZERO;
    for survey_id in &args.survey_ids {
        // UUIDv7 ids share their leading (time) digits: the tail tells surveys apart.
        let short = survey_id
            .get(survey_id.len().saturating_sub(8)..)
            .unwrap_or(survey_id);
        for shape in shapes(&args.subtree) {
            for query in ["GetNps", "GetStatementSummary"] {
                // Warm-up: the first call pays for connections and cold pages.
                for _ in 0..3 {
                    call(&mut client, query, survey_id, &shape).await?;
                }
                let mut times = Vec::with_capacity(iterations);
                for _ in 0..iterations {
                    let started = Instant::now();
                    call(&mut client, query, survey_id, &shape).await?;
                    times.push(started.elapsed());
                }
                times.sort_unstable();
                let at = |p: f64| {
                    times[((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1]
                };
                let ms = |d: Duration| d.as_secs_f64() * 1000.0;
                worst_p95 = worst_p95.max(at(0.95));
                println!(
                    "| {short} | {query} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
                    shape.name,
                    times.len(),
                    ms(at(0.50)),
                    ms(at(0.95)),
                    ms(at(0.99)),
                    ms(times[times.len() - 1]),
                );
            }
        }
    }
    println!();
    println!("worst_p95_ms={:.1}", worst_p95.as_secs_f64() * 1000.0);
    Ok(())
}

async fn call(
    client: &mut AnalyticsClient<GrpcChannel>,
    query: &str,
    survey_id: &str,
    shape: &Shape,
) -> Result<(), CliError> {
    if query == "GetNps" {
        client
            .get_nps(GetNpsRequest {
                survey_id: survey_id.to_owned(),
                question_key: String::new(),
                filter: Some(shape.filter.clone()),
                min_sequence: 0,
                grouping: shape.grouping.clone(),
            })
            .await?;
    } else {
        client
            .get_statement_summary(GetStatementSummaryRequest {
                survey_id: survey_id.to_owned(),
                question_keys: Vec::new(),
                filter: Some(shape.filter.clone()),
                min_sequence: 0,
                grouping: shape.grouping.clone(),
            })
            .await?;
    }
    Ok(())
}
