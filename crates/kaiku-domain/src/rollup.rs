//! The shape of the analytics rollups, shared by the projection (which writes them) and
//! analytics (which reads them): the time grains every count is kept at, the score columns,
//! and how a date range is split so that a query reads the coarsest grain that answers it.
//!
//! Every count is written at three grains (per day, per ISO week and per month) and in several
//! cuboids: the same counts summed over fewer dimensions. A figure over two years for the whole
//! survey reads a few dozen month rows of the `survey` cuboid instead of hundreds of thousands of
//! day rows with every dimension; only the days at the ragged ends of a range that does not start
//! and end on a bucket boundary come from day rows. ADR 0006 has the measurements behind this.

use chrono::{Datelike, Days, NaiveDate};

/// How finely a rollup row's counts are bucketed in time. The row's `bucket` column is the
/// first day of its bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grain {
    Day,
    Week,
    Month,
}

impl Grain {
    pub const ALL: [Grain; 3] = [Grain::Day, Grain::Week, Grain::Month];

    /// The value of the rollups' `grain` column.
    pub fn code(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
        }
    }

    /// The first day of the bucket holding `day` (weeks start on Monday, as in Finland).
    pub fn bucket_start(self, day: NaiveDate) -> NaiveDate {
        match self {
            Grain::Day => day,
            Grain::Week => day - Days::new(u64::from(day.weekday().num_days_from_monday())),
            Grain::Month => day.with_day(1).unwrap_or(day),
        }
    }

    /// The first day of the bucket after the one holding `day`.
    pub fn next_bucket_start(self, day: NaiveDate) -> NaiveDate {
        let start = self.bucket_start(day);
        match self {
            Grain::Day => start + Days::new(1),
            Grain::Week => start + Days::new(7),
            Grain::Month => start
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(NaiveDate::MAX),
        }
    }
}

/// The dimensions a cuboid may keep or sum over. The respondent role and the collection period
/// are kept by every cuboid: every figure is filtered by role (clients unless asked), and
/// periods follow from the days, so keeping them costs almost nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    Unit,
    Channel,
    ProfessionalGroup,
    AgeBand,
    Language,
}

/// A set of dimensions the counts are kept by; the others are summed over and stored as ''.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cuboid {
    /// The whole survey.
    Survey,
    Channel,
    /// Professional group, age band and language: who answered.
    Respondent,
    Unit,
    UnitChannel,
    /// Every dimension: answers any query.
    All,
}

impl Cuboid {
    /// Smallest first (by the number of rows they hold for real data).
    pub const ALL: [Cuboid; 6] = [
        Cuboid::Survey,
        Cuboid::Channel,
        Cuboid::Respondent,
        Cuboid::Unit,
        Cuboid::UnitChannel,
        Cuboid::All,
    ];

    /// The value of the rollups' `cuboid` column.
    pub fn code(self) -> &'static str {
        match self {
            Cuboid::Survey => "survey",
            Cuboid::Channel => "channel",
            Cuboid::Respondent => "respondent",
            Cuboid::Unit => "unit",
            Cuboid::UnitChannel => "unit_channel",
            Cuboid::All => "all",
        }
    }

    pub fn keeps(self, dimension: Dimension) -> bool {
        use Dimension as D;
        match self {
            Cuboid::Survey => false,
            Cuboid::Channel => dimension == D::Channel,
            Cuboid::Respondent => {
                matches!(dimension, D::ProfessionalGroup | D::AgeBand | D::Language)
            }
            Cuboid::Unit => dimension == D::Unit,
            Cuboid::UnitChannel => matches!(dimension, D::Unit | D::Channel),
            Cuboid::All => true,
        }
    }

    /// The smallest cuboid that keeps every dimension a query filters or groups by.
    pub fn smallest_covering(needed: &[Dimension]) -> Cuboid {
        Cuboid::ALL
            .into_iter()
            .find(|cuboid| needed.iter().all(|d| cuboid.keeps(*d)))
            .unwrap_or(Cuboid::All)
    }
}

/// Score columns of `answer_rollup`, in the order of [`score_column`].
pub const SCORE_COLUMNS: [&str; 12] = [
    "dont_know",
    "s0",
    "s1",
    "s2",
    "s3",
    "s4",
    "s5",
    "s6",
    "s7",
    "s8",
    "s9",
    "s10",
];

/// "Don't know" as a score.
pub const DONT_KNOW: i16 = -1;

/// The index into [`SCORE_COLUMNS`] of a score (0-10, or [`DONT_KNOW`]); None for anything else.
pub fn score_column(score: i16) -> Option<usize> {
    match score {
        DONT_KNOW => Some(0),
        0..=10 => usize::try_from(score).ok().map(|s| s + 1),
        _ => None,
    }
}

/// The score a column index of [`SCORE_COLUMNS`] counts.
pub fn column_score(index: usize) -> i16 {
    i16::try_from(index).map_or(DONT_KNOW, |i| i - 1)
}

/// Which rows of which grain answer a query over `[from, to]` (either end open).
///
/// `coarse` covers the whole buckets inside the range; `days` are the ranges at either end that
/// only part of a bucket covers, read from the day rows. Every day of the range is in exactly
/// one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangePlan {
    pub grain: Grain,
    /// Buckets starting in `[start, end)`; None = unbounded on that side.
    pub coarse: Option<(Option<NaiveDate>, Option<NaiveDate>)>,
    /// Inclusive day ranges read from the day rows.
    pub days: Vec<(NaiveDate, NaiveDate)>,
}

/// Splits `[from, to]` between whole buckets of `grain` and the ragged days at its ends.
pub fn plan_range(grain: Grain, from: Option<NaiveDate>, to: Option<NaiveDate>) -> RangePlan {
    if grain == Grain::Day {
        return RangePlan {
            grain,
            coarse: Some((from, to.map(|t| t + Days::new(1)))),
            days: Vec::new(),
        };
    }
    // First whole bucket: the one starting on `from`, else the next.
    let first_whole = from.map(|f| {
        if grain.bucket_start(f) == f {
            f
        } else {
            grain.next_bucket_start(f)
        }
    });
    // End of the whole buckets (exclusive): the bucket holding the day after `to` starts there.
    let end_whole = to.map(|t| grain.bucket_start(t + Days::new(1)));
    match (first_whole, end_whole) {
        (Some(first), Some(end)) if first >= end => RangePlan {
            grain,
            coarse: None,
            days: match (from, to) {
                (Some(f), Some(t)) => vec![(f, t)],
                _ => Vec::new(),
            },
        },
        _ => {
            let mut days = Vec::new();
            if let (Some(f), Some(first)) = (from, first_whole)
                && f < first
            {
                days.push((f, first - Days::new(1)));
            }
            if let (Some(t), Some(end)) = (to, end_whole)
                && end <= t
            {
                days.push((end, t));
            }
            RangePlan {
                grain,
                coarse: Some((first_whole, end_whole)),
                days,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    #[test]
    fn buckets_start_on_monday_and_the_first_of_the_month() {
        // 2026-11-26 is a Thursday.
        assert_eq!(Grain::Week.bucket_start(d(2026, 11, 26)), d(2026, 11, 23));
        assert_eq!(
            Grain::Week.next_bucket_start(d(2026, 11, 26)),
            d(2026, 11, 30)
        );
        assert_eq!(Grain::Month.bucket_start(d(2026, 11, 26)), d(2026, 11, 1));
        assert_eq!(
            Grain::Month.next_bucket_start(d(2026, 12, 31)),
            d(2027, 1, 1)
        );
        assert_eq!(Grain::Day.bucket_start(d(2026, 11, 26)), d(2026, 11, 26));
    }

    #[test]
    fn a_query_reads_the_smallest_cuboid_keeping_its_dimensions() {
        use Dimension as D;
        assert_eq!(Cuboid::smallest_covering(&[]), Cuboid::Survey);
        assert_eq!(Cuboid::smallest_covering(&[D::Channel]), Cuboid::Channel);
        assert_eq!(Cuboid::smallest_covering(&[D::Unit]), Cuboid::Unit);
        assert_eq!(
            Cuboid::smallest_covering(&[D::Channel, D::Unit]),
            Cuboid::UnitChannel
        );
        assert_eq!(
            Cuboid::smallest_covering(&[D::Language, D::AgeBand]),
            Cuboid::Respondent
        );
        assert_eq!(
            Cuboid::smallest_covering(&[D::Language, D::Unit]),
            Cuboid::All
        );
    }

    #[test]
    fn score_columns_round_trip() {
        for score in -1..=10 {
            let column = score_column(score).expect("known score");
            assert_eq!(column_score(column), score);
        }
        assert_eq!(score_column(11), None);
        assert_eq!(score_column(-2), None);
    }

    #[test]
    fn a_range_inside_one_month_reads_days_only() {
        let plan = plan_range(Grain::Month, Some(d(2026, 3, 2)), Some(d(2026, 3, 22)));
        assert_eq!(plan.coarse, None);
        assert_eq!(plan.days, vec![(d(2026, 3, 2), d(2026, 3, 22))]);
    }

    #[test]
    fn whole_months_come_from_month_rows_and_the_ends_from_days() {
        let plan = plan_range(Grain::Month, Some(d(2026, 1, 15)), Some(d(2026, 4, 10)));
        assert_eq!(
            plan.coarse,
            Some((Some(d(2026, 2, 1)), Some(d(2026, 4, 1))))
        );
        assert_eq!(
            plan.days,
            vec![
                (d(2026, 1, 15), d(2026, 1, 31)),
                (d(2026, 4, 1), d(2026, 4, 10))
            ]
        );
        let aligned = plan_range(Grain::Month, Some(d(2026, 1, 1)), Some(d(2026, 3, 31)));
        assert_eq!(
            aligned.coarse,
            Some((Some(d(2026, 1, 1)), Some(d(2026, 4, 1))))
        );
        assert!(aligned.days.is_empty());
        let open = plan_range(Grain::Week, None, None);
        assert_eq!(open.coarse, Some((None, None)));
        assert!(open.days.is_empty());
    }

    proptest! {
        /// Every day of the range is counted exactly once, and every coarse bucket lies inside it.
        #[test]
        fn every_day_is_read_exactly_once(
            start in 0u64..800, length in 0u64..200, grain in 0usize..3,
        ) {
            let grain = Grain::ALL[grain];
            let from = d(2025, 1, 1) + Days::new(start);
            let to = from + Days::new(length);
            let plan = plan_range(grain, Some(from), Some(to));
            let mut day = from - Days::new(40);
            while day <= to + Days::new(40) {
                let in_days = plan.days.iter().filter(|(a, b)| *a <= day && day <= *b).count();
                let bucket = grain.bucket_start(day);
                let in_coarse = plan.coarse.is_some_and(|(a, b)| {
                    a.is_none_or(|a| bucket >= a) && b.is_none_or(|b| bucket < b)
                });
                let wanted = usize::from(from <= day && day <= to);
                prop_assert_eq!(in_days + usize::from(in_coarse), wanted, "day {}", day);
                day = day + Days::new(1);
            }
        }
    }
}
