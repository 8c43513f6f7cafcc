//! Feedback-handling figures from `handling_case`: per unit and kind, per unit, and in total,
//! how many cases came, were replied to, closed, are open and late, how many were handled by
//! the promised day, and the median time to handling. These count the organisation's work on
//! cases its handlers see one by one, not respondents' answers, so no minimum group applies
//! (ADR 0013).

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use kaiku_domain::Violations;
use kaiku_domain::time::helsinki_date;
use kaiku_eventstore::HANDLING_STREAM;
use kaiku_proto::analytics::v1::{
    GetHandlingReportRequest, GetHandlingReportResponse, HandlingRow,
};
use sqlx::PgPool;

use crate::AnalyticsError;

fn parse_day(field: &str, value: &str, v: &mut Violations) -> Option<NaiveDate> {
    if value.is_empty() {
        return None;
    }
    match value.parse() {
        Ok(day) => Some(day),
        Err(_) => {
            v.add(
                field,
                format!("must be a date YYYY-MM-DD or empty, got {value:?}"),
            );
            None
        }
    }
}

/// Waits until the read model has applied KAIKU_HANDLING up to `min_sequence` (cases are few:
/// the checkpoint is polled rather than announced).
pub async fn wait_for_handling(
    pool: &PgPool,
    min_sequence: u64,
    wait: Duration,
) -> Result<(), AnalyticsError> {
    if min_sequence == 0 {
        return Ok(());
    }
    let until = tokio::time::Instant::now() + wait;
    loop {
        let row: Option<(i64,)> =
            sqlx::query_as("select last_sequence from projection_checkpoint where stream = $1")
                .bind(HANDLING_STREAM)
                .fetch_optional(pool)
                .await?;
        let applied = row.map_or(0, |(seq,)| u64::try_from(seq).unwrap_or(0));
        if applied >= min_sequence {
            return Ok(());
        }
        if tokio::time::Instant::now() >= until {
            return Err(AnalyticsError::NotCaughtUp {
                min_sequence,
                applied,
                waited: wait,
            });
        }
        // Polling a checkpoint: the projection announces only the response stream's progress.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

type ReportRow = (
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<f64>,
    i64,
);

/// The report for units in `subtrees` (empty = every unit).
pub async fn handling_report(
    pool: &PgPool,
    subtrees: &[String],
    request: &GetHandlingReportRequest,
) -> Result<GetHandlingReportResponse, AnalyticsError> {
    let mut v = Violations::new();
    let from = parse_day("received_from", &request.received_from, &mut v);
    let to = parse_day("received_to", &request.received_to, &mut v);
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        v.add("received_to", "must not be before received_from");
    }
    if !v.is_empty() {
        return Err(AnalyticsError::Invalid(v));
    }
    let today = helsinki_date(Utc::now());
    let rows: Vec<ReportRow> = sqlx::query_as(
        "select case when grouping(h.unit_id) = 1 then '' else h.unit_id end,
                case when grouping(h.kind) = 1 then '' else h.kind end,
                count(*),
                count(*) filter (where h.replied),
                count(*) filter (where h.closed),
                count(*) filter (where not h.closed),
                count(*) filter (where h.handled_on is null and h.reply_due_on < $4),
                count(*) filter (where h.handled_on <= h.reply_due_on),
                count(*) filter (where h.handled_on is not null),
                percentile_cont(0.5) within group (order by h.handling_hours)
                    filter (where h.handling_hours is not null),
                count(*) filter (where h.escalated_to is not null)
         from handling_case h
         left join org_unit u on u.unit_id = h.unit_id
         where (cardinality($1::text[]) = 0 or u.path && $1)
           and ($2::date is null or h.received_on >= $2)
           and ($3::date is null or h.received_on <= $3)
         group by grouping sets ((h.unit_id, h.kind), (h.unit_id), ())
         order by grouping(h.unit_id), h.unit_id, grouping(h.kind), h.kind",
    )
    .bind(subtrees)
    .bind(from)
    .bind(to)
    .bind(today)
    .fetch_all(pool)
    .await?;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(GetHandlingReportResponse {
        rows: rows
            .into_iter()
            .map(
                |(
                    unit_id,
                    kind,
                    received,
                    replied,
                    closed,
                    open,
                    overdue,
                    on_time,
                    handled,
                    median,
                    escalated,
                )| {
                    let needing = handled + overdue;
                    HandlingRow {
                        unit_id,
                        kind,
                        received: count(received),
                        replied: count(replied),
                        closed: count(closed),
                        open: count(open),
                        overdue: count(overdue),
                        handled_on_time: count(on_time),
                        on_time_share: (needing > 0).then(|| on_time as f64 / needing as f64),
                        median_hours_to_handle: median,
                        escalated: count(escalated),
                    }
                },
            )
            .collect(),
    })
}
