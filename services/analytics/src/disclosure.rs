//! Disclosure control for readers (ADR 0018, ADR 0020): the one place that decides what a
//! caller without row-level access (`kaiku.export`) may learn. Pure: every rule is tested
//! without a database; `reader_figures` loads what was released and applies them.
//!
//! Suppressing small cells table by table does not protect a respondent from a reader who
//! subtracts one query from another (a parent unit minus its larger child, two roles minus one,
//! one date range minus a shorter one, today's figure minus yesterday's). So readers are not
//! answered from the data but from the survey's **released atoms**
//! (`kaiku_domain::disclosure`): disjoint sets of at least `min_group_size` responses that
//! never change once released, cut from a partition built the same way whoever asks.
//!
//! - A reader's query counts an atom only when **every cell of it matches the filter** and
//!   groups an atom into a row only when every cell of it has the row's value. So every figure a
//!   reader sees, and every sum or difference of figures asked at any times, is a sum of whole
//!   atoms: nothing about a group smaller than the minimum can be derived.
//! - A question's answers in an atom count only when the atom holds at least the minimum of
//!   scored answers to it (an atom of 6 responses with 3 NPS answers gives no NPS; "don't
//!   know"s do not count), the same for every query.
//! - Time: readers filter by whole months and group by months only, so no day is derivable.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use kaiku_domain::Violations;
use kaiku_proto::analytics::v1::TimeBucket;

use crate::cells::GroupSpec;
use crate::filter::Filter;

/// Who is asking, for the one decision of how they are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Holds `kaiku.export`: may read the responses row by row (audited) anyway, so figures are
    /// exact, with small cells suppressed table by table.
    RowLevel,
    /// Everyone else: answered from the partition only.
    Reader,
}

impl Audience {
    pub fn of(caller: Option<&kaiku_auth::Principal>) -> Audience {
        match caller {
            Some(caller) if caller.has(kaiku_auth::Scope::Export) => Audience::RowLevel,
            _ => Audience::Reader,
        }
    }
}

pub use kaiku_domain::disclosure::{Block, Cell, CellKey};

/// What a reader is answered from: the survey's released atoms (ADR 0020,
/// `kaiku_domain::disclosure`). Each atom is a block's responses released together, at least
/// the minimum of them; a cell's responses can be in several atoms.
#[derive(Debug, Clone, Default)]
pub struct Released {
    /// The survey's newest atom when loaded (0 when there is none): a newer one means a new
    /// release.
    pub latest_atom: i64,
    /// One entry per cell of each atom (a cell in two atoms is here twice), with the atom's
    /// responses in it.
    pub cells: Vec<Cell>,
    /// The atoms, as blocks of `cells`.
    pub blocks: Vec<Block>,
    /// Each atom's id in `reader_release`.
    pub atom_ids: Vec<i64>,
    /// Each atom's answers: question key, then count by score (-1 is "don't know").
    pub answers: Vec<HashMap<String, BTreeMap<i16, u64>>>,
    pub min_group_size: u64,
    /// Each atom's index by its id ([`Released::indexed`]).
    pub(crate) by_id: HashMap<i64, usize>,
}

impl Released {
    /// Every block of a partition as one atom of all its responses: what a survey whose
    /// answers all came before its first release has.
    #[cfg(test)]
    pub fn whole(partition: kaiku_domain::disclosure::Partition) -> Released {
        let answers = vec![HashMap::new(); partition.blocks.len()];
        Released {
            latest_atom: 0,
            min_group_size: partition.min_group_size(),
            atom_ids: (0..).take(partition.blocks.len()).collect(),
            answers,
            cells: partition.cells,
            blocks: partition.blocks,
            by_id: HashMap::new(),
        }
        .indexed()
    }

    /// Indexes the atoms by id, once all are in.
    pub fn indexed(mut self) -> Released {
        self.by_id = self
            .atom_ids
            .iter()
            .enumerate()
            .map(|(index, id)| (*id, index))
            .collect();
        self
    }

    /// The index of the atom with this id; None for an atom not loaded (released since).
    pub fn atom_index(&self, atom_id: i64) -> Option<usize> {
        self.by_id.get(&atom_id).copied()
    }

    /// The blocks every cell of which matches the filter: the only ones a reader's figure
    /// counts.
    pub fn contained(&self, filter: &Filter) -> Vec<usize> {
        (0..self.blocks.len())
            .filter(|b| {
                self.blocks[*b]
                    .cells
                    .iter()
                    .all(|c| cell_matches(filter, &self.cells[*c]))
            })
            .collect()
    }

    /// The block's value on each grouped column and its month when grouped by month; None
    /// when its cells differ there (the block is then counted in the total only).
    pub fn group_of(
        &self,
        block: usize,
        spec: &GroupSpec,
    ) -> Option<(Vec<String>, Option<NaiveDate>)> {
        let cells: Vec<&Cell> = self.blocks[block]
            .cells
            .iter()
            .map(|c| &self.cells[*c])
            .collect();
        let first = cells.first()?;
        let mut group = Vec::with_capacity(spec.columns.len());
        for column in &spec.columns {
            let value = column_value(&first.key, column);
            if cells.iter().any(|c| column_value(&c.key, column) != value) {
                return None;
            }
            group.push(value.to_owned());
        }
        let bucket = match spec.bucket {
            TimeBucket::None => None,
            _ => {
                let month = first.key.month;
                if cells.iter().any(|c| c.key.month != month) {
                    return None;
                }
                Some(month)
            }
        };
        Some((group, bucket))
    }

    /// What a reader is told about a text's origin: each attribute its block shares, the
    /// block's lowest common unit, and the month when the block is of one month.
    pub fn shown_origin(&self, block: usize) -> ShownOrigin {
        let cells: Vec<&Cell> = self.blocks[block]
            .cells
            .iter()
            .map(|c| &self.cells[*c])
            .collect();
        let shared = |value: fn(&CellKey) -> &str| -> String {
            match cells.first() {
                Some(first) if cells.iter().all(|c| value(&c.key) == value(&first.key)) => {
                    value(&first.key).to_owned()
                }
                _ => String::new(),
            }
        };
        let mut common: Vec<String> = cells
            .first()
            .map(|c| c.unit_path.clone())
            .unwrap_or_default();
        for cell in &cells {
            let same = common
                .iter()
                .zip(&cell.unit_path)
                .take_while(|(a, b)| a == b)
                .count();
            common.truncate(same);
        }
        let month = cells
            .first()
            .map(|c| c.key.month)
            .filter(|m| cells.iter().all(|c| c.key.month == *m));
        ShownOrigin {
            unit_id: common.last().cloned().unwrap_or_default(),
            month,
            period_id: shared(|k| &k.period_id),
            channel: shared(|k| &k.channel),
            respondent_role: shared(|k| &k.respondent_role),
            professional_group: shared(|k| &k.professional_group),
            language: shared(|k| &k.language),
        }
    }
}

/// A text's origin as a reader sees it: what its whole block shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownOrigin {
    pub unit_id: String,
    pub month: Option<NaiveDate>,
    pub period_id: String,
    pub channel: String,
    pub respondent_role: String,
    pub professional_group: String,
    /// The responses' language, when the whole block answered in one.
    pub language: String,
}

fn column_value<'a>(key: &'a CellKey, column: &str) -> &'a str {
    match column {
        "unit_id" => &key.unit_id,
        "channel" => &key.channel,
        "respondent_role" => &key.respondent_role,
        "professional_group" => &key.professional_group,
        "age_band" => &key.age_band,
        "language" => &key.language,
        "period_id" => &key.period_id,
        _ => "",
    }
}

/// Whether a cell lies inside the filter. Readers' dates are whole months (see
/// [`check_reader_query`]), so a month is inside the range or outside it.
pub fn cell_matches(filter: &Filter, cell: &Cell) -> bool {
    let key = &cell.key;
    let any =
        |values: &[String], value: &str| values.is_empty() || values.iter().any(|v| v == value);
    any(&filter.unit_ids, &key.unit_id)
        && (filter.unit_subtrees.is_empty()
            || cell
                .unit_path
                .iter()
                .any(|unit| filter.unit_subtrees.contains(unit)))
        && filter.from.is_none_or(|from| key.month >= from)
        && filter.to.is_none_or(|to| key.month <= to)
        && any(&filter.channels, &key.channel)
        && any(&filter.respondent_roles, &key.respondent_role)
        && any(&filter.professional_groups, &key.professional_group)
        && any(&filter.age_bands, &key.age_band)
        && any(&filter.languages, &key.language)
        && any(&filter.period_ids, &key.period_id)
}

/// What a reader may ask on top of what anyone may: dates that are whole months and month
/// buckets at the finest, so no single day is ever derivable, and no `min_sequence`: a reader's
/// figures are releases, and waiting for a sequence (or being told one) would show when single
/// answers came.
pub fn check_reader_query(
    filter: &Filter,
    spec: &GroupSpec,
    min_sequence: u64,
) -> Result<(), Violations> {
    let mut v = Violations::new();
    if min_sequence != 0 {
        v.add(
            "min_sequence",
            "must be 0 without kaiku.export: readers see answers released in groups (ADR 0020), \
             which no sequence names; waiting for one would show when single answers came",
        );
    }
    if let Some(from) = filter.from
        && from.day() != 1
    {
        v.add(
            "filter.from_date",
            format!(
                "{from} is not the first day of a month: without kaiku.export, figures are for \
                 whole months, so that no single day's answers can be told apart"
            ),
        );
    }
    if let Some(to) = filter.to
        && to.succ_opt().is_some_and(|next| next.day() != 1)
    {
        v.add(
            "filter.to_date",
            format!(
                "{to} is not the last day of a month: without kaiku.export, figures are for \
                 whole months, so that no single day's answers can be told apart"
            ),
        );
    }
    if matches!(spec.bucket, TimeBucket::Day | TimeBucket::Week) {
        v.add(
            "grouping.bucket",
            "days and weeks need kaiku.export: readers see months (TIME_BUCKET_MONTH), so that \
             no single day's answers can be told apart",
        );
    }
    v.into_result(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kaiku_domain::disclosure::Partition;
    use kaiku_domain::fixtures::disclosure_cell as cell;

    fn filter() -> Filter {
        Filter {
            unit_ids: vec![],
            from: None,
            to: None,
            channels: vec![],
            respondent_roles: vec!["client".into(), "guardian".into()],
            professional_groups: vec![],
            age_bands: vec![],
            languages: vec![],
            unit_subtrees: vec![],
            period_ids: vec![],
        }
    }

    fn sum(partition: &Released, blocks: &[usize]) -> u64 {
        blocks.iter().map(|b| partition.blocks[*b].responses).sum()
    }

    #[test]
    fn a_small_unit_is_left_out_so_parent_minus_children_reveals_nothing() {
        // school-c has 31 clients of its own and a class of 3: the class is in no figure, so
        // school-c's subtree and school-c itself are the same 31.
        let cells = vec![
            cell(&["county", "school-c"], 1, "client", "web", 31),
            cell(&["county", "school-c", "class-1"], 1, "client", "web", 3),
            cell(&["county", "school-d"], 1, "client", "web", 40),
        ];
        let partition = Released::whole(Partition::build(cells, 5));
        let class = Filter {
            unit_ids: vec!["class-1".into()],
            ..filter()
        };
        assert!(partition.contained(&class).is_empty());
        let own = Filter {
            unit_ids: vec!["school-c".into()],
            ..filter()
        };
        assert_eq!(sum(&partition, &partition.contained(&own)), 31);
        let subtree = Filter {
            unit_subtrees: vec!["school-c".into()],
            ..filter()
        };
        assert_eq!(sum(&partition, &partition.contained(&subtree)), 31);
        assert_eq!(sum(&partition, &partition.contained(&filter())), 71);
    }

    #[test]
    fn roles_named_together_minus_one_role_gives_no_small_role() {
        let cells = vec![
            cell(&["county", "a"], 1, "client", "web", 31),
            cell(&["county", "a"], 1, "guardian", "web", 3),
        ];
        let partition = Released::whole(Partition::build(cells, 5));
        let both = sum(&partition, &partition.contained(&filter()));
        let clients = sum(
            &partition,
            &partition.contained(&Filter {
                respondent_roles: vec!["client".into()],
                ..filter()
            }),
        );
        // The 3 guardians are too few to show anywhere, so they are in no figure.
        assert_eq!(both, 31);
        assert!(
            both - clients == 0 || both - clients >= 5,
            "{both} {clients}"
        );
    }

    #[test]
    fn a_survey_below_the_minimum_publishes_nothing() {
        let partition = Released::whole(Partition::build(
            vec![cell(&["county", "a"], 1, "client", "web", 4)],
            5,
        ));
        assert!(partition.blocks.is_empty());
        assert!(partition.contained(&filter()).is_empty());
    }

    #[test]
    fn a_block_joins_a_row_only_when_all_its_cells_share_the_rows_value() {
        let cells = vec![
            cell(&["county", "a"], 1, "client", "web", 6),
            cell(&["county", "a"], 2, "client", "web", 2),
            cell(&["county", "a"], 3, "client", "web", 7),
        ];
        let partition = Released::whole(Partition::build(cells, 5));
        let by_month = GroupSpec {
            columns: vec![],
            bucket: TimeBucket::Month,
        };
        let rows: Vec<_> = partition
            .contained(&filter())
            .into_iter()
            .filter_map(|b| partition.group_of(b, &by_month))
            .collect();
        // February's 2 join the smallest month beside them (January): only March is a row.
        assert_eq!(rows, vec![(vec![], NaiveDate::from_ymd_opt(2026, 3, 1))]);
    }

    /// How long a large survey's partition takes (run with --ignored; the figure is in the
    /// note of issue 21): 60 units under 6 areas, 24 months, every role, channel, group, age
    /// band and language, one cell in three populated.
    #[test]
    #[ignore]
    fn the_partition_of_a_large_survey() {
        let mut cells = Vec::new();
        let mut seed = 7u64;
        for area in 0..6 {
            for school in 0..10 {
                let path = [
                    "county".to_owned(),
                    format!("area-{area}"),
                    format!("u-{area}-{school}"),
                ];
                for month in 1..=24u32 {
                    for role in ["client", "guardian", "relative"] {
                        for channel in ["qr", "web_link", "kiosk", "sms", "paper", "api"] {
                            for group in ["a", "b", "c", "d", "e"] {
                                for age in ["child", "teen", "adult", "senior"] {
                                    for language in ["fi", "sv", "en"] {
                                        seed = seed
                                            .wrapping_mul(6_364_136_223_846_793_005)
                                            .wrapping_add(1);
                                        if !(seed >> 33).is_multiple_of(3) {
                                            continue;
                                        }
                                        cells.push(Cell {
                                            key: CellKey {
                                                unit_id: path[2].clone(),
                                                month: NaiveDate::from_ymd_opt(
                                                    2025 + (month as i32 - 1) / 12,
                                                    (month - 1) % 12 + 1,
                                                    1,
                                                )
                                                .unwrap_or_default(),
                                                period_id: String::new(),
                                                channel: channel.into(),
                                                respondent_role: role.into(),
                                                professional_group: group.into(),
                                                age_band: age.into(),
                                                language: language.into(),
                                            },
                                            unit_path: path.to_vec(),
                                            responses: 1 + (seed >> 40) % 40,
                                        });
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let started = std::time::Instant::now();
        let partition = Released::whole(Partition::build(cells, 5));
        let built = started.elapsed();
        let contained = partition.contained(&Filter {
            unit_subtrees: vec!["area-1".into()],
            ..filter()
        });
        println!(
            "{} cells, {} blocks: built in {built:?}, one filter in {:?} ({} blocks inside)",
            partition.cells.len(),
            partition.blocks.len(),
            started.elapsed() - built,
            contained.len()
        );
    }

    #[test]
    fn readers_ask_for_whole_months_and_month_buckets() {
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d);
        let month_spec = GroupSpec {
            columns: vec![],
            bucket: TimeBucket::Month,
        };
        let whole = Filter {
            from: day(2, 1),
            to: day(2, 28),
            ..filter()
        };
        assert!(check_reader_query(&whole, &month_spec, 0).is_ok());
        let ragged = Filter {
            from: day(2, 2),
            to: day(2, 27),
            ..filter()
        };
        let week = GroupSpec {
            columns: vec![],
            bucket: TimeBucket::Week,
        };
        let error = check_reader_query(&ragged, &week, 7).expect_err("ragged");
        assert_eq!(
            error.fields(),
            vec![
                "min_sequence",
                "filter.from_date",
                "filter.to_date",
                "grouping.bucket"
            ]
        );
    }

    #[test]
    fn a_texts_origin_is_what_its_block_shares() {
        // February's 3 kiosk answers join January's 31 web ones.
        let cells = vec![
            cell(&["county", "school-c"], 1, "client", "web", 31),
            cell(&["county", "school-c"], 2, "client", "kiosk", 3),
        ];
        let partition = Released::whole(Partition::build(cells, 5));
        let key = partition.cells[1].key.clone();
        let block = partition
            .blocks
            .iter()
            .position(|b| b.cells.iter().any(|c| partition.cells[*c].key == key))
            .expect("released");
        let origin = partition.shown_origin(block);
        assert_eq!(origin.unit_id, "school-c");
        assert_eq!(origin.month, None);
        assert_eq!(origin.channel, "");
        assert_eq!(origin.respondent_role, "client");
        // Both months answered in Finnish: the language is shared, so shown.
        assert_eq!(origin.language, "fi");
    }
}
