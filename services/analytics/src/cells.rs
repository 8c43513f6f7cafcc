//! Grouped reads of the daily rollups: one SQL shape for every figure. The filter becomes the
//! WHERE clause, the grouping the GROUP BY; the rollups' primary keys start with the survey, so
//! every query reads one survey's rows only and never touches the fact tables.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kaiku_domain::Violations;
use kaiku_proto::analytics::v1::{Dimension, Grouping, TimeBucket};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use crate::AnalyticsError;
use crate::filter::Filter;

/// The grouping asked for, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupSpec {
    pub columns: Vec<&'static str>,
    pub bucket: TimeBucket,
}

impl GroupSpec {
    pub fn is_total_only(&self) -> bool {
        self.columns.is_empty() && self.bucket == TimeBucket::None
    }
}

pub fn parse_grouping(grouping: Option<&Grouping>, field: &str) -> Result<GroupSpec, Violations> {
    let Some(grouping) = grouping else {
        return Ok(GroupSpec::default());
    };
    let mut v = Violations::new();
    let mut columns = Vec::new();
    for (i, raw) in grouping.group_by.iter().enumerate() {
        let column = match Dimension::try_from(*raw) {
            Ok(Dimension::Unit) => "unit_id",
            Ok(Dimension::Channel) => "channel",
            Ok(Dimension::RespondentRole) => "respondent_role",
            Ok(Dimension::ProfessionalGroup) => "professional_group",
            Ok(Dimension::AgeBand) => "age_band",
            Ok(Dimension::Language) => "language",
            Ok(Dimension::Period) => "period_id",
            Ok(Dimension::Unspecified) | Err(_) => {
                v.add(
                    format!("{field}.group_by[{i}]"),
                    format!("unknown dimension {raw}"),
                );
                continue;
            }
        };
        if columns.contains(&column) {
            v.add(format!("{field}.group_by[{i}]"), "is listed twice");
        }
        columns.push(column);
    }
    let bucket = TimeBucket::try_from(grouping.bucket).unwrap_or_else(|_| {
        v.add(
            format!("{field}.bucket"),
            format!("unknown time bucket {}", grouping.bucket),
        );
        TimeBucket::None
    });
    v.into_result(GroupSpec { columns, bucket })
}

/// (question key, group values, bucket start)
type CellKey = (String, Vec<String>, Option<NaiveDate>);

/// One group and bucket's counts by score (-1 = "don't know") for one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreCell {
    pub question_key: String,
    pub group: Vec<String>,
    pub bucket_start: Option<NaiveDate>,
    pub counts: BTreeMap<i16, u64>,
}

/// Counts by score from `answer_daily` for the given questions, grouped as asked.
pub async fn score_cells(
    pool: &PgPool,
    survey_id: Uuid,
    question_keys: &[String],
    filter: &Filter,
    spec: &GroupSpec,
) -> Result<Vec<ScoreCell>, AnalyticsError> {
    let mut q = QueryBuilder::<Postgres>::new("select question_key, ");
    push_group_select(&mut q, spec);
    q.push(" score, sum(answers)::bigint as answers from answer_daily where survey_id = ");
    q.push_bind(survey_id);
    q.push(" and question_key = any(");
    q.push_bind(question_keys.to_vec());
    q.push(")");
    push_filter(&mut q, filter);
    let mut group_by = vec!["question_key".to_owned()];
    group_by.extend(group_expressions(spec));
    group_by.push("score".to_owned());
    q.push(format!(" group by {}", group_by.join(", ")));
    let rows = q.build().fetch_all(pool).await?;
    let mut cells: BTreeMap<CellKey, BTreeMap<i16, u64>> = BTreeMap::new();
    for row in rows {
        let key: String = row.try_get("question_key")?;
        let (group, bucket_start) = read_group(&row, spec)?;
        let score: i16 = row.try_get("score")?;
        let answers: i64 = row.try_get("answers")?;
        *cells
            .entry((key, group, bucket_start))
            .or_default()
            .entry(score)
            .or_default() += u64::try_from(answers).unwrap_or(0);
    }
    Ok(cells
        .into_iter()
        .map(|((question_key, group, bucket_start), counts)| ScoreCell {
            question_key,
            group,
            bucket_start,
            counts,
        })
        .collect())
}

/// One group and bucket's response count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeCell {
    pub group: Vec<String>,
    pub bucket_start: Option<NaiveDate>,
    pub responses: u64,
}

pub async fn volume_cells(
    pool: &PgPool,
    survey_id: Uuid,
    filter: &Filter,
    spec: &GroupSpec,
) -> Result<Vec<VolumeCell>, AnalyticsError> {
    let mut q = QueryBuilder::<Postgres>::new("select ");
    push_group_select(&mut q, spec);
    q.push(" sum(responses)::bigint as responses from response_daily where survey_id = ");
    q.push_bind(survey_id);
    push_filter(&mut q, filter);
    let group_by = group_expressions(spec);
    if !group_by.is_empty() {
        q.push(format!(" group by {}", group_by.join(", ")));
    }
    let rows = q.build().fetch_all(pool).await?;
    let mut cells = Vec::with_capacity(rows.len());
    for row in rows {
        let (group, bucket_start) = read_group(&row, spec)?;
        let responses: i64 = row.try_get("responses")?;
        cells.push(VolumeCell {
            group,
            bucket_start,
            responses: u64::try_from(responses).unwrap_or(0),
        });
    }
    cells.sort_by(|a, b| (&a.group, a.bucket_start).cmp(&(&b.group, b.bucket_start)));
    Ok(cells)
}

fn bucket_expression(bucket: TimeBucket) -> Option<&'static str> {
    match bucket {
        TimeBucket::None => None,
        TimeBucket::Day => Some("day"),
        TimeBucket::Week => Some("date_trunc('week', day)::date"),
        TimeBucket::Month => Some("date_trunc('month', day)::date"),
    }
}

// Column names come from a fixed list in parse_grouping, never from the request.
fn push_group_select(q: &mut QueryBuilder<Postgres>, spec: &GroupSpec) {
    for (i, column) in spec.columns.iter().enumerate() {
        q.push(format!("{column} as g{i}, "));
    }
    if let Some(expression) = bucket_expression(spec.bucket) {
        q.push(format!("{expression} as bucket_start, "));
    }
}

fn group_expressions(spec: &GroupSpec) -> Vec<String> {
    spec.columns
        .iter()
        .map(|column| (*column).to_owned())
        .chain(bucket_expression(spec.bucket).map(str::to_owned))
        .collect()
}

fn read_group(
    row: &sqlx::postgres::PgRow,
    spec: &GroupSpec,
) -> Result<(Vec<String>, Option<NaiveDate>), AnalyticsError> {
    let mut group = Vec::with_capacity(spec.columns.len());
    for i in 0..spec.columns.len() {
        group.push(row.try_get::<String, _>(format!("g{i}").as_str())?);
    }
    let bucket_start = match spec.bucket {
        TimeBucket::None => None,
        _ => Some(row.try_get::<NaiveDate, _>("bucket_start")?),
    };
    Ok((group, bucket_start))
}

fn push_any(q: &mut QueryBuilder<Postgres>, column: &str, values: &[String]) {
    if !values.is_empty() {
        q.push(format!(" and {column} = any("));
        q.push_bind(values.to_vec());
        q.push(")");
    }
}

/// Where the filter's columns are: the rollups name the day `day`, the response facts
/// `answered_on`, and a join may need a table alias.
#[derive(Debug, Clone, Copy)]
pub struct FilterColumns {
    pub prefix: &'static str,
    pub day: &'static str,
}

pub const ROLLUP_COLUMNS: FilterColumns = FilterColumns {
    prefix: "",
    day: "day",
};

/// The filter as AND-ed conditions; an empty list restricts nothing (roles are never empty).
pub fn push_filter_on(q: &mut QueryBuilder<Postgres>, filter: &Filter, at: FilterColumns) {
    let column = |name: &str| format!("{}{name}", at.prefix);
    push_any(q, &column("unit_id"), &filter.unit_ids);
    if !filter.unit_subtrees.is_empty() {
        q.push(format!(
            " and {} in (select unit_id from org_unit where path && ",
            column("unit_id")
        ));
        q.push_bind(filter.unit_subtrees.clone());
        q.push("::text[])");
    }
    if let Some(from) = filter.from {
        q.push(format!(" and {} >= ", column(at.day)));
        q.push_bind(from);
    }
    if let Some(to) = filter.to {
        q.push(format!(" and {} <= ", column(at.day)));
        q.push_bind(to);
    }
    push_any(q, &column("channel"), &filter.channels);
    push_any(q, &column("respondent_role"), &filter.respondent_roles);
    push_any(
        q,
        &column("professional_group"),
        &filter.professional_groups,
    );
    push_any(q, &column("age_band"), &filter.age_bands);
    push_any(q, &column("language"), &filter.languages);
    push_any(q, &column("period_id"), &filter.period_ids);
}

fn push_filter(q: &mut QueryBuilder<Postgres>, filter: &Filter) {
    push_filter_on(q, filter, ROLLUP_COLUMNS);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grouping(group_by: &[i32], bucket: i32) -> Grouping {
        Grouping {
            group_by: group_by.to_vec(),
            bucket,
        }
    }

    #[test]
    fn dimensions_become_columns_in_the_order_asked() {
        let spec = parse_grouping(
            Some(&grouping(
                &[Dimension::Channel as i32, Dimension::Unit as i32],
                2,
            )),
            "grouping",
        )
        .expect("valid");
        assert_eq!(spec.columns, vec!["channel", "unit_id"]);
        assert_eq!(spec.bucket, TimeBucket::Week);
        assert!(
            parse_grouping(None, "grouping")
                .expect("none")
                .is_total_only()
        );
    }

    #[test]
    fn unknown_or_repeated_dimensions_and_buckets_are_refused() {
        let error = parse_grouping(
            Some(&grouping(
                &[0, Dimension::Unit as i32, Dimension::Unit as i32, 99],
                7,
            )),
            "grouping",
        )
        .expect_err("invalid");
        assert_eq!(
            error.fields(),
            vec![
                "grouping.group_by[0]",
                "grouping.group_by[2]",
                "grouping.group_by[3]",
                "grouping.bucket"
            ]
        );
    }
}
