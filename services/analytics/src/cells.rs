//! Grouped reads of the daily rollups: one SQL shape for every figure. The filter becomes the
//! WHERE clause, the grouping the GROUP BY; the rollups' primary keys start with the survey, so
//! every query reads one survey's rows only and never touches the fact tables.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use kaiku_domain::Violations;
use kaiku_domain::rollup::{
    Cuboid, Dimension as RollupDimension, Grain, SCORE_COLUMNS, column_score, plan_range,
};
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

/// One group and bucket's counts by score (-1 = "don't know") for one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreCell {
    pub question_key: String,
    pub group: Vec<String>,
    pub bucket_start: Option<NaiveDate>,
    pub counts: BTreeMap<i16, u64>,
}

/// Counts by score for the given questions: each question's total and, when the grouping asks
/// for any, its groups and buckets.
#[derive(Debug, Default)]
pub struct ScoreCells {
    pub totals: Vec<ScoreCell>,
    pub groups: Vec<ScoreCell>,
}

/// Counts by score from `answer_rollup` for the given questions, in total and grouped as asked,
/// in one query (GROUPING SETS): a grouped figure reads the rollup rows once.
pub async fn score_cells(
    pool: &PgPool,
    survey_id: Uuid,
    question_keys: &[String],
    filter: &Filter,
    spec: &GroupSpec,
) -> Result<ScoreCells, AnalyticsError> {
    let grouped = !spec.is_total_only();
    let mut q = QueryBuilder::<Postgres>::new("select question_key, ");
    push_group_select(&mut q, spec);
    let expressions = group_expressions(spec);
    if let Some(first) = expressions.first() {
        // 1 on the total rows of the grouping sets below, 0 on the groups.
        q.push(format!("grouping({first}) as is_total, "));
    }
    let sums: Vec<String> = SCORE_COLUMNS
        .iter()
        .map(|c| format!("sum({c})::bigint as {c}"))
        .collect();
    q.push(sums.join(", "));
    q.push(" from answer_rollup where survey_id = ");
    q.push_bind(survey_id);
    q.push(" and question_key = any(");
    q.push_bind(question_keys.to_vec());
    q.push(")");
    push_rollup_filter(&mut q, filter, spec);
    if grouped {
        q.push(format!(
            " group by grouping sets ((question_key), (question_key, {}))",
            expressions.join(", ")
        ));
    } else {
        q.push(" group by question_key");
    }
    let rows = q.build().fetch_all(pool).await?;
    let mut cells = ScoreCells::default();
    for row in rows {
        let question_key: String = row.try_get("question_key")?;
        let is_total = !grouped || row.try_get::<i32, _>("is_total")? == 1;
        let (group, bucket_start) = if is_total {
            (Vec::new(), None)
        } else {
            read_group(&row, spec)?
        };
        let mut counts = BTreeMap::new();
        for (index, column) in SCORE_COLUMNS.iter().enumerate() {
            let n: i64 = row.try_get(*column)?;
            if n > 0 {
                counts.insert(column_score(index), u64::try_from(n).unwrap_or(0));
            }
        }
        let cell = ScoreCell {
            question_key,
            group,
            bucket_start,
            counts,
        };
        if is_total {
            cells.totals.push(cell);
        } else {
            cells.groups.push(cell);
        }
    }
    for list in [&mut cells.totals, &mut cells.groups] {
        list.sort_by(|a, b| {
            (&a.question_key, &a.group, a.bucket_start).cmp(&(
                &b.question_key,
                &b.group,
                b.bucket_start,
            ))
        });
    }
    Ok(cells)
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
    // coalesce: with no group by, a filter that matches nothing still yields one row, of NULL.
    q.push(
        " coalesce(sum(responses), 0)::bigint as responses from response_rollup where survey_id = ",
    );
    q.push_bind(survey_id);
    push_rollup_filter(&mut q, filter, spec);
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
        TimeBucket::Day => Some("bucket"),
        TimeBucket::Week => Some("date_trunc('week', bucket)::date"),
        TimeBucket::Month => Some("date_trunc('month', bucket)::date"),
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

/// Where the filter's columns are: the response facts name the day `answered_on`, and a join
/// may need a table alias. Without a day column the caller restricts the dates itself (the
/// rollups do it per grain, see push_rollup_filter).
#[derive(Debug, Clone, Copy)]
pub struct FilterColumns {
    pub prefix: &'static str,
    pub day: Option<&'static str>,
}

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
    if let Some(day) = at.day {
        if let Some(from) = filter.from {
            q.push(format!(" and {} >= ", column(day)));
            q.push_bind(from);
        }
        if let Some(to) = filter.to {
            q.push(format!(" and {} <= ", column(day)));
            q.push_bind(to);
        }
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

/// The grain a grouping reads: the coarsest whose buckets its time buckets are made of.
pub fn grain_for(bucket: TimeBucket) -> Grain {
    match bucket {
        TimeBucket::Day => Grain::Day,
        TimeBucket::Week => Grain::Week,
        TimeBucket::None | TimeBucket::Month => Grain::Month,
    }
}

/// The smallest cuboid keeping every dimension the query filters or groups by.
pub fn cuboid_for(filter: &Filter, spec: &GroupSpec) -> Cuboid {
    let mut needed = Vec::new();
    let mut need = |used: bool, dimension: RollupDimension| {
        if used {
            needed.push(dimension);
        }
    };
    need(
        !filter.unit_ids.is_empty() || !filter.unit_subtrees.is_empty(),
        RollupDimension::Unit,
    );
    need(!filter.channels.is_empty(), RollupDimension::Channel);
    need(
        !filter.professional_groups.is_empty(),
        RollupDimension::ProfessionalGroup,
    );
    need(!filter.age_bands.is_empty(), RollupDimension::AgeBand);
    need(!filter.languages.is_empty(), RollupDimension::Language);
    for column in &spec.columns {
        match *column {
            "unit_id" => needed.push(RollupDimension::Unit),
            "channel" => needed.push(RollupDimension::Channel),
            "professional_group" => needed.push(RollupDimension::ProfessionalGroup),
            "age_band" => needed.push(RollupDimension::AgeBand),
            "language" => needed.push(RollupDimension::Language),
            // Role and period are kept by every cuboid.
            _ => {}
        }
    }
    Cuboid::smallest_covering(&needed)
}

/// The filter on a rollup table: the smallest cuboid that answers the query, the whole buckets
/// of the grouping's grain inside the date range, plus day rows for the ragged ends of the
/// range (kaiku_domain::rollup::plan_range).
fn push_rollup_filter(q: &mut QueryBuilder<Postgres>, filter: &Filter, spec: &GroupSpec) {
    q.push(format!(
        " and cuboid = '{}'",
        cuboid_for(filter, spec).code()
    ));
    push_filter_on(
        q,
        filter,
        FilterColumns {
            prefix: "",
            day: None,
        },
    );
    let plan = plan_range(grain_for(spec.bucket), filter.from, filter.to);
    let mut alternatives: Vec<(Grain, Option<NaiveDate>, Option<NaiveDate>)> = Vec::new();
    if let Some((start, end)) = plan.coarse {
        alternatives.push((plan.grain, start, end));
    }
    for (first, last) in plan.days {
        alternatives.push((Grain::Day, Some(first), Some(last + Days::new(1))));
    }
    if alternatives.is_empty() {
        q.push(" and false");
        return;
    }
    q.push(" and (");
    for (i, (grain, start, end)) in alternatives.into_iter().enumerate() {
        if i > 0 {
            q.push(" or ");
        }
        q.push(format!("(grain = '{}'", grain.code()));
        if let Some(start) = start {
            q.push(" and bucket >= ");
            q.push_bind(start);
        }
        if let Some(end) = end {
            q.push(" and bucket < ");
            q.push_bind(end);
        }
        q.push(")");
    }
    q.push(")");
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
    fn the_cuboid_keeps_what_the_query_filters_and_groups_by() {
        let none = crate::filter::parse_filter(Some(&kaiku_proto::analytics::v1::ResponseFilter {
            respondent_roles: vec![kaiku_proto::survey::v1::RespondentRole::Client as i32],
            ..Default::default()
        }))
        .expect("clients only");
        let by = |columns: Vec<&'static str>| GroupSpec {
            columns,
            bucket: TimeBucket::Week,
        };
        assert_eq!(cuboid_for(&none, &by(vec![])), Cuboid::Survey);
        assert_eq!(
            cuboid_for(&none, &by(vec!["respondent_role", "period_id"])),
            Cuboid::Survey
        );
        assert_eq!(cuboid_for(&none, &by(vec!["channel"])), Cuboid::Channel);
        let subtree = Filter {
            unit_subtrees: vec!["area".into()],
            ..none.clone()
        };
        assert_eq!(cuboid_for(&subtree, &by(vec![])), Cuboid::Unit);
        assert_eq!(
            cuboid_for(&subtree, &by(vec!["channel"])),
            Cuboid::UnitChannel
        );
        assert_eq!(cuboid_for(&subtree, &by(vec!["language"])), Cuboid::All);
        let swedish = Filter {
            languages: vec!["sv".into()],
            ..none
        };
        assert_eq!(
            cuboid_for(&swedish, &by(vec!["age_band"])),
            Cuboid::Respondent
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
