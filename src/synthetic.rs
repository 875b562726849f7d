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
    pub max_provider_share: f64,
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

/// Writes demand.csv, capacity.csv, routes.csv and scenario.toml into `dir`.
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
            for (workload, share) in [("chat", 0.45), ("api", 0.4), ("batch", 0.15)] {
                let tpm = (base * share * growth * cycle).round();
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
    Ok(())
}
