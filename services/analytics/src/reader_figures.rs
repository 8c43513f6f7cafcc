//! Readers' figures from the released atoms (ADR 0018, ADR 0020, `disclosure`): the projection
//! releases them into the `reader_release` schema; figures are sums of whole atoms.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::AnalyticsError;
use crate::cells::{GroupSpec, ScoreCell, ScoreCells, VolumeCell};
use crate::disclosure::{Block, Cell, CellKey, Released};
use crate::filter::Filter;

/// The survey's newest atom (0 before its first): what a loaded release is compared with.
pub async fn latest_atom<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    survey_id: Uuid,
) -> Result<i64, AnalyticsError> {
    Ok(sqlx::query_scalar(
        "select coalesce(max(atom_id), 0) from reader_release.atom where survey_id = $1",
    )
    .bind(survey_id)
    .fetch_one(executor)
    .await?)
}

/// The survey's released atoms (ADR 0020), with each atom's answers. An atom smaller than this
/// service's minimum (a projection configured with a smaller one) is not used.
pub async fn released(
    pool: &PgPool,
    survey_id: Uuid,
    min_group_size: u32,
) -> Result<Released, AnalyticsError> {
    let k = u64::from(min_group_size.max(1));
    let mut tx = pool.begin().await?;
    // One snapshot: the atoms, their cells and answers of the same releases.
    sqlx::query("set transaction isolation level repeatable read read only")
        .execute(&mut *tx)
        .await?;
    let rows = sqlx::query(
        "select c.atom_id, c.unit_id, c.month, c.period_id, c.channel, c.respondent_role,
                c.professional_group, c.age_band, c.language, c.responses,
                coalesce(o.path, array[c.unit_id]) as path
         from reader_release.atom a
         join reader_release.atom_cell c using (atom_id)
         left join org_unit o using (unit_id)
         where a.survey_id = $1 and a.responses >= $2
         order by c.atom_id",
    )
    .bind(survey_id)
    .bind(i64::try_from(k).unwrap_or(i64::MAX))
    .fetch_all(&mut *tx)
    .await?;
    let mut released = Released {
        latest_atom: latest_atom(&mut *tx, survey_id).await?,
        min_group_size: k,
        ..Released::default()
    };
    let mut atom_index: HashMap<i64, usize> = HashMap::new();
    for row in rows {
        let atom_id: i64 = row.try_get("atom_id")?;
        let responses = u64::try_from(row.try_get::<i64, _>("responses")?).unwrap_or(0);
        let index = *atom_index.entry(atom_id).or_insert_with(|| {
            released.blocks.push(Block {
                cells: vec![],
                responses: 0,
            });
            released.atom_ids.push(atom_id);
            released.answers.push(HashMap::new());
            released.blocks.len() - 1
        });
        released.blocks[index].cells.push(released.cells.len());
        released.blocks[index].responses += responses;
        released.cells.push(Cell {
            key: key_of(&row)?,
            unit_path: row.try_get("path")?,
            responses,
        });
    }
    let answers = sqlx::query(
        "select n.atom_id, n.question_key, n.score, n.answers
         from reader_release.atom a join reader_release.atom_answer n using (atom_id)
         where a.survey_id = $1",
    )
    .bind(survey_id)
    .fetch_all(&mut *tx)
    .await?;
    for row in answers {
        let Some(index) = atom_index.get(&row.try_get::<i64, _>("atom_id")?) else {
            continue;
        };
        let n = u64::try_from(row.try_get::<i64, _>("answers")?).unwrap_or(0);
        *released.answers[*index]
            .entry(row.try_get("question_key")?)
            .or_default()
            .entry(row.try_get("score")?)
            .or_default() += n;
    }
    tx.commit().await?;
    Ok(released.indexed())
}

/// The cell an `atom_cell` row names.
fn key_of(row: &sqlx::postgres::PgRow) -> Result<CellKey, AnalyticsError> {
    Ok(CellKey {
        unit_id: row.try_get("unit_id")?,
        month: row.try_get::<NaiveDate, _>("month")?,
        period_id: row.try_get("period_id")?,
        channel: row.try_get("channel")?,
        respondent_role: row.try_get("respondent_role")?,
        professional_group: row.try_get("professional_group")?,
        age_band: row.try_get("age_band")?,
        language: row.try_get("language")?,
    })
}

/// Counts by score per question from whole atoms: an atom counts for a question only when it
/// holds at least the minimum of scored answers to it (don't-knows not counted: four of them
/// beside one score would show that score), in every query alike.
pub fn score_cells(
    released: &Released,
    question_keys: &[String],
    filter: &Filter,
    spec: &GroupSpec,
) -> ScoreCells {
    let contained = released.contained(filter);
    let mut cells = ScoreCells::default();
    let mut groups: BTreeMap<GroupKey, BTreeMap<i16, u64>> = BTreeMap::new();
    for key in question_keys {
        let mut total: BTreeMap<i16, u64> = BTreeMap::new();
        for atom in &contained {
            let Some(counts) = released.answers[*atom].get(key) else {
                continue;
            };
            // Scored answers only: "don't know"s beside one score would show that score.
            let scored: u64 = counts
                .iter()
                .filter(|(score, _)| **score >= 0)
                .map(|(_, n)| n)
                .sum();
            if scored < released.min_group_size {
                continue;
            }
            add(&mut total, counts);
            if !spec.is_total_only()
                && let Some((group, bucket)) = released.group_of(*atom, spec)
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
    cells
}

/// A grouped row of one question: (question key, group values, month).
type GroupKey = (String, Vec<String>, Option<NaiveDate>);

fn add(into: &mut BTreeMap<i16, u64>, counts: &BTreeMap<i16, u64>) {
    for (score, n) in counts {
        *into.entry(*score).or_default() += n;
    }
}

/// Response counts from whole atoms: the total of the atoms inside the filter and, grouped,
/// the atoms that share each row's values.
pub fn volume(released: &Released, filter: &Filter, spec: &GroupSpec) -> (u64, Vec<VolumeCell>) {
    let contained = released.contained(filter);
    let total = contained
        .iter()
        .map(|b| released.blocks[*b].responses)
        .sum();
    let mut rows: BTreeMap<(Vec<String>, Option<NaiveDate>), u64> = BTreeMap::new();
    if !spec.is_total_only() {
        for block in &contained {
            if let Some(group) = released.group_of(*block, spec) {
                *rows.entry(group).or_default() += released.blocks[*block].responses;
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

/// The ids of the atoms inside the filter: the only ones a reader's texts may come from.
pub fn published_atoms(released: &Released, filter: &Filter) -> Vec<i64> {
    released
        .contained(filter)
        .into_iter()
        .map(|atom| released.atom_ids[atom])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::Filter;
    use kaiku_domain::disclosure::Partition;
    use kaiku_domain::fixtures::disclosure_cell as cell;

    #[test]
    fn a_question_counts_only_with_the_minimum_of_scored_answers() {
        let mut released = Released::whole(Partition::build(
            vec![cell(&["county", "a"], 1, "client", "web", 5)],
            5,
        ));
        // One score beside four "don't know"s would show that score; five scores count.
        released.answers[0].insert("st".into(), BTreeMap::from([(-1, 4), (4, 1)]));
        released.answers[0].insert("nps".into(), BTreeMap::from([(9, 3), (2, 2)]));
        let filter = Filter {
            respondent_roles: vec!["client".into()],
            ..Filter::default()
        };
        let spec = GroupSpec {
            columns: vec![],
            bucket: kaiku_proto::analytics::v1::TimeBucket::None,
        };
        let cells = score_cells(&released, &["st".into(), "nps".into()], &filter, &spec);
        let keys: Vec<&str> = cells
            .totals
            .iter()
            .map(|c| c.question_key.as_str())
            .collect();
        assert_eq!(keys, vec!["nps"]);
    }
}
