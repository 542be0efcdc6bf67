//! The pinned arithmetic of the analytics (`contracts/analytics.md`):
//! ratios and averages rounded half up to 4 decimals from exact integers,
//! integer-second durations, nearest-rank percentiles, money per currency.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// `numerator / denominator` rounded half up to 4 decimals (exact integer
/// arithmetic); `null` when the denominator is 0.
fn rate(numerator: i128, denominator: i128) -> Option<f64> {
    if denominator == 0 {
        return None;
    }
    // round(n / d · 10⁴) half up, on |n| / |d|, sign restored: exact.
    let (n, d) = (numerator.abs(), denominator.abs());
    let q = (n * 20_000 + d) / (2 * d);
    let q = if (numerator < 0) != (denominator < 0) { -q } else { q };
    Some(q as f64 / 10_000.0)
}

/// A share: `rate` = numerator / denominator, 4 decimals, half up; `null`
/// when the denominator is 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({"numerator": 80, "denominator": 120, "rate": 0.6667}))]
pub struct Ratio {
    pub numerator: i64,
    pub denominator: i64,
    pub rate: Option<f64>,
}

impl Ratio {
    pub fn of(numerator: u64, denominator: u64) -> Self {
        Self {
            numerator: numerator as i64,
            denominator: denominator as i64,
            rate: rate(i128::from(numerator), i128::from(denominator)),
        }
    }
}

/// A mean: `average` = sum / count, 4 decimals, half up; `null` when count is 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({"count": 3, "sum": 13, "average": 4.3333}))]
pub struct Average {
    pub count: i64,
    pub sum: i64,
    pub average: Option<f64>,
}

/// Count and sum, kept exact until the answer is built.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mean {
    pub count: u64,
    pub sum: i128,
}

impl Mean {
    pub fn add(&mut self, v: i64) {
        self.count += 1;
        self.sum += i128::from(v);
    }

    pub fn done(&self) -> Average {
        Average { count: self.count as i64, sum: self.sum as i64, average: rate(self.sum, i128::from(self.count)) }
    }
}

/// Whole seconds from `a` to `b`: floor of the microsecond difference / 10⁶.
pub fn seconds_between(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    (b - a).num_microseconds().unwrap_or(i64::MAX).div_euclid(1_000_000)
}

/// Nearest rank: of the ascending x₁…xₙ, `x_k` with `k = ceil(n·p / 100)`;
/// `None` when there are no values.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let k = (n * p as usize).div_ceil(100).max(1);
    sorted.get(k - 1).copied()
}

/// Values collected for percentiles.
#[derive(Debug, Clone, Default)]
pub struct Samples(Vec<i64>);

impl Samples {
    pub fn add(&mut self, v: i64) {
        self.0.push(v);
    }

    /// `(count, p50, p90, sum)`.
    pub fn summary(&mut self) -> (i64, Option<i64>, Option<i64>, i128) {
        self.0.sort_unstable();
        let sum = self.0.iter().map(|&v| i128::from(v)).sum();
        (self.0.len() as i64, percentile(&self.0, 50), percentile(&self.0, 90), sum)
    }
}

/// Durations in seconds: count and nearest-rank percentiles.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct DurationPercentiles {
    pub count: i64,
    pub p50: Option<i64>,
    pub p90: Option<i64>,
}

impl From<&mut Samples> for DurationPercentiles {
    fn from(s: &mut Samples) -> Self {
        let (count, p50, p90, _) = s.summary();
        Self { count, p50, p90 }
    }
}

/// Money of one currency: the sum of `amount_minor` over `count` rows.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({"currency": "IDR", "amount_minor": 125000, "count": 3}))]
pub struct MoneyTotal {
    /// ISO 4217 code.
    pub currency: String,
    pub amount_minor: i64,
    pub count: i64,
}

/// Sums per currency; amounts of different currencies are never added.
#[derive(Debug, Clone, Default)]
pub struct MoneySums(BTreeMap<String, (i128, u64)>);

impl MoneySums {
    pub fn add(&mut self, currency: &str, amount_minor: i64) {
        let e = self.0.entry(currency.to_owned()).or_default();
        e.0 += i128::from(amount_minor);
        e.1 += 1;
    }

    /// One entry per currency, sorted by code.
    pub fn done(&self) -> Vec<MoneyTotal> {
        self.0
            .iter()
            .map(|(c, (sum, n))| MoneyTotal {
                currency: c.clone(),
                amount_minor: i64::try_from(*sum).unwrap_or(i64::MAX),
                count: *n as i64,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_round_half_up_from_exact_integers() {
        assert_eq!(Ratio::of(80, 120).rate, Some(0.6667));
        assert_eq!(Ratio::of(1, 3).rate, Some(0.3333));
        // 0.00005 exactly: half up, where a float division would give 0.0000499…
        assert_eq!(Ratio::of(1, 20_000).rate, Some(0.0001));
        assert_eq!(Ratio::of(5, 5).rate, Some(1.0));
        assert_eq!(Ratio::of(0, 0).rate, None);
        let m = Mean { count: 3, sum: 13 };
        assert_eq!(m.done(), Average { count: 3, sum: 13, average: Some(4.3333) });
    }

    #[test]
    fn nearest_rank_percentiles() {
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&ten, 90), Some(9));
        assert_eq!(percentile(&ten, 50), Some(5));
        assert_eq!(percentile(&[1, 2, 3, 4], 50), Some(2));
        assert_eq!(percentile(&[1, 2, 3, 4], 90), Some(4));
        assert_eq!(percentile(&[7], 50), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn durations_floor_whole_seconds() {
        let a = DateTime::parse_from_rfc3339("2026-01-01T00:00:00.900000Z").unwrap().with_timezone(&Utc);
        let b = DateTime::parse_from_rfc3339("2026-01-01T00:00:02.100000Z").unwrap().with_timezone(&Utc);
        assert_eq!(seconds_between(a, b), 1);
        assert_eq!(seconds_between(b, a), -2);
    }

    #[test]
    fn money_stays_per_currency() {
        let mut m = MoneySums::default();
        m.add("USD", 100);
        m.add("IDR", 5);
        m.add("USD", 1);
        let out = m.done();
        assert_eq!(
            out.iter().map(|t| (t.currency.as_str(), t.amount_minor, t.count)).collect::<Vec<_>>(),
            [("IDR", 5, 1), ("USD", 101, 2)]
        );
    }
}
