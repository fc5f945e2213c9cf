//! The dashboard overview's arithmetic: a figure this period against the
//! previous one ([`Trend`]), and open exceptions by age ([`age_buckets`]).

use serde::Serialize;

/// Which way a change reads for the shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Better,
    Worse,
    Same,
    /// Nothing to compare with (the previous period had no base).
    New,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Better => "better",
            Self::Worse => "worse",
            Self::Same => "same",
            Self::New => "new",
        }
    }
}

/// A figure now and in the previous period of the same length.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Trend {
    pub current: f64,
    pub previous: f64,
    /// `current − previous`.
    pub change: f64,
    pub verdict: Verdict,
}

impl Trend {
    /// `higher_is_better` says which way is good (fill rate: up;
    /// cancellations: down). `had_base` is false when the previous period
    /// had nothing to measure (no orders): then there is no trend.
    pub fn new(current: f64, previous: f64, higher_is_better: bool, had_base: bool) -> Trend {
        let change = current - previous;
        let verdict = if !had_base {
            Verdict::New
        } else if change.abs() < 1e-9 {
            Verdict::Same
        } else if (change > 0.0) == higher_is_better {
            Verdict::Better
        } else {
            Verdict::Worse
        };
        Trend { current, previous, change, verdict }
    }

    /// `↑`, `↓` or `=` (blank when new).
    pub fn arrow(&self) -> &'static str {
        match self.verdict {
            Verdict::New => "",
            Verdict::Same => "=",
            _ if self.change > 0.0 => "↑",
            _ => "↓",
        }
    }
}

/// The age bands of open exceptions: upper bounds in ms (the last is open).
pub const AGE_BANDS: [(&str, i64); 5] = [
    ("under 1 h", 3_600_000),
    ("1–4 h", 4 * 3_600_000),
    ("4–24 h", 24 * 3_600_000),
    ("1–3 days", 72 * 3_600_000),
    ("over 3 days", i64::MAX),
];

/// How many of `ages_ms` fall in each of [`AGE_BANDS`] (an age equal to a
/// bound belongs to the next band; a negative age, a clock skew, is new).
pub fn age_buckets(ages_ms: &[i64]) -> Vec<(&'static str, i64)> {
    let mut counts = vec![0_i64; AGE_BANDS.len()];
    for age in ages_ms {
        let band = AGE_BANDS.iter().position(|(_, upper)| *age < *upper).unwrap_or(AGE_BANDS.len() - 1);
        counts[band] += 1;
    }
    AGE_BANDS.iter().zip(counts).map(|((label, _), n)| (*label, n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trend_says_whether_the_change_is_good() {
        assert_eq!(Trend::new(0.9, 0.8, true, true).verdict, Verdict::Better);
        assert_eq!(Trend::new(0.9, 0.8, false, true).verdict, Verdict::Worse);
        assert_eq!(Trend::new(0.02, 0.05, false, true).verdict, Verdict::Better);
        assert_eq!(Trend::new(0.5, 0.5, true, true).verdict, Verdict::Same);
        assert_eq!(Trend::new(0.5, 0.0, true, false).verdict, Verdict::New);
        assert_eq!(Trend::new(3.0, 5.0, true, true).arrow(), "↓");
        assert_eq!(Trend::new(5.0, 3.0, false, true).arrow(), "↑");
        assert_eq!(Trend::new(5.0, 3.0, false, false).arrow(), "");
    }

    #[test]
    fn ages_fall_in_half_open_bands() {
        let h = 3_600_000;
        let b = age_buckets(&[0, h - 1, h, 5 * h, 24 * h, 73 * h, -5]);
        assert_eq!(b, vec![("under 1 h", 3), ("1–4 h", 1), ("4–24 h", 1), ("1–3 days", 1), ("over 3 days", 1)]);
        assert_eq!(age_buckets(&[]).iter().map(|(_, n)| n).sum::<i64>(), 0);
    }
}
