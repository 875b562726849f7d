//! Synthetic scenario folders at real magnitudes (1e10 tokens per minute, $0.5–$5 per million
//! tokens), for benchmarks and cross-solver tests. Deterministic: no randomness, so the same
//! arguments always write the same files.
//!
//! Two layouts. [`write`] keeps the original one (up to 6 named regions, a fixed number of
//! tranches per region in a reserved / on-demand / late-reserved rotation), which tests and docs
//! depend on byte for byte. [`write_estate`] writes the scaling benchmark's estates (issue 16):
//! up to 20 regions `r00`…`r19`, given numbers of reserved and on-demand tranches spread over the
//! regions and providers with varied prices, windows and minimum commitments, and routes between
//! all regions with varied costs. Its variation comes from a hash of fixed indices, not from a
//! random generator, so it is as deterministic as the first layout.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, Duration, Months, TimeZone, Utc};

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
    /// Some(b): every tranche written in GPUs (`GPU_TOKENS_PER_SECOND` each, the same capacity
    /// rounded up to whole GPUs) and the reserved ones signed in blocks of b GPUs (rounded up to
    /// whole blocks), their commitment priced per GPU-hour at the same $ per token of capacity
    /// (spec v3, "Capacity in GPUs"). None: tokens per minute, as before v3.
    pub block_gpus: Option<u32>,
}

impl Spec {
    /// The benchmarks' estate (docs/performance.md): 3 regions × 4 tranches over 4 providers,
    /// 2 workloads, no share cap, no N-1, no outages, capacity in tokens per minute.
    pub fn benchmark(periods: usize, step: Step) -> Spec {
        Spec {
            periods,
            step,
            tranches_per_region: 4,
            regions: 3,
            providers: 4,
            survive_provider_loss: false,
            max_provider_share: 1.0,
            workloads: 2,
            outages: false,
            block_gpus: None,
        }
    }
}

/// The throughput of a synthetic GPU, tokens per second: a 70B-class model on an H100, the
/// order of the published figures (docs/data-sources.md).
pub const GPU_TOKENS_PER_SECOND: f64 = 2_000.0;

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

/// The workloads a folder written with `spec` has in demand.csv, in their order there.
pub fn workload_names(spec: &Spec) -> Vec<&'static str> {
    WORKLOADS[..spec.workloads.clamp(1, WORKLOADS.len())]
        .iter()
        .map(|&(name, _)| name)
        .collect()
}

/// Writes demand.csv, capacity.csv, routes.csv and scenario.toml into `dir`, and outages.csv
/// when `spec.outages`.
pub fn write(dir: &Path, spec: &Spec) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let start = grid_start();
    let at = |i: usize| period_start(spec.step, i);
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
    let name = format!(
        "synthetic-{}x{:?}{}",
        spec.periods,
        spec.step,
        blocks_suffix(spec)
    );
    write_files(
        dir,
        spec,
        &name,
        [demand, capacity, routes],
        regions,
        providers,
    )
}

/// `-blocks8` in the name of a scenario in 8-GPU blocks; nothing in tokens per minute.
fn blocks_suffix(spec: &Spec) -> String {
    spec.block_gpus
        .map_or(String::new(), |b| format!("-blocks{b}"))
}

/// The first period's start, 2026-01-01T00:00Z, in both layouts.
fn grid_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date")
}

/// The start of period `i` (period `periods` is the horizon's end).
fn period_start(step: Step, i: usize) -> DateTime<Utc> {
    let start = grid_start();
    match step {
        Step::Month => start
            .checked_add_months(Months::new(i as u32))
            .expect("in range"),
        Step::Day => start + Duration::days(i as i64),
        Step::Hour => start + Duration::hours(i as i64),
    }
}

/// Writes the three CSV tables given (demand, capacity, routes), scenario.toml with the spec's
/// policy, and outages.csv when `spec.outages` (removing a stale one otherwise): what both
/// layouts share.
fn write_files(
    dir: &Path,
    spec: &Spec,
    name: &str,
    [demand, capacity, routes]: [String; 3],
    regions: &[&str],
    providers: &[&str],
) -> std::io::Result<()> {
    let start = grid_start();
    let horizon = period_start(spec.step, spec.periods);
    let toml = format!(
        "name = \"{name}\"\nhorizon_end = \"{}\"\n[policy]\nunserved_penalty = 100\nmax_provider_share = {}\nsurvive_provider_loss = {}\nloss_coverage = 0.8\nresilience_penalty = 50\n",
        horizon.format("%Y-%m-%dT%H:%M:%SZ"),
        spec.max_provider_share,
        spec.survive_provider_loss
    );
    let capacity = match spec.block_gpus {
        Some(block) => capacity_in_gpus(&capacity, block),
        None => capacity,
    };
    std::fs::write(dir.join("demand.csv"), demand)?;
    std::fs::write(dir.join("capacity.csv"), capacity)?;
    std::fs::write(dir.join("routes.csv"), routes)?;
    std::fs::write(dir.join("scenario.toml"), toml)?;
    let outages_path = dir.join("outages.csv");
    if spec.outages {
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

/// capacity.csv as both layouts write it (provider, region, tranche, start, end, capacity_tpm,
/// cost_per_million_tokens, commit_cost_per_hour, min_commit: plain cells, no quotes) rewritten
/// in GPUs of `GPU_TOKENS_PER_SECOND`: gpus = the capacity in GPUs rounded up, to whole blocks of
/// `block` where the tranche has a commit price (a reservation), and commit_cost_per_gpu_hour =
/// the commit price per hour over the capacity in GPUs before rounding (the same $ per token of
/// capacity). The usage price stays per million tokens.
fn capacity_in_gpus(capacity: &str, block: u32) -> String {
    let block = f64::from(block.max(1));
    let mut out = String::from(
        "provider,region,tranche,start,end,gpu,gpus,tokens_per_second_per_gpu,cost_per_million_tokens,commit_cost_per_gpu_hour,block_gpus,min_commit\n",
    );
    for line in capacity.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let [provider, region, tranche, start, end, tpm, usage, commit, min_commit] = cells[..]
        else {
            unreachable!("the layouts write nine cells: {line}")
        };
        let exact_gpus = tpm.parse::<f64>().expect("a number") / (GPU_TOKENS_PER_SECOND * 60.0);
        let commit: f64 = commit.parse().unwrap_or(0.0);
        let (gpus, commit, block_cell) = if commit > 0.0 {
            let gpus = ((exact_gpus / block).ceil() * block).max(block);
            (
                gpus,
                format!("{:.4}", commit / exact_gpus),
                format!("{block}"),
            )
        } else {
            (exact_gpus.ceil().max(1.0), String::new(), String::new())
        };
        // A blank minimum commitment is the default; "0" too.
        let min_commit = if min_commit == "0" { "" } else { min_commit };
        writeln!(
            out,
            "{provider},{region},{tranche},{start},{end},H100,{gpus},{GPU_TOKENS_PER_SECOND},{usage},{commit},{block_cell},{min_commit}"
        )
        .expect("string");
    }
    out
}

/// The most regions an estate may have: `r00` … `r19`.
pub const MAX_ESTATE_REGIONS: usize = 20;

/// The tranches of an estate written by [`write_estate`], by kind. The regions, providers,
/// workloads, time grid, outages and policy come from the [`Spec`]; its `tranches_per_region`
/// is not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estate {
    /// Tranches with a commit price and a low usage price ($0.2–0.6 per million tokens used,
    /// commitments worth $0.5–1.1 per million at full use); together about each region's peak
    /// demand, larger for the first providers (`PROVIDER_WEIGHT`). Every 4th starts late (in
    /// the first 30% of the horizon), every 4th from the 3rd also ends half a horizon later, and
    /// every 5th has a minimum commitment of 0.15–0.45.
    pub reserved_tranches: usize,
    /// Tranches without a commit price at $2.5–3.6 per million tokens; together 0.3× the total
    /// demand at the start, so growth needs reservations and N-1 has a price.
    pub on_demand_tranches: usize,
}

/// Reserved capacity of a region, as a fraction of its peak demand (at the horizon's end, on
/// the daily cycle's crest); regions peak at different hours, so the estate as a whole has more.
const RESERVED_OF_PEAK: f64 = 1.0;
/// On-demand capacity of the estate, as a fraction of the total demand at the horizon's start:
/// scarce, so growth is served by reservations and losing a provider is felt.
const ON_DEMAND_OF_BASE: f64 = 0.3;
/// Relative size of each provider's reserved tranches in an estate: a few large clouds and smaller neoclouds,
/// so that the largest provider holds a quarter (8 providers) to a third (4) of the reserved
/// capacity and N-1 has a price.
const PROVIDER_WEIGHT: [f64; 8] = [2.0, 1.5, 1.2, 1.0, 0.8, 0.6, 0.5, 0.4];

/// Streams of [`unit`], one per varied quantity, so adding a tranche never changes a route.
const REGION_SIZE: u64 = 1;
const RESERVED_SIZE: u64 = 2;
const RESERVED_PRICE: u64 = 3;
const RESERVED_COMMIT: u64 = 4;
const RESERVED_START: u64 = 5;
const RESERVED_MIN_COMMIT: u64 = 6;
const ON_DEMAND_SIZE: u64 = 7;
const ON_DEMAND_PRICE: u64 = 8;
const ROUTE_PRICE: u64 = 9;

/// A number in [0, 1) fixed by `(stream, index)`: the splitmix64 finaliser applied twice. A hash
/// rather than a random generator, so each value depends on its indices only, not on the order
/// in which values are drawn.
fn unit(stream: u64, index: u64) -> f64 {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    (mix(mix(stream) ^ index) >> 11) as f64 / (1u64 << 53) as f64
}

/// `x` rounded to `decimals` places, so the files carry short numbers.
fn rounded(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (x * scale).round() / scale
}

/// Provider and region of the `j`-th tranche of a kind: providers in turn, the region moving
/// one step further each round of providers (shifted by `offset`), so that every region gets
/// every provider once there are regions × providers tranches.
fn placement(j: usize, providers: usize, regions: usize, offset: usize) -> (usize, usize) {
    (j % providers, (j + j / providers + offset) % regions)
}

/// Writes an estate of the scaling benchmark's shape into `dir`: `spec.regions` regions named
/// `r00`, `r01`, … (clamped into 1..=[`MAX_ESTATE_REGIONS`]), `spec.providers` providers
/// (1..=8), the estate's reserved and on-demand tranches spread over both, routes between all
/// regions, `spec.workloads` workloads, outages.csv when `spec.outages` (the same three outages
/// as [`write`]) and the spec's policy.
///
/// Demand averages 5e9 tokens per minute per region at the start (so 3 regions match
/// [`write`]'s total), with fixed regional weights of 0.4–1.6, the same 5% monthly growth, and
/// on hourly grids a daily cycle shifted by region like time zones. Route prices are
/// 0.10 + 0.04 per step around a ring of the regions + up to 0.09 of variation, $ per million
/// tokens; the variation is below the fixed part, so no path through a third region is ever
/// cheaper than the direct route.
pub fn write_estate(dir: &Path, spec: &Spec, estate: &Estate) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let start = grid_start();
    let at = |i: usize| period_start(spec.step, i);
    let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let region_count = spec.regions.clamp(1, MAX_ESTATE_REGIONS);
    let regions: Vec<String> = (0..region_count).map(|r| format!("r{r:02}")).collect();
    let regions: Vec<&str> = regions.iter().map(String::as_str).collect();
    let providers = &PROVIDERS[..spec.providers.clamp(1, PROVIDERS.len())];
    let workloads = &WORKLOADS[..spec.workloads.clamp(1, WORKLOADS.len())];
    let share_total: f64 = workloads.iter().map(|(_, s)| s).sum();

    // Regional weights of 0.4–1.6, renormalised to a mean of exactly 1.
    let raw: Vec<f64> = (0..region_count)
        .map(|r| 0.4 + 1.2 * unit(REGION_SIZE, r as u64))
        .collect();
    let mean = raw.iter().sum::<f64>() / region_count as f64;
    let base: Vec<f64> = raw.iter().map(|w| 5e9 * w / mean).collect();

    let mut demand = String::from("period,region,workload,tokens_per_minute\n");
    for i in 0..spec.periods {
        let t = at(i);
        let label = fmt(t);
        let growth = 1.05f64.powf((t - start).num_hours() as f64 / 730.0);
        for (r, region) in regions.iter().enumerate() {
            let cycle = match spec.step {
                Step::Hour => {
                    // Region r's day starts 24·r/R hours later: peaks move around the globe.
                    let hour = (i + 24 * r / region_count) % 24;
                    1.0 + 0.25 * (hour as f64 / 24.0 * std::f64::consts::TAU).sin()
                }
                Step::Day => 1.0 + 0.1 * ((i % 7) as f64 / 7.0 * std::f64::consts::TAU).sin(),
                Step::Month => 1.0,
            };
            for &(workload, share) in workloads {
                let tpm = (base[r] * share / share_total * growth * cycle).round();
                writeln!(demand, "{label},{region},{workload},{tpm}").expect("string");
            }
        }
    }

    let horizon_hours = (at(spec.periods) - start).num_hours().max(1);
    let peak_growth = 1.05f64.powf(horizon_hours as f64 / 730.0) * 1.25;
    let peak: Vec<f64> = base.iter().map(|b| b * peak_growth).collect();
    let mut capacity = String::from(
        "provider,region,tranche,start,end,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour,min_commit\n",
    );
    let reserved: Vec<(usize, usize)> = (0..estate.reserved_tranches)
        .map(|j| placement(j, providers.len(), region_count, 0))
        .collect();
    // A region's reserved tranches share RESERVED_OF_PEAK of its peak in proportion to their
    // providers' weights.
    let mut region_weight = vec![0.0; region_count];
    for &(p, g) in &reserved {
        region_weight[g] += PROVIDER_WEIGHT[p];
    }
    for (j, &(p, g)) in reserved.iter().enumerate() {
        let index = j as u64;
        let cap = (peak[g] * RESERVED_OF_PEAK * PROVIDER_WEIGHT[p] / region_weight[g]
            * (0.6 + 0.8 * unit(RESERVED_SIZE, index)))
        .round();
        let usage = rounded(0.2 + 0.4 * unit(RESERVED_PRICE, index), 3);
        let commit = cap * 60.0 / 1e6 * (0.5 + 0.6 * unit(RESERVED_COMMIT, index));
        // Late starts and windows on whole hours, so coarser grids see them prorated.
        let late = at(0)
            + Duration::hours(
                (0.3 * horizon_hours as f64 * unit(RESERVED_START, index)).floor() as i64,
            );
        let (from, to) = match j % 4 {
            1 => (fmt(late), String::new()),
            3 => (fmt(late), fmt(late + Duration::hours(horizon_hours / 2))),
            _ => (String::new(), String::new()),
        };
        let min_commit = if j % 5 == 0 {
            format!("{:.2}", 0.15 + 0.3 * unit(RESERVED_MIN_COMMIT, index))
        } else {
            String::new()
        };
        writeln!(
            capacity,
            "{},{},res{j:03},{from},{to},{cap},{usage},{commit:.2},{min_commit}",
            providers[p], regions[g]
        )
        .expect("string");
    }
    let total_base: f64 = base.iter().sum();
    for j in 0..estate.on_demand_tranches {
        let (p, g) = placement(j, providers.len(), region_count, region_count / 2);
        let index = j as u64;
        let cap = (total_base * ON_DEMAND_OF_BASE / estate.on_demand_tranches as f64
            * (0.8 + 0.4 * unit(ON_DEMAND_SIZE, index)))
        .round();
        let usage = rounded(2.5 + 1.1 * unit(ON_DEMAND_PRICE, index), 2);
        writeln!(
            capacity,
            "{},{},od{j:03},,,{cap},{usage},,",
            providers[p], regions[g]
        )
        .expect("string");
    }

    let mut routes = String::from("demand_region,supply_region,cost_per_million_tokens\n");
    for (a, demand_region) in regions.iter().enumerate() {
        for (b, supply_region) in regions.iter().enumerate() {
            if a == b {
                continue;
            }
            let steps = a.abs_diff(b).min(region_count - a.abs_diff(b));
            let jitter = unit(ROUTE_PRICE, (a * region_count + b) as u64);
            let cost = rounded(0.1 + 0.04 * steps as f64 + 0.09 * jitter, 3);
            writeln!(routes, "{demand_region},{supply_region},{cost}").expect("string");
        }
    }

    let name = format!(
        "synthetic-{}x{}+{}-{}x{:?}{}",
        region_count,
        estate.reserved_tranches,
        estate.on_demand_tranches,
        spec.periods,
        spec.step,
        blocks_suffix(spec)
    );
    write_files(
        dir,
        spec,
        &name,
        [demand, capacity, routes],
        &regions,
        providers,
    )
}

/// Three outages at fixed fractions of the horizon, each starting on a whole hour: the first
/// provider's first region down completely for 3 days (it holds the tranche with a signed
/// minimum commitment, so the plan pays for capacity it cannot use), the second provider's
/// second region at half capacity for a week, and the third provider in every region (no region
/// column) at 80% for a day. On grids coarser than an hour they cover periods partly, so the
/// loader's proration is exercised; an outage running past the horizon end is cut there.
fn outages_csv(
    start: DateTime<Utc>,
    horizon: DateTime<Utc>,
    regions: &[&str],
    providers: &[&str],
) -> String {
    let horizon_hours = (horizon - start).num_hours().max(1);
    let at_fraction = |f: f64| start + Duration::hours((horizon_hours as f64 * f).floor() as i64);
    let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
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
            outages,
            ..Spec::benchmark(168, Step::Hour)
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

    /// The scaling benchmark's middle estate on a two-day hourly grid.
    fn estate_spec() -> (Spec, Estate) {
        let spec = Spec {
            periods: 48,
            regions: 8,
            providers: 8,
            survive_provider_loss: true,
            max_provider_share: 0.2,
            ..week(true)
        };
        let estate = Estate {
            reserved_tranches: 64,
            on_demand_tranches: 16,
        };
        (spec, estate)
    }

    #[test]
    fn estate_has_the_asked_shape_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let (spec, estate) = estate_spec();
        write_estate(dir.path(), &spec, &estate).unwrap();
        let (s, facts, _) = crate::pipeline::load(dir.path(), &Default::default()).unwrap();
        assert_eq!(s.periods.len(), 48);
        assert_eq!(
            facts.regions,
            ["r00", "r01", "r02", "r03", "r04", "r05", "r06", "r07"]
        );
        assert_eq!(facts.providers.len(), 8);
        assert_eq!(facts.workloads, ["api", "chat"]);
        assert!(s.policy.survive_provider_loss);
        assert_eq!(s.policy.max_provider_share, 0.2);
        assert_eq!(s.outages.len(), 3);
        // 64 reserved tranches (each a reservation decision), 16 on-demand ones (none).
        let decisions = facts
            .tranches
            .iter()
            .filter(|k| k.has_reservation_decision)
            .count();
        assert_eq!((s.tranches.len(), decisions), (80, 64));
        // 64 = 8 regions × 8 providers: every pair holds exactly one reserved tranche.
        let mut pairs: Vec<(&str, &str)> = s.tranches[..64]
            .iter()
            .map(|k| (k.provider.as_str(), k.region.as_str()))
            .collect();
        pairs.sort();
        pairs.dedup();
        assert_eq!(pairs.len(), 64);
        // The first provider is the largest: a quarter of the reserved capacity.
        let reserved_tpm = |p: Option<&str>| -> f64 {
            s.tranches[..64]
                .iter()
                .filter(|k| p.is_none_or(|p| k.provider == p))
                .map(|k| k.capacity_tpm)
                .sum()
        };
        let aws = reserved_tpm(Some("aws")) / reserved_tpm(None);
        assert!((0.2..0.3).contains(&aws), "{aws}");
        // Windows, minimum commitments and prices vary.
        assert_eq!(s.tranches.iter().filter(|k| k.start.is_some()).count(), 32);
        assert_eq!(s.tranches.iter().filter(|k| k.end.is_some()).count(), 16);
        assert_eq!(s.tranches.iter().filter(|k| k.min_commit > 0.0).count(), 13);
        let mut prices: Vec<u64> = s
            .tranches
            .iter()
            .map(|k| (k.cost_per_million_tokens * 1e3) as u64)
            .collect();
        prices.sort();
        prices.dedup();
        assert!(prices.len() > 40, "{} distinct prices", prices.len());
        // Routes between all regions, none beaten by a path through a third region (the
        // PyPSA twin's bus model relies on it).
        let routes = s.routes.as_ref().unwrap();
        assert_eq!(routes.len(), 8 * 7);
        let cost = |a: &str, b: &str| {
            routes
                .iter()
                .find(|r| r.demand_region == a && r.supply_region == b)
                .map(|r| r.cost_per_million_tokens)
                .unwrap()
        };
        for a in &facts.regions {
            for b in &facts.regions {
                for c in &facts.regions {
                    if a != b && b != c && a != c {
                        assert!(cost(a, c) <= cost(a, b) + cost(b, c), "{a} {b} {c}");
                    }
                }
            }
        }
        // Demand per region averages 5e9 tokens per minute at the start, before the daily cycle.
        let first: f64 = facts.demand_tpm[0].iter().sum();
        assert!((first / 8.0 / 5e9 - 1.0).abs() < 0.2, "{first}");
    }

    #[test]
    fn estate_is_the_same_every_time_and_reaches_twenty_regions() {
        let (spec, estate) = estate_spec();
        let [a, b] = [(); 2].map(|_| tempfile::tempdir().unwrap());
        write_estate(a.path(), &spec, &estate).unwrap();
        write_estate(b.path(), &spec, &estate).unwrap();
        for file in [
            "demand.csv",
            "capacity.csv",
            "routes.csv",
            "outages.csv",
            "scenario.toml",
        ] {
            assert_eq!(
                std::fs::read(a.path().join(file)).unwrap(),
                std::fs::read(b.path().join(file)).unwrap(),
                "{file}"
            );
        }
        let big = Spec {
            regions: 25,
            ..spec
        };
        write_estate(a.path(), &big, &estate).unwrap();
        let loaded = crate::load::load(a.path()).unwrap().scenario;
        let mut regions: Vec<&str> = loaded.demand.iter().map(|d| d.region.as_str()).collect();
        regions.sort();
        regions.dedup();
        assert_eq!(regions.len(), MAX_ESTATE_REGIONS);
        assert_eq!(regions.last(), Some(&"r19"));
    }

    #[test]
    fn in_gpus_the_reservations_come_in_whole_blocks_at_the_same_price_per_token() {
        let [tokens, gpus] = [(); 2].map(|_| tempfile::tempdir().unwrap());
        write(tokens.path(), &week(false)).unwrap();
        write(
            gpus.path(),
            &Spec {
                block_gpus: Some(8),
                ..week(false)
            },
        )
        .unwrap();
        let (s, facts, _) = crate::pipeline::load(gpus.path(), &Default::default()).unwrap();
        let before = crate::load::load(tokens.path()).unwrap().scenario;
        assert_eq!(s.name, "synthetic-168xHour-blocks8");
        for (k, (t, was)) in s.tranches.iter().zip(&before.tranches).enumerate() {
            assert_eq!(t.name, was.name);
            // Capacity in whole GPUs of 2,000 tokens/s, at least what the tokens form offered
            // and under one block (or one GPU) more.
            let per_gpu = GPU_TOKENS_PER_SECOND * 60.0;
            let gpus = t.capacity_tpm / per_gpu;
            assert!(
                (gpus - gpus.round()).abs() < 1e-9,
                "{}: {gpus} GPUs",
                t.name
            );
            let reserved = was.commit_cost_per_hour > 0.0;
            let slack = if reserved { 8.0 } else { 1.0 };
            assert!(
                t.capacity_tpm >= was.capacity_tpm
                    && t.capacity_tpm < was.capacity_tpm + slack * per_gpu,
                "{}: {} vs {}",
                t.name,
                t.capacity_tpm,
                was.capacity_tpm
            );
            // Reserved tranches in 8-GPU blocks, their commitment per token of capacity the same
            // to the 4 decimals of the price per GPU-hour; on-demand ones without blocks.
            match facts.tranches[k].reservation_step {
                Some(step) => {
                    assert!(reserved, "{}", t.name);
                    assert!((step * gpus - 8.0).abs() < 1e-6, "{}: step {step}", t.name);
                    let per_token = |k: &crate::scenario::Tranche| {
                        k.commit_cost_per_hour / (k.capacity_tpm / per_gpu)
                    };
                    assert!(
                        (per_token(t) - per_token(was)).abs() <= 0.5e-4 + 1e-9,
                        "{}: {} vs {}",
                        t.name,
                        per_token(t),
                        per_token(was)
                    );
                }
                None => assert!(!reserved, "{}", t.name),
            }
        }
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
