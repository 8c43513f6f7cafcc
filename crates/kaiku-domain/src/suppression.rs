//! Small-group suppression for tables of figures. A cell with fewer than the minimum group
//! size (but more than none) is hidden; and when a table also shows its total, a single hidden
//! cell could be recovered by subtracting the shown cells from the total, so the smallest other
//! shown cell is hidden with it (complementary suppression).

/// Which cells of a table with these sizes must be hidden, given that the table's total is
/// shown. Cells of size 0 are never hidden (there is nobody to protect) and never used as the
/// complement (hiding an empty cell reveals nothing).
pub fn suppressed_cells(sizes: &[u64], min_group_size: u32) -> Vec<bool> {
    let min = u64::from(min_group_size);
    let mut hidden: Vec<bool> = sizes.iter().map(|n| *n > 0 && *n < min).collect();
    if hidden.iter().filter(|h| **h).count() == 1 {
        let complement = sizes
            .iter()
            .enumerate()
            .filter(|(i, n)| !hidden[*i] && **n > 0)
            .min_by_key(|(_, n)| **n)
            .map(|(i, _)| i);
        if let Some(i) = complement {
            hidden[i] = true;
        }
    }
    hidden
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_cells_are_hidden() {
        assert_eq!(
            suppressed_cells(&[10, 3, 2, 8], 5),
            vec![false, true, true, false]
        );
    }

    #[test]
    fn a_lone_small_cell_takes_the_smallest_other_with_it() {
        // Total 30 shown: 3 = 30 - 12 - 15 would be recoverable without the second hide.
        assert_eq!(suppressed_cells(&[12, 3, 15], 5), vec![true, true, false]);
    }

    #[test]
    fn empty_cells_are_neither_hidden_nor_complements() {
        assert_eq!(
            suppressed_cells(&[0, 3, 0, 9], 5),
            vec![false, true, false, true]
        );
        assert_eq!(suppressed_cells(&[0, 7], 5), vec![false, false]);
    }

    #[test]
    fn a_single_small_cell_with_no_other_is_hidden_alone() {
        assert_eq!(suppressed_cells(&[4], 5), vec![true]);
    }
}
