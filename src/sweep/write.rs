//! Sweep stage, files: the records as CSV (one exporter for `sweep.csv`, one for the shard and
//! checkpoint files that a merge or `--resume` reads back with the same types), the summaries
//! (`sweep.json`, `sweep.md`, the text on stdout), all with capplan's fixed float formatting.

use std::path::Path;

use serde::Serialize;

use super::risk::{nearest_rank, sorted};
use super::{Info, Record};
use crate::error::{Error, Location, Result};
use crate::export::markdown::{self, Align};
use crate::export::{csv, json, OutputFile};
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

fn header(info: &Info, full: bool) -> Vec<String> {
    let mut h = vec!["id".to_string()];
    h.extend(info.param_columns());
    h.extend(METRIC_COLUMNS.iter().map(|c| c.to_string()));
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
    let series = |i: usize| -> Result<Vec<f64>> {
        let text = &row[1 + np + METRIC_COLUMNS.len() + i];
        text.split_whitespace()
            .map(|t| number(path, line, &h[1 + np + METRIC_COLUMNS.len() + i], t))
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
    let mean = if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    };
    let s = sorted(values.iter().copied());
    let p = |q| nearest_rank(&s, q).unwrap_or(0.0);
    Stats {
        mean,
        p50: p(50),
        p90: p(90),
        p95: p(95),
        p99: p(99),
    }
}

/// Per provider of `[[risk.outage]]`: what the samples in which it had an outage came to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderRisk {
    pub provider: String,
    pub samples_with_outage: u64,
    /// Share of those samples with a shortfall; None when it never had one.
    pub shortfall_probability: Option<f64>,
    pub mean_unserved_tokens: Option<f64>,
}

/// The risk summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskSummary {
    pub cost: Stats,
    pub unserved_tokens: Stats,
    /// Share of samples whose unserved tokens exceed 1e-9 of their demand.
    pub shortfall_probability: f64,
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

pub fn risk_summary(res: &Results) -> RiskSummary {
    let recs = &res.records;
    let n = recs.len().max(1) as f64;
    let cost: Vec<f64> = recs.iter().map(|r| r.cost).collect();
    let unserved: Vec<f64> = recs.iter().map(|r| r.unserved_tokens).collect();
    let shortfalls = recs.iter().filter(|r| r.has_shortfall()).count();
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
            let with: Vec<&Record> = recs
                .iter()
                .zip(&had)
                .filter(|(_, h)| h.contains(p))
                .map(|(r, _)| r)
                .collect();
            let k = with.len();
            ProviderRisk {
                provider: p.clone(),
                samples_with_outage: k as u64,
                shortfall_probability: (k > 0)
                    .then(|| with.iter().filter(|r| r.has_shortfall()).count() as f64 / k as f64),
                mean_unserved_tokens: (k > 0)
                    .then(|| with.iter().map(|r| r.unserved_tokens).sum::<f64>() / k as f64),
            }
        })
        .collect();
    RiskSummary {
        cost: stats(&cost),
        unserved_tokens: stats(&unserved),
        shortfall_probability: shortfalls as f64 / n,
        mean_served_pct: recs.iter().map(|r| r.served_pct).sum::<f64>() / n,
        worst_served_pct: recs.iter().map(|r| r.served_pct).fold(100.0, f64::min),
        samples_with_outage: had.iter().filter(|h| !h.is_empty()).count() as u64,
        providers,
    }
}

/// Served against demand over the periods of a risk sweep, for its fan chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Fan {
    /// Each period's start and end, seconds since the epoch.
    pub spans: Vec<(f64, f64)>,
    /// Per period, the samples' P5, P50 and P95 served tokens per minute (nearest rank).
    pub served: [Vec<f64>; 3],
    /// Per period, the samples' median demand and the base plan's demand, tokens per minute.
    pub demand: Vec<f64>,
    pub planned: Vec<f64>,
}

/// The fan of a risk sweep; none without samples or periods.
pub fn fan(res: &Results) -> Option<Fan> {
    let time = |t: &String| {
        crate::units::parse_time(t)
            .ok()
            .map(|t| t.timestamp() as f64)
    };
    let starts: Vec<f64> = res.info.period_starts.iter().filter_map(time).collect();
    let end = time(&res.info.horizon_end)?;
    if starts.is_empty() || res.records.is_empty() {
        return None;
    }
    let next = |i: usize| starts.get(i + 1).copied().unwrap_or(end);
    let spans: Vec<(f64, f64)> = (0..starts.len()).map(|i| (starts[i], next(i))).collect();
    let percentile = |f: fn(&Record) -> &Vec<f64>, p: u32| -> Vec<f64> {
        let at = |t: usize| {
            let values = sorted(res.records.iter().filter_map(|r| f(r).get(t).copied()));
            nearest_rank(&values, p).unwrap_or(0.0)
        };
        (0..spans.len()).map(at).collect()
    };
    let served = [5, 50, 95].map(|p| percentile(|r| &r.period_served_tpm, p));
    let demand = percentile(|r| &r.period_demand_tpm, 50);
    let planned = |t| res.base.period_demand_tpm.get(t).copied().unwrap_or(0.0);
    let planned = (0..spans.len()).map(planned).collect();
    Some(Fan {
        spans,
        served,
        demand,
        planned,
    })
}

/// P(unserved tokens > x) over the samples, % (a step curve): from the share with any shortfall
/// at x = 0, down by one sample's share at each sample's unserved tokens.
pub fn exceedance(res: &Results) -> Vec<(f64, f64)> {
    let values = sorted(res.records.iter().map(|r| r.unserved_tokens));
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
    pub cost_low: f64,
    pub cost_high: f64,
    pub served_pct_low: f64,
    pub served_pct_high: f64,
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
    pub dearest_id: u64,
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
            let fold = |f: fn(&TornadoPoint) -> f64, min: bool| {
                points.iter().map(f).fold(
                    if min {
                        f64::INFINITY
                    } else {
                        f64::NEG_INFINITY
                    },
                    if min { f64::min } else { f64::max },
                )
            };
            TornadoAxis {
                axis: axis.key.clone(),
                centre_value: axis.values[res.info.centre_indices[a]].clone(),
                cost_low: fold(|p| p.cost, true),
                cost_high: fold(|p| p.cost, false),
                served_pct_low: fold(|p| p.served_pct, true),
                served_pct_high: fold(|p| p.served_pct, false),
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
        dearest_id: dearest.id,
        worst_served_pct: res
            .records
            .iter()
            .map(|r| r.served_pct)
            .fold(100.0, f64::min),
        tornado,
    }
}

fn metrics_json(r: &Record) -> serde_json::Value {
    serde_json::json!({
        "cost": r.cost,
        "objective": r.objective,
        "cost_per_million_tokens": r.cost_per_million_tokens,
        "served_pct": r.served_pct,
        "worst_period_served_pct": r.worst_period_served_pct,
        "unserved_tokens": r.unserved_tokens,
        "demand_tokens": r.demand_tokens,
    })
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

fn pct(x: f64) -> String {
    format!("{x:.2}%")
}

fn probability(x: f64) -> String {
    pct(x * 100.0)
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
            "Each sample is the base plan's reservations dispatched under emergency rules (no share cap, no N-1) with drawn outages and demand; seed {}, demand σ {}.\n\n",
            i.seed.unwrap_or(0),
            fixed(i.demand_sigma.unwrap_or(0.0))
        ));
        s.push_str(&format!(
            "Base plan (normal policy): cost {}, served {}.\n\n",
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
        s.push_str(&markdown::table(
            &["metric", "mean", "P50", "P90", "P95", "P99"],
            &markdown::names_then_numbers(6),
            &[
                row("cost", &r.cost, &|x| human_dollars(x)),
                row("unserved tokens", &r.unserved_tokens, &|x| human(x)),
            ],
        ));
        let providers: Vec<Vec<String>> = r
            .providers
            .iter()
            .map(|p| {
                vec![
                    p.provider.clone(),
                    p.samples_with_outage.to_string(),
                    p.shortfall_probability
                        .map(probability)
                        .unwrap_or_else(|| "–".into()),
                    p.mean_unserved_tokens
                        .map(human)
                        .unwrap_or_else(|| "–".into()),
                ]
            })
            .collect();
        s.push('\n');
        s.push_str(&markdown::table(
            &[
                "provider",
                "samples with an outage",
                "P(shortfall) given an outage",
                "mean unserved tokens",
            ],
            &markdown::names_then_numbers(4),
            &providers,
        ));
        s.push_str("\nAn outage is averaged over the periods it touches: on a monthly grid a two-hour outage takes 0.3% of a month's capacity and can hide the hour when demand exceeds what is left; an hourly scenario (such as `frontier-2026-hourly`) shows those hours. Per-sample rows (with the drawn outages as `--outage` values, replayable with `capplan run --reservations-from`) are in sweep.csv.\n");
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
        s.push_str(&format!(
            "Unmodified scenario{}: cost {}, served {}. Cheapest point {} ({}), dearest point {} ({}).\n\n",
            match i.centre_id {
                Some(id) => format!(" (point {id})"),
                None => " (not a point of the grid; solved once more)".into(),
            },
            human_dollars(res.base.cost),
            pct(res.base.served_pct),
            g.cheapest_id,
            human_dollars(g.cost_min),
            g.dearest_id,
            human_dollars(g.cost_max),
        ));
        let tornado: Vec<Vec<String>> = g
            .tornado
            .iter()
            .map(|t| {
                vec![
                    t.axis.clone(),
                    if t.centre_value.is_empty() {
                        "(no change)".to_string()
                    } else {
                        t.centre_value.clone()
                    },
                    human_dollars(t.cost_low),
                    human_dollars(t.cost_high),
                    pct(t.served_pct_low),
                    pct(t.served_pct_high),
                ]
            })
            .collect();
        use Align::{Left, Right};
        s.push_str(&markdown::table(
            &[
                "axis",
                "centre",
                "cost low",
                "cost high",
                "served low",
                "served high",
            ],
            &[Left, Left, Right, Right, Right, Right],
            &tornado,
        ));
        // One row per point: its id, the axis values (– for no change), cost and served.
        let mut header = vec!["id".to_string()];
        header.extend(i.axes.iter().map(|a| a.key.clone()));
        header.extend(["cost".to_string(), "served".to_string()]);
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
