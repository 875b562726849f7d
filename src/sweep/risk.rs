//! Sweep stage, risk draws: the outages and the demand multiplier of one sample, drawn from a
//! stream that depends on (seed, sample id) alone, and nearest-rank percentiles.
//!
//! Each sample has its own ChaCha12 stream: `ChaCha12Rng::seed_from_u64(seed)` then
//! `set_stream(id)`, so any subset of samples (a shard, a resumed run, one sample replayed) draws
//! exactly what the full run draws, on any machine and thread count. Draw order within a sample:
//! for each `[[risk.outage]]` row in file order, the number of outages (Poisson, mean per_year ×
//! horizon years, a year being 8,766 hours), then for each outage its start (uniform in the
//! horizon) and its duration (lognormal, μ = ln median, σ = ln(p95 / median) / 1.645); last the
//! demand multiplier M, ln M ~ N(−σ²/2, σ²) so that E[M] = 1.

use chrono::{DateTime, Duration, Utc};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha12Rng;
use rand_distr::{Distribution, Poisson, StandardNormal, StandardUniform};

use super::spec::Risk;
use crate::units::fixed;

/// Hours in a year for outage rates: 365.25 days.
pub const HOURS_PER_YEAR: f64 = 8_766.0;
/// The p95 of a standard normal.
const Z95: f64 = 1.645;

/// One drawn outage, in whole minutes.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawnOutage {
    pub provider: String,
    pub region: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub capacity_factor: f64,
}

impl DrawnOutage {
    /// The `--outage` value: `PROVIDER[/REGION]@START..END=FACTOR`, times to the minute.
    pub fn flag(&self) -> String {
        let who = match &self.region {
            Some(r) => format!("{}/{r}", self.provider),
            None => self.provider.clone(),
        };
        format!(
            "{who}@{}..{}={}",
            minute(&self.start),
            minute(&self.end),
            fixed(self.capacity_factor)
        )
    }
}

fn minute(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%MZ").to_string()
}

/// What one sample draws.
#[derive(Debug, Clone, PartialEq)]
pub struct Draw {
    pub outages: Vec<DrawnOutage>,
    /// The demand multiplier, rounded to 12 significant digits (the value used and written).
    pub demand_scale: f64,
}

impl Draw {
    /// The `--outage` values, space-separated ("" without outages).
    pub fn outages_text(&self) -> String {
        self.outages
            .iter()
            .map(DrawnOutage::flag)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The random stream of sample `id`.
pub fn stream(seed: u64, id: u64) -> ChaCha12Rng {
    let mut rng = ChaCha12Rng::seed_from_u64(seed);
    rng.set_stream(id);
    rng
}

/// Draws sample `id` over the horizon [start, end).
pub fn draw(risk: &Risk, id: u64, start: DateTime<Utc>, end: DateTime<Utc>) -> Draw {
    let mut rng = stream(risk.seed, id);
    let horizon_minutes = (end - start).num_minutes().max(1);
    let years = horizon_minutes as f64 / 60.0 / HOURS_PER_YEAR;
    let mut outages = Vec::new();
    for row in &risk.outages {
        let mean = row.per_year * years;
        let n = if mean > 0.0 {
            let poisson = Poisson::new(mean).expect("a positive finite mean");
            let n: f64 = poisson.sample(&mut rng);
            n as u64
        } else {
            0
        };
        let mu = row.median_hours.ln();
        let sigma = (row.p95_hours / row.median_hours).ln() / Z95;
        for _ in 0..n {
            let u: f64 = StandardUniform.sample(&mut rng);
            let z: f64 = StandardNormal.sample(&mut rng);
            let hours = (mu + sigma * z).exp();
            let at = ((u * horizon_minutes as f64).floor() as i64).min(horizon_minutes - 1);
            let length = ((hours * 60.0).round() as i64).clamp(1, horizon_minutes);
            let until = (at + length).min(horizon_minutes);
            outages.push(DrawnOutage {
                provider: row.provider.clone(),
                region: row.region.clone(),
                start: start + Duration::minutes(at),
                end: start + Duration::minutes(until),
                capacity_factor: row.capacity_factor,
            });
        }
    }
    let z: f64 = StandardNormal.sample(&mut rng);
    let s = risk.demand_sigma;
    let m = (-s * s / 2.0 + s * z).exp();
    Draw {
        outages,
        demand_scale: round12(m),
    }
}

/// `x` rounded as capplan writes it (12 significant digits, see `units::fixed`).
pub fn round12(x: f64) -> f64 {
    fixed(x).parse().unwrap_or(0.0)
}

/// The nearest-rank percentile `p` (in whole percent, 1..=100) of `sorted` (ascending): the value
/// at rank ⌈p·n/100⌉. None when there are no values.
pub fn nearest_rank(sorted: &[f64], p: u32) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = (p as usize * n).div_ceil(100).clamp(1, n);
    Some(sorted[rank - 1])
}

/// The mean of the samples' values, summed in their order; 0 without values.
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().sum::<f64>() / values.len() as f64
}

/// Sorts values ascending (total order; NaN never reaches here).
pub fn sorted(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.into_iter().collect();
    v.sort_by(f64::total_cmp);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::spec::OutageRisk;

    #[test]
    fn a_mean_of_nothing_is_zero() {
        assert_eq!(mean(&[1.0, 2.0, 6.0]), 3.0);
        assert_eq!(mean(&[]).to_bits(), 0.0f64.to_bits(), "never -0");
    }

    #[test]
    fn nearest_rank_on_a_hand_made_set() {
        // 1..=20: P50 rank 10, P90 rank 18, P95 rank 19, P99 rank 20, P5 rank 1.
        let v = sorted((1..=20).rev().map(f64::from));
        assert_eq!(nearest_rank(&v, 50), Some(10.0));
        assert_eq!(nearest_rank(&v, 90), Some(18.0));
        assert_eq!(nearest_rank(&v, 95), Some(19.0));
        assert_eq!(nearest_rank(&v, 99), Some(20.0));
        assert_eq!(nearest_rank(&v, 5), Some(1.0));
        assert_eq!(nearest_rank(&v, 100), Some(20.0));
        // Five values: P50 rank 3, P90 rank 5 (⌈4.5⌉), P5 rank 1.
        let v = sorted([15.0, 20.0, 35.0, 40.0, 50.0]);
        assert_eq!(nearest_rank(&v, 50), Some(35.0));
        assert_eq!(nearest_rank(&v, 90), Some(50.0));
        assert_eq!(nearest_rank(&v, 40), Some(20.0));
        assert_eq!(nearest_rank(&v, 5), Some(15.0));
        assert_eq!(nearest_rank(&[], 50), None);
        assert_eq!(nearest_rank(&[7.0], 99), Some(7.0));
    }

    fn risk() -> Risk {
        Risk {
            samples: 100,
            seed: 42,
            outages: vec![OutageRisk {
                provider: "aws".into(),
                region: None,
                per_year: 20.0,
                median_hours: 2.0,
                p95_hours: 20.0,
                capacity_factor: 0.0,
                location: None,
            }],
            demand_sigma: 0.1,
        }
    }

    #[test]
    fn draws_depend_on_seed_and_id_alone_and_stay_in_the_horizon() {
        let start = crate::units::parse_time("2026-01-01").unwrap();
        let end = crate::units::parse_time("2027-01-01").unwrap();
        let r = risk();
        let a: Vec<Draw> = (0..50).map(|id| draw(&r, id, start, end)).collect();
        let b: Vec<Draw> = (0..50).rev().map(|id| draw(&r, id, start, end)).collect();
        assert_eq!(a, b.into_iter().rev().collect::<Vec<_>>());
        assert_ne!(a[0], a[1]);
        let total: usize = a.iter().map(|d| d.outages.len()).sum();
        // Mean 20 a year: 50 samples draw about 1,000.
        assert!((800..1200).contains(&total), "{total}");
        for d in &a {
            for o in &d.outages {
                assert!(o.start >= start && o.end <= end && o.end > o.start);
            }
            assert!(d.demand_scale > 0.6 && d.demand_scale < 1.6);
        }
        let mean_m: f64 = a.iter().map(|d| d.demand_scale).sum::<f64>() / 50.0;
        assert!((mean_m - 1.0).abs() < 0.05, "{mean_m}");
        let f = a[0].outages[0].flag();
        assert!(f.starts_with("aws@2026-") && f.ends_with("Z=0"), "{f}");
    }
}
