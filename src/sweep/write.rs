//! Sweep stage, files: the records as CSV (one exporter for `sweep.csv`, one for the shard and
//! checkpoint files that a merge or `--resume` reads back with the same types), the summaries
//! (`sweep.json`, `sweep.md`, the text on stdout), all with capplan's fixed float formatting.

use std::path::Path;

use serde::Serialize;

use chrono::{DateTime, Utc};

use super::risk::{mean, nearest_rank, sorted};
use super::{Info, Record};
use crate::error::{Error, Location, Result};
use crate::export::markdown::{self, Align};
use crate::export::{csv, json, OutputFile};
use crate::report::series::{Binned, Grain, Period};
use crate::units::{fixed, human, human_dollars};

/// A finished sweep: its data, the base it is compared with, and every record in id order.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    pub info: Info,
    pub base: Record,
    pub records: Vec<Record>,
}

const METRIC_COLUMNS: [&str; 7] = [
    "cost",
    "objective",
    "cost_per_million_tokens",
    "served_pct",
    "worst_period_served_pct",
    "unserved_tokens",
    "demand_tokens",
];

/// Risk: what each sample's unserved tokens come to without its outages, and what the outages
/// add (see `Record::unserved_tokens_from_outages`).
const RISK_COLUMNS: [&str; 2] = [
    "unserved_tokens_demand_only",
    "unserved_tokens_from_outages",
];

fn header(info: &Info, full: bool) -> Vec<String> {
    let mut h = vec!["id".to_string()];
    h.extend(info.param_columns());
    h.extend(METRIC_COLUMNS.iter().map(|c| c.to_string()));
    if info.is_risk() {
        h.extend(RISK_COLUMNS.iter().map(|c| c.to_string()));
    }
    if full {
        if info.is_risk() {
            h.push("period_demand_tpm".into());
            h.push("period_served_tpm".into());
        }
        h.push("fingerprint".into());
    }
    h
}

fn list(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| fixed(*v))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A record's cells (`full`: with the per-period series and the fingerprint).
pub fn cells(info: &Info, r: &Record, full: bool) -> Vec<String> {
    let mut c = vec![r.id.to_string()];
    c.extend(r.params.iter().cloned());
    c.extend([
        fixed(r.cost),
        fixed(r.objective),
        fixed(r.cost_per_million_tokens),
        fixed(r.served_pct),
        r.worst_period_served_pct.map(fixed).unwrap_or_default(),
        fixed(r.unserved_tokens),
        fixed(r.demand_tokens),
    ]);
    if info.is_risk() {
        let cell = |v: Option<f64>| v.map(fixed).unwrap_or_default();
        c.push(cell(r.unserved_tokens_demand_only));
        c.push(cell(r.unserved_tokens_from_outages()));
    }
    if full {
        if info.is_risk() {
            c.push(list(&r.period_demand_tpm));
            c.push(list(&r.period_served_tpm));
        }
        c.push(info.fingerprint.clone());
    }
    c
}

/// `sweep.csv`: one row per point or sample, sorted by id.
pub fn sweep_csv(info: &Info, records: &[Record]) -> Vec<u8> {
    csv::records(
        &header(info, false),
        records.iter().map(|r| cells(info, r, false)),
    )
}

/// A shard's or a checkpoint's records: `sweep.csv`'s columns, the per-period series of a risk
/// sweep and the sweep's fingerprint on every row.
pub fn records_csv(info: &Info, records: &[Record]) -> Vec<u8> {
    csv::records(
        &header(info, true),
        records.iter().map(|r| cells(info, r, true)),
    )
}

/// A row of `sweep_periods.csv` (risk): demand and served tokens per minute of one sample in one
/// period.
#[derive(Serialize, Default)]
struct PeriodRow<'a> {
    id: u64,
    period: &'a str,
    demand_tpm: f64,
    served_tpm: f64,
}

/// `sweep_periods.csv` (risk): demand and served tokens per minute, by sample and period.
pub fn periods_csv(info: &Info, records: &[Record]) -> Vec<u8> {
    csv::table::<PeriodRow>(records.iter().flat_map(|r| {
        info.period_starts
            .iter()
            .zip(r.period_demand_tpm.iter().zip(&r.period_served_tpm))
            .map(move |(p, (d, s))| PeriodRow {
                id: r.id,
                period: p,
                demand_tpm: *d,
                served_tpm: *s,
            })
    }))
}

fn number(path: &Path, line: u64, column: &str, text: &str) -> Result<f64> {
    let x: f64 = text.parse().map_err(|_| {
        Error::input(
            Location::at(path, line, Some(column)),
            format!("expected a number, found '{text}'"),
        )
    })?;
    if !x.is_finite() {
        return Err(Error::input(
            Location::at(path, line, Some(column)),
            format!("expected a finite number, found '{text}'"),
        ));
    }
    Ok(x)
}

/// Parses one record's cells (see `cells`, full form), checking the fingerprint.
pub fn parse_cells(info: &Info, path: &Path, line: u64, row: &[String]) -> Result<Record> {
    let h = header(info, true);
    if row.len() != h.len() {
        return Err(Error::input(
            Location::at(path, line, None),
            format!("expected {} columns, found {}", h.len(), row.len()),
        ));
    }
    let fp = &row[h.len() - 1];
    if *fp != info.fingerprint {
        return Err(Error::input(
            Location::at(path, line, Some("fingerprint")),
            format!(
                "written by another sweep or scenario (fingerprint {fp}, this sweep's is {})",
                info.fingerprint
            ),
        ));
    }
    let id: u64 = row[0].parse().map_err(|_| {
        Error::input(
            Location::at(path, line, Some("id")),
            format!("expected a whole number, found '{}'", row[0]),
        )
    })?;
    let np = info.param_columns().len();
    let m = |i: usize| number(path, line, METRIC_COLUMNS[i], &row[1 + np + i]);
    let worst = &row[1 + np + 4];
    // Risk: the split of the unserved tokens (the part from outages is derived, but must read).
    let nr = if info.is_risk() {
        RISK_COLUMNS.len()
    } else {
        0
    };
    let after = 1 + np + METRIC_COLUMNS.len();
    let split = |i: usize| number(path, line, RISK_COLUMNS[i], &row[after + i]);
    let unserved_tokens_demand_only = if info.is_risk() {
        split(1)?;
        Some(split(0)?)
    } else {
        None
    };
    let series = |i: usize| -> Result<Vec<f64>> {
        let text = &row[after + nr + i];
        text.split_whitespace()
            .map(|t| number(path, line, &h[after + nr + i], t))
            .collect()
    };
    let (period_demand_tpm, period_served_tpm) = if info.is_risk() {
        (series(0)?, series(1)?)
    } else {
        (vec![], vec![])
    };
    if period_demand_tpm.len() != period_served_tpm.len() {
        return Err(Error::input(
            Location::at(path, line, Some("period_served_tpm")),
            "expected one served value per period",
        ));
    }
    let record = Record {
        id,
        params: row[1..1 + np].to_vec(),
        cost: m(0)?,
        objective: m(1)?,
        cost_per_million_tokens: m(2)?,
        served_pct: m(3)?,
        worst_period_served_pct: if worst.is_empty() { None } else { Some(m(4)?) },
        unserved_tokens: m(5)?,
        demand_tokens: m(6)?,
        unserved_tokens_demand_only,
        period_demand_tpm,
        period_served_tpm,
    };
    check_values(&record, path, line)?;
    Ok(record)
}

/// The invariants every record a sweep writes holds (0 ≤ served ≤ demand, percentages in
/// 0..=100), to the 12 significant digits the files carry: a record that breaks one was edited
/// or damaged, and would shift every statistic of the merge.
fn check_values(r: &Record, path: &Path, line: u64) -> Result<()> {
    let fail = |column: &str, what: String| {
        Err(Error::input(
            Location::at(path, line, Some(column)),
            format!("{what}; a sweep never writes that — the row was edited or damaged: solve it again (delete the row, then --resume) or take the file from the machine that ran it"),
        ))
    };
    // Tolerance of the files' 12 significant digits.
    let at_most = |a: f64, b: f64| a <= b + 1e-9 * b.abs().max(1.0);
    for (column, pct) in [
        ("served_pct", Some(r.served_pct)),
        ("worst_period_served_pct", r.worst_period_served_pct),
    ] {
        if let Some(p) = pct {
            if !(at_most(0.0, p) && at_most(p, 100.0)) {
                return fail(
                    column,
                    format!("expected a percentage from 0 to 100, found {}", fixed(p)),
                );
            }
        }
    }
    if !at_most(0.0, r.demand_tokens) {
        return fail(
            "demand_tokens",
            format!(
                "expected demand of 0 or more, found {}",
                fixed(r.demand_tokens)
            ),
        );
    }
    if !(at_most(0.0, r.unserved_tokens) && at_most(r.unserved_tokens, r.demand_tokens)) {
        return fail(
            "unserved_tokens",
            format!(
                "expected unserved tokens from 0 to the demand ({}), found {}",
                fixed(r.demand_tokens),
                fixed(r.unserved_tokens)
            ),
        );
    }
    for (k, (d, s)) in r
        .period_demand_tpm
        .iter()
        .zip(&r.period_served_tpm)
        .enumerate()
    {
        if !at_most(0.0, *d) {
            return fail(
                "period_demand_tpm",
                format!(
                    "period {}: expected demand of 0 or more, found {}",
                    k + 1,
                    fixed(*d)
                ),
            );
        }
        if !(at_most(0.0, *s) && at_most(*s, *d)) {
            return fail(
                "period_served_tpm",
                format!(
                    "period {}: expected served tokens/min from 0 to the demand ({}), found {}",
                    k + 1,
                    fixed(*d),
                    fixed(*s)
                ),
            );
        }
    }
    Ok(())
}

/// Reads a records file (`records_csv`), checking its header and fingerprint, each record's
/// values, and its ids (each one of the sweep's, none twice).
pub fn read_records(info: &Info, path: &Path) -> Result<Vec<Record>> {
    Ok(read_records_at(info, path)?
        .into_iter()
        .map(|(_, r)| r)
        .collect())
}

/// [`read_records`], each record with its line.
pub fn read_records_at(info: &Info, path: &Path) -> Result<Vec<(u64, Record)>> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::input(
            Location::file(path),
            "file not found; expected the records a sweep writes (a checkpoint, or a shard's records beside its shard-I-of-N.json)",
        ),
        _ => Error::io(path, e),
    })?;
    let mut rd = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes.as_slice());
    let want = header(info, true);
    let got: Vec<String> = rd
        .headers()
        .map_err(|e| Error::input(Location::at(path, 1, None), format!("expected CSV: {e}")))?
        .iter()
        .map(|c| csv::read_cell(c).to_string())
        .collect();
    if got != want {
        return Err(Error::input(
            Location::at(path, 1, None),
            format!(
                "expected the columns {}, found {}",
                want.join(","),
                got.join(",")
            ),
        ));
    }
    let mut out = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (i, row) in rd.records().enumerate() {
        let line = row
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(i as u64 + 2, |p| p.line());
        let row = row.map_err(|e| {
            Error::input(Location::at(path, line, None), format!("expected CSV: {e}"))
        })?;
        // Values as the sweep had them (the CSV writer puts a `'` before formula-like text).
        let row: Vec<String> = row.iter().map(|c| csv::read_cell(c).to_string()).collect();
        let record = parse_cells(info, path, line, &row)?;
        let what = if info.is_risk() { "sample" } else { "point" };
        if record.id >= info.points {
            return Err(Error::input(
                Location::at(path, line, Some("id")),
                format!(
                    "id {} is out of range: this sweep has {} {what}s, ids 0 to {}; the row is not this sweep's — delete it",
                    record.id,
                    info.points,
                    info.points.saturating_sub(1)
                ),
            ));
        }
        if let Some(first) = seen.insert(record.id, line) {
            return Err(Error::input(
                Location::at(path, line, Some("id")),
                format!(
                    "id {} is listed twice (first on line {first}); expected one row per {what} — delete one of the two rows",
                    record.id
                ),
            ));
        }
        out.push((line, record));
    }
    Ok(out)
}

/// Mean and nearest-rank percentiles of one metric over the samples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
}

/// Stats of values (in id order: the mean sums in that order).
pub fn stats(values: &[f64]) -> Stats {
    let s = sorted(values.iter().copied());
    let p = |q| nearest_rank(&s, q).unwrap_or(0.0);
    Stats {
        mean: mean(values),
        p50: p(50),
        p90: p(90),
        p95: p(95),
        p99: p(99),
    }
}

/// Per provider of `[[risk.outage]]`: the samples in which it had an outage against those in
/// which it had none, so an outage's part in a shortfall shows apart from the demand draw's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderRisk {
    pub provider: String,
    pub samples_with_outage: u64,
    /// Share of the samples with an outage of this provider that have a shortfall; None when
    /// it never had one.
    pub shortfall_probability_with_outage: Option<f64>,
    /// Share of the samples without an outage of this provider that have a shortfall; None when
    /// every sample had one.
    pub shortfall_probability_without_outage: Option<f64>,
    /// Mean unserved tokens of the samples with an outage of this provider.
    pub mean_unserved_tokens: Option<f64>,
    /// Of those, the mean that the outages (of any provider drawn in the sample) add to what the
    /// demand draw alone leaves unserved.
    pub mean_unserved_tokens_from_outages: Option<f64>,
}

/// Which cause leaves the most demand unserved over the samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// No sample leaves demand unserved.
    NoShortfall,
    /// The demand draw alone leaves at least half of the unserved tokens.
    DemandDraw,
    /// The outages add more than half.
    Outages,
}

/// The risk summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskSummary {
    /// Spend (commit + usage + route) of each held dispatch, $; penalties are not spend.
    pub cost: Stats,
    pub unserved_tokens: Stats,
    /// Unserved tokens of each sample's dispatch at its demand without its outages.
    pub unserved_tokens_demand_only: Stats,
    /// What the outages add: the two above's difference, per sample.
    pub unserved_tokens_from_outages: Stats,
    /// Share of samples whose unserved tokens exceed 1e-9 of their demand.
    pub shortfall_probability: f64,
    /// Share of samples whose demand draw alone (no outages) leaves such a shortfall.
    pub shortfall_probability_demand_only: f64,
    /// Share of samples in which the outages add unserved tokens (above 1e-9 of demand).
    pub outages_add_shortfall_probability: f64,
    /// The larger part of the mean unserved tokens.
    pub dominant_cause: Cause,
    pub mean_served_pct: f64,
    pub worst_served_pct: f64,
    pub samples_with_outage: u64,
    pub providers: Vec<ProviderRisk>,
}

/// The providers a sample's outage text names.
pub fn outage_providers(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text
        .split_whitespace()
        .filter_map(|o| o.split(['@', '/']).next())
        .map(str::to_string)
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The share of `records` with a shortfall, and their mean of `f`; None without records.
fn share_and_mean(records: &[&Record], f: impl Fn(&Record) -> f64) -> (Option<f64>, Option<f64>) {
    let k = records.len();
    if k == 0 {
        return (None, None);
    }
    let short = records.iter().filter(|r| r.has_shortfall()).count();
    let mean = records.iter().map(|r| f(r)).sum::<f64>() / k as f64;
    (Some(short as f64 / k as f64), Some(mean))
}

pub fn risk_summary(res: &Results) -> RiskSummary {
    let recs = &res.records;
    let n = recs.len().max(1) as f64;
    let cost: Vec<f64> = recs.iter().map(|r| r.cost).collect();
    let unserved: Vec<f64> = recs.iter().map(|r| r.unserved_tokens).collect();
    let alone = |r: &Record| r.unserved_tokens_demand_only.unwrap_or(r.unserved_tokens);
    let added = |r: &Record| r.unserved_tokens_from_outages().unwrap_or(0.0);
    let demand_only: Vec<f64> = recs.iter().map(alone).collect();
    let from_outages: Vec<f64> = recs.iter().map(added).collect();
    let count = |f: &dyn Fn(&Record) -> bool| recs.iter().filter(|r| f(r)).count() as f64 / n;
    let mut names: Vec<String> = res
        .info
        .outages
        .iter()
        .map(|o| o.provider.clone())
        .collect();
    names.sort();
    names.dedup();
    let had: Vec<Vec<String>> = recs
        .iter()
        .map(|r| outage_providers(&r.params[0]))
        .collect();
    let providers = names
        .iter()
        .map(|p| {
            let (mut with, mut without): (Vec<&Record>, Vec<&Record>) = (vec![], vec![]);
            for (r, h) in recs.iter().zip(&had) {
                match h.contains(p) {
                    true => with.push(r),
                    false => without.push(r),
                }
            }
            let (p_with, mean) = share_and_mean(&with, |r| r.unserved_tokens);
            let (_, mean_added) = share_and_mean(&with, added);
            ProviderRisk {
                provider: p.clone(),
                samples_with_outage: with.len() as u64,
                shortfall_probability_with_outage: p_with,
                shortfall_probability_without_outage: share_and_mean(&without, |r| {
                    r.unserved_tokens
                })
                .0,
                mean_unserved_tokens: mean,
                mean_unserved_tokens_from_outages: mean_added,
            }
        })
        .collect();
    let (total, part) = (
        unserved.iter().sum::<f64>(),
        from_outages.iter().sum::<f64>(),
    );
    let dominant_cause = if !recs.iter().any(Record::has_shortfall) || total <= 0.0 {
        Cause::NoShortfall
    } else if part * 2.0 > total {
        Cause::Outages
    } else {
        Cause::DemandDraw
    };
    RiskSummary {
        cost: stats(&cost),
        unserved_tokens: stats(&unserved),
        unserved_tokens_demand_only: stats(&demand_only),
        unserved_tokens_from_outages: stats(&from_outages),
        shortfall_probability: count(&Record::has_shortfall),
        shortfall_probability_demand_only: count(&Record::has_demand_only_shortfall),
        outages_add_shortfall_probability: count(&|r| r.is_shortfall(added(r))),
        dominant_cause,
        mean_served_pct: recs.iter().map(|r| r.served_pct).sum::<f64>() / n,
        worst_served_pct: recs.iter().map(|r| r.served_pct).fold(100.0, f64::min),
        samples_with_outage: had.iter().filter(|h| !h.is_empty()).count() as u64,
        providers,
    }
}

/// The same, short (for a chart's small print): "The demand draw causes most of the shortfall:
/// 96.13% of the mean 20.9T unserved tokens per sample; the outages add 3.87%."
pub fn cause_short(r: &RiskSummary) -> String {
    let total = r.unserved_tokens.mean;
    let share = |x: f64| pct(if total > 0.0 { x / total * 100.0 } else { 0.0 });
    let (alone, added) = (
        share(r.unserved_tokens_demand_only.mean),
        share(r.unserved_tokens_from_outages.mean),
    );
    let mean = human(total);
    match r.dominant_cause {
        Cause::NoShortfall => "No sample leaves demand unserved.".into(),
        Cause::DemandDraw => format!(
            "The demand draw causes most of the shortfall: {alone} of the mean {mean} unserved tokens per sample; the outages add {added}."
        ),
        Cause::Outages => format!(
            "The outages cause most of the shortfall: {added} of the mean {mean} unserved tokens per sample; the demand draw alone {alone}."
        ),
    }
}

/// The sentence that says which cause dominates, computed from the means: "The demand draw
/// causes most of the shortfall: …" or "The outages cause most of the shortfall: …".
pub fn cause_sentence(r: &RiskSummary) -> String {
    let (total, alone, added) = (
        r.unserved_tokens.mean,
        r.unserved_tokens_demand_only.mean,
        r.unserved_tokens_from_outages.mean,
    );
    let share = |x: f64| pct(if total > 0.0 { x / total * 100.0 } else { 0.0 });
    let parts = format!(
        "of the mean {} unserved tokens per sample, the demand draw alone (the same held plan at the sample's demand without outages) leaves {} ({}) and the outages add {} ({})",
        human(total),
        human(alone),
        share(alone),
        human(added),
        share(added)
    );
    match r.dominant_cause {
        Cause::NoShortfall => "No sample leaves demand unserved.".into(),
        Cause::DemandDraw => format!("The demand draw causes most of the shortfall: {parts}."),
        Cause::Outages => format!("The outages cause most of the shortfall: {parts}."),
    }
}

/// Served against demand over the periods of a risk sweep, for its fan chart, on display bins:
/// the periods as they are, or (on long hourly horizons) days, weeks or months, as the run
/// charts group them (`report::series::Binned`).
#[derive(Debug, Clone, PartialEq)]
pub struct Fan {
    /// How periods are grouped.
    pub grain: Grain,
    /// What one bin is ("hour", "day", "calendar month").
    pub bucket: &'static str,
    /// Each bin's start and end, seconds since the epoch.
    pub spans: Vec<(f64, f64)>,
    /// Per bin, the samples' P5, P50 and P95 (nearest rank) of their mean served tokens per
    /// minute over the bin.
    pub served: [Vec<f64>; 3],
    /// Per bin, the samples' P5, P50 and P95 of their mean demand, tokens per minute.
    pub demand: [Vec<f64>; 3],
    /// Per bin, the mean over the samples and the P95 of the tokens demanded and not served in
    /// their period (demand less served, summed over the bin's periods).
    pub unserved: [Vec<f64>; 2],
    /// Whether those add up to each sample's unserved tokens (1e-6 of its demand): not where
    /// tokens wait into later periods (deferral), which count here in the period they arrive.
    pub unserved_adds_up: bool,
    /// The longest period, hours: what one period averages an outage of a few hours over.
    pub longest_period_hours: f64,
}

/// The periods of a sweep (from sweep.json's period starts and horizon end); none if one does
/// not read as a time.
fn periods(info: &Info) -> Option<Vec<Period>> {
    let starts: Vec<DateTime<Utc>> = (info.period_starts.iter())
        .map(|t| crate::units::parse_time(t).ok())
        .collect::<Option<_>>()?;
    let end = crate::units::parse_time(&info.horizon_end).ok()?;
    let next = |i: usize| starts.get(i + 1).copied().unwrap_or(end);
    let period = |(i, start): (usize, &DateTime<Utc>)| Period {
        start: *start,
        start_s: start.timestamp() as f64,
        minutes: ((next(i) - *start).num_seconds() as f64 / 60.0).max(0.0),
    };
    Some(starts.iter().enumerate().map(period).collect())
}

/// The fan of a risk sweep, its periods grouped into bins when there are more than `keep_up_to`
/// (aiming at no more than `max_bins`); none without samples or periods.
pub fn fan(res: &Results, keep_up_to: usize, max_bins: usize) -> Option<Fan> {
    let periods = periods(&res.info)?;
    if periods.is_empty() || res.records.is_empty() {
        return None;
    }
    let b = Binned::choose(&periods, keep_up_to, max_bins);
    let n = periods.len();
    // A record's series over every period (a missing value is 0).
    let full = |v: &[f64]| {
        (0..n)
            .map(|t| v.get(t).copied().unwrap_or(0.0))
            .collect::<Vec<_>>()
    };
    let per_sample =
        |f: &dyn Fn(&Record) -> Vec<f64>| -> Vec<Vec<f64>> { res.records.iter().map(f).collect() };
    let served = per_sample(&|r| b.mean(&full(&r.period_served_tpm)));
    let demand = per_sample(&|r| b.mean(&full(&r.period_demand_tpm)));
    let unserved = per_sample(&|r| {
        let (d, s) = (full(&r.period_demand_tpm), full(&r.period_served_tpm));
        let tokens = |t: usize| (d[t] - s[t]).max(0.0) * periods[t].minutes;
        b.sum(&(0..n).map(tokens).collect::<Vec<_>>())
    });
    let bins = b.spans.len();
    let percentile = |values: &[Vec<f64>], p: u32| -> Vec<f64> {
        let at = |i: usize| nearest_rank(&sorted(values.iter().map(|v| v[i])), p).unwrap_or(0.0);
        (0..bins).map(at).collect()
    };
    let count = unserved.len().max(1) as f64;
    let adds_up = |(r, bins): (&Record, &Vec<f64>)| {
        let sum: f64 = bins.iter().sum();
        (sum - r.unserved_tokens).abs() <= 1e-6 * r.demand_tokens.max(1.0)
    };
    let unserved_adds_up = res.records.iter().zip(&unserved).all(adds_up);
    let mean = |i: usize| unserved.iter().map(|v| v[i]).sum::<f64>() / count;
    Some(Fan {
        grain: b.grain,
        bucket: b.bucket().0,
        spans: b.spans.clone(),
        served: [5, 50, 95].map(|p| percentile(&served, p)),
        demand: [5, 50, 95].map(|p| percentile(&demand, p)),
        unserved: [(0..bins).map(mean).collect(), percentile(&unserved, 95)],
        unserved_adds_up,
        longest_period_hours: periods.iter().map(|p| p.minutes / 60.0).fold(0.0, f64::max),
    })
}

/// P(unserved tokens > x) over the samples, % (a step curve): from the share with any shortfall
/// at x = 0, down by one sample's share at each sample's unserved tokens.
pub fn exceedance(res: &Results) -> Vec<(f64, f64)> {
    exceedance_of(res, |r| r.unserved_tokens)
}

/// The same curve for what the demand draw alone leaves unserved (risk).
pub fn exceedance_demand_only(res: &Results) -> Vec<(f64, f64)> {
    exceedance_of(res, |r| r.unserved_tokens_demand_only.unwrap_or(0.0))
}

fn exceedance_of(res: &Results, f: impl Fn(&Record) -> f64) -> Vec<(f64, f64)> {
    let values = sorted(res.records.iter().map(f));
    let n = values.len().max(1) as f64;
    let positive: Vec<f64> = values.into_iter().filter(|v| *v > 0.0).collect();
    let mut above = positive.len() as f64 / n * 100.0;
    let mut points = vec![(0.0, above)];
    for v in positive {
        points.push((v, above));
        above -= 100.0 / n;
        points.push((v, above.max(0.0)));
    }
    points
}

/// One axis of the tornado: the points where only this axis moves off the centre.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TornadoAxis {
    pub axis: String,
    pub centre_value: String,
    pub points: Vec<TornadoPoint>,
    /// The lowest and highest spend (commit + usage + route) over the points, $, and the axis
    /// value that sets each (the first such value in the axis's order; "" = no change).
    pub cost_low: f64,
    pub cost_low_value: String,
    pub cost_high: f64,
    pub cost_high_value: String,
    pub served_pct_low: f64,
    pub served_pct_low_value: String,
    pub served_pct_high: f64,
    pub served_pct_high_value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TornadoPoint {
    pub value: String,
    pub id: u64,
    pub cost: f64,
    pub served_pct: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridSummary {
    pub cost_min: f64,
    pub cost_max: f64,
    pub cheapest_id: u64,
    /// The cheapest point's axis values, in the axes' order ("" = no change), and what it serves.
    pub cheapest_values: Vec<String>,
    pub cheapest_served_pct: f64,
    pub dearest_id: u64,
    pub dearest_values: Vec<String>,
    pub dearest_served_pct: f64,
    pub worst_served_pct: f64,
    pub tornado: Vec<TornadoAxis>,
}

fn grid_of(info: &Info) -> super::spec::Grid {
    super::spec::Grid {
        hold_reservations: info.hold_reservations.unwrap_or(false),
        axes: info.axes.clone(),
    }
}

pub fn grid_summary(res: &Results) -> GridSummary {
    let g = grid_of(&res.info);
    let by_id = |id: u64| res.records.iter().find(|r| r.id == id);
    let tornado = g
        .axes
        .iter()
        .enumerate()
        .map(|(a, axis)| {
            let points: Vec<TornadoPoint> = (0..axis.values.len())
                .filter_map(|v| {
                    let mut idx = res.info.centre_indices.clone();
                    idx[a] = v;
                    let id = g.id_of(&idx);
                    by_id(id).map(|r| TornadoPoint {
                        value: axis.values[v].clone(),
                        id,
                        cost: r.cost,
                        served_pct: r.served_pct,
                    })
                })
                .collect();
            // The first point with the lowest (or highest) value of `f`, and that value.
            let end = |f: fn(&TornadoPoint) -> f64, low: bool| {
                let better = |x: f64, y: f64| if low { x < y } else { x > y };
                let mut best: Option<&TornadoPoint> = None;
                for p in &points {
                    if best.is_none_or(|b| better(f(p), f(b))) {
                        best = Some(p);
                    }
                }
                let none = if low {
                    f64::INFINITY
                } else {
                    f64::NEG_INFINITY
                };
                best.map_or((none, String::new()), |p| (f(p), p.value.clone()))
            };
            let (cost_low, cost_low_value) = end(|p| p.cost, true);
            let (cost_high, cost_high_value) = end(|p| p.cost, false);
            let (served_pct_low, served_pct_low_value) = end(|p| p.served_pct, true);
            let (served_pct_high, served_pct_high_value) = end(|p| p.served_pct, false);
            TornadoAxis {
                axis: axis.key.clone(),
                centre_value: axis.values[res.info.centre_indices[a]].clone(),
                cost_low,
                cost_low_value,
                cost_high,
                cost_high_value,
                served_pct_low,
                served_pct_low_value,
                served_pct_high,
                served_pct_high_value,
                points,
            }
        })
        .collect();
    let mut cheapest = &res.records[0];
    let mut dearest = &res.records[0];
    for r in &res.records {
        if r.cost < cheapest.cost {
            cheapest = r;
        }
        if r.cost > dearest.cost {
            dearest = r;
        }
    }
    GridSummary {
        cost_min: cheapest.cost,
        cost_max: dearest.cost,
        cheapest_id: cheapest.id,
        cheapest_values: cheapest.params.clone(),
        cheapest_served_pct: cheapest.served_pct,
        dearest_id: dearest.id,
        dearest_values: dearest.params.clone(),
        dearest_served_pct: dearest.served_pct,
        worst_served_pct: res
            .records
            .iter()
            .map(|r| r.served_pct)
            .fold(100.0, f64::min),
        tornado,
    }
}

/// The base or centre record as sweep.json carries it (`cost` is spend: commit + usage + route;
/// `objective` adds the penalties); a risk sweep's base plan with its per-period series, so
/// `capplan chart` can redraw the fan from the folder.
fn metrics_json(r: &Record) -> serde_json::Value {
    let mut v = serde_json::json!({
        "cost": r.cost,
        "objective": r.objective,
        "cost_per_million_tokens": r.cost_per_million_tokens,
        "served_pct": r.served_pct,
        "worst_period_served_pct": r.worst_period_served_pct,
        "unserved_tokens": r.unserved_tokens,
        "demand_tokens": r.demand_tokens,
    });
    if let Some(alone) = r.unserved_tokens_demand_only {
        let o = v.as_object_mut().expect("an object");
        o.insert("unserved_tokens_demand_only".into(), alone.into());
        o.insert(
            "period_demand_tpm".into(),
            r.period_demand_tpm.clone().into(),
        );
        o.insert(
            "period_served_tpm".into(),
            r.period_served_tpm.clone().into(),
        );
    }
    v
}

/// `sweep.json`: the sweep, the base, the summary (no per-point rows: those are sweep.csv's).
pub fn sweep_json(res: &Results) -> String {
    let mut v = json::value(&res.info);
    let o = v.as_object_mut().expect("an object");
    if res.info.is_risk() {
        o.insert("base_plan".into(), metrics_json(&res.base));
        o.insert("summary".into(), json::value(&risk_summary(res)));
    } else {
        o.insert("centre".into(), metrics_json(&res.base));
        o.insert("summary".into(), json::value(&grid_summary(res)));
    }
    json::text(&v)
}

/// A served share, %, as the sweep's tables write it: `99.12%`.
pub fn pct(x: f64) -> String {
    format!("{x:.2}%")
}

fn probability(x: f64) -> String {
    pct(x * 100.0)
}

/// A tornado end as the table and the chart write it: the value (`fmt`), and where it moves off
/// the unmodified scenario's `centre` the axis value that sets it: "$33.9B at 0.8".
pub fn tornado_end(x: f64, centre: f64, value: &str, fmt: fn(f64) -> String) -> String {
    match x == centre {
        true => fmt(x),
        false => format!("{} at {}", fmt(x), shown_value(value)),
    }
}

/// An axis value as a reader sees it: "" is "no change".
pub fn shown_value(value: &str) -> &str {
    if value.is_empty() {
        "no change"
    } else {
        value
    }
}

/// A grid point's axis values in words: "demand_scale 0.8, price.gcp 0.8" (axes left unchanged
/// are left out; "no what-ifs" when every one is).
pub fn point_values(info: &Info, values: &[String]) -> String {
    let set: Vec<String> = info
        .axes
        .iter()
        .zip(values)
        .filter(|(_, v)| !v.is_empty())
        .map(|(a, v)| format!("{} {v}", a.key))
        .collect();
    if set.is_empty() {
        "no what-ifs".into()
    } else {
        set.join(", ")
    }
}

/// `sweep.md`: what was swept and what came of it, for a planner.
pub fn sweep_md(res: &Results) -> String {
    let i = &res.info;
    let mut s = format!("# Sweep {}\n\n", markdown::escape(&i.sweep));
    s.push_str(&format!(
        "Scenario {} ({}), {} → {}, solver {}; {} {}.\n\n",
        markdown::code(&i.scenario),
        markdown::escape(&i.scenario_name),
        i.horizon_start,
        i.horizon_end,
        i.solver,
        i.points,
        if i.is_risk() { "samples" } else { "points" }
    ));
    if i.is_risk() {
        let r = risk_summary(res);
        s.push_str(&format!(
            "Each sample is the base plan's reservations dispatched under emergency rules (no share cap, no N-1) with drawn outages and demand; seed {}, demand σ {}. A sample with outages is dispatched once more at its demand without them, so its shortfall splits into what the demand draw alone leaves unserved and what the outages add.\n\n",
            i.seed.unwrap_or(0),
            fixed(i.demand_sigma.unwrap_or(0.0))
        ));
        s.push_str(&format!(
            "Base plan (normal policy): spend {} (commit + usage + route), served {}.\n\n",
            human_dollars(res.base.cost),
            pct(res.base.served_pct)
        ));
        s.push_str(&format!(
            "**Probability of a shortfall: {}** ({} of {} samples had at least one outage). Mean served {}, worst sample {}.\n\n",
            probability(r.shortfall_probability),
            r.samples_with_outage,
            i.points,
            pct(r.mean_served_pct),
            pct(r.worst_served_pct)
        ));
        s.push_str(&format!("**{}**\n\n", cause_sentence(&r)));
        s.push_str(&format!(
            "P(shortfall) from the demand draw alone: {}; the outages add unserved tokens in {} of samples.\n\n",
            probability(r.shortfall_probability_demand_only),
            probability(r.outages_add_shortfall_probability)
        ));
        let row = |name: &str, st: &Stats, f: &dyn Fn(f64) -> String| {
            vec![
                name.to_string(),
                f(st.mean),
                f(st.p50),
                f(st.p90),
                f(st.p95),
                f(st.p99),
            ]
        };
        let tokens = |x| human(x);
        s.push_str(&markdown::table(
            &["metric", "mean", "P50", "P90", "P95", "P99"],
            &markdown::names_then_numbers(6),
            &[
                row("spend (commit + usage + route)", &r.cost, &|x| {
                    human_dollars(x)
                }),
                row("unserved tokens", &r.unserved_tokens, &tokens),
                row(
                    "of which the demand draw alone",
                    &r.unserved_tokens_demand_only,
                    &tokens,
                ),
                row(
                    "of which the outages add",
                    &r.unserved_tokens_from_outages,
                    &tokens,
                ),
            ],
        ));
        let or_dash = |v: Option<String>| v.unwrap_or_else(|| "–".into());
        let providers: Vec<Vec<String>> = r
            .providers
            .iter()
            .map(|p| {
                vec![
                    p.provider.clone(),
                    p.samples_with_outage.to_string(),
                    or_dash(p.shortfall_probability_with_outage.map(probability)),
                    or_dash(p.shortfall_probability_without_outage.map(probability)),
                    or_dash(p.mean_unserved_tokens_from_outages.map(human)),
                ]
            })
            .collect();
        s.push('\n');
        s.push_str(&markdown::table(
            &[
                "provider",
                "samples with its outage",
                "P(shortfall), with its outage",
                "P(shortfall), without it",
                "mean unserved added by outages, with its outage",
            ],
            &markdown::names_then_numbers(5),
            &providers,
        ));
        s.push_str("\nA provider's outages matter where P(shortfall) with them is above P(shortfall) without them; where the two are alike, the shortfalls come from elsewhere (the demand draw, or other providers' outages). An outage is averaged over the periods it touches: on a monthly grid a two-hour outage takes 0.3% of a month's capacity and can hide the hour when demand exceeds what is left; an hourly scenario (such as `frontier-2026-hourly`) shows those hours. Per-sample rows (with the drawn outages as `--outage` values, replayable with `capplan run --reservations-from`, and each sample's unserved tokens split by cause) are in sweep.csv.\n");
    } else {
        let g = grid_summary(res);
        s.push_str(&format!(
            "Each point is {}.\n\n",
            if i.hold_reservations == Some(true) {
                "the base plan's reservations held and dispatched under the point's what-ifs"
            } else {
                "re-planned under its what-ifs, as `capplan run` with the same flags"
            }
        ));
        let point = |id: u64, values: &[String], cost: f64, served: f64| {
            format!(
                "point {id} ({}): spend {}, served {}",
                point_values(i, values),
                human_dollars(cost),
                pct(served)
            )
        };
        s.push_str(&format!(
            "Unmodified scenario{}: spend {} (commit + usage + route), served {}. Cheapest {}; dearest {}.\n\n",
            match i.centre_id {
                Some(id) => format!(" (point {id})"),
                None => " (not a point of the grid; solved once more)".into(),
            },
            human_dollars(res.base.cost),
            pct(res.base.served_pct),
            point(g.cheapest_id, &g.cheapest_values, g.cost_min, g.cheapest_served_pct),
            point(g.dearest_id, &g.dearest_values, g.cost_max, g.dearest_served_pct),
        ));
        // Each end that moves off the unmodified scenario with the value that sets it.
        let (money, served): (fn(f64) -> String, fn(f64) -> String) = (human_dollars, pct);
        let (c, p) = (res.base.cost, res.base.served_pct);
        let tornado: Vec<Vec<String>> = g
            .tornado
            .iter()
            .map(|t| {
                vec![
                    t.axis.clone(),
                    shown_value(&t.centre_value).to_string(),
                    tornado_end(t.cost_low, c, &t.cost_low_value, money),
                    tornado_end(t.cost_high, c, &t.cost_high_value, money),
                    tornado_end(t.served_pct_low, p, &t.served_pct_low_value, served),
                    tornado_end(t.served_pct_high, p, &t.served_pct_high_value, served),
                ]
            })
            .collect();
        use Align::{Left, Right};
        s.push_str(&markdown::table(
            &[
                "axis",
                "centre",
                "spend low",
                "spend high",
                "served low",
                "served high",
            ],
            &[Left, Left, Right, Right, Right, Right],
            &tornado,
        ));
        // One row per point: its id, the axis values (– for no change), spend and served.
        let mut header = vec!["id".to_string()];
        header.extend(i.axes.iter().map(|a| a.key.clone()));
        header.extend(["spend".to_string(), "served".to_string()]);
        let mut align = vec![Right];
        align.extend(i.axes.iter().map(|_| Left));
        align.extend([Right, Right]);
        let points: Vec<Vec<String>> = res
            .records
            .iter()
            .map(|r| {
                let mut row = vec![r.id.to_string()];
                row.extend(
                    r.params
                        .iter()
                        .map(|p| if p.is_empty() { "–" } else { p }.to_string()),
                );
                row.extend([human_dollars(r.cost), pct(r.served_pct)]);
                row
            })
            .collect();
        s.push('\n');
        s.push_str(&markdown::table(&header, &align, &points));
    }
    s
}

/// The text on stdout: sweep.md's first part.
pub fn render_text(res: &Results) -> String {
    let md = sweep_md(res);
    let mut out = String::new();
    for line in md.lines() {
        if line.starts_with("| id |") {
            break;
        }
        out.push_str(&markdown::unescape(
            &line.trim_start_matches("# ").replace("**", ""),
        ));
        out.push('\n');
    }
    out
}

/// The file names a sweep writes besides its charts.
pub const FILE_NAMES: [&str; 4] = ["sweep.csv", "sweep.json", "sweep.md", "sweep_periods.csv"];

/// The checkpoint of an interrupted sweep, the one file allowed to be partial.
pub const SWEEP_CHECKPOINT: &str = "sweep.partial.csv";

/// Every result file (charts excluded), rendered in memory.
pub fn result_files(res: &Results) -> Vec<OutputFile> {
    let mut files = vec![
        OutputFile::new("sweep.csv", sweep_csv(&res.info, &res.records)),
        OutputFile::new("sweep.json", sweep_json(res)),
        OutputFile::new("sweep.md", sweep_md(res)),
    ];
    if res.info.is_risk() {
        files.push(OutputFile::new(
            "sweep_periods.csv",
            periods_csv(&res.info, &res.records),
        ));
    }
    files
}

/// What a sweep's folder holds, read back for `capplan chart`: sweep.json (the sweep and its base
/// or centre), sweep.csv (the records) and, for a risk sweep, sweep_periods.csv (their series).
/// The files carry every number at the 12 digits the records hold, so the charts drawn from them
/// are the charts the sweep drew.
pub fn read_results(dir: &Path) -> Result<Results> {
    let path = dir.join("sweep.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let bad = |line: usize, e: String| {
        Error::input(
            Location::at(&path, line as u64, None),
            format!("expected sweep.json as `capplan sweep` writes it: {e}"),
        )
    };
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(e.line(), e.to_string()))?;
    let info: Info = serde_json::from_value(v.clone()).map_err(|e| bad(1, e.to_string()))?;
    let key = if info.is_risk() {
        "base_plan"
    } else {
        "centre"
    };
    let b = &v[key];
    let number = |name: &str| -> Result<f64> {
        b[name]
            .as_f64()
            .ok_or_else(|| bad(1, format!("'{key}' has no number '{name}'")))
    };
    let series = |name: &str| -> Vec<f64> {
        let values = b[name]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_f64()));
        values.map(Iterator::collect).unwrap_or_default()
    };
    let params = if info.is_risk() {
        vec![String::new(), "1".into()]
    } else {
        let centre = info.axes.iter().zip(&info.centre_indices);
        centre
            .map(|(a, &i)| a.values.get(i).cloned().unwrap_or_default())
            .collect()
    };
    let base = Record {
        id: info.centre_id.unwrap_or(0),
        params,
        cost: number("cost")?,
        objective: number("objective")?,
        cost_per_million_tokens: number("cost_per_million_tokens")?,
        served_pct: number("served_pct")?,
        worst_period_served_pct: b["worst_period_served_pct"].as_f64(),
        unserved_tokens: number("unserved_tokens")?,
        demand_tokens: number("demand_tokens")?,
        unserved_tokens_demand_only: b["unserved_tokens_demand_only"].as_f64(),
        period_demand_tpm: series("period_demand_tpm"),
        period_served_tpm: series("period_served_tpm"),
    };
    let mut records = read_sweep_csv(&info, &dir.join("sweep.csv"))?;
    if info.is_risk() {
        read_periods(&info, &dir.join("sweep_periods.csv"), &mut records)?;
    }
    Ok(Results {
        info,
        base,
        records,
    })
}

/// The rows of a CSV file with its header checked against `want`, each with its line.
fn csv_rows(path: &Path, want: &[String]) -> Result<Vec<(u64, Vec<String>)>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let mut rd = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes.as_slice());
    let got: Vec<String> = rd
        .headers()
        .map_err(|e| Error::input(Location::at(path, 1, None), format!("expected CSV: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    if got != want {
        return Err(Error::input(
            Location::at(path, 1, None),
            format!(
                "expected the columns {}, found {}",
                want.join(","),
                got.join(",")
            ),
        ));
    }
    let mut out = Vec::new();
    for (i, row) in rd.records().enumerate() {
        let line = i as u64 + 2;
        let row = row.map_err(|e| {
            Error::input(Location::at(path, line, None), format!("expected CSV: {e}"))
        })?;
        out.push((line, row.iter().map(str::to_string).collect()));
    }
    Ok(out)
}

/// `sweep.csv` read back: its records without the per-period series.
fn read_sweep_csv(info: &Info, path: &Path) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    for (line, mut row) in csv_rows(path, &header(info, false))? {
        // As a records file's row: empty series, this sweep's fingerprint.
        if info.is_risk() {
            row.extend([String::new(), String::new()]);
        }
        row.push(info.fingerprint.clone());
        out.push(parse_cells(info, path, line, &row)?);
    }
    Ok(out)
}

/// `sweep_periods.csv` read back into the records' per-period series, checking that every record
/// has one row per period of the sweep, in order.
fn read_periods(info: &Info, path: &Path, records: &mut [Record]) -> Result<()> {
    let want: Vec<String> = ["id", "period", "demand_tpm", "served_tpm"]
        .map(String::from)
        .to_vec();
    let rows = csv_rows(path, &want)?;
    let n = info.period_starts.len();
    let mut rows = rows.into_iter();
    for r in records.iter_mut() {
        for start in &info.period_starts {
            let Some((line, row)) = rows.next() else {
                return Err(Error::input(
                    Location::file(path),
                    format!(
                        "expected {n} periods for sample {}; the file ends early",
                        r.id
                    ),
                ));
            };
            if row[0] != r.id.to_string() || row[1] != *start {
                return Err(Error::input(
                    Location::at(path, line, Some("period")),
                    format!(
                        "expected sample {} at {start} (the samples of sweep.csv, each over the periods of sweep.json), found sample {} at {}",
                        r.id, row[0], row[1]
                    ),
                ));
            }
            r.period_demand_tpm
                .push(number(path, line, "demand_tpm", &row[2])?);
            r.period_served_tpm
                .push(number(path, line, "served_tpm", &row[3])?);
        }
    }
    if let Some((line, _)) = rows.next() {
        return Err(Error::input(
            Location::at(path, line, None),
            "expected no rows after the last sample's last period",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::spec::Axis;

    fn record(id: u64, params: &[&str], cost: f64, unserved: f64, alone: Option<f64>) -> Record {
        Record {
            id,
            params: params.iter().map(|p| p.to_string()).collect(),
            cost,
            objective: cost,
            cost_per_million_tokens: 1.0,
            served_pct: 100.0 - unserved / 1e7,
            worst_period_served_pct: None,
            unserved_tokens: unserved,
            demand_tokens: 1e9,
            unserved_tokens_demand_only: alone,
            period_demand_tpm: vec![],
            period_served_tpm: vec![],
        }
    }

    #[test]
    fn outages_add_the_difference_and_rounding_below_zero_is_zero() {
        assert_eq!(
            record(0, &[], 1.0, 500.0, Some(200.0)).unserved_tokens_from_outages(),
            Some(300.0)
        );
        // 0.5 tokens below zero is within 1e-9 of the 1e9 demand: rounding.
        assert_eq!(
            record(0, &[], 1.0, 199.5, Some(200.0)).unserved_tokens_from_outages(),
            Some(0.0)
        );
        // 50 tokens below is not, and is shown as it is.
        assert_eq!(
            record(0, &[], 1.0, 150.0, Some(200.0)).unserved_tokens_from_outages(),
            Some(-50.0)
        );
        assert_eq!(
            record(0, &[], 1.0, 150.0, None).unserved_tokens_from_outages(),
            None
        );
    }

    fn risk_results(records: Vec<Record>) -> Results {
        let info = Info {
            sweep: "r".into(),
            kind: "risk".into(),
            scenario: "s".into(),
            scenario_name: "s".into(),
            solver: "microlp".into(),
            fingerprint: "sha256:0".into(),
            points: records.len() as u64,
            horizon_start: "2026-01-01T00:00:00Z".into(),
            horizon_end: "2026-02-01T00:00:00Z".into(),
            hold_reservations: None,
            axes: vec![],
            centre_indices: vec![],
            centre_id: None,
            samples: Some(records.len() as u64),
            seed: Some(1),
            outages: vec![],
            demand_sigma: Some(0.1),
            period_starts: vec![],
        };
        let base = record(0, &["", "1"], 1.0, 0.0, Some(0.0));
        Results {
            info,
            base,
            records,
        }
    }

    #[test]
    fn the_summary_names_the_larger_cause_from_the_means() {
        // Mean unserved 400: the demand draw alone 300 (75%), outages 100 (25%).
        let res = risk_results(vec![
            record(
                0,
                &["aws@2026-01-02T00:00Z..2026-01-02T01:00Z=0", "1.1"],
                1.0,
                600.0,
                Some(400.0),
            ),
            record(1, &["", "1.05"], 1.0, 200.0, Some(200.0)),
        ]);
        let r = risk_summary(&res);
        assert_eq!(r.dominant_cause, Cause::DemandDraw);
        assert_eq!(r.shortfall_probability_demand_only, 1.0);
        assert_eq!(r.outages_add_shortfall_probability, 0.5);
        assert_eq!(
            cause_sentence(&r),
            "The demand draw causes most of the shortfall: of the mean 400 unserved tokens per sample, the demand draw alone (the same held plan at the sample's demand without outages) leaves 300 (75.00%) and the outages add 100 (25.00%)."
        );
        assert_eq!(
            cause_short(&r),
            "The demand draw causes most of the shortfall: 75.00% of the mean 400 unserved tokens per sample; the outages add 25.00%."
        );
        // Outages adding more than half.
        let res = risk_results(vec![record(0, &["aws@x", "1"], 1.0, 600.0, Some(100.0))]);
        assert_eq!(risk_summary(&res).dominant_cause, Cause::Outages);
        let res = risk_results(vec![record(0, &["", "1"], 1.0, 0.0, Some(0.0))]);
        let r = risk_summary(&res);
        assert_eq!(
            (r.dominant_cause, cause_sentence(&r).as_str()),
            (Cause::NoShortfall, "No sample leaves demand unserved.")
        );
    }

    #[test]
    fn tornado_ends_name_the_first_value_that_sets_them_and_points_their_values() {
        let axis = |key: &str, values: &[&str]| Axis {
            key: key.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
            location: None,
            read: vec![],
        };
        let mut res = risk_results(vec![]);
        res.info.kind = "grid".into();
        res.info.axes = vec![
            axis("demand_scale", &["0.8", "", "1.2"]),
            axis("price.gcp", &["", "0.9"]),
        ];
        res.info.centre_indices = vec![1, 0];
        // Row-major, the last axis fastest: id = 2 × demand index + price index.
        let costs = [8.0, 7.0, 10.0, 9.0, 12.0, 12.0];
        res.records = (0..6u64)
            .map(|id| {
                let params = [
                    ["0.8", "", "1.2"][id as usize / 2],
                    ["", "0.9"][id as usize % 2],
                ];
                record(id, &params, costs[id as usize], 0.0, None)
            })
            .collect();
        res.base = res.records[2].clone();
        let g = grid_summary(&res);
        let demand = &g.tornado[0];
        assert_eq!(
            (demand.cost_low, demand.cost_low_value.as_str()),
            (8.0, "0.8")
        );
        assert_eq!(
            (demand.cost_high, demand.cost_high_value.as_str()),
            (12.0, "1.2")
        );
        let price = &g.tornado[1];
        assert_eq!(
            (price.cost_low, price.cost_low_value.as_str()),
            (9.0, "0.9")
        );
        assert_eq!(
            (price.cost_high, price.cost_high_value.as_str()),
            (10.0, "")
        );
        // Ties: the first in id order is the cheapest (id 1) and dearest (id 4).
        assert_eq!((g.cheapest_id, g.dearest_id), (1, 4));
        assert_eq!(
            point_values(&res.info, &g.cheapest_values),
            "demand_scale 0.8, price.gcp 0.9"
        );
        assert_eq!(
            point_values(&res.info, &g.dearest_values),
            "demand_scale 1.2"
        );
        assert_eq!(
            point_values(&res.info, &["".into(), "".into()]),
            "no what-ifs"
        );
        let md = sweep_md(&res);
        assert!(md.contains("Cheapest point 1 (demand_scale 0.8, price.gcp 0.9): spend $7, served 100.00%; dearest point 4 (demand_scale 1.2): spend $12, served 100.00%."), "{md}");
        assert!(
            md.contains(
                "| demand_scale | no change | $8 at 0.8 | $12 at 1.2 | 100.00% | 100.00% |"
            ),
            "{md}"
        );
    }
}
