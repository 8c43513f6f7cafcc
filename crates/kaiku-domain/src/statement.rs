//! Statement arithmetic (the five-point agreement scale of THL's form): the mean, and whether
//! the mean moved between two periods by more than sampling noise.

/// Answers of one statement by score 1-5; "don't know" is not among them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatementCounts {
    /// by_score[0] counts the 1s, by_score[4] the 5s.
    pub by_score: [u64; 5],
}

impl StatementCounts {
    pub fn n(&self) -> u64 {
        self.by_score.iter().sum()
    }

    fn moments(&self) -> (f64, f64, f64) {
        let n = self.n() as f64;
        let (mut sum, mut squares) = (0.0, 0.0);
        for (count, score) in self.by_score.iter().zip(1u32..) {
            let (count, score) = (*count as f64, f64::from(score));
            sum += count * score;
            squares += count * score * score;
        }
        (n, sum, squares)
    }

    /// The mean of the answers; None without answers.
    pub fn mean(&self) -> Option<f64> {
        let (n, sum, _) = self.moments();
        (n > 0.0).then(|| sum / n)
    }

    /// The variance of the mean (sample variance / n); None below two answers.
    fn variance_of_mean(&self) -> Option<f64> {
        let (n, sum, squares) = self.moments();
        if n < 2.0 {
            return None;
        }
        let sample_variance = ((squares - sum * sum / n) / (n - 1.0)).max(0.0);
        Some(sample_variance / n)
    }
}

/// How a statement's mean moved from one independent sample to another.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanChange {
    /// Later mean minus earlier mean, two decimals.
    pub change: f64,
    /// Half-width of the 95 % interval of the change (Welch), two decimals.
    pub margin: f64,
    /// True when the interval excludes zero.
    pub significant: bool,
}

/// The change from `earlier` to `later`; None unless both have at least two answers.
pub fn compare(earlier: &StatementCounts, later: &StatementCounts) -> Option<MeanChange> {
    let (a, b) = (earlier.mean()?, later.mean()?);
    let margin = 1.96 * (earlier.variance_of_mean()? + later.variance_of_mean()?).sqrt();
    let round = |x: f64| (x * 100.0).round() / 100.0;
    Some(MeanChange {
        change: round(b - a),
        margin: round(margin),
        significant: (b - a).abs() > margin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(by_score: [u64; 5]) -> StatementCounts {
        StatementCounts { by_score }
    }

    #[test]
    fn the_mean_and_its_change_match_a_hand_calculation() {
        // Earlier: 10 x 3 and 10 x 4 -> mean 3.5, sample variance 0.2632 (= 5 / 19).
        // Later: 10 x 4 and 10 x 5 -> mean 4.5, same variance.
        // Margin = 1.96 * sqrt(2 * 0.2632 / 20) = 0.318.
        let earlier = counts([0, 0, 10, 10, 0]);
        let later = counts([0, 0, 0, 10, 10]);
        assert_eq!(earlier.mean(), Some(3.5));
        let change = compare(&earlier, &later).expect("both have answers");
        assert_eq!(change.change, 1.0);
        assert_eq!(change.margin, 0.32);
        assert!(change.significant);
    }

    #[test]
    fn a_small_move_in_small_samples_is_noise() {
        let earlier = counts([1, 1, 1, 1, 1]);
        let later = counts([0, 1, 2, 1, 1]);
        let change = compare(&earlier, &later).expect("both have answers");
        assert_eq!(change.change, 0.4); // 3.0 -> 3.4, margin 1.71
        assert!(!change.significant);
    }

    #[test]
    fn fewer_than_two_answers_have_no_interval() {
        assert_eq!(
            compare(&counts([0, 0, 1, 0, 0]), &counts([5, 5, 5, 5, 5])),
            None
        );
        assert_eq!(counts([0; 5]).mean(), None);
    }
}
