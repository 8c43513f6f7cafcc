//! The disclosure partition and the releases cut from it (ADR 0018, ADR 0020). Pure: the
//! projection releases responses to readers with it and analytics answers readers from what
//! was released; both are tested here without a database.
//!
//! A **partition** splits a survey's responses into blocks of at least the minimum group size,
//! the same way whoever asks: a *cell* is one month-grain combination of every dimension (unit,
//! month, period, role, channel, professional group, age band, language), and blocks are made
//! top down (like statistical offices' global recoding and Mondrian's specialisation), split
//! along the first dimension of [`SPLIT_ORDER`] whose values leave parts of at least the
//! minimum. Values below the minimum are pooled into one "rest" part (a unit's own answers
//! with its small child units: the small units folded into their parent). A rest still below
//! the minimum is left out of every figure for units and roles, and joined to the smallest
//! part beside it for the other dimensions ([`SplitDimension::drops_small_remainder`] says
//! why). A survey smaller than the minimum has no blocks.
//!
//! A partition protects one moment. A reader who asks again after one more answer sees that
//! answer as the difference, so readers are never answered from the live data but from
//! **releases** ([`plan_release`]): a block's responses not yet released are released together,
//! as one *atom*, only when there are at least the minimum of them. Atoms are disjoint and never
//! change, and every figure a reader sees at any time is a sum of whole atoms, so every
//! difference between any figures, asked at any times, is a sum of whole atoms too.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};

/// One month-grain combination of every dimension.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellKey {
    pub unit_id: String,
    /// First day of the month.
    pub month: NaiveDate,
    pub period_id: String,
    pub channel: String,
    pub respondent_role: String,
    pub professional_group: String,
    pub age_band: String,
    pub language: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub key: CellKey,
    /// The unit's ancestors from the county down, ending with the unit itself.
    pub unit_path: Vec<String>,
    pub responses: u64,
}

/// The dimensions a block may be split along, in the order tried: the role first (every query
/// names its roles, so a role kept apart is never lost from a figure), then the unit tree level
/// by level, the collection period, the year and month, and the respondents' attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SplitDimension {
    Role,
    Unit,
    Period,
    Time,
    ProfessionalGroup,
    Channel,
    AgeBand,
    Language,
}

const SPLIT_ORDER: [SplitDimension; 8] = [
    SplitDimension::Role,
    SplitDimension::Unit,
    SplitDimension::Period,
    SplitDimension::Time,
    SplitDimension::ProfessionalGroup,
    SplitDimension::Channel,
    SplitDimension::AgeBand,
    SplitDimension::Language,
];

impl SplitDimension {
    /// What becomes of values under the minimum that stay under it pooled: left out of every
    /// figure (units and roles), or joined to the smallest part beside them (the rest).
    ///
    /// Joining keeps every answer in the broad figures but hides the part it joins from any
    /// narrower filter: a school of 3 joined to its sibling of 44 would hide the sibling's own
    /// figure from its manager, and 2 relatives joined to the county's guardians would hide the
    /// guardians' figure. For units and roles, which every reader filters by, the few are
    /// left out instead. For months, periods and the respondents' attributes, which readers
    /// seldom narrow to, joining keeps the totals whole.
    fn drops_small_remainder(self) -> bool {
        matches!(self, SplitDimension::Role | SplitDimension::Unit)
    }
}

/// A cell's value on a dimension at a depth of its hierarchy; None when the cell sits at the
/// block's own node (a unit's own responses beside its child units') and cannot go deeper.
fn value_at(cell: &Cell, dimension: SplitDimension, level: usize) -> Option<String> {
    let flat = |value: &str| (level == 0).then(|| value.to_owned());
    match dimension {
        SplitDimension::Role => flat(&cell.key.respondent_role),
        SplitDimension::Unit => cell.unit_path.get(level).cloned(),
        SplitDimension::Period => flat(&cell.key.period_id),
        SplitDimension::Time => match level {
            0 => Some(cell.key.month.year().to_string()),
            1 => Some(cell.key.month.to_string()),
            _ => None,
        },
        SplitDimension::ProfessionalGroup => flat(&cell.key.professional_group),
        SplitDimension::Channel => flat(&cell.key.channel),
        SplitDimension::AgeBand => flat(&cell.key.age_band),
        SplitDimension::Language => flat(&cell.key.language),
    }
}

/// A set of cells holding at least the minimum of responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub cells: Vec<usize>,
    pub responses: u64,
}

/// The survey's cells and the blocks they are published in.
#[derive(Debug, Clone, Default)]
pub struct Partition {
    pub cells: Vec<Cell>,
    pub blocks: Vec<Block>,
    block_of: HashMap<CellKey, usize>,
    min_group_size: u64,
}

/// How far a part has been split along each dimension: the depth reached, or None when it
/// cannot be split along it any more (its cells differ there, or it sits at its own node).
type Levels = [Option<usize>; SPLIT_ORDER.len()];

impl Partition {
    pub fn build(cells: Vec<Cell>, min_group_size: u32) -> Partition {
        let k = u64::from(min_group_size.max(1));
        let mut partition = Partition {
            cells,
            blocks: Vec::new(),
            block_of: HashMap::new(),
            min_group_size: k,
        };
        let all: Vec<usize> = (0..partition.cells.len()).collect();
        if partition.size(&all) >= k {
            let mut blocks = Vec::new();
            partition.refine(all, [Some(0); SPLIT_ORDER.len()], &mut blocks);
            partition.blocks = blocks;
        }
        for (index, block) in partition.blocks.iter().enumerate() {
            for cell in &block.cells {
                partition
                    .block_of
                    .insert(partition.cells[*cell].key.clone(), index);
            }
        }
        partition
    }

    pub fn min_group_size(&self) -> u64 {
        self.min_group_size
    }

    fn size(&self, cells: &[usize]) -> u64 {
        cells.iter().map(|c| self.cells[*c].responses).sum()
    }

    fn refine(&self, block: Vec<usize>, mut levels: Levels, out: &mut Vec<Block>) {
        let k = self.min_group_size;
        for (d, dimension) in SPLIT_ORDER.iter().enumerate() {
            while let Some(level) = levels[d] {
                let mut groups: BTreeMap<Option<String>, Vec<usize>> = BTreeMap::new();
                for cell in &block {
                    groups
                        .entry(value_at(&self.cells[*cell], *dimension, level))
                        .or_default()
                        .push(*cell);
                }
                if groups.len() == 1 {
                    // One value here: the part goes one level deeper, or is done with this
                    // dimension when it sits at its own node.
                    let only_deeper = groups.keys().next().is_some_and(Option::is_some);
                    levels[d] = only_deeper.then_some(level + 1);
                    continue;
                }
                let (parts, dropped) = self.split(*dimension, groups);
                if parts.len() < 2 && !dropped {
                    levels[d] = None;
                    continue;
                }
                for (cells, deeper) in parts {
                    let mut next = levels;
                    next[d] = deeper.then_some(level + 1);
                    self.refine(cells, next, out);
                }
                return;
            }
        }
        let responses = self.size(&block);
        debug_assert!(responses >= k);
        out.push(Block {
            cells: block,
            responses,
        });
    }

    /// Parts of at least the minimum, each with whether it can be split deeper along the same
    /// dimension (one value, not the own node). Values below the minimum are pooled; a pool
    /// still below it joins the smallest part.
    fn split(
        &self,
        dimension: SplitDimension,
        groups: BTreeMap<Option<String>, Vec<usize>>,
    ) -> (Vec<(Vec<usize>, bool)>, bool) {
        let k = self.min_group_size;
        let mut parts: Vec<(Vec<usize>, bool)> = Vec::new();
        let mut rest: Vec<usize> = Vec::new();
        for (value, cells) in groups {
            if self.size(&cells) >= k {
                parts.push((cells, value.is_some()));
            } else {
                rest.extend(cells);
            }
        }
        if rest.is_empty() {
            return (parts, false);
        }
        if self.size(&rest) >= k {
            parts.push((rest, false));
            return (parts, false);
        }
        if dimension.drops_small_remainder() && !parts.is_empty() {
            return (parts, true);
        }
        let smallest = parts
            .iter()
            .enumerate()
            .min_by_key(|(i, (cells, _))| (self.size(cells), *i))
            .map(|(i, _)| i);
        match smallest {
            Some(i) => {
                parts[i].0.extend(rest);
                parts[i].1 = false;
            }
            // Cannot happen for a part of at least the minimum; keep the cells together.
            None => parts.push((rest, false)),
        }
        (parts, false)
    }

    /// The block a cell is in; None when it is in none (too small to show, or no blocks).
    pub fn block_of(&self, key: &CellKey) -> Option<usize> {
        self.block_of.get(key).copied()
    }
}

/// A block's responses released together, once, to readers: the cells they are in, with how
/// many of them each holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedAtom {
    pub cells: Vec<(CellKey, u64)>,
    pub responses: u64,
}

/// The atoms to release now. `partition` is built from every response applied (released or
/// not) so blocks are as fine as the data allows; `pending` counts by cell the responses not
/// in any atom yet. A block releases its pending responses when they are at least the minimum
/// and holds them back otherwise (they wait for more, never leave alone); a cell in no block
/// (a unit or role too small to show) releases nothing.
pub fn plan_release(partition: &Partition, pending: &HashMap<CellKey, u64>) -> Vec<PlannedAtom> {
    let mut atoms = Vec::new();
    for block in &partition.blocks {
        let cells: Vec<(CellKey, u64)> = block
            .cells
            .iter()
            .filter_map(|c| {
                let key = &partition.cells[*c].key;
                pending
                    .get(key)
                    .filter(|n| **n > 0)
                    .map(|n| (key.clone(), *n))
            })
            .collect();
        let responses: u64 = cells.iter().map(|(_, n)| n).sum();
        if responses > 0 && responses >= partition.min_group_size {
            atoms.push(PlannedAtom { cells, responses });
        }
    }
    atoms
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::disclosure_cell as cell;

    fn pending_of(cells: &[Cell], counts: &[u64]) -> HashMap<CellKey, u64> {
        cells
            .iter()
            .zip(counts)
            .map(|(c, n)| (c.key.clone(), *n))
            .collect()
    }

    #[test]
    fn every_block_holds_at_least_the_minimum_and_no_cell_is_in_two() {
        let cells = vec![
            cell(&["county", "a"], 1, "client", "web", 30),
            cell(&["county", "a"], 1, "guardian", "web", 3),
            cell(&["county", "b"], 1, "client", "kiosk", 2),
            cell(&["county", "b", "b1"], 2, "client", "sms", 9),
            cell(&["county", "c"], 3, "guardian", "web", 4),
        ];
        let partition = Partition::build(cells, 5);
        let mut seen = vec![0; partition.cells.len()];
        for block in &partition.blocks {
            assert!(block.responses >= 5, "{block:?}");
            for c in &block.cells {
                seen[*c] += 1;
            }
        }
        // Unit b's own 2 answers are left out (b1 beside them has 9); everything else is in.
        assert_eq!(seen, vec![1, 1, 0, 1, 1]);
    }

    #[test]
    fn a_survey_below_the_minimum_has_no_blocks() {
        let partition = Partition::build(vec![cell(&["county", "a"], 1, "client", "web", 4)], 5);
        assert!(partition.blocks.is_empty());
    }

    #[test]
    fn answers_that_all_came_before_the_first_release_are_released_as_the_blocks() {
        let cells = vec![
            cell(&["county", "a"], 1, "client", "web", 30),
            cell(&["county", "a"], 1, "guardian", "web", 3),
            cell(&["county", "b", "b1"], 2, "client", "sms", 9),
        ];
        let pending = pending_of(&cells, &[30, 3, 9]);
        let partition = Partition::build(cells, 5);
        let atoms = plan_release(&partition, &pending);
        let sizes: Vec<u64> = atoms.iter().map(|a| a.responses).collect();
        let blocks: Vec<u64> = partition.blocks.iter().map(|b| b.responses).collect();
        assert_eq!(sizes, blocks);
    }

    #[test]
    fn a_new_answer_waits_until_its_block_has_the_minimum_of_new_ones() {
        let cells = vec![
            cell(&["county", "a"], 1, "client", "web", 31),
            cell(&["county", "a"], 1, "client", "kiosk", 2),
        ];
        let partition = Partition::build(cells.clone(), 5);
        // 30 released earlier; one web and up to two kiosk answers since.
        for (new, released) in [([1, 0], false), ([1, 3], false), ([2, 3], true)] {
            let pending = pending_of(&cells, &new);
            let atoms = plan_release(&partition, &pending);
            assert_eq!(!atoms.is_empty(), released, "{new:?}");
            for atom in atoms {
                assert!(atom.responses >= 5);
                // Only the cells with new answers are in the atom.
                assert!(atom.cells.iter().all(|(_, n)| *n > 0));
            }
        }
        let pending = pending_of(&cells, &[4, 2]);
        assert_eq!(plan_release(&partition, &pending)[0].responses, 6);
    }

    #[test]
    fn answers_in_a_unit_too_small_to_show_are_never_released() {
        let cells = vec![
            cell(&["county", "a"], 1, "client", "web", 40),
            cell(&["county", "a", "class"], 1, "client", "web", 3),
        ];
        let pending = pending_of(&cells, &[0, 3]);
        let partition = Partition::build(cells, 5);
        assert!(plan_release(&partition, &pending).is_empty());
    }
}
