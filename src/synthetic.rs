//! Synthetic scenario folders at real magnitudes (1e10 tokens per minute, $0.5–$5 per million
//! tokens), for benchmarks and cross-solver tests. Deterministic: no randomness, so the same
//! arguments always write the same files.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{Duration, Months, TimeZone, Utc};

/// The time step of a synthetic grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Month,
    Day,
    Hour,
}

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub periods: usize,
    pub step: Step,
    /// Tranches per region (spread over providers).
    pub tranches_per_region: usize,
    pub regions: usize,
    pub providers: usize,
    pub survive_provider_loss: bool,
    /// 1 turns the share cap off (the policy default); below 1 caps every provider's share.
    pub max_provider_share: f64,
    /// Workloads per region, 1..=3: the first n of chat, api, batch, their shares renormalised
    /// so a region's total demand does not depend on n (clamped into 1..=3).
    pub workloads: usize,
    /// Writes outages.csv: a few fixed, hour-aligned capacity losses (see `outages_csv`).
    pub outages: bool,
}

const REGIONS: [&str; 6] = ["us", "eu", "apac", "latam", "me", "africa"];
const PROVIDERS: [&str; 8] = [
    "aws",
    "azure",
    "gcp",
    "oracle",
    "lambda",
    "nebius",
    "coreweave",
    "onprem",
];

const WORKLOADS: [(&str, f64); 3] = [("chat", 0.45), ("api", 0.4), ("batch", 0.15)];

/// Writes demand.csv, capacity.csv, routes.csv and scenario.toml into `dir`, and outages.csv
/// when `spec.outages`.
pub fn write(dir: &Path, spec: &Spec) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let start = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date");
    let at = |i: usize| match spec.step {
        Step::Month => start
            .checked_add_months(Months::new(i as u32))
            .expect("in range"),
        Step::Day => start + Duration::days(i as i64),
        Step::Hour => start + Duration::hours(i as i64),
    };
    let regions = &REGIONS[..spec.regions.clamp(1, REGIONS.len())];
    let providers = &PROVIDERS[..spec.providers.clamp(1, PROVIDERS.len())];
    let workloads = &WORKLOADS[..spec.workloads.clamp(1, WORKLOADS.len())];
    let share_total: f64 = workloads.iter().map(|(_, s)| s).sum();
    let mut demand = String::from("period,region,workload,tokens_per_minute\n");
    for i in 0..spec.periods {
        let t = at(i);
        // Growth of ~5% a month, a daily cycle for hourly grids and a weekly one for daily grids.
        let months = (t - start).num_hours() as f64 / 730.0;
        let growth = 1.05f64.powf(months);
        let cycle = match spec.step {
            Step::Hour => 1.0 + 0.25 * ((i % 24) as f64 / 24.0 * std::f64::consts::TAU).sin(),
            Step::Day => 1.0 + 0.1 * ((i % 7) as f64 / 7.0 * std::f64::consts::TAU).sin(),
            Step::Month => 1.0,
        };
        for (r, region) in regions.iter().enumerate() {
            let base = 15e9 * [0.55, 0.25, 0.2, 0.1, 0.05, 0.05][r];
            for &(workload, share) in workloads {
                let tpm = (base * share / share_total * growth * cycle).round();
                writeln!(
                    demand,
                    "{},{region},{workload},{tpm}",
                    t.format("%Y-%m-%dT%H:%M:%SZ")
                )
                .expect("string");
            }
        }
    }
    let mut capacity = String::from(
        "provider,region,tranche,start,end,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour,min_commit\n",
    );
    let horizon_hours = (at(spec.periods) - start).num_hours().max(1) as f64;
    for (r, region) in regions.iter().enumerate() {
        let regional_peak = 15e9
            * [0.55, 0.25, 0.2, 0.1, 0.05, 0.05][r]
            * 1.05f64.powf(horizon_hours / 730.0)
            * 1.3;
        for j in 0..spec.tranches_per_region {
            let provider = providers[(r + j) % providers.len()];
            let cap = (regional_peak / spec.tranches_per_region as f64 * 1.2).round();
            let kind = j % 3;
            // Reserved ($0.6–1.6/M at full use), on-demand ($1.2–3.9/M), late-arriving reserved.
            let (usage, commit, tranche_start) = match kind {
                0 => (
                    0.01,
                    cap * 60.0 / 1e6 * (0.6 + 0.1 * j as f64),
                    String::new(),
                ),
                1 => (1.2 + 0.3 * j as f64, 0.0, String::new()),
                _ => (
                    0.01,
                    cap * 60.0 / 1e6 * (0.5 + 0.1 * j as f64),
                    at(spec.periods / 3)
                        .format("%Y-%m-%dT%H:%M:%SZ")
                        .to_string(),
                ),
            };
            writeln!(
                capacity,
                "{provider},{region},{provider}/{region}/{j},{tranche_start},,{cap},{usage},{commit:.2},{}",
                if j == 0 && r == 0 { "0.5" } else { "0" }
            )
            .expect("string");
        }
    }
    let mut routes = String::from("demand_region,supply_region,cost_per_million_tokens\n");
    for a in regions {
        for b in regions {
            if a != b {
                writeln!(routes, "{a},{b},0.08").expect("string");
            }
        }
    }
    let toml = format!(
        "name = \"synthetic-{}x{:?}\"\nhorizon_end = \"{}\"\n[policy]\nunserved_penalty = 100\nmax_provider_share = {}\nsurvive_provider_loss = {}\nloss_coverage = 0.8\nresilience_penalty = 50\n",
        spec.periods,
        spec.step,
        at(spec.periods).format("%Y-%m-%dT%H:%M:%SZ"),
        spec.max_provider_share,
        spec.survive_provider_loss
    );
    std::fs::write(dir.join("demand.csv"), demand)?;
    std::fs::write(dir.join("capacity.csv"), capacity)?;
    std::fs::write(dir.join("routes.csv"), routes)?;
    std::fs::write(dir.join("scenario.toml"), toml)?;
    let outages_path = dir.join("outages.csv");
    if spec.outages {
        let horizon = at(spec.periods);
        std::fs::write(
            &outages_path,
            outages_csv(start, horizon, regions, providers),
        )?;
    } else if outages_path.exists() {
        // Rewriting a folder without outages must not leave an earlier run's file behind.
        std::fs::remove_file(&outages_path)?;
    }
    Ok(())
}

/// Three outages at fixed fractions of the horizon, each starting on a whole hour: the first
/// provider's first region down completely for 3 days (it holds the tranche with a signed
/// minimum commitment, so the plan pays for capacity it cannot use), the second provider's
/// second region at half capacity for a week, and the third provider in every region (no region
/// column) at 80% for a day. On grids coarser than an hour they cover periods partly, so the
/// loader's proration is exercised; an outage running past the horizon end is cut there.
fn outages_csv(
    start: chrono::DateTime<Utc>,
    horizon: chrono::DateTime<Utc>,
    regions: &[&str],
    providers: &[&str],
) -> String {
    let horizon_hours = (horizon - start).num_hours().max(1);
    let at_fraction = |f: f64| start + Duration::hours((horizon_hours as f64 * f).floor() as i64);
    let fmt = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    // (provider index, region index or every region, start as a fraction of the horizon,
    // hours, capacity factor); indices wrap so small specs still name existing ones.
    let rows: [(usize, Option<usize>, f64, i64, &str); 3] = [
        (0, Some(0), 0.25, 72, "0"),
        (1, Some(1), 0.55, 168, "0.5"),
        (2, None, 0.8, 24, "0.8"),
    ];
    let mut csv = String::from("provider,region,start,end,capacity_factor\n");
    for (p, r, fraction, hours, factor) in rows {
        let from = at_fraction(fraction);
        writeln!(
            csv,
            "{},{},{},{},{factor}",
            providers[p % providers.len()],
            r.map_or("", |r| regions[r % regions.len()]),
            fmt(from),
            fmt(from + Duration::hours(hours))
        )
        .expect("string");
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Facts;

    /// The benchmark case's shape on a one-week hourly grid: 2 workloads, outages, no share cap.
    fn week(outages: bool) -> Spec {
        Spec {
            periods: 168,
            step: Step::Hour,
            tranches_per_region: 4,
            regions: 3,
            providers: 4,
            survive_provider_loss: false,
            max_provider_share: 1.0,
            workloads: 2,
            outages,
        }
    }

    #[test]
    fn folder_with_outages_and_two_workloads_loads() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &week(true)).unwrap();
        let (s, facts, _) = crate::pipeline::load(dir.path(), &Default::default()).unwrap();
        assert_eq!(s.periods.len(), 168);
        assert_eq!(facts.workloads, ["api", "chat"]);
        assert_eq!(s.policy.max_provider_share, 1.0);
        assert_eq!(s.outages.len(), 3);
        // Renormalised shares: the region's total is what three workloads would add up to.
        let three = {
            let d = tempfile::tempdir().unwrap();
            write(
                d.path(),
                &Spec {
                    workloads: 3,
                    ..week(false)
                },
            )
            .unwrap();
            Facts::of(&crate::load::load(d.path()).unwrap().scenario)
        };
        for (a, b) in facts.demand_tpm[0].iter().zip(&three.demand_tpm[0]) {
            assert!((a - b).abs() <= 2.0, "{a} vs {b}");
        }
        // The first provider's first region is down for hours 42..114 (a quarter of 168 on),
        // the second's second region at half for the rest of the week from hour 92.
        let us = Facts::tranche_by_name(&s, "aws/us/0").unwrap().0;
        let eu = Facts::tranche_by_name(&s, "azure/eu/0").unwrap().0;
        assert_eq!(facts.available_fraction[41][us], 1.0);
        assert_eq!(facts.available_fraction[42][us], 0.0);
        assert_eq!(facts.available_fraction[113][us], 0.0);
        assert_eq!(facts.available_fraction[114][us], 1.0);
        assert_eq!(facts.available_fraction[91][eu], 1.0);
        assert_eq!(facts.available_fraction[92][eu], 0.5);
        assert_eq!(facts.available_fraction[167][eu], 0.5);
        // A(k,t) lowers availability but not the window: H(k) is the whole week.
        assert_eq!(facts.tranches[us].window_hours, 168.0);
    }

    #[test]
    fn rewriting_without_outages_removes_the_file() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &week(true)).unwrap();
        write(dir.path(), &week(false)).unwrap();
        assert!(!dir.path().join("outages.csv").exists());
        let loaded = crate::load::load(dir.path()).unwrap();
        assert!(loaded.scenario.outages.is_empty());
    }
}
