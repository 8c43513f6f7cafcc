//! Readers' figures from the partition (ADR 0018, `disclosure`): the cells come from the
//! month-grain rows of the `all` rollup cuboid, which keeps every dimension.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use kaiku_domain::rollup::{SCORE_COLUMNS, column_score};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use crate::AnalyticsError;
use crate::cells::{FilterColumns, GroupSpec, ScoreCell, ScoreCells, VolumeCell, push_filter_on};
use crate::disclosure::{Cell, CellKey, Partition};
use crate::filter::Filter;

/// The survey's partition, built from every response it has (whoever asks and whatever they
/// ask, so that no two answers are cut from different partitions).
pub async fn partition(
    pool: &PgPool,
    survey_id: Uuid,
    min_group_size: u32,
) -> Result<Partition, AnalyticsError> {
    let rows = sqlx::query(
        "select r.unit_id, r.bucket, r.period_id, r.channel, r.respondent_role,
                r.professional_group, r.age_band, r.language, r.responses,
                coalesce(o.path, array[r.unit_id]) as path
         from response_rollup r left join org_unit o using (unit_id)
         where r.survey_id = $1 and r.cuboid = 'all' and r.grain = 'month' and r.responses > 0",
    )
    .bind(survey_id)
    .fetch_all(pool)
    .await?;
    let mut cells = Vec::with_capacity(rows.len());
    for row in rows {
        cells.push(Cell {
            key: key_of(&row, "bucket", "language")?,
            unit_path: row.try_get("path")?,
            responses: u64::try_from(row.try_get::<i64, _>("responses")?).unwrap_or(0),
        });
    }
    Ok(Partition::build(cells, min_group_size))
}

/// The cell a row belongs to; `month` and `language` name the row's columns for the month's
/// first day and the response's language (a text row has its own language beside it).
pub fn key_of(
    row: &sqlx::postgres::PgRow,
    month: &str,
    language: &str,
) -> Result<CellKey, AnalyticsError> {
    Ok(CellKey {
        unit_id: row.try_get("unit_id")?,
        month: row.try_get::<NaiveDate, _>(month)?,
        period_id: row.try_get("period_id")?,
        channel: row.try_get("channel")?,
        respondent_role: row.try_get("respondent_role")?,
        professional_group: row.try_get("professional_group")?,
        age_band: row.try_get("age_band")?,
        language: row.try_get(language)?,
    })
}

/// Counts by score per question from whole blocks: a block counts for a question only when it
/// holds at least the minimum of answers to it (don't-knows included), in every query alike.
pub async fn score_cells(
    pool: &PgPool,
    partition: &Partition,
    survey_id: Uuid,
    question_keys: &[String],
    filter: &Filter,
    spec: &GroupSpec,
) -> Result<ScoreCells, AnalyticsError> {
    let contained = partition.contained(filter);
    if contained.is_empty() {
        return Ok(ScoreCells::default());
    }
    let mut q = QueryBuilder::<Postgres>::new(
        "select question_key, unit_id, bucket, period_id, channel, respondent_role,
                professional_group, age_band, language, ",
    );
    q.push(SCORE_COLUMNS.join(", "));
    q.push(" from answer_rollup where cuboid = 'all' and grain = 'month' and survey_id = ");
    q.push_bind(survey_id);
    q.push(" and question_key = any(");
    q.push_bind(question_keys.to_vec());
    q.push(")");
    // Cells outside the filter belong to no block a reader's figure counts.
    push_filter_on(
        &mut q,
        filter,
        FilterColumns {
            prefix: "",
            day: Some("bucket"),
        },
    );
    let rows = q.build().fetch_all(pool).await?;
    let mut by_block: HashMap<(String, usize), BTreeMap<i16, u64>> = HashMap::new();
    for row in rows {
        let key = key_of(&row, "bucket", "language")?;
        let Some(block) = partition.block_of(&key) else {
            continue;
        };
        let counts = by_block
            .entry((row.try_get("question_key")?, block))
            .or_default();
        for (index, column) in SCORE_COLUMNS.iter().enumerate() {
            let n = u64::try_from(row.try_get::<i64, _>(*column)?).unwrap_or(0);
            if n > 0 {
                *counts.entry(column_score(index)).or_default() += n;
            }
        }
    }
    let mut cells = ScoreCells::default();
    let mut groups: BTreeMap<GroupKey, BTreeMap<i16, u64>> = BTreeMap::new();
    for key in question_keys {
        let mut total: BTreeMap<i16, u64> = BTreeMap::new();
        for block in &contained {
            let Some(counts) = by_block.get(&(key.clone(), *block)) else {
                continue;
            };
            if counts.values().sum::<u64>() < partition.min_group_size() {
                continue;
            }
            add(&mut total, counts);
            if !spec.is_total_only()
                && let Some((group, bucket)) = partition.group_of(*block, spec)
            {
                add(
                    groups.entry((key.clone(), group, bucket)).or_default(),
                    counts,
                );
            }
        }
        if !total.is_empty() {
            cells.totals.push(ScoreCell {
                question_key: key.clone(),
                group: vec![],
                bucket_start: None,
                counts: total,
            });
        }
    }
    cells.groups = groups
        .into_iter()
        .map(|((question_key, group, bucket_start), counts)| ScoreCell {
            question_key,
            group,
            bucket_start,
            counts,
        })
        .collect();
    Ok(cells)
}

/// A grouped row of one question: (question key, group values, month).
type GroupKey = (String, Vec<String>, Option<NaiveDate>);

fn add(into: &mut BTreeMap<i16, u64>, counts: &BTreeMap<i16, u64>) {
    for (score, n) in counts {
        *into.entry(*score).or_default() += n;
    }
}

/// Response counts from whole blocks: the total of the blocks inside the filter and, grouped,
/// the blocks that share each row's values.
pub fn volume(partition: &Partition, filter: &Filter, spec: &GroupSpec) -> (u64, Vec<VolumeCell>) {
    let contained = partition.contained(filter);
    let total = contained
        .iter()
        .map(|b| partition.blocks[*b].responses)
        .sum();
    let mut rows: BTreeMap<(Vec<String>, Option<NaiveDate>), u64> = BTreeMap::new();
    if !spec.is_total_only() {
        for block in &contained {
            if let Some(group) = partition.group_of(*block, spec) {
                *rows.entry(group).or_default() += partition.blocks[*block].responses;
            }
        }
    }
    let rows = rows
        .into_iter()
        .map(|((group, bucket_start), responses)| VolumeCell {
            group,
            bucket_start,
            responses,
        })
        .collect();
    (total, rows)
}

/// The cells of the blocks inside the filter, as parallel arrays for an `unnest` join: the
/// only cells a reader's texts may come from.
#[derive(Debug, Default)]
pub struct PublishedCells {
    pub unit_ids: Vec<String>,
    pub months: Vec<NaiveDate>,
    pub period_ids: Vec<String>,
    pub channels: Vec<String>,
    pub roles: Vec<String>,
    pub groups: Vec<String>,
    pub age_bands: Vec<String>,
    pub languages: Vec<String>,
}

pub fn published_cells(partition: &Partition, filter: &Filter) -> PublishedCells {
    let mut out = PublishedCells::default();
    for block in partition.contained(filter) {
        for cell in &partition.blocks[block].cells {
            let key = &partition.cells[*cell].key;
            out.unit_ids.push(key.unit_id.clone());
            out.months.push(key.month);
            out.period_ids.push(key.period_id.clone());
            out.channels.push(key.channel.clone());
            out.roles.push(key.respondent_role.clone());
            out.groups.push(key.professional_group.clone());
            out.age_bands.push(key.age_band.clone());
            out.languages.push(key.language.clone());
        }
    }
    out
}

impl PublishedCells {
    pub fn is_empty(&self) -> bool {
        self.unit_ids.is_empty()
    }

    /// `and (response columns) in (the published cells)`, on the response table aliased `r.`.
    pub fn push_condition(&self, q: &mut QueryBuilder<Postgres>) {
        q.push(
            " and (r.unit_id, date_trunc('month', r.answered_on)::date, r.period_id, r.channel,
                   r.respondent_role, r.professional_group, r.age_band, r.language)
                  in (select * from unnest(",
        );
        q.push_bind(self.unit_ids.clone());
        q.push("::text[], ");
        q.push_bind(self.months.clone());
        q.push("::date[], ");
        q.push_bind(self.period_ids.clone());
        q.push("::text[], ");
        q.push_bind(self.channels.clone());
        q.push("::text[], ");
        q.push_bind(self.roles.clone());
        q.push("::text[], ");
        q.push_bind(self.groups.clone());
        q.push("::text[], ");
        q.push_bind(self.age_bands.clone());
        q.push("::text[], ");
        q.push_bind(self.languages.clone());
        q.push("::text[]))");
    }
}
