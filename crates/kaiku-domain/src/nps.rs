//! Net Promoter Score arithmetic to THL's definition: detractors 0-6, passives 7-8, promoters
//! 9-10; NPS = %promoters - %detractors, undefined for n = 0. Counts are integers; the score is
//! rounded once, at the end.

/// Highest score on the recommendation scale.
pub const MAX_SCORE: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NpsBucket {
    Detractor,
    Passive,
    Promoter,
}

/// The bucket of a score, or None when the score is outside 0..=10.
pub fn bucket(score: u32) -> Option<NpsBucket> {
    match score {
        0..=6 => Some(NpsBucket::Detractor),
        7 | 8 => Some(NpsBucket::Passive),
        9 | 10 => Some(NpsBucket::Promoter),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NpsCounts {
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
}

impl NpsCounts {
    pub fn add(&mut self, bucket: NpsBucket) {
        match bucket {
            NpsBucket::Detractor => self.detractors += 1,
            NpsBucket::Passive => self.passives += 1,
            NpsBucket::Promoter => self.promoters += 1,
        }
    }

    pub fn n(&self) -> u64 {
        self.promoters + self.passives + self.detractors
    }

    /// NPS rounded half away from zero to one decimal; None for n = 0.
    pub fn score(&self) -> Option<f64> {
        let n = i128::from(self.n());
        if n == 0 {
            return None;
        }
        let diff = i128::from(self.promoters) - i128::from(self.detractors);
        // tenths of a point: round(1000 * diff / n), half away from zero, in integers.
        let scaled = 1000 * diff;
        let tenths = (2 * scaled + scaled.signum() * n) / (2 * n);
        // |tenths| <= 1000, exact in f64.
        Some(tenths as f64 / 10.0)
    }
}

impl NpsCounts {
    /// The 95 % confidence interval of the NPS (normal approximation of the difference of two
    /// proportions from one multinomial sample), in points, clamped to -100..100 and rounded to
    /// one decimal; None for n = 0.
    pub fn confidence_interval(&self) -> Option<(f64, f64)> {
        let n = self.n() as f64;
        if self.n() == 0 {
            return None;
        }
        let promoters = self.promoters as f64 / n;
        let detractors = self.detractors as f64 / n;
        let nps = promoters - detractors;
        let variance = (promoters + detractors - nps * nps).max(0.0) / n;
        let margin = 1.96 * variance.sqrt();
        let round = |x: f64| ((x * 100.0).clamp(-100.0, 100.0) * 10.0).round() / 10.0;
        Some((round(nps - margin), round(nps + margin)))
    }
}

/// How the NPS moved from one independent sample to another.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NpsChange {
    /// Later NPS minus earlier NPS, in points, one decimal.
    pub change: f64,
    /// Half-width of the 95 % interval of the change, in points, one decimal.
    pub margin: f64,
    /// True when the interval excludes zero: the change is beyond sampling noise.
    pub significant: bool,
}

impl NpsCounts {
    /// Variance of the NPS as a proportion difference (-1..1), for n > 0.
    fn variance(&self) -> Option<f64> {
        let n = self.n() as f64;
        if self.n() == 0 {
            return None;
        }
        let (p, d) = (self.promoters as f64 / n, self.detractors as f64 / n);
        Some((p + d - (p - d) * (p - d)).max(0.0) / n)
    }
}

/// The change from `earlier` to `later`; None when either has no answers.
pub fn compare(earlier: &NpsCounts, later: &NpsCounts) -> Option<NpsChange> {
    let (a, b) = (earlier.score()?, later.score()?);
    let margin = 196.0 * (earlier.variance()? + later.variance()?).sqrt();
    let change = ((b - a) * 10.0).round() / 10.0;
    Some(NpsChange {
        change,
        margin: (margin * 10.0).round() / 10.0,
        significant: (b - a).abs() > margin,
    })
}

/// True when a figure over `n` respondents must be hidden: fewer than `min_group_size` but more
/// than none, since a single professional's caseload can identify a respondent.
pub fn is_suppressed(n: u64, min_group_size: u32) -> bool {
    n > 0 && n < u64::from(min_group_size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_change_in_large_samples_is_significant_and_a_small_one_is_not() {
        let before = counts(100, 50, 50); // NPS 25
        let after = counts(150, 30, 20); // NPS 65
        let change = compare(&before, &after).expect("both have answers");
        assert_eq!(change.change, 40.0);
        assert!(change.significant);
        let small = compare(&counts(5, 3, 2), &counts(6, 2, 2)).expect("answers");
        assert!(!small.significant, "{small:?}");
        assert_eq!(compare(&counts(0, 0, 0), &after), None);
    }

    #[test]
    fn the_confidence_interval_narrows_with_n_and_stays_in_range() {
        // 110/50/40 of 200: NPS 35, p+ 0.55, p- 0.2, variance (0.75 - 0.1225)/200.
        let (low, high) = counts(110, 50, 40).confidence_interval().expect("n > 0");
        let margin = 196.0 * ((0.75f64 - 0.1225) / 200.0).sqrt();
        assert_eq!(
            (low, high),
            (
                ((35.0 - margin) * 10.0).round() / 10.0,
                ((35.0 + margin) * 10.0).round() / 10.0
            )
        );
        assert_eq!(counts(5, 0, 0).confidence_interval(), Some((100.0, 100.0)));
        assert_eq!(counts(0, 0, 0).confidence_interval(), None);
        let wide = counts(11, 5, 4).confidence_interval().expect("n > 0");
        assert!(wide.1 - wide.0 > high - low);
    }

    fn counts(promoters: u64, passives: u64, detractors: u64) -> NpsCounts {
        NpsCounts {
            promoters,
            passives,
            detractors,
        }
    }

    #[test]
    fn scores_fall_in_thl_buckets() {
        for score in 0..=6 {
            assert_eq!(bucket(score), Some(NpsBucket::Detractor));
        }
        assert_eq!(bucket(7), Some(NpsBucket::Passive));
        assert_eq!(bucket(8), Some(NpsBucket::Passive));
        assert_eq!(bucket(9), Some(NpsBucket::Promoter));
        assert_eq!(bucket(10), Some(NpsBucket::Promoter));
        assert_eq!(bucket(11), None);
    }

    #[test]
    fn nps_is_undefined_without_answers() {
        assert_eq!(NpsCounts::default().score(), None);
    }

    #[test]
    fn nps_is_promoter_share_minus_detractor_share() {
        assert_eq!(counts(120, 50, 30).score(), Some(45.0));
        assert_eq!(counts(1, 0, 0).score(), Some(100.0));
        assert_eq!(counts(0, 0, 3).score(), Some(-100.0));
        assert_eq!(counts(1, 1, 1).score(), Some(0.0));
        // 2/3 - 0 = 66.666.. -> 66.7; -66.666.. -> -66.7
        assert_eq!(counts(2, 1, 0).score(), Some(66.7));
        assert_eq!(counts(0, 1, 2).score(), Some(-66.7));
        // 1/8 = 12.5 exactly: half away from zero
        assert_eq!(counts(1, 7, 0).score(), Some(12.5));
        assert_eq!(counts(1, 15, 0).score(), Some(6.3));
        assert_eq!(counts(0, 15, 1).score(), Some(-6.3));
    }

    #[test]
    fn small_groups_are_suppressed_but_empty_ones_are_not() {
        assert!(!is_suppressed(0, 5));
        assert!(is_suppressed(1, 5));
        assert!(is_suppressed(4, 5));
        assert!(!is_suppressed(5, 5));
    }
}
